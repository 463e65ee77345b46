"""What a match owes its records: events, changed seat counters, presence and applied
operator actions, until a flush has written them.

A flush takes a copy (`batch`), and only its success (`settle`) drops what it wrote, so a
failed or timed-out write loses nothing: the next flush carries it again. Everything here
runs on the arbiter's dispatch loop, except after the match is disposed, when its closing
task is the only one left touching it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from game.records.flush import FlushBatch, SeatRecord
from game.sim.match import MatchState

KEYFRAME_EVERY_FLUSHES = 30  # a log chunk carries the state it ends at this often (and last)
# The match record's checkpoint is rewritten once this many flushes (seconds) have passed since
# the last one written, and at a hand-off. It is the whole world (200 players: ~200 kB of JSON),
# and written every second it was most of the database's CPU and WAL for a match; an adopter
# replays the input log since it (the tail the store keeps, up to this many seconds of ticks),
# while every flush still writes its chunk of the log with the digest of the state it ends at.
CHECKPOINT_EVERY_FLUSHES = 5


@dataclass(slots=True)
class _Sent:
    number: int
    events: int  # how many of state.events, from the front
    presence: dict[int, str]
    counters: dict[int, tuple]
    applied: int  # how many of the applied actions, from the front
    resumed: bool  # it carried the state an adopter resumed from
    checkpoint: bool  # it rewrote the match record's checkpoint
    log_to: int  # the last tick of the log chunk it wrote (or the one before, if none)


@dataclass(slots=True)
class PendingRecords:
    match_id: str
    epoch: int  # the ownership's fencing token: every write names it
    presence: dict[int, str] = field(default_factory=dict)  # seats whose online flag changed: "joined"/"left"
    written: dict[int, tuple] = field(default_factory=dict)  # counters as last written, per seat
    applied: list[tuple[int, str]] = field(default_factory=list)  # operator actions carried out: (id, result)
    seen_actions: set[int] = field(default_factory=set)  # never carry out an action twice
    resumed: dict | None = None  # adopted: the state resumed from, until a log chunk has carried it
    in_flight: _Sent | None = None
    flushes: int = 0
    # The last flush's commit was not confirmed (or none came back yet, as for an adopter's
    # first): the next log chunk may overlap one it wrote, and replaces it.
    unconfirmed: bool = True
    logged: int = 0  # the last tick a confirmed log chunk holds: the next chunk starts after it
    checkpointed: int | None = None  # the number of the last flush whose checkpoint was written

    def batch(
        self,
        state: MatchState,
        tick_lag: dict | None,
        now: float,
        final=False,
        hand_off=False,
        log: list[tuple[int, bytes]] = (),
    ) -> FlushBatch:
        """A copy of everything owed now; the match goes on changing while it is written.
        Taken between an input log entry and the next op, so the checkpoint is exactly the
        state the log's later entries continue (game/sim/inputlog.py)."""
        self.flushes += 1
        seats, counters, presence = [], {}, {}
        for seat in state.seats.values():
            values = (seat.ack, seat.spawned, seat.deleted, seat.moves, seat.rejected, seat.kicked)
            changed = self.presence.get(seat.player)
            if changed is None and self.written.get(seat.player) == values:
                continue
            counters[seat.player] = values
            if changed is not None:
                presence[seat.player] = changed
            seats.append(SeatRecord(seat.player, changed, *values))
        log = [(t, d) for t, d in log if t > self.logged]  # the tail may reach back to the checkpoint
        resumed = self.resumed if log else None
        ends_at = state.checkpoint(now) if log or not final else None
        due = self.checkpointed is None or self.flushes - self.checkpointed >= CHECKPOINT_EVERY_FLUSHES
        checkpoint = ends_at if not final and (due or hand_off) else None
        self.in_flight = _Sent(
            self.flushes,
            len(state.events),
            presence,
            counters,
            len(self.applied),
            resumed is not None,
            checkpoint is not None,
            log[-1][0] if log else self.logged,
        )
        keyframe = None
        if log and (final or hand_off or self.flushes % KEYFRAME_EVERY_FLUSHES == 1):
            keyframe = ends_at
        return FlushBatch(
            self.match_id,
            self.epoch,
            state.world.tick,
            checkpoint,
            list(state.events),
            seats,
            tick_lag,
            list(self.applied),
            hand_off,
            log,
            keyframe,
            resumed,
            overwrite=self.unconfirmed,
            ends_at=ends_at,
        )

    def settle(self, state: MatchState, number: int, ok: bool) -> bool:
        """A flush came back: on success drop what it wrote. False if it was not the one out."""
        sent = self.in_flight
        if sent is None or sent.number != number:
            return False
        self.in_flight = None
        self.unconfirmed = not ok
        if ok:
            del state.events[: sent.events]
            for player, value in sent.presence.items():
                if self.presence.get(player) == value:  # not changed again meanwhile
                    del self.presence[player]
            self.written.update(sent.counters)
            del self.applied[: sent.applied]
            if sent.resumed:
                self.resumed = None
            self.logged = sent.log_to
            if sent.checkpoint:
                self.checkpointed = sent.number
        return True
