"""Every bad input gets a typed answer and loses nothing: mallory misbehaves, alice plays on."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from game.arbiter.consumer import RUNTIMES
from lobby.models import Match, MatchEvent

from .players import Client, make_match, make_player

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]

BAD_FRAMES = {
    "not_json": ("{nope", "error", "bad_json"),
    "nan_literal": ('{"type": "ping", "t": NaN}', "error", "bad_json"),
    "infinity_literal": ('{"type": "ping", "t": Infinity}', "error", "bad_json"),
    "not_an_object": ("[1, 2, 3]", "error", "bad_message"),
    "no_type": ('{"seq": 1}', "error", "bad_message"),
    "unknown_type": ('{"type": "teleport"}', "error", "unknown_type"),
    "wrong_type_of_field": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": ["a", 0], "cid": "c"}',
        "reject",
        "bad_message",
    ),
    "missing_field": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "cid": "c"}',
        "reject",
        "bad_message",
    ),
    "extra_field": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [0, 0], "cid": "c", "hp": 9}',
        "reject",
        "bad_message",
    ),
    "unknown_op": ('{"type": "cmd", "seq": 1, "tick": 0, "op": "nuke", "ids": [1]}', "reject", "bad_message"),
    "huge_number": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [1e300, 0], "cid": "c"}',
        "reject",
        "bad_message",
    ),
    "overflowing_number": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [1e400, 0], "cid": "c"}',
        "error",
        "bad_message",
    ),
    "seq_out_of_range": (
        '{"type": "cmd", "seq": 4294967296, "tick": 0, "op": "delete", "ids": [1]}',
        "error",
        "bad_message",
    ),
    "boolean_as_number": (
        '{"type": "cmd", "seq": true, "tick": 0, "op": "delete", "ids": [1]}',
        "error",
        "bad_message",
    ),
    "too_many_ids": (
        json.dumps({"type": "cmd", "seq": 1, "tick": 0, "op": "delete", "ids": list(range(1, 70))}),
        "reject",
        "bad_message",
    ),
    "zero_nudge": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "nudge", "ids": [1], "dir": [0, 0]}',
        "reject",
        "bad_message",
    ),
    "bad_nudge_dir": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "nudge", "ids": [1], "dir": [2, 0]}',
        "reject",
        "bad_message",
    ),
    "long_cid": (
        '{"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [0, 0], "cid": "' + "x" * 17 + '"}',
        "reject",
        "bad_message",
    ),
    "too_large": ('{"type": "ping", "t": 1, "pad": "' + "x" * 17000 + '"}', "error", "too_large"),
    "invalid_utf8_bytes": (b"\xff\xfe\x00", "error", "bad_json"),
}


async def alice_and_mallory():
    alice, alice_key = await make_player("alice")
    mallory, mallory_key = await make_player("mallory")
    match = await make_match(alice)
    a, m = Client(match, alice_key), Client(match, mallory_key)
    await a.connect()
    await m.connect()
    await a.until_acked(await a.cmd("spawn", at=[5, 5], cid="a1"), alice.pk)
    return match, alice, mallory, a, m


async def still_playing(a: Client, m: Client, alice) -> None:
    """Mallory's socket still answers; alice's commands still take effect."""
    await m.send({"type": "ping", "t": 1})
    await m.next("pong")
    (cube_id,) = [i for i, e in a.ents.items() if e["owner"] == alice.pk]
    await a.until_acked(await a.cmd("move", ids=[cube_id], to=[-5, 7]), alice.pk)
    assert (a.ents[cube_id]["tx"], a.ents[cube_id]["tz"]) == (-5, 7)


async def recorded(match, player, code) -> bool:
    for _ in range(30):
        codes = await database_sync_to_async(
            lambda: [
                e.payload.get("code")
                for e in MatchEvent.objects.filter(match=match, player=player, kind__in=["error", "reject"])
            ]
        )()
        if code in codes:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_it_answers_a_bad_frame_with_its_code_and_carries_on(name):
    frame, kind, code = BAD_FRAMES[name]
    match, alice, mallory, a, m = await alice_and_mallory()
    if isinstance(frame, bytes):
        await m.ws.send_to(bytes_data=frame)
    else:
        await m.send(frame)
    answer = await m.next(kind)
    assert answer["code"] == code and answer["message"]
    if kind == "reject":
        assert answer["seq"] == 1
    await still_playing(a, m, alice)
    assert await recorded(match, mallory, code)
    await a.close()
    await m.close()


async def test_it_refuses_commands_on_someone_elses_cube_and_on_unknown_ids():
    match, alice, mallory, a, m = await alice_and_mallory()
    (cube_id,) = a.ents
    await m.cmd("delete", ids=[cube_id])
    assert (await m.next("reject"))["code"] == "not_owner"
    await m.cmd("move", ids=[424242], to=[0, 0])
    assert (await m.next("reject"))["code"] == "unknown_entity"
    await still_playing(a, m, alice)
    assert cube_id in a.ents
    assert await recorded(match, mallory, "not_owner")
    await a.close()
    await m.close()


async def test_it_refuses_a_stale_seq():
    match, alice, mallory, a, m = await alice_and_mallory()
    await m.until_acked(await m.cmd("spawn", at=[1, 1], cid="m1"), mallory.pk)
    await m.send({"type": "cmd", "seq": 1, "tick": 0, "op": "spawn", "at": [2, 2], "cid": "m2"})
    assert (await m.next("reject"))["code"] == "stale_seq"
    await still_playing(a, m, alice)
    await a.close()
    await m.close()


async def test_it_rate_limits_a_flood_and_a_burst_of_spawns():
    match, alice, mallory, a, m = await alice_and_mallory()
    for _ in range(7):
        await m.cmd("spawn", at=[0, 0], cid="m")
    cooldown = await m.next("reject")
    assert cooldown["code"] == "spawn_cooldown" and cooldown["retry_ms"] > 0
    await m.until_acked(m.seq, mallory.pk)
    ids = [i for i, e in m.ents.items() if e["owner"] == mallory.pk]
    for _ in range(80):
        await m.cmd("nudge", ids=ids[:1], dir=[1, 0])
    limited = await m.next("reject", where=lambda r: r["code"] == "rate_limited")
    assert limited["retry_ms"] > 0
    for _ in range(8):
        await m.send({"type": "ping", "t": 1})
    assert (await m.next("error", where=lambda r: r["code"] == "rate_limited"))["retry_ms"] > 0
    await asyncio.sleep(1.1)
    await still_playing(a, m, alice)
    assert await recorded(match, mallory, "rate_limited")
    await a.close()
    await m.close()


async def test_it_refuses_commands_before_the_welcome_and_from_a_seatless_watcher():
    match, alice, mallory, a, m = await alice_and_mallory()
    other = await make_match(alice, name="elsewhere")
    # mallory watches a match she has no seat in: she can see, not act
    watcher = Client(other, query="role=spectator")
    await watcher.connect()
    await watcher.send({"type": "cmd", "seq": 1, "tick": 0, "op": "delete", "ids": [1]})
    assert (await watcher.next("reject"))["code"] == "spectator"
    await watcher.close()
    await still_playing(a, m, alice)
    await a.close()
    await m.close()


async def test_it_answers_busy_when_the_arbiters_channel_is_full():
    match, alice, mallory, a, m = await alice_and_mallory()
    layer = get_channel_layer()
    arbiter = RUNTIMES[str(match.id)].channel
    filler = {
        "type": "match.leave",
        "match": "00000000-0000-0000-0000-000000000000",
        "player": 0,
        "reply": "x",
    }

    async def keep_full():  # the arbiter drains a message now and then; top it up each time
        while True:
            try:
                while True:
                    await layer.send(arbiter, filler)
            except ChannelFull:
                await asyncio.sleep(0)

    filling = asyncio.create_task(keep_full())
    await asyncio.sleep(0)
    for _ in range(20):
        await m.cmd("move", ids=[1], to=[0, 0])
    busy = await m.next("reject", where=lambda r: r["code"] == "busy", timeout=5)
    filling.cancel()
    assert busy["seq"] <= m.seq and busy["message"]
    await still_playing(a, m, alice)
    await a.close()
    await m.close()


async def test_it_refuses_sockets_it_cannot_admit_with_their_close_codes():
    alice, alice_key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    carol, carol_key = await make_player("carol")
    full = await make_match(alice, max_players=2)
    a, b = Client(full, alice_key), Client(full, bob_key)
    await a.connect()
    await b.connect()
    c = Client(full, carol_key)
    await c.connect(expect_welcome=False)
    assert await c.closed() == 4409
    anonymous = Client(full)
    await anonymous.connect(expect_welcome=False)
    assert await anonymous.closed() == 4401
    secret = await make_match(alice, private=True)
    wrong = Client(secret, bob_key, query="code=nope")
    await wrong.connect(expect_welcome=False)
    assert await wrong.closed() == 4403
    right = Client(secret, bob_key, query=f"code={secret.join_code}")
    assert (await right.connect())["you"] == bob.pk
    await right.close()
    missing = Match(name="gone")
    ghost = Client(missing, bob_key)
    await ghost.connect(expect_welcome=False)
    assert await ghost.closed() == 4404
    await a.close()
    await b.close()


async def test_it_refuses_a_foreign_origin_at_the_handshake():
    alice, key = await make_player("alice")
    match = await make_match(alice)
    evil = Client(match, key, origin=(b"origin", b"http://evil.example"))
    connected, _ = await evil.ws.connect(timeout=3)
    assert not connected
    no_origin = Client(match, key, origin=None)
    connected, _ = await no_origin.ws.connect(timeout=3)
    assert not connected


async def test_it_keeps_a_player_of_match_a_from_acting_in_match_b():
    alice, alice_key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    match_a = await make_match(alice, name="A")
    match_b = await make_match(bob, name="B", private=True)
    a = Client(match_a, alice_key)
    b = Client(match_b, bob_key, query=f"code={match_b.join_code}")
    await a.connect()
    await b.connect()
    await b.until_acked(await b.cmd("spawn", at=[4, 4], cid="b1"), bob.pk)
    (bobs_cube,) = b.ents
    # alice's socket belongs to match A: bob's cube id means nothing there
    await a.cmd("delete", ids=[bobs_cube])
    assert (await a.next("reject"))["code"] == "unknown_entity"
    # and she cannot open a socket into private match B without its code
    intruder = Client(match_b, alice_key)
    await intruder.connect(expect_welcome=False)
    assert await intruder.closed() == 4403
    await b.next("snap")
    assert bobs_cube in b.ents
    await a.close()
    await b.close()
