"""The arbiter: a Channels worker consumer that owns matches and ticks them.

It serves the named channel `arbiter` (start requests any worker may take) and its own
unique channel, which is recorded on each match it owns and receives that match's joins,
commands, timer ticks and the results of its database work. Live matches sit in RUNTIMES,
outside the consumer instance; every message for a match goes to its runtime's `handle`
from this one dispatch loop (one writer per match), and a handler that raises is caught at
that boundary so one bad match cannot take the worker down. Scaled out, a tick waits for its
input log append in a task of its own (ASIDE), so the process's other matches tick in the
same turn and their appends share one Redis round trip; whatever comes for that match
meanwhile waits for its tick, in order, so each match still has one writer at a time.

Ownership: a match is held by a lease in the match store (game/transport/match_store.py)
and recorded with an epoch (game/records/ownership.py). From the worker's start a stale
watch looks for running matches whose lease has lapsed and adopts them: checkpoint plus
input log, then every socket of the match is told to join the new owner.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import weakref

from channels.db import database_sync_to_async
from django.conf import settings

from game import limits, metrics, placement
from game.arbiter.runtime import MatchRuntime
from game.messages import (
    ARBITER_CHANNEL,
    ArbiterBoot,
    ArbiterPing,
    ArbiterPong,
    ArbiterStop,
    Claim,
    GameEnded,
    GameKick,
    GameUnowned,
    MatchAdopt,
    MatchAlive,
    MatchChat,
    MatchClaimed,
    MatchCmd,
    MatchCmds,
    MatchEnd,
    MatchJoin,
    MatchResync,
    MatchStart,
    MatchTick,
    Message,
    ToArbiter,
    post,
)
from game.records import ownership
from game.records.lane import Lane
from game.transport.broadcast import deliver
from game.transport.match_store import match_store
from game.transport.workers import WorkerConsumer
from lobby import ticklag

log = logging.getLogger("game.arbiter")

__all__ = ["ARBITER_CHANNEL", "ArbiterConsumer", "RUNTIMES"]

MAX_FAILURES = 3  # a match whose handlers keep raising is ended, not retried forever

RUNTIMES: dict[str, MatchRuntime] = {}
LOCAL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> its live arbiter's channel
# What a socket sends the owner it knows: if that is not us, it must look again.
ASKS_OWNER = (MatchJoin, MatchCmd, MatchResync, MatchEnd, MatchAlive, MatchChat)
CLAIMS: dict[str, tuple[Lane, list[MatchJoin]]] = {}  # claims out: the joins that wait for them
ASIDE: dict[str, collections.deque] = {}  # matches with a tick set aside: what came for them since
metrics.MATCHES.set_function(lambda: len(RUNTIMES))
metrics.PLAYERS.set_function(lambda: sum(len(r.sockets) for r in list(RUNTIMES.values())))


class ArbiterConsumer(WorkerConsumer):
    accepts = ToArbiter
    stopping = False
    watch: asyncio.Task | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._aside_tasks: set[asyncio.Task] = set()

    async def handle(self, msg: Message) -> None:
        waiting = ASIDE.get(getattr(msg, "match", None))
        if waiting is not None:  # one of the match's ticks waits on the store: after it, in order
            waiting.append(msg)
            return
        await self._route(msg)

    async def _route(self, msg: Message, aside: bool = True) -> None:
        if isinstance(msg, MatchStart):
            await self.match_start(msg.match, msg.join)
        elif isinstance(msg, MatchAdopt):
            await self.match_start(msg.match, None)
        elif isinstance(msg, MatchClaimed):
            await self.match_claimed(msg)
        elif isinstance(msg, ArbiterPing):
            await self._tell(msg.reply, ArbiterPong(arbiter=self.channel_name, matches=len(RUNTIMES)))
        elif isinstance(msg, ArbiterBoot):
            self.boot()
        elif isinstance(msg, ArbiterStop):
            await self.stop()
        else:
            runtime = RUNTIMES.get(msg.match)
            if runtime is None or runtime.disposed or runtime.channel != self.channel_name:
                # Not ours (any more): the socket must find the owner again through `arbiter`.
                if isinstance(msg, MatchCmds):
                    for reply in dict.fromkeys(c.reply for c in msg.cmds):
                        await self._tell(reply, GameUnowned())
                elif isinstance(msg, ASKS_OWNER) and msg.reply:
                    await self._tell(msg.reply, GameUnowned())
                return
            if aside and isinstance(msg, MatchTick) and runtime.store.tick_phase is not None:
                # The tick awaits its log append, which shares a round trip with the other
                # matches' of this turn: it goes on aside, and the loop goes on to theirs.
                ASIDE[msg.match] = collections.deque()
                task = asyncio.get_running_loop().create_task(self._aside(msg), name=f"tick {msg.match}")
                self._aside_tasks.add(task)
                task.add_done_callback(self._aside_tasks.discard)
                return
            await runtime.handle(msg)

    async def _aside(self, tick: MatchTick) -> None:
        """A tick set aside, then whatever came for its match meanwhile, in the order it came
        (one writer per match: nothing of it runs while its tick waits)."""
        waiting, msg = ASIDE[tick.match], tick
        try:
            while True:
                try:
                    await self._route(msg, aside=False)
                except Exception:
                    log.exception("match %s: %s failed in the arbiter", tick.match, type(msg).__name__)
                    await self.handler_failed(msg)
                if not waiting:
                    return
                msg = waiting.popleft()
        finally:
            del ASIDE[tick.match]

    async def settle(self) -> None:
        """Until no tick is set aside (nothing new is dispatched meanwhile: the caller is a handler)."""
        while self._aside_tasks:
            await asyncio.wait(list(self._aside_tasks))

    async def handler_failed(self, msg: Message) -> None:
        runtime = RUNTIMES.get(getattr(msg, "match", ""))
        if runtime is not None and not runtime.disposed:
            runtime.failures += 1
            if runtime.failures >= MAX_FAILURES:
                await runtime.dispose("internal error")

    # -- the process: live from its start, handing over at its stop ------------------
    def boot(self) -> None:
        if self.watch is None:
            loop = asyncio.get_running_loop()
            self.watch = loop.create_task(self._watch(), name="stale watch")
            self._pumps.append(self.watch)  # cancelled with the consumer, as its pumps are
            LOCAL[loop] = self.channel_name
            if settings.AFFINITY:
                self._pumps.append(loop.create_task(self._advertise(), name="load advert"))
            log.info("arbiter %s: live", self.channel_name)

    async def _advertise(self) -> None:
        """Once a second, this process's load where placement reads it (game/placement.py)."""
        advertiser, last = placement.Advertiser(), {}
        while not self.stopping:
            ours = [r for r in RUNTIMES.values() if r.channel == self.channel_name and not r.disposed]
            lag, seen = None, {}
            for runtime in ours:
                seen[runtime.match_id] = now = runtime.tick_lag.as_json()
                window = ticklag.summary(ticklag.since(now, last.get(runtime.match_id)))
                if window is not None:
                    lag = max(lag or 0, window["p99_ms"])
            last = seen
            players = sum(len(r.sockets) for r in ours)
            try:
                await advertiser.write(placement.advert(self.channel_name, players, len(ours), lag))
            except Exception as exc:
                log.info("load advert not written: %r", exc)
            await asyncio.sleep(placement.ADVERT_EVERY_S)
        try:
            await advertiser.withdraw()  # stopping: take no new matches
        except Exception:
            pass

    async def _watch(self) -> None:
        """Adopt running matches whose lease lapsed: nobody waits for a socket to ask.

        Each look asks the store which of its running matches have no lease (one call). The
        database's list of running matches is read every MATCH_SCAN_S, and at once when the
        store is new (it came back empty: matches whose owner died meanwhile are not in its
        set). Reading it every second in every process was most of an idle server's CPU, and
        at 500 matches 67 processes' reads of 500 rows a second (docs/scaling.md)."""
        store, failing, scan_at = match_store(), False, 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(settings.MATCH_WATCH_S * random.uniform(0.8, 1.2))
            try:
                lapsed, fresh = await store.lapsed()
                if fresh:
                    scan_at = 0.0
                scan = loop.time() >= scan_at
                if (lapsed or scan) and not await store.settled():
                    await self._adopt_lapsed(store, set(lapsed), scan)
                    if scan:
                        scan_at = loop.time() + settings.MATCH_SCAN_S
                if failing:
                    log.warning("stale watch: working again")
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("stale watch: cannot look (%r); trying again", exc)
                failing = True

    async def _adopt_lapsed(self, store, lapsed: set[str], scan: bool) -> None:
        """Adopt what is running (per the database) with nobody's lease: the lapsed matches, or
        on a scan every running match. A lapsed match the database has as over is forgotten."""
        among = None if scan else sorted(lapsed)
        running = set(await database_sync_to_async(ownership.running_matches)(among))
        if lapsed - running:
            await store.forget(sorted(lapsed - running))
        ids = [m for m in running if (scan or m in lapsed) and m not in RUNTIMES and m not in CLAIMS]
        for match_id, holder in zip(ids, await store.holders(ids), strict=True):
            if holder is None:
                await self._tell(self.channel_name, MatchAdopt(match=match_id))

    async def stop(self) -> None:
        """SIGTERM: hand every match over, then tell the worker it may exit."""
        self.stopping = True
        if self.watch is not None:
            self.watch.cancel()
        await self.settle()
        runtimes = [r for r in RUNTIMES.values() if r.channel == self.channel_name]
        await asyncio.gather(*(r.hand_off() for r in runtimes), return_exceptions=True)
        log.warning("arbiter %s: %d matches handed over", self.channel_name, len(runtimes))
        worker = self.scope.get("worker")
        if worker is not None:
            worker.stopped.set()

    # -- the named channel -------------------------------------------------------
    async def match_start(self, match_id: str, join: MatchJoin | None) -> None:
        """Own a match (new, or adopted from a checkpoint and log), then join the socket.
        The lease and the claim run in a task of their own; joins wait for them."""
        runtime = RUNTIMES.get(match_id)
        if runtime is not None and not runtime.disposed:
            if join is not None:
                await runtime.join(join)
            return
        if runtime is not None and runtime.ending:
            if join is not None:
                await self._tell(join.reply, GameEnded(reason="this match is over"))
            return
        if self.stopping:  # another worker takes it: the socket's watchdog asks again
            return
        if match_id in CLAIMS:
            if join is not None:
                CLAIMS[match_id][1].append(join)
            return
        lane = Lane()
        CLAIMS[match_id] = (lane, [join] if join is not None else [])
        asyncio.get_running_loop().create_task(self._claim(match_id, lane), name=f"claim {match_id}")

    async def _claim(self, match_id: str, lane: Lane) -> None:
        me, store = self.channel_name, match_store()
        try:
            wait = await store.settled()
            if wait:
                await asyncio.sleep(wait)
            holder = await store.acquire(match_id, me)
            if holder != me:
                claim = Claim(owned=False, owner=holder)
            else:
                claim = await lane.run(ownership.claim_match, match_id, me, timeout=limits.DB_JOB_TIMEOUT_S)
                if claim.owned:  # what the database logged after the checkpoint, then the store's tail
                    claim.tail = [*claim.tail, *await store.read(match_id)]
                else:
                    await store.drop(match_id)
            result = MatchClaimed(match=match_id, claim=claim)
        except Exception as exc:
            log.warning("match %s: claim failed: %r", match_id, exc)
            try:
                await store.release(match_id, me)
            except Exception:
                pass  # it lapses by itself
            result = MatchClaimed(match=match_id, error=repr(exc)[:200])
        await post(self.channel_layer, self.channel_name, result, match_id)

    async def match_claimed(self, msg: MatchClaimed) -> None:
        """The claim came back: start the match and let its joins in, or send them on."""
        lane, joins = CLAIMS.pop(msg.match, (None, []))
        claim = msg.claim
        if lane is None:
            return
        if claim is None:  # the store or the database did not answer: the sockets may try again
            for join in joins:
                await self._tell(
                    join.reply, GameKick(code=1013, reason="the match's records are unreachable; try again")
                )
        elif claim.owned:
            runtime = MatchRuntime(
                msg.match,
                self.channel_name,
                self.channel_layer,
                claim,
                lane,
                on_gone=lambda: _forget(msg.match, runtime),
            )
            RUNTIMES[msg.match] = runtime
            await runtime.create(claim)
            for join in joins:
                await runtime.join(join)
        elif claim.owner:  # a live worker has it: hand the joins over
            for join in joins:
                await self._tell(claim.owner, join)
        else:
            for join in joins:
                await self._tell(join.reply, GameEnded(reason="this match is over"))

    async def _tell(self, address: str, msg: Message) -> None:
        await deliver(self.channel_layer, address, msg)


def _forget(match_id: str, runtime: MatchRuntime) -> None:
    if RUNTIMES.get(match_id) is runtime:
        del RUNTIMES[match_id]
        metrics.forget_match(match_id)
