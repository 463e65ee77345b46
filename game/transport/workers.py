"""What the arbiter and the auditor share as Channels worker consumers."""

from __future__ import annotations

import logging

from channels.consumer import AsyncConsumer, get_handler_name

from game.transport.inbox import InboxConsumerMixin

log = logging.getLogger("game.transport.workers")


class WorkerConsumer(InboxConsumerMixin, AsyncConsumer):
    """Dispatch that survives its handlers: a raising handler is logged and reported to
    `handler_failed`, never allowed to end the consumer (Channels would throw the instance,
    and with it its channel name, away). Handlers reach the database only through
    database_sync_to_async, which closes stale connections itself, so Channels' per-message
    thread hop for that is skipped. Messages come through the inbox loop (game/inbox.py), not
    a task per message: the arbiter takes every command and tick of its matches."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            log.warning("%s: no handler for %r", type(self).__name__, message.get("type"))
            return
        try:
            await handler(message)
        except Exception:
            log.exception("match %s: %s failed in %s", message.get("match"), message.get("type"), type(self).__name__)
            await self.handler_failed(message)

    async def handler_failed(self, message) -> None:
        """Called after a handler raised; the message is the one it was handling."""
