"""Many lobby sockets closing at once: each leaves the group, no traceback, at most one warning."""

import asyncio
import logging

import pytest
from channels.layers import channel_layers, get_channel_layer
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import SessionMiddlewareStack
from channels.testing import WebsocketCommunicator

from game.transport.memory_layer import ArenaChannelLayer
from lobby import consumers
from lobby.notify import LOBBY_GROUP
from lobby.routing import websocket_urlpatterns

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
application = AllowedHostsOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns)))


class Records(logging.Handler):
    """Attached to loggers directly: Django's LOGGING replaces the root's handlers (caplog's too)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if not any(r is record for r in self.records):  # it reaches "lobby" and the root both
            self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [f"{r.name}: {r.getMessage()}" for r in self.records if r.levelno >= level]


@pytest.fixture
def records():
    handler = Records()
    loggers = [logging.getLogger(name) for name in ("", "lobby", "django", "channels", "daphne")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


async def open_many(n: int) -> list[WebsocketCommunicator]:
    async def one():
        communicator = WebsocketCommunicator(application, "/ws/lobby/", headers=[ORIGIN])
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        assert (await communicator.receive_json_from(timeout=10))["type"] == "matches"
        return communicator

    return await asyncio.gather(*(one() for _ in range(n)))


def members() -> set[str]:
    return set(get_channel_layer().groups.get(LOBBY_GROUP, {}))


async def test_two_hundred_sockets_closing_at_once_all_leave_the_group_quietly(records):
    sockets = await open_many(200)
    assert len(members()) == 200

    await asyncio.gather(*(s.disconnect(timeout=10) for s in sockets))

    assert members() == set()
    assert records.at(logging.WARNING) == []


class FlakyLayer(ArenaChannelLayer):
    """A real in-memory layer whose group_discard fails as a saturated Redis pool would."""

    def __init__(self, fail_first: int, **kwargs):
        super().__init__(**kwargs)
        self.fail_left = fail_first

    async def group_discard(self, group, channel):
        if self.fail_left > 0:
            self.fail_left -= 1
            raise ConnectionError("Too many connections")
        await super().group_discard(group, channel)


async def test_a_failed_leave_is_tried_again_and_never_logged_as_an_error(records):
    channel_layers.backends["default"] = FlakyLayer(fail_first=30, expiry=60, group_expiry=86400)
    sockets = await open_many(20)

    await asyncio.gather(*(s.disconnect(timeout=10) for s in sockets))

    assert members() == set()  # 30 failures among 20 sockets with 3 tries each: all left
    assert records.at(logging.ERROR) == []


async def test_leaves_that_keep_failing_are_summed_up_in_one_warning(records):
    channel_layers.backends["default"] = FlakyLayer(fail_first=10**6, expiry=60, group_expiry=86400)
    sockets = await open_many(50)

    await asyncio.gather(*(s.disconnect(timeout=10) for s in sockets))

    assert records.at(logging.ERROR) == []
    warnings = records.at(logging.WARNING)
    assert len(warnings) == 1 and "50 of 50" in warnings[0], warnings
    assert consumers.MEMBERSHIP.in_flight == 0
