"""The garbage collector's schedule in a server process.

A full (generation 2) collection walks every object the game holds. At 400 players the
collector's own schedule ran one every few seconds, 22-45 ms each with the loop stopped
(the stall probe, benchmarks/probe): two or three late ticks in every ten seconds. Here:
- what is loaded at start (Django, Channels, Twisted, the app) is frozen, out of the
  collector's sight: it lives as long as the process;
- the collector's own full collections are switched off: at 400 players a full collection
  of the live game took 29-68 ms (~90,000 objects, none of them garbage), a late tick every
  time. Instead a thread collects every FULL_EVERY_S, and freezes what survives: the next
  looks only at what is newer (a few ms). Cycles among frozen objects (a socket that left)
  wait for the thaw, every THAW_EVERY_S, or sooner once memory in use doubled since the
  last (THAW_GROWTH): one full collection of everything, so what they hold is bounded by
  those minutes of departures and by the heap;
- a burst of joins leaves many objects in cycles; the thread also collects as soon as the
  memory in use grew by GROWTH since its last collection (CPython's own rule for its oldest
  generation counts objects; this reads the allocator's block count, which costs
  microseconds): during the burst, in several smaller collections.
The young generations are collected as before (a few ms at most).
"""

from __future__ import annotations

import gc
import sys
import threading
import time

FULL_EVERY_S = 15.0
THAW_EVERY_S = 600.0
GROWTH = 0.25  # blocks in use over those after the last full collection: collect now
THAW_GROWTH = 1.0  # blocks in use over those after the last thaw: thaw now
LOOK_EVERY_S = 0.5
NEVER = 1 << 30  # a threshold the collector's generation-2 count never reaches


def install(full_every_s: float = FULL_EVERY_S, thaw_every_s: float = THAW_EVERY_S) -> None:
    """Freeze what is loaded, and take full collections off the collector's own schedule (idempotent)."""
    gc.freeze()
    young, middle, full = gc.get_threshold()
    if full == NEVER:
        return
    gc.set_threshold(young, middle, NEVER)
    every = (full_every_s, thaw_every_s)
    thread = threading.Thread(target=_collect_every, args=every, daemon=True, name="full gc")
    thread.start()


def _collect_every(seconds: float, thaw_every_s: float) -> None:
    last = thawed = time.monotonic()
    base = thawed_base = sys.getallocatedblocks()
    while True:
        time.sleep(min(LOOK_EVERY_S, seconds))
        now, blocks = time.monotonic(), sys.getallocatedblocks()
        thaw = now - thawed >= thaw_every_s or blocks > thawed_base * (1 + THAW_GROWTH)
        if thaw:
            gc.unfreeze()  # this collection looks at everything
        elif now - last < seconds and blocks <= base * (1 + GROWTH):
            continue
        gc.collect()
        gc.freeze()
        last, base = time.monotonic(), sys.getallocatedblocks()
        if thaw:
            thawed, thawed_base = last, base
