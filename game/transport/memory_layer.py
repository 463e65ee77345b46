"""The in-memory channel layer, made fit for a 20 Hz broadcast to hundreds of sockets.

Differences from Channels' InMemoryChannelLayer (4.3.2), each for a measured or seen cause:
- channel names come from `secrets`, not the global `random`, which libraries and tests
  reseed (two consumers once got the same name under Hypothesis);
- expired messages are swept at most once a second, not on every receive and group_send
  (stock: a walk of every queue and group member per message, O(N^2) per tick);
- group_send puts the message itself straight into each member's queue (stock: a task and
  a deep copy per member). Members must not mutate what they receive; there is one per
  process anyway (the fan-out, game/edge/fanout.py), and a deep copy of a 400-player
  `players` list cost more than writing it to every socket;
- send hands the message over without a deep copy (stock copies every message: for the
  arbiter's once-a-second audit batch of 200 players that was a 13 ms stall of the shared
  loop, and a share of every command's cost). Senders build a fresh dict per send and
  never touch it again; receivers may keep it;
- a consumer may `adopt` its channel: the layer then puts that channel's messages straight
  into the consumer's own inbox (game/inbox.py), not into a queue a pump task drains into
  it: one task wake-up and one queue hop less per snapshot per socket;
- `hand` gives a consumer that adopted its channel a typed message (game/messages.py) as
  it is: a socket's command to its match's owner in this process is neither packed into a
  dict nor converted back (one of each per command, measured a few % of the server);
- receive keeps a drained queue (stock drops it and builds a new asyncio.Queue for the next
  message, which at a command every few ms was measurable); the sweep drops idle ones;
- `channel_capacity` patterns work (stock leaves them uncompiled and raises).
"""

from __future__ import annotations

import asyncio
import secrets
import time

from channels.layers import InMemoryChannelLayer

from game.transport.inbox import put_local


class ArenaChannelLayer(InMemoryChannelLayer):
    def __init__(self, sweep_every: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.channel_capacity = self.compile_capacities(self.channel_capacity)
        self.sweep_every = sweep_every
        self._next_sweep = 0.0
        self._adopted: set[str] = set()
        self._typed: set[str] = set()  # adopted by a consumer that takes typed messages (`hand`)

    async def new_channel(self, prefix: str = "specific.") -> str:
        return f"{prefix}.inmemory!{secrets.token_urlsafe(12)}"

    def adopt(self, channel: str, inbox: asyncio.Queue, typed: bool = False) -> None:
        """Deliver `channel`'s messages, as (expiry, message), straight into `inbox`; `typed`:
        its consumer also takes game.messages Structs as they are (`hand`)."""
        self.channels[channel] = inbox
        self._adopted.add(channel)
        if typed:
            self._typed.add(channel)

    def release(self, channel: str) -> None:
        self._adopted.discard(channel)
        self._typed.discard(channel)
        self.channels.pop(channel, None)

    def is_local(self, channel: str) -> bool:
        return True  # every channel of this layer is in this process

    def hand(self, channel: str, msg) -> bool:
        """Put typed `msg` into the inbox of the consumer that adopted `channel` to take typed
        messages; False if none did (the caller sends it packed)."""
        if channel not in self._typed:
            return False
        put_local(self.channels[channel], channel, msg, self.expiry)
        return True

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_every
        wall = time.time()
        for channel, queue in list(self.channels.items()):
            expired = False
            while not queue.empty() and queue._queue[0][0] < wall:
                queue.get_nowait()
                expired = True
            if expired:  # as stock: a channel that let a message expire leaves its groups
                self._remove_from_groups(channel)
            if channel not in self._adopted and queue.empty() and not queue._getters:
                del self.channels[channel]  # nobody waits on it: make it again when needed
        timeout = int(wall) - self.group_expiry
        for members in self.groups.values():
            for name, joined in list(members.items()):
                if joined and joined < timeout:
                    members.pop(name, None)

    async def receive(self, channel: str) -> dict:
        self.require_valid_channel_name(channel)
        self._clean_expired()
        _, message = await self._queue(channel).get()
        return message

    def _queue(self, channel: str) -> asyncio.Queue:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        return queue

    async def send(self, channel: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        put_local(self._queue(channel), channel, message, self.expiry)

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        members = self.groups.get(group)
        if not members:
            return
        item = (time.time() + self.expiry, message)
        for channel in list(members):
            try:
                self._queue(channel).put_nowait(item)
            except asyncio.QueueFull:
                pass  # as with stock layers: a member that is this far behind misses it
