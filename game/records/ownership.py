"""Which arbiter owns a match: the claim that starts or adopts it, and the finish that closes it."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from game import limits
from game.messages import Claim
from game.records.lane import check_deadline
from lobby.models import Match, Participation


def claim_match(match_id: str, channel: str) -> Claim:
    """Own the match if nobody live does (a conditional update settles races). A lane job."""
    now = timezone.now()
    stale = now - timedelta(seconds=limits.ARBITER_STALE_S)
    claimable = (
        Q(arbiter_channel="")
        | Q(arbiter_channel=channel)
        | Q(last_tick_at__lt=stale)
        | Q(last_tick_at__isnull=True)
    )
    live = Match.objects.filter(pk=match_id, status__in=[Match.Status.LOBBY, Match.Status.RUNNING])
    previous = live.filter(claimable).values_list("arbiter_channel", flat=True).first()
    won = 0
    if previous is not None:  # claimable: take it unless someone else changed it meanwhile
        won = live.filter(claimable, arbiter_channel=previous).update(
            arbiter_channel=channel, last_tick_at=now, status=Match.Status.RUNNING
        )
    match = Match.objects.filter(pk=match_id).first()
    if match is None or match.is_over:
        return Claim(owned=False)
    if not won:
        return Claim(owned=False, owner=match.arbiter_channel)
    if match.started is None:
        Match.objects.filter(pk=match_id, started__isnull=True).update(started=now)
    adopted = bool(previous) and previous != channel
    return Claim(
        owned=True,
        tick_rate=match.tick_rate,
        arena=(match.arena_width, match.arena_depth),
        creator=match.creator_id,
        checkpoint=match.checkpoint,
        adopted=adopted,
    )


def finish_match(match_id: str, channel: str, tick: int, entities: int, reason: str) -> None:
    """Close the record: finished, with the final entity count; frees the seats' online flags. A lane job."""
    now = timezone.now()
    with transaction.atomic():
        Match.objects.filter(pk=match_id, arbiter_channel=channel).update(
            status=Match.Status.FINISHED,
            ended=now,
            end_reason=reason[:120],
            last_tick=tick,
            last_tick_at=now,
            final_entities=entities,
            arbiter_channel="",
            checkpoint=None,
        )
        Participation.objects.filter(match_id=match_id, online=True).update(online=False, left=now)
        check_deadline()
