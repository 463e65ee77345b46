"""The systems benchmarks/run.py drives: CubeArena embedded, CubeArena scaled out, the bare baseline.

Each is a context manager that starts its processes, exposes `urls` (the bots' targets) and
`pids` (what to sample), and stops everything it started on exit.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cubearena.liveserver import LiveServer, free_port, stop_process  # noqa: E402
from loadbots.load import postgres_backends  # noqa: E402

BENCH_DB = "cubearena_bench"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_DB_URL = "redis://127.0.0.1:6379/2"


def production_env() -> dict[str, str]:
    """DEBUG off (as deployed), plain HTTP on loopback, players per match not capped."""
    return {
        "DEBUG": "0",
        "SECURE": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CUBEARENA_MAX_PLAYERS": "100000",
        "LOG_LEVEL": "WARNING",
    }


def pin(pids: list[int], cpus: set[int] | None) -> None:
    """Pin every thread of each process to `cpus` (threads made later inherit it)."""
    if not cpus:
        return
    for pid in pids:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:
                pass


class System:
    name = "?"
    baseline = False

    def __init__(self, cpus: set[int] | None = None):
        self.cpus = cpus
        self.urls: list[str] = []
        self.pids: list[int] = []

    def __enter__(self) -> System:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        pin(self.pids, self.cpus)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class Embedded(System):
    """The default deployment: one Daphne, in-memory layer, arbiter on its loop, SQLite."""

    name = "embedded"

    def start(self) -> None:
        self.server = LiveServer(env=production_env())
        self.server.start()
        self.urls, self.pids = [self.server.url], [self.server.proc.pid]

    def stop(self) -> None:
        if getattr(self, "server", None):
            self.server.stop()


def reset_database(name: str = BENCH_DB, base: str = POSTGRES) -> str:
    """A fresh, empty PostgreSQL database on the server at `base`; its URL."""
    import psycopg

    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


class Scaled(System):
    """Scaled out: 2 Daphne servers + 2 `runworker arbiter` on channels-redis, PostgreSQL."""

    name = "scaled"

    def __init__(self, cpus: set[int] | None = None, servers: int = 2, workers: int = 2):
        super().__init__(cpus)
        self.n_servers, self.n_workers = servers, workers
        self.servers: list[LiveServer] = []
        self.workers: list[subprocess.Popen] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="cubearena-bench-")
        self._logs: list = []
        self.database: str | None = None  # loadbots counts every backend of it (--postgres)
        self._stopped = threading.Event()

    def _pin_backends(self) -> None:
        """Pin the database's backends with the servers as they appear: the servers open
        them lazily (a thread's first query), and unpinned they would run on the bots' core."""
        while not self._stopped.wait(0.5):
            try:
                pin(postgres_backends(self.database), self.cpus)
            except Exception:  # the database is being dropped or not made yet
                pass

    def _fresh_database(self) -> str:
        """A fresh, empty benchmark database (its URL), whose backends are pinned with the
        servers as they appear."""
        self.database = reset_database()
        if self.cpus:
            threading.Thread(target=self._pin_backends, daemon=True, name="pin backends").start()
        return self.database

    def start(self) -> None:
        env = production_env() | {
            "REDIS_URL": REDIS_DB_URL,
            "CHANNEL_PREFIX": f"bench{secrets.token_hex(4)}",  # no clash with anyone else on this Redis
            "DATABASE_URL": self._fresh_database(),
        }
        for i in range(self.n_servers):
            server = LiveServer(env=env, log_path=Path(self._tmp.name) / f"daphne{i}.log")
            self.servers.append(server)
            server.start()  # the first one migrates the fresh database
        for i in range(self.n_workers):
            self._start_worker("arbiter", f"worker{i}", self.servers[0].env)
        self._wait_healthy()
        self.urls = [s.url for s in self.servers]
        self.pids = [s.proc.pid for s in self.servers] + [w.pid for w in self.workers]

    def _start_worker(self, channel: str, name: str, env: dict) -> None:
        """One `manage.py runworker <channel>`, logging to <name>.log in the run's directory."""
        log = open(Path(self._tmp.name) / f"{name}.log", "w")
        self._logs.append(log)
        self.workers.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runworker", channel],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    def _wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(w.poll() is not None for w in self.workers):
                raise RuntimeError(f"a runworker exited early; see {self._tmp.name}")
            try:
                with urllib.request.urlopen(self.servers[0].url + "/healthz", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"/healthz did not pass within {timeout:.0f} s; see {self._tmp.name}")

    def stop(self) -> None:
        self._stopped.set()
        for w in self.workers:
            if w.poll() is None:
                w.terminate()
        for w in self.workers:
            try:
                w.wait(10)
            except subprocess.TimeoutExpired:
                w.kill()
        for server in self.servers:
            server.stop()
        for log in self._logs:
            log.close()
        self._tmp.cleanup()


class OwnRedis:
    """A redis-server of the benchmark's own, on a free port: pinned with the servers, its CPU
    counted with theirs, its commands counted per step (loadbots --redis-url)."""

    def __init__(self, tmp: str):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        self.client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the benchmark's redis-server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        stop_process(self.proc)


class ScaledAffinity(Scaled):
    """Scaled out with affinity: 2 Daphne servers, each running its matches' arbiters and
    reviewing their play (CUBEARENA_SERVER_NAME s1, s2; AUDIT_IN_PROCESS, the default there:
    on a shared core a `runworker auditor` only adds a process and Redis' round trips),
    Redis of its own, PostgreSQL. The
    bots open each socket on the server its path names, as the reverse proxy would (`routes`);
    `across` sends every socket to the other server instead: affinity switched off."""

    def __init__(self, cpus: set[int] | None = None, across: bool = False):
        super().__init__(cpus, servers=2, workers=0)
        self.across = across
        self.name = "scaled-across" if across else "scaled-affinity"
        self.redis: OwnRedis | None = None

    def start(self) -> None:
        self.redis = OwnRedis(self._tmp.name)
        env = production_env() | {
            "REDIS_URL": self.redis.url,
            "CHANNEL_PREFIX": "bench",
            "DATABASE_URL": self._fresh_database(),
            "ARBITER_IN_PROCESS": "1",
        }
        for i in range(self.n_servers):
            server_env = env | {"CUBEARENA_SERVER_NAME": f"s{i + 1}"}
            server = LiveServer(env=server_env, log_path=Path(self._tmp.name) / f"daphne{i}.log")
            self.servers.append(server)
            server.start()
        self._wait_healthy()
        self.urls = [s.url for s in self.servers]
        names = [f"s{i + 1}" for i in range(self.n_servers)]
        targets = self.urls[1:] + self.urls[:1] if self.across else self.urls
        self.routes = dict(zip(names, targets, strict=True))
        self.pids = [s.proc.pid for s in self.servers] + [w.pid for w in self.workers] + [self.redis.proc.pid]
        self.pids += postgres_backends(self.database)

    def stop(self) -> None:
        super().stop()
        if self.redis is not None:
            self.redis.stop()


class Baseline(System):
    """benchmarks/baseline_server.py in one process, `delta` or `full` snapshots."""

    baseline = True

    def __init__(self, mode: str, cpus: set[int] | None = None, tick_rate: int = 20):
        super().__init__(cpus)
        self.mode, self.tick_rate = mode, tick_rate
        self.name = f"baseline-{mode}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        port = free_port()
        self._log = tempfile.NamedTemporaryFile("w+", prefix="baseline-", suffix=".log")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "baseline_server.py"),
                "--port",
                str(port),
                "--mode",
                self.mode,
                "--tick-rate",
                str(self.tick_rate),
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 20
        while "listening" not in Path(self._log.name).read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"baseline server did not start: {Path(self._log.name).read_text()[-500:]}"
                )
            time.sleep(0.1)
        self.urls, self.pids = [f"http://127.0.0.1:{port}"], [self.proc.pid]

    def stop(self) -> None:
        stop_process(self.proc)
        if getattr(self, "_log", None):
            self._log.close()


def make(name: str, cpus: set[int] | None, tick_rate: int) -> System:
    if name == "embedded":
        return Embedded(cpus)
    if name == "scaled":
        return Scaled(cpus)
    if name in ("scaled-affinity", "scaled-across"):
        return ScaledAffinity(cpus, across=name == "scaled-across")
    if name in ("baseline-delta", "baseline-full"):
        return Baseline(name.split("-")[1], cpus, tick_rate)
    raise ValueError(f"unknown system {name!r}")
