"""Two players in one match, through the real in-memory layer and the in-process arbiter."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from lobby.models import Match, MatchEvent, Participation

from .players import Client, make_match, make_player

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]


async def two_players(**match_fields):
    alice, alice_key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    match = await make_match(alice, **match_fields)
    a, b = Client(match, alice_key), Client(match, bob_key)
    await a.connect()
    await b.connect()
    return match, alice, bob, a, b


async def test_it_shows_alices_spawn_to_bob_within_three_ticks():
    match, alice, bob, a, b = await two_players()
    seq = await a.cmd("spawn", at=[3, 4], cid="c1")
    snap = await b.next("snap", where=lambda m: any(e["owner"] == alice.pk for e in m["ents"]))
    (cube,) = [e for e in snap["ents"] if e["owner"] == alice.pk]
    assert (cube["x"], cube["z"], cube["cid"]) == (3, 4, "c1")
    assert snap["tick"] - b.welcome["snap"]["tick"] <= 3
    assert a.welcome["build"] == b.welcome["build"] == settings.BUILD_ID  # pages compare it with theirs
    await a.until_acked(seq, alice.pk)
    await a.close()
    await b.close()


async def test_it_refuses_bob_commanding_alices_cube_and_moves_alices_for_both():
    match, alice, bob, a, b = await two_players()
    await a.until_acked(await a.cmd("spawn", at=[0, 0], cid="c1"), alice.pk)
    (cube_id,) = a.ents
    seq = await b.cmd("move", ids=[cube_id], to=[20, 20])
    reject = await b.next("reject")
    assert (reject["seq"], reject["code"]) == (seq, "not_owner") and reject["message"]
    seq = await b.cmd("delete", ids=[cube_id])
    assert (await b.next("reject"))["code"] == "not_owner"
    await b.until_acked(seq, bob.pk)
    assert (b.ents[cube_id]["tx"], b.ents[cube_id]["tz"]) == (0, 0)
    seq = await a.cmd("move", ids=[cube_id], to=[10, -5])
    await a.until_acked(seq, alice.pk)
    await b.next("snap", where=lambda m: any(e["id"] == cube_id and e["tx"] == 10 for e in m["ents"]))
    assert (a.ents[cube_id]["tx"], a.ents[cube_id]["tz"]) == (10, -5)
    assert (b.ents[cube_id]["tx"], b.ents[cube_id]["tz"]) == (10, -5)
    await a.close()
    await b.close()


async def test_it_records_a_leave_in_participation_and_events():
    match, alice, bob, a, b = await two_players()
    await b.close()
    players = await a.next(
        "players", where=lambda m: any(p["id"] == bob.pk and not p["online"] for p in m["players"])
    )
    assert {p["nickname"] for p in players["players"]} == {"alice", "bob"}

    @database_sync_to_async
    def records():
        seat = Participation.objects.get(match=match, player=bob)
        kinds = list(MatchEvent.objects.filter(match=match, player=bob).values_list("kind", flat=True))
        return seat, kinds

    for _ in range(30):  # events are written in a batch about once a second
        seat, kinds = await records()
        if "leave" in kinds:
            break
        await asyncio.sleep(0.1)
    assert seat.left is not None and not seat.online
    assert kinds == ["join", "leave"]
    await a.close()


async def test_it_keeps_the_seat_and_cubes_when_a_player_reconnects():
    match, alice, bob, a, b = await two_players()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="c1"), alice.pk)
    last_seq = a.seq
    await a.close()
    again = Client(match, a.ws.scope["headers"][1][1].decode().split("=")[1])
    welcome = await again.connect()
    assert welcome["you"] == alice.pk and welcome["ack"] == last_seq
    assert [e["owner"] for e in welcome["snap"]["ents"]] == [alice.pk]
    await again.close()
    await b.close()


async def test_it_closes_the_older_socket_of_the_same_player_with_4001():
    alice, key = await make_player("alice")
    match = await make_match(alice)
    first, second = Client(match, key), Client(match, key)
    await first.connect()
    await second.connect()
    assert await first.closed() == 4001
    await second.close()


async def test_it_ends_the_match_for_everyone_when_the_creator_ends_it():
    match, alice, bob, a, b = await two_players()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="c1"), alice.pk)
    await b.send({"type": "end"})
    assert (await b.next("error"))["code"] == "not_creator"
    await a.send({"type": "end"})
    for client in (a, b):
        assert (await client.next("ended"))["reason"]
        assert await client.closed() == 4410
    record = await database_sync_to_async(Match.objects.get)(pk=match.pk)
    assert record.status == "finished" and record.final_entities == 1 and record.duration is not None


async def test_it_sends_a_spectator_snapshots_but_refuses_its_commands():
    match, alice, bob, a, b = await two_players()
    watcher = Client(match, query="role=spectator")
    welcome = await watcher.connect()
    assert (welcome["role"], welcome["you"], welcome["ack"]) == ("spectator", None, None)
    await a.cmd("spawn", at=[2, 2], cid="c1")
    await watcher.next("snap", where=lambda m: len(m["ents"]) == 1)
    await watcher.send({"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [0, 0], "cid": "x"})
    assert (await watcher.next("reject"))["code"] == "spectator"
    for c in (watcher, a, b):
        await c.close()


async def test_it_answers_ping_with_pong_and_resync_with_a_full_snap():
    match, alice, bob, a, b = await two_players()
    await a.send({"type": "ping", "t": 1234.5})
    pong = await a.next("pong")
    assert pong["t"] == 1234.5 and pong["st"] > 0 and pong["tick"] >= 0
    await a.send({"type": "resync"})
    await a.next("snap", where=lambda m: m["full"])
    await a.close()
    await b.close()


async def test_it_writes_each_players_counters_to_their_participation():
    match, alice, bob, a, b = await two_players()
    await a.until_acked(await a.cmd("spawn", at=[0, 0], cid="c1"), alice.pk)
    (cube_id,) = a.ents
    await a.until_acked(await a.cmd("move", ids=[cube_id], to=[5, 5]), alice.pk)
    seq = await b.cmd("move", ids=[cube_id], to=[20, 20])
    await b.next("reject")

    @database_sync_to_async
    def counters():
        rows = Participation.objects.filter(match=match).order_by("player_id")
        return {p.player_id: (p.last_seq, p.spawned, p.moves, p.rejected) for p in rows}

    want = {alice.pk: (a.seq, 1, 1, 0), bob.pk: (seq, 0, 0, 1)}
    for _ in range(40):  # written in a batch about once a second
        got = await counters()
        if got == want:
            break
        await asyncio.sleep(0.1)
    assert got == want
    await a.close()
    await b.close()
