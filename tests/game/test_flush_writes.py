"""What one flush (game/records/flush.py) writes, and that it writes nothing under an older
epoch: here on SQLite; tests/scaleout/test_flush_pipeline.py runs the same tests on
PostgreSQL, where the flush goes out in one pipeline."""

from __future__ import annotations

import time
import zlib

import msgpack
import pytest

from game.models import MatchLog, MatchLogChunk, OperatorAction
from game.records import lane
from game.records.flush import FlushBatch, SeatRecord, flush
from game.sim.commands import Event
from game.sim.match import MatchState
from game.sim.world import World
from lobby import limits as match_limits
from lobby.models import Match, MatchEvent, Participation, Player

pytestmark = pytest.mark.django_db(transaction=True)


def _match():
    alice, bob = Player.objects.create(nickname="alice"), Player.objects.create(nickname="bob")
    match = Match.objects.create(name="flush", creator=alice, tick_rate=20, status="running", epoch=3)
    Participation.objects.create(match=match, player=alice, color="#000001", online=True)
    Participation.objects.create(match=match, player=bob, color="#000002")
    return match, alice, bob


def _batch(match, alice, bob, epoch: int, applied=()) -> FlushBatch:
    seats = [
        SeatRecord(alice.pk, "left", 9, 2, 1, 4, 1, False),
        SeatRecord(bob.pk, "joined", 5, 1, 0, 0, 0, True),
    ]
    events = [Event(38, "spawn", alice.pk, {"id": 1}), Event(39, "join", bob.pk, {})]
    log = [(1, b"entry-1"), (40, b"entry-40")]  # the first chunk: the header too
    world = World(match.arena_width, match.arena_depth, match_limits.DEFAULT_SPEED, match.tick_rate)
    state = MatchState(world, creator=alice.pk)
    for p in (alice, bob):
        state.seat(p.pk, p.nickname, "#000000", 0.0)
    checkpoint = {**state.checkpoint(2.0), "tick": 40}
    return FlushBatch(
        str(match.pk), epoch, 40, checkpoint, events, seats, tick_lag={"p99_ms": 3},
        applied=list(applied), log=log, keyframe=checkpoint, ends_at=checkpoint, overwrite=False,
    )  # fmt: skip


def _flush(batch):
    lane._local.deadline = time.monotonic() + 30  # as the lane gives each job
    return flush(batch)


def test_a_flush_writes_everything_and_reads_pending_actions():
    match, alice, bob = _match()
    other = Match.objects.create(name="other", creator=alice, tick_rate=20, status="running", epoch=1)
    elsewhere = Participation.objects.create(match=other, player=alice, color="#000003")
    done = OperatorAction.objects.create(match=match, kind="remove", entity_ids=[1])
    waiting = OperatorAction.objects.create(match=match, kind="kick", player=bob)
    ours, pending = _flush(_batch(match, alice, bob, 3, applied=[(done.pk, "removed 1")]))
    assert ours and [pk for pk, _ in pending] == [waiting.pk]
    assert pending[0][1]["kind"] == "kick" and pending[0][1]["player"] == bob.pk
    match.refresh_from_db()
    assert (match.last_tick, match.tick_lag, match.checkpoint["tick"]) == (40, {"p99_ms": 3}, 40)
    assert match.last_tick_at is not None
    events = list(MatchEvent.objects.filter(match=match).values_list("tick", "kind", "player_id", "payload"))
    assert events == [(38, "spawn", alice.pk, {"id": 1}), (39, "join", bob.pk, {})]
    assert all(e.created is not None for e in MatchEvent.objects.filter(match=match))
    a, b = (
        Participation.objects.get(match=match, player=alice),
        Participation.objects.get(match=match, player=bob),
    )
    assert (a.last_seq, a.spawned, a.deleted, a.moves, a.rejected, a.online) == (9, 2, 1, 4, 1, False)
    assert a.left is not None and b.online and b.left is None and (b.last_seq, b.kicked) == (5, True)
    elsewhere.refresh_from_db()
    assert (elsewhere.last_seq, elsewhere.moves, elsewhere.kicked) == (0, 0, False)  # another match's seat
    (chunk,) = MatchLogChunk.objects.filter(match=match)
    assert (chunk.first_tick, chunk.last_tick, chunk.keyframe["tick"]) == (1, 40, 40)
    assert msgpack.unpackb(zlib.decompress(bytes(chunk.entries))) == [b"entry-1", b"entry-40"]
    assert chunk.digest and chunk.resumed is None and chunk.created is not None
    assert MatchLog.objects.get(match=match).settings["tick_rate"] == 20
    done.refresh_from_db()
    assert done.applied is not None and done.result == "removed 1"


def test_a_flush_under_an_older_epoch_writes_nothing():
    match, alice, bob = _match()
    action = OperatorAction.objects.create(match=match, kind="remove", entity_ids=[1])
    assert _flush(_batch(match, alice, bob, 2, applied=[(action.pk, "removed 1")])) == (False, [])
    match.refresh_from_db()
    assert match.last_tick == 0 and match.checkpoint is None
    assert not MatchEvent.objects.filter(match=match).exists()
    assert not MatchLogChunk.objects.filter(match=match).exists()
    assert not MatchLog.objects.filter(match=match).exists()
    a = Participation.objects.get(match=match, player=alice)
    assert (a.last_seq, a.spawned, a.online) == (0, 0, True)
    action.refresh_from_db()
    assert action.applied is None


def test_a_first_chunk_written_again_replaces_itself_header_and_all():
    """A flush whose commit was not confirmed is sent again, from the log's first tick: the
    header is written over (on PostgreSQL outside the pipeline, where an update's row count
    is not known until its end) and the chunk gives way to the new one."""
    match, alice, bob = _match()
    batch = _batch(match, alice, bob, 3)
    assert _flush(batch) == (True, [])
    batch.overwrite, batch.log = True, [*batch.log, (41, b"entry-41")]
    assert _flush(batch) == (True, [])
    (chunk,) = MatchLogChunk.objects.filter(match=match)
    assert (chunk.first_tick, chunk.last_tick) == (1, 41)
    assert MatchLog.objects.filter(match=match).count() == 1
