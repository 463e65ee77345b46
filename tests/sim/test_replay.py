"""A whole log replayed from its header and checked tick by tick (game/sim/replay.py): the
first tick that differs is named, and a log of an older rules version still verifies."""

import math
import random
import zlib

import msgspec
import pytest

from game.sim import inputlog, replay, rulesets, verdicts
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World

from .test_inputlog import play

SETTINGS = rulesets.Settings(arena_width=60, arena_depth=60, tick_rate=20, speed=5.0, cube_cap=50, creator=1)


def record(seed: int, ticks: int = 200, per_chunk: int = 20, settings=SETTINGS, version=None):
    """A match played live under `version`'s rules: its header, its chunks (a digest at each
    end, a keyframe at the last) and its spawn and delete events as the database keeps them."""
    header = replay.header_for(settings)
    if version is not None:
        header = msgspec.structs.replace(header, rules_version=version)
    live = rulesets.new_state(settings, header.rules_version)
    live.restore(header.initial, 0.0)
    rng = random.Random(seed)
    live.seat(1, "p1", "#fff", 0.0)
    live.take_entry()  # the seat is made before tick 1: it goes into tick 1's entry below
    live.inputs.append(inputlog.Seated(1, "p1", "#fff"))
    chunks, events, now = [], [], 0.0
    for _ in range(ticks // per_chunk):
        log: list = []
        now = play(live, rng, per_chunk, log, now)
        cp = live.checkpoint(now)  # the flush's checkpoint: right after the chunk's last entry
        chunks.append(replay.Chunk(log[0].tick, log[-1].tick, log, replay.digest(cp)))
        if rng.random() < 0.3 and 2 in live.seats and not live.seats[2].kicked:
            verdicts.kick(live, 2, "test")  # between ticks: into the next chunk's first entry
        events += [
            (e.tick, e.kind, msgspec.json.decode(msgspec.json.encode(e.payload))) for e in live.take_events()
        ]
    chunks[-1].keyframe = msgspec.json.decode(msgspec.json.encode(live.checkpoint(now)))
    return header, chunks, replay.recorded_events(events), live


def tamper(chunks, pick):
    """Replace the first op `pick(entry, op)` returns a new op for; the tick it was on."""
    for chunk in chunks:
        for entry in chunk.entries:
            for k, op in enumerate(entry.ops):
                new = pick(entry, op)
                if new is not None:
                    entry.ops[k] = new
                    return entry.tick
    raise AssertionError("nothing to tamper with")


@pytest.mark.parametrize("seed", range(3))
def test_a_recorded_match_replays_from_its_header_with_every_digest_and_the_final_keyframe(seed):
    header, chunks, events, live = record(seed)
    report = replay.verify(header, chunks, events)
    assert report.ok, str(report)
    assert report.ticks == live.world.tick and report.checked == len(chunks)
    assert sum(len(v) for v in events.values()) > 10  # spawns and deletes were compared


def test_events_written_twice_by_a_repeated_flush_still_agree_but_a_missing_spawn_does_not():
    header, chunks, events, _ = record(11)
    rows = [(t, kind, msgspec.json.decode(p)) for t, evs in events.items() for kind, p in evs]
    twice = rows + [r for r in rows if 60 < r[0] <= 80]  # one chunk's flush written again
    assert replay.verify(header, chunks, replay.recorded_events(twice)).ok
    spawns = [r for r in rows if r[1] == "spawn"]
    rows.remove(spawns[5])
    report = replay.verify(header, chunks, replay.recorded_events(rows))
    assert not report.ok and report.first_bad == spawns[5][0], str(report)


def test_a_spawn_put_elsewhere_is_named_at_its_tick():
    header, chunks, events, _ = record(1)

    def elsewhere(entry, op):
        if isinstance(op, inputlog.Applied) and op.cmd.op == "spawn" and entry.tick > 50:
            return inputlog.Applied(msgspec.structs.replace(op.cmd, point=(11.0, 11.0)))
        return None

    tick = tamper(chunks, elsewhere)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == tick and report.last_possible is None, str(report)
    assert f"first differs at tick {tick}" in str(report) and "[11.0,11.0]" in str(report)
    assert report.agreed < tick


def test_a_command_on_another_players_cube_is_named_at_its_tick():
    header, chunks, events, _ = record(2)

    def hijack(entry, op):  # the same move, said to be another player's
        if isinstance(op, inputlog.Applied) and op.cmd.op == "move" and entry.tick > 80:
            owner = op.cmd.player
            return inputlog.Applied(msgspec.structs.replace(op.cmd, player=3 - owner if owner < 3 else 1))
        return None

    tick = tamper(chunks, hijack)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == tick, str(report)
    assert "refused" in report.detail or "no seat" in report.detail


def test_a_missing_entry_and_a_command_not_acknowledged_are_named_at_their_tick():
    header, chunks, events, _ = record(3)
    gone = chunks[4].entries.pop(7)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == gone.tick and "jumps" in report.detail, str(report)

    header, chunks, events, _ = record(3)

    def unacked(entry, op):
        if isinstance(op, inputlog.Applied) and entry.tick > 120:
            return inputlog.Applied(msgspec.structs.replace(op.cmd, seq=op.cmd.seq + 10_000))
        return None

    tick = tamper(chunks, unacked)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == tick and "not acknowledged" in report.detail, str(report)


@pytest.mark.parametrize("op", ["move", "nudge"])
def test_a_move_or_nudge_sent_elsewhere_is_named_at_its_tick(op):
    """A changed target leaves no event and no refusal: the entry's steer check names its tick."""
    header, chunks, events, _ = record(4)
    point = (-29.0, 29.0) if op == "move" else (-1.0, 0.0)

    def redirect(entry, o):
        if isinstance(o, inputlog.Applied) and o.cmd.op == op and o.cmd.point != point and entry.tick > 100:
            return inputlog.Applied(msgspec.structs.replace(o.cmd, point=point))
        return None

    tick = tamper(chunks, redirect)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == tick and report.last_possible is None, str(report)
    assert f"first differs at tick {tick} " in str(report) and "moved or nudged" in report.detail
    assert report.agreed < tick


def test_a_backdated_move_said_to_be_of_another_tick_is_named_at_its_tick():
    """Lag compensation rewinds a backdated move's cubes to the tick it claims and fast-forwards
    them: a claim changed in the log puts them elsewhere, which the steer check covers."""
    header, chunks, events, _ = record(12, ticks=400)

    def as_of_now(entry, op):  # a move that took effect ticks back, said to be as of its own tick
        if (
            isinstance(op, inputlog.Applied)
            and op.cmd.op in ("move", "nudge")
            and op.cmd.tick < entry.tick - 3
            and entry.tick > 60
        ):
            return inputlog.Applied(msgspec.structs.replace(op.cmd, tick=entry.tick - 1))
        return None

    tick = tamper(chunks, as_of_now)
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == tick and report.last_possible is None, str(report)
    assert "moved or nudged" in report.detail


class OldEntry(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """inputlog.Entry as it was written before the steer check."""

    v: int
    tick: int
    ops: list[inputlog.Op]
    seats: dict[int, tuple[int, int, int]]


def as_old_log(chunks) -> None:
    """Every entry written by the old struct and read back by today's decoder."""
    for chunk in chunks:
        chunk.entries = [
            inputlog.decode(msgspec.msgpack.encode(OldEntry(e.v, e.tick, e.ops, e.seats)))
            for e in chunk.entries
        ]


def test_an_old_log_without_steer_checks_verifies_and_a_move_sent_elsewhere_is_bounded_by_its_digest():
    header, chunks, events, _ = record(4)
    assert any(e.steered for c in chunks for e in c.entries)
    as_old_log(chunks)
    assert all(e.steered is None for c in chunks for e in c.entries)
    report = replay.verify(header, chunks, events)
    assert report.ok and report.checked == len(chunks), str(report)

    def redirect(entry, op):
        if isinstance(op, inputlog.Applied) and op.cmd.op == "move" and entry.tick > 100:
            return inputlog.Applied(msgspec.structs.replace(op.cmd, point=(-29.0, 29.0)))
        return None

    tick = tamper(chunks, redirect)
    report = replay.verify(header, chunks, events)
    assert not report.ok, str(report)
    assert report.first_bad <= tick <= report.last_possible, str(report)
    assert report.last_possible - report.first_bad < 20  # one chunk, not a keyframe's stretch
    assert "digest" in report.detail


def record_formations(ticks: int = 120):
    """A match under today's rules (2) with formation moves: its header, chunks and events."""
    header = replay.header_for(SETTINGS)
    live = replay.start(header)
    rng = random.Random(4)
    for p in (1, 2):
        live.seat(p, f"p{p}", "#abc", 0.0)
    seq, now, chunk, chunks, events, first_form = {1: 0, 2: 0}, 0.0, [], [], [], None
    for t in range(1, ticks + 1):
        now += 0.05
        for p in (1, 2):
            seq[p] += 1
            own = [e.id for e in live.world.owned_by(p)]
            if len(own) < 4:
                cmd = Command(p, seq[p], live.world.tick, "spawn", point=(rng.uniform(-20, 20), 0.0))
            elif t % 7 == 0:
                point = (rng.uniform(-25, 25), rng.uniform(-25, 25))
                cmd = Command(p, seq[p], live.world.tick, "move", tuple(own), point, form="box", facing=t % 8)
                first_form = first_form or t
            else:
                seq[p] -= 1
                continue
            live.submit(cmd, now)
        live.tick(now)
        chunk.append(inputlog.decode(inputlog.encode(live.take_entry())))
        if t % 20 == 0:
            chunks.append(
                replay.Chunk(chunk[0].tick, chunk[-1].tick, chunk, replay.digest(live.checkpoint(now)))
            )
            chunk = []
        events += [(e.tick, e.kind, e.payload) for e in live.take_events()]
    return header, chunks, replay.recorded_events(events), first_form


def test_a_log_of_rules_version_1_from_before_formations_still_verifies_and_formations_need_2():
    assert rulesets.RULES_VERSION == 2
    header, chunks, events, _ = record(13, version=1)  # plain moves only, as matches were then
    assert header.rules_version == 1
    report = replay.verify(header, chunks, events)
    assert report.ok, str(report)

    header2, chunks2, events2, first_form = record_formations()
    assert header2.rules_version == 2 and first_form is not None
    formed = [op for c in chunks2 for e in c.entries for op in e.ops if isinstance(op, inputlog.Applied)]
    assert any(op.cmd.form == "box" and len(op.cmd.ids) > 1 for op in formed)
    assert replay.verify(header2, chunks2, events2).ok  # formations replay under the rules they came with

    as_v1 = msgspec.structs.replace(header2, rules_version=1)  # the same log said to be of rules 1
    report = replay.verify(as_v1, chunks2, events2)
    assert not report.ok and report.first_bad == first_form and "rules version 1" in report.detail, str(
        report
    )


def _slow_rules(s: rulesets.Settings) -> MatchState:
    """A later rules version, for the test: cubes go twice as fast."""
    return MatchState(World(s.arena_width, s.arena_depth, s.speed * 2, s.tick_rate), s.cube_cap, s.creator)


def test_after_a_future_rules_change_a_log_of_todays_rules_still_verifies(monkeypatch):
    old = rulesets.RULES_VERSION
    header, chunks, events, _ = record(5)  # played under today's rules
    assert header.rules_version == old
    newer = rulesets.Ruleset(
        old + 1, _slow_rules, rulesets.RULESETS[old].tick_rules, 0.25, 1.0, "faster cubes"
    )
    monkeypatch.setitem(rulesets.RULESETS, old + 1, newer)
    monkeypatch.setattr(rulesets, "RULES_VERSION", old + 1)

    assert replay.header_for(SETTINGS).rules_version == old + 1  # new matches play the new rules
    report = replay.verify(header, chunks, events)
    assert report.ok, str(report)  # the old log replays through the old rules

    relabelled = msgspec.structs.replace(header, rules_version=old + 1)
    assert not replay.verify(relabelled, chunks, events).ok  # through the new rules it would not

    # And a match played under the new rules verifies under them.
    header2, chunks2, events2, _ = record(6, version=old + 1)
    assert replay.verify(header2, chunks2, events2).ok


def test_a_log_of_a_rules_version_this_server_does_not_know_is_refused_by_name():
    header, chunks, events, _ = record(7, ticks=40)
    unknown = msgspec.structs.replace(header, rules_version=99)
    with pytest.raises(rulesets.UnknownRules, match="rules version 99"):
        replay.verify(unknown, chunks, events)


def test_the_current_ruleset_is_what_the_arbiter_plays():
    """Change a limit a replay depends on and this fails: bump RULES_VERSION, keep the old."""
    current = rulesets.RULESETS[rulesets.RULES_VERSION]
    assert rulesets.current_limits() == {
        "lag_window_s": current.lag_window_s,
        "nudge_distance": current.nudge_distance,
    }


def test_a_cursor_seeks_anywhere_to_exactly_the_state_playing_forward_reaches():
    header, chunks, _, live = record(8, ticks=300)
    entries = [e for c in chunks for e in c.entries]
    cursor = replay.Cursor(header, entries, every=25)
    cursor.prepare()
    assert cursor.tick == 0 and cursor.last == live.world.tick
    kinds = {kind for _, kind, _ in cursor.marks}
    assert {"join", "leave"} <= kinds and cursor.marks == sorted(cursor.marks, key=lambda m: m[0])

    forward = replay.start(header)
    states = {0: replay.digest(forward.checkpoint(0.0))}
    for entry in entries:
        inputlog.play_entry(forward, entry, 0.0)
        states[forward.world.tick] = replay.digest(forward.checkpoint(0.0))
    rng = random.Random(1)
    for tick in [300, 17, 150, 151, 0, 299, 49, 50, 51] + [rng.randrange(301) for _ in range(20)]:
        assert cursor.seek(tick) == tick
        assert replay.digest(cursor.state.checkpoint(0.0)) == states[tick], tick
    assert cursor.seek(10_000) == 300 and cursor.step() is None
    cursor.seek(40)
    changes = cursor.step()
    assert cursor.tick == 41 and changes is not None


SPACINGS = {
    "every tick": {"every": 1},
    "every 7 ticks": {"every": 7, "replay_s": None},
    "by replay time": {"every": 10_000, "replay_s": 0.0},  # a checkpoint once any time passed: each tick
    "one checkpoint": {"every": 10_000, "replay_s": None},
    "memory-bound": {"every": 1, "max_bytes": 40_000},  # thinned as it goes
    "entries still encoded": {"every": 13},  # as the replay socket keeps them
}


@pytest.fixture(scope="module")
def forward_states():
    """Match 12 (backdated moves, corrections, kicks) played forward: each tick's full checkpoint."""
    header, chunks, _, _ = record(12, ticks=400)
    entries = [e for c in chunks for e in c.entries]
    forward = replay.start(header)
    states = {forward.world.tick: forward.checkpoint(0.0)}
    for entry in entries:
        inputlog.play_entry(forward, entry, 0.0)
        states[forward.world.tick] = forward.checkpoint(0.0)
    return header, entries, states


@pytest.mark.parametrize("spacing", SPACINGS)
def test_a_seek_lands_on_the_identical_state_whatever_the_checkpoint_spacing(spacing, forward_states):
    """Cubes in their order, the lag-compensation history, the seats: the same checkpoint as
    playing forward, whatever checkpoints the cursor kept; and stepping on from a seek too
    (backdated moves after it rewind into the history it restored)."""
    header, entries, states = forward_states
    if spacing == "entries still encoded":
        entries = [inputlog.encode(e) for e in entries]
    cursor = replay.Cursor(header, entries, **SPACINGS[spacing])
    cursor.prepare()
    assert cursor.ticks[0] == 0 and cursor.ticks == sorted(cursor.saved)
    if spacing == "every tick" or spacing == "by replay time":
        assert len(cursor.ticks) == 401
    elif spacing == "one checkpoint":
        assert cursor.ticks == [0]
    elif spacing == "memory-bound":
        assert 1 < len(cursor.ticks) < 100 and cursor.saved_bytes <= 40_000
    rng = random.Random(spacing)
    for tick in [400, 0, 1, 200, 199, 7, 8, 399] + [rng.randrange(401) for _ in range(12)]:
        assert cursor.seek(tick) == tick
        assert cursor.state.checkpoint(0.0) == states[tick], (spacing, tick)
        for _ in range(min(9, 400 - tick)):
            cursor.step()
        assert cursor.state.checkpoint(0.0) == states[cursor.tick], (spacing, tick, cursor.tick)


def test_a_packed_checkpoint_restores_exactly_even_off_the_quantisers_grid():
    header, chunks, _, live = record(8, ticks=120)
    assert replay.unpack(header, replay.pack(live)).checkpoint(0.0) == live.checkpoint(0.0)
    blob = msgspec.msgpack.decode(zlib.decompress(replay.pack(live).blob))
    assert blob["coords"][0] == "g" and "r" in {h[2] for h in blob["history"]}  # the compact forms
    ent = next(iter(live.world.entities.values()))
    ent.x, ent.tz = 0.123456789, -0.0  # no step makes these: kept as doubles, bit for bit
    tick, positions = live.history[2]
    positions[next(iter(positions))] = (1 / 3, 2.0)
    again = replay.unpack(header, replay.pack(live))
    assert again.checkpoint(0.0) == live.checkpoint(0.0)
    same = again.world.entities[ent.id]
    assert same.x == 0.123456789 and math.copysign(1.0, same.tz) == -1.0
    assert dict(again.history)[tick] == positions


def test_a_bigger_match_gets_closer_checkpoints_within_the_memory_bound():
    header, chunks, _, _ = record(12, ticks=400)
    entries = [e for c in chunks for e in c.entries]
    apart = replay.Cursor(header, entries, every=100, replay_s=None)
    apart.prepare()
    assert apart.ticks == [0, 100, 200, 300, 400]
    cheap = replay.Cursor(header, entries, every=100, replay_s=1e-9)  # every tick "costs" more than that
    cheap.prepare()
    assert len(cheap.ticks) == 401
    bound = replay.Cursor(header, entries, every=100, replay_s=1e-9, max_bytes=cheap.saved_bytes // 8)
    bound.prepare()
    assert bound.saved_bytes <= cheap.saved_bytes // 8 and 401 // 16 <= len(bound.ticks) <= 401 // 4
    largest = max(len(s.blob) for s in cheap.saved.values())
    even = math.ceil(400 * largest / bound.max_bytes)  # the spacing that many of the largest would need
    gaps = [b - a for a, b in zip(bound.ticks, bound.ticks[1:], strict=False)]
    assert max(gaps) <= 3 * even, gaps  # spread over the whole log, not spent at its start


def test_a_cursor_refuses_a_log_with_a_gap():
    header, chunks, _, _ = record(9, ticks=40)
    entries = [e for c in chunks for e in c.entries]
    del entries[5]
    with pytest.raises(inputlog.LogGap):
        replay.Cursor(header, entries)
    with pytest.raises(inputlog.LogGap):
        replay.Cursor(header, [inputlog.encode(e) for e in entries])


def test_three_players_and_over_a_thousand_commands_replay_to_the_identical_final_state():
    """The issue's scripted match: moves, nudges, deletes, backdated commands, corrections
    between ticks, a kick, leaves and rejoins; every chunk's digest and the final keyframe."""
    header, chunks, events, live = record(12, ticks=700)
    entries = [e for c in chunks for e in c.entries]
    cmds = [(e.tick, op.cmd) for e in entries for op in e.ops if isinstance(op, inputlog.Applied)]
    ops = {type(op) for e in entries for op in e.ops}
    assert len(cmds) > 1000 and {c.op for _, c in cmds} == {"spawn", "move", "nudge", "delete"}
    assert any(c.tick < tick - 1 for tick, c in cmds if c.op in ("move", "nudge"))  # backdated
    assert {inputlog.Placed, inputlog.Kicked, inputlog.Present, inputlog.Removed} <= ops
    presence = [(op.player, op.online) for e in entries for op in e.ops if isinstance(op, inputlog.Present)]
    assert any(p == q and not a and b for (p, a), (q, b) in zip(presence, presence[1:], strict=False))
    report = replay.verify(header, chunks, events)
    assert report.ok and report.checked == len(chunks), str(report)
    again = replay.start(header)
    for entry in entries:
        inputlog.play_entry(again, entry, 0.0)
    assert replay.digest(again.checkpoint(0.0)) == replay.digest(live.checkpoint(0.0))
    assert ents_of(again) == ents_of(live)


def ents_of(state) -> list:
    return sorted((e.id, e.owner, e.x, e.z, e.tx, e.tz) for e in state.world.entities.values())


def resumed_at(header, chunks, tick: int) -> dict:
    """The state at `tick` as an adopter would have resumed from it (JSON, as stored)."""
    cursor = replay.Cursor(header, [e for c in chunks for e in c.entries])
    assert cursor.seek(tick) == tick
    return msgspec.json.decode(msgspec.json.encode(cursor.state.checkpoint(0.0)))


def test_the_state_an_adopter_resumed_from_is_checked_where_the_replay_reaches_its_tick():
    header, chunks, events, _ = record(7)
    # Mid-chunk (it replayed log entries after the checkpoint) and at a chunk's start (it did not).
    chunks[3].resumed = resumed_at(header, chunks, chunks[3].first_tick + 6)
    chunks[6].resumed = resumed_at(header, chunks, chunks[6].first_tick - 1)
    report = replay.verify(header, chunks, events)
    assert report.ok and report.checked == len(chunks) + 2, str(report)

    wrong = resumed_at(header, chunks, chunks[6].first_tick + 3)
    wrong["ents"][0][2] += 0.5  # one cube not where the log puts it
    chunks[6].resumed = wrong
    report = replay.verify(header, chunks, events)
    assert not report.ok and report.first_bad == chunks[5].last_tick + 1, str(report)
    assert report.last_possible == chunks[6].first_tick + 3 and "where an adopter resumed" in report.detail


def test_a_resume_the_log_never_reaches_is_named():
    header, chunks, events, _ = record(8)
    chunks[2].resumed = resumed_at(header, chunks, chunks[4].first_tick)  # said to be on chunk 2
    report = replay.verify(header, chunks, events)
    assert not report.ok and f"resumed at tick {chunks[4].first_tick}" in report.detail, str(report)
