"""Admitting a socket: the match must exist and be open, a player takes (or keeps) a seat."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from game import limits
from lobby.errors import DATABASE_DOWN
from lobby.models import PALETTE, Match, Participation, Player

log = logging.getLogger(__name__)

# Not read to admit a socket: the checkpoint is the whole world (decoding it for every join
# was a seventh of the server's time while 400 players joined one match).
UNREAD = ("checkpoint", "tick_lag")
ADMIT_TIMEOUT_S = 2.5  # a database that has not answered by then gets the socket closed 1013


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
    fresh = match.last_tick_at and timezone.now() - match.last_tick_at < timedelta(
        seconds=limits.ARBITER_STALE_S
    )
    return match.arbiter_channel if (match.arbiter_channel and fresh) else ""


async def admit_socket(match_id: str, session, spectator: bool, code: str | None) -> SocketGrant:
    """Check the match and take a seat for a player socket (spectators take none).

    A database that is down, or does not answer within ADMIT_TIMEOUT_S, refuses the socket with
    1013 (try again): the client retries, the server logs a line, not a traceback."""
    try:
        return await asyncio.wait_for(_admit(match_id, session, spectator, code), ADMIT_TIMEOUT_S)
    except TimeoutError:
        log.warning(
            "match %s: admission timed out after %s s (database slow or down)", match_id, ADMIT_TIMEOUT_S
        )
        raise SocketRefusal(1013, "the database did not answer; try again") from None
    except DATABASE_DOWN as exc:
        log.warning("match %s: admission failed, database unavailable (%s)", match_id, type(exc).__name__)
        raise SocketRefusal(1013, "the database is unavailable; try again") from None


@database_sync_to_async
def _admit(match_id: str, session, spectator: bool, code: str | None) -> SocketGrant:
    player_id = session.get("player_id") if session is not None else None  # loads the session
    try:
        match = Match.objects.defer(*UNREAD).get(pk=match_id)
    except (Match.DoesNotExist, ValueError, ValidationError):  # ValidationError: not a UUID
        raise SocketRefusal(4404, "no such match") from None
    if match.is_over:
        raise SocketRefusal(4410, "this match is over")
    if match.private and code != match.join_code and not (player_id and match.creator_id == player_id):
        raise SocketRefusal(4403, "this private match needs its join code")
    if spectator:
        return SocketGrant(
            str(match.id), match.group_name, match.creator_id, _live_owner(match), None, "", None
        )
    if player_id is None:
        raise SocketRefusal(4401, "pick a nickname first: no player session")
    player = Player.objects.filter(pk=player_id).first()
    if player is None:
        raise SocketRefusal(4401, "your player session is no longer valid")
    seat = _take_seat(match, player)
    if seat.kicked:
        raise SocketRefusal(4430, "you were removed from this match")
    return SocketGrant(
        str(match.id),
        match.group_name,
        match.creator_id,
        _live_owner(match),
        player.pk,
        player.nickname,
        seat.color,
    )


def _take_seat(match: Match, player: Player) -> Participation:
    seat = Participation.objects.filter(match=match, player=player).first()
    if seat is not None:
        return seat
    try:
        with transaction.atomic():
            # Lock the match row (PostgreSQL) so two players cannot take the last seat.
            locked = Match.objects.select_for_update().defer(*UNREAD).get(pk=match.pk)
            taken = Participation.objects.filter(match=locked).count()
            if taken >= locked.max_players:
                raise SocketRefusal(4409, f"this match is full ({locked.max_players} players)")
            return Participation.objects.create(
                match=locked, player=player, color=PALETTE[taken % len(PALETTE)]
            )
    except IntegrityError:  # the same player raced itself from two sockets
        return Participation.objects.get(match=match, player=player)
