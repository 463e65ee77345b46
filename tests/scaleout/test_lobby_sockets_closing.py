"""A thousand lobby sockets on a real server, closed at once: no traceback, none left in the group."""

import asyncio
import time

import websockets

from .cluster import socket_url

SOCKETS = 1000


async def test_a_thousand_lobby_sockets_close_at_once_and_all_leave_the_group(make_cluster, redis_server):
    cluster = make_cluster(redis_server.url, servers=1, arbiters=0, auditor=False)
    (server,) = cluster.servers
    url = socket_url(server.url, "/ws/lobby/")
    gate = asyncio.Semaphore(100)  # open them a hundred at a time: the test's own side stays light

    async def one():
        async with gate:
            ws = await websockets.connect(url, origin=server.url, open_timeout=20)
            await asyncio.wait_for(ws.recv(), 20)  # the match list
            return ws

    sockets = await asyncio.gather(*(one() for _ in range(SOCKETS)))
    group = f"{cluster.prefix}:group:lobby"
    with redis_server.client() as client:
        assert client.zcard(group) == SOCKETS

        await asyncio.gather(*(ws.close() for ws in sockets))

        deadline = time.monotonic() + 20
        while client.zcard(group) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert client.zcard(group) == 0
    log = server.log()
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
