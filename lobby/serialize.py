"""Matches as PROTOCOL.md "HTTP" shows them, for the API, the lobby socket and the lobby page."""

from django.db.models import Q
from django.utils import timezone

from lobby import limits, ticklag

from .models import Match, Participation, Player
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


def online_players(limit: int = limits.ONLINE_LIST_LIMIT) -> dict:
    """Who is online, for the lobby: players whose seat is online in a running match
    (`"playing"`, with the match when it is public), then players seen on a page within
    ONLINE_SEEN_WITHIN (`"lobby"`). Two indexed queries, each at most `limit` rows and a count.

    {"count": n, "players": [{"id", "nickname", "status": "playing"|"lobby", "match": {"id", "name"}|null}]}
    """
    seats = (
        Participation.objects.filter(online=True, match__status=Match.Status.RUNNING)
        .select_related("player", "match")
        .order_by("player__nickname", "player_id", "-match__started")
    )
    playing: dict[int, dict] = {}
    for seat in seats[: limit * 2]:  # a player in two matches is listed once
        if seat.player_id in playing or len(playing) >= limit:
            continue
        match = None if seat.match.private else {"id": str(seat.match_id), "name": seat.match.name}
        playing[seat.player_id] = {
            "id": seat.player_id,
            "nickname": seat.player.nickname,
            "status": "playing",
            "match": match,
        }
    seen = Q(last_seen__gte=timezone.now() - limits.ONLINE_SEEN_WITHIN)
    players = list(playing.values())
    room = limit - len(players)
    if room > 0:
        recent = Player.objects.filter(seen).exclude(pk__in=list(playing)).order_by("nickname", "id")
        players += [
            {"id": p.pk, "nickname": p.nickname, "status": "lobby", "match": None}
            for p in recent.only("id", "nickname")[:room]
        ]
    if len(players) < limit:
        return {"count": len(players), "players": players}
    online = Q(participations__online=True, participations__match__status=Match.Status.RUNNING)
    return {"count": Player.objects.filter(seen | online).distinct().count(), "players": players}
