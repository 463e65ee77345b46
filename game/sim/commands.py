"""What players ask for, already parsed and range-checked at the edge, and the answers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Command:
    player: int
    seq: int
    tick: int  # the client's estimate of the server tick when it issued the command
    op: str  # spawn | move | nudge | delete
    ids: tuple[int, ...] = ()
    point: tuple[float, float] | None = None  # spawn: at, move: to, nudge: dir
    cid: str | None = None


@dataclass(slots=True, frozen=True)
class Reject:
    player: int
    seq: int
    code: str
    message: str
    retry_ms: int | None = None


@dataclass(slots=True, frozen=True)
class Event:
    """A fact for the match's record (written in batches, off the tick path)."""

    tick: int
    kind: str
    player: int | None
    payload: dict
