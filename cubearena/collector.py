"""The garbage collector's schedule in a server process.

A full (generation 2) collection walks every object the game holds: at 400 players, 20-45 ms
in one piece, every few seconds, with the loop stopped (the stall probe, benchmarks/probe).
Each is a late tick. Here:
- what is loaded at start (Django, Channels, Twisted, the app) is frozen, out of the
  collector's sight for good: it lives as long as the process;
- the collector's own full collections are switched off, and one runs every FULL_EVERY_S
  from a thread instead: one late tick a minute rather than one every few seconds. The young
  generations are collected as before (a few ms at most). What a full collection frees (cyclic
  garbage that outlived two young collections) waits up to a minute longer for it.
"""

from __future__ import annotations

import gc
import threading
import time

FULL_EVERY_S = 60.0
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
