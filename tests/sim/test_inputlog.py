"""The input log: a checkpoint plus the entries after it reproduce the match exactly."""

import random

import msgspec
import pytest

from game.sim import inputlog, verdicts
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.verdicts import Verdict
from game.sim.world import World


def fresh() -> MatchState:
    return MatchState(World(60, 60, speed=5, tick_rate=20), creator=1)


def play(state: MatchState, rng: random.Random, ticks: int, log: list, now: float) -> float:
    """Random play by three players (commands, late joins, backdated moves, verdicts)."""
    seqs = {p: state.seats[p].seq if p in state.seats else 0 for p in (1, 2, 3)}
    for _ in range(ticks):
        now += 0.05
        for player in (1, 2, 3):
            if player not in state.seats:
                if rng.random() < 0.2:
                    state.seat(player, f"p{player}", "#abc", now)
                continue
            for _ in range(rng.randrange(3)):
                seqs[player] += 1
                own = [e.id for e in state.world.owned_by(player)]
                lag = state.world.tick - rng.randrange(8)
                if not own or rng.random() < 0.3:
                    cmd = Command(player, seqs[player], lag, "spawn", point=(rng.uniform(-40, 40), 3.0))
                elif rng.random() < 0.6:
                    ids = tuple(rng.sample(own, min(len(own), 3)))
                    cmd = Command(player, seqs[player], lag, "move", ids, (rng.uniform(-40, 40), -7.5))
                elif rng.random() < 0.5:
                    cmd = Command(player, seqs[player], lag, "nudge", (own[0],), (1.0, -1.0))
                else:
                    other = rng.choice(list(state.world.entities))  # sometimes not theirs: refused
                    cmd = Command(player, seqs[player], lag, "delete", (other,))
                state.submit(cmd, now)
        if rng.random() < 0.2:
            present = rng.choice(list(state.seats))
            state.set_online(present, not state.seats[present].online)
        if rng.random() < 0.1 and state.world.entities:
            some = rng.choice(list(state.world.entities))
            kind = rng.choice(["correction", "removal", "warning"])
            verdicts.apply(state, Verdict(kind, "test", 2, [some], (1.5, 2.5)))
        state.tick(now)
        log.append(inputlog.decode(inputlog.encode(state.take_entry())))  # through the wire format
    return now


def snapshot(state: MatchState) -> tuple:
    seats = {
        p: (
            s.seq,
            s.ack,
            s.rejected,
            s.spawned,
            s.deleted,
            s.moves,
            s.strikes,
            s.kicked,
            s.applied_tick,
            s.online,
        )
        for p, s in state.seats.items()
    }
    ents = sorted((e.id, e.owner, e.x, e.z, e.tx, e.tz) for e in state.world.entities.values())
    return state.world.tick, state.world.next_id, ents, seats, list(state.history)


@pytest.mark.parametrize("seed", range(5))
def test_a_checkpoint_and_the_log_after_it_replay_to_the_same_state_bit_for_bit(seed):
    rng = random.Random(seed)
    live = fresh()
    live.seat(1, "p1", "#fff", 0.0)
    log: list = []
    now = play(live, rng, 40, log, 0.0)
    checkpoint = msgspec.json.decode(msgspec.json.encode(live.checkpoint(now)))  # as the database keeps it
    log.clear()
    now = play(live, rng, 60, log, now)
    verdicts.kick(live, 2, "test")
    now = play(live, rng, 5, log, now)

    adopter = fresh()
    adopter.restore(checkpoint, now=123.0)
    assert inputlog.replay(adopter, log, now=123.0) == 65
    assert snapshot(adopter) == snapshot(live)
    assert adopter.seats[2].kicked


def test_entries_already_in_the_checkpoint_are_skipped_and_a_gap_is_refused():
    rng = random.Random(9)
    live = fresh()
    live.seat(1, "p1", "#fff", 0.0)
    log: list = []
    now = play(live, rng, 10, log, 0.0)
    checkpoint = live.checkpoint(now)
    now = play(live, rng, 10, log, now)
    adopter = fresh()
    adopter.restore(checkpoint, now)
    assert inputlog.replay(adopter, log, now) == 10  # the first ten are in the checkpoint
    assert snapshot(adopter) == snapshot(live)

    gapped = fresh()
    gapped.restore(checkpoint, now)
    with pytest.raises(inputlog.LogGap):
        inputlog.replay(gapped, log[11:], now)


def test_an_entry_of_another_version_is_refused():
    entry = inputlog.Entry(inputlog.LOG_VERSION + 1, 5, [], {})
    with pytest.raises(msgspec.ValidationError):
        inputlog.decode(inputlog.encode(entry))


def test_a_checkpoint_keeps_the_seats_counters_presence_and_rate_state_as_ages():
    state = fresh()
    seat = state.seat(1, "p1", "#fff", 100.0)
    seat.online, seat.spawned, seat.moves, seat.strikes = True, 4, 9, 2
    seat.bucket.take(100.0)
    seat.spawns.take(99.5)
    data = state.checkpoint(now=100.0)
    copy = fresh()
    copy.restore(data, now=7.0)  # another process's clock
    again = copy.seats[1]
    assert (again.online, again.spawned, again.moves, again.strikes) == (True, 4, 9, 2)
    assert again.bucket.tokens == seat.bucket.tokens and again.bucket.stamp == 7.0
    assert list(again.spawns.times) == [6.5]


def test_a_version_one_checkpoint_still_loads():
    old = {"tick": 7, "next_id": 3, "ents": [[1, 1, 0.0, 0.0, 2.0, 2.0]], "seats": {"1": ["a", "#fff", 4, 4]}}
    state = fresh()
    state.restore(old, now=0.0)
    assert (state.world.tick, state.seats[1].ack, state.seats[1].spawned) == (7, 4, 0)


class EntryBeforeSteerChecks(msgspec.Struct, array_like=True, frozen=True, gc=False):
    v: int
    tick: int
    ops: list[inputlog.Op]
    seats: dict[int, tuple[int, int, int]]


def test_each_entry_checks_what_its_tick_steered_and_entries_read_across_the_format_change():
    state = fresh()
    state.seat(1, "p1", "#fff", 0.0)
    state.submit(Command(1, 1, 0, "spawn", point=(1.0, 2.0)), 0.0)
    state.tick(0.05)
    assert state.take_entry().steered == 0  # nothing moved or nudged
    state.submit(Command(1, 2, 1, "move", (1,), (10.0, 10.0)), 0.1)
    state.tick(0.1)
    entry = state.take_entry()
    assert entry.steered not in (0, None) and state.take_entry().steered == 0  # taken once

    old = msgspec.msgpack.encode(EntryBeforeSteerChecks(entry.v, entry.tick, entry.ops, entry.seats))
    read = inputlog.decode(old)  # an old log's entry: no check, so none compared
    assert read.steered is None and read.ops == entry.ops and read.seats == entry.seats
    back = msgspec.msgpack.decode(inputlog.encode(entry), type=EntryBeforeSteerChecks)
    assert back.ops == entry.ops  # and the code before it reads today's entries (a deploy's overlap)

    replayed = fresh()
    replayed.seat(1, "p1", "#fff", 0.0)
    replayed.take_entry()
    spawn_entry = inputlog.Entry(
        1, 1, [inputlog.Applied(Command(1, 1, 0, "spawn", point=(1.0, 2.0)))], {1: (1, 1, 0)}, 0
    )
    assert inputlog.play_entry(replayed, spawn_entry, 0.0) == []
    elsewhere = msgspec.structs.replace(
        entry, ops=[inputlog.Applied(Command(1, 2, 1, "move", (1,), (-10.0, 10.0)))]
    )
    problems = inputlog.play_entry(replayed, elsewhere, 0.0)
    assert len(problems) == 1 and "moved or nudged on tick 2" in problems[0]
