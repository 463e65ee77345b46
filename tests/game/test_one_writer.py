"""One writer per match: database work off the dispatch loop, in a lane per match; failed
writes keep their records; a stepped-down arbiter stays quiet; bad layer messages are dropped."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import OperationalError
from django.db.models import F

from game.arbiter.consumer import CLAIMS, RUNTIMES
from game.records import flush as records_flush
from game.records import ownership
from game.transport.match_store import match_store
from lobby import ticklag
from lobby.models import Match, MatchEvent

from .players import Client, make_match, make_player, two_players, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]


@database_sync_to_async
def record(match) -> Match:
    return Match.objects.get(pk=match.pk)


@database_sync_to_async
def events(match, kind: str) -> list[MatchEvent]:
    return list(MatchEvent.objects.filter(match=match, kind=kind))


async def test_a_slow_claim_holds_up_only_its_own_match(monkeypatch):
    """A claim held up (2 s at least, until the checks are done) on one match does not raise
    another match's tick lag, delay its joins or its flush, on the same worker."""
    alice, akey = await make_player("alice")
    bob, bkey = await make_player("bob")
    fast = await make_match(alice)
    slow = await make_match(bob)
    real_claim = ownership.claim_match
    gate, released = threading.Event(), []

    def slow_claim(match_id, channel):
        if match_id == str(slow.id):
            # The database is slow for this one match (outside any transaction): at least
            # 2 s, and until the checks below are done, so they all run while it waits.
            started = time.monotonic()
            gate.wait(10)
            time.sleep(max(0.0, 2.0 - (time.monotonic() - started)))
            released.append(time.monotonic())
        return real_claim(match_id, channel)

    monkeypatch.setattr(ownership, "claim_match", slow_claim)
    a = Client(fast, akey)
    await a.connect()  # the worker runs, with one match
    b = Client(slow, bkey)
    slow_join = asyncio.ensure_future(b.connect())
    await wait_for(lambda: str(slow.id) in CLAIMS, what="the slow claim to start")
    asked = time.monotonic()
    # While the slow claim is out: alice's commands are acked, a second player joins her
    # match at once, and her match's heartbeat is written by its flush.
    carol, ckey = await make_player("carol")
    c = Client(fast, ckey)
    await asyncio.wait_for(c.connect(), 2.0)
    joined = time.monotonic()
    before = (await record(fast)).last_tick_at
    lag_before = (await record(fast)).tick_lag
    for i in range(5):
        await a.until_acked(await a.cmd("spawn", at=[i, 1], cid=f"a{i}"), alice.pk, timeout=2.0)
    flushed = await wait_for(lambda: _newer(fast, before), timeout=3.0, what="a flush of the fast match")
    assert not released, "the slow claim returned early: the checks above proved nothing"
    assert joined - asked < 2.0 and flushed
    lag_during = ticklag.summary(ticklag.since((await record(fast)).tick_lag, lag_before))
    assert lag_during is not None and lag_during["p99_ms"] < 100, lag_during
    # and the slow match does start once its claim returns, with its join served
    gate.set()
    await asyncio.wait_for(slow_join, 5)
    assert b.welcome["you"] == bob.pk and released
    for client in (a, b, c):
        await client.close()


async def _newer(match, before):
    now = (await record(match)).last_tick_at
    return now is not None and (before is None or now > before)


async def test_a_failed_flush_keeps_its_events_for_the_next(monkeypatch):
    alice, key = await make_player("alice")
    match = await make_match(alice)
    real_flush = records_flush.flush
    failed = []

    def flaky_flush(batch):
        if batch.events and any(e.kind == "spawn" for e in batch.events) and not failed:
            failed.append(len(batch.events))
            raise OperationalError("server closed the connection unexpectedly")
        return real_flush(batch)

    monkeypatch.setattr(records_flush, "flush", flaky_flush)
    a = Client(match, key)
    await a.connect()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="a1"), alice.pk)
    await wait_for(lambda: failed, what="the failing flush")
    spawns = await wait_for(lambda: events(match, "spawn"), what="the spawn written by the next flush")
    assert len(spawns) == 1
    joins = await events(match, "join")
    assert len(joins) == 1  # written once, not lost and not twice
    await a.close()


async def test_an_arbiter_that_finds_its_match_adopted_steps_down_quietly():
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    runtime = RUNTIMES[str(match.id)]
    # Another worker adopted the match: its channel is on the record, under the next epoch.
    adopted = Match.objects.filter(pk=match.pk)
    await database_sync_to_async(adopted.update)(arbiter_channel="elsewhere!abc", epoch=F("epoch") + 1)
    await wait_for(lambda: runtime.disposed, what="the step-down")
    assert str(match.id) not in RUNTIMES
    assert all(task.done() for task in runtime._tasks)
    assert not runtime.ending  # not ended: the match lives on elsewhere
    # The socket stays open: no "ended", no close. It learns the news only when it talks.
    seen = []  # what was already on its way, then silence: no "ended", no close
    deadline = time.monotonic() + 3
    while not await a.ws.receive_nothing(timeout=0.5, interval=0.05):
        out = await a.ws.receive_output(timeout=1)
        seen.append(out.get("text", "")[:20] if out["type"] == "websocket.send" else out["type"])
        assert time.monotonic() < deadline, f"the stepped-down arbiter keeps sending: {seen[-5:]}"
    assert not [s for s in seen if "ended" in s or s == "websocket.close"], seen
    rec = await record(match)
    assert rec.status == "running" and rec.arbiter_channel == "elsewhere!abc"
    assert not await events(match, "end")
    await a.close()


async def test_an_arbiter_whose_lease_another_holds_stops_acknowledging_and_steps_down():
    """The lease is the fence on the tick path: no snapshot goes out once another holds it."""
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    runtime = RUNTIMES[str(match.id)]
    store = match_store()
    store.leases[str(match.id)] = ("elsewhere!abc", time.monotonic() + 60)
    seq = await a.cmd("spawn", at=[1, 1], cid="late")
    await wait_for(lambda: runtime.disposed, what="the step-down")
    assert str(match.id) not in RUNTIMES and not runtime.ending
    frames = []
    while not await a.ws.receive_nothing(timeout=0.3, interval=0.05):
        frames.append(await a.ws.receive_json_from(timeout=1))
    assert not [f for f in frames if f.get("type") == "snap" and f.get("acks", {}).get(str(alice.pk)) == seq]
    await a.close()


async def test_a_join_while_the_log_is_away_waits_for_it_and_is_welcomed_with_what_it_holds(monkeypatch):
    """A welcome shows the world and acknowledges commands: while the store cannot take the
    log, a join is held (a welcome then would show ticks no adopter could recover), and answered
    once a tick is logged again."""
    alice, key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="before"), alice.pk)
    runtime = RUNTIMES[str(match.id)]
    store = match_store()
    append, rewrite = store.append, store.rewrite

    async def away(*args):
        raise ConnectionError("the store is away")

    monkeypatch.setattr(store, "append", away)
    monkeypatch.setattr(store, "rewrite", away)
    await wait_for(lambda: runtime.log_failing, what="a failed append")
    during = await a.cmd("spawn", at=[2, 2], cid="while away")
    b = Client(match, bob_key)
    await b.connect(expect_welcome=False)
    await wait_for(lambda: runtime.held_joins, what="bob's join held")
    assert await b.ws.receive_nothing(timeout=0.5), "a socket heard from an owner whose log is away"
    assert bob.pk not in runtime.sockets

    monkeypatch.setattr(store, "append", append)
    monkeypatch.setattr(store, "rewrite", rewrite)
    welcome = await b.next("welcome", timeout=5)
    assert welcome["snap"]["tick"] <= runtime.logged_tick, "welcomed with a tick the log did not hold"
    assert not runtime.held_joins and bob.pk in runtime.sockets
    await a.until_acked(during, alice.pk)  # the command waited with it, and nothing was lost
    assert {e["owner"] for e in welcome["snap"]["ents"]} == {alice.pk}
    await a.close()
    await b.close()


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


async def test_it_drops_layer_messages_of_unknown_type_version_or_shape_and_plays_on():
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    runtime = RUNTIMES[str(match.id)]
    layer = get_channel_layer()
    bad = [
        {"type": "match.teleport", "match": str(match.id)},  # unknown type
        {"type": "match.tick", "v": 99, "match": str(match.id), "due": 0.0},  # unknown version
        {"type": "match.cmd", "match": str(match.id), "reply": "x", "cmd": "spawn everything"},  # wrong shape
        {"type": "match.join", "match": 7},  # missing fields
        {"no": "type"},
    ]
    seen = Recorder()  # on the logger itself: Django's start-up replaces the root's handlers
    logger = logging.getLogger("game.messages")
    logger.addHandler(seen)
    try:
        for msg in bad:
            await layer.send(runtime.channel, msg)
        await a.until_acked(await a.cmd("spawn", at=[2, 2], cid="a1"), alice.pk)
    finally:
        logger.removeHandler(seen)
    dropped = [m for m in seen.messages if "dropped a layer message" in m]
    assert len(dropped) == len(bad), dropped
    assert "version 99" in " ".join(dropped) and not runtime.disposed and runtime.failures == 0
    await a.close()


async def test_only_the_creator_may_end_the_match_and_the_arbiter_says_so():
    alice, bob, match, a, b = await two_players()
    await b.send({"type": "end"})
    assert (await b.next("error"))["code"] == "not_creator"
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="a1"), alice.pk)  # still playing
    await a.send({"type": "end"})
    assert (await b.next("ended"))["reason"] == "ended by its creator"
    rec = await wait_for(lambda: _finished(match), what="the finished record")
    assert rec.end_reason == "ended by its creator"
    await wait_for(lambda: str(match.id) not in RUNTIMES, what="the runtime to go")


async def _finished(match):
    rec = await record(match)
    return rec if rec.status == "finished" else None


async def test_a_failed_final_write_is_tried_again_and_nothing_is_lost(monkeypatch):
    alice, key = await make_player("alice")
    match = await make_match(alice)
    real_finish = ownership.finish_match
    failed = []

    def flaky_finish(*args):
        if not failed:
            failed.append(args)
            raise OperationalError("the database went away")
        return real_finish(*args)

    monkeypatch.setattr(ownership, "finish_match", flaky_finish)
    a = Client(match, key)
    await a.connect()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="a1"), alice.pk)
    await a.send({"type": "end"})
    assert (await a.next("ended", timeout=8))["reason"] == "ended by its creator"  # after the retry
    rec = await wait_for(lambda: _finished(match), what="the finished record")
    assert failed and rec.final_entities == 1
    assert [len(await events(match, kind)) for kind in ("join", "spawn", "end")] == [1, 1, 1]
    await a.close()


async def test_a_tick_waiting_on_its_log_holds_up_only_its_own_match_and_what_came_for_it(monkeypatch):
    """Scaled out, a tick waits for its log append aside (the appends of a process's matches
    share a round trip): while one match's append is held, another match ticks and acks; a
    command and a join for the held match wait for its tick, then come in order."""
    from game.arbiter.consumer import ASIDE

    store = match_store()
    gate, held = asyncio.Event(), {}
    real_append = store.append

    async def append(match, *args):
        if match == held.get("match"):
            await gate.wait()
        return await real_append(match, *args)

    monkeypatch.setattr(store, "tick_phase", 0.5)  # a store whose appends share round trips
    monkeypatch.setattr(store, "append", append)
    alice, bob, match, a, _ = await two_players()
    carol, ckey = await make_player("carol")
    other = await make_match(carol)
    c = Client(other, ckey)
    await c.connect()
    seq = await a.cmd("spawn", at=[1, 1], cid="a1")
    await a.until_acked(seq, alice.pk)
    held["match"] = str(match.id)
    await wait_for(lambda: str(match.id) in ASIDE, what="a tick of alice's match waiting on its log")
    seq = await a.cmd("spawn", at=[2, 1], cid="a2")
    dave, dkey = await make_player("dave")
    d = Client(match, dkey)
    joining = asyncio.ensure_future(d.connect())
    for i in range(3):  # carol's match plays on
        await c.until_acked(await c.cmd("spawn", at=[i, 2], cid=f"c{i}"), carol.pk, timeout=2)
    assert not joining.done() and a.acks.get(str(alice.pk), 0) < seq
    assert len(ASIDE[str(match.id)]) >= 2  # the command and the join, kept for after the tick
    gate.set()
    await a.until_acked(seq, alice.pk)
    welcome = await asyncio.wait_for(joining, 5)
    assert {(e["x"], e["z"]) for e in welcome["snap"]["ents"]} >= {(1, 1)}
    for client in (a, c, d):
        await client.close()
