"""The arbiter's once-a-second write: events, changed seat counters, heartbeat and checkpoint.

Nothing here runs per command or per tick.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db import connection, transaction
from django.utils import timezone

from lobby.models import Match, MatchEvent, Participation


@dataclass(slots=True)
class SeatRecord:
    player: int
    presence: str | None  # "joined" or "left" when that changed since the last flush
    last_seq: int
    spawned: int
    deleted: int
    moves: int
    rejected: int
    kicked: bool


@database_sync_to_async
def flush(match_id: str, channel: str, tick: int, checkpoint: dict | None, events: list,
          seats: list[SeatRecord], tick_lag: dict | None = None) -> tuple[bool, list[tuple[int, dict]]]:
    """Write a second's worth of events and counters and the heartbeat; read pending operator actions.

    Returns (still ours, [(action id, verdict)]); not ours means another arbiter adopted the match.
    """
    from game.models import OperatorAction

    now = timezone.now()
    with transaction.atomic():
        still_ours = Match.objects.filter(pk=match_id, arbiter_channel=channel).update(
            last_tick=tick, last_tick_at=now, checkpoint=checkpoint, tick_lag=tick_lag
        )
        if events:
            MatchEvent.objects.bulk_create(
                MatchEvent(match_id=match_id, tick=e.tick, player_id=e.player, kind=e.kind, payload=e.payload) for e in events
            )
        if seats:
            _write_seats(match_id, seats, now)
    actions = []
    if still_ours:
        actions = [(a.pk, a.as_verdict()) for a in OperatorAction.objects.filter(match_id=match_id, applied__isnull=True)]
    return bool(still_ours), actions


COUNTERS = ("last_seq", "spawned", "deleted", "moves", "rejected", "kicked")


def _write_seats(match_id: str, seats: list[SeatRecord], now) -> None:
    """Counters of every changed seat in one executemany; presence for the few that changed.

    Not bulk_update: its CASE WHEN per row and field cost ~15 ms of CPU a second for 100
    seats, in a thread holding the GIL the event loop needs (py-spy, benchmarks/README.md).
    """
    table = connection.ops.quote_name(Participation._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(Participation._meta.get_field(f).column)} = %s" for f in COUNTERS)
    match_col = connection.ops.quote_name(Participation._meta.get_field("match").column)
    player_col = connection.ops.quote_name(Participation._meta.get_field("player").column)
    match_key = Match._meta.pk.get_db_prep_value(uuid.UUID(str(match_id)), connection)  # hex on SQLite
    rows = [(*(getattr(s, f) for f in COUNTERS), match_key, s.player) for s in seats]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {match_col} = %s AND {player_col} = %s", rows)
    for s in seats:
        if s.presence is not None:
            joined = s.presence == "joined"
            Participation.objects.filter(match_id=match_id, player_id=s.player).update(
                online=joined, left=None if joined else now)


@database_sync_to_async
def mark_actions_applied(results: list[tuple[int, str]]) -> None:
    from game.models import OperatorAction

    now = timezone.now()
    for pk, result in results:
        OperatorAction.objects.filter(pk=pk, applied__isnull=True).update(applied=now, result=result[:200])


