"""A drift-corrected periodic clock, shared by the arbiter and the bare benchmark baseline.

No Django: benchmarks/baseline_server.py ticks with it too, so the two compare like for like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

STALL_INTERVALS = 5  # behind by more than this many intervals: skip ahead rather than burst


async def every(rate: float, on_due: Callable[[float], Awaitable[None]]) -> None:
    """Await `on_due(due)` `rate` times a second until cancelled. Each due time follows the
    last by exactly one interval (no drift from how long `on_due` took); after a stall the
    schedule restarts from now instead of firing the missed calls back to back. `on_due`
    handles its own errors: one that escapes stops the clock."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    due = loop.time() + interval
    while True:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await on_due(due)
        due += interval
        if loop.time() - due > STALL_INTERVALS * interval:
            due = loop.time() + interval
