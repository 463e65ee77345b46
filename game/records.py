"""Every database touch of the game, each in its own small helper run off the event loop.

The arbiter writes at lifecycle edges (claim, finish) and in one batch a second (flush);
nothing here runs per command or per tick.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from channels.db import database_sync_to_async
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from game import limits
from lobby.models import PALETTE, Match, MatchEvent, Participation, Player

log = logging.getLogger("game.records")


class SocketRefusal(Exception):
    """The socket may not play or watch here; closes with `code` (PROTOCOL.md close codes)."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True, slots=True)
class SocketGrant:
    match_id: str
    group: str
    creator: int | None
    arbiter_channel: str  # "" when no live arbiter owns the match
    player: int | None
    nickname: str
    color: str | None


def _live_owner(match: Match) -> str:
    fresh = match.last_tick_at and timezone.now() - match.last_tick_at < timedelta(seconds=limits.ARBITER_STALE_S)
    return match.arbiter_channel if (match.arbiter_channel and fresh) else ""


@database_sync_to_async
def admit_socket(match_id: str, session, spectator: bool, code: str | None) -> SocketGrant:
    """Check the match and take a seat for a player socket (spectators take none)."""
    player_id = session.get("player_id") if session is not None else None  # loads the session
    try:
        match = Match.objects.get(pk=match_id)
    except (Match.DoesNotExist, ValueError):
        raise SocketRefusal(4404, "no such match") from None
    if match.is_over:
        raise SocketRefusal(4410, "this match is over")
    if match.private and code != match.join_code and not (player_id and match.creator_id == player_id):
        raise SocketRefusal(4403, "this private match needs its join code")
    if spectator:
        return SocketGrant(str(match.id), match.group_name, match.creator_id, _live_owner(match), None, "", None)
    if player_id is None:
        raise SocketRefusal(4401, "pick a nickname first: no player session")
    player = Player.objects.filter(pk=player_id).first()
    if player is None:
        raise SocketRefusal(4401, "your player session is no longer valid")
    seat = _take_seat(match, player)
    if seat.kicked:
        raise SocketRefusal(4430, "you were removed from this match")
    return SocketGrant(str(match.id), match.group_name, match.creator_id, _live_owner(match), player.pk, player.nickname, seat.color)


def _take_seat(match: Match, player: Player) -> Participation:
    seat = Participation.objects.filter(match=match, player=player).first()
    if seat is not None:
        return seat
    try:
        with transaction.atomic():
            # Lock the match row (PostgreSQL) so two players cannot take the last seat.
            locked = Match.objects.select_for_update().get(pk=match.pk)
            taken = Participation.objects.filter(match=locked).count()
            if taken >= locked.max_players:
                raise SocketRefusal(4409, f"this match is full ({locked.max_players} players)")
            return Participation.objects.create(match=locked, player=player, color=PALETTE[taken % len(PALETTE)])
    except IntegrityError:  # the same player raced itself from two sockets
        return Participation.objects.get(match=match, player=player)


@dataclass(frozen=True, slots=True)
class Claim:
    """What an arbiter learns when it asks to own a match."""

    owned: bool
    owner: str = ""  # when not owned: the live owner's channel, or "" if the match is over
    tick_rate: int = 10
    arena: tuple[int, int] = (100, 100)
    checkpoint: dict | None = None
    adopted: bool = False


@database_sync_to_async
def claim_match(match_id: str, channel: str) -> Claim:
    """Own the match if nobody live does (a conditional update settles races)."""
    now = timezone.now()
    stale = now - timedelta(seconds=limits.ARBITER_STALE_S)
    claimable = Q(arbiter_channel="") | Q(arbiter_channel=channel) | Q(last_tick_at__lt=stale) | Q(last_tick_at__isnull=True)
    live = Match.objects.filter(pk=match_id, status__in=[Match.Status.LOBBY, Match.Status.RUNNING])
    previous = live.filter(claimable).values_list("arbiter_channel", flat=True).first()
    won = 0
    if previous is not None:  # claimable: take it unless someone else changed it meanwhile
        won = live.filter(claimable, arbiter_channel=previous).update(
            arbiter_channel=channel, last_tick_at=now, status=Match.Status.RUNNING
        )
    match = Match.objects.filter(pk=match_id).first()
    if match is None or match.is_over:
        return Claim(False)
    if not won:
        return Claim(False, owner=match.arbiter_channel)
    if match.started is None:
        Match.objects.filter(pk=match_id, started__isnull=True).update(started=now)
    adopted = bool(previous) and previous != channel
    return Claim(True, "", match.tick_rate, (match.arena_width, match.arena_depth), match.checkpoint, adopted)


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


@database_sync_to_async
def finish_match(match_id: str, channel: str, tick: int, entities: int, reason: str) -> None:
    """Close the record: finished, with the final entity count; frees the seats' online flags."""
    now = timezone.now()
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
