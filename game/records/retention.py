"""The game's part of the retention policy: an ended match's input log (its chunks and its
header) goes with its events."""

from django.dispatch import receiver

from game.models import MatchLog, MatchLogChunk
from lobby.models import Match
from lobby.signals import prune_ended_matches

ENDED = [Match.Status.FINISHED, Match.Status.ABANDONED]


def _prune(model, before, dry_run) -> int:
    rows = model.objects.filter(match__status__in=ENDED, match__ended__lt=before)
    return rows.count() if dry_run else rows.delete()[1].get(model._meta.label, 0)


@receiver(prune_ended_matches, dispatch_uid="game.prune_logs")
def prune_logs(sender, before, dry_run, **kwargs) -> tuple[str, int]:
    return "input log chunks", _prune(MatchLogChunk, before, dry_run)


@receiver(prune_ended_matches, dispatch_uid="game.prune_log_headers")
def prune_log_headers(sender, before, dry_run, **kwargs) -> tuple[str, int]:
    return "input log headers", _prune(MatchLog, before, dry_run)
