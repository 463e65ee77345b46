"""Which arbiter owns a match: the claim that starts or adopts it, and the finish that closes it.

Liveness is the lease in the match store (game/transport/match_store.py), judged on one
clock; the record keeps who owns the match and its epoch, the fencing token that every
write of the owner names (flush.py), so a worker that lost the match writes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now

from game.messages import Claim
from game.models import MatchLogChunk
from game.records.lane import check_deadline
from game.records.replays import raw_entries
from game.sim.inputlog import LOG_VERSION
from lobby.models import Match, Participation

LIVE = [Match.Status.LOBBY, Match.Status.RUNNING]


def claim_match(match_id: str, channel: str) -> Claim:
    """Record this arbiter as the match's owner under the next epoch. The caller holds the
    match's lease, so no other live arbiter claims it meanwhile. A lane job."""
    with transaction.atomic():
        live = Match.objects.filter(pk=match_id, status__in=LIVE)
        previous = live.values_list("arbiter_channel", flat=True).first()
        if previous is None:
            return Claim(owned=False)  # over, or no such match
        Match.objects.filter(pk=match_id).update(
            arbiter_channel=channel,
            epoch=F("epoch") + 1,
            status=Match.Status.RUNNING,
            last_tick_at=Now(),
            started=Coalesce(F("started"), Now()),
        )
        match = Match.objects.get(pk=match_id)
        check_deadline()
    return Claim(
        owned=True,
        epoch=match.epoch,
        tick_rate=match.tick_rate,
        arena=(match.arena_width, match.arena_depth),
        creator=match.creator_id,
        checkpoint=match.checkpoint,
        adopted=bool(previous) or match.checkpoint is not None,
        tail=logged_since(match_id, match.checkpoint),
    )


def logged_since(match_id: str, checkpoint: dict | None) -> list[bytes]:
    """The input log's entries the database holds after the checkpoint, each still encoded.
    The checkpoint is written every few flushes and a log chunk every flush, so these carry
    the match on where the store lost its tail: the embedded server's memory after a crash,
    or a Redis that lost its data while the owner died. The store's tail follows them
    (the runtime replays each tick once)."""
    if checkpoint is None:
        return []
    rows = (
        MatchLogChunk.objects.filter(
            match_id=match_id, last_tick__gt=int(checkpoint["tick"]), version=LOG_VERSION
        )
        .order_by("first_tick")
        .values_list("entries", flat=True)
    )
    return [raw for blob in rows for raw in raw_entries(blob)]


def running_matches(among: list[str] | None = None) -> list[str]:
    """The ids of the running matches (of `among`, if given): what the stale watch adopts from."""
    rows = Match.objects.filter(status=Match.Status.RUNNING)
    if among is not None:
        rows = rows.filter(pk__in=among)
    return [str(pk) for pk in rows.values_list("id", flat=True)]


def finish_match(match_id: str, epoch: int, tick: int, entities: int, reason: str, abandoned=False) -> bool:
    """Close the record: finished (or abandoned), with the final entity count; frees the seats'
    online flags. False if another epoch owns the match now. A lane job."""
    with transaction.atomic():
        done = Match.objects.filter(pk=match_id, epoch=epoch, status__in=LIVE).update(
            status=Match.Status.ABANDONED if abandoned else Match.Status.FINISHED,
            ended=Now(),
            end_reason=reason[:120],
            last_tick=tick,
            last_tick_at=Now(),
            final_entities=entities,
            arbiter_channel="",
            checkpoint=None,
        )
        if done:
            Participation.objects.filter(match_id=match_id, online=True).update(online=False, left=Now())
        check_deadline()
    return bool(done)
