"""cubearena/collector.py, in processes of their own (it changes the collector for good)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMON = """
import gc, sys, threading, time, weakref
from cubearena import collector

class Node:
    pass

def cycle(freed, name):
    a, b = Node(), Node()
    a.other, b.other = b, a  # only a collection frees it
    weakref.finalize(a, freed.append, name)
    gc.collect(1)  # alive through the young collections: now in the oldest generation
    gc.collect(1)
    return [a, b]

def fulls():
    return gc.get_stats()[2]["collections"]

def until(condition, what, bound=20.0):
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)
"""

SCHEDULE = (
    COMMON
    + """
collector.install(full_every_s=0.3, thaw_every_s=8.0)
collector.install(full_every_s=0.3, thaw_every_s=8.0)  # idempotent: one thread
started = time.monotonic()
assert gc.get_threshold()[2] == collector.NEVER
assert [t.name for t in threading.enumerate()].count("full gc") == 1
frozen_at_start = gc.get_freeze_count()
assert frozen_at_start > 0  # what was loaded

freed = []
cycle(freed, "new")
young = gc.get_stats()[0]["collections"]
seen = fulls()
kept = [[] for _ in range(20_000)]  # young collections, none of them full
assert gc.get_stats()[0]["collections"] > young + 10
until(lambda: "new" in freed, "the scheduled full collection did not free a new cycle")

# What survives a scheduled collection is frozen: its cycles wait for the thaw.
held = cycle(freed, "old")  # alive through a scheduled collection, then garbage
mark = fulls()
until(lambda: fulls() >= mark + 2, "no scheduled collection")
assert gc.get_freeze_count() > frozen_at_start
del kept, held
mark = fulls()
until(lambda: fulls() >= mark + 2, "no scheduled collection")
assert "old" not in freed, "a frozen cycle was collected before the thaw"
assert time.monotonic() - started < 8.0, "too slow to tell the thaw from the schedule"
until(lambda: "old" in freed, "the thaw did not free a frozen cycle")
print("ok")
"""
)

GROWTH = (
    COMMON
    + """
collector.install(full_every_s=600.0, thaw_every_s=600.0)  # neither comes in this test
freed = []
cycle(freed, "new")
time.sleep(1.0)  # a few looks of the thread: no growth, no collection
assert not freed
grown = [[] for _ in range(int(sys.getallocatedblocks() * (collector.GROWTH + 0.1)))]
until(lambda: "new" in freed, "growth did not start a full collection")
print("ok")
"""
)


THAW_ON_GROWTH = (
    COMMON
    + """
collector.install(full_every_s=0.3, thaw_every_s=600.0)  # no thaw on the clock in this test
freed = []
held = cycle(freed, "old")  # alive through a scheduled collection, then garbage, frozen
mark = fulls()
until(lambda: fulls() >= mark + 2, "no scheduled collection")
del held
mark = fulls()
until(lambda: fulls() >= mark + 2, "no scheduled collection")
assert "old" not in freed, "a frozen cycle was collected before any thaw"
# Memory in use doubles (what frozen cycles could hold grows with it): a thaw comes at once.
grown = [[] for _ in range(int(sys.getallocatedblocks() * (collector.THAW_GROWTH + 0.2)))]
until(lambda: "old" in freed, "doubled memory did not thaw")
print("ok")
"""
)


def run(program: str) -> None:
    cmd = [sys.executable, "-c", program]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_full_collections_on_a_schedule_freeze_survivors_and_thaw():
    run(SCHEDULE)


def test_memory_growth_starts_a_full_collection():
    run(GROWTH)


def test_doubled_memory_thaws_at_once():
    run(THAW_ON_GROWTH)
