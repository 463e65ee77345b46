"""The game's part of the retention policy: an ended match's input log goes with its events."""

from django.dispatch import receiver

from game.models import MatchLogChunk
from lobby.models import Match
from lobby.signals import prune_ended_matches


@receiver(prune_ended_matches, dispatch_uid="game.prune_logs")
def prune_logs(sender, before, dry_run, **kwargs) -> tuple[str, int]:
    chunks = MatchLogChunk.objects.filter(
        match__status__in=[Match.Status.FINISHED, Match.Status.ABANDONED], match__ended__lt=before
    )
    count = chunks.count() if dry_run else chunks.delete()[1].get(MatchLogChunk._meta.label, 0)
    return "input log chunks", count
