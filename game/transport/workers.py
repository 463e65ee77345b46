"""What the arbiter and the auditor share as Channels worker consumers."""

from __future__ import annotations

import logging

from channels.consumer import AsyncConsumer

from game import messages, metrics
from game.transport.inbox import InboxConsumerMixin

log = logging.getLogger("game.workers")


class WorkerConsumer(InboxConsumerMixin, AsyncConsumer):
    """Typed dispatch that survives its handlers. Each layer message is checked against
    `accepts` (game/messages.py) and handed to `handle` as its Struct; one that does not fit
    is logged and dropped. A raising handler is logged and reported to `handler_failed`,
    never allowed to end the consumer (Channels would throw the instance, and with it its
    channel name, away). Handlers reach the database only off the loop, so Channels'
    per-message thread hop for closing stale connections is skipped. Messages come through
    the inbox loop (game/transport/inbox.py), not a task per message."""

    accepts = messages.Message
    takes_typed = True  # a Struct from this process comes as it is (the layer's `hand`)

    async def dispatch(self, message):
        if isinstance(message, messages.Message):  # handed over typed, within this process
            metrics.count(metrics.LAYER_RECEIVED, type(self).__name__)
            msg = message
        else:
            msg = messages.receive(message, self.accepts, type(self).__name__)
            if msg is None:
                return
        try:
            await self.handle(msg)
        except Exception:
            log.exception(
                "match %s: %s failed in %s",
                getattr(msg, "match", None),
                type(msg).__name__,
                type(self).__name__,
            )
            await self.handler_failed(msg)

    async def handle(self, msg: messages.Message) -> None:
        """Act on one typed message."""
        raise NotImplementedError

    async def handler_failed(self, msg: messages.Message) -> None:
        """Called after `handle` raised; the message is the one it was handling."""
