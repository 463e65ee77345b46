"""Small summaries for load-run figures: nearest-rank percentiles over samples in seconds."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank p-th percentile of already sorted values (None when there are none)."""
    if not values:
        return None
    rank = math.ceil(p / 100 * len(values))
    return values[max(0, min(len(values), rank) - 1)]


def ms(seconds: float | None, digits: int = 1) -> float | None:
    return None if seconds is None else round(seconds * 1000, digits)


def summary_ms(samples: Iterable[float], points: tuple[float, ...] = (50, 95, 99)) -> dict:
    """`{"n", "p50", ..., "max"}` in milliseconds for samples in seconds."""
    values = sorted(samples)
    out: dict = {"n": len(values)}
    for p in points:
        out[f"p{p:g}"] = ms(percentile(values, p))
    out["max"] = ms(values[-1]) if values else None
    return out


class LoopLag:
    """How late the bots' own event loop wakes a 10 ms sleeper: high values mean the bots, not
    the server, are the bottleneck."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    async def run(self, period: float = 0.01) -> None:
        while True:
            due = time.monotonic() + period
            await asyncio.sleep(period)
            self.samples.append(max(0.0, time.monotonic() - due))
