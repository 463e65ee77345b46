"""Who is online, in the lobby: seats online in running matches, then players seen lately."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lobby import limits, serialize
from lobby.models import Match, Participation, Player

from .lobby_helpers import make_match, sign_in

pytestmark = pytest.mark.django_db


def away(*players: Player) -> None:
    Player.objects.filter(pk__in=[p.pk for p in players]).update(
        last_seen=timezone.now() - limits.ONLINE_SEEN_WITHIN - timedelta(minutes=1)
    )


@pytest.fixture
def scene(alice, bob, mallory):
    carol = Player.objects.create(nickname="carol")  # seen just now (a page view), in no match
    dave = Player.objects.create(nickname="dave")
    erin = Player.objects.create(nickname="erin")
    away(alice, bob, mallory, dave, erin)  # online only through a seat, if at all
    public = make_match(alice, name="open field", status=Match.Status.RUNNING, seated=[alice, dave])
    secret = make_match(bob, name="secret", status=Match.Status.RUNNING, private=True, seated=[bob])
    over = make_match(erin, name="over", status=Match.Status.FINISHED, seated=[erin])
    Participation.objects.filter(match__in=[public, secret, over]).exclude(player=dave).update(online=True)
    return public, carol


def test_it_lists_players_with_an_online_seat_then_players_seen_lately(scene):
    public, carol = scene
    online = serialize.online_players()
    assert online == {
        "count": 3,
        "players": [
            {"id": online["players"][0]["id"], "nickname": "alice", "status": "playing",
             "match": {"id": str(public.pk), "name": "open field"}},
            {"id": online["players"][1]["id"], "nickname": "bob", "status": "playing", "match": None},
            {"id": carol.pk, "nickname": "carol", "status": "lobby", "match": None},
        ],
    }  # fmt: skip
    # dave's seat is offline, erin's match is over, mallory was seen too long ago: not online


def test_it_lists_a_player_in_two_matches_once_and_caps_the_list_but_not_the_count(scene, alice):
    make_match(alice, name="second", status=Match.Status.RUNNING, seated=[alice])
    Participation.objects.filter(match__name="second").update(online=True)
    for i in range(4):
        Player.objects.create(nickname=f"zed{i}")
    online = serialize.online_players(limit=3)
    assert [p["nickname"] for p in online["players"]] == ["alice", "bob", "carol"]
    assert online["count"] == 7
    assert [p["nickname"] for p in serialize.online_players()["players"]].count("alice") == 1


def test_the_lobby_page_shows_who_is_online_as_text(scene):
    public, carol = scene
    Player.objects.filter(pk=carol.pk).update(nickname="<b>carol</b>")
    page = sign_in(Client(), carol).get("/")
    body = page.content.decode()
    assert page.status_code == 200
    online = body[body.index('id="online"') :]
    assert "&lt;b&gt;carol&lt;/b&gt;" in online and "<b>carol" not in online
    assert "open field" in online and "secret" not in online  # a private match is not named
    assert online.index("alice") < online.index("carol")


def test_the_lobby_page_shows_no_list_to_a_visitor_without_a_nickname(scene):
    assert 'id="online"' not in Client().get("/").content.decode()
