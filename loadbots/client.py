"""A headless CubeArena client over the public HTTP API and WebSocket protocol.

Used by the load bots and the benchmarks; it speaks PROTOCOL.md like any third-party
client would (CSRF cookie, guest session, Origin header, numbered commands).
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import httpx
import msgpack
import websockets


class ApiError(RuntimeError):
    """The server answered an API call with an error object."""


class Account:
    """A guest player's HTTP session: cookies and CSRF token."""

    def __init__(self, base_url: str, local_address: str | None = None, routes: dict | None = None):
        self.base_url = base_url.rstrip("/")
        # Affinity: a socket path under /s/<name>/ is opened on routes[name] (what a reverse
        # proxy does), instead of on this account's own server.
        self.routes = routes or {}
        # A loopback source address of its own (127.x.y.z) lets a load run mint more guests than
        # one address may (the server's CUBEARENA_GUESTS_PER_ADDRESS) without touching it.
        transport = httpx.AsyncHTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=10, transport=transport)
        self.player: int | None = None

    async def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        if "csrftoken" not in self.http.cookies:
            await self.http.get("/api/csrf")
        headers = {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Origin": self.base_url}
        resp = await self.http.request(method, path, json=body, headers=headers)
        data = resp.json() if resp.content else {}
        if resp.status_code >= 400:
            raise ApiError(f"{method} {path}: {resp.status_code} {data}")
        return data

    async def guest(self, nickname: str) -> int:
        data = await self._call("POST", "/api/guest", {"nickname": nickname})
        await self.http.get("/api/csrf")  # a login rotates the token: read it again
        self.player = data["player"]
        return self.player

    async def create_match(
        self, name: str, max_players: int = 8, tick_rate: int = 10, private: bool = False
    ) -> dict:
        return await self._call(
            "POST",
            "/api/matches",
            {"name": name, "max_players": max_players, "tick_rate": tick_rate, "private": private},
        )

    async def match(self, match_id: str) -> dict:
        return await self._call("GET", f"/api/matches/{match_id}")

    def socket_uri(self, match: dict, enc: str = "json", role: str | None = None) -> str:
        server = match["ws"].split("/")[2] if match["ws"].startswith("/s/") else None
        parts = urlsplit(self.routes.get(server, self.base_url))
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = [f"enc={enc}"] + ([f"role={role}"] if role else [])
        return f"{scheme}://{parts.netloc}{match['ws']}?{'&'.join(query)}"

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())

    async def open_socket(
        self, match: dict, enc: str = "json", role: str | None = None, **ws_kwargs
    ) -> Socket:
        ws = await websockets.connect(
            self.socket_uri(match, enc, role),
            origin=self.base_url,
            additional_headers={"Cookie": self.cookie_header()},
            max_size=2**24,
            **ws_kwargs,
        )
        return Socket(ws, binary=enc == "msgpack")

    async def close(self) -> None:
        await self.http.aclose()


def bare_socket_uri(base_url: str, match_id: str, player: int, enc: str = "json") -> str:
    """A socket of benchmarks/baseline_server.py: no HTTP API, the player id in the query."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/ws/match/{match_id}/?player={player}&enc={enc}"


async def open_bare_socket(
    base_url: str, match_id: str, player: int, enc: str = "json", **ws_kwargs
) -> Socket:
    ws = await websockets.connect(
        bare_socket_uri(base_url, match_id, player, enc),
        origin=base_url.rstrip("/"),
        max_size=2**24,
        **ws_kwargs,
    )
    return Socket(ws, binary=enc == "msgpack")


class Socket:
    """One match socket: numbered commands out, decoded messages in."""

    def __init__(self, ws, binary: bool):
        self.ws, self.binary = ws, binary
        self.seq = 0
        self.tick = 0

    def decode(self, frame: str | bytes) -> dict:
        return msgpack.unpackb(frame) if isinstance(frame, bytes) else json.loads(frame)

    async def recv(self) -> dict:
        return self.decode(await self.ws.recv())

    async def send(self, msg: dict) -> None:
        await self.ws.send(msgpack.packb(msg) if self.binary else json.dumps(msg))

    async def cmd(self, op: str, **fields) -> tuple[int, float]:
        """Send a command; its seq and the monotonic time it left."""
        self.seq += 1
        await self.send({"type": "cmd", "seq": self.seq, "tick": self.tick, "op": op, **fields})
        return self.seq, time.monotonic()

    async def close(self) -> None:
        await self.ws.close()
