"""A player's seat in a match: who they are, their rates, counters and standing."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .rates import SlidingWindow, TokenBucket


@dataclass(slots=True)
class Seat:
    player: int
    nickname: str
    color: str
    bucket: TokenBucket
    spawns: SlidingWindow
    online: bool = False
    seq: int = 0  # highest seq received (refused ones use up their number too)
    ack: int = 0  # highest seq processed, as snapshots acknowledge it
    spawned: int = 0
    deleted: int = 0
    moves: int = 0
    rejected: int = 0
    applied_tick: int = 0  # the tick its last move or nudge was applied as of
    lag_clamped: int = 0  # tick claims outside the lag-compensation window
    strikes: int = 0  # warnings from the auditor
    kicked: bool = False
    rtt_ms: deque = field(default_factory=lambda: deque(maxlen=10))  # measured by server pings

    def public(self, cubes: int) -> dict:
        return {
            "id": self.player,
            "nickname": self.nickname,
            "color": self.color,
            "online": self.online,
            "cubes": cubes,
        }
