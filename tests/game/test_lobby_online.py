"""The lobby's who-is-online follows players into a match and out, through the real arbiter:
the owner's flush writes the seat's online flag, then tells the lobby sockets to re-read."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from .players import ORIGIN, Client, make_match, make_player

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]


async def status_of(lobby: WebsocketCommunicator, nickname: str, want: str, timeout: float = 5.0) -> dict:
    """Read lobby messages until `nickname` is listed with status `want`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        assert left > 0, f"{nickname} never {want} in the lobby"
        message = await lobby.receive_json_from(timeout=left)
        assert message["type"] == "matches"
        entry = next((p for p in message["online"]["players"] if p["nickname"] == nickname), None)
        if entry is not None and entry["status"] == want:
            return entry


async def test_the_lobby_sees_a_player_go_into_a_match_and_come_out():
    from cubearena.asgi import application

    alice, key = await make_player("alice")
    match = await make_match(alice, name="live one")
    lobby = WebsocketCommunicator(application, "/ws/lobby/", headers=[ORIGIN])
    assert (await lobby.connect())[0]
    await status_of(lobby, "alice", "lobby")  # just made: seen lately

    a = Client(match, key)
    await a.connect()
    entry = await status_of(lobby, "alice", "playing")
    assert entry["match"] == {"id": str(match.pk), "name": "live one"}

    await a.close()
    await status_of(lobby, "alice", "lobby")
    await lobby.disconnect()
