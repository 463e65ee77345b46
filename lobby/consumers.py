"""The lobby socket (/ws/lobby/): the open-match list and who is online, on connect and again
after every change."""

import asyncio
import logging
import time
import weakref

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import limits, serialize
from .errors import DATABASE_DOWN
from .notify import LOBBY_GROUP
from .session import player_id_in

log = logging.getLogger(__name__)

# Group joins and leaves in flight at once per process. A thousand sockets closing together
# otherwise each took a Redis connection at the same moment, past the pool's limit (redis-py:
# "Too many connections"), and left their channels in the group.
GROUP_CALLS_AT_ONCE = 32
GROUP_CALL_TRIES = 3
GROUP_RETRY_S = 0.2


class GroupMembership:
    """Joins and leaves of the lobby group: bounded concurrency, retried, failures summed up in
    one warning per burst instead of a traceback per socket."""

    def __init__(self):
        self._gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # loop -> Semaphore
        self.in_flight = 0
        self.failed = 0
        self.done = 0
        self.last_error: BaseException | None = None

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(GROUP_CALLS_AT_ONCE)
        return gate

    async def add(self, layer, channel: str) -> None:
        """Join; an error is raised (the socket cannot follow the list without it)."""
        async with self._gate():
            await layer.group_add(LOBBY_GROUP, channel)

    async def discard(self, layer, channel: str) -> bool:
        """Leave, trying again on a layer error; never raises. Whether the channel left."""
        self.in_flight += 1
        try:
            for attempt in range(GROUP_CALL_TRIES):
                try:
                    async with self._gate():
                        await layer.group_discard(LOBBY_GROUP, channel)
                    self.done += 1
                    return True
                except Exception as exc:  # Redis down or saturated: not this socket's problem
                    self.last_error = exc
                    if attempt + 1 < GROUP_CALL_TRIES:
                        await asyncio.sleep(GROUP_RETRY_S * (attempt + 1))
            self.failed += 1
            return False
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._summarise()

    def _summarise(self) -> None:
        if self.failed:
            log.warning(
                "lobby sockets closing: %d of %d could not leave the lobby group after %d tries "
                "(last error %s: %s); they expire from it after the layer's group_expiry",
                self.failed,
                self.failed + self.done,
                GROUP_CALL_TRIES,
                type(self.last_error).__name__,
                self.last_error,
            )
        self.failed = self.done = 0
        self.last_error = None


MEMBERSHIP = GroupMembership()


@database_sync_to_async
def viewer_of(scope) -> int | None:
    # The session store loads lazily from the database.
    return player_id_in(scope.get("session"))


@database_sync_to_async
def load_matches(viewer_id: int | None) -> list[dict]:
    return serialize.match_list(viewer_id)


_online: tuple[float, dict] | None = None  # (read at, who is online): one reading for every lobby socket


@database_sync_to_async
def load_online(changed_at: float = 0.0) -> dict:
    """Who is online (lobby/serialize.py). It is the same for every viewer, so the process's
    lobby sockets share one reading: read again when it is older than ONLINE_CACHE_S or than
    the change a socket was told of (`changed_at`, when the socket heard of it: a reading made
    after that saw the change, since it is announced once written)."""
    global _online
    now = time.monotonic()
    if _online is None or now - _online[0] > limits.ONLINE_CACHE_S or _online[0] <= changed_at:
        _online = (now, serialize.online_players())
    return _online[1]


class LobbyConsumer(AsyncJsonWebsocketConsumer):
    """Sends {"type": "matches", "matches": [...], "online": {...}} on connect and on
    "lobby.changed", at most once per LOBBY_RESEND_MIN_S."""

    resend: asyncio.Task | None = None
    joined = False
    changed_at = 0.0  # when the last "lobby.changed" came (time.monotonic)

    async def connect(self):
        self.last_sent = float("-inf")
        try:
            self.viewer_id = await viewer_of(self.scope)
        except DATABASE_DOWN:
            await self.accept()
            await self.close(code=1013, reason="the database is unavailable; try again")
            return
        await MEMBERSHIP.add(self.channel_layer, self.channel_name)
        self.joined = True
        await self.accept()
        await self.send_matches()

    async def websocket_disconnect(self, message):
        # Channels' own also closes stale database connections, a thread hop per socket: a
        # thousand sockets closing at once queued a thousand of them. This consumer reads the
        # database only through database_sync_to_async, which closes stale connections itself.
        await self.disconnect(message.get("code"))
        raise StopConsumer()

    async def disconnect(self, code):
        """No database work here, and no traceback: a failed leave is counted (GroupMembership)."""
        if self.resend is not None:
            self.resend.cancel()
        if self.joined:
            self.joined = False
            await MEMBERSHIP.discard(self.channel_layer, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """The lobby socket only talks: whatever a client sends is ignored."""

    async def lobby_changed(self, event):
        self.changed_at = time.monotonic()
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
        await self.send_json(
            {"type": "matches", "matches": matches, "online": await load_online(self.changed_at)}
        )
