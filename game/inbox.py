"""A leaner dispatch loop for consumers that handle many small messages (the match socket).

Channels' `await_many_dispatch` makes a new task per received message and waits on all
sources with asyncio.wait; at a 20 Hz broadcast to hundreds of sockets that churn was a
large share of the server's time. Here each source (the socket, the consumer's channel,
the broadcast layer when it is separate) gets one long-lived pump task feeding one bounded
inbox, and one loop dispatches from it, in arrival order, one message at a time.
"""

from __future__ import annotations

import asyncio
import functools

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

INBOX_SIZE = 64  # beyond this, a pump waits and the layer's own capacity bound applies


class InboxConsumerMixin:
    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        self._inbox: asyncio.Queue = asyncio.Queue(INBOX_SIZE)
        self._pumps: list[asyncio.Task] = []
        self.add_source(receive)
        self.add_source(self.channel_receive)
        try:
            while True:
                item = await self._inbox.get()
                if isinstance(item, BaseException):
                    raise item
                await self.dispatch(item)
        except StopConsumer:
            pass
        finally:
            for pump in self._pumps:
                pump.cancel()
            await asyncio.gather(*self._pumps, return_exceptions=True)

    def add_source(self, receive) -> None:
        """Feed another receive callable's messages into the dispatch loop."""

        async def pump():
            try:
                while True:
                    await self._inbox.put(await receive())
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # the loop raises it, as Channels' own loop would
                await self._inbox.put(exc)

        self._pumps.append(asyncio.get_running_loop().create_task(pump()))
