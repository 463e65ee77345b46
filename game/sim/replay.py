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

import bisect
import hashlib
import math
import time
import zlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from . import inputlog, rulesets
from .inputlog import Entry
from .match import MatchState, seat_row
from .rulesets import Settings
from .world import Entity


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
            drop_evidence(state)
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


def drop_evidence(state: MatchState) -> None:
    """Forget the auditor's evidence a replayed tick gathered (the commands' record, the watched
    cubes' trails): the live arbiter hands it over once a second, a replay never reads it, and
    kept it would grow with every command replayed. Nothing in the world depends on it."""
    state.accepted.clear()
    state.trails.clear()
    state.placed.clear()
    state.refused.clear()


MARKED = {inputlog.Kicked: "kick", inputlog.Placed: "correction", inputlog.Struck: "warning"}


class _Head(msgspec.Struct, array_like=True):
    """An encoded entry's first fields (the rest is skipped, not built)."""

    v: int
    tick: int


_head = msgspec.msgpack.Decoder(_Head)

SEEK_REPLAY_S = 0.05  # a checkpoint once replaying since the last one took this long
CHECKPOINT_BYTES = 64 << 20  # a cursor's checkpoints together (compressed), at most


@dataclass(slots=True, frozen=True)
class Saved:
    """A checkpoint the cursor keeps: the state at `tick`, packed (arrays, msgpack, zlib): one
    object, ~66 KB at 2,000 cubes, nothing for the garbage collector to walk."""

    tick: int
    blob: bytes


def pack(state: MatchState) -> Saved:
    """The state as `unpack` restores it exactly: the world's cubes in their order, the
    lag-compensation history, the seats as a checkpoint keeps them, the cubes' birth ticks.

    Coordinates go as whole hundredths (every one the step, a spawn or a placement makes is on
    the quantiser's grid: k / 100 gives back the very same double), the history's relative to
    where each cube is now (a few steps: small numbers, which compress well); a coordinate off
    the grid (none should be) keeps the whole block as doubles."""
    w = state.world
    ents = list(w.entities.values())
    ids = array("q", [e.id for e in ents])
    coords = _coords([v for e in ents for v in (e.x, e.z, e.tx, e.tz)])
    here = _here(coords)
    history = []
    for tick, positions in state.history:
        keys = array("q", positions)
        same = keys == ids
        xz = _coords([v for p in positions.values() for v in p], here if same else None)
        history.append((tick, None if same else keys.tobytes(), *xz))
    data = {
        "tick": w.tick,
        "next_id": w.next_id,
        "seats": {str(s.player): seat_row(s, 0.0) for s in state.seats.values()},
        "ids": ids.tobytes(),
        "owners": array("q", [e.owner for e in ents]).tobytes(),
        "coords": coords,
        "history": history,
        "born": array("q", [v for pair in state.born.items() for v in pair]).tobytes(),
    }
    return Saved(w.tick, zlib.compress(msgspec.msgpack.encode(data), 1))


def unpack(header: Header, saved: Saved) -> MatchState:
    data = msgspec.msgpack.decode(zlib.decompress(saved.blob))
    state = rulesets.new_state(header.settings, header.rules_version)
    state.restore({"tick": data["tick"], "next_id": data["next_id"], "ents": [], "seats": data["seats"]}, 0.0)
    ids, owners = _ints(data["ids"]), _ints(data["owners"])
    coords = _uncoords(*data["coords"])
    cols = zip(ids, owners, coords[0::4], coords[1::4], coords[2::4], coords[3::4], strict=True)
    state.world.entities = {i: Entity(i, o, x, z, tx, tz) for i, o, x, z, tx, tz in cols}
    here = _here(data["coords"])
    for tick, keys, kind, raw in data["history"]:
        xz = _uncoords(kind, raw, here)
        keys = ids if keys is None else _ints(keys)
        state.history.append((tick, dict(zip(keys, zip(xz[0::2], xz[1::2], strict=True), strict=True))))
    born = _ints(data["born"])
    state.born = dict(zip(born[0::2], born[1::2], strict=True))
    return state


def _coords(values: list[float], here: list[int] | None = None) -> tuple[str, bytes]:
    """A block of coordinates: ("g", whole hundredths), ("r", hundredths less `here`'s), or
    ("d", doubles) when one is not exactly on the grid."""
    try:
        grid = array("q", [math.floor(v * 100 + 0.5) for v in values])
    except (ValueError, OverflowError):  # not finite
        grid = None
    if grid is None or array("d", [k / 100 for k in grid]).tobytes() != array("d", values).tobytes():
        return "d", array("d", values).tobytes()
    if here is not None:
        return "r", array("q", [k - h for k, h in zip(grid, here, strict=True)]).tobytes()
    return "g", grid.tobytes()


def _uncoords(kind: str, raw: bytes, here: list[int] | None = None) -> array | list[float]:
    if kind == "d":
        return _floats(raw)
    grid = _ints(raw)
    if kind == "r":
        return [(k + h) / 100 for k, h in zip(grid, here, strict=True)]
    return [k / 100 for k in grid]


def _here(coords: tuple[str, bytes]) -> list[int] | None:
    """The cubes' x, z in whole hundredths, from their block (x, z, tx, tz each): what the
    history is relative to; None when the block is doubles."""
    kind, raw = coords
    if kind != "g":
        return None
    grid = _ints(raw)
    return [v for xz in zip(grid[0::4], grid[1::4], strict=True) for v in xz]


def _ints(raw: bytes) -> array:
    out = array("q")
    out.frombytes(raw)
    return out


def _floats(raw: bytes) -> array:
    out = array("d")
    out.frombytes(raw)
    return out


class Cursor:
    """A recorded match to watch: step forward a tick at a time, or seek to any tick.

    `prepare` plays the whole log once, keeping checkpoints and the ticks worth marking on a
    seek bar (joins, leaves, kicks, corrections, warnings, removals by verdict); a seek then
    restores the nearest checkpoint at or before the tick and plays on from it.

    Where the checkpoints go adapts to the match: one whenever replaying since the last took
    `replay_s` (measured as `prepare` plays, so a big match, whose ticks cost more, gets them
    closer together), and at least every `every` ticks; but never closer than the memory bound
    allows: the checkpoints together stay within `max_bytes`, spread evenly over the rest of
    the log (should the cubes outgrow the estimate, the checkpoints closest together go). A seek
    replays at most about `replay_s` of work, or the memory bound's spacing for the longest,
    largest matches. Each step gives the world's changes, for a delta snap.

    `entries` may be the log's entries encoded (bytes, as stored: a tenth of the memory of
    decoded ones, ~5 KB a tick at 200 players' commands) and are then decoded as they are
    played (~25 us each); `prepare` decodes every one, so a bad entry is found there."""

    def __init__(
        self,
        header: Header,
        entries: Sequence[Entry | bytes],
        every: int = 100,
        replay_s: float | None = SEEK_REPLAY_S,
        max_bytes: int = CHECKPOINT_BYTES,
    ):
        self.header = header
        self.entries = entries
        self.every = max(1, every)
        self.replay_s = replay_s
        self.max_bytes = max_bytes
        self.state = start(header)
        self.first = self.state.world.tick
        for n, entry in enumerate(entries):
            tick = _head.decode(entry).tick if isinstance(entry, bytes) else entry.tick
            if tick != self.first + n + 1:
                raise inputlog.LogGap(f"the log jumps from tick {self.first + n} to {tick}")
        self.last = self.first + len(entries)
        self.saved: dict[int, Saved] = {}
        self.ticks: list[int] = []  # the saved ticks, in order
        self.saved_bytes = 0
        self._keep(pack(self.state))
        self.marks: list[tuple[int, str, int | None]] = []
        self.prepared = self.first  # how far `prepare` has come (read by another thread: progress)

    def prepare(self) -> None:
        """One pass over the log: checkpoints and marks; leaves the cursor at the start."""
        clock = time.perf_counter
        since, gap = clock(), 1
        for n in range(len(self.entries)):
            entry = self._entry(n)
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
            self._play(entry)
            self.prepared = entry.tick
            ticks = self.tick - self.ticks[-1]
            if ticks >= gap and (
                ticks >= self.every or (self.replay_s is not None and clock() - since >= self.replay_s)
            ):
                gap = self._keep(pack(self.state))
                since = clock()
        self.seek(self.first)

    def _keep(self, saved: Saved) -> int:
        """Keep a checkpoint; the fewest ticks to the next one the memory bound allows: the
        room left shared evenly over the rest of the log, a checkpoint a quarter bigger than
        this one (matches grow). Should they outgrow that, the checkpoint whose two neighbours
        are closest goes, one at a time, so the gaps stay even."""
        self.saved[saved.tick] = saved
        self.ticks.append(saved.tick)
        self.saved_bytes += len(saved.blob)
        size = len(saved.blob)
        while self.saved_bytes + size > self.max_bytes and len(self.ticks) > 1:
            ends = self.ticks + [self.last]
            drop = min(range(1, len(self.ticks)), key=lambda i: ends[i + 1] - ends[i - 1])
            self.saved_bytes -= len(self.saved.pop(self.ticks.pop(drop)).blob)  # never the first
        room = max(size, self.max_bytes - self.saved_bytes)
        return max(1, math.ceil((self.last - saved.tick) * size * 1.25 / room))

    @property
    def tick(self) -> int:
        return self.state.world.tick

    def step(self):
        """Play the next tick; its changes (world.Changes), or None at the end."""
        if self.tick >= self.last:
            return None
        return self._play(self._entry(self.tick - self.first))

    def _entry(self, n: int) -> Entry:
        entry = self.entries[n]
        return inputlog.decode(entry) if isinstance(entry, bytes) else entry

    def _play(self, entry: Entry):
        inputlog.play_entry(self.state, entry, 0.0)
        self.state.take_events()
        drop_evidence(self.state)
        return self.state.world.take_changes()

    def seek(self, tick: int) -> int:
        """Go to `tick` (clamped to the log); the tick reached."""
        tick = max(self.first, min(self.last, tick))
        base = self.ticks[bisect.bisect_right(self.ticks, tick) - 1]
        if not (base <= self.tick <= tick):
            self.state = unpack(self.header, self.saved[base])
        while self.tick < tick:
            self.step()
        self.state.world.take_changes()
        return self.tick
