"""The auditor: a worker consumer on the named channel `auditor` running the slow rules.

Arbiters send it a batch about once a second (`audit.batch`); it answers the owning
arbiter with `match.verdicts`. It keeps no state, so any number of auditors can share
the channel (`manage.py runworker auditor`, or in-process in the embedded default).

The review runs in a thread: in-process it shares the loop with the match's ticks, and a
second of 200 players' commands is ~10 ms of Python in one piece, long enough to make a
tick late. In a thread the interpreter hands the loop the GIL back every switch interval
(cubearena/asgi.py sets it short).
"""

from __future__ import annotations

import asyncio
import logging

from game.messages import AUDITOR_CHANNEL, AuditBatch, MatchVerdicts, send
from game.sim.audit import review
from game.transport.workers import WorkerConsumer

log = logging.getLogger("game.auditor")

__all__ = ["AUDITOR_CHANNEL", "AuditorConsumer"]


class AuditorConsumer(WorkerConsumer):
    """A failing batch is logged and skipped; the reviews of every other match go on."""

    accepts = AuditBatch

    async def handle(self, msg: AuditBatch) -> None:
        verdicts = await asyncio.to_thread(review, msg.batch)
        if verdicts:
            for v in verdicts:
                log.info(
                    "match %s: %s (%s) for player %s: %s", msg.match, v.kind, v.rule, v.player, v.evidence
                )
            answer = MatchVerdicts(match=msg.match, verdicts=verdicts)
            await send(self.channel_layer, msg.reply, answer, msg.match)
