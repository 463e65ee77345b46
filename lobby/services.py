"""What the lobby does, shared by the pages and the API: mint guests, open matches, log users in."""

import ipaddress
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from lobby.limits import NICKNAME_MAX_LEN

from . import limits
from .errors import RateLimited
from .models import Match, Player
from .notify import notify_lobby_sync
from .validation import NewMatch

log = logging.getLogger(__name__)

LIVE = (Match.Status.LOBBY, Match.Status.RUNNING)


def client_address(request) -> str | None:
    """The peer address (REMOTE_ADDR; behind a proxy, Daphne's --proxy-headers sets it)."""
    raw = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _retry_after(oldest, window) -> int:
    return max(1, int((oldest + window - timezone.now()).total_seconds() + 0.999))


def create_guest(nickname: str, address: str | None) -> Player:
    """A new guest Player, unless its address minted settings.GUESTS_PER_ADDRESS within GUEST_WINDOW."""
    if address is not None:
        recent = Player.objects.filter(
            user=None, created_from=address, created__gte=timezone.now() - limits.GUEST_WINDOW
        ).order_by("created")
        cap = settings.GUESTS_PER_ADDRESS
        if recent.count() >= cap:
            raise RateLimited(
                f"at most {cap} guests per address per hour; try again later",
                retry_after=_retry_after(recent.first().created, limits.GUEST_WINDOW),
            )
    return Player.objects.create(nickname=nickname, created_from=address)


def player_for_user(user) -> Player:
    """The Player of a logged-in user, made on first login with the username as nickname."""
    player, _ = Player.objects.get_or_create(
        user=user, defaults={"nickname": user.get_username()[:NICKNAME_MAX_LEN]}
    )
    return player


def create_match(creator: Player, spec: NewMatch) -> Match:
    """A new lobby match, within the creator's caps; lobby pages hear about it after commit."""
    with transaction.atomic():
        # Locks the creator's row (on databases that can), so parallel creates count one another.
        Player.objects.select_for_update().filter(pk=creator.pk).first()
        _check_match_caps(creator)
        match = Match.objects.create(
            name=spec.name,
            creator=creator,
            max_players=spec.max_players,
            tick_rate=spec.tick_rate,
            private=spec.private,
        )
        transaction.on_commit(announce_lobby_change)
    return match


def _check_match_caps(creator: Player) -> None:
    mine = Match.objects.filter(creator=creator)
    live = mine.filter(status__in=LIVE).count()
    if live >= settings.LIVE_MATCHES_PER_PLAYER:
        raise RateLimited(f"at most {settings.LIVE_MATCHES_PER_PLAYER} open matches at once; end one first")
    recent = mine.filter(created__gte=timezone.now() - limits.MATCH_WINDOW).order_by("created")
    if recent.count() >= settings.MATCHES_PER_HOUR:
        raise RateLimited(
            f"at most {settings.MATCHES_PER_HOUR} new matches per hour; try again later",
            retry_after=_retry_after(recent.first().created, limits.MATCH_WINDOW),
        )


def announce_lobby_change() -> None:
    """Tell lobby sockets to re-read the list; a channel-layer failure must not fail the request."""
    try:
        notify_lobby_sync()
    except Exception:
        log.exception("could not notify the lobby group")


def visible_matches(viewer_id: int | None):
    """Open matches (lobby, running) a viewer may see in the list: public ones and their own private ones."""
    visible = Q(private=False)
    if viewer_id is not None:
        visible |= Q(creator_id=viewer_id)
    return (
        Match.objects.filter(status__in=LIVE)
        .filter(visible)
        .annotate(seats=Count("participations"))
        .order_by("-created")[: limits.LOBBY_LIST_LIMIT]
    )
