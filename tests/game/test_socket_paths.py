"""Sockets to paths that lead nowhere: a typed close (4404), never a 500 with a traceback."""

import logging

import pytest
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def close_code(path: str) -> int:
    from cubearena.asgi import application

    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected, f"{path}: handshake refused"
    out = await communicator.receive_output(timeout=5)
    assert out["type"] == "websocket.close", out
    await communicator.disconnect(timeout=5)
    return out["code"]


class Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record):
        self.seen.append(f"{record.name}: {record.getMessage()}")


@pytest.mark.parametrize(
    "path",
    [
        "/ws/match/not-a-uuid/",
        "/ws/match/12345/?role=spectator",
        "/ws/match/00000000-0000-0000-0000-00000000000g/",
    ],
)
async def test_a_malformed_match_id_is_closed_4404(path):
    await closed_4404_without_an_error(path)


@pytest.mark.parametrize("path", ["/ws/nothing/", "/", "/ws/match/", "/ws/lobby/extra/", "/api/matches"])
async def test_an_unknown_socket_path_is_accepted_and_closed_4404(path):
    await closed_4404_without_an_error(path)


async def closed_4404_without_an_error(path: str) -> None:
    errors = Errors()
    logging.getLogger().addHandler(errors)
    try:
        assert await close_code(path) == 4404
    finally:
        logging.getLogger().removeHandler(errors)
    assert errors.seen == []
