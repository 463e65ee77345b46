"""A client that stops reading is dropped once its backlog passes the bound; nobody else waits."""

import asyncio
import base64
import os
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from cubearena.liveserver import LiveServer
from loadbots.client import Account

BOUND = 64 * 1024
LIMIT_S = 40


def open_silent_socket(server: LiveServer, match: dict, cookie: str) -> socket.socket:
    """A real WebSocket handshake, then never another read (a tiny receive window, too)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {match['ws']} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def scenario(server: LiveServer) -> dict:
    owner = Account(server.url)
    await owner.guest("alice")
    match = await owner.create_match("slow reader", max_players=8, tick_rate=30)
    movers = [owner] + [Account(server.url) for _ in range(3)]
    for i, acct in enumerate(movers[1:]):
        await acct.guest(f"mover{i}")
    sockets = [await acct.open_socket(match) for acct in movers]
    welcomes = [await s.recv() for s in sockets]
    for s, w in zip(sockets, welcomes):
        s.seq = w["ack"] or 0

    slow_acct = Account(server.url)
    slow_id = await slow_acct.guest("sloth")
    cookie = "; ".join(f"{k}={v}" for k, v in slow_acct.http.cookies.items())
    silent = open_silent_socket(server, match, cookie)

    own: dict[int, list[int]] = {w["you"]: [] for w in welcomes}
    intervals, offline_at, last = [], None, None
    started = time.monotonic()

    async def read(i: int):
        nonlocal offline_at, last
        s, me = sockets[i], welcomes[i]["you"]
        while True:
            msg = await s.recv()
            if msg["type"] == "snap":
                s.tick = msg["tick"]
                if i == 0:
                    now = time.monotonic()
                    if last is not None:
                        intervals.append(now - last)
                    last = now
                for e in msg["ents"]:
                    if e["owner"] == me and e["id"] not in own[me]:
                        own[me].append(e["id"])
            elif msg["type"] == "players" and i == 0 and offline_at is None:
                if any(p["id"] == slow_id and not p["online"] for p in msg["players"]):
                    offline_at = time.monotonic() - started

    readers = [asyncio.create_task(read(i)) for i in range(len(sockets))]
    for n in range(25):  # 25 cubes each, 5 spawns a second
        for s in sockets:
            await s.cmd("spawn", at=[n * 3 - 36, n % 5 * 3], cid=f"c{n}")
        await asyncio.sleep(0.21)
    while time.monotonic() - started < LIMIT_S and offline_at is None:
        for s, w in zip(sockets, welcomes):  # every cube retargeted all the time: large deltas
            ids = own[w["you"]]
            if ids:
                await s.cmd(
                    "move", ids=ids, to=[(time.monotonic() * 7) % 80 - 40, (time.monotonic() * 13) % 80 - 40]
                )
        await asyncio.sleep(0.1)
    for r in readers:
        r.cancel()
    silent.settimeout(5)
    reset = False
    try:  # drain what the kernel still holds; then the server's end of the connection shows
        while True:
            if silent.recv(1 << 16) == b"":
                reset = True
                break
    except ConnectionResetError:
        reset = True
    except TimeoutError:
        pass
    silent.close()
    return {"offline_at": offline_at, "intervals": intervals, "reset": reset}


def test_it_drops_a_client_that_stops_reading_without_slowing_the_others():
    with LiveServer(
        env={"CUBEARENA_SLOW_READER_BYTES": str(BOUND), "CUBEARENA_SOCKET_SEND_BUFFER": str(BOUND)}
    ) as server:
        # A thread of its own: the browser tests' Playwright may hold this thread's loop.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, scenario(server)).result()
        log = server.log_path.read_text()
    assert result["offline_at"] is not None, "the silent socket was never dropped"
    assert "dropping slow reader" in log
    assert result["reset"]
    gaps = sorted(result["intervals"])
    p99 = gaps[int(0.99 * (len(gaps) - 1))]
    assert statistics.median(gaps) < 0.05 and p99 < 0.2, (
        f"alice's snaps: median {statistics.median(gaps)}, p99 {p99}"
    )


def test_it_tells_a_kicked_player_why_in_the_close_frame():
    """Through Daphne for real: the close carries the reason the consumer gave."""

    async def kicked(server: LiveServer) -> tuple[int, str]:
        import websockets

        owner = Account(server.url)
        await owner.guest("alice")
        match = await owner.create_match("kick reason", max_players=4)
        mallory = Account(server.url)
        pid = await mallory.guest("mallory")
        sock = await mallory.open_socket(match)
        await sock.recv()
        server.manage("operate", match["id"], "kick", "--player", str(pid), "--by", "ops")
        try:
            while True:
                await sock.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code, closed.rcvd.reason

    with LiveServer() as server:
        with ThreadPoolExecutor(1) as pool:
            code, reason = pool.submit(asyncio.run, kicked(server)).result()
    assert code == 4430 and "removed from the match" in reason
