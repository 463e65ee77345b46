"""Helpers the lobby tests share (a module of its own: conftest is not importable by name)."""

import json

from django.test import Client

from lobby.models import Match, Participation, Player


def sign_in(client: Client, player: Player) -> Client:
    """Point a test client's session at a player, as /api/guest or a login would."""
    session = client.session
    session["player_id"] = player.pk
    session.save()
    return client


def post_json(client: Client, url: str, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def error_code(response) -> str:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]["code"]


def make_match(creator=None, *, seated=(), **fields) -> Match:
    fields.setdefault("name", "arena")
    match = Match.objects.create(creator=creator, **fields)
    for i, player in enumerate(seated):
        Participation.objects.create(match=match, player=player, color=f"#00000{i}")
    return match
