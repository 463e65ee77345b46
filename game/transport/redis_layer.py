"""channels-redis' RedisChannelLayer, made lighter for the arbiter's traffic (scaled out).

Differences from channels-redis 4.x, each for a measured cause (py-spy on a `runworker
arbiter` under the load bots, benchmarks/README.md "Profiles"):
- send is one Lua script, one round trip: stock trims expired messages, counts, adds and
  sets the expiry as four commands awaited one after another;
- a message for a channel of this very process that its consumer adopted (game/inbox.py)
  goes straight into that consumer's inbox, never through Redis: the arbiter's ticks, which
  it sends itself through the layer 20 times a second for every match it owns.
- `hand` gives such a consumer a typed message (game/messages.py) as it is, not packed into
  a dict and converted back: a socket's commands to its match's owner in this process;
- a message older than `MAX_AGE_S` when it is received is dropped: a Redis restarted from
  its dump hands back queues from before its stop (a join of a socket long gone, commands
  nobody waits for), and stock delivers them however old.
- a send that meets a dead pooled connection (Redis restarted since it was last used) is
  tried once more on a fresh one: stock raised, and the message (a welcome, a snapshot) was
  lost although Redis was back. The pub/sub layer's group_send gets the same second try.
- a process's own channels (`new_channel`, with a "!") are read by one reader task per
  process that pops up to READ_MANY messages a round trip (BZMPOP) and hands each to its
  channel's buffer. Stock spends four round trips per message (its backup-queue script,
  BZPOPMIN, the backup add, its cleanup) and two tasks and an asyncio.wait per receive:
  with sockets on another process than their match's owner, that receive was the largest
  cost of the owner's process. The backup queue only ever restored a message to the process
  that popped it (another process has another name), after a receive was cancelled: at a
  consumer's end, when nobody reads the channel any more.
Receiving on named channels (`arbiter`, `auditor`) and groups are otherwise stock: a consumer
that adopts its channel still receives from Redis what other processes send it (`remote_too`).
"""

from __future__ import annotations

import asyncio
import time
import uuid

from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from game.transport.inbox import put_local, receive_through_outages

# KEYS[1]: the channel's key; ARGV: now, expiry (s), capacity, the serialised message.
SEND = """
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, math.floor(now) - expiry)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], expiry)
return 1
"""


MAX_AGE_S = 10.0


def _fresh(stamp) -> bool:
    """A queued message's score is its send time: older than MAX_AGE_S is from before a restart."""
    return float(stamp) >= time.time() - MAX_AGE_S


READ_MANY = 64  # a process's own channels: messages popped per round trip at most
READ_BLOCK_S = 1.0  # how long the reader waits in Redis for one: also how soon it sees a stop

# As channels-redis' own: put back what a cancelled receive left in the backup queue.
RESTORE_BACKUP = """
local backed_up = redis.call('ZRANGE', ARGV[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
  redis.call('ZADD', ARGV[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', ARGV[2])
"""


class ArenaRedisChannelLayer(RedisChannelLayer):
    remote_too = True  # an adopted channel is still read from Redis too

    async def _brpop_with_clean(self, index, channel, timeout):
        """Stock's pop with its backup queue, skipping messages older than MAX_AGE_S (scored by send time)."""
        backup = self._backup_channel_name(channel)
        connection = self.connection(index)
        while True:
            await connection.eval(RESTORE_BACKUP, 0, channel, backup)
            result = await connection.bzpopmin(channel, timeout=timeout)
            if result is None:
                return None
            _, member, stamp = result
            if _fresh(stamp):
                await connection.zadd(backup, {member: float(stamp)})
                return member

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._adopted: dict[str, asyncio.Queue] = {}
        self._typed: set[str] = set()
        self._readers: dict[tuple[asyncio.AbstractEventLoop, str], asyncio.Task] = {}
        self._bzmpop = True  # Redis 7 has it; an older one gets BZPOPMIN, a message a trip
        self._stopping = False

    # -- a process's own channels: one reader, many messages a round trip ----------------
    async def receive(self, channel):
        if "!" not in channel:
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        buffer = self.receive_buffer[channel]
        if buffer.empty():
            self._read(self.non_local_name(channel))
        message = await buffer.get()
        if buffer.empty() and not buffer._getters:  # as stock: a drained channel leaves no buffer
            self.receive_buffer.pop(channel, None)
        return message

    def _read(self, real: str) -> None:
        """Make sure this loop has a reader for the process's key `real`."""
        loop = asyncio.get_running_loop()
        task = self._readers.get((loop, real))
        if task is None or task.done():
            self._readers[(loop, real)] = loop.create_task(self._reader(real), name=f"layer reader {real}")

    async def _reader(self, real: str) -> None:
        key, index = self.prefix + real, self.consistent_hash(real)
        while not self._stopping:
            # Redis restarting: waited out with back-off, as every other receive of the game is.
            popped = await receive_through_outages(
                lambda: self._pop_many(self.connection(index), key), "layer reader"
            )
            for member, stamp in popped:
                if not _fresh(stamp):
                    continue  # from before a Redis restart
                message = self.deserialize(member)
                channels = message.pop("__asgi_channel__", None)
                if channels is None:
                    continue
                if not isinstance(channels, list):  # a group send's is a list
                    channels = [channels]
                for channel in channels:
                    self.receive_buffer[channel].put_nowait(message)

    async def _pop_many(self, connection, key: str) -> list:
        """[(member, score)] in send order; [] after READ_BLOCK_S with nothing."""
        if self._bzmpop:
            try:
                got = await connection.bzmpop(READ_BLOCK_S, 1, [key], min=True, count=READ_MANY)
            except ResponseError as exc:
                if "unknown command" not in str(exc).lower():
                    raise
                self._bzmpop = False
            else:
                return got[1] if got else []
        got = await connection.bzpopmin(key, timeout=READ_BLOCK_S)
        return [(got[1], got[2])] if got else []

    async def flush(self):
        await self.stop_reading()
        await super().flush()

    async def stop_reading(self) -> None:
        """End the readers. Not by cancelling alone: redis-py finishes a blocking command it
        was cancelled in (its connection would be left mid-reply) and the cancel is lost, so
        a reader also stops at its next turn, within READ_BLOCK_S."""
        self._stopping = True
        readers, self._readers = list(self._readers.values()), {}
        for task in readers:
            task.cancel()
        if readers:
            await asyncio.wait(readers, timeout=READ_BLOCK_S + 1.0)
        self._stopping = False

    def adopt(self, channel: str, inbox: asyncio.Queue, typed: bool = False) -> None:
        """Deliver what this process sends to `channel` straight into `inbox`, as (expiry,
        message); `typed`: its consumer also takes game.messages Structs as they are (`hand`)."""
        self._adopted[channel] = inbox
        if typed:
            self._typed.add(channel)

    def release(self, channel: str) -> None:
        self._adopted.pop(channel, None)
        self._typed.discard(channel)

    def is_local(self, channel: str) -> bool:
        """A consumer of this process reads `channel` (a send to it never touches Redis)."""
        return channel in self._adopted

    def hand(self, channel: str, msg) -> bool:
        """Put typed `msg` into the inbox of the consumer that adopted `channel` to take typed
        messages; False if none did (the caller sends it packed)."""
        if channel not in self._typed:
            return False
        put_local(self._adopted[channel], channel, msg, self.expiry)
        return True

    async def send(self, channel: str, message: dict) -> None:
        assert isinstance(message, dict), "message is not a dict"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        assert "__asgi_channel__" not in message
        inbox = self._adopted.get(channel)
        if inbox is not None:
            put_local(inbox, channel, message, self.expiry)
            return
        name = channel
        if "!" in channel:  # as stock: a process-local channel's messages carry its full name
            message = dict(message.items())
            message["__asgi_channel__"] = channel
            name = self.non_local_name(channel)
        index = self.consistent_hash(channel) if "!" in channel else next(self._send_index_generator)
        args = (SEND, 1, self.prefix + name, repr(time.time()), int(self.expiry), self.get_capacity(channel))
        data = self.serialize(message)
        try:
            added = await self.connection(index).eval(*args, data)
        except RedisConnectionError:  # a pooled connection from before a restart: once more
            added = await self.connection(index).eval(*args, data)
        if not added:
            raise ChannelFull(channel)


class ArenaPubSubChannelLayer(RedisPubSubChannelLayer):
    """channels-redis' pub/sub layer (group broadcasts and the fan-outs' channels), with:
    - a second try for a publish that met a connection from before a Redis restart;
    - a process-local path (affinity): a channel this process adopted (its fan-out's) gets
      what this process sends it, and its groups' broadcasts, straight into its inbox, never
      through Redis. The broadcast is still published once for other processes' members,
      tagged with this layer's origin, and the copy Redis hands back here is dropped."""

    remote_too = True  # an adopted channel still receives, from Redis, what other processes send

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.origin = uuid.uuid4().hex
        self._adopted: dict[str, asyncio.Queue] = {}
        self._local_groups: dict[str, set[str]] = {}

    def adopt(self, channel: str, inbox: asyncio.Queue) -> None:
        self._adopted[channel] = inbox

    def release(self, channel: str) -> None:
        self._adopted.pop(channel, None)
        for members in self._local_groups.values():
            members.discard(channel)

    async def group_add(self, group, channel):
        if channel in self._adopted:
            self._local_groups.setdefault(group, set()).add(channel)
        await self._get_layer().group_add(group, channel)

    async def group_discard(self, group, channel):
        members = self._local_groups.get(group)
        if members is not None:
            members.discard(channel)
            if not members:
                del self._local_groups[group]
        await self._get_layer().group_discard(group, channel)

    async def send(self, channel, message):
        inbox = self._adopted.get(channel)
        if inbox is not None:
            inbox.put_nowait((time.time() + 60, message))
            return
        await self._get_layer().send(channel, message)

    def is_local(self, channel: str) -> bool:
        return channel in self._adopted

    async def group_send_here(self, group, message):
        """To this process's members only: the sender knows no other process has one."""
        for channel in self._local_groups.get(group, ()):
            self._adopted[channel].put_nowait((time.time() + 60, message))

    async def group_send(self, group, message):
        await self.group_send_here(group, message)
        layer = self._get_layer()  # the stock class proxies every call to this loop's layer (so: no super())
        tagged = {**message, "origin": self.origin}
        try:
            await layer.group_send(group, tagged)
        except RedisConnectionError:
            await layer.group_send(group, tagged)

    async def receive(self, channel):
        while True:
            message = await self._get_layer().receive(channel)
            if message.get("origin") != self.origin:  # not our own broadcast coming back
                return message
