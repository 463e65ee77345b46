"""The arbiter's database lanes on PostgreSQL (game/records/lane.py): no statement outlives
its job's deadline by much, and that bound is set once for jobs that start with about the
same time left, not once a job."""

import time

import pytest
from django.db import OperationalError, connection

from game.records import lane

pytestmark = pytest.mark.django_db(transaction=True)


def _run(fn, seconds_left: float, sets: list):
    def count(execute, sql, params, many, context):
        if sql.startswith("SET statement_timeout"):
            sets.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        return lane._call(fn, (), time.monotonic() + seconds_left)


def _timeout_ms() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        return int(cursor.fetchone()[0])


def _sleep(seconds: float):
    def job():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [seconds])

    return job


def test_a_statement_past_the_jobs_deadline_is_aborted():
    sets: list = []
    started = time.monotonic()
    with pytest.raises(OperationalError, match="statement timeout"):
        _run(_sleep(5), 0.3, sets)
    assert time.monotonic() - started < 3, "the statement ran past its job's deadline"
    assert len(sets) == 1


def test_the_bound_is_set_again_only_when_the_time_left_differs():
    sets: list = []
    assert _run(_timeout_ms, 10, sets) == pytest.approx(10_000, abs=200)
    assert _run(_timeout_ms, 10, sets) == pytest.approx(10_000, abs=200)
    assert _run(_timeout_ms, 9.8, sets) == pytest.approx(10_000, abs=200)
    assert len(sets) == 1, sets  # one SET for three jobs with about the same time left
    assert _run(_timeout_ms, 2, sets) == pytest.approx(2_000, abs=200)  # a job with less left
    assert _run(_timeout_ms, 10, sets) == pytest.approx(10_000, abs=200)  # and with more again
    assert len(sets) == 3, sets
