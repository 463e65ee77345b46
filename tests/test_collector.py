"""cubearena/collector.py, in a process of its own (it changes the collector for good)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """
import gc, time, weakref
from cubearena import collector

class Node:
    pass

loaded = Node()  # loaded before install: frozen, out of the collector's sight
started = time.monotonic()
collector.install(full_every_s=2.0)
collector.install(full_every_s=2.0)  # idempotent: one thread
assert gc.get_threshold()[2] == collector.NEVER
assert gc.get_freeze_count() > 0
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle: only a collection frees it
freed = []
weakref.finalize(a, freed.append, True)
gc.collect(1)  # alive through the young collections: now in the oldest generation
gc.collect(1)
del a, b  # garbage there: only a full collection frees it
fulls = gc.get_stats()[2]["collections"]
young = gc.get_stats()[0]["collections"]
kept = [[] for _ in range(200_000)]  # plenty of young collections, no full one of the collector's own
assert gc.get_stats()[0]["collections"] > young + 100
assert time.monotonic() - started < 2.0, "too slow to tell the schedule's collection from the collector's"
assert not freed and gc.get_stats()[2]["collections"] == fulls
del kept
deadline = time.monotonic() + 10
while not freed and time.monotonic() < deadline:
    time.sleep(0.05)
assert freed, "the periodic full collection did not run"
import threading
assert [t.name for t in threading.enumerate()].count("full gc") == 1
print("ok")
"""


def test_full_collections_run_on_their_own_schedule_and_free_cycles():
    out = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
