"""Faults on real processes, each run N times: what a player sees and what the records keep.

Every run is independent: a Redis of its own (own port), a cluster of 2 Daphne servers and 2
`runworker arbiter` processes (tests/scaleout/cluster.py) on PostgreSQL database `--db`, one
match at 20 Hz and 4 recording players (2 per server, one json and one msgpack each) that send
a numbered spawn or move every 150 ms, answer the server's pings, mirror the world from the
snaps (resync on a tick gap, as the browser does) and record every frame with its arrival time.
About 5 s in, the fault; play goes on until every player has a command acknowledged that it
sent after the fault ended (or 30 s), 2 s more, then the players close and the records are read.

    .venv/bin/python benchmarks/faults.py --runs 10 --faults kill9,sigterm,redis-empty,redis-dump,db-down,server-kill9 \
        --out benchmarks/results/faults

Faults: kill9 / sigterm = SIGKILL / SIGTERM of the match's owning arbiter; redis-empty = Redis
killed, back empty 3 s later; redis-dump = SAVE + SIGKILL, back from the dump 3 s later;
db-down = the proxy in front of PostgreSQL cut for 10 s; server-kill9 = SIGKILL of server 1:
its two players reconnect through server 2 with the same account (back-off 0.5 s doubling, as
the browser), their drops are counted as expected.

Figures (per fault, over runs and players):
- gap: the longest interval between two consecutive snapshots (snap or welcome) a player
  received from its last snapshot before the fault until the players stopped; for a kill that
  is "last snapshot before -> first snapshot after" (the JSON also has that literally).
- ticks rolled back: the last tick a player saw before the fault minus the first it saw after
  (floor 0). The second table's "tick regress" is stricter: the most any snapshot after the
  fault (applied or not) fell below the highest tick seen before it; a player ignores a snap
  (full ones too) whose tick is not above the last applied one, as docs/protocol.md says, and
  counts it as stale; a welcome always applies.
- acked lost: every time the player's world is replaced by a full state (a welcome or full
  snap), and between its state at the fault and its last state, every cube it held must still
  be there with the same owner, and with the same target unless a move naming it was still
  unacknowledged (or not yet sent) then; each miss is traced to the acknowledged spawn or move
  that made it (player, seq), counted once per run.
- sockets dropped: sockets the server side closed (any code) before the player closed them.
- records wrong: players whose Participation.spawned is below their acknowledged, not refused
  spawns; seats still online SOCKET_SILENT_S + 3 s after every socket closed; the match not
  `finished` SOCKET_SILENT_S + EMPTY_GRACE_S + 6 s after (not checked when that is over 30 s).
- second table: when play resumed (s after the fault began), runs it did not within 30 s, runs
  whose match ended under the players (`ended` + 4410), tick regress (above), spawns short (at
  the last state, acknowledged spawns without their cube: nothing deletes cubes), ack
  regressions (a full state acknowledging less than an earlier one), commands lost in transit
  (above a later welcome's ack, never processed: expected when an owner dies), refusals by code.

`--set NAME=VALUE` overrides a setting (e.g. to see a fault under the default timings); the
official figures use the short ones above.

Everything goes to `--out`: table.md and full.json (every run: per-player figures, drops,
refusals, the issues found, the frames around the fault). A run with an anomaly keeps its
processes' logs under `--out/logs/<fault>-<run>/` (`--keep-logs` keeps every run's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path

import msgpack
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scaleout.cluster import (  # noqa: E402
    Cluster,
    RedisServer,
    TcpProxy,
    create_match,
    entity,
    guest,
    socket_url,
)

FAULTS = ("kill9", "sigterm", "redis-empty", "redis-dump", "db-down", "server-kill9")
SETTINGS = {
    "CUBEARENA_MATCH_LEASE_S": "2",
    "CUBEARENA_MATCH_WATCH_S": "0.5",
    "CUBEARENA_SOCKET_SILENT_S": "3",
    "CUBEARENA_MATCH_EMPTY_GRACE_S": "3",
}
SILENT_S = float(SETTINGS["CUBEARENA_SOCKET_SILENT_S"])
GRACE_S = float(SETTINGS["CUBEARENA_MATCH_EMPTY_GRACE_S"])
TICK_RATE = 20
PERIOD_S = 0.150  # one command per player this often: spawns every other one, 3.3/s < 5/s
MAX_SPAWNS = 30  # per player (the cap is 50)
FAULT_AT_S = 5.0
RESUME_WITHIN_S = 30.0
AFTER_RESUME_S = 2.0
STALL_S = 10.0  # the browser drops a socket it has not heard from for this long
FINAL_CLOSES = {4001, 4401, 4403, 4404, 4409, 4410, 4429, 4430}
REDIS_DOWN_S = 3.0
DB_DOWN_S = 10.0
EPS = 1e-6


# -- a recording player ---------------------------------------------------------------------


@dataclass
class Cmd:
    player: int
    seq: int
    op: str
    sent: float
    sock: int
    cid: str | None = None
    at: list | None = None
    ids: list | None = None
    to: list | None = None
    acked: float | None = None
    rejected: str | None = None
    unprocessed: bool = False  # above a later welcome's ack: it never reached an owner


@dataclass
class State:
    t: float  # arrival of the snapshot it is the state after
    tick: int
    ents: dict[int, tuple[int, float, float]]  # id -> (owner, tx, tz)
    acks: dict[str, int]


@dataclass
class SockRec:
    no: int
    server: int
    opened: float
    welcomed: float | None = None
    closed: float | None = None
    code: int | None = None
    reason: str = ""
    by_us: bool = False
    stalled: bool = False
    heard: float = 0.0


class Client:
    def __init__(self, idx: int, account, match: dict, enc: str, server: int, run: Run):
        self.idx, self.account, self.match, self.enc, self.server, self.run = (
            idx,
            account,
            match,
            enc,
            server,
            run,
        )
        self.binary = enc == "msgpack"
        self.player = account.player
        self.rng = random.Random(1000 * run.seed + idx)
        self.ws = None
        self.sock: SockRec | None = None
        self.socks: list[SockRec] = []
        self.frames: list[tuple[float, int, dict]] = []  # (arrival, socket no, message)
        self.snaps: list[tuple[float, int, str, int, bool]] = []  # (arrival, tick, kind, sock, applied)
        self.cmds: list[Cmd] = []
        self.by_seq: dict[int, Cmd] = {}
        self.by_cid: dict[str, Cmd] = {}
        self.id_cid: dict[int, str] = {}
        self.seq = 0
        self.spawns = 0
        self.turn = 0
        self.ents: dict[int, dict] = {}
        self.acks: dict[str, int] = {}
        self.last_tick = -1
        self.max_tick = -1
        self.synced = False
        self.state: State | None = None  # after the last applied snapshot
        self.rebases: list[dict] = []  # each full state compared with the state before it
        self.gaps = 0
        self.stale = 0
        self.stale_full: list[dict] = []
        self.resync_sent = 0.0
        self.rejects: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.corrections = 0
        self.ended: list[str] = []
        self.stopping = False
        self.tasks: list[asyncio.Task] = []
        self.reconnecting = False

    def now(self) -> float:
        return time.monotonic() - self.run.t0

    # -- the socket ------------------------------------------------------------------------
    async def connect(self) -> None:
        base = self.run.server_url(self.server)
        self.account.base_url = self.account.http.base_url = base
        url = socket_url(base, self.match["ws"], enc=self.enc)
        ws = await asyncio.wait_for(
            websockets.connect(
                url,
                origin=base,
                additional_headers={"Cookie": self.account.cookie_header()},
                max_size=2**24,
                open_timeout=5,
            ),
            10,
        )
        rec = SockRec(len(self.socks) + 1, self.server, self.now())
        rec.heard = rec.opened
        self.socks.append(rec)
        self.ws, self.sock = ws, rec
        self.tasks.append(asyncio.get_running_loop().create_task(self._read(ws, rec)))

    async def _read(self, ws, rec: SockRec) -> None:
        cancelled = False
        try:
            async for raw in ws:
                t = self.now()
                msg = msgpack.unpackb(raw) if isinstance(raw, bytes) else json.loads(raw)
                rec.heard = t
                self.frames.append((t, rec.no, msg))
                try:
                    self._on(t, rec, msg)
                except Exception:  # a bug here must not look like a dropped socket
                    self.errors["client_bug"] = self.errors.get("client_bug", 0) + 1
                    traceback.print_exc()
        except websockets.ConnectionClosed:
            pass
        except asyncio.CancelledError:
            cancelled = True
            raise
        except Exception as exc:
            rec.reason = f"reader: {exc!r}"
        finally:
            rec.closed = self.now()
            rec.code = ws.close_code if ws.close_code is not None else 1006
            rec.reason = rec.reason or (ws.close_reason or "")
            if cancelled:
                rec.by_us = True
            elif not rec.by_us and not self.stopping and rec.code not in FINAL_CLOSES:
                self._reconnect_soon()

    def _reconnect_soon(self) -> None:
        if self.reconnecting:
            return
        self.reconnecting = True
        self.tasks.append(asyncio.get_running_loop().create_task(self._reconnect()))

    async def _reconnect(self) -> None:
        """As the browser: 0.5 s doubling to 8 s, jittered; through a server that is up."""
        attempt = 0
        try:
            while not self.stopping:
                delay = min(8.0, 0.5 * 2**attempt) * (1 - 0.5 * self.rng.random())
                attempt += 1
                await asyncio.sleep(delay)
                if self.stopping:
                    return
                self.server = self.run.pick_server(self.server)
                try:
                    await self.connect()
                    return
                except Exception as exc:
                    self.errors["connect_failed"] = self.errors.get("connect_failed", 0) + 1
                    self.run.note(f"player {self.idx}: reconnect failed: {exc!r}")
        finally:
            self.reconnecting = False

    async def _send(self, msg: dict) -> None:
        ws = self.ws
        if ws is None:
            return
        await ws.send(msgpack.packb(msg) if self.binary else json.dumps(msg))

    def _send_soon(self, msg: dict) -> None:
        async def send():
            try:
                await self._send(msg)
            except Exception:
                pass

        self.tasks.append(asyncio.get_running_loop().create_task(send()))

    # -- frames ----------------------------------------------------------------------------
    def _on(self, t: float, rec: SockRec, msg: dict) -> None:
        kind = msg.get("type")
        if kind == "welcome":
            rec.welcomed = rec.welcomed or t
            self._welcome(t, rec, msg)
        elif kind == "snap":
            self._snap(t, rec, msg)
        elif kind == "reject":
            code = msg.get("code", "?")
            self.rejects[code] = self.rejects.get(code, 0) + 1
            cmd = self.by_seq.get(msg.get("seq"))
            if cmd is not None:
                cmd.rejected = code
        elif kind == "error":
            code = msg.get("code", "?")
            self.errors[code] = self.errors.get(code, 0) + 1
        elif kind == "ping":
            self._send_soon({"type": "pong", "t": msg["t"]})
        elif kind == "correction":
            self.corrections += 1
        elif kind == "ended":
            self.ended.append(msg.get("reason", ""))

    def _mark(self, t: float, tick: int, kind: str, rec: SockRec, applied: bool) -> None:
        self.snaps.append((t, tick, kind, rec.no, applied))
        self.max_tick = max(self.max_tick, tick)

    def _welcome(self, t: float, rec: SockRec, msg: dict) -> None:
        ack = msg.get("ack") or 0
        for cmd in self.cmds:  # sent before this welcome, above its ack: never processed
            if cmd.seq > ack and cmd.acked is None:
                cmd.unprocessed = True
        self.seq = max(self.seq, ack)  # never reuse a number (static/js/net/protocol.js)
        snap = msg["snap"]
        self._mark(t, snap["tick"], "welcome", rec, True)
        self._full(t, snap, "welcome")

    def _snap(self, t: float, rec: SockRec, msg: dict) -> None:
        tick = msg["tick"]
        if msg.get("full") and tick > self.last_tick:
            self._mark(t, tick, "full", rec, True)
            self._full(t, msg, "full")
            return
        if msg.get("full"):  # not above the last applied tick: ignored, as docs/protocol.md says
            self.stale += 1
            self.stale_full.append({"t": t, "tick": tick, "after": self.last_tick, "sock": rec.no})
            self._mark(t, tick, "full", rec, False)
            return
        if not self.synced:
            self._mark(t, tick, "delta", rec, False)
            if t - self.resync_sent > 1.0:
                self._resync(t)
            return
        if tick <= self.last_tick:
            self.stale += 1
            self._mark(t, tick, "delta", rec, False)
            return
        if tick != self.last_tick + 1:
            self.gaps += 1
            self.synced = False
            self._mark(t, tick, "delta", rec, False)
            self._resync(t)
            return
        self._mark(t, tick, "delta", rec, True)
        for raw in msg["ents"]:
            ent = entity(raw)
            self.ents[ent["id"]] = ent
            if "cid" in ent and ent["owner"] == self.player:
                self.id_cid[ent["id"]] = ent["cid"]
        for gone in msg["gone"]:
            self.ents.pop(gone, None)
        self.acks.update({str(k): v for k, v in msg["acks"].items()})
        self.last_tick = tick
        self._applied(t)

    def _resync(self, t: float) -> None:
        self.resync_sent = t
        self._send_soon({"type": "resync"})

    def _full(self, t: float, snap: dict, how: str) -> None:
        before = self.state
        ents = {}
        for raw in snap["ents"]:
            ent = entity(raw)
            ents[ent["id"]] = ent
            if "cid" in ent and ent["owner"] == self.player:
                self.id_cid[ent["id"]] = ent["cid"]
        self.ents = ents
        self.acks.update({str(k): v for k, v in snap["acks"].items()})
        self.last_tick = snap["tick"]
        self.synced = True
        self._applied(t)
        if before is not None:
            issues = compare(before, self.state, self.run.touched)
            self.rebases.append(
                {"t": t, "how": how, "from_tick": before.tick, "tick": self.state.tick, "issues": issues}
            )

    def _applied(self, t: float) -> None:
        self.state = State(
            t,
            self.last_tick,
            {i: (e["owner"], e["tx"], e["tz"]) for i, e in self.ents.items()},
            dict(self.acks),
        )
        mine = self.acks.get(str(self.player), 0)
        for cmd in self.cmds:
            if cmd.acked is None and not cmd.unprocessed and cmd.seq <= mine:
                cmd.acked = t

    # -- playing ---------------------------------------------------------------------------
    @property
    def can_send(self) -> bool:
        return self.sock is not None and self.sock.welcomed is not None and self.sock.closed is None

    async def play(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(PERIOD_S * self.idx / 4)  # out of phase
        due = loop.time()
        while not self.stopping:
            due += PERIOD_S
            if self.can_send:
                try:
                    await self._command()
                except Exception:
                    pass
            self._check_stall()
            now = loop.time()
            if due < now - PERIOD_S:  # late: no burst to catch up (spawns are capped per second)
                due = now
            await asyncio.sleep(max(0.0, due - now))

    async def _command(self) -> None:
        own = [e["id"] for e in self.ents.values() if e["owner"] == self.player]
        spawn = self.turn % 2 == 0 or not own
        self.turn += 1
        self.seq += 1
        fields: dict
        if spawn and self.spawns < MAX_SPAWNS:
            k = self.spawns
            self.spawns += 1
            at = [-40 + 22 * self.idx + (k % 6) * 3, -40 + (k // 6) * 3]
            fields = {"op": "spawn", "at": at, "cid": f"c{self.idx}-{k}"}
            cmd = Cmd(self.player, self.seq, "spawn", self.now(), self.sock.no, cid=fields["cid"], at=at)
        elif own:
            ids = [self.rng.choice(own)]
            to = [self.rng.randint(-45, 45), self.rng.randint(-45, 45)]
            fields = {"op": "move", "ids": ids, "to": to}
            cmd = Cmd(self.player, self.seq, "move", self.now(), self.sock.no, ids=ids, to=to)
        else:
            self.seq -= 1
            return
        self.cmds.append(cmd)
        self.by_seq[cmd.seq] = cmd
        if cmd.cid:
            self.by_cid[cmd.cid] = cmd
        await self._send({"type": "cmd", "seq": cmd.seq, "tick": max(0, self.last_tick), **fields})

    def _check_stall(self) -> None:
        rec = self.sock
        if rec is None or rec.closed is not None or self.now() - rec.heard < STALL_S:
            return
        rec.stalled = rec.by_us = True
        self.run.note(f"player {self.idx}: socket {rec.no} silent {STALL_S:.0f} s; dropped and reconnecting")
        ws = self.ws

        async def drop():
            try:
                await asyncio.wait_for(ws.close(4000, "stalled"), 2)
            except Exception:
                pass
            self._reconnect_soon()

        self.tasks.append(asyncio.get_running_loop().create_task(drop()))

    def resumed_at(self, after: float) -> float | None:
        """When a command sent after `after` was first acknowledged (not refused), if one was."""
        times = [c.acked for c in self.cmds if c.sent >= after and c.acked is not None and not c.rejected]
        return min(times) if times else None

    async def close(self) -> None:
        self.stopping = True
        if self.sock is not None and self.sock.closed is None:
            self.sock.by_us = True
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def compare(before: State, after: State, touched) -> list[dict]:
    """What `after` (a later state of the same match) lost of `before`."""
    issues = []
    for eid, (owner, tx, tz) in before.ents.items():
        now = after.ents.get(eid)
        if now is None or now[0] != owner:
            issues.append({"kind": "cube_missing", "id": eid, "owner": owner, "target": [tx, tz]})
        elif (abs(now[1] - tx) > EPS or abs(now[2] - tz) > EPS) and not touched(eid, before, after.t):
            issues.append(
                {
                    "kind": "target_reverted",
                    "id": eid,
                    "owner": owner,
                    "was": [tx, tz],
                    "now": [now[1], now[2]],
                }
            )
    for player, seq in before.acks.items():
        if after.acks.get(player, 0) < seq:
            issues.append(
                {"kind": "ack_regressed", "player": int(player), "was": seq, "now": after.acks.get(player, 0)}
            )
    return issues


# -- one run ---------------------------------------------------------------------------------


class Run:
    def __init__(self, fault: str, index: int, args):
        self.fault, self.index, self.args = fault, index, args
        self.seed = zlib.crc32(f"{fault}/{index}".encode())
        self.t0 = time.monotonic()
        self.redis: RedisServer | None = None
        self.proxy: TcpProxy | None = None
        self.cluster: Cluster | None = None
        self.clients: list[Client] = []
        self.dead_servers: set[int] = set()
        self.notes: list[str] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def note(self, text: str) -> None:
        self.notes.append(f"{self.now():7.3f} {text}")

    def server_url(self, i: int) -> str:
        return self.cluster.servers[i].url

    def pick_server(self, current: int) -> int:
        if current not in self.dead_servers:
            return current
        return next(i for i in range(len(self.cluster.servers)) if i not in self.dead_servers)

    def touched(self, eid: int, before: State, until: float) -> bool:
        """Could a command not yet acknowledged in `before` (or sent later, before `until`) have
        retargeted cube `eid`?"""
        for client in self.clients:
            acked = before.acks.get(str(client.player), 0)
            for cmd in client.cmds:
                if (
                    cmd.op == "move"
                    and eid in cmd.ids
                    and cmd.sent < until
                    and cmd.seq > acked
                    and not cmd.rejected
                ):
                    return True
        return False

    def cleanup(self, keep_logs_to: Path | None) -> None:
        """Every process stopped, whatever happened (Ctrl-C is held off meanwhile); logs copied
        first when asked."""
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for client in self.clients:
                client.stopping = True
            if self.cluster is not None:
                try:
                    self.cluster.stop()
                finally:
                    try:
                        if keep_logs_to is not None:
                            keep_logs_to.mkdir(parents=True, exist_ok=True)
                            for log in self.cluster.dir.glob("*.log"):
                                shutil.copy(log, keep_logs_to / log.name)
                            if self.redis is not None and self.redis.log_path.exists():
                                shutil.copy(self.redis.log_path, keep_logs_to / "redis.log")
                    finally:
                        self.cluster.cleanup()
        finally:
            try:
                if self.proxy is not None:
                    self.proxy.close()
            finally:
                if self.redis is not None:
                    self.redis.stop()
                signal.signal(signal.SIGINT, previous)


def owner_process(cluster: Cluster, channel: str):
    """The arbiter whose log says it is live as `channel` (tests/scaleout/test_faults.py)."""
    found = [p for p in cluster.arbiters if f"arbiter {channel}: live" in p.log()]
    return found[0] if len(found) == 1 else None


def stacks(pid: int) -> str:
    """Where a process that does not exit is stuck: `py-spy dump` when it is installed (a tool,
    see "Profiles" below in benchmarks/README.md), else nothing."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return "(py-spy not installed)"
    try:
        out = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30)
        return out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(py-spy failed: {exc!r})"


def db_match(match_id: str) -> dict:
    from django.db import connection

    from lobby.models import Match, MatchEvent, Participation

    try:
        m = Match.objects.get(pk=match_id)
        seats = {
            p["player_id"]: p
            for p in Participation.objects.filter(match_id=match_id).values(
                "player_id", "online", "spawned", "moves", "rejected", "last_seq"
            )
        }
        spawn_events: dict[int, int] = {}
        for player in MatchEvent.objects.filter(match_id=match_id, kind="spawn").values_list(
            "player_id", flat=True
        ):
            spawn_events[player] = spawn_events.get(player, 0) + 1
        return {
            "status": m.status,
            "end_reason": m.end_reason,
            "arbiter": m.arbiter_channel,
            "epoch": m.epoch,
            "last_tick": m.last_tick,
            "seats": seats,
            "spawn_events": spawn_events,
        }
    finally:
        connection.close()


async def run_once(run: Run) -> dict:
    fault, args = run.fault, run.args
    loop = asyncio.get_running_loop()
    run.redis = await asyncio.to_thread(RedisServer().start)
    if fault == "db-down":
        run.proxy = TcpProxy("127.0.0.1", 5432)
    run.cluster = Cluster(
        args.db, run.redis.url, servers=2, arbiters=2, auditor=False, env=SETTINGS, db_via=run.proxy
    )
    await asyncio.to_thread(run.cluster.start)
    run.note("cluster up")
    servers = [s.url for s in run.cluster.servers]
    accounts = [await guest(servers[i // 2], f"p{i + 1}") for i in range(4)]
    match = await create_match(accounts[0], name=f"faults {fault} {run.index}", tick_rate=TICK_RATE)
    for i, account in enumerate(accounts):
        client = Client(i, account, match, "json" if i % 2 == 0 else "msgpack", i // 2, run)
        run.clients.append(client)
        await client.connect()
    deadline = loop.time() + 15
    while not all(c.sock.welcomed for c in run.clients):
        if loop.time() > deadline:
            raise RuntimeError("not every player was welcomed within 15 s")
        await asyncio.sleep(0.05)
    before = await asyncio.to_thread(db_match, match["id"])
    owner = owner_process(run.cluster, before["arbiter"])
    run.note(f"match {match['id']} owned by {before['arbiter']} ({owner})")
    players = [loop.create_task(c.play()) for c in run.clients]
    started = run.now()
    await asyncio.sleep(FAULT_AT_S)

    # -- the fault ---------------------------------------------------------------------
    pre = {c.idx: c.state for c in run.clients}
    t_fault = run.now()
    detail: dict = {}
    if fault in ("kill9", "sigterm"):
        if owner is None:
            raise RuntimeError(f"no arbiter says it is live as {before['arbiter']}")
        sig = signal.SIGKILL if fault == "kill9" else signal.SIGTERM
        detail["arbiter"] = owner.name

        def kill() -> tuple[int | None, float]:
            return run.cluster.kill(owner, sig, 20), run.now()

        exited = loop.create_task(asyncio.to_thread(kill))
        # The fault is over when the process is gone or, if it lingers after handing over, when
        # every player has been welcomed again (its exit is waited for below, apart).
        while not exited.done() and not all(
            any(s[2] == "welcome" and s[0] > t_fault for s in c.snaps) for c in run.clients
        ):
            await asyncio.sleep(0.02)
    elif fault == "redis-empty":
        await asyncio.to_thread(run.redis.kill)
        await asyncio.sleep(REDIS_DOWN_S)
        await asyncio.to_thread(run.redis.restart_empty)
    elif fault == "redis-dump":
        await asyncio.to_thread(run.redis.stop_with_dump)
        await asyncio.sleep(REDIS_DOWN_S)
        await asyncio.to_thread(run.redis.restart_from_dump)
    elif fault == "db-down":
        run.proxy.cut()
        await asyncio.sleep(DB_DOWN_S)
        run.proxy.restore()
    elif fault == "server-kill9":
        run.dead_servers.add(0)
        detail["code"] = await asyncio.to_thread(run.cluster.kill, run.cluster.servers[0], signal.SIGKILL)
    t_end = run.now()
    run.note(f"fault {fault} from {t_fault:.3f} to {t_end:.3f} {detail}")

    # -- until play resumes ----------------------------------------------------------------
    resumed = None
    while run.now() < t_fault + RESUME_WITHIN_S:
        times = [c.resumed_at(t_end) for c in run.clients]
        if all(t is not None for t in times):
            resumed = max(times)
            break
        await asyncio.sleep(0.1)
    run.note(f"resumed at {resumed}" if resumed else "not resumed within 30 s")
    if fault in ("kill9", "sigterm"):
        detail["code"], t_exit = await exited
        detail["exited_s"] = round(t_exit - t_fault, 3) if detail["code"] is not None else None
        if detail["code"] is None:
            run.note(f"{owner.name} had not exited 20 s after {sig.name}")
            detail["stacks"] = await asyncio.to_thread(stacks, owner.proc.pid)
    await asyncio.sleep(AFTER_RESUME_S)
    final = {c.idx: c.state for c in run.clients}
    t_stop = run.now()
    for c in run.clients:
        c.stopping = True
    for task in players:
        task.cancel()
    await asyncio.gather(*players, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in run.clients))
    t_closed = run.now()

    # -- the records ---------------------------------------------------------------------
    acked_spawns = {
        c.player: sum(1 for m in c.cmds if m.op == "spawn" and m.acked is not None and not m.rejected)
        for c in run.clients
    }
    online_by, finished_by = t_closed + SILENT_S + 3, t_closed + SILENT_S + GRACE_S + 6
    check_finished = finished_by - t_closed <= 30
    if not check_finished:
        finished_by = online_by
    seen: dict = {}
    offline_at = finished_at = counters_at = None
    while True:
        rec = await asyncio.to_thread(db_match, match["id"])
        t = run.now()
        counters_ok = all(rec["seats"].get(p, {}).get("spawned", -1) >= n for p, n in acked_spawns.items())
        if counters_ok and counters_at is None:
            counters_at = t
        if not any(s["online"] for s in rec["seats"].values()) and offline_at is None:
            offline_at = t
        if rec["status"] == "finished" and finished_at is None:
            finished_at = t
        seen["last"], seen["last_t"] = rec, t
        if (counters_at and offline_at and (finished_at or not check_finished)) or t > finished_by:
            break
        await asyncio.sleep(0.25)
    rec = seen["last"]
    counters_low = [
        {"player": p, "spawned": rec["seats"].get(p, {}).get("spawned"), "acked_spawns": n}
        for p, n in acked_spawns.items()
        if rec["seats"].get(p, {}).get("spawned", -1) < n
    ]
    # Online at the last look, if that was past the deadline (a seat may go offline, then a
    # ghost join seat it again) or if the seats never all went offline.
    online_now = [p for p, s in rec["seats"].items() if s["online"]]
    online_late = online_now if (offline_at is None or seen["last_t"] > online_by) else []
    records = {
        "counters_low": counters_low,
        "online_after_silent_plus_3s": online_late,
        "finished": finished_at is not None if check_finished else "not checked (long grace)",
        "offline_after_s": None if offline_at is None else round(offline_at - t_closed, 2),
        "finished_after_s": None if finished_at is None else round(finished_at - t_closed, 2),
        "status": rec["status"],
        "end_reason": rec["end_reason"],
        "seats": {str(p): s for p, s in rec["seats"].items()},
        "spawn_events": {str(p): n for p, n in rec["spawn_events"].items()},
        "acked_spawns": {str(p): n for p, n in acked_spawns.items()},
        "before": {"arbiter": before["arbiter"], "epoch": before["epoch"]},
        "after": {"arbiter": rec["arbiter"], "epoch": rec["epoch"]},
    }
    unfinished = check_finished and finished_at is None
    records_wrong = len(counters_low) + len(online_late) + (1 if unfinished else 0)
    result = analyse(run, pre, final, t_fault, t_end, t_stop, resumed)
    result.update(
        fault=fault,
        run=run.index,
        match=match["id"],
        started_s=round(started, 3),
        fault_s=round(t_fault - started, 3),
        fault_lasted_s=round(t_end - t_fault, 3),
        fault_detail=detail,
        records=records,
        records_wrong=records_wrong,
        notes=run.notes,
    )
    return result


def analyse(run: Run, pre, final, t_fault: float, t_end: float, t_stop: float, resumed) -> dict:
    clients = {c.player: c for c in run.clients}
    per_client = []
    lost: dict[tuple, dict] = {}
    other_issues: list[dict] = []

    def attribute(issue: dict, client: Client, where: str) -> None:
        kind = issue["kind"]
        owner = clients.get(issue.get("owner") or issue.get("player"))
        if kind == "ack_regressed":
            other_issues.append({**issue, "seen_by": client.idx, "where": where})
            return
        key, cmd = None, None
        if owner is not None:
            cid = owner.id_cid.get(issue["id"])
            spawn = owner.by_cid.get(cid) if cid else None
            if kind == "cube_missing":
                cmd = spawn
            else:
                was = issue["was"]
                moves = [
                    m
                    for m in owner.cmds
                    if m.op == "move"
                    and issue["id"] in m.ids
                    and m.acked is not None
                    and not m.rejected
                    and abs(m.to[0] - was[0]) < EPS
                    and abs(m.to[1] - was[1]) < EPS
                ]
                if moves:
                    cmd = moves[-1]
                elif spawn and abs(spawn.at[0] - was[0]) < EPS and abs(spawn.at[1] - was[1]) < EPS:
                    cmd = spawn
        if cmd is not None:
            key = ("cmd", cmd.player, cmd.seq)
            desc = {"player": cmd.player, "client": owner.idx, "seq": cmd.seq, "op": cmd.op, "cid": cmd.cid}
            desc.update(ids=cmd.ids, to=cmd.to, sent_s=round(cmd.sent - t_fault, 3))
            desc["acked_s"] = None if cmd.acked is None else round(cmd.acked - t_fault, 3)
        else:
            key = (kind, issue["id"])
            desc = {}
        entry = lost.setdefault(key, {**desc, "issue": issue, "seen_by": [], "where": where})
        if client.idx not in entry["seen_by"]:
            entry["seen_by"].append(client.idx)

    for c in run.clients:
        arrivals = [s for s in c.snaps]
        before = [s for s in arrivals if s[0] < t_fault]
        after = [s for s in arrivals if s[0] >= t_fault and s[0] <= t_stop]
        last_pre = before[-1] if before else None
        gap = first_after = None
        if last_pre is not None and after:
            times = [last_pre[0]] + [s[0] for s in after]
            gap = max(b - a for a, b in zip(times, times[1:]))
            first_after = after[0][0] - last_pre[0]
        # As specified: the last tick before the fault minus the first after it.
        rolled = max(0, last_pre[1] - after[0][1]) if last_pre is not None and after else 0
        for reb in c.rebases:
            if reb["t"] >= t_fault:
                for issue in reb["issues"]:
                    attribute(issue, c, f"{reb['how']} at tick {reb['tick']} (+{reb['t'] - t_fault:.3f} s)")
            elif reb["issues"]:
                other_issues.append({"before_fault": True, "seen_by": c.idx, **reb})
        if pre[c.idx] is not None and final[c.idx] is not None:
            for issue in compare(pre[c.idx], final[c.idx], run.touched):
                attribute(issue, c, "fault state vs last state")
        # Every spawn the last state's ack covers (not refused, not lost in transit) is a cube of
        # this player there (nothing deletes): short = acknowledged spawns without their cube.
        spawn_short = None
        if final[c.idx] is not None:
            mine = final[c.idx].acks.get(str(c.player), 0)
            applied = [
                m
                for m in c.cmds
                if m.op == "spawn" and m.seq <= mine and not m.rejected and not m.unprocessed
            ]
            cubes = sum(1 for owner, _, _ in final[c.idx].ents.values() if owner == c.player)
            spawn_short = len(applied) - cubes
            if spawn_short:
                other_issues.append(
                    {
                        "kind": "spawn_count",
                        "player": c.player,
                        "client": c.idx,
                        "acked_spawns": len(applied),
                        "cubes": cubes,
                    }
                )
        regress, top = 0, max((s[1] for s in before), default=-1)
        for s in after:
            regress = max(regress, top - s[1])
            top = max(top, s[1])
        drops = []
        for s in c.socks:
            if s.closed is not None and not s.by_us and s.closed <= t_stop:
                expected = run.fault == "server-kill9" and s.server == 0 and s.closed >= t_fault
                drops.append(
                    {
                        "client": c.idx,
                        "socket": s.no,
                        "server": s.server + 1,
                        "code": s.code,
                        "reason": s.reason,
                        "at_s": round(s.closed - t_fault, 3),
                        "expected": expected,
                    }
                )
        res = c.resumed_at(t_end)
        per_client.append(
            {
                "client": c.idx,
                "player": c.player,
                "enc": c.enc,
                "gap_ms": None if gap is None else round(gap * 1000, 1),
                "first_after_ms": None if first_after is None else round(first_after * 1000, 1),
                "rolled_back": rolled,
                "last_tick_before": last_pre[1] if last_pre else None,
                "first_tick_after": after[0][1] if after else None,
                "resumed_s": None if res is None else round(res - t_fault, 3),
                "commands": len(c.cmds),
                "acked": sum(1 for m in c.cmds if m.acked is not None),
                "unprocessed": sum(1 for m in c.cmds if m.unprocessed),
                "rejects": c.rejects,
                "errors": c.errors,
                "corrections": c.corrections,
                "tick_gaps_resynced": c.gaps,
                "stale_snaps": c.stale,
                "sockets": len(c.socks),
                "stalled": sum(1 for s in c.socks if s.stalled),
                "welcomes": sum(1 for s in c.snaps if s[2] == "welcome"),
                "ended": c.ended,
                "spawn_short": spawn_short,
                "tick_regress": regress,
                "stale_full": [
                    {**x, "t": round(x["t"] - t_fault, 3)} for x in c.stale_full if x["t"] >= t_fault
                ],
                "drops": drops,
                "around_fault": around(c, t_fault, t_stop),
            }
        )
    drops = [d for pc in per_client for d in pc["drops"]]
    return {
        "resumed_s": None if resumed is None else round(resumed - t_fault, 3),
        "gaps_ms": [pc["gap_ms"] for pc in per_client if pc["gap_ms"] is not None],
        "rolled_back": max(pc["rolled_back"] for pc in per_client),
        "tick_regress": max(pc["tick_regress"] for pc in per_client),
        "match_ended": sorted({e for c in run.clients for e in c.ended}),
        "acked_lost": len(lost),
        "lost": [{"key": list(k), **v} for k, v in lost.items()],
        "other_issues": other_issues,
        "dropped": sum(1 for d in drops if not d["expected"]),
        "dropped_expected": sum(1 for d in drops if d["expected"]),
        "clients": per_client,
    }


def around(c: Client, t_fault: float, t_stop: float) -> list:
    """The frames that tell the story: the last 3 snapshots before the fault, then everything but
    the snaps that came on time and in order; [ms from the fault, socket, type, tick, note]."""
    out, prev = [], None
    snaps_before = [f for f in c.frames if f[0] < t_fault and f[2].get("type") in ("snap", "welcome")][-3:]
    for t, sock, msg in snaps_before:
        out.append([round((t - t_fault) * 1000, 1), sock, msg["type"], tick_of(msg), ""])
        prev = (t, tick_of(msg))
    shown = 0
    refusals: dict = {}
    for t, sock, msg in c.frames:
        if t < t_fault or t > t_stop:
            continue
        kind, tick = msg.get("type"), tick_of(msg)
        note = ""
        if kind == "snap":
            late = prev is not None and t - prev[0] > 2.5 / TICK_RATE
            odd = prev is not None and tick != prev[1] + 1
            if not (late or odd or msg.get("full") or shown < 3):
                prev = (t, tick)
                continue
            note = ("full " if msg.get("full") else "") + (f"after tick {prev[1]}" if odd else "")
            shown += 1
            prev = (t, tick)
        elif kind == "welcome":
            note = f"ack {msg.get('ack')}"
            prev = (t, tick)
        elif kind == "reject":
            code = msg.get("code")
            refusals[code] = refusals.get(code, 0) + 1
            if refusals[code] > 3:
                continue
            note = f"seq {msg.get('seq')} {code}" + (" (more not listed)" if refusals[code] == 3 else "")
        elif kind in ("error", "ended"):
            note = str(msg.get("code") or msg.get("reason"))
        elif kind in ("ping", "pong", "players"):
            continue
        out.append([round((t - t_fault) * 1000, 1), sock, kind, tick, note.strip()])
    return out


def tick_of(msg: dict):
    if msg.get("type") == "welcome":
        return msg["snap"]["tick"]
    return msg.get("tick")


# -- the whole benchmark ---------------------------------------------------------------------


def prepare_database(name: str) -> str:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = url
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return url


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def summarize(results: list[dict], faults: list[str]) -> list[dict]:
    rows = []
    for fault in faults:
        runs = [r for r in results if r["fault"] == fault]
        done = [r for r in runs if "error" not in r]
        gaps = [g for r in done for g in r["gaps_ms"]]
        rows.append(
            {
                "fault": fault,
                "runs": len(done),
                "errors": len(runs) - len(done),
                "gap_p50_ms": pct(gaps, 50),
                "gap_max_ms": max(gaps) if gaps else None,
                "rolled_back_max": max((r["rolled_back"] for r in done), default=None),
                "acked_lost": sum(r["acked_lost"] for r in done),
                "dropped": sum(r["dropped"] for r in done),
                "dropped_expected": sum(r["dropped_expected"] for r in done),
                "records_wrong": sum(r["records_wrong"] for r in done),
                "not_resumed": sum(1 for r in done if r["resumed_s"] is None),
                "resumed_p50_s": pct([r["resumed_s"] for r in done if r["resumed_s"] is not None], 50),
                "resumed_max_s": max(
                    (r["resumed_s"] for r in done if r["resumed_s"] is not None), default=None
                ),
                "tick_regress_max": max((r["tick_regress"] for r in done), default=None),
                "spawn_short": sum(max(0, c["spawn_short"] or 0) for r in done for c in r["clients"]),
                "match_ended": sum(1 for r in done if r["match_ended"]),
                "ack_regressions": sum(
                    1 for r in done for i in r["other_issues"] if i.get("kind") == "ack_regressed"
                ),
                "rejects": merge([c["rejects"] for r in done for c in r["clients"]]),
                "unprocessed": sum(c["unprocessed"] for r in done for c in r["clients"]),
            }
        )
    return rows


def merge(counts: list[dict]) -> dict:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return dict(sorted(out.items()))


def fmt(v, digits: int = 0) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def table(rows: list[dict]) -> str:
    head = (
        "| fault | runs | gap p50 ms | gap max ms | ticks rolled back (max) | acked lost (total) "
        "| sockets dropped (total) | records wrong (total) | expected drops |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        runs = str(r["runs"]) + (f" (+{r['errors']} failed)" if r["errors"] else "")
        lines.append(
            f"| {r['fault']} | {runs} | {fmt(r['gap_p50_ms'])} | {fmt(r['gap_max_ms'])} | {fmt(r['rolled_back_max'])} "
            f"| {r['acked_lost']} | {r['dropped']} | {r['records_wrong']} | {r['dropped_expected']} |"
        )
    lines += [
        "",
        "| fault | resumed p50 s | resumed max s | not resumed | match ended | tick regress (max) | spawns short | ack regressions | unprocessed cmds | refusals |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        refusals = ", ".join(f"{k} {v}" for k, v in r["rejects"].items()) or "-"
        lines.append(
            f"| {r['fault']} | {fmt(r['resumed_p50_s'], 2)} | {fmt(r['resumed_max_s'], 2)} | {r['not_resumed']} "
            f"| {r['match_ended']} | {fmt(r['tick_regress_max'])} | {r['spawn_short']} | {r['ack_regressions']} "
            f"| {r['unprocessed']} | {refusals} |"
        )
    return "\n".join(lines)


def anomalous(result: dict) -> bool:
    return bool(
        "error" in result
        or result["acked_lost"]
        or result["rolled_back"]
        or result["records_wrong"]
        or result["dropped"]
        or result["resumed_s"] is None
        or result["other_issues"]
        or result["tick_regress"]
        or (
            result["fault"] in ("kill9", "sigterm", "server-kill9")
            and result["fault_detail"].get("code") is None
        )
        or (result["fault"] == "sigterm" and result["fault_detail"].get("code") != 0)
        or result["match_ended"]
        or any(c["spawn_short"] for c in result["clients"])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "faults")
    parser.add_argument(
        "--db", default="cubearena_faultbench", help="PostgreSQL database (created if missing)"
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep every run's logs, not only anomalous ones"
    )
    parser.add_argument("--fresh", action="store_true", help="forget the runs already in --out/full.json")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting")
    args = parser.parse_args()
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")

    def stop(signum, frame):  # SIGTERM as Ctrl-C: every run's finally stops its processes
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with it ignored
    for item in args.set:
        name, _, value = item.partition("=")
        SETTINGS[name] = value
    global SILENT_S, GRACE_S
    SILENT_S = float(SETTINGS["CUBEARENA_SOCKET_SILENT_S"])
    GRACE_S = float(SETTINGS["CUBEARENA_MATCH_EMPTY_GRACE_S"])
    tree_at_start = tree_state()
    url = prepare_database(args.db)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "cubearena.settings"
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    print("settings: " + ", ".join(f"{k}={v}" for k, v in SETTINGS.items()), flush=True)
    print(
        f"{args.runs} runs of {', '.join(faults)}; 2 servers, 2 arbiters, 4 players at {TICK_RATE} Hz, "
        f"fault {FAULT_AT_S:.0f} s in; database {args.db}",
        flush=True,
    )
    results: list[dict] = []
    started = time.time()
    try:
        for fault in faults:
            for i in range(1, args.runs + 1):
                run = Run(fault, i, args)
                result: dict = {"fault": fault, "run": i}
                try:
                    result = asyncio.run(run_once(run))
                except Exception as exc:
                    result["error"] = repr(exc)
                    result["trace"] = traceback.format_exc()
                    result["notes"] = run.notes
                except KeyboardInterrupt:
                    result["error"] = "interrupted"
                    result["notes"] = run.notes
                    raise
                finally:
                    try:
                        keep = args.keep_logs or "error" in result or anomalous(result)
                    except Exception:
                        keep = True
                    run.cleanup(args.out / "logs" / f"{fault}-{i}" if keep else None)
                result["load_avg"] = os.getloadavg()
                results.append(result)
                print(line(result), flush=True)
    except KeyboardInterrupt:
        print("interrupted: writing what finished", flush=True)
    rows = summarize(results, faults)
    header = (
        f"settings: {', '.join(f'{k}={v}' for k, v in SETTINGS.items())}\n"
        f"machine: {platform.node()}, {os.cpu_count()} CPUs; load average at the end {os.getloadavg()[0]:.2f}; "
        f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}, {time.time() - started:.0f} s\n"
    )
    print("\n" + header + "\n" + table(rows), flush=True)
    # table.md and full.json hold every fault run into --out so far: a fault run again replaces
    # its earlier runs (--fresh forgets them all).
    full_path = args.out / "full.json"
    kept, invocations = [], []
    if full_path.exists() and not args.fresh:
        previous = json.loads(full_path.read_text())
        done = {r["fault"] for r in results}  # an interrupted invocation replaces only what it ran
        kept = [r for r in previous["runs"] if r["fault"] not in done]
        invocations = [i for i in previous.get("invocations", []) if set(i["faults"]) - done]
    invocations.append(
        {
            "faults": faults,
            "runs": args.runs,
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
            "seconds": round(time.time() - started),
            "load_avg_end": os.getloadavg(),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "settings": dict(SETTINGS),
            "tree_at_start": tree_at_start,
            "tree_at_end": tree_state(),
        }
    )
    everything = kept + results
    present = [f for f in FAULTS if any(r["fault"] == f for r in everything)]
    all_rows = summarize(everything, present)
    commands = "\n".join(
        f"- {i['started']}: `{i['command']}` ({i['seconds']} s; {describe_tree(i)})"
        + ("" if i.get("settings", SETTINGS) == SETTINGS else f" with {i['settings']}")
        for i in invocations
    )
    (args.out / "table.md").write_text(
        f"settings: {', '.join(f'{k}={v}' for k, v in SETTINGS.items())}\n\n{commands}\n\n{table(all_rows)}\n"
    )
    full_path.write_text(
        json.dumps(
            {"settings": SETTINGS, "invocations": invocations, "summary": all_rows, "runs": everything},
            indent=1,
            default=str,
        )
    )
    print(f"written: {args.out / 'table.md'}, {full_path}", flush=True)
    return 0


def tree_state() -> dict:
    """The commit the processes ran, and what the working tree had changed in the server's code."""

    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    changed = git("status", "--porcelain", "--", "game", "lobby", "cubearena", "loadbots")
    return {"head": git("rev-parse", "HEAD"), "uncommitted": changed.splitlines()}


def describe_tree(invocation: dict) -> str:
    start, end = invocation.get("tree_at_start") or {}, invocation.get("tree_at_end") or {}
    text = f"commit {start.get('head', '?')[:7]}" + (
        " + uncommitted changes" if start.get("uncommitted") else ""
    )
    if (end.get("head"), end.get("uncommitted")) != (start.get("head"), start.get("uncommitted")):
        text += (
            f", {end.get('head', '?')[:7]}"
            + (" + uncommitted" if end.get("uncommitted") else "")
            + " at the end"
        )
    return text


def line(r: dict) -> str:
    if "error" in r:
        return f"{r['fault']:>12} #{r['run']}: FAILED {r['error']}"
    gaps = ", ".join(fmt(g) for g in r["gaps_ms"])
    return (
        f"{r['fault']:>12} #{r['run']}: resumed {fmt(r['resumed_s'], 2)} s, gaps [{gaps}] ms, "
        f"rolled back {r['rolled_back']}, acked lost {r['acked_lost']}, dropped {r['dropped']}"
        f" (+{r['dropped_expected']} expected), records wrong {r['records_wrong']}"
        + (" *" if anomalous(r) else "")
    )


if __name__ == "__main__":
    sys.exit(main())
