"""The database is a dependency that comes back: while it cannot be reached, answer 503, not 500.

One place for every view: an `/api/` call gets the protocol's error object (code `unavailable`)
and a page gets a plain 503 page, both with `Retry-After`. `/healthz` reports the database itself.
"""

import logging
import time

from django.http import HttpResponse
from django.template.loader import render_to_string

from .api import error_response
from .errors import DATABASE_DOWN, UNAVAILABLE_RETRY_S, Unavailable

log = logging.getLogger(__name__)

LOG_EVERY_S = 10.0  # one warning per window, however many requests failed in it


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.last_logged = float("-inf")
        self.unlogged = 0

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        self._note(request, exception)
        if request.path_info.startswith("/api/"):
            response = error_response(
                Unavailable("the database is unavailable; try again shortly", retry_after=UNAVAILABLE_RETRY_S)
            )
        else:
            # No request context: the context processors would read the session from the database.
            response = HttpResponse(render_to_string("lobby/unavailable.html"), status=503)
            response["Retry-After"] = str(UNAVAILABLE_RETRY_S)
        response["Cache-Control"] = "no-store"
        # Logged above, once per window: not django.request's ERROR line per refused request.
        response._has_been_logged = True
        return response

    def _note(self, request, exception) -> None:
        self.unlogged += 1
        now = time.monotonic()
        if now - self.last_logged < LOG_EVERY_S:
            return
        first_line = str(exception).strip().splitlines()[0] if str(exception).strip() else ""
        log.warning(
            "database unavailable: answered 503 to %d request(s), last %s %s (%s: %s)",
            self.unlogged,
            request.method,
            request.path_info,
            type(exception).__name__,
            first_line,
        )
        self.last_logged, self.unlogged = now, 0
