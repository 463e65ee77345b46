"""A leaner dispatch loop for consumers that handle many small messages (the match socket).

Channels' `await_many_dispatch` makes a new task per received message and waits on all
sources with asyncio.wait; at a 20 Hz broadcast to hundreds of sockets that churn was a
large share of the server's time. Here each source (the socket, the consumer's channel,
the broadcast layer when it is separate) gets one long-lived pump task feeding one bounded
inbox, and one loop dispatches from it, in arrival order, one message at a time. A layer
that can (`adopt`) delivers the consumer's channel straight into the inbox: the in-memory
layer everything, with no pump at all (game/layers.py); the Redis one what this process
sends, beside the pump for what comes through Redis (game/redis_layer.py). Inbox items are
(expiry, message), as in the in-memory layer's queues.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
import weakref

from channels.exceptions import ChannelFull, StopConsumer
from channels.layers import get_channel_layer

from game import metrics
from game.messages import first_in_a_second

log = logging.getLogger("game.inbox")

INBOX_SIZE = 64  # beyond this, a pump waits and the layer's own capacity bound applies
_inboxes: weakref.WeakSet = weakref.WeakSet()
metrics.QUEUED.set_function(lambda: sum(q.qsize() for q in list(_inboxes)))


def put_local(inbox: asyncio.Queue, channel: str, message, expiry: float) -> None:
    """A layer's delivery into a consumer's adopted inbox, as an inbox item; ChannelFull
    (as a full channel raises) if the inbox is full."""
    try:
        inbox.put_nowait((time.time() + expiry, message))
    except asyncio.QueueFull:
        raise ChannelFull(channel) from None


def per_loop(make):
    """A function giving one `make()` per running event loop, made on first use: a process's
    one of something (the fan-out, the forwarder); tests run a loop each."""
    made: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get():
        loop = asyncio.get_running_loop()
        instance = made.get(loop)
        if instance is None:
            instance = made[loop] = make()
        return instance

    return get


async def receive_through_outages(receive, who: str):
    """`await receive()` from a channel layer, waiting out its failures (Redis killed or
    restarting) with back-off instead of raising: the receiver, and with it its channel name,
    outlives the outage. Logged once a second per `who` (a thousand sockets: one line)."""
    pause = 0.1
    while True:
        try:
            message = await receive()
        except (asyncio.CancelledError, StopConsumer, RuntimeError):  # RuntimeError: the loop is closing
            raise
        except Exception as exc:
            if pause == 0.1 and first_in_a_second(f"layer down:{who}"):
                log.warning("%s: layer unreachable (%r); retrying", who, exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
            continue
        if pause > 0.1 and first_in_a_second(f"layer up:{who}"):
            log.warning("%s: layer reachable again", who)
        return message


class InboxConsumerMixin:
    layer_channel = True  # False: the consumer has no channel of its own (the match socket)
    takes_typed = False  # its dispatch takes game.messages Structs from this process as they are
    inbox_size = INBOX_SIZE

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        adopt = getattr(self.channel_layer, "adopt", None) if self.layer_channel else None
        if self.layer_channel:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        size = self.inbox_size
        if adopt is not None:
            size = max(size, self.channel_layer.get_capacity(self.channel_name))
        feed = self.server_feed()
        self._inbox: asyncio.Queue = asyncio.Queue(0 if feed else size)  # the server's queue is unbounded
        _inboxes.add(self._inbox)
        self._pumps: list[asyncio.Task] = []
        if feed is None:
            self.add_source(receive)
        else:
            feed(self._inbox)
        if adopt is not None:
            adopt(self.channel_name, self._inbox, typed=self.takes_typed)
        if self.layer_channel and (adopt is None or getattr(self.channel_layer, "remote_too", False)):
            self.add_source(self.channel_receive, layer=True)  # (also) what other processes send it
        try:
            while True:
                _, item = await self._inbox.get()
                if isinstance(item, BaseException):
                    raise item
                await self.dispatch(item)
        except StopConsumer:
            pass
        finally:
            if adopt is not None:
                self.channel_layer.release(self.channel_name)
            for pump in self._pumps:
                pump.cancel()
            await asyncio.gather(*self._pumps, return_exceptions=True)

    def server_feed(self):
        """A function that has the ASGI server put its messages straight into the inbox (no
        pump task then), or None to read `receive` through a pump."""
        return None

    def add_source(self, receive, layer: bool = False) -> None:
        """Feed another receive callable's messages into the dispatch loop. A channel layer's
        (`layer`) failures are waited out with backoff (Redis restarting must not end the
        consumer, and with it its channel name); the ASGI server's end the consumer."""

        who = type(self).__name__

        async def pump():
            try:
                while True:
                    message = await (receive_through_outages(receive, who) if layer else receive())
                    await self._inbox.put((math.inf, message))
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # the loop raises it, as Channels' own loop would
                await self._inbox.put((math.inf, exc))

        self._pumps.append(asyncio.get_running_loop().create_task(pump()))
