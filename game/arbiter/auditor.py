"""The auditor: a worker consumer on the named channel `auditor` running the slow rules.

Arbiters send it a batch about once a second (`audit.batch`); it answers the owning
arbiter with `match.verdicts`. It keeps no state, so any number of auditors can share
the channel (`manage.py runworker auditor`). Arbiters in the ASGI processes review their
own batches with the same `audit` instead (settings.AUDIT_IN_PROCESS).

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
from game.sim.verdicts import Verdict
from game.transport.workers import WorkerConsumer

log = logging.getLogger("game.auditor")

__all__ = ["AUDITOR_CHANNEL", "AuditorConsumer"]


class AuditorConsumer(WorkerConsumer):
    """A failing batch is logged and skipped; the reviews of every other match go on."""

    accepts = AuditBatch

    async def handle(self, msg: AuditBatch) -> None:
        verdicts = await audit(msg.match, msg.batch)
        if verdicts:
            answer = MatchVerdicts(match=msg.match, verdicts=verdicts)
            await send(self.channel_layer, msg.reply, answer, msg.match)


async def audit(match: str, batch: dict) -> list[Verdict]:
    """Review one batch in a thread and log what it found: for an auditor process, or for an
    arbiter that reviews its own matches (settings.AUDIT_IN_PROCESS)."""
    verdicts = await asyncio.to_thread(review, batch)
    for v in verdicts:
        log.info("match %s: %s (%s) for player %s: %s", match, v.kind, v.rule, v.player, v.evidence)
    return verdicts
