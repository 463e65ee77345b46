"""What players ask for, already parsed and range-checked at the edge, and the answers."""

from __future__ import annotations

from dataclasses import dataclass

from msgspec import Struct


class Command(Struct, frozen=True, array_like=True, gc=False):
    """One command, as the socket parsed it and the rules engine applies it. A msgspec
    Struct, so it crosses the channel layer as itself (a compact array), not as a dict."""

    player: int
    seq: int
    tick: int  # the client's estimate of the server tick when it issued the command
    op: str  # spawn | move | nudge | delete
    ids: tuple[int, ...] = ()
    point: tuple[float, float] | None = None  # spawn: at, move: to, nudge: dir
    cid: str | None = None
    # A formation move (game/sim/formation.py): "box" or "line", and the front's direction
    # 0..7. Last, with defaults, so logs and messages from before them still decode.
    form: str | None = None
    facing: int = 0


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
