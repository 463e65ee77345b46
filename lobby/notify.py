"""Tell lobby pages that the match list changed (they re-read it)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

LOBBY_GROUP = "lobby"

log = logging.getLogger("lobby.notify")


async def notify_lobby() -> None:
    """Best effort: a layer that is away (Redis restarting) costs the pages one refresh, and
    must not fail the join or leave that asked (the arbiter counts handler failures)."""
    layer = get_channel_layer()
    try:
        await layer.group_send(LOBBY_GROUP, {"type": "lobby.changed"})
    except Exception as exc:
        log.info("lobby pages not told of a change: %r", exc)


def notify_lobby_sync() -> None:
    async_to_sync(notify_lobby)()
