"""The arbiter's database lanes: one match's jobs in order, other matches' beside them, and
a job whose caller gave up never commits afterwards."""

import asyncio
import threading
import time

import pytest

from game.records.lane import DeadlinePassed, Lane, check_deadline
from tests.own_loop import in_own_loop

# A lane job looks after its thread's database connection before and after it runs (kept
# from earlier jobs, as the arbiter's are), so these jobs may touch the database's connections.
pytestmark = pytest.mark.django_db(transaction=True)


def job(log: list, name: str, seconds: float = 0.0, gate: threading.Event | None = None):
    def run():
        log.append(("start", name, threading.get_ident()))
        if gate is not None:
            assert gate.wait(5)
        time.sleep(seconds)
        check_deadline()  # where a real job commits
        log.append(("end", name))
        return name

    return run


@in_own_loop
async def test_one_lane_runs_its_jobs_in_order_one_at_a_time():
    log: list = []
    lane = Lane()
    results = await asyncio.gather(*(lane.run(job(log, f"j{i}", 0.02), timeout=5) for i in range(4)))
    assert results == ["j0", "j1", "j2", "j3"]
    assert [(e[0], e[1]) for e in log] == [(k, f"j{i}") for i in range(4) for k in ("start", "end")]


@in_own_loop
async def test_a_slow_job_holds_up_its_own_lane_only():
    log: list = []
    gate = threading.Event()
    slow, other = Lane(), Lane()
    stuck = asyncio.ensure_future(slow.run(job(log, "stuck", gate=gate), timeout=5))
    queued = asyncio.ensure_future(slow.run(job(log, "after stuck"), timeout=5))
    t0 = time.monotonic()
    assert await other.run(job(log, "other match"), timeout=5) == "other match"
    assert time.monotonic() - t0 < 1.0 and not queued.done()
    gate.set()
    assert await stuck == "stuck" and await queued == "after stuck"


@in_own_loop
async def test_a_job_past_its_deadline_rolls_back_and_the_next_waits_for_it():
    log: list = []
    lane = Lane()
    with pytest.raises(TimeoutError):
        await lane.run(job(log, "late", 0.5), timeout=0.1)
    assert await lane.run(job(log, "next"), timeout=5) == "next"
    # "late" started, passed its deadline before committing, and never reached its end;
    # "next" started only after "late" had given up.
    assert [(e[0], e[1]) for e in log] == [("start", "late"), ("start", "next"), ("end", "next")]


def test_check_deadline_raises_once_the_caller_stopped_waiting():
    from game.records import lane as lane_module

    lane_module._local.deadline = time.monotonic() - 1
    with pytest.raises(DeadlinePassed):
        check_deadline()
