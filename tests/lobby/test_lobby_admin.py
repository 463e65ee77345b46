"""The admin: staff reach every lobby page; everyone else is sent to the admin login."""

import pytest
from django.contrib.auth.models import User

from lobby.models import Match, MatchEvent, Participation

from .lobby_helpers import make_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(alice, bob):
    match = make_match(alice, name="admin view", status=Match.Status.FINISHED, seated=[alice, bob])
    MatchEvent.objects.bulk_create(
        MatchEvent(match=match, tick=t, player=alice, kind="spawn") for t in range(60)
    )
    return match


def _pages(match):
    seat = Participation.objects.filter(match=match).first()
    event = MatchEvent.objects.filter(match=match).first()
    return [
        "/admin/",
        "/admin/lobby/match/",
        "/admin/lobby/match/?status__exact=finished",
        "/admin/lobby/match/?q=bob",
        f"/admin/lobby/match/{match.pk}/change/",
        "/admin/lobby/player/?q=alice",
        f"/admin/lobby/player/{match.creator_id}/change/",
        "/admin/lobby/participation/",
        f"/admin/lobby/participation/{seat.pk}/change/",
        "/admin/lobby/matchevent/?kind__exact=spawn&q=admin",
        f"/admin/lobby/matchevent/{event.pk}/change/",
    ]


def test_it_opens_every_lobby_admin_page_for_staff(client, records):
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    for url in _pages(records):
        response = client.get(url)
        assert response.status_code == 200, url


def test_it_finds_matches_by_participant_nickname(client, records, mallory):
    make_match(mallory, name="other")
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    response = client.get("/admin/lobby/match/?q=bob")
    assert list(response.context["cl"].result_list) == [records]
    assert response.context["cl"].result_list[0].seat_count == 2


def test_it_shows_only_the_latest_events_inline(client, records):
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    response = client.get(f"/admin/lobby/match/{records.pk}/change/")
    event_formset = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is MatchEvent)
    ticks = [form.instance.tick for form in event_formset.formset.forms]
    assert ticks == list(range(59, 9, -1))


def test_it_sends_anonymous_visitors_to_the_admin_login(client, records):
    for url in _pages(records):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_it_keeps_players_who_are_not_staff_out(client, records):
    client.force_login(User.objects.create_user("eve", password="pw-eve-12345"))
    response = client.get("/admin/lobby/match/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_saves_a_match_with_its_read_only_inlines(client, records):
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    url = f"/admin/lobby/match/{records.pk}/change/"
    page = client.get(url)
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{management.prefix}-{name}"] = management.initial.get(name, field.initial) or 0
    form = page.context["adminform"].form
    data.update({name: form.initial.get(name) for name in form.fields if form.initial.get(name) is not None})
    data.update({"name": "renamed", "private": "", "checkpoint": ""})
    data = {key: value for key, value in data.items() if value is not None}

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    records.refresh_from_db()
    assert records.name == "renamed"
    assert MatchEvent.objects.filter(match=records).count() == 60


def test_a_running_match_s_live_fields_and_its_events_cannot_be_changed(client, alice, bob):
    match = make_match(alice, name="live", status=Match.Status.RUNNING, seated=[alice])
    event = MatchEvent.objects.create(
        match=match, tick=3, player=bob, kind="warning", payload={"rule": "speed_cap"}
    )
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    form = client.get(f"/admin/lobby/match/{match.pk}/change/").context["adminform"].form
    assert not {"status", "tick_rate", "arbiter_channel", "epoch", "checkpoint", "last_tick_at"} & set(
        form.fields
    )
    assert client.post(f"/admin/lobby/match/{match.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Match.objects.filter(pk=match.pk).exists()
    assert client.post(f"/admin/lobby/matchevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"/admin/lobby/matchevent/{event.pk}/change/")
    assert page.status_code == 200 and not page.context["adminform"].form.fields  # view only
    listing = client.get("/admin/lobby/matchevent/")
    assert b"speed_cap" in listing.content
    actions = client.get("/admin/lobby/match/").context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _ in actions]
    assert MatchEvent.objects.filter(pk=event.pk).exists()
