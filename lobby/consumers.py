"""The lobby socket (/ws/lobby/): the open-match list on connect and again after every change."""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import limits, serialize
from .notify import LOBBY_GROUP
from .session import player_id_in

log = logging.getLogger(__name__)


@database_sync_to_async
def viewer_of(scope) -> int | None:
    # The session store loads lazily from the database.
    return player_id_in(scope.get("session"))


@database_sync_to_async
def load_matches(viewer_id: int | None) -> list[dict]:
    return serialize.match_list(viewer_id)


class LobbyConsumer(AsyncJsonWebsocketConsumer):
    """Sends {"type": "matches"} on connect and on "lobby.changed", at most once per LOBBY_RESEND_MIN_S."""

    async def connect(self):
        self.viewer_id = await viewer_of(self.scope)
        self.last_sent = float("-inf")
        self.resend: asyncio.Task | None = None
        await self.channel_layer.group_add(LOBBY_GROUP, self.channel_name)
        await self.accept()
        await self.send_matches()

    async def disconnect(self, code):
        if self.resend is not None:
            self.resend.cancel()
        await self.channel_layer.group_discard(LOBBY_GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """The lobby socket only talks: whatever a client sends is ignored."""

    async def lobby_changed(self, event):
        if self.resend is not None and not self.resend.done():
            return  # the queued re-send has not read the list yet, so it will include this change
        wait = self.last_sent + limits.LOBBY_RESEND_MIN_S - asyncio.get_running_loop().time()
        if wait <= 0:
            await self.send_matches()
        else:
            self.resend = asyncio.create_task(self._send_after(wait))

    async def _send_after(self, delay: float):
        await asyncio.sleep(delay)
        self.resend = None  # a change from here on needs a read of its own
        try:
            await self.send_matches()
        except Exception:
            # A task's exception would otherwise go unseen; the socket may simply be gone.
            log.exception("lobby re-send failed")

    async def send_matches(self):
        self.last_sent = asyncio.get_running_loop().time()
        matches = await load_matches(self.viewer_id)
        await self.send_json({"type": "matches", "matches": matches})
