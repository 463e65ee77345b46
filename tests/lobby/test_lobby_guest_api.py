"""POST /api/guest, GET /api/csrf, and the API's error answers (PROTOCOL.md "HTTP")."""

import pytest
from django.test import Client

from lobby import limits
from lobby.models import Player

from .lobby_helpers import error_code, post_json

pytestmark = pytest.mark.django_db


def test_it_creates_a_guest_and_keeps_its_id_in_the_session(client):
    response = post_json(client, "/api/guest", {"nickname": "alice"})
    assert response.status_code == 200
    body = response.json()
    player = Player.objects.get()
    assert body == {"player": player.pk, "nickname": "alice"}
    assert client.session["player_id"] == player.pk
    assert type(client.session["player_id"]) is int
    assert player.created_from == "127.0.0.1"
    assert player.is_guest


def test_it_strips_the_nickname(client):
    response = post_json(client, "/api/guest", {"nickname": "  bob the builder \t"})
    assert response.json()["nickname"] == "bob the builder"


def test_it_accepts_a_24_character_unicode_nickname(client):
    response = post_json(client, "/api/guest", {"nickname": "Ünïcødé☃" * 3})
    assert response.status_code == 200


def test_it_gives_a_new_guest_a_new_session_key(client):
    post_json(client, "/api/guest", {"nickname": "alice"})
    first = client.session.session_key
    post_json(client, "/api/guest", {"nickname": "alice2"})
    assert client.session.session_key != first
    assert client.session["player_id"] == Player.objects.get(nickname="alice2").pk


@pytest.mark.parametrize(
    "nickname",
    ["", "   ", "x" * 25, "a\x00b", "a\nb", "bell\x07", "zero\u200bwidth", "\u202eevil", 7, None, ["alice"]],
)
def test_it_refuses_bad_nicknames(client, nickname):
    response = post_json(client, "/api/guest", {"nickname": nickname})
    assert response.status_code == 400
    assert error_code(response) == "bad_message"
    assert not Player.objects.exists()
    assert "player_id" not in client.session


@pytest.mark.parametrize(
    "body", [{}, {"nickname": "alice", "admin": True}, {"name": "alice"}, ["alice"], '"alice"', "3"]
)
def test_it_refuses_wrong_fields(client, body):
    response = post_json(client, "/api/guest", body)
    assert response.status_code == 400
    assert error_code(response) == "bad_message"


@pytest.mark.parametrize("raw", ["", "{", "nickname=alice", '{"nickname": NaN}', b"\xff\xfe{", "[" * 3000])
def test_it_refuses_bodies_that_are_not_json(client, raw):
    response = post_json(client, "/api/guest", raw)
    assert response.status_code == 400
    assert error_code(response) == "bad_json"


def test_it_refuses_oversized_bodies(client):
    response = post_json(client, "/api/guest", {"nickname": "a", "pad": "x" * limits.MAX_BODY_BYTES})
    assert response.status_code == 413
    assert error_code(response) == "too_large"


def test_it_caps_guests_per_address(client, settings):
    settings.GUESTS_PER_ADDRESS = 3  # read per request, so an operator's value applies at once
    for i in range(3):
        assert post_json(client, "/api/guest", {"nickname": f"bot{i}"}).status_code == 200
    response = post_json(client, "/api/guest", {"nickname": "one-too-many"})
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    other = post_json(Client(REMOTE_ADDR="192.0.2.7"), "/api/guest", {"nickname": "elsewhere"})
    assert other.status_code == 200


def test_it_sets_the_csrf_cookie():
    client = Client(enforce_csrf_checks=True)
    response = client.get("/api/csrf")
    assert response.status_code == 204
    assert response.cookies["csrftoken"].value


def test_it_accepts_an_unsafe_call_with_the_csrf_header():
    client = Client(enforce_csrf_checks=True)
    client.get("/api/csrf")
    token = client.cookies["csrftoken"].value
    response = post_json(client, "/api/guest", {"nickname": "alice"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_it_answers_a_failed_csrf_check_with_json():
    client = Client(enforce_csrf_checks=True)
    client.get("/api/csrf")
    for headers in ({}, {"X-CSRFToken": "mallory-forged-token-000000000000"}):
        response = post_json(client, "/api/guest", {"nickname": "mallory"}, headers=headers)
        assert response.status_code == 403
        assert error_code(response) == "csrf"
    assert not Player.objects.exists()


def test_it_answers_a_failed_csrf_check_on_a_page_with_html():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/guest/", {"nickname": "mallory"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"expired" in response.content


@pytest.mark.parametrize(
    "method, url",
    [("get", "/api/guest"), ("delete", "/api/matches"), ("put", "/api/matches"), ("post", "/api/csrf")],
)
def test_it_answers_unknown_methods_with_405(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert response["Allow"]


@pytest.mark.parametrize("url", ["/api/nope", "/api/matches/not-a-uuid", "/api/guest/", "/api/"])
def test_it_answers_unknown_api_paths_with_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert error_code(response) == "not_found"
