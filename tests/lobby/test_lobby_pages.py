"""The lobby pages: index, guest and create forms, login, the join page and the summary."""

import json
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.test import Client
from django.utils import timezone

from lobby.models import Match, MatchEvent, Participation, Player

from .lobby_helpers import make_match

pytestmark = pytest.mark.django_db


# Index, guest form, create form


def test_it_asks_a_newcomer_for_a_nickname(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/guest/"' in html and 'name="nickname"' in html
    assert 'href="/login/' in html
    assert 'id="match-rows"' not in html


def test_it_creates_a_guest_from_the_nickname_form(client):
    response = client.post("/guest/", {"nickname": "  alice "})
    assert response.status_code == 302 and response["Location"] == "/"
    player = Player.objects.get()
    assert player.nickname == "alice"
    assert client.session["player_id"] == player.pk


def test_it_follows_a_local_next_after_the_nickname_form(client):
    assert client.post("/guest/", {"nickname": "alice", "next": "/match/x/"})["Location"] == "/match/x/"
    assert client.post("/guest/", {"nickname": "bob", "next": "https://evil.example/"})["Location"] == "/"


def test_it_shows_nickname_errors_on_the_form(client):
    response = client.post("/guest/", {"nickname": "bad\x07"})
    assert response.status_code == 400
    assert b"printable" in response.content
    assert not Player.objects.exists()


def test_it_lists_matches_for_a_player(client_as, alice, bob):
    make_match(bob, name="bobs brawl", status=Match.Status.RUNNING, seated=[bob], max_players=4)
    secret = make_match(alice, name="alices secret", private=True)
    make_match(bob, name="bobs secret", private=True)

    html = client_as(alice).get("/").content.decode()

    assert 'id="match-rows"' in html and 'data-ws="/ws/lobby/"' in html
    assert "bobs brawl" in html and "1/4" in html and "running" in html
    assert "alices secret" in html and secret.join_code in html
    assert "bobs secret" not in html
    assert 'action="/matches/new/"' in html and "lobby/lobby.js" in html


def test_it_creates_a_match_from_the_form_and_opens_it(client_as, alice):
    response = client_as(alice).post(
        "/matches/new/", {"name": "Friday", "max_players": "6", "tick_rate": "15"}
    )
    match = Match.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/match/{match.id}/"
    assert (match.name, match.max_players, match.tick_rate, match.private, match.creator) == (
        "Friday",
        6,
        15,
        False,
        alice,
    )


def test_it_opens_a_new_private_match_with_its_code(client_as, alice):
    response = client_as(alice).post(
        "/matches/new/", {"name": "friends", "max_players": "2", "tick_rate": "10", "private": "on"}
    )
    match = Match.objects.get()
    assert match.private
    assert response["Location"] == f"/match/{match.id}/?code={match.join_code}"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "max_players": "4", "tick_rate": "10"},
        {"name": "a", "max_players": "1", "tick_rate": "10"},
        {"name": "a", "max_players": "4", "tick_rate": "31"},
    ],
)
def test_it_shows_create_form_errors(client_as, alice, data):
    response = client_as(alice).post("/matches/new/", data)
    assert response.status_code == 400
    assert b"field-error" in response.content
    assert not Match.objects.exists()


def test_it_shows_the_match_cap_on_the_create_form(client_as, alice):
    for i in range(3):
        make_match(alice, name=f"m{i}")
    response = client_as(alice).post("/matches/new/", {"name": "4th", "max_players": "4", "tick_rate": "10"})
    assert response.status_code == 429
    assert b"at most 3 open matches" in response.content


def test_it_sends_a_visitor_without_a_player_back_from_the_create_form(client):
    response = client.post("/matches/new/", {"name": "x", "max_players": "4", "tick_rate": "10"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Match.objects.exists()


# Login and logout


def test_it_gives_a_user_a_player_on_login(client):
    User.objects.create_user("carol", password="correct horse battery")
    response = client.post("/login/", {"username": "carol", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    player = Player.objects.get(user__username="carol")
    assert player.nickname == "carol"
    assert client.session["player_id"] == player.pk

    # A second login finds the same player.
    client.post("/logout/")
    assert "player_id" not in client.session
    client.post("/login/", {"username": "carol", "password": "correct horse battery"})
    assert client.session["player_id"] == player.pk
    assert Player.objects.count() == 1


def test_it_replaces_a_guest_with_the_users_player_on_login(client, alice):
    client.post("/guest/", {"nickname": "guesty"})
    user = User.objects.create_user("dave", password="pw-dave-12345")
    client.force_login(user)
    assert client.session["player_id"] == user.player.pk


def test_it_renders_the_login_page(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


# The join page


def _config(response) -> dict:
    return json.loads(response.context["config_json"])


def test_it_opens_a_match_for_a_player(client_as, alice, stub_play_template):
    match = make_match(alice, tick_rate=20)
    response = client_as(alice).get(f"/match/{match.id}/")
    assert response.status_code == 200
    assert response.content == b"PLAY player"
    ctx = response.context
    assert ctx["match"] == match and ctx["player"] == alice and ctx["role"] == "player"
    assert ctx["ws_path"] == f"/ws/match/{match.id}/"
    assert _config(response) == {
        "match": str(match.id),
        "name": "arena",
        "ws": f"/ws/match/{match.id}/",
        "player": alice.pk,
        "nickname": "alice",
        "role": "player",
        "tick_rate": 20,
        "arena": [100, 100],
        "speed": 5,
        "is_creator": True,
        "build": settings.BUILD_ID,
    }
    assert len(settings.BUILD_ID) == 12  # a digest of static/, or CUBEARENA_BUILD
    assert not Participation.objects.exists()  # the seat is the socket's to take


def test_it_opens_a_match_to_watch(client_as, client, alice, bob, stub_play_template):
    match = make_match(alice)
    watching = client_as(bob).get(f"/match/{match.id}/", {"role": "spectator"})
    assert watching.context["role"] == "spectator"
    assert watching.context["ws_path"] == f"/ws/match/{match.id}/?role=spectator"
    assert _config(watching)["is_creator"] is False

    anonymous = client.get(f"/match/{match.id}/")
    assert anonymous.context["role"] == "spectator"
    assert _config(anonymous)["player"] is None and _config(anonymous)["nickname"] is None


def test_it_escapes_the_config_for_a_script_element(client_as, stub_play_template):
    sneaky = Player.objects.create(nickname="</script><b>")
    match = make_match(sneaky)
    raw = client_as(sneaky).get(f"/match/{match.id}/").context["config_json"]
    assert "<" not in raw and ">" not in raw
    assert json.loads(raw)["nickname"] == "</script><b>"


def test_it_refuses_a_full_match_to_a_player_without_a_seat(
    client_as, alice, bob, mallory, stub_play_template
):
    match = make_match(alice, max_players=2, seated=[alice, bob])

    response = client_as(mallory).get(f"/match/{match.id}/")
    assert response.status_code == 409
    assert b"This match is full" in response.content
    assert f"/match/{match.id}/?role=spectator".encode() in response.content

    # Seated players come back; anyone may still watch.
    assert client_as(bob).get(f"/match/{match.id}/").context["role"] == "player"
    assert client_as(mallory).get(f"/match/{match.id}/", {"role": "spectator"}).status_code == 200


@pytest.mark.parametrize("status", [Match.Status.FINISHED, Match.Status.ABANDONED])
def test_it_sends_an_ended_match_to_its_summary(client_as, alice, status):
    match = make_match(alice, status=status)
    response = client_as(alice).get(f"/match/{match.id}/")
    assert response.status_code == 302
    assert response["Location"] == f"/match/{match.id}/summary/"


def test_it_refuses_a_private_match_without_its_code(
    client_as, client, alice, bob, mallory, stub_play_template
):
    match = make_match(alice, private=True, seated=[bob])
    url = f"/match/{match.id}/"

    for visitor, query in [(client_as(mallory), {}), (client_as(mallory), {"code": "nope"}), (client, {})]:
        response = visitor.get(url, query)
        assert response.status_code == 403
        assert b"This match is private" in response.content
    assert client.get(url, {"role": "spectator"}).status_code == 403

    # The right code, the creator, and a seated player all get in; the socket gets the code.
    with_code = client_as(mallory).get(url, {"code": match.join_code})
    assert with_code.status_code == 200
    assert with_code.context["ws_path"] == f"/ws/match/{match.id}/?code={match.join_code}"
    creator = client_as(alice).get(url)
    assert creator.context["ws_path"].endswith(f"?code={match.join_code}")
    assert creator.context["share_url"] == f"{url}?code={match.join_code}"
    assert client_as(bob).get(url).status_code == 200


def test_it_answers_an_unknown_match_page_with_404(client):
    assert client.get(f"/match/{uuid.uuid4()}/").status_code == 404


def test_it_renders_the_real_game_page_when_it_exists(client_as, alice):
    try:
        get_template("game/play.html")
    except TemplateDoesNotExist:
        pytest.skip("game/play.html is not written yet")
    match = make_match(alice)
    assert client_as(alice).get(f"/match/{match.id}/").status_code == 200


# The summary


def test_it_summarises_a_finished_match(client, alice, bob):
    start = timezone.now() - timedelta(minutes=3, seconds=5)
    match = make_match(
        alice,
        name="grand final",
        status=Match.Status.FINISHED,
        started=start,
        ended=start + timedelta(minutes=2, seconds=5),
        final_entities=17,
        end_reason="creator ended the match",
    )
    Participation.objects.create(match=match, player=alice, color="#e5533d", spawned=12, deleted=3, moves=40)
    Participation.objects.create(match=match, player=bob, color="#3d8be5", spawned=8, rejected=2)
    MatchEvent.objects.create(match=match, tick=5, player=alice, kind="spawn", payload={"at": [1, 2]})
    MatchEvent.objects.create(match=match, tick=9, player=bob, kind="reject", payload={"code": "not_owner"})

    response = client.get(f"/match/{match.id}/summary/")

    assert response.status_code == 200
    html = response.content.decode()
    for text in ["grand final", "2:05", "17", "creator ended the match", "#e5533d", "#3d8be5", "not_owner"]:
        assert text in html
    assert [seat.spawned for seat in response.context["seats"]] == [12, 8]
    assert [event.tick for event, _ in response.context["events"]] == [5, 9]


def test_it_keeps_only_the_last_events_on_the_summary(client, alice):
    match = make_match(alice, status=Match.Status.FINISHED)
    MatchEvent.objects.bulk_create(MatchEvent(match=match, tick=t, kind="spawn") for t in range(80))
    events = client.get(f"/match/{match.id}/summary/").context["events"]
    assert [event.tick for event, _ in events] == list(range(30, 80))


def test_it_sends_a_live_match_summary_to_the_match(client, alice):
    match = make_match(alice, status=Match.Status.RUNNING)
    response = client.get(f"/match/{match.id}/summary/")
    assert response.status_code == 302 and response["Location"] == f"/match/{match.id}/"


def test_it_keeps_a_private_summary_private(client_as, alice, mallory):
    match = make_match(alice, private=True, status=Match.Status.FINISHED)
    url = f"/match/{match.id}/summary/"
    assert client_as(mallory).get(url).status_code == 403
    assert client_as(mallory).get(url, {"code": match.join_code}).status_code == 200
    assert client_as(alice).get(url).status_code == 200
    # The code survives the redirect from the join page.
    assert Client().get(f"/match/{match.id}/", {"code": match.join_code})["Location"] == (
        f"{url}?code={match.join_code}"
    )


def test_every_page_has_a_favicon_and_favicon_ico_is_not_a_404(client):
    assert b'rel="icon"' in client.get("/").content
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
