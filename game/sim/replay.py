"""A whole match replayed from its stored log, checked tick by tick: the pure half of
`manage.py verify_replays` (game/management/commands/verify_replays.py reads the database).

A stored log is a `Header` (log format, rules version, settings, initial state) and chunks of
entries in tick order, each chunk with the digest of the state it ends at and now and then a
full keyframe. `verify` starts from the header's initial state under the header's rules
version, plays every entry and reports the first tick at which the replay and the record part:

- on every tick: each logged op must be possible on the replayed state (the tick rules accept
  each command, the cubes placed or removed are there, the seats exist, each command is
  acknowledged by its tick), the spawns and deletes the replay makes must be the ones the
  match recorded as events on that tick (id and position of each spawn), and what the tick's
  moves and nudges did (their applied ticks, their cubes' positions and targets) must match
  the entry's steer check (`Entry.steered`; entries written before it have none);
- at every chunk's end (each flush, about a second of play): the digest of the whole state
  (every cube exactly, the seats' numbers);
- at every keyframe: the full state, to say what differs.

Plain Python and msgspec, no Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from . import inputlog, rulesets
from .inputlog import Entry
from .match import MatchState
from .rulesets import Settings


class Header(msgspec.Struct, frozen=True, kw_only=True):
    """What a log replays from: its format, its rules, the match's settings and initial state."""

    log_version: int
    rules_version: int
    settings: Settings
    initial: dict  # MatchState.checkpoint at the match's first tick


def header_for(settings: Settings) -> Header:
    """The header of a match that starts now, under this code's rules."""
    state = rulesets.new_state(settings)
    return Header(
        log_version=inputlog.LOG_VERSION,
        rules_version=rulesets.RULES_VERSION,
        settings=settings,
        initial=state.checkpoint(0.0),
    )


def start(header: Header) -> MatchState:
    """The match state the log's first entry continues (UnknownRules for a version we lack)."""
    if header.log_version != inputlog.LOG_VERSION:
        raise rulesets.UnknownRules(f"input log version {header.log_version} is not {inputlog.LOG_VERSION}")
    state = rulesets.new_state(header.settings, header.rules_version)
    state.restore(header.initial, 0.0)
    return state


def digest(checkpoint: dict) -> str:
    """A short hash of a checkpoint's world and seats' numbers (not rate state, which is
    timing): equal for the live state and its exact replay."""
    ents = sorted(tuple(e) for e in checkpoint["ents"])
    seats = sorted((int(p), list(row[2:13])) for p, row in checkpoint["seats"].items())
    data = msgspec.msgpack.encode([checkpoint["tick"], checkpoint["next_id"], ents, seats])
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@dataclass(slots=True)
class Chunk:
    first_tick: int
    last_tick: int
    entries: list[Entry]
    digest: str = ""  # of the state at last_tick, when the writer had it
    keyframe: dict | None = None
    resumed: dict | None = None  # the state an adopter resumed from, at its own tick


@dataclass(slots=True)
class Report:
    ok: bool
    ticks: int  # the tick the replay reached
    agreed: int  # the last tick the replay is known to agree with the record
    first_bad: int | None = None  # the first tick that differs; None when it reproduced
    last_possible: int | None = None  # when the first differing tick is only bounded: the latest it can be
    checked: int = 0  # digests and keyframes that agreed
    detail: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"{self.ticks} ticks, {self.checked} checkpoints agree"
        if self.last_possible is not None and self.last_possible != self.first_bad:
            where = f"first differs between tick {self.first_bad} and tick {self.last_possible}"
        else:
            where = f"first differs at tick {self.first_bad}"
        return f"{where} (agreed at {self.agreed}): {self.detail}"


REPLAYED_EVENTS = ("spawn", "delete")  # the events a replay makes again, exactly


def _events(state: MatchState) -> list[tuple]:
    return sorted(
        (e.kind, msgspec.json.encode(e.payload, order="sorted"))
        for e in state.take_events()
        if e.kind in REPLAYED_EVENTS
    )


def recorded_events(rows: Iterable[tuple[int, str, dict]]) -> dict[int, list[tuple]]:
    """The match's recorded events (tick, kind, payload), by tick, as `verify` compares them
    (not by player: a pruned guest's events keep no player, and the digest checks owners)."""
    out: dict[int, list[tuple]] = {}
    for tick, kind, payload in rows:
        if kind in REPLAYED_EVENTS:
            out.setdefault(tick, []).append((kind, msgspec.json.encode(payload, order="sorted")))
    for tick, events in out.items():  # a flush written twice (its commit unconfirmed) repeats events
        out[tick] = sorted(set(events))
    return out


def verify(
    header: Header, chunks: Iterable[Chunk], recorded: Mapping[int, list[tuple]] | None = None
) -> Report:
    """Replay the log from its header; `recorded` is `recorded_events(...)` of the match (None:
    events are not compared, e.g. they were pruned)."""
    state = start(header)
    rules = rulesets.ruleset(header.rules_version).tick_rules
    agreed = state.world.tick
    checked = 0

    def bad(first: int, detail: str, last: int | None = None) -> Report:
        return Report(False, state.world.tick, agreed, first, last, checked, detail)

    for chunk in chunks:
        resumed = chunk.resumed  # checked when the replay reaches its tick, inside or before the chunk
        for entry in chunk.entries + [None]:
            tick = state.world.tick
            if resumed is not None and tick == resumed["tick"]:
                diff = inputlog.differences(state, resumed)
                if diff:
                    return bad(agreed + 1, "where an adopter resumed: " + "; ".join(diff[:3]), tick)
                resumed, agreed, checked = None, tick, checked + 1
            if entry is None or entry.tick <= tick:
                continue
            if entry.tick != tick + 1:
                return bad(tick + 1, f"the log jumps from tick {tick} to {entry.tick}")
            problems = inputlog.play_entry(state, entry, 0.0, rules)
            if problems:
                return bad(entry.tick, "; ".join(problems[:3]))
            mine = _events(state)
            if recorded is not None and mine != recorded.get(entry.tick, []):
                theirs = recorded.get(entry.tick, [])
                return bad(entry.tick, f"recorded {_show(theirs)}, replayed {_show(mine)}")
        state.world.take_changes()
        if resumed is not None:
            passed = f"an adopter resumed at tick {resumed['tick']}: the log passes it by"
            return bad(state.world.tick + 1, passed)
        if state.world.tick != chunk.last_tick:
            return bad(
                state.world.tick + 1,
                f"chunk ends at tick {chunk.last_tick}, its entries at {state.world.tick}",
            )
        if chunk.keyframe is not None:
            diff = inputlog.differences(state, chunk.keyframe)
            if diff:
                return bad(agreed + 1, "; ".join(diff[:3]), chunk.last_tick)
        if chunk.digest:
            if digest(state.checkpoint(0.0)) != chunk.digest:
                return bad(agreed + 1, "the state's digest differs", chunk.last_tick)
        if chunk.digest or chunk.keyframe is not None:
            agreed = chunk.last_tick
            checked += 1
    return Report(True, state.world.tick, agreed, checked=checked)


def _show(events: list[tuple]) -> str:
    if not events:
        return "nothing"
    return ", ".join(f"{kind} {payload.decode()}" for kind, payload in events[:3])


MARKED = {inputlog.Kicked: "kick", inputlog.Placed: "correction", inputlog.Struck: "warning"}


class Cursor:
    """A recorded match to watch: step forward a tick at a time, or seek to any tick.

    `prepare` plays the whole log once, keeping a checkpoint every `every` ticks and the
    ticks worth marking on a seek bar (joins, leaves, kicks, corrections, warnings, removals
    by verdict); a seek then restores the nearest checkpoint at or before the tick and plays
    at most `every` ticks. Each step gives the world's changes, for a delta snap."""

    def __init__(self, header: Header, entries: list[Entry], every: int = 100):
        self.header = header
        self.entries = entries
        self.every = max(1, every)
        self.state = start(header)
        self.first = self.state.world.tick
        for n, entry in enumerate(entries):
            if entry.tick != self.first + n + 1:
                raise inputlog.LogGap(f"the log jumps from tick {self.first + n} to {entry.tick}")
        self.last = self.first + len(entries)
        self.saved: dict[int, dict] = {self.first: self.state.checkpoint(0.0)}
        self.marks: list[tuple[int, str, int | None]] = []

    def prepare(self) -> None:
        """One pass over the log: checkpoints and marks; leaves the cursor at the start."""
        for entry in self.entries:
            deleted = {i for op in entry.ops if isinstance(op, inputlog.Applied) for i in op.cmd.ids}
            for op in entry.ops:
                kind = MARKED.get(type(op))
                if isinstance(op, inputlog.Present):
                    kind = "join" if op.online else "leave"
                elif isinstance(op, inputlog.Removed) and op.id not in deleted:
                    kind = "removal"
                if kind is not None:
                    mark = (entry.tick, kind, getattr(op, "player", None))
                    if not self.marks or self.marks[-1] != mark:
                        self.marks.append(mark)
            self.step()
            if self.tick % self.every == 0:
                self.saved[self.tick] = self.state.checkpoint(0.0)
        self.seek(self.first)

    @property
    def tick(self) -> int:
        return self.state.world.tick

    def step(self):
        """Play the next tick; its changes (world.Changes), or None at the end."""
        if self.tick >= self.last:
            return None
        inputlog.play_entry(self.state, self.entries[self.tick - self.first], 0.0)
        self.state.take_events()
        return self.state.world.take_changes()

    def seek(self, tick: int) -> int:
        """Go to `tick` (clamped to the log); the tick reached."""
        tick = max(self.first, min(self.last, tick))
        base = max(t for t in self.saved if t <= tick)
        if not (base <= self.tick <= tick):
            self.state = rulesets.new_state(self.header.settings, self.header.rules_version)
            self.state.restore(self.saved[base], 0.0)
        while self.tick < tick:
            self.step()
        self.state.world.take_changes()
        return self.tick
