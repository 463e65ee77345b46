"""The arbiter: a Channels worker consumer that owns matches and ticks them.

It serves the named channel `arbiter` (start requests any worker may take) and its own
unique channel, which is recorded on each match it owns and receives that match's joins,
commands, timer ticks and the results of its database work. Live matches sit in RUNTIMES,
outside the consumer instance; every message for a match goes to its runtime's `handle`
from this one dispatch loop (one writer per match), and a handler that raises is caught at
that boundary so one bad match cannot take the worker down.
"""

from __future__ import annotations

import asyncio
import logging

from game import limits
from game.arbiter.runtime import MatchRuntime
from game.messages import (
    ARBITER_CHANNEL,
    ArbiterPing,
    ArbiterPong,
    GameEnded,
    GameKick,
    GameUnowned,
    MatchClaimed,
    MatchCmd,
    MatchEnd,
    MatchJoin,
    MatchResync,
    MatchStart,
    Message,
    ToArbiter,
    post,
    send,
)
from game.records import ownership
from game.records.lane import Lane
from game.transport.workers import WorkerConsumer

log = logging.getLogger("game.arbiter")

__all__ = ["ARBITER_CHANNEL", "ArbiterConsumer", "RUNTIMES"]

MAX_FAILURES = 3  # a match whose handlers keep raising is ended, not retried forever

RUNTIMES: dict[str, MatchRuntime] = {}
# What a socket sends the owner it knows: if that is not us, it must look again.
ASKS_OWNER = (MatchJoin, MatchCmd, MatchResync, MatchEnd)
CLAIMS: dict[str, tuple[Lane, list[MatchJoin]]] = {}  # claims out: the joins that wait for them


class ArbiterConsumer(WorkerConsumer):
    accepts = ToArbiter

    async def handle(self, msg: Message) -> None:
        if isinstance(msg, MatchStart):
            await self.match_start(msg)
        elif isinstance(msg, MatchClaimed):
            await self.match_claimed(msg)
        elif isinstance(msg, ArbiterPing):
            await self._tell(msg.reply, ArbiterPong(arbiter=self.channel_name, matches=len(RUNTIMES)))
        else:
            runtime = RUNTIMES.get(msg.match)
            if runtime is None or runtime.disposed or runtime.channel != self.channel_name:
                if isinstance(msg, ASKS_OWNER) and msg.reply:
                    # Not ours (any more): the socket must find the owner again through `arbiter`.
                    await self._tell(msg.reply, GameUnowned())
                return
            await runtime.handle(msg)

    async def handler_failed(self, msg: Message) -> None:
        runtime = RUNTIMES.get(getattr(msg, "match", ""))
        if runtime is not None and not runtime.disposed:
            runtime.failures += 1
            if runtime.failures >= MAX_FAILURES:
                await runtime.dispose("internal error")

    # -- the named channel -------------------------------------------------------
    async def match_start(self, msg: MatchStart) -> None:
        """Own a match (new, or adopted from a dead worker's checkpoint), then join the socket.
        The claim is database work: it runs in the match's lane, and joins wait for it."""
        runtime = RUNTIMES.get(msg.match)
        if runtime is not None and not runtime.disposed:
            await runtime.join(msg.join)
            return
        if runtime is not None and runtime.ending:
            await self._tell(msg.join.reply, GameEnded(reason="this match is over"))
            return
        if msg.match in CLAIMS:
            CLAIMS[msg.match][1].append(msg.join)
            return
        lane = Lane()
        CLAIMS[msg.match] = (lane, [msg.join])
        asyncio.get_running_loop().create_task(self._claim(msg.match, lane), name=f"claim {msg.match}")

    async def _claim(self, match_id: str, lane: Lane) -> None:
        try:
            claim = await lane.run(
                ownership.claim_match, match_id, self.channel_name, timeout=limits.DB_JOB_TIMEOUT_S
            )
            result = MatchClaimed(match=match_id, claim=claim)
        except Exception as exc:
            log.warning("match %s: claim failed: %r", match_id, exc)
            result = MatchClaimed(match=match_id, error=repr(exc)[:200])
        await post(self.channel_layer, self.channel_name, result, match_id)

    async def match_claimed(self, msg: MatchClaimed) -> None:
        """The claim came back: start the match and let its joins in, or send them on."""
        lane, joins = CLAIMS.pop(msg.match, (None, []))
        claim = msg.claim
        if lane is None:
            return
        if claim is None:  # the database did not answer: the sockets may try again
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
            runtime.create(claim.adopted)
            for join in joins:
                await runtime.join(join)
        elif claim.owner:  # a live worker has it: hand the joins over
            for join in joins:
                await self._tell(claim.owner, join)
        else:
            for join in joins:
                await self._tell(join.reply, GameEnded(reason="this match is over"))

    async def _tell(self, channel: str, msg: Message) -> None:
        await send(self.channel_layer, channel, msg)


def _forget(match_id: str, runtime: MatchRuntime) -> None:
    if RUNTIMES.get(match_id) is runtime:
        del RUNTIMES[match_id]
