"""manage.py prunerecords: old events of ended matches and idle guests go; the rest stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from lobby.models import Match, MatchEvent, Participation, Player

from .lobby_helpers import make_match

pytestmark = pytest.mark.django_db


def _age(queryset, days, field="created"):
    queryset.update(**{field: timezone.now() - timedelta(days=days)})


def _prune(*args) -> str:
    out = StringIO()
    call_command("prunerecords", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_old_events_of_ended_matches_only(alice):
    finished = make_match(alice, status=Match.Status.FINISHED)
    abandoned = make_match(alice, status=Match.Status.ABANDONED)
    running = make_match(alice, status=Match.Status.RUNNING)
    for match in (finished, abandoned, running):
        MatchEvent.objects.create(match=match, kind="spawn", tick=1)
        MatchEvent.objects.create(match=match, kind="spawn", tick=2)
    _age(MatchEvent.objects.filter(tick=1), 31)
    _age(MatchEvent.objects.filter(tick=2), 29)

    out = _prune()

    assert "deleted 2 match events older than 30 days" in out
    left = MatchEvent.objects.values_list("match_id", "tick")
    assert sorted((str(m), t) for m, t in left) == sorted(
        [(str(finished.id), 2), (str(abandoned.id), 2), (str(running.id), 1), (str(running.id), 2)]
    )


def test_it_deletes_idle_guests_not_in_a_running_match(alice, bob, mallory):
    Player.objects.create(nickname="carol", user=User.objects.create_user("carol"))
    recent = Player.objects.create(nickname="recent")
    running = make_match(None, status=Match.Status.RUNNING, seated=[bob])
    ended = make_match(alice, status=Match.Status.FINISHED, seated=[mallory])
    _age(Player.objects.exclude(pk=recent.pk), 40, field="last_seen")

    out = _prune()

    # alice (idle, created an ended match) and mallory (idle, seat in an ended match) go;
    # bob is seated in a running match, carol is a user, recent was seen lately.
    assert "deleted 2 guest players idle more than 30 days" in out
    assert set(Player.objects.values_list("nickname", flat=True)) == {"bob", "carol", "recent"}
    assert Match.objects.get(pk=ended.pk).creator is None
    assert not Participation.objects.filter(match=ended).exists()
    assert Participation.objects.filter(match=running, player=bob).exists()


def test_it_takes_its_ages_from_the_options(alice):
    match = make_match(alice, status=Match.Status.FINISHED)
    MatchEvent.objects.create(match=match, kind="end")
    _age(MatchEvent.objects.all(), 3)
    _age(Player.objects.all(), 3, field="last_seen")

    assert "deleted 0 match events" in _prune()
    out = _prune("--days", "2", "--guest-days", "2")
    assert "deleted 1 match events older than 2 days" in out
    assert "deleted 1 guest players idle more than 2 days" in out


def test_it_only_counts_on_a_dry_run(alice):
    match = make_match(alice, status=Match.Status.FINISHED)
    MatchEvent.objects.create(match=match, kind="end")
    _age(MatchEvent.objects.all(), 90)
    _age(Player.objects.all(), 90, field="last_seen")

    out = _prune("--dry-run")

    assert "would delete 1 match events" in out and "would delete 1 guest players" in out
    assert MatchEvent.objects.count() == 1 and Player.objects.count() == 1
