"""Running an async test on a loop of its own."""

import asyncio
import concurrent.futures
import functools


def run_async(coro):
    """asyncio.run(coro) on a thread of its own (see in_own_loop), for sync tests."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def in_own_loop(test):
    """Run an async test on a fresh loop in a thread. Playwright's sync API (tests/browser)
    keeps a loop marked running in the main thread for the whole session; plain async tests
    collected after it failed with "Runner.run() cannot be called from a running event loop"."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, test(*args, **kwargs)).result()

    return run
