"""game/arbiter/clock.py: due times one interval apart, and a stall skipped rather than burst."""

import asyncio
import time

from game.arbiter import clock
from tests.own_loop import in_own_loop


@in_own_loop
async def test_due_times_follow_each_other_by_one_interval_and_a_stall_is_skipped():
    dues: list[float] = []
    loop = asyncio.get_running_loop()
    stalled_until = None

    async def on_due(due: float) -> None:
        nonlocal stalled_until
        dues.append(due)
        if len(dues) == 3:
            time.sleep(0.5)  # blocks the loop for 10 intervals
            stalled_until = loop.time()
        if len(dues) == 5:
            raise asyncio.CancelledError

    try:
        await clock.every(20, on_due)
    except asyncio.CancelledError:
        pass
    assert [round(b - a, 9) for a, b in zip(dues[:3], dues[1:3])] == [0.05, 0.05]
    # after the stall: from now on, not the nine missed calls back to back
    assert dues[3] > stalled_until and round(dues[4] - dues[3], 9) == 0.05


@in_own_loop
async def test_clocks_of_one_rate_and_phase_fire_together_on_their_grid():
    loop = asyncio.get_running_loop()
    dues: dict[str, list[float]] = {"a": [], "b": []}

    def clock_of(name: str):
        async def on_due(due: float) -> None:
            dues[name].append(due)
            if len(dues[name]) == 3:
                raise asyncio.CancelledError

        return on_due

    a = asyncio.ensure_future(clock.every(20, clock_of("a"), 0.25))
    await asyncio.sleep(0.013)  # started at another moment, on the same grid
    b = asyncio.ensure_future(clock.every(20, clock_of("b"), 0.25))
    await asyncio.wait([a, b], timeout=5)
    common = sorted(set(dues["a"]) & set(dues["b"]))
    assert len(common) >= 2, dues
    for due in common:
        assert abs((due / 0.05) % 1.0 - 0.25) < 1e-6 or abs((due / 0.05) % 1.0 - 0.25) > 1 - 1e-6
    assert loop.time() >= common[-1]
