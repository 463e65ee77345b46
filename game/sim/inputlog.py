"""A match's input log: what changed the world on each tick, and its exact replay.

The arbiter takes one `Entry` per tick from the match (`MatchState.take_entry`) and
appends it to the log before the snapshot acknowledging its commands goes out. An adopter
restores the last checkpoint and replays the entries after it (`replay`), which reproduces
the world, the seats' numbers and the lag-compensation history bit for bit: the ops are
the accepted commands in the order applied and every authoritative change made between
ticks (seats made, cubes placed or removed, strikes, kicks), and the step is deterministic.
Chat is not logged: a line changes nothing in the world, so a replay needs none; its record
is a `chat` MatchEvent (game/arbiter/chat.py).

Plain Python and msgspec, no Django. `LOG_VERSION` is written into every entry; a reader
refuses versions it does not know rather than guess.
"""

from __future__ import annotations

import msgspec

from .commands import Command

LOG_VERSION = 1
# A stored chunk's zlib level: 1 takes a third of the default's CPU (2.5 ms against 8 ms for a
# second of 400 players, benchmarks/tick_work.py) for 4 % more bytes, and that CPU shares the
# core with the ticks. Any level decompresses the same way.
CHUNK_ZLIB_LEVEL = 1


class Seated(msgspec.Struct, tag="seat", array_like=True, frozen=True, gc=False):
    player: int
    nickname: str
    color: str


class Applied(msgspec.Struct, tag="cmd", array_like=True, frozen=True, gc=False):
    cmd: Command


class Placed(msgspec.Struct, tag="place", array_like=True, frozen=True, gc=False):
    id: int
    x: float
    z: float


class Removed(msgspec.Struct, tag="remove", array_like=True, frozen=True, gc=False):
    id: int


class Struck(msgspec.Struct, tag="strike", array_like=True, frozen=True, gc=False):
    player: int


class Kicked(msgspec.Struct, tag="kick", array_like=True, frozen=True, gc=False):
    player: int


class Present(msgspec.Struct, tag="presence", array_like=True, frozen=True, gc=False):
    """A player's socket joined (online) or went (offline): the players panel as it was."""

    player: int
    online: bool


Op = Seated | Applied | Placed | Removed | Struck | Kicked | Present


class Entry(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """Tick `tick`: `ops` in the order they happened since tick - 1, then one step; `seats`
    holds each seat's (seq, ack, rejected) that changed, as they stood after the step.

    `steered` checks what the tick's moves and nudges did (`MatchState.steer_check`: a crc32 of
    their applied ticks and their cubes' ids, positions and targets after the step; 0 when
    nothing was steered), so a replay that steers a cube elsewhere is caught on that tick.
    It came last, with a default: an entry written before it decodes with None, not compared."""

    v: int
    tick: int
    ops: list[Op]
    seats: dict[int, tuple[int, int, int]]
    steered: int | None = None


class LogGap(Exception):
    """The log does not continue the state (an entry is missing); replay stopped before it."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Entry)


def encode(entry: Entry) -> bytes:
    return _encoder.encode(entry)


def decode(data: bytes) -> Entry:
    entry = _decoder.decode(data)
    if entry.v != LOG_VERSION:
        raise msgspec.ValidationError(f"input log version {entry.v} is not {LOG_VERSION}")
    return entry


def replay(state, entries: list[Entry], now: float) -> int:
    """Play `entries` onto a MatchState (game/sim/match.py) restored from a checkpoint; entries
    at or before its tick are skipped. Returns how many were replayed; LogGap at a missing tick."""
    done = 0
    for entry in entries:
        if entry.tick <= state.world.tick:
            continue
        if entry.tick != state.world.tick + 1:
            raise LogGap(f"the log jumps from tick {state.world.tick} to {entry.tick}")
        play_entry(state, entry, now)
        done += 1
    state.world.take_changes()
    return done


def play_entry(state, entry: Entry, now: float, tick_rules=()) -> list[str]:
    """Play one entry (the next tick) onto the state: its ops in order, one step, the seats'
    numbers as the log gives them. Returns what of it could not have happened on this state
    (empty when the replay is in step with the match that wrote the log): a command the tick
    rules (`tick_rules`, game/sim/rules.py) refuse, a cube placed or removed that is not there,
    a seat made twice or missing, a command its own tick did not acknowledge, cubes moved or
    nudged elsewhere than the entry's check says (entries written before it had none)."""
    problems: list[str] = []
    applied: list[Command] = []
    for op in entry.ops:
        if isinstance(op, Applied):
            cmd = op.cmd
            seat = state.seats.get(cmd.player)
            if seat is None:
                problems.append(f"command {cmd.op} #{cmd.seq} of player {cmd.player}, who has no seat")
                continue
            refusal = next((r for r in (rule(state, seat, cmd, now) for rule in tick_rules) if r), None)
            if refusal is not None:
                problems.append(
                    f"command {cmd.op} #{cmd.seq} of player {cmd.player} is refused: {refusal[1]}"
                )
                continue
            state.apply_logged(cmd)
            applied.append(cmd)
        elif isinstance(op, Seated):
            if op.player in state.seats:
                problems.append(f"player {op.player} seated twice")
            state.seat(op.player, op.nickname, op.color, now)
        elif isinstance(op, Placed):
            if not state.place(op.id, op.x, op.z):
                problems.append(f"cube {op.id} placed but not there")
        elif isinstance(op, Removed):
            if not state.remove(op.id):
                problems.append(f"cube {op.id} removed but not there")
        elif op.player not in state.seats:
            problems.append(f"{type(op).__name__.lower()} of player {op.player}, who has no seat")
        elif isinstance(op, Struck):
            state.strike(op.player)
        elif isinstance(op, Present):
            state.set_online(op.player, op.online)
        else:
            state.bar(op.player)
    state.step()
    for player, (seq, ack, rejected) in entry.seats.items():
        seat = state.seats.get(player)
        if seat is None:
            problems.append(f"seat {player} numbered but not there")
            continue
        seat.seq, seat.ack, seat.rejected = seq, ack, rejected
    for cmd in applied:
        if state.seats[cmd.player].ack < cmd.seq:
            problems.append(f"command #{cmd.seq} of player {cmd.player} applied but not acknowledged")
    mine = state.take_entry()  # what the replay itself recorded is the log's own, already kept
    if entry.steered is not None and mine.steered != entry.steered:
        problems.append(
            f"the cubes moved or nudged on tick {entry.tick} do not end where the log says"
            f" (check {entry.steered:08x}, replayed {mine.steered:08x})"
        )
    return problems


def differences(state, keyframe: dict) -> list[str]:
    """What of a replayed MatchState differs from a keyframe (a checkpoint the live match wrote):
    the tick, the ids handed out, every cube exactly, every seat's numbers and presence. Rate
    state is left out: it is timing, not what the log reproduces."""
    live = state.checkpoint(0.0)
    out = []
    for key in ("tick", "next_id"):
        if live[key] != keyframe[key]:
            out.append(f"{key} {live[key]} != {keyframe[key]}")
    ours = sorted(tuple(e) for e in live["ents"])
    theirs = sorted(tuple(e) for e in keyframe["ents"])
    if ours != theirs:
        gone = sorted(set(theirs) - set(ours))[:3]
        extra = sorted(set(ours) - set(theirs))[:3]
        out.append(f"cubes differ: expected {gone}, replayed {extra}")
    for pid, row in keyframe["seats"].items():
        mine = live["seats"].get(pid)
        numbers = list(row[2:13])  # seq, ack, online, counters, lag state, strikes, kicked
        replayed = list(mine[2:13]) if mine else None
        if replayed != numbers:
            out.append(f"seat {pid}: replayed {replayed}, expected {numbers}")
    return out
