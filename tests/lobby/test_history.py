"""History: a player's page lists their ended matches with what they did, the lobby shows the
newest finished ones, and the admin links each ended match to its replay."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lobby.models import Match, Participation

pytestmark = pytest.mark.django_db


def ended(
    name, *seats, minutes=5, ago=1, status=Match.Status.FINISHED, reason="ended by its creator", **fields
):
    """An ended match `ago` hours back lasting `minutes`; seats are (player, counters dict)."""
    end = timezone.now() - timedelta(hours=ago)
    match = Match.objects.create(
        name=name,
        status=status,
        started=end - timedelta(minutes=minutes),
        ended=end,
        end_reason=reason,
        **fields,
    )
    for player, counters in seats:
        Participation.objects.create(match=match, player=player, color="#123456", **counters)
    return match


def rows(html: str) -> list[str]:
    body = html.split('id="history"', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", "<tr" + r)).strip() for r in body.split("<tr")[2:]]


def test_a_players_page_lists_their_matches_newest_first_with_what_they_did(alice, bob, client_as):
    old = ended(
        "first", (alice, dict(spawned=3, deleted=1, moves=7, rejected=2, last_seq=13)), ago=5, minutes=2
    )
    new = ended(
        "second",
        (alice, dict(spawned=9, deleted=4, moves=20, rejected=0, last_seq=33, kicked=True)),
        (bob, dict(spawned=1)),
        minutes=65,
    )
    gone = ended("third", (alice, {}), status=Match.Status.ABANDONED, reason="its game server stopped", ago=9)
    Match.objects.create(name="running", status=Match.Status.RUNNING)  # not history yet
    Participation.objects.create(match=Match.objects.get(name="running"), player=alice, color="#000000")

    page = Client().get(reverse("lobby:player", args=[alice.pk]))  # anyone may look
    assert page.status_code == 200
    html = page.content.decode()
    listed = rows(html)
    assert len(listed) == 3 and "running" not in html
    # date, match, duration, result, spawned, deleted, commands, rejected
    assert listed[0].startswith(new.started.strftime("%Y-%m-%d %H:%M") + " second 1:05:00 kicked 9 4 33 0")
    assert listed[1].startswith(
        old.started.strftime("%Y-%m-%d %H:%M") + " first 2:00 ended by its creator 3 1 13 2"
    )
    assert "third" in listed[2] and "abandoned" in listed[2]
    for m in (old, new, gone):
        assert reverse("lobby:summary", args=[m.pk]) in html

    summary = client_as(bob).get(reverse("lobby:summary", args=[new.pk])).content.decode()
    assert reverse("lobby:player", args=[alice.pk]) in summary  # seats link to their players' pages


def test_private_matches_are_in_a_players_history_for_them_only(alice, bob, client_as):
    secret = ended("secret", (alice, dict(spawned=2)), private=True)
    ended("open", (alice, {}))
    mine = client_as(alice).get(reverse("lobby:player", args=[alice.pk])).content.decode()
    assert "secret" in mine and f"?code={secret.join_code}" in mine
    theirs = client_as(bob).get(reverse("lobby:player", args=[alice.pk])).content.decode()
    assert "open" in theirs and "secret" not in theirs
    assert Client().get(reverse("lobby:player", args=[99999])).status_code == 404


def test_the_lobby_shows_recent_finished_public_matches_newest_first(alice, bob, client_as):
    for n in range(12):
        ended(f"done-{n}", (alice, {}), (bob, {}), ago=n + 1)
    ended("hidden", (alice, {}), private=True, ago=0.5)
    Match.objects.create(name="live one", status=Match.Status.RUNNING)
    for client in (Client(), client_as(alice)):  # with or without a nickname
        html = client.get(reverse("lobby:index")).content.decode()
        recent = html.split('id="recent"', 1)[1]
        names = re.findall(r'<td class="name">([^<]+)</td>', recent)
        assert names == [f"done-{n}" for n in range(10)]
        assert "hidden" not in recent and "live one" not in recent and "alice, bob" in recent
    assert (
        reverse("lobby:player", args=[alice.pk])
        in client_as(alice).get(reverse("lobby:index")).content.decode()
    )


def test_the_admin_links_each_ended_match_to_its_replay(alice):
    done = ended("done", (alice, {}))
    live = Match.objects.create(name="live", status=Match.Status.RUNNING)
    User.objects.create_superuser("root", "r@example.com", "pw")
    client = Client()
    client.login(username="root", password="pw")
    listing = client.get(reverse("admin:lobby_match_changelist")).content.decode()
    assert reverse("lobby:replay", args=[done.pk]) in listing
    assert reverse("lobby:replay", args=[live.pk]) not in listing
    page = client.get(reverse("admin:lobby_match_change", args=[done.pk])).content.decode()
    assert "watch replay" in page


def test_a_finished_match_has_a_watch_replay_button_and_a_viewer_page(alice, bob, client_as):
    done = ended("done", (alice, {}))
    summary = Client().get(reverse("lobby:summary", args=[done.pk])).content.decode()
    assert f'id="watch-replay" href="{reverse("lobby:replay", args=[done.pk])}"' in summary
    page = Client().get(reverse("lobby:replay", args=[done.pk])).content.decode()
    assert f"/ws/replay/{done.pk}/" in page and "js/replay/viewer.js" in page

    secret = ended("secret", (alice, {}), private=True)
    assert client_as(bob).get(reverse("lobby:replay", args=[secret.pk])).status_code == 403
    mine = client_as(alice).get(reverse("lobby:replay", args=[secret.pk]))
    assert mine.status_code == 200
    coded = (
        Client().get(reverse("lobby:replay", args=[secret.pk]) + f"?code={secret.join_code}").content.decode()
    )
    assert f"/ws/replay/{secret.pk}/?code={secret.join_code}" in coded

    live = Match.objects.create(name="live", status=Match.Status.RUNNING)
    assert Client().get(reverse("lobby:replay", args=[live.pk])).url == reverse("lobby:play", args=[live.pk])
