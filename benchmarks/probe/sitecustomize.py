"""Loop-stall probe: put this folder on PYTHONPATH of a server process to find what stalls
its event loop. Every asyncio callback and every garbage collection is timed; callbacks over
5 ms and collections over 2 ms are tallied by name and written to $STALL_OUT (default
/tmp/stalls.<pid>.txt) every 5 s and at exit. Costs two clock reads per callback.

    PYTHONPATH=benchmarks/probe STALL_OUT=/tmp/stalls.txt .venv/bin/daphne cubearena.asgi:application

It found the audit batch's deep copy and the full collections (benchmarks/README.md, "Profiles").
"""

import asyncio
import atexit
import collections
import gc
import os
import sys
import threading
import time

OUT = os.environ.get("STALL_OUT", f"/tmp/stalls.{os.getpid()}.txt")
_slow = collections.Counter()
_slow_s = collections.defaultdict(float)
_hist = collections.Counter()
_all = [0, 0.0]
_gcs: list[tuple[int, float, int]] = []
_gc_start = [0.0]
_run = asyncio.events.Handle._run


def _timed(self):
    cb = self._callback  # read before: a handle cancelled while it runs has none after
    t0 = time.perf_counter()
    try:
        return _run(self)
    finally:
        dt = time.perf_counter() - t0
        _all[0] += 1
        _all[1] += dt
        _hist[next(b for b in (50, 20, 10, 5, 1, 0) if dt * 1000 >= b)] += 1
        if dt > 0.005:
            owner = getattr(cb, "__self__", None)
            name = (
                f"task {owner.get_coro()!r}"[:110]
                if isinstance(owner, asyncio.Task)
                else (getattr(cb, "__qualname__", None) or repr(cb)[:110])
            )
            _slow[name] += 1
            _slow_s[name] += dt


def _on_gc(phase, info):
    if phase == "start":
        _gc_start[0] = time.perf_counter()
    else:
        dt = time.perf_counter() - _gc_start[0]
        if dt > 0.002:
            _gcs.append((info["generation"], round(dt * 1000, 1), info.get("collected")))


def _dump():
    with open(OUT, "w") as f:
        f.write(f"{sys.argv[:3]} callbacks {_all[0]:,}, {_all[1]:.2f} s\n")
        f.write(f"callbacks by duration (ms, lower bound): {sorted(_hist.items())}\n")
        for name, n in _slow.most_common(30):
            f.write(f"{n:6d} {_slow_s[name] * 1000:9.1f} ms  {name}\n")
        f.write(f"collections over 2 ms (generation, ms, collected): {len(_gcs)} {_gcs[-30:]}\n")


def _every_5s():
    while True:
        time.sleep(5)
        _dump()


asyncio.events.Handle._run = _timed
gc.callbacks.append(_on_gc)
threading.Thread(target=_every_5s, daemon=True, name="stall-probe").start()
atexit.register(_dump)
