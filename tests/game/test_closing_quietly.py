"""Sockets the server closes (abuse, an oversized frame): a typed close, and no traceback in its log."""

import time

import websockets

from cubearena.liveserver import LiveServer
from loadbots.client import Account
from tests.own_loop import run_async


async def scenario(server: LiveServer, abort: bool) -> int | None:
    alice = Account(server.url)
    await alice.guest("alice")
    match = await alice.create_match("abuse", tick_rate=20)
    sock = await alice.open_socket(match)
    await sock.recv()  # welcome
    try:
        for _ in range(400):  # far past the abuse bound: the server closes mid-stream
            await sock.ws.send("not json")
        if abort:  # and the client is gone before the server has answered them all
            await sock.ws.recv()  # (once the server has read them: a reset would discard them unread)
            sock.ws.transport.abort()
        async for _ in sock.ws:
            pass
    except websockets.ConnectionClosed:
        pass
    await alice.close()
    return sock.ws.close_code


async def oversized(server: LiveServer) -> tuple[int, str]:
    alice = Account(server.url)
    await alice.guest("bigmouth")
    match = await alice.create_match("big", tick_rate=20)
    sock = await alice.open_socket(match)
    await sock.recv()
    try:
        await sock.ws.send("x" * (2 * 1024 * 1024))  # past Daphne's 1 MiB message bound
        async for _ in sock.ws:
            pass
    except websockets.ConnectionClosed:
        pass
    await alice.close()
    return sock.ws.close_code, sock.ws.close_reason


def test_a_socket_closed_for_abuse_while_frames_arrive_logs_no_traceback():
    with LiveServer() as server:
        code = run_async(scenario(server, abort=False))
        run_async(scenario(server, abort=True))
        too_big = run_async(oversized(server))
        deadline = time.monotonic() + 10
        while server.log_path.read_text().count("closed for abuse") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.log_path.read_text()
    assert code == 4429
    assert too_big[0] == 1009 and "exceeds" in too_big[1]  # a typed close, not a dropped connection
    assert log.count("closed for abuse") == 2
    assert "Traceback" not in log and "closed protocol" not in log, log[-3000:]
