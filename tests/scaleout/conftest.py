"""The scale-out set-up for real: channels-redis, PostgreSQL, and arbiters in `runworker` processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from .cluster import cluster_db, make_cluster, redis_server, wait_for_arbiter

ROOT = Path(__file__).resolve().parents[2]

# Fixtures of the real-process harness (tests/scaleout/cluster.py), and its ping for older tests.
__all__ = ["cluster_db", "make_cluster", "redis_server", "wait_for_arbiter"]


def pytest_collection_modifyitems(config, items):
    if not settings.REDIS_URL or "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        skip = pytest.mark.skip(
            reason="needs REDIS_URL and a PostgreSQL DATABASE_URL (manage.py test sets them)"
        )
        for item in items:
            if "scaleout" in item.nodeid.split("::")[0].split("/"):
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell a failed test (make_cluster)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def runworker(transactional_db):
    """Start `manage.py runworker arbiter` (or `auditor`) on the test database; stop it afterwards."""
    db = settings.DATABASES["default"]
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    url = f"postgres://{db['USER'] or 'postgres'}@{host}/{connection.settings_dict['NAME']}"
    procs = []

    def start(channel: str = "arbiter"):
        env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "manage.py", "runworker", channel], cwd=ROOT, env=env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(autouse=True)
def flush_redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    yield
