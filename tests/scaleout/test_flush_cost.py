"""benchmarks/flush_cost.py runs on a database of its own and prints a figure per size."""

import subprocess
import sys

from django.conf import settings

from cubearena.test_runner import ROOT


def test_it_measures_a_flush_and_drops_its_database():
    db = settings.DATABASES["default"]
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    out = subprocess.run(
        [sys.executable, "benchmarks/flush_cost.py", "--players", "2", "--flushes", "10", "--postgres", base],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    players, flushes, pg_ms, thread_ms, trips, wal_kb, checkpoint_kb = out.stdout.splitlines()[1].split()
    assert (players, flushes) == ("2", "10")
    assert float(thread_ms) > 0 and float(wal_kb) > 0 and float(checkpoint_kb) > 0
    assert 1 <= float(trips) <= 3  # the transaction's start, its one pipeline, its commit
    exists = "SELECT 1 FROM pg_database WHERE datname = 'cubearena_flush_cost'"
    left = subprocess.run(
        ["psql", f"{base}/postgres", "-tAc", exists],
        capture_output=True,
        text=True,
    )
    assert left.stdout.strip() == ""
