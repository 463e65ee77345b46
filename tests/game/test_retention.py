"""One retention policy: prunerecords deletes an ended match's input log with its events."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from game.models import MatchLog, MatchLogChunk
from lobby.models import Match

pytestmark = pytest.mark.django_db


def chunk_of(name: str, status: str, ended_days_ago: float | None) -> Match:
    ended = timezone.now() - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    match = Match.objects.create(name=name, status=status, ended=ended)
    MatchLogChunk.objects.create(match=match, first_tick=1, last_tick=20, version=1, entries=b"x")
    MatchLog.objects.create(match=match, log_version=1, rules_version=1, settings={}, initial={})
    return match


def test_prunerecords_deletes_the_input_log_of_matches_ended_before_the_policy_only(settings):
    old = chunk_of("old", Match.Status.FINISHED, 31)
    chunk_of("recent", Match.Status.FINISHED, 29)
    chunk_of("abandoned", Match.Status.ABANDONED, 40)
    chunk_of("running", Match.Status.RUNNING, None)
    out = StringIO()
    call_command("prunerecords", "--dry-run", stdout=out)
    assert "would delete 2 input log chunks" in out.getvalue() and MatchLogChunk.objects.count() == 4
    call_command("prunerecords", stdout=out)
    assert "deleted 2 input log chunks of matches ended more than 30 days ago" in out.getvalue()
    assert sorted(MatchLogChunk.objects.values_list("match__name", flat=True)) == ["recent", "running"]
    assert "deleted 2 input log headers" in out.getvalue()
    assert sorted(MatchLog.objects.values_list("match__name", flat=True)) == ["recent", "running"]
    assert Match.objects.filter(pk=old.pk).exists()  # the record stays; its log goes
