"""Verdicts and operator corrections travel through the arbiter and reach every client."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.core.management import call_command
from prometheus_client import REGISTRY

from game.arbiter.consumer import RUNTIMES
from game.models import OperatorAction
from game.records.operations import request_action
from lobby.models import MatchEvent, Participation

from .players import Client, jump_batch, make_match, make_player, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]


async def alice_and_bob():
    alice, alice_key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    match = await make_match(alice)
    a, b = Client(match, alice_key), Client(match, bob_key)
    await a.connect()
    await b.connect()
    await a.until_acked(await a.cmd("spawn", at=[0, 0], cid="a1"), alice.pk)
    (cube_id,) = a.ents
    return match, alice, bob, a, b, cube_id


async def both_see_correction(
    a: Client, b: Client, cube_id: int, at: tuple[float, float], by: str = "server"
) -> None:
    for client in (a, b):
        correction = await client.next("correction")
        assert correction["ids"] == [cube_id] and correction["reason"]
        assert (correction["by"], correction["action"]) == (by, "moved")
        await client.next("snap", where=lambda m: any(e["id"] == cube_id for e in m["ents"]))
        assert (client.ents[cube_id]["x"], client.ents[cube_id]["z"]) == at


async def event_recorded(match, kind: str) -> MatchEvent:
    last = database_sync_to_async(lambda: MatchEvent.objects.filter(match=match, kind=kind).last())
    return await wait_for(last, timeout=4, every=0.1, what=f"{kind} event recorded")


async def test_it_corrects_a_cube_the_auditor_caught_jumping_and_both_clients_see_it():
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    runtime = RUNTIMES[str(match.id)]
    jump = jump_batch(match.id, runtime.channel, cube_id, alice.pk, (-3.0, 4.0), (20.0, 20.0))
    await get_channel_layer().send("auditor", jump)
    await both_see_correction(a, b, cube_id, (-3.0, 4.0))
    event = await event_recorded(match, "correction")
    assert event.payload["rule"] == "speed_cap" and event.payload["evidence"]["moved"] > 20
    await a.close()
    await b.close()


async def test_the_review_runs_off_the_loop_the_ticks_share(monkeypatch):
    from game.arbiter import auditor

    threads = []

    def review(batch):
        threads.append(threading.get_ident())
        return auditor.review.__wrapped__(batch)

    review.__wrapped__ = auditor.review
    monkeypatch.setattr(auditor, "review", review)
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    runtime = RUNTIMES[str(match.id)]
    jump = jump_batch(match.id, runtime.channel, cube_id, alice.pk, (-3.0, 4.0), (20.0, 20.0))
    await get_channel_layer().send("auditor", jump)
    await both_see_correction(a, b, cube_id, (-3.0, 4.0))
    assert threads and threading.get_ident() not in threads
    await a.close()
    await b.close()


def jumped(batch: dict, cube_id: int, owner: int) -> dict:
    """A real batch of play in which the cube also jumped from (-3, 4) to (20, 20) in one tick."""
    start = batch["to"]  # after the window's placements (a spawn may jump anywhere)
    trails = {**batch["trails"], str(cube_id): [[start + 1, -3.0, 4.0], [start + 2, 20.0, 20.0]]}
    return {**batch, "owners": {**batch["owners"], str(cube_id): owner}, "trails": trails}


def sent(kind: str) -> float:
    return REGISTRY.get_sample_value("cubearena_layer_sent_total", {"type": kind}) or 0.0


def audits(result: str) -> float:
    return REGISTRY.get_sample_value("cubearena_audits_total", {"result": result}) or 0.0


def reviewing(monkeypatch, owner: list, hold: threading.Event | None = None) -> list:
    """Wrap the review: it records which thread reviewed each batch, waits on `hold`, and
    adds a jump of alice's cube (owner: [cube id, alice's id], filled in later)."""
    from game.arbiter import auditor

    real, seen = auditor.review, []

    def review(batch):
        seen.append(threading.get_ident())
        if hold is not None:
            hold.wait(10)
        return real(jumped(batch, *owner) if owner else batch)

    monkeypatch.setattr(auditor, "review", review)
    return seen


async def test_an_arbiter_in_this_process_reviews_its_own_play_in_a_thread(monkeypatch, settings):
    """AUDIT_IN_PROCESS (embedded and affinity): the match's own batch of a second of play is
    reviewed in a thread here, never sent to an auditor, and what it finds reaches both."""
    settings.AUDIT_IN_PROCESS = True
    owner: list = []
    threads = reviewing(monkeypatch, owner)
    batches_sent = sent("AuditBatch")
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    owner += [cube_id, alice.pk]
    await a.until_acked(await a.cmd("move", ids=[cube_id], to=[1.0, 0.0]), alice.pk)  # a second to review
    await both_see_correction(a, b, cube_id, (-3.0, 4.0))
    assert threads and threading.get_ident() not in threads
    assert sent("AuditBatch") == batches_sent  # nothing went to the `auditor` channel
    event = await event_recorded(match, "correction")
    assert event.payload["rule"] == "speed_cap"
    await a.close()
    await b.close()


async def test_without_it_the_batch_goes_to_the_auditor_channel(monkeypatch, settings):
    settings.AUDIT_IN_PROCESS = False
    owner: list = []
    reviewing(monkeypatch, owner)
    batches_sent, reviewed_here = sent("AuditBatch"), audits("reviewed")
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    owner += [cube_id, alice.pk]
    await a.until_acked(await a.cmd("move", ids=[cube_id], to=[1.0, 0.0]), alice.pk)  # a second to review
    await both_see_correction(a, b, cube_id, (-3.0, 4.0))  # the embedded worker's auditor answered
    assert sent("AuditBatch") > batches_sent and audits("reviewed") == reviewed_here
    await a.close()
    await b.close()


async def test_a_window_is_skipped_while_the_last_review_is_still_out(monkeypatch, settings):
    """One review out per match: a slow review makes the next windows go unreviewed (counted),
    it does not pile threads up; play goes on, and the slow one's verdicts still arrive."""
    from game import limits

    settings.AUDIT_IN_PROCESS = True
    monkeypatch.setattr(limits, "AUDIT_EVERY_S", 0.2)
    hold, owner = threading.Event(), []
    threads = reviewing(monkeypatch, owner, hold)
    skipped = audits("skipped")
    try:
        match, alice, bob, a, b, cube_id = await alice_and_bob()
        owner += [cube_id, alice.pk]
        to = 0.0

        async def moved_and_skipped():
            nonlocal to
            to += 0.5  # a move a poll keeps every window's batch non-empty
            await a.until_acked(await a.cmd("move", ids=[cube_id], to=[to, 0.0]), alice.pk)
            return audits("skipped") >= skipped + 2

        await wait_for(moved_and_skipped, timeout=10, every=0.05, what="two windows skipped")
        assert len(threads) == 1  # the first review is still out, and the only one
    finally:
        hold.set()
    for client in (a, b):
        correction = await client.next("correction")
        assert correction["ids"] == [cube_id]
    await a.close()
    await b.close()


async def test_it_applies_an_operator_move_from_the_admin_and_records_who():
    match, alice, bob, a, b, cube_id = await alice_and_bob()

    @sync_to_async
    def operate_in_admin():
        from django.test import Client as HttpClient

        staff = User.objects.create_superuser("olga", "olga@example.com", "pw-olga-123")
        http = HttpClient()
        http.force_login(staff)
        page = http.post("/admin/lobby/match/", {"action": "operate", "_selected_action": [str(match.pk)]})
        assert page.status_code == 302 and "game/operatoraction/add" in page["Location"]
        form = http.post(
            "/admin/game/operatoraction/add/",
            {"match": str(match.pk), "kind": "move", "entity_ids": f"[{cube_id}]", "x": "12.5", "z": "-7"},
        )
        assert form.status_code == 302, form.content.decode()[:2000]
        return OperatorAction.objects.get()

    action = await operate_in_admin()
    assert action.requested_by_name == "olga"
    await both_see_correction(a, b, cube_id, (12.5, -7.0), by="operator")
    event = await event_recorded(match, "correction")
    assert event.payload["evidence"]["by"] == "olga"
    await database_sync_to_async(action.refresh_from_db)()
    assert action.applied is not None and "moved" in action.result
    await a.close()
    await b.close()


async def test_it_removes_a_cube_from_the_shell_command():
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    await sync_to_async(call_command)(
        "operate", str(match.pk), "remove", "--ids", str(cube_id), "--by", "ops"
    )
    for client in (a, b):
        assert (await client.next("correction"))["ids"] == [cube_id]
        await client.next("snap", where=lambda m: cube_id in m["gone"])
        assert cube_id not in client.ents
    await a.close()
    await b.close()


async def test_it_kicks_a_player_with_a_clear_reason_and_keeps_them_out():
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    mallory, key = await make_player("mallory")
    m = Client(match, key)
    await m.connect()
    await m.until_acked(await m.cmd("spawn", at=[9, 9], cid="m1"), mallory.pk)
    await database_sync_to_async(request_action)(
        match, "kick", name="ops", player_id=mallory.pk, reason="cheating"
    )
    assert await m.closed(timeout=5) == 4430
    gone = await a.next("correction")
    assert len(gone["ids"]) == 1 and gone["ids"][0] != cube_id
    await event_recorded(match, "kick")
    again = Client(match, key)
    await again.connect(expect_welcome=False)
    assert await again.closed() == 4430
    seat = await database_sync_to_async(Participation.objects.get)(match=match, player=mallory)
    assert seat.kicked
    await a.close()
    await b.close()


async def test_it_refuses_an_operator_action_on_a_match_that_is_not_running():
    from django.core.exceptions import ValidationError

    alice, _ = await make_player("alice")
    match = await make_match(alice)  # still in the lobby
    with pytest.raises(ValidationError):
        await database_sync_to_async(request_action)(match, "remove", name="ops", entity_ids=[1])


async def test_it_measures_round_trips_with_server_pings():
    match, alice, bob, a, b, cube_id = await alice_and_bob()
    ping = await a.next("ping", timeout=5)
    await a.send({"type": "pong", "t": ping["t"]})
    seat = RUNTIMES[str(match.id)].state.seats[alice.pk]
    for _ in range(20):
        if seat.rtt_ms:
            break
        await asyncio.sleep(0.05)
    assert len(seat.rtt_ms) == 1 and 0 <= seat.rtt_ms[0] < 1000
    await a.close()
    await b.close()
