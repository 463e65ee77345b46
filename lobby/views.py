"""Lobby pages: the index (nickname, match list, create form), the join page and a match's summary."""

import json
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from lobby.limits import DEFAULT_SPEED

from . import access, limits, serialize, services
from .errors import RateLimited
from .forms import GuestForm, MatchForm
from .models import Match, Participation, Player
from .session import current_player, sign_in_guest
from .sockets import socket_path

LOBBY_WS_PATH = "/ws/lobby/"

# The config travels inside a <script> element: escape what could close it or open markup.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def render_lobby(request, *, status=200, notice=None, watch_url=None, guest_form=None, match_form=None):
    """The lobby index; also what a refused join shows, with ``notice`` saying why."""
    player = current_player(request)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    context = {
        "player": player,
        "notice": notice,
        "watch_url": watch_url,
        "next": next_url,
        "guest_form": guest_form or GuestForm(),
        "match_form": match_form or MatchForm(),
        "matches": serialize.match_list(player.pk) if player else [],
        "recent": recent_finished(),
        "online": serialize.online_players() if player else None,
        "lobby_ws": LOBBY_WS_PATH,
    }
    return render(request, "lobby/index.html", context, status=status)


@require_GET
def index(request):
    return render_lobby(request)


@require_POST
def guest(request):
    form = GuestForm(request.POST)
    if not form.is_valid():
        return render_lobby(request, status=400, guest_form=form)
    try:
        player = services.create_guest(form.cleaned_data["nickname"], services.client_address(request))
    except RateLimited as error:
        form.add_error(None, error.message)
        return render_lobby(request, status=429, guest_form=form)
    sign_in_guest(request, player)
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect("lobby:index")


@require_POST
def create(request):
    player = current_player(request)
    if player is None:
        messages.error(request, "Pick a nickname or log in before creating a match.")
        return redirect("lobby:index")
    form = MatchForm(request.POST)
    if not form.is_valid():
        return render_lobby(request, status=400, match_form=form)
    try:
        match = services.create_match(player, form.spec())
    except RateLimited as error:
        form.add_error(None, error.message)
        return render_lobby(request, status=429, match_form=form)
    return redirect(share_url(match))


def share_url(match: Match) -> str:
    """The match page's address; a private match's carries its code, so it can be passed on."""
    url = reverse("lobby:play", args=[match.id])
    return f"{url}?{urlencode({'code': match.join_code})}" if match.private else url


def _query(match: Match, role: str) -> str:
    """The socket's (or page's) query for a visitor who passed the access check."""
    query = {}
    if role == "spectator":
        query["role"] = "spectator"
    if match.private:
        query["code"] = match.join_code
    return f"?{urlencode(query)}" if query else ""


def _with_code(url: str, code: str) -> str:
    return f"{url}?{urlencode({'code': code})}" if code else url


@require_GET
def play(request, match_id):
    """The join: checks the private code and the seat count; the match socket takes the seat."""
    match = get_object_or_404(Match.objects.select_related("creator"), pk=match_id)
    code = request.GET.get("code", "")
    if match.is_over:
        return redirect(_with_code(reverse("lobby:summary", args=[match.id]), code))
    player = current_player(request)
    role = "spectator" if player is None or request.GET.get("role") == "spectator" else "player"
    why = access.refusal(match, player, role, code)
    if why == access.FULL:
        watch_url = reverse("lobby:play", args=[match.id]) + _query(match, "spectator")
        return render_lobby(request, status=409, notice=why, watch_url=watch_url)
    if why is not None:
        return render_lobby(request, status=403, notice=why)

    ws_path = socket_path(match) + _query(match, role)
    is_creator = player is not None and match.creator_id == player.pk
    config = {
        "match": str(match.id),
        "name": match.name,
        "ws": ws_path,
        "player": player.pk if player else None,
        "nickname": player.nickname if player else None,
        "role": role,
        "tick_rate": match.tick_rate,
        "arena": [match.arena_width, match.arena_depth],
        "speed": DEFAULT_SPEED,
        "is_creator": is_creator,
        "build": settings.BUILD_ID,
    }
    context = {
        "match": match,
        "player": player,
        "role": role,
        "ws_path": ws_path,
        "config_json": json.dumps(config).translate(_SCRIPT_ESCAPES),
        "is_creator": is_creator,
        "share_url": share_url(match) if is_creator else None,
    }
    return render(request, "game/play.html", context)


def _not_viewable_ended(request, match, player, code: str):
    """A running match sends to its play page, a private one without its code is refused; None
    when this viewer may see the ended match's summary or replay."""
    if not match.is_over:
        return redirect(_with_code(reverse("lobby:play", args=[match.id]), code))
    if not access.can_view(match, player, code):
        return render_lobby(request, status=403, notice=access.PRIVATE)
    return None


@require_GET
def summary(request, match_id):
    """What happened in a finished match: duration, final count, each seat's counters, the last events."""
    match = get_object_or_404(Match.objects.select_related("creator"), pk=match_id)
    code = request.GET.get("code", "")
    player = current_player(request)
    refusal = _not_viewable_ended(request, match, player, code)
    if refusal is not None:
        return refusal
    seats = list(match.participations.select_related("player"))
    latest = match.events.select_related("player").order_by("-tick", "-id")[: limits.SUMMARY_EVENTS]
    events = [(event, json.dumps(event.payload, sort_keys=True)) for event in reversed(list(latest))]
    context = {
        "match": match,
        "player": player,
        "duration": format_duration(match.duration),
        "seats": seats,
        "events": events,
        "events_limit": limits.SUMMARY_EVENTS,
        "replay_url": _with_code(reverse("lobby:replay", args=[match.id]), code),
    }
    return render(request, "lobby/summary.html", context)


@require_GET
def replay(request, match_id):
    """A finished match's replay viewer; the game's replay socket streams the match."""
    match = get_object_or_404(Match, pk=match_id)
    code = request.GET.get("code", "")
    refusal = _not_viewable_ended(request, match, current_player(request), code)
    if refusal is not None:
        return refusal
    config = {
        "match": str(match.id),
        "ws": f"/ws/replay/{match.id}/" + (f"?{urlencode({'code': code})}" if code else ""),
    }
    summary_url = _with_code(reverse("lobby:summary", args=[match.id]), code)
    return render(
        request, "lobby/replay.html", {"match": match, "config": config, "summary_url": summary_url}
    )


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    total = max(0, int(value.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


ENDED = (Match.Status.FINISHED, Match.Status.ABANDONED)


def recent_finished(limit: int = limits.RECENT_FINISHED) -> list[dict]:
    """The newest ended public matches, for the lobby: name, when, how long, who played."""
    matches = (
        Match.objects.filter(status__in=ENDED, private=False, ended__isnull=False)
        .order_by("-ended")
        .prefetch_related("participations__player")[:limit]
    )
    return [
        {
            "match": m,
            "duration": format_duration(m.duration),
            "players": [p.player.nickname for p in m.participations.all()],
        }
        for m in matches
    ]


def result_of(seat: Participation) -> str:
    """A seat's result in a sandbox without a winner: how the match ended for this player."""
    if seat.kicked:
        return "kicked"
    match = seat.match
    if match.status == Match.Status.ABANDONED:
        return "abandoned"
    return match.end_reason or "finished"


@require_GET
def player_page(request, player_id):
    """A player's match history, newest first: date, duration, result, what they did, and a
    link to each match's summary and replay. Private matches only to the player themself."""
    subject = get_object_or_404(Player, pk=player_id)
    viewer = current_player(request)
    seats = (
        Participation.objects.filter(player=subject, match__status__in=ENDED)
        .select_related("match")
        .order_by("-match__ended", "-match__created")
    )
    if viewer is None or viewer.pk != subject.pk:
        seats = seats.filter(match__private=False)
    page = Paginator(seats, limits.HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "seat": seat,
            "match": seat.match,
            "date": seat.match.started or seat.match.created,
            "duration": format_duration(seat.match.duration),
            "result": result_of(seat),
            "commands": seat.last_seq,
        }
        for seat in page
    ]
    context = {"player": viewer, "subject": subject, "rows": rows, "page": page, "is_me": viewer == subject}
    return render(request, "lobby/player.html", context)
