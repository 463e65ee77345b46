"""Matches as PROTOCOL.md "HTTP" shows them, for the API, the lobby socket and the lobby page."""

from lobby import ticklag

from .models import Match, Participation
from .services import visible_matches
from .sockets import socket_path


def seats(match: Match) -> int:
    # Lists annotate `seats`; a single match counts its Participation rows.
    value = getattr(match, "seats", None)
    return match.participations.count() if value is None else value


def match_dict(match: Match, viewer_id: int | None = None, listing: bool = False) -> dict:
    data = {
        "id": str(match.id),
        "name": match.name,
        "status": match.status,
        "players": seats(match),
        "max_players": match.max_players,
        "tick_rate": match.tick_rate,
        "ws": socket_path(match, listing),
        "arena": [match.arena_width, match.arena_depth],
        "private": match.private,
        "creator": match.creator_id,
    }
    if match.private and viewer_id is not None and viewer_id == match.creator_id:
        data["code"] = match.join_code
    return data


def participant_dict(seat: Participation) -> dict:
    return {
        "id": seat.player_id,
        "nickname": seat.player.nickname,
        "color": seat.color,
        "online": seat.online,
    }


def match_detail(match: Match, viewer_id: int | None = None) -> dict:
    seats_ = list(match.participations.select_related("player"))
    match.seats = len(seats_)
    return {
        **match_dict(match, viewer_id),
        "participants": [participant_dict(s) for s in seats_],
        # The arbiter's tick lag since it took the match (docs/protocol.md, Additions).
        "tick_lag": {"summary": ticklag.summary(match.tick_lag or {}), "hist": match.tick_lag or {}},
    }


def match_list(viewer_id: int | None) -> list[dict]:
    """The lobby list for one viewer (their private matches included, with codes)."""
    return [match_dict(m, viewer_id, listing=True) for m in visible_matches(viewer_id)]
