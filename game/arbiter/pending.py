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


@dataclass(slots=True)
class _Sent:
    number: int
    events: int  # how many of state.events, from the front
    presence: dict[int, str]
    counters: dict[int, tuple]
    applied: int  # how many of the applied actions, from the front
    resumed: bool  # it carried the state an adopter resumed from


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
        resumed = self.resumed if log else None
        self.in_flight = _Sent(
            self.flushes, len(state.events), presence, counters, len(self.applied), resumed is not None
        )
        checkpoint = None if final else state.checkpoint(now)
        keyframe = None
        if log and (final or hand_off or self.flushes % KEYFRAME_EVERY_FLUSHES == 1):
            keyframe = checkpoint if checkpoint is not None else state.checkpoint(now)
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
            list(log),
            keyframe,
            resumed,
            overwrite=self.unconfirmed,
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
        return True
