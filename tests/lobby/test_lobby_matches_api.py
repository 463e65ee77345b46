"""GET/POST /api/matches and GET /api/matches/<id> (PROTOCOL.md "HTTP")."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lobby.models import Match, Participation

from .lobby_helpers import error_code, make_match, post_json

pytestmark = pytest.mark.django_db

MATCH_KEYS = {
    "id",
    "name",
    "status",
    "players",
    "max_players",
    "tick_rate",
    "ws",
    "arena",
    "private",
    "creator",
}


@pytest.fixture
def announced(monkeypatch):
    calls = []
    monkeypatch.setattr("lobby.services.notify_lobby_sync", lambda: calls.append(1))
    return calls


def test_it_lists_open_public_matches_with_seat_counts(client, alice, bob):
    running = make_match(alice, name="running", status=Match.Status.RUNNING, seated=[alice, bob])
    waiting = make_match(bob, name="waiting")
    make_match(alice, name="done", status=Match.Status.FINISHED)
    make_match(alice, name="gone", status=Match.Status.ABANDONED)

    matches = client.get("/api/matches").json()["matches"]

    assert [m["name"] for m in matches] == ["waiting", "running"]
    first = matches[1]
    assert set(first) == MATCH_KEYS
    assert first == {
        "id": str(running.id),
        "name": "running",
        "status": "running",
        "players": 2,
        "max_players": 8,
        "tick_rate": 10,
        "ws": f"/ws/match/{running.id}/",
        "arena": [100, 100],
        "private": False,
        "creator": alice.pk,
    }
    assert matches[0]["players"] == 0 and matches[0]["id"] == str(waiting.id)


def test_it_shows_a_private_match_only_to_its_creator_with_its_code(client_as, alice, mallory):
    secret = make_match(alice, name="secret", private=True)

    assert client_as(mallory).get("/api/matches").json() == {"matches": []}
    assert Client().get("/api/matches").json() == {"matches": []}
    mine = client_as(alice).get("/api/matches").json()["matches"]
    assert [(m["id"], m["private"], m["code"]) for m in mine] == [(str(secret.id), True, secret.join_code)]


def test_it_creates_a_match_and_tells_the_lobby(
    client_as, alice, announced, django_capture_on_commit_callbacks
):
    body = {"name": " duel ", "max_players": 2, "tick_rate": 20, "private": False}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client_as(alice), "/api/matches", body)

    assert response.status_code == 201
    body = response.json()
    match = Match.objects.get()
    assert set(body) == MATCH_KEYS
    assert body["id"] == str(match.id)
    assert (body["name"], body["status"], body["players"], body["max_players"], body["tick_rate"]) == (
        "duel",
        "lobby",
        0,
        2,
        20,
    )
    assert body["creator"] == alice.pk and match.creator == alice
    assert body["ws"] == f"/ws/match/{match.id}/"
    assert not Participation.objects.exists()  # the socket takes the seat, not the API
    assert announced == [1]


def test_it_creates_a_private_match_with_a_code(client_as, alice, announced):
    body = post_json(client_as(alice), "/api/matches", {"name": "friends", "private": True}).json()
    match = Match.objects.get()
    assert body["private"] is True
    assert body["code"] == match.join_code and len(match.join_code) >= 6
    assert (body["max_players"], body["tick_rate"]) == (8, 10)  # the defaults


def test_it_allows_up_to_the_configured_player_limit(client_as, alice, settings, announced):
    settings.MAX_PLAYERS_LIMIT = 40
    client = client_as(alice)
    assert post_json(client, "/api/matches", {"name": "big", "max_players": 40}).status_code == 201
    response = post_json(client, "/api/matches", {"name": "bigger", "max_players": 41})
    assert response.status_code == 400 and error_code(response) == "bad_message"


def test_it_needs_a_player_to_create_a_match(client, announced):
    response = post_json(client, "/api/matches", {"name": "anon"})
    assert response.status_code == 401
    assert error_code(response) == "no_player"
    assert not Match.objects.exists() and announced == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x" * 65},
        {"name": "tab\there"},
        {"name": 5},
        {"name": "a", "max_players": 1},
        {"name": "a", "max_players": "8"},
        {"name": "a", "max_players": 8.0},
        {"name": "a", "max_players": True},
        {"name": "a", "tick_rate": 4},
        {"name": "a", "tick_rate": 31},
        {"name": "a", "tick_rate": None},
        {"name": "a", "private": "yes"},
        {"name": "a", "private": 1},
        {"name": "a", "arena": [500, 500]},
        ["a"],
    ],
)
def test_it_refuses_bad_match_bodies(client_as, alice, body, announced):
    response = post_json(client_as(alice), "/api/matches", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_message"
    assert not Match.objects.exists()


def test_it_refuses_a_match_body_that_is_not_json(client_as, alice):
    response = post_json(client_as(alice), "/api/matches", '{"name": "a", "tick_rate": Infinity}')
    assert response.status_code == 400
    assert error_code(response) == "bad_json"


def test_it_caps_live_matches_per_player(client_as, alice, announced, settings):
    settings.LIVE_MATCHES_PER_PLAYER = 2
    client = client_as(alice)
    for i in range(2):
        assert post_json(client, "/api/matches", {"name": f"m{i}"}).status_code == 201
    response = post_json(client, "/api/matches", {"name": "one more"})
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    # Once one ends, there is room again.
    Match.objects.filter(name="m0").update(status=Match.Status.FINISHED)
    assert post_json(client, "/api/matches", {"name": "again"}).status_code == 201


def test_it_caps_matches_per_player_per_hour(client_as, alice, announced, settings):
    settings.MATCHES_PER_HOUR = 5
    for i in range(5):
        make_match(alice, name=f"old{i}", status=Match.Status.FINISHED)
    response = post_json(client_as(alice), "/api/matches", {"name": "spam"})
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert int(response["Retry-After"]) > 0
    # Matches from more than an hour ago do not count.
    Match.objects.update(created=timezone.now() - timedelta(hours=2))
    assert post_json(client_as(alice), "/api/matches", {"name": "later"}).status_code == 201


def test_it_shows_one_match_with_its_participants(client, alice, bob):
    match = make_match(alice, status=Match.Status.RUNNING, seated=[alice, bob])
    Participation.objects.filter(player=bob).update(online=True, color="#3d8be5")

    response = client.get(f"/api/matches/{match.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == MATCH_KEYS | {"participants", "tick_lag"}
    assert body["tick_lag"] == {"summary": None, "hist": {}}  # no arbiter has flushed it yet
    assert body["players"] == 2
    assert body["participants"] == [
        {"id": alice.pk, "nickname": "alice", "color": "#000000", "online": False},
        {"id": bob.pk, "nickname": "bob", "color": "#3d8be5", "online": True},
    ]


def test_it_shows_the_arbiters_tick_lag(client, alice):
    match = make_match(alice, status=Match.Status.RUNNING, seated=[alice])
    Match.objects.filter(pk=match.pk).update(tick_lag={"1": 98, "7": 2})
    body = client.get(f"/api/matches/{match.id}").json()
    assert body["tick_lag"] == {
        "summary": {"p50_ms": 2, "p99_ms": 8, "max_ms": 8, "ticks": 100},
        "hist": {"1": 98, "7": 2},
    }


def test_it_answers_an_unknown_match_with_404(client):
    response = client.get(f"/api/matches/{uuid.uuid4()}")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_it_hides_a_private_match_from_strangers(client_as, alice, mallory):
    match = make_match(alice, private=True)
    url = f"/api/matches/{match.id}"
    assert client_as(mallory).get(url).status_code == 404
    assert client_as(mallory).get(url, {"code": "wrong"}).status_code == 404
    assert client_as(mallory).get(url, {"code": match.join_code}).status_code == 200
    mine = client_as(alice).get(url).json()
    assert mine["code"] == match.join_code
