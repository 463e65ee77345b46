"""The garbage collector's schedule in a server process.

A full (generation 2) collection walks every object the game holds. At 400 players the
collector's own schedule ran one every few seconds, 22-45 ms each with the loop stopped
(the stall probe, benchmarks/probe): two or three late ticks in every ten seconds. Here:
- what is loaded at start (Django, Channels, Twisted, the app) is frozen, out of the
  collector's sight for good: it lives as long as the process;
- the collector's own full collections are switched off, and one runs every FULL_EVERY_S
  from a thread instead: at most one late tick in any ten seconds. In steady play at 400
  players one takes 29-39 ms (~90,000 objects, none of them garbage); the first after a burst
  of joins also frees what the joins left in cycles (82-149 ms for ~40,000 objects). The
  young generations are collected as before (a few ms at most).
"""

from __future__ import annotations

import gc
import threading
import time

FULL_EVERY_S = 15.0
NEVER = 1 << 30  # a threshold the collector's generation-2 count never reaches


def install(full_every_s: float = FULL_EVERY_S) -> None:
    """Freeze what is loaded, and take full collections off the collector's own schedule (idempotent)."""
    gc.freeze()
    young, middle, full = gc.get_threshold()
    if full == NEVER:
        return
    gc.set_threshold(young, middle, NEVER)
    thread = threading.Thread(target=_collect_every, args=(full_every_s,), daemon=True, name="full gc")
    thread.start()


def _collect_every(seconds: float) -> None:
    while True:
        time.sleep(seconds)
        gc.collect()
