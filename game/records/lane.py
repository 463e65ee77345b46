"""Database work of the arbiter, off its dispatch loop: one lane per match on a shared pool.

`database_sync_to_async` runs every call of a process on one thread with no bound, so one
slow call would stall every match of the worker. Here each match's jobs run in order, one
at a time (a flush never overtakes the claim, the finish never overtakes the last flush),
in a pool of threads shared with the other matches, so a slow job holds up its own match's
records only. Every job has a deadline: the caller stops waiting then, PostgreSQL aborts a
statement that runs past it, and a job that would commit after it rolls back instead
(`check_deadline`), so a write the caller gave up on can never land later and be written twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connection

log = logging.getLogger("game.records")

_pool: ThreadPoolExecutor | None = None
_local = threading.local()


class DeadlinePassed(Exception):
    """The job's caller stopped waiting; its transaction rolled back and nothing was written."""


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(settings.ARBITER_DB_THREADS, thread_name_prefix="arbiter-db")
    return _pool


def check_deadline() -> None:
    """Call inside a job's transaction, just before it commits."""
    if time.monotonic() > _local.deadline:
        raise DeadlinePassed("the arbiter stopped waiting for this write")


def _call(fn, args, deadline: float):
    _local.deadline = deadline
    close_old_connections()
    try:
        if time.monotonic() > deadline:
            raise DeadlinePassed("queued past its deadline")
        if connection.vendor == "postgresql":
            _bound_statements(deadline)
        return fn(*args)
    finally:
        close_old_connections()


def _bound_statements(deadline: float) -> None:
    """No statement of the job runs (much) past its deadline: PostgreSQL's statement_timeout.
    The connection keeps what it was set to, so it is set again only on another connection,
    or when what it has is a tenth over the time left or a quarter under: jobs mostly start
    at once with about the same time left, and the SET was one more statement and round
    trip a job. (Past the deadline nothing commits anyway: `check_deadline`.)"""
    left_ms = max(1, int((deadline - time.monotonic()) * 1000))
    connection.ensure_connection()
    raw = connection.connection
    if getattr(_local, "raw", None) is raw and left_ms * 3 // 4 <= _local.timeout_ms <= left_ms * 11 // 10:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {left_ms}")
    _local.raw, _local.timeout_ms = raw, left_ms


class Lane:
    """One match's database jobs, in the order asked, one at a time."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def run(self, fn, *args, timeout: float):
        """fn(*args) in a pool thread after this lane's earlier jobs; TimeoutError after `timeout` s."""
        deadline = time.monotonic() + timeout
        job = asyncio.ensure_future(self._serial(fn, args, deadline))
        job.add_done_callback(_retrieve)
        return await asyncio.wait_for(asyncio.shield(job), timeout)

    async def _serial(self, fn, args, deadline: float):
        async with self._lock:  # held until the thread returns, even when the caller gave up
            return await asyncio.get_running_loop().run_in_executor(pool(), _call, fn, args, deadline)


def _retrieve(job: asyncio.Future) -> None:
    if (
        not job.cancelled()
        and job.exception() is not None
        and not isinstance(job.exception(), DeadlinePassed)
    ):
        log.debug("a database job failed after its caller stopped waiting: %r", job.exception())
