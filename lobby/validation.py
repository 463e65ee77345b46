"""What people may type and send: nicknames, match names, and the API's JSON bodies, in one place.

Each parse function takes the decoded body and returns clean values or raises BadMessage;
the page forms call the same field rules.
"""

import json
from dataclasses import dataclass

from django.conf import settings

from lobby.limits import DEFAULT_TICK_RATE, MAX_TICK_RATE, MIN_TICK_RATE, NICKNAME_MAX_LEN

from . import limits
from .errors import BadJson, BadMessage, TooLarge


@dataclass(frozen=True)
class NewMatch:
    name: str
    max_players: int
    tick_rate: int
    private: bool


def clean_text(value, *, field: str, max_len: int) -> str:
    """A stripped, non-empty, printable string of at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise BadMessage(f"{field} must be a string")
    value = value.strip()
    if not value:
        raise BadMessage(f"{field} must not be empty")
    if len(value) > max_len:
        raise BadMessage(f"{field} must be at most {max_len} characters")
    # isprintable() refuses control and format characters (including invisible ones) but allows spaces.
    if not value.isprintable():
        raise BadMessage(f"{field} may only contain printable characters")
    return value


def clean_int(value, *, field: str, lo: int, hi: int) -> int:
    # bool is an int in Python but not a number on the wire.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadMessage(f"{field} must be a whole number")
    if not lo <= value <= hi:
        raise BadMessage(f"{field} must be from {lo} to {hi}")
    return value


def clean_nickname(value) -> str:
    return clean_text(value, field="nickname", max_len=NICKNAME_MAX_LEN)


def clean_match_name(value) -> str:
    return clean_text(value, field="name", max_len=limits.MATCH_NAME_MAX_LEN)


def max_players_limit() -> int:
    return settings.MAX_PLAYERS_LIMIT


def default_max_players() -> int:
    return min(limits.DEFAULT_MAX_PLAYERS, max_players_limit())


def clean_max_players(value) -> int:
    return clean_int(value, field="max_players", lo=limits.MIN_PLAYERS, hi=max_players_limit())


def clean_tick_rate(value) -> int:
    return clean_int(value, field="tick_rate", lo=MIN_TICK_RATE, hi=MAX_TICK_RATE)


def _reject_constant(name):
    raise ValueError(f"{name} is not a number")


def read_json(request) -> dict:
    """The request body as a JSON object; BadJson if it is not JSON, BadMessage if not an object."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limits.MAX_BODY_BYTES:
        raise TooLarge(f"the body must be at most {limits.MAX_BODY_BYTES} bytes")
    body = request.body
    if len(body) > limits.MAX_BODY_BYTES:
        raise TooLarge(f"the body must be at most {limits.MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadJson("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise BadMessage("the body must be a JSON object")
    return data


def _check_fields(body: dict, required: set[str], optional: set[str] = frozenset()) -> None:
    missing = required - body.keys()
    if missing:
        raise BadMessage(f"missing field(s): {', '.join(sorted(missing))}")
    extra = body.keys() - required - optional
    if extra:
        raise BadMessage(f"unknown field(s): {', '.join(sorted(extra))}")


def parse_guest(body: dict) -> str:
    """POST /api/guest: {"nickname"} -> the clean nickname."""
    _check_fields(body, {"nickname"})
    return clean_nickname(body["nickname"])


def parse_new_match(body: dict) -> NewMatch:
    """POST /api/matches: {"name", "max_players"?, "tick_rate"?, "private"?} -> NewMatch."""
    _check_fields(body, {"name"}, {"max_players", "tick_rate", "private"})
    private = body.get("private", False)
    if not isinstance(private, bool):
        raise BadMessage("private must be true or false")
    return NewMatch(
        name=clean_match_name(body["name"]),
        max_players=clean_max_players(body.get("max_players", default_max_players())),
        tick_rate=clean_tick_rate(body.get("tick_rate", DEFAULT_TICK_RATE)),
        private=private,
    )
