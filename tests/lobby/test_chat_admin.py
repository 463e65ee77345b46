"""Staff redact a chat message in the admin: the event stays, its text goes, who and when are noted."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User

from lobby.admin import REDACTED
from lobby.models import Match, MatchEvent

from .lobby_helpers import make_match

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/lobby/matchevent/"


@pytest.fixture
def lines(alice, bob):
    match = make_match(alice, name="chatty", status=Match.Status.FINISHED, seated=[alice, bob])
    rude = MatchEvent.objects.create(
        match=match, tick=5, player=bob, kind="chat", payload={"text": "rude words"}
    )
    kind = MatchEvent.objects.create(match=match, tick=6, player=alice, kind="chat", payload={"text": "gg"})
    spawn = MatchEvent.objects.create(match=match, tick=7, player=alice, kind="spawn", payload={"id": 1})
    return rude, kind, spawn


def redact(client, *events):
    return client.post(
        CHANGELIST, {"action": "redact_chat", "_selected_action": [e.pk for e in events]}, follow=True
    )


def test_it_replaces_the_text_keeps_the_event_and_notes_who_and_when(client, lines):
    rude, kind, spawn = lines
    root = User.objects.create_superuser("root", password="pw-root-12345")
    client.force_login(root)
    before = MatchEvent.objects.count()
    response = redact(client, rude, spawn)
    assert response.status_code == 200
    assert "Redacted 1 chat message(s)." in response.content.decode()
    assert MatchEvent.objects.count() == before  # nothing deleted
    rude.refresh_from_db()
    assert rude.payload["text"] == REDACTED and "rude" not in str(rude.payload)
    assert rude.payload["redacted"]["by"] == "root" and rude.payload["redacted"]["at"]
    assert (rude.kind, rude.tick, rude.player_id) == ("chat", 5, lines[0].player_id)
    kind.refresh_from_db()
    spawn.refresh_from_db()
    assert kind.payload == {"text": "gg"} and spawn.payload == {"id": 1}  # not selected / not chat
    assert LogEntry.objects.filter(object_id=str(rude.pk), user=root).exists()

    # Redacting again changes nothing: the first redaction's who and when stay.
    first = dict(rude.payload["redacted"])
    redact(client, rude)
    rude.refresh_from_db()
    assert rude.payload["redacted"] == first


def test_events_stay_read_only_and_undeletable(client, lines):
    rude = lines[0]
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    page = client.get(CHANGELIST)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert "redact_chat" in actions and "delete_selected" not in actions
    assert client.post(f"{CHANGELIST}{rude.pk}/change/", {"payload": "{}"}).status_code == 403
    assert client.post(f"{CHANGELIST}{rude.pk}/delete/", {"post": "yes"}).status_code == 403
    rude.refresh_from_db()
    assert rude.payload == {"text": "rude words"}


def test_staff_who_may_only_view_events_cannot_redact(client, lines):
    rude = lines[0]
    viewer = User.objects.create_user("viewer", password="pw-view-12345", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_matchevent"))
    client.force_login(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no action at all for them
    redact(client, rude)
    rude.refresh_from_db()
    assert rude.payload == {"text": "rude words"}


def test_the_list_shows_a_chat_lines_text_escaped(client, lines):
    rude = lines[0]
    rude.payload = {"text": "<script>alert(1)</script>"}
    rude.save()
    client.force_login(User.objects.create_superuser("root", password="pw-root-12345"))
    body = client.get(CHANGELIST + "?kind__exact=chat").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
