"""A drift-corrected periodic clock, shared by the arbiter and the bare benchmark baseline.

No Django: benchmarks/baseline_server.py ticks with it too, so the two compare like for like.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

STALL_INTERVALS = 5  # behind by more than this many intervals: skip ahead rather than burst


async def every(rate: float, on_due: Callable[[float], Awaitable[None]], phase: float | None = None) -> None:
    """Await `on_due(due)` `rate` times a second until cancelled. Each due time follows the
    last by exactly one interval (no drift from how long `on_due` took); after a stall the
    schedule restarts from now instead of firing the missed calls back to back. `on_due`
    handles its own errors: one that escapes stops the clock.

    With a `phase` (a fraction of the interval), due times lie on a grid of the loop's clock,
    `phase` into each interval: clocks of one rate and phase in a process fire in the same
    turn of its loop (so their ticks' writes to a store can share one round trip)."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    now = loop.time()
    offset = now if phase is None else phase % 1.0 * interval
    k = _next(now, interval, offset)
    while True:
        due = k * interval + offset  # from an integer count: equal grids give equal due times
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await on_due(due)
        k += 1
        if loop.time() - (k * interval + offset) > STALL_INTERVALS * interval:
            k = _next(loop.time(), interval, offset)


def _next(now: float, interval: float, offset: float) -> int:
    """The count of the first due time after `now`, at least half an interval away."""
    k = math.floor((now - offset) / interval) + 1
    return k if k * interval + offset - now >= interval / 2 else k + 1
