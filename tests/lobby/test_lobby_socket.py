"""The lobby socket: the list on connect, a fresh list after a change, bursts coalesced."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import SessionMiddlewareStack
from channels.testing import WebsocketCommunicator
from django.test import Client

from lobby.models import Match
from lobby.notify import LOBBY_GROUP, notify_lobby
from lobby.routing import websocket_urlpatterns

from .lobby_helpers import make_match, post_json

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")

# The same stack cubearena.asgi puts in front of the lobby route.
application = AllowedHostsOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns)))


async def connect(cookie: str | None = None, origin=ORIGIN) -> WebsocketCommunicator:
    headers = [origin] if origin else []
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/lobby/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


@sync_to_async
def guest_client(nickname: str) -> tuple[Client, str]:
    client = Client()
    post_json(client, "/api/guest", {"nickname": nickname})
    return client, client.cookies["sessionid"].value


async def matches_message(communicator) -> list[dict]:
    message = await communicator.receive_json_from(timeout=2)
    assert message["type"] == "matches"
    return message["matches"]


async def test_it_sends_the_open_matches_on_connect():
    await database_sync_to_async(make_match)(None, name="open one")
    await database_sync_to_async(make_match)(None, name="ended", status=Match.Status.FINISHED)

    communicator = await connect()
    matches = await matches_message(communicator)

    assert [m["name"] for m in matches] == ["open one"]
    assert set(matches[0]) >= {"id", "name", "status", "players", "max_players", "tick_rate", "ws"}
    await communicator.disconnect()


async def test_it_sends_a_fresh_list_after_a_match_is_created():
    client, cookie = await guest_client("alice")
    communicator = await connect()
    assert await matches_message(communicator) == []

    response = await sync_to_async(post_json)(client, "/api/matches", {"name": "new arena"})
    assert response.status_code == 201

    matches = await matches_message(communicator)
    assert [(m["id"], m["name"]) for m in matches] == [(response.json()["id"], "new arena")]
    await communicator.disconnect()


async def test_it_shows_a_private_match_only_on_its_creators_socket():
    alice, alice_cookie = await guest_client("alice")
    _, bob_cookie = await guest_client("bob")
    await sync_to_async(post_json)(alice, "/api/matches", {"name": "secret", "private": True})

    alices = await connect(alice_cookie)
    bobs = await connect(bob_cookie)
    mine = await matches_message(alices)
    assert [m["name"] for m in mine] == ["secret"] and mine[0]["code"]
    assert await matches_message(bobs) == []
    await alices.disconnect()
    await bobs.disconnect()


async def test_it_coalesces_a_burst_of_changes():
    communicator = await connect()
    await matches_message(communicator)
    await database_sync_to_async(make_match)(None, name="burst")

    # Just after the connect's list: the whole burst waits for one re-send.
    for _ in range(10):
        await notify_lobby()
    assert [m["name"] for m in await matches_message(communicator)] == ["burst"]
    assert await communicator.receive_nothing(timeout=0.8)

    # After a quiet spell: the first change goes out at once, the rest of the burst in one more.
    loop = asyncio.get_running_loop()
    began = loop.time()
    for _ in range(10):
        await notify_lobby()
    await matches_message(communicator)
    assert loop.time() - began < 0.4
    await matches_message(communicator)
    assert loop.time() - began >= 0.45
    assert await communicator.receive_nothing(timeout=0.8)
    await communicator.disconnect()


async def test_it_ignores_whatever_a_client_sends():
    communicator = await connect()
    await matches_message(communicator)
    await communicator.send_to(text_data="not json at all")
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert await communicator.receive_nothing(timeout=0.2)
    await notify_lobby()
    assert await matches_message(communicator) == []
    await communicator.disconnect()


async def test_it_refuses_a_foreign_origin():
    communicator = WebsocketCommunicator(
        application, "/ws/lobby/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_it_leaves_the_group_on_disconnect():
    layer = get_channel_layer()
    if not hasattr(layer, "groups"):
        pytest.skip("looks inside the in-memory channel layer")
    before = set(layer.groups.get(LOBBY_GROUP, {}))
    communicator = await connect()
    await matches_message(communicator)
    assert len(set(layer.groups.get(LOBBY_GROUP, {})) - before) == 1
    await communicator.disconnect()
    assert set(layer.groups.get(LOBBY_GROUP, {})) - before == set()
