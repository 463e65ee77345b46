"""PostgreSQL goes away and comes back: the HTTP side answers 503 and new sockets 1013 meanwhile."""

import asyncio
import time

import httpx

from .cluster import Socket, TcpProxy, create_match, guest


async def wait_for_status(http: httpx.AsyncClient, path: str, status: int, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        response = await http.get(path)
        if response.status_code == status:
            return response
        assert time.monotonic() < deadline, f"{path}: still {response.status_code} after {timeout} s"
        await asyncio.sleep(0.2)


async def test_an_unreachable_database_answers_503_and_1013_until_it_is_back(make_cluster, redis_server):
    proxy = TcpProxy("127.0.0.1", 5432)
    try:
        cluster = make_cluster(redis_server.url, servers=1, arbiters=1, auditor=False, db_via=proxy)
        (server,) = cluster.servers
        alice = await guest(server.url, "alice")
        match = await create_match(alice, name="outage")
        assert (await alice.http.get("/api/matches")).status_code == 200

        proxy.cut()

        response = await alice.http.get("/api/matches")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == "unavailable"
        assert "database" in response.json()["error"]["message"]
        assert int(response.headers["retry-after"]) > 0

        page = await alice.http.get("/")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "database" in page.text and "Traceback" not in page.text
        assert int(page.headers["retry-after"]) > 0

        started = time.monotonic()
        sock = await Socket.open(alice, match, welcome=False, timeout=3)
        assert await sock.closed_with(timeout=3) == 1013
        assert time.monotonic() - started < 3
        await sock.close()

        proxy.restore()
        back = await wait_for_status(alice.http, "/api/matches", 200)
        assert [m["id"] for m in back.json()["matches"]] == [match["id"]]
        await alice.close()
        logs = "\n".join(p.log() for p in cluster.servers)
        assert "Traceback" not in logs, logs
    finally:
        proxy.close()
