"""The named channels workers serve: `manage.py runworker arbiter` / `runworker auditor`,
or both on the ASGI server's loop in the embedded default (game/arbiter/inprocess.py)."""

from game.arbiter.auditor import AUDITOR_CHANNEL, AuditorConsumer
from game.arbiter.consumer import ARBITER_CHANNEL, ArbiterConsumer

channel_routes = {
    ARBITER_CHANNEL: ArbiterConsumer.as_asgi(),
    AUDITOR_CHANNEL: AuditorConsumer.as_asgi(),
}
