"""The HTTP JSON API (PROTOCOL.md "HTTP"): every answer is JSON, errors as {"error": {"code", "message"}}."""

from functools import wraps

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from . import serialize, services, validation
from .access import can_view
from .errors import LobbyError, MethodNotAllowed, NoPlayer, NotFound
from .models import Match
from .session import current_player, sign_in_guest


def error_response(error: LobbyError) -> JsonResponse:
    response = JsonResponse(error.as_dict(), status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def api_view(*methods: str):
    """Allow only ``methods`` (HEAD goes with GET) and turn a LobbyError into its JSON answer."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in allowed:
                response = error_response(MethodNotAllowed(f"use {' or '.join(methods)} here"))
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, *args, **kwargs)
            except LobbyError as error:
                return error_response(error)

        return wrapped

    return decorate


@api_view("GET")
@ensure_csrf_cookie
def csrf(request):
    return HttpResponse(status=204)


@api_view("POST")
def guest(request):
    nickname = validation.parse_guest(validation.read_json(request))
    player = services.create_guest(nickname, services.client_address(request))
    sign_in_guest(request, player)
    return JsonResponse({"player": player.pk, "nickname": player.nickname})


@api_view("GET", "POST")
def matches(request):
    player = current_player(request)
    viewer_id = player.pk if player else None
    if request.method == "POST":
        if player is None:
            raise NoPlayer("no player in this session: POST /api/guest or log in first")
        spec = validation.parse_new_match(validation.read_json(request))
        match = services.create_match(player, spec)
        return JsonResponse(serialize.match_dict(match, viewer_id), status=201)
    return JsonResponse({"matches": serialize.match_list(viewer_id)})


@api_view("GET")
def match(request, match_id):
    found = Match.objects.filter(pk=match_id).first()
    player = current_player(request)
    # A private match a visitor may not see answers like a missing one, so ids can't be probed.
    if found is None or not can_view(found, player, request.GET.get("code", "")):
        raise NotFound("no such match")
    return JsonResponse(serialize.match_detail(found, player.pk if player else None))


def not_found(request, *args, **kwargs):
    """Any other path under /api/, whatever the method."""
    return error_response(NotFound(f"no API call at {request.path}"))


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: JSON code `csrf` under /api/, a plain page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": "csrf", "message": "send X-CSRFToken equal to the csrftoken cookie"}},
            status=403,
        )
    return render(request, "lobby/csrf_failure.html", {"reason": reason}, status=403)
