"""Which Player a request or socket speaks for.

``session["player_id"]`` (an int, the Player's pk) is the contract with the match WebSocket consumer.
"""

from django.utils import timezone

from . import limits
from .models import Player

SESSION_KEY = "player_id"


def player_id_in(session) -> int | None:
    """The player id a session holds, or None; reads the session store (sync only)."""
    if session is None:
        return None
    value = session.get(SESSION_KEY)
    # bool is an int; a tampered or stale value is treated as no player.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def remember_player(session, player: Player) -> None:
    session[SESSION_KEY] = int(player.pk)


def sign_in_guest(request, player: Player) -> None:
    """Point the session at a new guest; a fresh session key, since the identity changed."""
    request.session.cycle_key()
    remember_player(request.session, player)


def current_player(request) -> Player | None:
    """The request's Player, or None (and the stale key dropped if its Player is gone)."""
    if hasattr(request, "_lobby_player"):
        return request._lobby_player
    player = None
    pid = player_id_in(request.session)
    if pid is not None:
        player = Player.objects.filter(pk=pid).select_related("user").first()
        if player is None:
            request.session.pop(SESSION_KEY, None)
        else:
            _touch(player)
    request._lobby_player = player
    return player


def _touch(player: Player) -> None:
    # last_seen decides which guests the prune command removes; a write per page view is wasteful.
    now = timezone.now()
    if player.last_seen is None or now - player.last_seen > limits.LAST_SEEN_EVERY:
        Player.objects.filter(pk=player.pk).update(last_seen=now)
        player.last_seen = now
