"""A database that cannot be reached: the API answers 503 `unavailable`, pages a plain 503 page.

(tests/scaleout/test_database_outage_http.py takes a real PostgreSQL away from real servers.)"""

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from game.records import admission
from lobby.middleware import DatabaseUnavailableMiddleware

pytestmark = pytest.mark.django_db

DOWN = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def middleware() -> DatabaseUnavailableMiddleware:
    return DatabaseUnavailableMiddleware(lambda request: None)


def test_an_api_call_gets_the_unavailable_error_object_and_retry_after():
    response = middleware().process_exception(RequestFactory().get("/api/matches"), DOWN)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    error = json.loads(response.content)["error"]
    assert error["code"] == "unavailable" and "database" in error["message"]
    assert int(response["Retry-After"]) > 0


def test_a_page_gets_a_plain_503_page_without_touching_the_session():
    response = middleware().process_exception(RequestFactory().get("/match/x/"), InterfaceError("closed"))

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"database" in response.content and b"Traceback" not in response.content
    assert int(response["Retry-After"]) > 0


def test_other_errors_are_left_to_djangos_own_handling():
    assert middleware().process_exception(RequestFactory().get("/api/matches"), ValueError("bug")) is None


def test_it_logs_one_warning_per_window_not_one_per_request(caplog):
    mw = middleware()
    with caplog.at_level("WARNING", logger="lobby.middleware"):
        for _ in range(50):
            mw.process_exception(RequestFactory().get("/api/matches"), DOWN)
    assert len([r for r in caplog.records if r.name == "lobby.middleware"]) == 1


class DeadSession:
    """A session store whose database is gone: loading it raises like Django's store would."""

    def get(self, key, default=None):
        raise DOWN


async def test_a_socket_is_refused_1013_when_the_database_is_down():
    with pytest.raises(admission.SocketRefusal) as refused:
        await admission.admit_socket("00000000-0000-0000-0000-000000000000", DeadSession(), False, None)
    assert refused.value.code == 1013


async def test_a_socket_for_a_malformed_match_id_is_refused_4404():
    with pytest.raises(admission.SocketRefusal) as refused:
        await admission.admit_socket("not-a-uuid", None, True, None)
    assert refused.value.code == 4404
