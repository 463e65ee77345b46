"""Tick lag: how late a tick's snapshot leaves the arbiter after the tick fell due.

Kept as a sparse histogram in 1 ms buckets, cumulative since the arbiter took the match, so
a reader can subtract two readings and get exact percentiles for the window between them
(the load bots do, see loadbots/load.py). Plain Python, no Django.
"""

from __future__ import annotations


class TickLag:
    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}

    def add(self, seconds: float) -> None:
        ms = max(0, int(seconds * 1000))
        self.buckets[ms] = self.buckets.get(ms, 0) + 1

    def as_json(self) -> dict[str, int]:
        return {str(ms): n for ms, n in self.buckets.items()}


def since(later: dict | None, earlier: dict | None) -> dict[int, int]:
    """The ticks between two readings (as_json dicts): later minus earlier, per bucket."""
    later, earlier = later or {}, earlier or {}
    out = {int(ms): n - earlier.get(ms, 0) for ms, n in later.items()}
    return {ms: n for ms, n in out.items() if n > 0}


def summary(hist: dict) -> dict | None:
    """p50, p99 and max in ms (a bucket's upper edge) and the count; None when empty."""
    pairs = sorted((int(ms), n) for ms, n in hist.items())
    total = sum(n for _, n in pairs)
    if not total:
        return None

    def pct(p: float) -> int:
        rank, seen = p / 100 * total, 0
        for ms, n in pairs:
            seen += n
            if seen >= rank:
                return ms + 1
        return pairs[-1][0] + 1

    return {"p50_ms": pct(50), "p99_ms": pct(99), "max_ms": pairs[-1][0] + 1, "ticks": total}
