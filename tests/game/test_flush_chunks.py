"""The log chunks a match's flushes write (game/records/flush.py, game/arbiter/pending.py): a
flush whose commit was not confirmed is written again, longer, over its chunk; after a
confirmed one the next chunk starts after it and nothing is looked for to replace."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from game.arbiter.pending import PendingRecords
from game.models import MatchLogChunk
from game.records import lane
from game.records.flush import flush
from game.sim import inputlog
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World
from lobby import limits as match_limits
from lobby.models import Match, Participation, Player

pytestmark = pytest.mark.django_db(transaction=True)


def _play(state: MatchState, ticks: int, log: list) -> None:
    for _ in range(ticks):
        state.tick(0.0)
        entry = state.take_entry()
        log.append((entry.tick, inputlog.encode(entry)))


def _command_and_tick(state: MatchState, player, seq: int, point: tuple[float, float], log: list) -> None:
    """One command and one tick: a spawn while the player has no cube, then moves of it (so
    the digests have a cube to tell apart)."""
    own = tuple(e.id for e in state.world.owned_by(player.pk))
    op, ids = ("move", own[:1]) if own else ("spawn", ())
    state.submit(Command(player.pk, seq, state.world.tick, op, ids, point), 0.0)
    _play(state, 1, log)


def _write(records: PendingRecords, state: MatchState, log: list):
    batch = records.batch(state, None, 0.0, log=log)
    lane._local.deadline = time.monotonic() + 30  # as the lane gives each job
    with CaptureQueriesContext(connection) as queries:
        assert flush(batch)[0]
    deletes = [q for q in queries.captured_queries if "DELETE" in q["sql"] and "matchlogchunk" in q["sql"]]
    return batch, len(deletes)


def _chunks(match) -> list[tuple[int, int]]:
    return list(
        MatchLogChunk.objects.filter(match=match)
        .order_by("first_tick")
        .values_list("first_tick", "last_tick")
    )


def _one_player_match(name: str):
    """A running match of one seated player, its state and its pending records."""
    player = Player.objects.create(nickname="p1")
    match = Match.objects.create(name=name, creator=player, tick_rate=20, status="running", epoch=1)
    Participation.objects.create(match=match, player=player, color="#000000")
    world = World(match.arena_width, match.arena_depth, match_limits.DEFAULT_SPEED, match.tick_rate)
    state = MatchState(world, creator=player.pk)
    state.seat(player.pk, "p1", "#000000", 0.0)
    return player, match, state, PendingRecords(str(match.pk), 1)


def test_only_a_flush_after_an_unconfirmed_one_replaces_a_chunk():
    player, match, state, records = _one_player_match("chunks")
    log: list = []

    _play(state, 20, log)
    batch, deletes = _write(records, state, log)  # the first: nothing came back yet
    assert batch.overwrite and deletes == 1
    records.settle(state, records.in_flight.number, ok=False)  # written, but not confirmed
    _play(state, 20, log)  # so the next carries the same entries and more
    batch, deletes = _write(records, state, log)
    assert batch.overwrite and deletes == 1
    assert _chunks(match) == [(1, 40)], "the longer chunk replaces the one not confirmed"

    records.settle(state, records.in_flight.number, ok=True)
    log = []
    _play(state, 20, log)
    batch, deletes = _write(records, state, log)
    assert not batch.overwrite and deletes == 0
    assert _chunks(match) == [(1, 40), (41, 60)]


def test_the_checkpoint_is_rewritten_every_few_flushes_and_every_chunk_keeps_its_digest():
    """The match record's checkpoint (the whole world) is written on the first flush and then
    once every CHECKPOINT_EVERY_FLUSHES; the tail an adopter replays reaches back to it. Every
    flush still writes its chunk of the log, right after the last, with the digest of the state
    it ends at, and the log replays."""
    from game.arbiter.pending import CHECKPOINT_EVERY_FLUSHES as EVERY
    from game.records.replays import check

    player, match, state, records = _one_player_match("cadence")
    tail: list = []  # as the runtime keeps it: trimmed only by a flush that wrote the checkpoint
    written, seq = [], 0
    for n in range(1, 2 * EVERY + 3):
        for t in range(20):
            seq += 1
            _command_and_tick(state, player, seq, (t - 10.0, float(n)), tail)
        batch, _ = _write(records, state, tail)
        records.settle(state, records.in_flight.number, ok=True)
        match.refresh_from_db()
        if batch.checkpoint is not None:
            written.append(n)
            tail = [(t, d) for t, d in tail if t > batch.tick]
        assert match.checkpoint["tick"] == 20 * written[-1]
        assert len(tail) == 20 * (n - written[-1])  # what an adopter replays after it
    assert written == [1, 1 + EVERY, 1 + 2 * EVERY]
    chunks = list(MatchLogChunk.objects.filter(match=match).order_by("first_tick"))
    assert [(c.first_tick, c.last_tick) for c in chunks] == [(20 * i + 1, 20 * i + 20) for i in range(n)]
    assert all(c.digest for c in chunks)
    report = check(match)
    assert report.ok and report.checked >= n, report


def test_an_adopter_replays_what_the_database_logged_after_the_checkpoint():
    """The store lost the tail (the embedded server's memory after a crash, or a Redis that lost
    its data): the claim carries the entries the database's chunks hold after the checkpoint,
    so the adopter reaches the last flushed tick, not the checkpoint's."""
    from game.records.ownership import claim_match
    from game.sim.replay import digest

    player, match, state, records = _one_player_match("adopted")
    tail: list = []
    for n in range(3):  # the first flush writes the checkpoint (tick 20), the next two do not
        for t in range(20):
            _command_and_tick(state, player, 20 * n + t + 1, (t - 5.0, n + 1.0), tail)
        batch, _ = _write(records, state, tail)
        records.settle(state, records.in_flight.number, ok=True)
        assert (batch.checkpoint is not None) == (n == 0)

    lane._local.deadline = time.monotonic() + 30
    claim = claim_match(str(match.pk), "specific.adopter")
    assert claim.owned and claim.adopted and claim.checkpoint["tick"] == 20
    adopter = MatchState(World(match.arena_width, match.arena_depth, match_limits.DEFAULT_SPEED, 20))
    adopter.restore(claim.checkpoint, 0.0)
    assert inputlog.replay(adopter, [inputlog.decode(raw) for raw in claim.tail], 0.0) == 40
    assert adopter.world.tick == 60 and digest(adopter.checkpoint(0.0)) == digest(state.checkpoint(0.0))
