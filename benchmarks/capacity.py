"""What Redis and PostgreSQL carry per match and per player, scaled out, measured on this machine.

Starts a Redis and a PostgreSQL of its own (so Redis' server-wide INFO counters and the
cluster-wide WAL position count only this run; database 5 on that Redis, database
`cubearena_capacity` on that PostgreSQL), then the scaled-out set-up of benchmarks/systems.py
on them: 2 Daphne servers, 2 `runworker arbiter` and a `runworker auditor`, a CHANNEL_PREFIX of
its own. Then one `manage.py loadbots` run per step (M matches x P players, 20 Hz, the bots'
usual workload: 5 cubes each, a move every 100 ms; bots alternate between the servers within
each match, so every command and every snapshot crosses Redis) plus an idle step with no match.

Over each step's measuring window (the bots' own, hooked in the loadbots process):
- Redis: CONFIG RESETSTAT at the window's start, then INFO commandstats (calls and usec by
  command), INFO stats (net input/output bytes), INFO cpu and memory at its end; each match's
  input-log tick (so ticks actually run) and its log tail in Redis;
- PostgreSQL: pg_stat_database (xact_commit, tup_inserted/updated/deleted) of the benchmark
  database, pg_stat_wal and pg_current_wal_lsn() (WAL bytes), the size of each match's
  checkpoint (lobby Match.checkpoint) and of the log chunks (game.models.MatchLogChunk) and
  events written in the window.

Every figure is then fitted as rate = idle + a * matches + b * players (the idle step gives the
first term, least squares over the other steps the two others), and printed per match-second
and per player-second.

    .venv/bin/python benchmarks/capacity.py                # ~6 min: idle + 3 steps of 30 s
    .venv/bin/python benchmarks/capacity.py --quick        # ~2 min: idle + 2 steps of 8 s
    .venv/bin/python benchmarks/capacity.py --steps 10x2,10x5,2x20 --seconds 30 --json out.json
    .venv/bin/python benchmarks/capacity.py --shared       # the machine's Redis (db 5) and PostgreSQL
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import systems  # noqa: E402
from cubearena.liveserver import LiveServer, free_port  # noqa: E402

DB_NAME = "cubearena_capacity"
REDIS_DB = 5
SHARED_REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
SHARED_POSTGRES = "postgres://postgres@127.0.0.1:5432"
MODES = {
    # mode: (steps as (matches, players per match), seconds per step, idle seconds)
    "quick": ([(4, 2), (2, 10)], 10.0, 5.0),
    "full": ([(10, 2), (10, 5), (2, 20)], 30.0, 20.0),
}
SIM = {"quick": (40, 5.0), "full": (100, 15.0)}  # the affinity sim: matches, seconds


# -- services of our own -----------------------------------------------------------------------


class OwnRedis:
    """A redis-server on a free loopback port, no persistence."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cubearena-capacity-redis-")
        self.url = f"redis://127.0.0.1:{self.port}/{REDIS_DB}"
        self.proc = None

    def start(self) -> OwnRedis:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class OwnPostgres:
    """A PostgreSQL cluster of its own (initdb, trust auth, default settings) on a free port."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="cubearena-capacity-pg-")
        self.data = os.path.join(self.dir, "data")
        self.base = f"postgres://postgres@127.0.0.1:{self.port}"
        self.started = False

    def _run(self, *argv: str) -> None:
        # PostgreSQL will not run as root: as the postgres user then.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(prefix + list(argv), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _bin(self, name: str) -> str:
        found = shutil.which(name)
        if found:
            return found
        for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(candidate)
        raise RuntimeError(f"{name} not found (PostgreSQL server binaries)")

    def start(self) -> OwnPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run(self._bin("initdb"), "-D", self.data, "--auth=trust", "-U", "postgres")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run(self._bin("pg_ctl"), "-D", self.data, "-o", opts, "-l", f"{self.dir}/log", "-w", "start")
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            try:
                self._run(self._bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Scaled(systems.Scaled):
    """systems.Scaled on the given Redis and database, with its own prefix, plus the auditor.

    `kind`: "scaled" (2 Daphne + 2 `runworker arbiter`: every command and snapshot crosses
    Redis); "affinity" (2 Daphne each running its matches' arbiters, CUBEARENA_SERVER_NAME s1
    and s2, the bots opening each socket on the server its path names, as the reverse proxy
    would); "across" (the same, every socket on the other server: affinity switched off)."""

    def __init__(self, redis_url: str, database_url: str, kind: str = "scaled", auditor: bool = True):
        super().__init__(cpus=None, workers=0 if kind != "scaled" else 2)
        self.redis_url, self.database_url, self.kind, self.auditor = redis_url, database_url, kind, auditor
        self.name = kind
        self.prefix = f"capacity{secrets.token_hex(4)}"
        self.routes: dict[str, str] = {}

    def start(self) -> None:
        env = systems.production_env() | {
            "REDIS_URL": self.redis_url,
            "CHANNEL_PREFIX": self.prefix,
            "DATABASE_URL": self.database_url,
        }
        if self.kind != "scaled":
            env["ARBITER_IN_PROCESS"] = "1"
        for i in range(self.n_servers):
            server_env = env | ({"CUBEARENA_SERVER_NAME": f"s{i + 1}"} if self.kind != "scaled" else {})
            server = LiveServer(env=server_env, log_path=Path(self._tmp.name) / f"daphne{i}.log")
            self.servers.append(server)
            server.start()  # the first one migrates the fresh database
        channels = ["arbiter"] * self.n_workers + (["auditor"] if self.auditor else [])
        worker_env = {k: v for k, v in self.servers[0].env.items() if k != "CUBEARENA_SERVER_NAME"}
        for i, channel in enumerate(channels):
            self._start_worker(channel, f"worker{i}-{channel}", worker_env)
        self._wait_healthy()
        self.urls = [s.url for s in self.servers]
        if self.kind != "scaled":
            names = [f"s{i + 1}" for i in range(self.n_servers)]
            targets = self.urls[1:] + self.urls[:1] if self.kind == "across" else self.urls
            self.routes = dict(zip(names, targets, strict=True))
        self.pids = [s.proc.pid for s in self.servers] + [w.pid for w in self.workers]


# -- the measurement (runs inside the loadbots process, at the edges of its window) --------------


def _lsn(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


class Probe:
    """Reads Redis and PostgreSQL at the window's start and end."""

    def __init__(self, spec: dict):
        import psycopg
        import redis

        self.spec = spec
        self.redis = redis.Redis.from_url(spec["redis_url"], socket_timeout=5)
        self.pg = psycopg.connect(spec["database_url"], autocommit=True)
        self.marks: dict = {}

    def _matches(self) -> list[str]:
        rows = self.pg.execute(
            "SELECT id::text FROM lobby_match WHERE name LIKE %s", [f"load {self.spec['label']} %"]
        ).fetchall()
        return [r[0] for r in rows]

    def _ticks(self, matches: list[str]) -> dict[str, int]:
        if not matches:
            return {}
        p = self.spec["prefix"] + "-match"
        values = self.redis.mget([f"{p}:logtick:{m}" for m in matches])
        return {m: int(v) for m, v in zip(matches, values) if v is not None}

    def _redis(self) -> dict:
        out = {"t": time.monotonic()}
        for section in ("commandstats", "stats", "cpu", "memory"):
            out[section] = self.redis.info(section)
        return out

    def _pg(self) -> dict:
        stat = self.pg.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched "
            "FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        wal = self.pg.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal").fetchone()
        lsn, now, size = self.pg.execute(
            "SELECT pg_current_wal_lsn()::text, now(), pg_database_size(current_database())"
        ).fetchone()
        keys = ("xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched")
        return dict(zip(keys, stat)) | {
            "wal_records": int(wal[0]),
            "wal_fpi": int(wal[1]),
            "wal_bytes_stat": int(wal[2]),
            "wal_lsn": _lsn(lsn),
            "now": now,
            "db_size": size,
        }

    def open(self) -> None:
        """In a thread, so the bots play on: first (own Redis only) a moment of MONITOR for the
        sizes of the requests, then CONFIG RESETSTAT and the first reading. The window measured
        runs from that reading to the one `close` takes."""
        self._opening = threading.Thread(target=self._open, daemon=True)
        self._opening.start()

    def _open(self) -> None:
        if not self.spec["shared"] and self.spec.get("monitor", 0) > 0:
            self.monitored = monitor(self.spec["redis_url"], self.spec["monitor"], self.spec["prefix"])
        if not self.spec["shared"]:
            self.redis.config_resetstat()  # our own Redis: nobody else's figures to disturb
        self.marks["open"] = {"redis": self._redis(), "pg": self._pg()}
        self.matches = self._matches()
        self.marks["open"]["ticks"] = self._ticks(self.matches)

    def close(self) -> None:
        self._opening.join()
        self.marks["close"] = {"redis": self._redis()}
        self.marks["close"]["ticks"] = self._ticks(self.matches)
        self.marks["close"]["pg"] = self._pg()
        self.marks["close"]["store"] = self._store()
        self.marks["close"]["monitor"] = getattr(self, "monitored", None)

    def _store(self) -> dict:
        """Each match's log tail in Redis and its checkpoint in the database, as they are now."""
        p = self.spec["prefix"] + "-match"
        tails = []
        for m in self.matches:
            entries = self.redis.lrange(f"{p}:log:{m}", 0, -1)
            mem = sum(self.redis.memory_usage(f"{p}:{kind}:{m}") or 0 for kind in ("log", "lease", "logtick"))
            tails.append({"entries": len(entries), "bytes": sum(map(len, entries)), "memory": mem})
        checkpoints = self.pg.execute(
            "SELECT octet_length(checkpoint::text), pg_column_size(checkpoint) FROM lobby_match "
            "WHERE id::text = ANY(%s) AND checkpoint IS NOT NULL",
            [self.matches],
        ).fetchall()
        return {
            "tails": tails,
            "checkpoints": [{"json": a, "stored": b} for a, b in checkpoints],
            "redis_keys": self.redis.dbsize(),
        }

    def written(self) -> dict:
        """Log chunks and events the step's matches wrote within the window (read afterwards)."""
        since, until = self.marks["open"]["pg"]["now"], self.marks["close"]["pg"]["now"]
        chunks = self.pg.execute(
            "SELECT count(*), coalesce(sum(octet_length(entries)), 0), "
            "coalesce(sum(pg_column_size(entries)), 0), "
            "coalesce(sum(octet_length(keyframe::text)), 0), count(keyframe) "
            "FROM game_matchlogchunk WHERE match_id::text = ANY(%s) AND created >= %s AND created < %s",
            [self.matches, since, until],
        ).fetchone()
        events = self.pg.execute(
            "SELECT count(*) FROM lobby_matchevent WHERE match_id::text = ANY(%s) "
            "AND created >= %s AND created < %s",
            [self.matches, since, until],
        ).fetchone()
        return {
            "chunks": chunks[0],
            "chunk_entries_bytes": chunks[1],
            "chunk_entries_stored": chunks[2],
            "keyframe_bytes": chunks[3],
            "keyframes": chunks[4],
            "events": events[0],
        }


def _arg_sizes(line: str) -> list[tuple[int, str]]:
    """The quoted arguments of a MONITOR line: (bytes, the first 60 characters as shown)."""
    out, i, n = [], line.find('] "'), len(line)
    if i < 0:
        return out
    i += 2
    while i < n:
        if line[i] != '"':
            i += 1
            continue
        i += 1
        start, size = i, 0
        while i < n and line[i] != '"':
            if line[i] == "\\":
                i += 4 if line[i + 1] == "x" else 2
            else:
                i += 1
            size += 1
        out.append((size, line[start : min(i, start + 60)]))
        i += 1
    return out


def _monitor_kind(args: list[tuple[int, str]], prefix: str) -> str:
    name = args[0][1].upper()
    if name == "EVAL" and len(args) > 3:
        if "backed_up" in args[1][1] or "ZRANGE" in args[1][1]:
            return "EVAL receive (restore backup)"
        dest = args[3][1][len(prefix) :] if args[3][1].startswith(prefix) else args[3][1]
        return "EVAL send to " + dest.replace("!", ".").split(".")[0]
    if name == "PUBLISH" and len(args) > 1:
        return "PUBLISH" + (" (group)" if "bcast" in args[1][1] or "group" in args[1][1] else "")
    return name


def monitor(redis_url: str, seconds: float, prefix: str) -> dict:
    """MONITOR for `seconds`: per kind of command (scripts' inner commands left out), how many
    and the bytes of the requests as sent (RESP)."""
    import socket
    from urllib.parse import urlsplit

    u = urlsplit(redis_url)
    sock = socket.create_connection((u.hostname, u.port or 6379), timeout=seconds)
    sock.sendall(b"MONITOR\r\n")
    buf, end = b"", time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                chunk = sock.recv(1 << 20)
            except TimeoutError:
                break
            if not chunk:
                break
            buf += chunk
    finally:
        sock.close()
    kinds: dict[str, dict] = {}
    for raw in buf.split(b"\r\n")[1:-1]:  # the first is MONITOR's +OK, the last may be cut
        line = raw.decode("latin-1")
        if " lua] " in line or "[" not in line:
            continue
        args = _arg_sizes(line)
        if not args:
            continue
        resp = len(f"*{len(args)}\r\n") + sum(len(f"${size}\r\n") + size + 2 for size, _ in args)
        k = kinds.setdefault(_monitor_kind(args, prefix), {"calls": 0, "request_bytes": 0})
        k["calls"] += 1
        k["request_bytes"] += resp
    return {"seconds": seconds, "kinds": kinds}


def child(spec_path: str) -> int:
    """The loadbots process: `manage.py loadbots` with a probe at its window's edges."""
    spec = json.loads(Path(spec_path).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cubearena.settings")
    import django

    django.setup()
    from django.core.management import call_command

    import loadbots.load

    probe = Probe(spec)
    sampler = loadbots.load.ProcessSampler

    class HookedSampler(sampler):
        # loadbots starts its process sampler as the window opens and stops it as it closes
        def start(self):
            probe.open()
            super().start()

        def stop(self):
            super().stop()
            probe.close()

    loadbots.load.ProcessSampler = HookedSampler
    call_command("loadbots", *spec["argv"])
    written = probe.written() if "close" in probe.marks else {}
    out = {"marks": probe.marks, "written": written, "matches": probe.matches}
    Path(spec["out"]).write_text(json.dumps(out, default=str))
    return 0


# -- steps and figures -------------------------------------------------------------------------


def measure_idle(redis_url: str, database_url: str, seconds: float, shared: bool) -> dict:
    """The idle step: the processes with no match at all."""
    probe = Probe(
        {"redis_url": redis_url, "database_url": database_url, "label": "-", "prefix": "-", "shared": shared}
    )
    probe.open()
    probe._opening.join()
    time.sleep(seconds)
    probe.close()
    return {"marks": probe.marks, "written": {}, "matches": []}


# -- what stays on Redis with affinity, played against it directly --------------------------------


async def _affinity_sim(
    redis_url: str, matches: int, seconds: float, tick_rate: int, entry: int, publish: int
):
    """`matches` matches' per-tick Redis work as their owner does it with affinity: the input-log
    append that renews the lease (game/transport/match_store.py's APPEND script, one EVALSHA),
    and, when `publish` > 0, one PUBLISH of that many bytes per tick to a channel with one
    subscriber (a process serving one of the match's sockets from elsewhere)."""
    import asyncio

    import redis.asyncio as aredis

    from game.transport.match_store import APPEND

    client = aredis.Redis.from_url(redis_url, socket_timeout=5, max_connections=matches + 8)
    listener = aredis.Redis.from_url(redis_url, socket_timeout=5)
    append = client.register_script(APPEND)
    sub = None
    if publish:
        sub = listener.pubsub()
        await sub.subscribe("capacity-sim-bcast")

        async def drain():
            while True:
                await sub.get_message(ignore_subscribe_messages=True, timeout=1.0)

        drainer = asyncio.create_task(drain())
    data, payload = os.urandom(entry), os.urandom(publish)
    done = 0
    period = 1.0 / tick_rate

    async def one(m: int, start: float, end: float) -> None:
        nonlocal done
        keys = [f"capsim-match:lease:{m}", f"capsim-match:log:{m}", f"capsim-match:logtick:{m}"]
        await client.delete(*keys)
        await client.set(keys[2], "0")
        tick, due = 0, start + period * m / matches
        while due < end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tick += 1
            await append(keys, ["owner.abc!def", 3000, str(tick - 1), str(tick), 20, data])
            if publish:
                await client.publish("capacity-sim-bcast", payload)
            done += 1
            due += period

    start = time.monotonic() + 0.5
    await asyncio.gather(*(one(m, start, start + seconds) for m in range(matches)))
    if sub is not None:
        drainer.cancel()
        await sub.aclose()
    await client.aclose()
    await listener.aclose()
    return done


def affinity_sim(
    redis_url: str, matches: int, seconds: float, tick_rate: int, entry: int, publish: int
) -> dict:
    """The sim with Redis' counters read around it (the scaled system idles meanwhile)."""
    import asyncio

    import redis

    r = redis.Redis.from_url(redis_url, socket_timeout=5)
    r.config_resetstat()
    before = {sec: r.info(sec) for sec in ("commandstats", "stats", "cpu")}
    t0 = time.monotonic()
    ticks = asyncio.run(_affinity_sim(redis_url, matches, seconds, tick_rate, entry, publish))
    secs = time.monotonic() - t0
    after = {sec: r.info(sec) for sec in ("commandstats", "stats", "cpu")}
    r.delete(*(r.keys("capsim-match:*") or ["capsim-none"]))
    cpu = lambda x: x["cpu"]["used_cpu_user"] + x["cpu"]["used_cpu_sys"]  # noqa: E731
    calls = {
        k[len(REDIS_CMD_PREFIX) :]: v["calls"] - before["commandstats"].get(k, {"calls": 0})["calls"]
        for k, v in after["commandstats"].items()
        if k[len(REDIS_CMD_PREFIX) :] not in ("info", "config|resetstat")
    }
    for setup in ("del", "set"):  # each match's keys are reset once before its first tick
        calls[setup] = calls.get(setup, 0) - matches
    usec = {
        k[len(REDIS_CMD_PREFIX) :]: v["usec"] - before["commandstats"].get(k, {"usec": 0})["usec"]
        for k, v in after["commandstats"].items()
    }
    # Per match-second at the nominal rate: a client that fell behind ran fewer ticks, and
    # everything here is per tick.
    match_s = ticks / tick_rate
    return {
        "matches": matches,
        "seconds": secs,
        "entry_bytes": entry,
        "publish_bytes": publish,
        "ticks_per_match_s": ticks / (matches * secs),
        "commands_per_match_s": sum(calls.values()) / match_s,
        "commands": {k: v / match_s for k, v in sorted(calls.items()) if v > 0},
        "requests_per_match_s": (calls.get("evalsha", 0) + calls.get("publish", 0)) / match_s,
        "evalsha_usec_per_call": usec.get("evalsha", 0) / max(1, calls.get("evalsha", 0)),
        "in_bytes_per_match_s": (
            after["stats"]["total_net_input_bytes"] - before["stats"]["total_net_input_bytes"]
        )
        / match_s,
        "out_bytes_per_match_s": (
            after["stats"]["total_net_output_bytes"] - before["stats"]["total_net_output_bytes"]
        )
        / match_s,
        "redis_cpu_pct": 100 * (cpu(after) - cpu(before)) / secs,
        "redis_cpu_s_per_tick": (cpu(after) - cpu(before)) / ticks,
    }


def run_step(system: Scaled, m: int, p: int, args, tmp: Path) -> tuple[dict, dict]:
    label = f"cap{m}x{p}-{secrets.token_hex(2)}"
    report_path, out_path, spec_path = (
        tmp / f"{label}.json",
        tmp / f"{label}-probe.json",
        tmp / f"{label}-spec.json",
    )
    argv = [
        "--bots", str(m * p), "--matches", str(m), "--seconds", str(args.seconds), "--measure",
        str(min(args.measure, m * p)), "--enc", args.enc, "--tick-rate", str(args.tick_rate),
        "--server-pids", ",".join(map(str, system.pids)), "--label", label, "--json", str(report_path),
        "--quiet",
    ]  # fmt: skip
    for url in system.urls:
        argv += ["--url", url]
    for name, url in system.routes.items():
        argv += ["--route", f"{name}={url}"]
    spec = {
        "argv": argv,
        "label": label,
        "prefix": system.prefix,
        "redis_url": system.redis_url,
        "database_url": system.database_url,
        "shared": args.shared,
        "monitor": args.monitor,
        "out": str(out_path),
    }
    spec_path.write_text(json.dumps(spec))
    timeout = 240 + m * p + args.seconds
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(spec_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0 or not out_path.exists() or not report_path.exists():
        raise RuntimeError(f"loadbots failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(out_path.read_text()), json.loads(report_path.read_text())


REDIS_CMD_PREFIX = "cmdstat_"


def rates(probe: dict) -> dict:
    """Per-second rates over the window, from the two marks."""
    a, b = probe["marks"]["open"], probe["marks"]["close"]
    secs = b["redis"]["t"] - a["redis"]["t"]
    out: dict = {"seconds": secs}
    cmds: dict[str, float] = {}
    usec: dict[str, float] = {}
    before = a["redis"]["commandstats"]
    for key, stat in b["redis"]["commandstats"].items():
        name = key[len(REDIS_CMD_PREFIX) :]
        if name in ("info", "config|resetstat"):
            continue  # the probe's own
        prev = before.get(key, {"calls": 0, "usec": 0})
        cmds[name] = (stat["calls"] - prev["calls"]) / secs
        usec[name] = (stat["usec"] - prev["usec"]) / secs
    out["redis_cmd"] = {k: v for k, v in sorted(cmds.items()) if v > 0}
    out["redis_usec"] = {k: usec[k] for k in out["redis_cmd"]}
    out["redis_commands"] = sum(cmds.values())
    sa, sb = a["redis"]["stats"], b["redis"]["stats"]
    out["redis_in_bytes"] = (sb["total_net_input_bytes"] - sa["total_net_input_bytes"]) / secs
    out["redis_out_bytes"] = (sb["total_net_output_bytes"] - sa["total_net_output_bytes"]) / secs
    ca, cb = a["redis"]["cpu"], b["redis"]["cpu"]
    out["redis_cpu_pct"] = (
        100 * (cb["used_cpu_user"] + cb["used_cpu_sys"] - ca["used_cpu_user"] - ca["used_cpu_sys"]) / secs
    )
    out["redis_memory"] = b["redis"]["memory"]["used_memory"]
    pa, pb = a["pg"], b["pg"]
    for k in ("xact_commit", "tup_inserted", "tup_updated", "tup_deleted", "wal_records", "wal_fpi"):
        out[f"pg_{k}"] = (pb[k] - pa[k]) / secs
    out["pg_wal_bytes"] = (pb["wal_lsn"] - pa["wal_lsn"]) / secs
    ticks = [b["ticks"][m] - a["ticks"][m] for m in a["ticks"] if m in b["ticks"]]
    out["ticks_per_match_s"] = sum(ticks) / len(ticks) / secs if ticks else None
    return out


FITTED = [
    # (key in rates, label, unit scale, unit)
    ("redis_commands", "Redis commands (all, incl. inside scripts)", 1, "/s"),
    ("redis_in_bytes", "Redis net input", 1e-3, "kB/s"),
    ("redis_out_bytes", "Redis net output", 1e-3, "kB/s"),
    ("redis_cpu_pct", "Redis CPU", 1, "% core"),
    ("pg_xact_commit", "PostgreSQL transactions", 1, "/s"),
    ("pg_tup_inserted", "PostgreSQL rows inserted", 1, "/s"),
    ("pg_tup_updated", "PostgreSQL rows updated", 1, "/s"),
    ("pg_tup_deleted", "PostgreSQL rows deleted", 1, "/s"),
    ("pg_wal_bytes", "PostgreSQL WAL", 1e-3, "kB/s"),
    ("pg_wal_fpi", "PostgreSQL WAL full-page images", 1, "/s"),
]


def fit(steps: list[dict], idle: dict, key) -> tuple[float, float, float]:
    """rate = c0 + a*M + b*N: c0 from the idle step, (a, b) by least squares over the steps.

    N counts players at the workload's command rate (`n_eff`: the commands the bots sent a
    second over 10, one move per 100 ms): a contended bot process that skipped sends must not
    lower the cost per player."""
    get = key if callable(key) else (lambda r: r.get(key, 0.0))
    c0 = get(idle)
    smm = sum(s["m"] ** 2 for s in steps)
    snn = sum(s["n_eff"] ** 2 for s in steps)
    smn = sum(s["m"] * s["n_eff"] for s in steps)
    smy = sum(s["m"] * (get(s["rates"]) - c0) for s in steps)
    sny = sum(s["n_eff"] * (get(s["rates"]) - c0) for s in steps)
    det = smm * snn - smn * smn
    if abs(det) < 1e-9:  # one shape only: everything per player
        return c0, 0.0, sny / snn if snn else 0.0
    return c0, (smy * snn - sny * smn) / det, (sny * smm - smy * smn) / det


def summarise(steps: list[dict], idle: dict, args) -> dict:
    out: dict = {"fits": {}, "redis_cmd_fits": {}, "per_match": {}}
    for key, *_ in FITTED:
        c0, a, b = fit(steps, idle, key)
        out["fits"][key] = {"idle_per_s": c0, "per_match_s": a, "per_player_s": b}
    names = sorted({n for s in steps for n in s["rates"]["redis_cmd"]} | set(idle["redis_cmd"]))
    for name in names:
        c0, a, b = fit(steps, idle, lambda r, n=name: r["redis_cmd"].get(n, 0.0))
        us0, ua, ub = fit(steps, idle, lambda r, n=name: r["redis_usec"].get(n, 0.0))
        out["redis_cmd_fits"][name] = {
            "idle_per_s": c0,
            "per_match_s": a,
            "per_player_s": b,
            "usec_per_call": (
                sum(s["rates"]["redis_usec"].get(name, 0) for s in steps)
                / max(1e-9, sum(s["rates"]["redis_cmd"].get(name, 0) for s in steps))
            ),
        }
    # Directly per match (no fit): what each match writes and keeps, averaged over the steps.
    match_s = sum(s["m"] * s["rates"]["seconds"] for s in steps)
    w = lambda k: sum(s["written"].get(k, 0) for s in steps) / match_s  # noqa: E731
    cps = [c for s in steps for c in s["store"]["checkpoints"]]
    tails = [t for s in steps for t in s["store"]["tails"]]
    per_player_cp = [
        (c["json"] / s["p"], c["stored"] / s["p"]) for s in steps for c in s["store"]["checkpoints"]
    ]
    out["per_match"] = {
        "chunks_per_s": w("chunks"),
        "chunk_entries_bytes_per_s": w("chunk_entries_bytes"),
        "chunk_entries_stored_per_s": w("chunk_entries_stored"),
        "keyframe_bytes_per_s": w("keyframe_bytes"),
        "events_per_s": w("events"),
        "checkpoint_json_bytes": sum(c["json"] for c in cps) / len(cps) if cps else None,
        "checkpoint_stored_bytes": sum(c["stored"] for c in cps) / len(cps) if cps else None,
        "checkpoint_json_bytes_per_player": (
            sum(a for a, _ in per_player_cp) / len(per_player_cp) if per_player_cp else None
        ),
        "log_tail_entries": sum(t["entries"] for t in tails) / len(tails) if tails else None,
        "log_entry_bytes": (
            sum(t["bytes"] for t in tails) / max(1, sum(t["entries"] for t in tails)) if tails else None
        ),
        "log_tail_memory_bytes": sum(t["memory"] for t in tails) / len(tails) if tails else None,
    }
    # Per player: the chunk bytes (the accepted commands) against players, by step.
    out["per_step_chunk_bytes_per_player_s"] = {
        f"{s['m']}x{s['p']}": s["written"].get("chunk_entries_stored", 0) / (s["n"] * s["rates"]["seconds"])
        for s in steps
    }
    # Request sizes by kind of command, from the MONITOR samples after each window.
    out["monitor"] = {}
    for st in steps:
        mon = st.get("monitor")
        if not mon:
            continue
        out["monitor"][st["label"]] = {
            kind: {
                "per_s": k["calls"] / mon["seconds"],
                "per_match_s": k["calls"] / mon["seconds"] / st["m"],
                "bytes_per_call": k["request_bytes"] / k["calls"],
            }
            for kind, k in sorted(mon["kinds"].items())
        }
    c0, a, b = fit(steps, idle, "redis_memory")
    out["fits"]["redis_memory"] = {"idle_per_s": c0, "per_match_s": a, "per_player_s": b}
    return out


def _f(v, nd: int = 1) -> str:
    if v is None:
        return "-"
    return f"{v:,.{nd}f}"


def print_tables(result: dict) -> None:
    steps, idle, s = result["steps"], result["idle"], result["summary"]
    print("\nper step (rates over the window; the idle step has no match)")
    head = (
        f"{'step':>7} {'held':>5} {'snap p99':>8} {'ticks/s':>7} {'bot cmd/s':>9} {'redis cmd/s':>11} {'in kB/s':>8} "
        f"{'out kB/s':>8} {'redis%':>6} {'pg tx/s':>7} {'ins/s':>6} {'upd/s':>6} {'del/s':>6} {'WAL kB/s':>8}"
    )
    print(head)
    for st in [{"label": "idle", "rates": idle, "report": None}] + steps:
        r = st["rates"]
        rep = st.get("report")
        cmd_s = rep["traffic"]["commands_out"] / rep["window_s"] if rep else 0
        print(
            f"{st.get('label', 'idle'):>7} {('yes' if rep['held'] else 'no') if rep else '-':>5} "
            f"{_f(rep['snap_interval_ms']['p99'] if rep else None):>8} "
            f"{_f(r['ticks_per_match_s']):>7} {_f(cmd_s):>9} {_f(r['redis_commands']):>11} "
            f"{_f(r['redis_in_bytes'] / 1e3):>8} {_f(r['redis_out_bytes'] / 1e3):>8} {_f(r['redis_cpu_pct']):>6} "
            f"{_f(r['pg_xact_commit']):>7} {_f(r['pg_tup_inserted']):>6} {_f(r['pg_tup_updated']):>6} "
            f"{_f(r['pg_tup_deleted']):>6} {_f(r['pg_wal_bytes'] / 1e3):>8}"
        )
    print(
        "\nfitted: rate = idle (the processes, no match) + per match-second x M + per player-second x N "
        "(N: players at 10 commands/s, from the commands the bots sent)"
    )
    print(f"{'figure':<44} {'idle /s':>10} {'/match-s':>10} {'/player-s':>10} {'unit':>7}")
    for key, label, scale, unit in FITTED:
        f = s["fits"][key]
        print(
            f"{label:<44} {_f(f['idle_per_s'] * scale, 2):>10} {_f(f['per_match_s'] * scale, 2):>10} "
            f"{_f(f['per_player_s'] * scale, 2):>10} {unit:>7}"
        )
    f = s["fits"]["redis_memory"]
    print(
        f"{'Redis used memory (level, not rate)':<44} {_f(f['idle_per_s'] / 1e3, 0):>10} "
        f"{_f(f['per_match_s'] / 1e3, 1):>10} {_f(f['per_player_s'] / 1e3, 1):>10} {'kB':>7}"
    )
    print("\nRedis commands by type (commandstats; a script's inner commands count on their own lines too)")
    print(f"{'command':<20} {'idle /s':>10} {'/match-s':>10} {'/player-s':>10} {'us/call':>8}")
    for name, f in sorted(
        s["redis_cmd_fits"].items(),
        key=lambda kv: -abs(kv[1]["per_player_s"]) * 20 - abs(kv[1]["per_match_s"]),
    ):
        print(
            f"{name:<20} {_f(f['idle_per_s'], 2):>10} {_f(f['per_match_s'], 2):>10} "
            f"{_f(f['per_player_s'], 2):>10} {_f(f['usec_per_call'], 1):>8}"
        )
    pm = s["per_match"]
    print("\nwritten per match (measured directly, averaged over the steps)")
    rows = [
        ("log chunks per match-second", pm["chunks_per_s"], 2, ""),
        ("log chunk entries, zlib msgpack", pm["chunk_entries_bytes_per_s"], 0, "B/match-s"),
        (
            "  per player-second, by step",
            None,
            0,
            str({k: round(v) for k, v in s["per_step_chunk_bytes_per_player_s"].items()}),
        ),
        ("keyframes in chunks", pm["keyframe_bytes_per_s"], 0, "B/match-s"),
        ("events (MatchEvent rows)", pm["events_per_s"], 3, "/match-s"),
        ("checkpoint (Match.checkpoint) JSON text", pm["checkpoint_json_bytes"], 0, "B, rewritten every 5 s"),
        ("checkpoint as stored (pg_column_size)", pm["checkpoint_stored_bytes"], 0, "B"),
        ("checkpoint JSON per player of the match", pm["checkpoint_json_bytes_per_player"], 0, "B"),
        ("Redis log tail: entries kept", pm["log_tail_entries"], 0, ""),
        ("Redis log entry (one tick)", pm["log_entry_bytes"], 0, "B"),
        ("Redis memory of a match's keys", pm["log_tail_memory_bytes"], 0, "B"),
    ]
    for label, v, nd, unit in rows:
        print(f"{label:<44} {_f(v, nd) if v is not None else '':>10} {unit}")
    sims = result.get("affinity_sim") or []
    if sims:
        print(
            "\nwith affinity, played against Redis directly (per match-second at the nominal tick rate; one append a tick, "
            f"{sims[0]['entry_bytes']} B entries as the {sims[0]['players_per_match']}-player matches "
            "wrote them; then with one PUBLISH a tick to one subscriber too)"
        )
        print(
            f"{'publish B':>9} {'matches':>7} {'ticks/s':>7} {'commands':>8} {'requests':>8} "
            f"{'in kB':>7} {'out kB':>7} {'evalsha us':>10} {'Redis % core':>12}"
        )
        for sim in sims:
            print(
                f"{sim['publish_bytes']:>9} {sim['matches']:>7} {_f(sim['ticks_per_match_s']):>7} "
                f"{_f(sim['commands_per_match_s']):>8} {_f(sim['requests_per_match_s']):>8} "
                f"{_f(sim['in_bytes_per_match_s'] / 1e3, 2):>7} {_f(sim['out_bytes_per_match_s'] / 1e3, 2):>7} "
                f"{_f(sim['evalsha_usec_per_call']):>10} {_f(sim['redis_cpu_pct_per_match'], 3):>12}"
            )
    mon = s.get("monitor") or {}
    if mon:
        labels = list(mon)
        print(
            "\nRedis requests by kind: MONITOR for a moment at the start of each window, before the "
            "counters (scripts' inner commands left out); calls per match-second, bytes per request"
        )
        print(f"{'kind':<36} " + " ".join(f"{lb + ' /m-s':>12} {'B/call':>7}" for lb in labels))
        kinds = sorted({k for v in mon.values() for k in v})
        for kind in kinds:
            cells = []
            for lb in labels:
                k = mon[lb].get(kind)
                cells.append(
                    f"{_f(k['per_match_s'], 2):>12} {_f(k['bytes_per_call'], 0):>7}"
                    if k
                    else f"{'-':>12} {'-':>7}"
                )
            print(f"{kind[:36]:<36} " + " ".join(cells))


def export_commit(rev: str) -> tuple[Path, str]:
    """A commit as committed, in a directory of its own (others edit the working tree
    meanwhile), with this script copied in; its path and the commit."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True, check=True)
    sha = sha.stdout.strip()
    dest = Path(tempfile.gettempdir()) / f"cubearena-capacity-src-{sha[:12]}"
    if not dest.exists():
        part = Path(tempfile.mkdtemp(prefix="cubearena-capacity-export-"))
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(part)], input=archive.stdout, check=True)
        part.rename(dest)
    shutil.copy(__file__, dest / "benchmarks" / "capacity.py")
    return dest, sha


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="idle + 2 steps of 8 s (~2 min)")
    parser.add_argument(
        "--steps", help="comma-separated MxP (matches x players per match), e.g. 10x2,10x5,2x20"
    )
    parser.add_argument("--seconds", type=float, help="measuring window per step")
    parser.add_argument("--idle", type=float, help="seconds of the idle step")
    parser.add_argument("--measure", type=int, default=10, help="measuring bots per step (default 10)")
    parser.add_argument("--enc", choices=["json", "msgpack"], default="msgpack")
    parser.add_argument("--tick-rate", type=int, default=20)
    parser.add_argument(
        "--monitor",
        type=float,
        default=1.5,
        help="seconds of Redis MONITOR after each window, for sizes (0: none)",
    )
    parser.add_argument(
        "--sim-matches", type=int, help="matches of the affinity sim (default 100, quick 40; 0: none)"
    )
    parser.add_argument("--no-auditor", action="store_true", help="no `runworker auditor`")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="use the machine's Redis (db 5) and PostgreSQL (database cubearena_capacity): no "
        "RESETSTAT, but Redis' and the WAL's figures then include everyone else's",
    )
    parser.add_argument(
        "--tree",
        action="store_true",
        help="run the working tree as it is (default: HEAD, exported to a directory of its own)",
    )
    parser.add_argument("--commit", default="HEAD", help="the commit to run (default HEAD)")
    parser.add_argument(
        "--system",
        choices=["scaled", "affinity", "across"],
        default="scaled",
        help="scaled: 2 Daphne + 2 runworker arbiter (default); affinity: 2 Daphne running their "
        "matches' arbiters, sockets routed to the owner; across: the same, every socket on the other one",
    )
    parser.add_argument("--exported", help=argparse.SUPPRESS)  # the commit, once re-run from its export
    parser.add_argument("--json", type=Path, help="write everything here")
    parser.add_argument("--table", type=Path, help="print the tables of a saved --json and stop")
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if args.table:
        print_tables(json.loads(args.table.read_text()))
        return 0
    if not args.tree and not args.exported:
        src, sha = export_commit(args.commit)
        script = str(src / "benchmarks" / "capacity.py")
        os.execv(sys.executable, [sys.executable, script, *sys.argv[1:], "--exported", sha])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mode = "quick" if args.quick else "full"
    steps, seconds, idle_s = MODES[mode]
    if args.steps:
        steps = [tuple(int(x) for x in s.split("x")) for s in args.steps.split(",")]
    args.seconds = args.seconds or seconds
    idle_s = args.idle or idle_s
    sim_matches, sim_s = SIM[mode]
    if args.sim_matches is None:
        args.sim_matches = sim_matches
    started = time.time()
    print(
        f"capacity ({mode}, system {args.system}): steps {', '.join(f'{m}x{p}' for m, p in steps)} (matches x players), "
        f"{args.seconds:g} s each, idle {idle_s:g} s; {args.tick_rate} Hz, {args.enc}; "
        f"{'shared' if args.shared else 'own'} Redis and PostgreSQL; "
        f"code: {'commit ' + args.exported[:10] if args.exported else 'working tree'} ({ROOT}); load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    redis_srv = pg_srv = None
    done: list[dict] = []
    sims: list[dict] = []
    try:
        if args.shared:
            redis_url, db_url = SHARED_REDIS, systems.reset_database(DB_NAME, SHARED_POSTGRES)
        else:
            redis_srv, pg_srv = OwnRedis().start(), OwnPostgres().start()
            redis_url, db_url = redis_srv.url, systems.reset_database(DB_NAME, pg_srv.base)
        with (
            Scaled(redis_url, db_url, args.system, auditor=not args.no_auditor) as system,
            tempfile.TemporaryDirectory(prefix="cubearena-capacity-") as tmp,
        ):
            time.sleep(2)  # let the processes settle (first polls, connections)
            idle = rates(measure_idle(redis_url, db_url, idle_s, args.shared))
            print(
                f"idle: {idle['redis_commands']:.0f} Redis commands/s, {idle['pg_xact_commit']:.1f} tx/s",
                flush=True,
            )
            for m, p in steps:
                probe, report = run_step(system, m, p, args, Path(tmp))
                r = rates(probe)
                done.append(
                    {
                        "label": f"{m}x{p}",
                        "m": m,
                        "p": p,
                        "n": m * p,
                        "n_eff": report["traffic"]["commands_out"] / report["window_s"] / 10,
                        "rates": r,
                        "written": probe["written"],
                        "store": probe["marks"]["close"]["store"],
                        "monitor": probe["marks"]["close"].get("monitor"),
                        "report": {
                            k: report[k] for k in ("held", "window_s", "traffic", "bots", "snap_interval_ms")
                        },
                    }
                )
                print(
                    f"{m}x{p}: held {report['held']}, {r['redis_commands']:.0f} Redis commands/s, "
                    f"{r['pg_xact_commit']:.1f} tx/s, {r['ticks_per_match_s'] or 0:.1f} ticks/s a match",
                    flush=True,
                )
                time.sleep(2)  # let the ended matches go before the next step
            if args.sim_matches:
                # Sizes as the step with the most players per match measured them.
                big = max(done, key=lambda st: st["p"])
                tails = big["store"]["tails"]
                entry = round(sum(t["bytes"] for t in tails) / max(1, sum(t["entries"] for t in tails)))
                pub = (big.get("monitor") or {}).get("kinds", {}).get("PUBLISH (group)")
                publish = max(100, round(pub["request_bytes"] / pub["calls"]) - 80) if pub else 400
                for pub_bytes in (0, publish):
                    try:
                        sim = affinity_sim(
                            redis_url, args.sim_matches, sim_s, args.tick_rate, entry, pub_bytes
                        )
                    except Exception as exc:  # the steps' figures stand without it
                        print(f"affinity sim failed: {exc!r}", flush=True)
                        break
                    sim["players_per_match"] = big["p"]
                    sim["redis_cpu_pct_per_match"] = (sim["redis_cpu_pct"] - idle["redis_cpu_pct"]) / sim[
                        "matches"
                    ]
                    sims.append(sim)
                    print(
                        f"affinity sim, {sim['matches']} matches, publish {pub_bytes} B: "
                        f"{sim['redis_cpu_pct']:.1f} % of a core",
                        flush=True,
                    )
    finally:
        if redis_srv:
            redis_srv.stop()
        if pg_srv:
            pg_srv.stop()
    result = {
        "mode": mode,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds_total": round(time.time() - started, 1),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "config": {
            "steps": steps,
            "seconds": args.seconds,
            "idle": idle_s,
            "enc": args.enc,
            "tick_rate": args.tick_rate,
            "auditor": not args.no_auditor,
            "shared": args.shared,
            "code": args.exported or "working tree",
            "system": args.system,
            "processes": (
                "2 daphne + 2 runworker arbiter" if args.system == "scaled" else "2 daphne with arbiters"
            )
            + ("" if args.no_auditor else " + 1 runworker auditor"),
        },
        "idle": idle,
        "steps": done,
        "affinity_sim": sims,
    }
    result["summary"] = summarise(done, idle, args)
    print_tables(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
        print(f"\nwrote {args.json}")
    print(f"({result['seconds_total']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
