"""Tell lobby pages that the match list changed (they re-read it)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

LOBBY_GROUP = "lobby"


async def notify_lobby() -> None:
    layer = get_channel_layer()
    await layer.group_send(LOBBY_GROUP, {"type": "lobby.changed"})


def notify_lobby_sync() -> None:
    async_to_sync(notify_lobby)()
