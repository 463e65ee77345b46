"""Real processes for fault tests: a Redis of a test's own, a TCP proxy that can cut a link,
and a cluster of Daphne servers and `runworker` arbiters; plus a small async client.

    redis = RedisServer().start()              # or the `redis_server` fixture
    proxy = TcpProxy("127.0.0.1", 5432)        # PostgreSQL "down" with proxy.cut()
    cluster = Cluster(db_name, redis.url, servers=2, arbiters=1, db_via=proxy).start()
    alice = await guest(cluster.servers[0].url, "alice")
    match = await create_match(alice, name="arena")
    sock = await Socket.open(alice, match)     # waits for the welcome
    seq = await sock.cmd("spawn", at=[1, 2], cid="c1")
    await sock.until_acked(seq)

Every wait is bounded. The `make_cluster` fixture stops its clusters after the test and prints
their logs when the test failed; `cluster_db` yields the test database's name.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import msgpack
import pytest
import redis
import websockets

from cubearena.liveserver import daphne_argv, free_port
from game.placement import ADVERT_LIVE_S
from loadbots.client import Account

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def _deadline_loop(timeout: float, what: str, check, every: float = 0.1):
    """Call `check` until it returns something truthy; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(every)


# -- Redis -------------------------------------------------------------------------------------


class RedisServer:
    """A `redis-server` of its own on a loopback port, with its own directory for dump.rdb."""

    def __init__(self, port: int | None = None, dir: str | Path | None = None):
        self.port = port or free_port()
        self._tmp = None if dir else tempfile.TemporaryDirectory(prefix="cubearena-redis-")
        self.dir = Path(dir or self._tmp.name)
        self.dump_path = self.dir / "dump.rdb"
        self.log_path = self.dir / "redis.log"
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=1)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        """Start (loading dump.rdb when there is one) and wait until PING answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("this redis-server is already running")
        argv = [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--dbfilename", "dump.rdb",
            "--logfile", str(self.log_path),
            "--daemonize", "no",
        ]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}; see {self.log_path}")
            return self.ping()

        _deadline_loop(10, f"redis-server on port {self.port} answering PING", up, every=0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: what Redis holds in memory is gone (nothing is saved)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop_with_dump(self) -> None:
        """SAVE, then SIGKILL: dump.rdb holds the state just before the kill."""
        with self.client() as client:
            client.save()
        self.kill()

    def restart_empty(self) -> RedisServer:
        """Kill, delete the dump, start again on the same port with nothing in it."""
        self.kill()
        self.dump_path.unlink(missing_ok=True)
        return self.start()

    def restart_from_dump(self) -> RedisServer:
        """Kill (if running) and start on the same port from dump.rdb (see stop_with_dump)."""
        self.kill()
        return self.start()

    def stop(self) -> None:
        self.kill()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# -- a TCP proxy that can cut the link ------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:`port` to the target, in background threads.

    `cut()` closes every open connection and closes new ones at once (the client sees its peer
    hang up, as when the server dies); `restore()` forwards again; `close()` stops it.
    """

    def __init__(self, target_host: str, target_port: int, port: int | None = None):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", port or 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        self.accepted = 0  # connections that got through, for tests that want to know
        self._thread = threading.Thread(target=self._accept_loop, name=f"proxy:{self.port}", daemon=True)
        self._thread.start()

    @property
    def is_cut(self) -> bool:
        return self._cut

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut or self._closed:
                _hang_up(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _hang_up(client)
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                if self._cut:
                    _hang_up(client)
                    _hang_up(upstream)
                    continue
                self._conns |= {client, upstream}
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._conns.discard(src)
            self._conns.discard(dst)
        _hang_up(src)
        _hang_up(dst)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            conns, self._conns = self._conns, set()
        for conn in conns:
            _hang_up(conn)

    def restore(self) -> None:
        self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._listener.close()
        self._thread.join(2)


def _hang_up(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# -- the cluster ---------------------------------------------------------------------------------


class Process:
    """One process of a cluster: `.proc` (Popen), `.log_path`; servers also `.port` and `.url`."""

    def __init__(self, name: str, argv: list[str], env: dict, log_path: Path, port: int | None = None):
        self.name, self.argv, self.env, self.log_path, self.port = name, argv, env, log_path, port
        self.url = f"http://127.0.0.1:{port}" if port else None
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> Process:
        self._log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __repr__(self) -> str:
        return f"<{self.name} pid={self.proc.pid if self.proc else None}>"


class Cluster:
    """`servers` Daphne processes, `arbiters` x `runworker arbiter`, optionally `runworker auditor`,
    all on `redis_url` and PostgreSQL database `db_name` (through `db_via`, a TcpProxy or a port,
    when given). `start()` is synchronous (it blocks up to 30 s); `await cluster.start()` works too.
    """

    def __init__(
        self,
        db_name: str,
        redis_url: str,
        servers: int = 2,
        arbiters: int = 2,
        auditor: bool = True,
        env: dict[str, str] | None = None,
        db_via: TcpProxy | int | None = None,
        affinity: bool = False,
        server_env: list[dict[str, str]] | None = None,
    ):
        db_port = db_via.port if isinstance(db_via, TcpProxy) else (db_via or 5432)
        self.db_name, self.redis_url = db_name, redis_url
        self.prefix = f"cubearena-cluster-{uuid.uuid4().hex[:10]}"
        self._tmp = tempfile.TemporaryDirectory(prefix="cubearena-cluster-")
        self.dir = Path(self._tmp.name)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "cubearena.settings",
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{db_port}/{db_name}",
            "CHANNEL_PREFIX": self.prefix,
            "PYTHONUNBUFFERED": "1",
            "CUBEARENA_GUESTS_PER_ADDRESS": "100000",
            **(env or {}),
        }
        # Affinity: each server runs its own arbiter and is named s1, s2, ... (its socket paths
        # are /s/<name>/...); `server_env[i]` adds to server i's environment (a capacity, say).
        self.affinity = affinity
        self.server_env = server_env or []
        self.servers: list[Process] = []
        self.arbiters: list[Process] = []
        self.auditor: Process | None = None
        self.procs: list[Process] = []  # every process ever started, in order
        self._want = (servers, arbiters, auditor)

    def _spawn(self, name: str, argv: list[str], port: int | None = None, env: dict | None = None) -> Process:
        proc = Process(name, argv, {**self.env, **(env or {})}, self.dir / f"{name}.log", port).start()
        self.procs.append(proc)
        return proc

    def start_server(self, port: int | None = None) -> Process:
        """One more Daphne (with affinity: named s<n>, running its arbiter); `port` to restart one."""
        n = len(self.servers) + 1
        env = {}
        if self.affinity:
            env = {"ARBITER_IN_PROCESS": "1", "CUBEARENA_SERVER_NAME": f"s{n}"}
            env.update(self.server_env[n - 1] if n <= len(self.server_env) else {})
        port = port or free_port()
        server = self._spawn(f"server{n}", daphne_argv(port), port, env)
        server.server_name = env.get("CUBEARENA_SERVER_NAME")
        self.servers.append(server)
        return server

    def adverts(self) -> dict[str, dict]:
        """Affinity: the live servers' load adverts (game/placement.py), name -> advert."""
        raw = redis.Redis.from_url(self.redis_url).hgetall(f"{self.prefix}:servers")
        now = time.time()
        ads = {k.decode(): json.loads(v) for k, v in raw.items()}
        return {name: ad for name, ad in ads.items() if now - ad["at"] <= ADVERT_LIVE_S}  # as placement

    def start_arbiter(self) -> Process:
        """One more `runworker arbiter` (not waited for: any arbiter answers a ping)."""
        arbiter = self._spawn(
            f"arbiter{len(self.arbiters) + 1}", [sys.executable, "manage.py", "runworker", "arbiter"]
        )
        self.arbiters.append(arbiter)
        return arbiter

    def start_auditor(self) -> Process:
        self.auditor = self._spawn("auditor", [sys.executable, "manage.py", "runworker", "auditor"])
        return self.auditor

    def start(self) -> Cluster:
        servers, arbiters, auditor = self._want
        try:
            for _ in range(servers):
                self.start_server()
            for _ in range(arbiters):
                self.start_arbiter()
            if auditor:
                self.start_auditor()
            deadline = time.monotonic() + START_TIMEOUT_S
            for server in self.servers:
                self.wait_for_server(server, max(1.0, deadline - time.monotonic()))
            if arbiters:
                self.wait_for_arbiter(max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.dump_logs()
            self.stop()
            raise
        return self

    def __await__(self):  # so that `await cluster.start()` reads naturally in async tests
        return self._self().__await__()

    async def _self(self) -> Cluster:
        return self

    def wait_for_server(self, server: Process, timeout: float = START_TIMEOUT_S) -> None:
        """Until `server` answers GET /api/csrf (fails at once if it exited)."""

        def answers():
            if not server.alive:
                raise RuntimeError(
                    f"{server.name} exited with {server.proc.returncode}; see {server.log_path}"
                )
            try:
                urllib.request.urlopen(server.url + "/api/csrf", timeout=1)
                return True
            except OSError:
                return False

        _deadline_loop(timeout, f"{server.name} answering /api/csrf", answers, every=0.2)

    def wait_for_arbiter(self, timeout: float = 20) -> str:
        """Until an arbiter answers a ping on `arbiter`; its channel name. From sync or async code."""
        return run_blocking(wait_for_arbiter(timeout, redis_url=self.redis_url, prefix=self.prefix))

    def kill(self, proc: Process, sig: int = signal.SIGKILL, timeout: float = 10) -> int | None:
        """Send `sig`; wait (bounded) for the process to exit; its return code (None if it did not)."""
        if proc.alive:
            proc.proc.send_signal(sig)
        try:
            return proc.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """Terminate every process; kill what is still running after 10 s."""
        running = [p for p in self.procs if p.alive]
        for p in running:
            p.proc.terminate()
        deadline = time.monotonic() + 10
        for p in running:
            try:
                p.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait(5)
        for p in self.procs:
            p.close_log()

    def cleanup(self) -> None:
        self._tmp.cleanup()

    def dump_logs(self, tail: int = 200, file=None) -> str:
        """Every process's log (its last `tail` lines), printed to `file` (stdout) and returned."""
        parts = []
        for p in self.procs:
            lines = p.log().splitlines()
            code = p.proc.poll() if p.proc else None
            parts.append(f"----- {p.name} (pid {p.proc.pid if p.proc else '-'}, exit {code}) {p.log_path}")
            parts.extend(lines[-tail:])
        text = "\n".join(parts)
        print(text, file=file or sys.stdout, flush=True)
        return text

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_blocking(coro):
    """Run `coro` to its end from sync code, even when this thread already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def wait_for_arbiter(
    timeout: float = 20, redis_url: str | None = None, prefix: str | None = None
) -> str:
    """Ping the `arbiter` named channel until a worker answers; its channel name.

    Defaults to this process's own layer settings (the shared Redis and CHANNEL_PREFIX)."""
    from channels_redis.core import RedisChannelLayer
    from django.conf import settings

    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    if redis_url:
        config["hosts"] = [{"address": redis_url, "socket_timeout": 30}]
    if prefix:
        config["prefix"] = prefix
    # A layer per try: a receive cancelled by the timeout can leave channels-redis' connection
    # unusable, and the test's own sockets must not inherit that.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        layer = RedisChannelLayer(**config)
        try:
            reply = await layer.new_channel()
            await layer.send("arbiter", {"type": "arbiter.ping", "reply": reply})
            pong = await asyncio.wait_for(layer.receive(reply), 1.0)
            return pong["arbiter"]
        except (TimeoutError, OSError, redis.RedisError):
            await asyncio.sleep(0.1)
        finally:
            try:
                await layer.close_pools()
            except Exception:
                pass
    raise AssertionError(f"no runworker arbiter answered within {timeout} s")


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def cluster_db(transactional_db):
    """The test database's name, for processes that connect to it themselves."""
    from django.db import connection

    return connection.settings_dict["NAME"]


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_cluster(request, cluster_db, redis_server):
    """`make_cluster(redis_url, servers=1, arbiters=1, ...)`: a started Cluster on the test
    database; stopped after the test, its logs printed when the test failed. `redis_url`
    defaults to the test's `redis_server`, which is stopped only after the cluster (so the
    processes' shutdown does not meet a dead Redis)."""
    clusters: list[Cluster] = []

    def make(redis_url: str | None = None, **kwargs) -> Cluster:
        cluster = Cluster(cluster_db, redis_url or redis_server.url, **kwargs)
        clusters.append(cluster)
        return cluster.start()

    yield make
    failed = any(getattr(request.node, f"rep_{when}", None) and getattr(request.node, f"rep_{when}").failed
                 for when in ("setup", "call"))  # fmt: skip
    for cluster in clusters:
        cluster.stop()
        if failed:
            cluster.dump_logs()
        cluster.cleanup()


# -- the client ----------------------------------------------------------------------------------


async def guest(server_url: str, nickname: str) -> Account:
    """A signed-in guest's HTTP session (`.player` is its id); `await account.close()` after."""
    account = Account(server_url)
    await account.guest(nickname)
    return account


async def create_match(account: Account, **settings) -> dict:
    """POST /api/matches; the match object (with `id` and `ws`). `name` defaults."""
    name = settings.pop("name", "cluster match")
    return await account.create_match(name, **settings)


def socket_url(server_url: str, path: str, **query) -> str:
    parts = urlsplit(server_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    q = urlencode({k: v for k, v in query.items() if v is not None})
    return f"{scheme}://{parts.netloc}{path}" + (f"?{q}" if q else "")


def entity(rec) -> dict:
    """A snap's entity record in units, from either encoding (msgpack sends an array in hundredths)."""
    if isinstance(rec, dict):
        return rec
    eid, owner, x, z, tx, tz, *cid = rec
    out = {"id": eid, "owner": owner, "x": x / 100, "z": z / 100, "tx": tx / 100, "tz": tz / 100}
    if cid and cid[0] is not None:
        out["cid"] = cid[0]
    return out


class Socket:
    """A match socket with a background reader: every frame, decoded, lands in `.frames` in order.

    `.welcome`, `.ents` (id -> {"id", "owner", "x", "z", "tx", "tz"}, in units for both
    encodings), `.acks` (player id as str -> seq), `.last_tick`, `.closed_code` and
    `.close_reason` follow the frames as they come.
    """

    def __init__(self, ws, binary: bool, player: int | None = None):
        self.ws, self.binary, self.player = ws, binary, player
        self.frames: list[dict] = []
        self.welcome: dict | None = None
        self.ents: dict[int, dict] = {}
        self.acks: dict[str, int] = {}
        self.last_tick = 0
        self.seq = 0
        self.closed_code: int | None = None
        self.close_reason: str | None = None
        self._cursor = 0  # next() looks from here on
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(
        cls,
        account: Account | None,
        match: dict | None = None,
        *,
        server_url: str | None = None,
        path: str | None = None,
        enc: str = "json",
        role: str | None = None,
        code: str | None = None,
        origin: str | None = None,
        welcome: bool = True,
        timeout: float = 10,
    ) -> Socket:
        """Open `match["ws"]` (or `path`) on the account's server (or `server_url`), with the
        account's cookies (none without an account) and the server's own Origin.

        With `welcome` (the default) it waits for the welcome and fails if the socket closes first;
        without, it returns once the handshake is done (for refusals: see `closed()`).
        """
        base = server_url or account.base_url
        target = socket_url(base, path or match["ws"], enc=enc, role=role, code=code)
        headers = {"Cookie": account.cookie_header()} if account is not None else {}
        ws = await asyncio.wait_for(
            websockets.connect(
                target, origin=origin or base.rstrip("/"), additional_headers=headers, max_size=2**24
            ),
            timeout,
        )
        sock = cls(ws, binary=enc == "msgpack", player=account.player if account else None)
        if welcome:
            await sock.next("welcome", timeout)
        return sock

    # -- reading ----------------------------------------------------------------------------
    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
                self._apply(msg)
                self.frames.append(msg)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_code = self.ws.close_code if self.ws.close_code is not None else 1006
            self.close_reason = self.ws.close_reason
            self._changed.set()

    def _apply_snap(self, snap: dict) -> None:
        if snap["full"]:
            self.ents = {}
        for rec in snap["ents"]:
            ent = entity(rec)
            self.ents[ent["id"]] = ent
        for gone in snap["gone"]:
            self.ents.pop(gone, None)
        self.acks.update({str(k): v for k, v in snap["acks"].items()})
        self.last_tick = max(self.last_tick, snap["tick"])

    def _apply(self, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "welcome":
            self.welcome = msg
            self.seq = msg.get("ack") or 0
            self._apply_snap(msg["snap"])
        elif kind == "snap":
            self._apply_snap(msg)

    @property
    def closed(self) -> bool:
        return self.closed_code is not None

    async def wait_for(self, predicate, timeout: float = 5, what: str | None = None):
        """Until `predicate(self)` is truthy (checked now and after every frame); its value.
        Fails after `timeout` s, or when the socket closed with the predicate still false."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = predicate(self)
            if value:
                return value
            if self.closed:
                raise AssertionError(
                    f"socket closed ({self.closed_code} {self.close_reason!r}) before {what or predicate}"
                )
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"not within {timeout} s: {what or predicate}")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass

    async def next(self, type: str, timeout: float = 5, where=None) -> dict:
        """The next frame of `type` (and `where(frame)`) after the last one next() returned."""

        def find(_):
            for i in range(self._cursor, len(self.frames)):
                frame = self.frames[i]
                if frame.get("type") == type and (where is None or where(frame)):
                    self._cursor = i + 1
                    return frame
            return None

        return await self.wait_for(find, timeout, what=f"a {type!r} frame")

    def of_type(self, type: str) -> list[dict]:
        return [f for f in self.frames if f.get("type") == type]

    def acked(self, seq: int, player: int | None = None) -> bool:
        """Has a snap acknowledged `seq` for `player` (this socket's own by default)?"""
        return self.acks.get(str(player or self.player), 0) >= seq

    async def until_acked(self, seq: int, timeout: float = 5, player: int | None = None) -> None:
        await self.wait_for(lambda s: s.acked(seq, player), timeout, what=f"ack of seq {seq}")

    async def closed_with(self, timeout: float = 5) -> int:
        """Wait (bounded) until the server closes the socket; the close code."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.closed_code

    # -- writing ----------------------------------------------------------------------------
    async def send(self, msg: dict | str | bytes) -> None:
        if isinstance(msg, dict):
            msg = msgpack.packb(msg) if self.binary else json.dumps(msg)
        await self.ws.send(msg)

    async def cmd(self, op: str, **fields) -> int:
        """Send a numbered command (seq continues from the welcome's ack); its seq."""
        self.seq += 1
        await self.send({"type": "cmd", "seq": self.seq, "tick": self.last_tick, "op": op, **fields})
        return self.seq

    async def close(self, timeout: float = 5) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), timeout)
        finally:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
