"""One load bot: a guest player that spawns a few cubes and retargets one every 100 ms.

A measuring bot reads through `websockets`, decodes every frame and times acks, visibility
and snapshot arrivals; any other bot reads through the counting client (`fastws`) and only
counts frames and bytes once it knows its cubes, so one process can drive hundreds of
players on a single event loop.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field

import msgspec
from websockets.exceptions import ConnectionClosed

from loadbots.client import Account, Socket, bare_socket_uri, open_bare_socket
from loadbots.fastws import Closed, CountingSocket
from loadbots.stats import percentile

_json = msgspec.json.Decoder()
_msgpack = msgspec.msgpack.Decoder()

SPAWN_GAP_S = 0.21  # at most 5 spawns in any second (PROTOCOL.md), with a little slack
WELCOME_TIMEOUT_S = 30.0
LEARN_TIMEOUT_S = 5.0  # a bot that has not seen its spawned cubes by then moves what it has
# A measuring bot whose commands take longer than this to be acknowledged (p99) is behind:
# the snaps may come on time while its commands wait in a backlog.
ACK_BEHIND_S = 1.0
WS_OPTIONS = {
    "compression": None,  # Daphne offers no permessage-deflate; nor does the baseline
    "ping_interval": None,  # keepalive timeouts under load would be counted as drops
    "open_timeout": 60,
    "close_timeout": 2,
}


@dataclass
class Window:
    """The measuring window every bot of a run shares (monotonic seconds)."""

    start: float = float("inf")
    end: float = float("inf")
    open: bool = False

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class Counters:
    """What a bot has received and sent so far; a run reads them at the window's edges."""

    bytes_in: int = 0
    msgs_in: int = 0
    rejected: int = 0
    cmds: int = 0

    def copy(self) -> Counters:
        return Counters(self.bytes_in, self.msgs_in, self.rejected, self.cmds)


@dataclass
class Timings:
    """A measuring bot's samples, in seconds, all taken inside the window."""

    ack: list[float] = field(default_factory=list)
    visible: list[float] = field(default_factory=list)
    interval: list[float] = field(default_factory=list)
    missed: int = 0
    unacked: int = 0
    reject_codes: dict[str, int] = field(default_factory=dict)


class Bot:
    """One player over one socket; `index` decides its nickname, cids and match."""

    def __init__(
        self,
        index: int,
        url: str,
        window: Window,
        *,
        enc: str = "json",
        measuring: bool = False,
        tick_rate: int = 20,
        cubes: int = 5,
        arena: float = 100,
        local_address: str | None = None,
        seed: int | None = None,
        routes: dict | None = None,
    ):
        self.index, self.url, self.window = index, url, window
        self.enc, self.binary, self.measuring = enc, enc == "msgpack", measuring
        self.tick_rate, self.want, self.half = tick_rate, cubes, arena / 2
        self.local_address = local_address
        self.routes = routes or {}
        self.rng = random.Random(seed if seed is not None else index)
        self.nickname = f"bot{index}"
        self.cids = {f"b{index}c{k}": k for k in range(cubes)}
        # A cheap filter for frames that may carry our spawns: our cid prefix, quoted in JSON.
        self.cid_tag = (f"b{index}c" if self.binary else f'"b{index}c').encode()
        self.account: Account | None = None
        self.sock: Socket | CountingSocket | None = None
        self.reader: asyncio.Task | None = None
        self.me: int | None = None
        self.me_key = ""
        self.cubes: list[int] = []
        self.learning = True
        self.adopting = False  # waiting for a full snap to take our cubes from (their cids were lost)
        self.tick_base = (0, time.monotonic())
        self.counters = Counters()
        self.timings = Timings()
        self.pending_acks: deque[tuple[int, float]] = deque()
        self.pending_visible: dict[int, tuple[int, int, float]] = {}
        self.last_tick: int | None = None
        self.last_arrival = 0.0
        self.sends = self.late = self.skipped = 0
        self.late_max = 0.0
        self.error: str | None = None  # could not join (account, match or socket)
        self.dropped = False  # the socket closed before the run closed it
        self.close_code: int | None = None
        self.closing = False

    # -- joining ------------------------------------------------------------------------
    async def sign_up(self) -> None:
        """A guest account over the HTTP API (skipped for the bare baseline)."""
        self.account = Account(self.url, local_address=self.local_address, routes=self.routes)
        await self.account.guest(self.nickname)

    async def create_match(self, name: str, max_players: int) -> dict:
        return await self.account.create_match(name, max_players=max_players, tick_rate=self.tick_rate)

    async def open(self, match: dict, baseline: bool = False) -> None:
        """Open the socket, read the welcome, and start receiving."""
        if self.measuring:
            if baseline:
                self.sock = await open_bare_socket(
                    self.url, match["id"], self.index + 1, self.enc, **WS_OPTIONS
                )
            else:
                self.sock = await self.account.open_socket(match, enc=self.enc, **WS_OPTIONS)
            recv = self.sock.recv
        else:
            if baseline:
                uri, cookie = bare_socket_uri(self.url, match["id"], self.index + 1, self.enc), ""
            else:
                uri, cookie = self.account.socket_uri(match, self.enc), self.account.cookie_header()
            self.sock = await CountingSocket.connect(
                uri, self.counters, self.url, cookie, self.binary, on_close=self._on_close
            )

            async def recv() -> dict:
                return self._decode(await self.sock.recv_raw(WELCOME_TIMEOUT_S))

        deadline = time.monotonic() + WELCOME_TIMEOUT_S
        while True:
            msg = await asyncio.wait_for(recv(), max(0.1, deadline - time.monotonic()))
            if msg.get("type") == "welcome":
                break
        self.me = msg["you"]
        self.me_key = str(self.me)
        self.sock.seq = msg["ack"] or 0
        now = time.monotonic()
        self.last_tick, self.last_arrival = msg["snap"]["tick"], now
        self.tick_base = (msg["snap"]["tick"], now)
        if self.measuring:
            self.reader = asyncio.get_running_loop().create_task(
                self._read(), name=f"bot {self.index} reader"
            )
        else:
            self.sock.listen(self._on_raw)

    async def spawn(self) -> None:
        """Spawn `cubes` cubes, paced under the spawn limit, and wait until we have seen them."""
        h = self.half * 0.9
        for cid in self.cids:
            self._estimate_tick()
            await self.sock.cmd("spawn", at=[self._coord(h), self._coord(h)], cid=cid)
            self.counters.cmds += 1
            await asyncio.sleep(SPAWN_GAP_S)
        await self._wait_learning(LEARN_TIMEOUT_S)
        if self.learning and not self.dropped:
            # A spawn that lands on a keyframe tick reaches us in a full snap without its cid:
            # take whatever we own from a full snap instead.
            self.adopting = True
            try:
                await self.sock.send({"type": "resync"})
            except (ConnectionClosed, Closed):
                pass
            await self._wait_learning(2.0)
        self._learned()

    async def _wait_learning(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.learning and time.monotonic() < deadline and not self.dropped:
            await asyncio.sleep(0.05)

    # -- the workload ---------------------------------------------------------------------
    async def move(self, start: float, end: float, period: float = 0.1) -> None:
        """Retarget one of our cubes every `period` seconds from `start` to `end`."""
        if not self.cubes:
            return
        due = start + self.rng.uniform(0, period)  # bots out of phase, as real players are
        k = 0
        h = self.half - 1
        while due < end and not self.closing and not self.dropped:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            late = now - due
            if self.window.open:
                self.sends += 1
                self.late_max = max(self.late_max, late)
                if late > period / 2:
                    self.late += 1
            cube = self.cubes[k % len(self.cubes)]
            k += 1
            tx, tz = (
                self.rng.randint(-int(h * 100), int(h * 100)),
                self.rng.randint(-int(h * 100), int(h * 100)),
            )
            self._estimate_tick()
            try:
                seq, sent = await self.sock.cmd("move", ids=[cube], to=[tx / 100, tz / 100])
            except (ConnectionClosed, Closed):
                return
            self.counters.cmds += 1
            if self.measuring:
                self.pending_acks.append((seq, sent))
                self.pending_visible[cube] = (tx, tz, sent)
            due += period
            behind = time.monotonic() - due
            if behind > period:  # a stalled sender skips slots rather than bursting
                missed = int(behind / period)
                due += missed * period
                if self.window.open:
                    self.skipped += missed

    async def end_match(self) -> None:
        """The creator ends its match, so the server stops ticking it."""
        try:
            await self.sock.send({"type": "end"})
        except (ConnectionClosed, Closed):
            pass

    async def close(self) -> None:
        self.closing = True
        if self.sock is not None:
            try:
                await asyncio.wait_for(self.sock.close(), 5)
            except Exception:
                pass
        if self.reader is not None:
            self.reader.cancel()
        if self.account is not None:
            await self.account.close()
        self.timings.unacked = sum(1 for _, t in self.pending_acks if self.window.holds(t))

    # -- receiving --------------------------------------------------------------------------
    async def _read(self) -> None:
        """A measuring bot's receive loop: every frame decoded and timed."""
        ws = self.sock.ws
        counters = self.counters
        try:
            async for frame in ws:
                counters.bytes_in += len(frame)
                counters.msgs_in += 1
                self._on_message(self._decode(frame), time.monotonic())
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bad frame must not pass silently
            self.error = f"receive: {exc!r}"
        self._on_close(ws.close_code)

    def _on_raw(self, frame: bytes) -> None:
        """A counting bot's whole message while it still looks for its cubes."""
        if self.adopting or self.cid_tag in frame:
            self._on_message(self._decode(frame), time.monotonic())
            if not self.learning:
                self._learned()

    def _learned(self) -> None:
        self.learning = self.adopting = False
        if isinstance(self.sock, CountingSocket):
            self.sock.listen(None)  # from now on: count only

    def _on_close(self, code: int | None) -> None:
        if not self.closing:
            self.dropped = True
            self.close_code = code

    def _decode(self, frame: str | bytes) -> dict:
        return _msgpack.decode(frame) if self.binary else _json.decode(frame)

    def _on_message(self, msg: dict, now: float) -> None:
        kind = msg.get("type")
        if kind == "snap":
            self._on_snap(msg, now)
        elif kind == "reject":
            self.counters.rejected += 1
            codes = self.timings.reject_codes
            codes[msg.get("code", "?")] = codes.get(msg.get("code", "?"), 0) + 1

    def _on_snap(self, msg: dict, now: float) -> None:
        tick = msg["tick"]
        if self.last_tick is not None and tick <= self.last_tick:
            if self.adopting and msg["full"]:  # the answer to our resync may repeat the last tick
                self._on_ents(msg["ents"], now, adopt=True)
            return
        timings, window = self.timings, self.window
        if self.measuring and window.open and self.last_tick is not None:
            timings.missed += tick - self.last_tick - 1
            timings.interval.append(now - self.last_arrival)
        self.last_tick, self.last_arrival = tick, now
        self.tick_base = (tick, now)
        ack = msg["acks"].get(self.me_key)
        pending = self.pending_acks
        if ack is not None:
            while pending and pending[0][0] <= ack:
                _, sent = pending.popleft()
                if window.holds(sent):
                    timings.ack.append(now - sent)
        if msg["ents"] and (self.pending_visible or self.learning):
            self._on_ents(msg["ents"], now, adopt=self.adopting and msg["full"])

    def _on_ents(self, ents: list, now: float, adopt: bool = False) -> None:
        me, visible, window = self.me, self.pending_visible, self.window
        for e in ents:
            if self.binary:
                ent_id, owner, tx, tz, cid = e[0], e[1], e[4], e[5], e[6]
            else:
                ent_id, owner, cid = e["id"], e["owner"], e.get("cid")
                tx, tz = round(e["tx"] * 100), round(e["tz"] * 100)
            if owner != me:
                continue
            if self.learning and (adopt or cid in self.cids) and ent_id not in self.cubes:
                self.cubes.append(ent_id)
                if len(self.cubes) >= self.want:
                    self.learning = False
            want = visible.get(ent_id)
            if want is not None and want[0] == tx and want[1] == tz:
                del visible[ent_id]
                if window.holds(want[2]):
                    self.timings.visible.append(now - want[2])

    # -- helpers ------------------------------------------------------------------------------
    def _estimate_tick(self) -> None:
        """PROTOCOL.md: the last snap's tick plus the whole ticks elapsed since it arrived."""
        tick, at = self.tick_base
        self.sock.tick = tick + int((time.monotonic() - at) * self.tick_rate)

    def _coord(self, h: float) -> float:
        return round(self.rng.uniform(-h, h), 2)

    def behind(self, seconds: float, nominal_s: float, received: int) -> bool:
        """The run could not keep up with this bot: it missed its send cadence, its snapshots
        came late, or (measuring) its commands waited over ACK_BEHIND_S to be acknowledged."""
        if self.skipped or (self.sends and self.late > 0.05 * self.sends):
            return True
        if received < 0.9 * seconds / nominal_s:
            return True  # fewer frames than one snap a tick: snaps were missed or delayed
        if self.measuring and self.timings.ack and percentile(sorted(self.timings.ack), 99) > ACK_BEHIND_S:
            return True
        if self.measuring and self.timings.interval:
            return percentile(sorted(self.timings.interval), 99) > 1.5 * nominal_s
        return False
