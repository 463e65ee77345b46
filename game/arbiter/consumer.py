"""The arbiter: a Channels worker consumer that owns matches and ticks them.

It serves the named channel `arbiter` (start requests any worker may take) and its own
unique channel, which is recorded on each match it owns and receives that match's
joins, commands and timer ticks. Live matches sit in RUNTIMES, outside the consumer
instance, and every handler is caught at its boundary so one bad match cannot take the
worker down.
"""

from __future__ import annotations

import logging

from game.records import ownership
from game.arbiter.runtime import MatchRuntime
from game.transport.workers import WorkerConsumer

log = logging.getLogger("game.arbiter")

ARBITER_CHANNEL = "arbiter"
MAX_FAILURES = 3  # a match whose handlers keep raising is ended, not retried forever

RUNTIMES: dict[str, MatchRuntime] = {}


class ArbiterConsumer(WorkerConsumer):
    async def handler_failed(self, message) -> None:
        runtime = RUNTIMES.get(message.get("match"))
        if runtime is not None:
            runtime.failures += 1
            if runtime.failures >= MAX_FAILURES:
                await self._end(runtime, "internal error")

    # -- the named channel -------------------------------------------------------
    async def match_start(self, message):
        """Own a match (new, or adopted from a dead worker's checkpoint), then join the socket."""
        match_id, join = message["match"], message["join"]
        runtime = RUNTIMES.get(match_id)
        if runtime is None or runtime.disposed:
            claim = await ownership.claim_match(match_id, self.channel_name)
            if not claim.owned:
                if claim.owner:  # a live worker has it: hand the join over
                    await self.channel_layer.send(claim.owner, join)
                else:
                    await self.channel_layer.send(join["reply"], {"type": "game.ended", "reason": "this match is over"})
                return
            runtime = MatchRuntime(match_id, self.channel_name, self.channel_layer, claim,
                                   on_dispose=lambda: RUNTIMES.pop(match_id, None))
            RUNTIMES[match_id] = runtime
            runtime.create(claim.adopted)
        await runtime.join(join)

    async def arbiter_ping(self, message):
        """Health check: answer from whichever worker took it."""
        await self.channel_layer.send(message["reply"], {"type": "arbiter.pong", "arbiter": self.channel_name, "matches": len(RUNTIMES)})

    # -- our own channel: one match's traffic --------------------------------------
    async def match_join(self, message):
        runtime = await self._runtime(message)
        if runtime is not None:
            await runtime.join(message)

    async def match_leave(self, message):
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None and not runtime.disposed:
            await runtime.leave(message)

    async def match_cmd(self, message):
        runtime = await self._runtime(message)
        if runtime is not None:
            await runtime.command(message)

    async def match_resync(self, message):
        runtime = await self._runtime(message)
        if runtime is not None:
            await runtime.resync(message)

    async def match_tick(self, message):
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None and not runtime.disposed:
            await runtime.tick(message)

    async def match_note(self, message):
        """A socket refused a frame: record it with the match's events (batched)."""
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None and not runtime.disposed:
            runtime.note(message["kind"], message.get("player"), message["payload"])

    async def match_verdicts(self, message):
        """The auditor's answer to a batch: corrections, warnings, kicks."""
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None and not runtime.disposed:
            await runtime.apply_verdicts(message["verdicts"])

    async def match_rtt(self, message):
        """A round trip the player's socket measured with a server ping."""
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None and not runtime.disposed:
            runtime.round_trip(message["player"], message["ms"])

    async def match_end(self, message):
        runtime = RUNTIMES.get(message["match"])
        if runtime is not None:
            await self._end(runtime, message.get("reason") or "ended by its creator")

    # -- helpers -------------------------------------------------------------------
    async def _runtime(self, message) -> MatchRuntime | None:
        runtime = RUNTIMES.get(message["match"])
        if runtime is None or runtime.disposed or runtime.channel != self.channel_name:
            # Not ours (any more): the socket must find the owner again through `arbiter`.
            await self.channel_layer.send(message["reply"], {"type": "game.unowned"})
            return None
        return runtime

    async def _end(self, runtime: MatchRuntime, reason: str) -> None:
        await runtime.dispose(reason)
