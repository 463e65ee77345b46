"""The auditor: a worker consumer on the named channel `auditor` running the slow rules.

Arbiters send it a batch about once a second (`audit.batch`); it answers the owning
arbiter with `match.verdicts`. It keeps no state, so any number of auditors can share
the channel (`manage.py runworker auditor`, or in-process in the embedded default).
"""

from __future__ import annotations

import logging

from game.sim.audit import review
from game.transport.workers import WorkerConsumer

log = logging.getLogger("game.auditor")

AUDITOR_CHANNEL = "auditor"


class AuditorConsumer(WorkerConsumer):
    """A failing batch is logged and skipped; the reviews of every other match go on."""

    async def audit_batch(self, message):
        verdicts = review(message["batch"])
        if verdicts:
            for v in verdicts:
                log.info("match %s: %s (%s) for player %s: %s", message["match"], v["kind"], v["rule"],
                         v["player"], v["evidence"])
            await self.channel_layer.send(message["reply"], {"type": "match.verdicts", "match": message["match"],
                                                             "verdicts": verdicts})
