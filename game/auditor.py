"""The auditor: a worker consumer on the named channel `auditor` running the slow rules.

Arbiters send it a batch about once a second (`audit.batch`); it answers the owning
arbiter with `match.verdicts`. It keeps no state, so any number of auditors can share
the channel (`manage.py runworker auditor`, or in-process in the embedded default).
"""

from __future__ import annotations

import logging

from channels.consumer import AsyncConsumer, get_handler_name

from game.sim.audit import review

log = logging.getLogger("game.auditor")

AUDITOR_CHANNEL = "auditor"


class AuditorConsumer(AsyncConsumer):
    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            log.warning("auditor: no handler for %r", message.get("type"))
            return
        try:
            await handler(message)
        except Exception:  # one bad batch must not stop the reviews of every other match
            log.exception("auditor: batch of match %s failed", message.get("match"))

    async def audit_batch(self, message):
        verdicts = review(message["batch"])
        if verdicts:
            log.info("match %s: %d verdicts (%s)", message["match"], len(verdicts),
                     ", ".join(sorted({v["rule"] for v in verdicts})))
            await self.channel_layer.send(message["reply"], {"type": "match.verdicts", "match": message["match"],
                                                             "verdicts": verdicts})
