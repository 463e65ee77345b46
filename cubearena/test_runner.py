"""`manage.py test`: every suite, each in its own process, with one closing line.

0. ruff's lint and format checks (one test each);
1. the main pytest suite (embedded default: SQLite, in-memory layer, in-process arbiter,
   plus browser tests that start their own servers);
2. the scale-out suite against Redis and PostgreSQL with `runworker` arbiters;
3. the JavaScript unit tests and shared vectors with `node --test` (the vectors are
   committed; `python -m tests.vectors.generate` rewrites them, and suite 1 checks they
   are what the Python simulation produces).
Suites need their own processes because settings are read from the environment at start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def scaleout_env() -> dict[str, str]:
    """The scale-out suite's environment: settings.TEST_REDIS_URL and TEST_DATABASE_URL."""
    return {
        "REDIS_URL": settings.TEST_REDIS_URL,
        "DATABASE_URL": settings.TEST_DATABASE_URL,
        "CHANNEL_PREFIX": f"cubearena-test-{os.getpid()}",
    }


def _run(title: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, int, int]:
    """Run one suite, streaming its output; (exit code, passed, failed) from its closing lines."""
    print(f"\n=== {title}: {' '.join(argv)}", flush=True)
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    passed = failed = 0
    for line in proc.stdout:
        sys.stdout.write(line)
        if m := re.search(r"(\d+) passed", line):
            passed = int(m.group(1))
        if m := re.search(r"(\d+) (failed|errors?)\b", line):
            failed += int(m.group(1))
        if m := re.match(r"# pass (\d+)", line):
            passed = int(m.group(1))
        if m := re.match(r"# fail (\d+)", line):
            failed = int(m.group(1))
    code = proc.wait()
    if code != 0 and failed == 0:
        failed = 1  # crashed or collected nothing: count it, never pass silently
    return code, passed, failed


def _lint() -> list[tuple[int, int, int]]:
    """ruff's lint and format checks, each counted as one test."""
    results = []
    for title, argv in (("lint", ["check", "."]), ("format", ["format", "--check", "."])):
        print(f"\n=== {title}: ruff {' '.join(argv)}", flush=True)
        code = subprocess.run([sys.executable, "-m", "ruff", *argv], cwd=ROOT).returncode
        results.append((code, int(code == 0), int(code != 0)))
    return results


class PytestRunner:
    """Django's TEST_RUNNER protocol, handing the work to pytest and node."""

    def __init__(self, verbosity=1, failfast=False, keepdb=False, **kwargs):
        self.verbosity, self.failfast = verbosity, failfast

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--skip-scaleout", action="store_true", help="skip the Redis + PostgreSQL suite")

    def run_tests(self, test_labels, **kwargs):
        py = [sys.executable, "-m", "pytest", "-q" if self.verbosity < 2 else "-v"]
        if self.failfast:
            py.append("-x")
        if test_labels:  # e.g. `manage.py test tests/sim`: just those, in the default set-up
            results = [_run("pytest", py + list(test_labels))]
        else:
            results = _lint()
            results.append(_run("main suite", py + ["tests", "--ignore=tests/scaleout"]))
            if not kwargs.get("skip_scaleout"):
                title = "scale-out suite (Redis + PostgreSQL)"
                results.append(_run(title, py + ["tests/scaleout"], scaleout_env()))
            node = shutil.which("node")
            if node:
                results.append(_run("javascript", [node, "--test", "tests/js/"]))
            else:
                print("node not found: the JavaScript suite did not run", flush=True)
                results.append((1, 0, 1))
        passed = sum(r[1] for r in results)
        failed = sum(r[2] for r in results)
        print(f"\ntotal: {passed} passed, {failed} failed", flush=True)
        return failed
