"""Test personas and a small client over WebsocketCommunicator (real layer, real arbiter)."""

from __future__ import annotations

import asyncio
import json
import time

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore

from lobby.models import Match, Player

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@database_sync_to_async
def make_player(nickname: str) -> tuple[Player, str]:
    player = Player.objects.create(nickname=nickname)
    session = SessionStore()
    session["player_id"] = player.pk
    session.create()
    return player, session.session_key


@database_sync_to_async
def make_match(creator: Player | None = None, **fields) -> Match:
    fields.setdefault("name", "test arena")
    fields.setdefault("tick_rate", 20)
    return Match.objects.create(creator=creator, **fields)


async def two_players(**match_fields) -> tuple[Player, Player, Match, Client, Client]:
    """alice (the match's creator) and bob in a new match, each with a connected socket."""
    alice, akey = await make_player("alice")
    bob, bkey = await make_player("bob")
    match = await make_match(alice, **match_fields)
    a, b = Client(match, akey), Client(match, bkey)
    await a.connect()
    await b.connect()
    return alice, bob, match, a, b


class Client:
    """One socket: sends numbered commands, reads frames, remembers the world it saw."""

    def __init__(self, match: Match, session_key: str | None = None, query: str = "", origin=ORIGIN):
        from cubearena.asgi import application

        self.session_key = session_key  # a second Client with it is the same player (a reload)
        headers = [origin] if origin else []
        if session_key:
            headers.append((b"cookie", f"sessionid={session_key}".encode()))
        path = f"/ws/match/{match.id}/" + (f"?{query}" if query else "")
        self.ws = WebsocketCommunicator(application, path, headers=headers)
        self.seq = 0
        self.tick = 0
        self.ents: dict[int, dict] = {}
        self.acks: dict[str, int] = {}
        self.inbox: list[dict] = []
        self.welcome: dict | None = None

    async def connect(self, expect_welcome: bool = True) -> dict | None:
        connected, _ = await self.ws.connect(timeout=5)
        assert connected
        if expect_welcome:
            self.welcome = await self.next("welcome")
            self._apply_snap(self.welcome["snap"])
            self.seq = self.welcome["ack"] or 0
        return self.welcome

    async def recv(self, timeout: float = 3) -> dict:
        raw = await self.ws.receive_from(timeout=timeout)
        msg = json.loads(raw)
        if msg["type"] == "snap":
            self._apply_snap(msg)
        return msg

    async def next(self, kind: str, timeout: float = 3, where=lambda m: True) -> dict:
        """The next message of a type (others are kept in `inbox`); fails after `timeout` in all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {kind} message within {timeout} s")
            msg = await self.recv(left)
            if msg["type"] == kind and where(msg):
                return msg
            self.inbox.append(msg)

    def _apply_snap(self, snap: dict) -> None:
        if snap["full"]:
            self.ents = {}
        for e in snap["ents"]:
            self.ents[e["id"]] = e
        for gone in snap["gone"]:
            self.ents.pop(gone, None)
        self.acks.update(snap["acks"])
        self.tick = snap["tick"]

    async def send(self, msg: dict | str) -> None:
        await self.ws.send_to(text_data=msg if isinstance(msg, str) else json.dumps(msg))

    async def cmd(self, op: str, **fields) -> int:
        self.seq += 1
        await self.send({"type": "cmd", "seq": self.seq, "tick": self.tick, "op": op, **fields})
        return self.seq

    async def until_acked(self, seq: int, player: int, timeout: float = 3) -> None:
        await self.next("snap", timeout, where=lambda m: m["acks"].get(str(player), 0) >= seq)

    async def closed(self, timeout: float = 3) -> int:
        """Read until the server closes the socket; its close code."""
        while True:
            out = await self.ws.receive_output(timeout=timeout)
            if out["type"] == "websocket.close":
                return out.get("code")
            self.inbox.append(out)

    async def close(self) -> None:
        await self.ws.disconnect()


def jump_batch(match_id, reply: str, cube_id: int, owner: int, start, end) -> dict:
    """An audit batch (as the layer carries it) in which a cube jumped from `start` to `end`
    in one tick: the auditor answers with a speed_cap correction back to `start`."""
    batch = {
        "tick_rate": 20,
        "speed": 5.0,
        "from": 0,
        "to": 3,
        "commands": [],
        "placed": [],
        "born": {},
        "refused": {},
        "rtt": {},
        "strikes": {},
        "owners": {str(cube_id): owner},
        "trails": {str(cube_id): [[1, *start], [2, *end]]},
    }
    return {"type": "audit.batch", "match": str(match_id), "reply": reply, "batch": batch}


async def wait_for(check, timeout: float = 5.0, every: float = 0.05, what: str = "condition"):
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(every)
