"""Refusals the lobby answers with: a stable code (PROTOCOL.md), a message that names the fix, a status."""


class LobbyError(Exception):
    """Base refusal; ``code`` is part of the wire contract, ``status`` the HTTP status."""

    code = "bad_message"
    status = 400

    def __init__(self, message: str, *, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def as_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class BadJson(LobbyError):
    """The body is not JSON (or uses NaN / Infinity); send one JSON object."""

    code = "bad_json"


class BadMessage(LobbyError):
    """A field is missing, extra, of the wrong type or out of range."""

    code = "bad_message"


class TooLarge(LobbyError):
    """The body is bigger than any valid request; send only the documented fields."""

    code = "too_large"
    status = 413


class NoPlayer(LobbyError):
    """The session holds no player; POST /api/guest or log in first."""

    code = "no_player"
    status = 401


class NotFound(LobbyError):
    code = "not_found"
    status = 404


class MethodNotAllowed(LobbyError):
    code = "method_not_allowed"
    status = 405


class RateLimited(LobbyError):
    """Over a lobby cap; ``retry_after`` says how many seconds until the oldest counted item ages out."""

    code = "rate_limited"
    status = 429


class Unavailable(LobbyError):
    """A dependency (the database) cannot be reached; try again after ``retry_after`` seconds."""

    code = "unavailable"
    status = 503


UNAVAILABLE_RETRY_S = 5


def _database_down_errors() -> tuple[type[BaseException], ...]:
    from django.db import InterfaceError, OperationalError

    errors: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    try:  # Django wraps the driver's errors; these are for a path that raises them unwrapped
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.OperationalError, psycopg.InterfaceError)


# What a call raises when the database is down, unreachable or its connection died.
DATABASE_DOWN = _database_down_errors()
