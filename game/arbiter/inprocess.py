"""The embedded default: run the arbiter worker on the ASGI server's own event loop.

Daphne has no ASGI lifespan: the worker starts as soon as the server's reactor runs
(`start_with_server`), so its stale watch adopts what a crashed predecessor left running
before any socket asks; and on first use where no reactor runs (tests), and again if the
loop it ran on is gone (each test has its own loop).
"""

from __future__ import annotations

import asyncio
import sys

from channels.layers import get_channel_layer
from channels.routing import ChannelNameRouter
from django.conf import settings

_task: asyncio.Task | None = None
_worker = None


def ensure_arbiter() -> None:
    """Start the in-process arbiter on the running loop unless one runs there already."""
    global _task, _worker
    if not settings.ARBITER_IN_PROCESS:
        return
    loop = asyncio.get_running_loop()
    if _task is not None and not _task.done() and _task.get_loop() is loop:
        return
    from game.arbiter.routes import channel_routes
    from game.arbiter.worker import ArenaWorker

    # No signal handlers: the ASGI server owns the process's signals.
    _worker = ArenaWorker(
        ChannelNameRouter(channel_routes), served_channels(), get_channel_layer(), signals=False
    )
    _worker.on_handed_over = _close_sockets
    _task = loop.create_task(_worker.arun(), name="in-process arbiter")


def served_channels() -> list[str]:
    """The named channels the in-process worker reads. Embedded it is the only worker, so it
    reviews too; scaled out the reviews are the `runworker auditor` processes' (below the
    ticks' priority, game/arbiter/auditor.py): a server taking them would unpack a second of
    its matches' play on the loop its sockets and ticks share."""
    from game.arbiter.routes import channel_routes
    from game.messages import ARBITER_CHANNEL

    return [ARBITER_CHANNEL] if settings.REDIS_URL else list(channel_routes)


def local_arbiter() -> str | None:
    """The channel of the arbiter running on this loop, once it is live: sockets start (or
    adopt) their match here, so a match's players and its arbiter share a process. None
    without an in-process arbiter (sockets then ask `arbiter`, any worker)."""
    if not settings.ARBITER_IN_PROCESS:
        return None
    from game.arbiter.consumer import LOCAL

    return LOCAL.get(asyncio.get_running_loop())


def start_with_server() -> None:
    """Under Daphne (runserver too), start the worker once the reactor's asyncio loop runs."""
    if not settings.ARBITER_IN_PROCESS or "twisted.internet.reactor" not in sys.modules:
        return  # not under Daphne (which installs its reactor before it loads the application)
    from twisted.internet import reactor

    # Startup triggers fire before the asyncio loop runs; callLater(0) runs inside it.
    reactor.callWhenRunning(lambda: reactor.callLater(0, ensure_arbiter))
    if settings.REDIS_URL:  # scaled out: on SIGTERM, hand the matches over before the loop stops
        reactor.addSystemEventTrigger("before", "shutdown", _hand_over)


async def _close_sockets() -> None:
    """The server is stopping and its matches are handed over: close its sockets now (1012,
    service restart), so browsers ask where their match is and reconnect there at once,
    not when the server finally exits."""
    from game.edge import fanout

    fanout.local().close_all(1012, "the server is restarting; reconnecting")


def _hand_over():
    """Daphne is stopping (SIGTERM): the worker hands every match over (final checkpoint, lease
    released, sockets told to rejoin elsewhere) before the reactor stops; bounded by its stop."""
    from twisted.internet.defer import Deferred

    if _worker is None or _task is None or _task.done():
        return None
    return Deferred.fromFuture(asyncio.ensure_future(_worker.stop()))


async def stop_arbiter() -> None:
    """Stop the in-process worker and forget its matches (tests call this between loops)."""
    global _task, _worker
    from game.arbiter.consumer import ASIDE, CLAIMS, RUNTIMES
    from game.transport import match_store

    match_store._memory = None  # the next loop starts with no leases or logs
    for runtime in list(RUNTIMES.values()):
        for task in [*runtime._tasks, runtime._flush_task, runtime._review_task]:
            if task is not None:
                task.cancel()
    RUNTIMES.clear()
    CLAIMS.clear()
    ASIDE.clear()
    pending = [_task] if _task is not None else []
    if _worker is not None:
        pending += [d["future"] for d in _worker.application_instances.values()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    _task = _worker = None
