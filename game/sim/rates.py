"""Rate limits as plain objects; the caller passes the time, so tests need no clock."""

from __future__ import annotations

from collections import deque


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; one token per message."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float, now: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), now

    def take(self, now: float) -> int:
        """0 if a token was taken, else the milliseconds until one is due."""
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, int((1 - self.tokens) / self.rate * 1000 + 0.999))


class SlidingWindow:
    """At most `limit` events in any `window` seconds."""

    __slots__ = ("limit", "window", "times")

    def __init__(self, limit: int, window: float = 1.0):
        self.limit, self.window = limit, window
        self.times: deque[float] = deque()

    def take(self, now: float) -> int:
        """0 if the event fits, else the milliseconds until it would."""
        while self.times and now - self.times[0] >= self.window:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return max(1, int((self.window - (now - self.times[0])) * 1000 + 0.999))
        self.times.append(now)
        return 0
