"""Who holds a match (its lease) and its input log's tail, where every arbiter can see them.

Scaled out this is Redis: the lease is a key with a time to live, so staleness is judged
on one clock (Redis'), and the log is a list next to it. Every tick the owner appends its
entry with one script that also renews the lease, and only if the lease is still its own:
an owner that cannot append (Redis unreachable, or another arbiter took the match) does not
publish the snapshot carrying the tick's acks, so two owners never both acknowledge. An
adopter takes the lease with SET NX, so at most one holds it at a time.

Embedded, the same calls work on dicts in the process (`MemoryMatchStore`).
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref

from django.conf import settings

from game.transport import resp

# The appends of a process's matches in one tick, in one call: per match 3 keys (lease, log,
# log tick) and 6 arguments (owner, lease ms, the log's tick before, the tick, entries to
# keep, the entry); an answer each, in order: 1 ours, 0 the log is not at that tick, -1
# another owner's lease, or an error's text (each match's append fails alone). One call a
# process-tick, not one per match (fewer requests for Redis to read and answer; its CPU stays
# with the seven commands inside each append, docs/scaling.md).
APPEND = """
local function append(k, a)
  local holder = redis.call('GET', KEYS[k + 1])
  if holder and holder ~= ARGV[a + 1] then return -1 end
  redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'PX', ARGV[a + 2])
  if redis.call('GET', KEYS[k + 3]) ~= ARGV[a + 3] then return 0 end
  redis.call('RPUSH', KEYS[k + 2], ARGV[a + 6])
  redis.call('LTRIM', KEYS[k + 2], -tonumber(ARGV[a + 5]), -1)
  redis.call('SET', KEYS[k + 3], ARGV[a + 4], 'EX', 86400)
  redis.call('EXPIRE', KEYS[k + 2], 86400)
  return 1
end
local answers = {}
for m = 0, #KEYS / 3 - 1 do
  local ok, answer = pcall(append, m * 3, m * 6)
  if ok then
    answers[m + 1] = answer
  else
    answers[m + 1] = type(answer) == 'table' and (answer.err or 'error') or tostring(answer)
  end
end
return answers
"""
APPEND_SCRIPT = resp.Script(APPEND)

# An owner's first write of the log (and its write after the store lost it) also puts the
# match in the store's set of running matches, which the stale watches look over.
REWRITE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('DEL', KEYS[2])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
redis.call('SET', KEYS[3], ARGV[3], 'EX', 86400)
redis.call('EXPIRE', KEYS[2], 86400)
redis.call('SADD', KEYS[4], ARGV[4])
return 1
"""

# The running matches whose lease is gone, and whether the store is new (its marker was not
# there: it came back empty, so its set may miss matches whose owner died meanwhile). The
# lease keys are named from their prefix inside the script: one Redis, not a cluster.
LAPSED = """
local fresh = redis.call('SET', KEYS[2], '1', 'NX')
local lapsed = {}
for _, match in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. match) == 0 then lapsed[#lapsed + 1] = match end
end
return {fresh and 1 or 0, lapsed}
"""
LAPSED_SCRIPT = resp.Script(LAPSED)

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

OURS, STALE_LOG, NOT_OURS = 1, 0, -1  # what append and rewrite answer


def lease_s() -> float:
    return settings.MATCH_LEASE_S


class RedisMatchStore:
    """Appends that arrive in the same turn of the loop go to Redis in one script call (the
    owners tick on one grid per process, `tick_phase`, so a process's matches append
    together): one round trip, one wake-up of Redis and one script call per process and tick
    instead of per match and tick."""

    def __init__(self, url: str, prefix: str):
        import redis.asyncio as redis

        # Short timeouts: the owner awaits the append inside its tick, and a Redis that does
        # not answer must cost the tick a second at most, not redis-py's default forever.
        self.redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix
        self._rewrite = self.redis.register_script(REWRITE)
        self._release = self.redis.register_script(RELEASE)
        # The calls made every tick and every second (appends, the watch's look) on a lean
        # connection of their own (game/transport/resp.py); the rare ones through redis-py.
        self._lean = resp.RespConnection(url, timeout=1.0)
        self._appends: list[tuple[list[str], tuple, asyncio.Future]] = []
        # Each process its own place in the tick (golden-ratio spread of pids): two processes
        # on one core do not tick at the same instant.
        self.tick_phase = os.getpid() * 0.6180339887 % 1.0

    async def close(self) -> None:
        self._lean.close()
        await self.redis.aclose()

    def _keys(self, match: str) -> list[str]:
        p = self.prefix
        return [f"{p}:lease:{match}", f"{p}:log:{match}", f"{p}:logtick:{match}"]

    @property
    def _running(self) -> str:
        return f"{self.prefix}:running"

    async def lapsed(self) -> tuple[list[str], bool]:
        """(running matches whose lease lapsed, whether the store is new since the last look)."""
        p = self.prefix
        keys = [self._running, f"{p}:born"]
        fresh, lapsed = await self._lean.script(LAPSED_SCRIPT, keys, [f"{p}:lease:"])
        return [m.decode() for m in lapsed], bool(fresh)

    async def forget(self, matches: list[str]) -> None:
        """These are not running (they ended while the store was not told)."""
        if matches:
            await self.redis.srem(self._running, *matches)

    async def holders(self, matches: list[str]) -> list[str | None]:
        if not matches:
            return []
        values = await self.redis.mget([f"{self.prefix}:lease:{m}" for m in matches])
        return [v.decode() if v is not None else None for v in values]

    async def acquire(self, match: str, me: str) -> str:
        """Take the lease if nobody holds it (or we do); the holder after the attempt."""
        key = self._keys(match)[0]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, me, px=int(lease_s() * 1000), nx=True).sadd(self._running, match).get(key)
            _, _, holder = await pipe.execute()
        return holder.decode() if holder is not None else ""

    async def append(self, match: str, me: str, prev_tick: int, tick: int, data: bytes, keep: int) -> int:
        await self._lean.ready()  # connected (or raises): the batch below is written from a callback
        ms = int(lease_s() * 1000)
        done = asyncio.get_running_loop().create_future()
        self._appends.append((self._keys(match), (me, ms, prev_tick, tick, keep, data), done))
        if len(self._appends) == 1:  # on the loop's next turn every owner ticking in this one has queued
            asyncio.get_running_loop().call_soon(self._send_appends)
        return int(await done)

    def _send_appends(self) -> None:
        """Write the queued appends as one script call; each owner's future gets its answer."""
        batch, self._appends = self._appends, []
        keys = [k for ks, _, _ in batch for k in ks]
        args = [a for _, margs, _ in batch for a in margs]

        def answer(reply) -> None:
            if isinstance(reply, list) and len(reply) != len(batch):  # not this script's answer
                reply = resp.ReplyError(f"{len(reply)} answers to {len(batch)} appends")
            for i, (_, _, done) in enumerate(batch):
                if done.done():
                    continue  # its owner was cancelled
                one = reply[i] if isinstance(reply, list) else reply
                if isinstance(one, bytes):  # the script caught this match's error
                    one = resp.ReplyError(one.decode(errors="replace"))
                if isinstance(one, BaseException):
                    done.set_exception(one)
                else:
                    done.set_result(one)

        self._lean.send_script(self._lean.current(), APPEND_SCRIPT, keys, args, answer)

    async def rewrite(self, match: str, me: str, last_tick: int, entries: list[bytes]) -> int:
        ms = int(lease_s() * 1000)
        keys = [*self._keys(match), self._running]
        return int(await self._rewrite(keys, [me, ms, str(last_tick), match, *entries]))

    async def read(self, match: str) -> list[bytes]:
        return await self.redis.lrange(self._keys(match)[1], 0, -1)

    async def release(self, match: str, me: str) -> None:
        await self._release(self._keys(match)[:1], [me])

    async def drop(self, match: str) -> None:
        """The match is over: its lease and log go."""
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.delete(*self._keys(match)).srem(self._running, match).execute()

    async def settled(self) -> float:
        """Seconds before a match without a lease may be taken from its recorded owner: a
        Redis that came back empty a moment ago lost every lease, and live owners need one
        lease period to take theirs back with their next append."""
        info = await self.redis.info("server")
        return max(0.0, lease_s() + 1 - float(info["uptime_in_seconds"]))


class MemoryMatchStore:
    """The embedded default's store: one process, so plain dicts and the loop's clock."""

    tick_phase = None  # nothing to share a round trip: matches tick from when they start

    def __init__(self):
        self.leases: dict[str, tuple[str, float]] = {}
        self.logs: dict[str, list[bytes]] = {}
        self.ticks: dict[str, str] = {}  # a match is running (here) from its first log write
        self.looked = False

    def _holder(self, match: str) -> str | None:
        held = self.leases.get(match)
        return held[0] if held is not None and held[1] > time.monotonic() else None

    def _take(self, match: str, me: str) -> int:
        holder = self._holder(match)
        if holder is not None and holder != me:
            return NOT_OURS
        self.leases[match] = (me, time.monotonic() + lease_s())
        return OURS

    async def holders(self, matches: list[str]) -> list[str | None]:
        return [self._holder(m) for m in matches]

    async def acquire(self, match: str, me: str) -> str:
        self._take(match, me)
        return self._holder(match) or ""

    async def append(self, match: str, me: str, prev_tick: int, tick: int, data: bytes, keep: int) -> int:
        if self._take(match, me) != OURS:
            return NOT_OURS
        if self.ticks.get(match) != str(prev_tick):
            return STALE_LOG
        log = self.logs.setdefault(match, [])
        log.append(data)
        del log[:-keep]
        self.ticks[match] = str(tick)
        return OURS

    async def rewrite(self, match: str, me: str, last_tick: int, entries: list[bytes]) -> int:
        if self._take(match, me) != OURS:
            return NOT_OURS
        self.logs[match] = list(entries)
        self.ticks[match] = str(last_tick)
        return OURS

    async def read(self, match: str) -> list[bytes]:
        return list(self.logs.get(match, []))

    async def release(self, match: str, me: str) -> None:
        if self._holder(match) == me:
            del self.leases[match]

    async def drop(self, match: str) -> None:
        for d in (self.leases, self.logs, self.ticks):
            d.pop(match, None)

    async def settled(self) -> float:
        return 0.0  # one process: whoever held a lease before it started is gone

    async def lapsed(self) -> tuple[list[str], bool]:
        fresh, self.looked = not self.looked, True  # new with the process: the database knows the rest
        return [m for m in self.ticks if self._holder(m) is None], fresh

    async def forget(self, matches: list[str]) -> None:
        for m in matches:
            self.ticks.pop(m, None)
            self.logs.pop(m, None)


_memory: MemoryMatchStore | None = None
_redis: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def match_store():
    """The process's store; on Redis, one client per event loop (a client belongs to its loop)."""
    global _memory
    if not settings.REDIS_URL:
        if _memory is None:
            _memory = MemoryMatchStore()
        return _memory
    loop = asyncio.get_running_loop()
    store = _redis.get(loop)
    if store is None:
        store = _redis[loop] = RedisMatchStore(settings.REDIS_URL, settings.CHANNEL_PREFIX + "-match")
    return store
