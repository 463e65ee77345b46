"""The process that runs arbiters: Channels' Worker, made to survive its dependencies and to
stop gracefully.

- A channel layer that fails (Redis killed or restarting) is retried with backoff: stock
  Channels lets the ConnectionError end the listener, and with it the process.
- The arbiter is live from the worker's start (ArbiterBoot: its stale watch runs), not from
  the first message some socket happens to send it.
- SIGTERM (or SIGINT) stops taking work, hands every match over (ArbiterStop: final
  checkpoint, lease released, sockets told to rejoin), and exits within 10 s. A listener is
  never cancelled in the middle of a receive (a message Redis popped for it would be lost,
  such as a rejoining socket's start request): it finishes the receive it is in, and what it
  got after the stop began goes back on its channel for another worker.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import threading

from channels.worker import Worker
from django.conf import settings

from game.messages import ARBITER_CHANNEL, ArbiterBoot, ArbiterStop, pack
from game.transport.inbox import receive_through_outages

log = logging.getLogger("game.worker")

STOP_WITHIN_S = 4.0  # the hand-off's bound
LISTENER_WAIT_S = 5.0  # a receive in progress ends within channels-redis' 5 s BZPOPMIN
EXIT_WITHIN_S = 9.5


def _exit_now() -> None:
    log.error("stopping: still running %.1f s after the signal; exiting now", EXIT_WITHIN_S)
    logging.shutdown()
    os._exit(0)


class ArenaWorker(Worker):
    # asgiref looks for finished application instances 10 times a second: the largest
    # recurring wake-up of an idle server's loop. Ours are one long-lived consumer per named
    # channel, so once a second is plenty.
    application_checker_interval = 1.0

    def __init__(self, *args, signals: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.signals = signals
        self.stopped = asyncio.Event()  # set by the arbiter when its matches are handed over
        self._listeners: list[asyncio.Task] = []
        self._done = asyncio.Event()  # `handle` (and so the process) ends when it is set
        self.stopping = False
        self.on_handed_over = None  # async callable run once the matches are handed over

    async def handle(self):
        loop = asyncio.get_running_loop()
        if self.signals and settings.METRICS_PORT:  # a runworker process: its own metrics port
            from prometheus_client import start_http_server

            start_http_server(settings.METRICS_PORT, addr="127.0.0.1")
            log.info("metrics on http://127.0.0.1:%d/metrics", settings.METRICS_PORT)
        if self.signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, lambda: loop.create_task(self.stop()))
        if ARBITER_CHANNEL in self.channels:
            queue = self.get_or_create_application_instance(ARBITER_CHANNEL, self._scope(ARBITER_CHANNEL))
            queue.put_nowait(pack(ArbiterBoot()))
        self._listeners = [loop.create_task(self.listener(c)) for c in self.channels]
        try:
            await self._done.wait()
        finally:  # stopped, or cancelled (a test's loop ends): the listeners go with it
            for task in self._listeners:
                task.cancel()

    async def listener(self, channel):
        receive = functools.partial(self.channel_layer.receive, channel)
        while not self.stopping:
            message = await receive_through_outages(receive, f"channel {channel}")  # never exits
            if not isinstance(message, dict) or not message.get("type"):
                continue  # the consumer's typed dispatch logs what it cannot read
            if self.stopping:  # received after the stop began: another worker's to take
                await self.channel_layer.send(channel, message)
                return
            await self.get_or_create_application_instance(channel, self._scope(channel)).put(message)

    def _scope(self, channel: str) -> dict:
        """A channel consumer's ASGI scope; `worker` lets the arbiter say when it has handed over."""
        return dict(type="channel", channel=channel, worker=self)

    async def stop(self) -> None:
        """Stop reading the named channels, hand the matches over, then end `handle`."""
        if self.stopping or not self._listeners:
            return
        self.stopping = True
        log.warning("stopping: no new work; handing matches over")
        # Whatever hangs on the way out (a task that will not cancel, a driver), the process
        # is gone within 10 s of the signal, as orchestrators expect.
        deadline = threading.Timer(EXIT_WITHIN_S, _exit_now)
        deadline.daemon = True
        deadline.start()
        instance = self.application_instances.get(ARBITER_CHANNEL)
        if instance is not None:
            instance["input_queue"].put_nowait(pack(ArbiterStop()))
            try:
                await asyncio.wait_for(self.stopped.wait(), STOP_WITHIN_S)
            except TimeoutError:
                log.error("stopping: matches not all handed over within %.0f s", STOP_WITHIN_S)
        if self.on_handed_over is not None:
            await self.on_handed_over()
        await asyncio.wait(self._listeners, timeout=LISTENER_WAIT_S)
        log.warning("stopped")
        self._done.set()
