"""One fan-out per server process: every message the arbiters send this process's sockets,
written to them in the order the arbiters sent it.

The fan-out has one channel on the broadcast layer (game/transport/broadcast.py). It is the
member of each match group with a socket here, and each local socket's address (`reply`) is
`<channel>#<n>`: broadcasts (snap, correction, players, ended, rejoin) and per-socket
messages (welcome, reject, kick, resync) come through one queue, so a correction is written
before the snap that lists its cubes and a reject before the snap that acknowledges past it.
A snapshot is framed once per encoding (game/transport/frames.py) and the same bytes go to
every open socket that reads that encoding; a socket without a direct route (tests'
WebsocketCommunicator, another ASGI server) gets the same payloads, in the same order,
through its consumer's inbox and ordinary send.

What needs the socket's consumer (closing it, asking for a welcome, starting its prober)
is handed to the consumer's inbox after the fan-out has updated the socket's state here, so
nothing is written to a socket after its kick, and snaps that arrive while a socket waits
for its (new) welcome wait in its pre-welcome buffer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math

from game import metrics
from game.messages import (
    GameEnded,
    GameKick,
    GameMessage,
    GameRejoin,
    GameReplaced,
    GameSnap,
    GameUnowned,
    GameWelcome,
    ToSocket,
    first_in_a_second,
    receive,
)
from game.transport import frames
from game.transport.broadcast import SOCKET_SEP, broadcast_layer
from game.transport.inbox import per_loop, receive_through_outages
from game.wire.snapshots import encode

log = logging.getLogger("game.socket")

PRE_WELCOME_BUFFER = 64  # snaps that may arrive between joining the group and the welcome
written = [0, 0]  # frames written directly, through consumers: counted per message, not per frame


class Outlet:
    """One socket as the fan-out sees it: where its frames go and what it was sent."""

    def __init__(self, reply: str, group: str, binary: bool, protocol, inbox: asyncio.Queue):
        self.reply = reply
        self.group = group
        self.binary = binary
        self.protocol = protocol  # autobahn's, for prepared frames; None: through the consumer
        self.inbox = inbox  # the consumer's
        self.open = True  # False once closing, kicked, replaced or ended: nothing more is written
        self.joined = True  # holds its seat: a leave is due when it closes
        self.welcomed = False
        self.welcome_tick = -1
        self.last_tick = 0
        self.arbiter: str | None = None  # the owner that welcomed it
        self.heard_at = 0.0  # loop time the owner last sent it anything
        self.early: list[GameSnap] = []

    # -- writing -----------------------------------------------------------------------
    def write(self, payload: str | bytes, prepared: dict) -> None:
        """Write one payload; `prepared` caches its frame for the other sockets of its encoding."""
        if not self.open:
            return
        if self.protocol is None:
            self._hand(payload)
            written[1] += 1
            return
        frame = prepared.get(self.binary)
        if frame is None:
            frame = prepared[self.binary] = frames.prepare(self.protocol, payload)
        if frames.write(self.protocol, frame):
            written[0] += 1
        else:
            self.open = False  # closed under us, or dropped as a slow reader

    def _hand(self, item) -> None:
        """To the consumer's dispatch loop, after everything handed before it."""
        try:
            self.inbox.put_nowait((math.inf, item))
        except asyncio.QueueFull:
            if first_in_a_second("fanout:consumer behind"):
                log.warning("socket %s: consumer %d behind; one dropped", self.reply, self.inbox.qsize())

    # -- what the arbiter sends ---------------------------------------------------------
    def snap(self, msg: GameSnap, prepared: dict) -> None:
        if not self.welcomed:
            if len(self.early) < PRE_WELCOME_BUFFER:
                self.early.append(msg)
            return
        if msg.tick < self.welcome_tick or (msg.tick == self.welcome_tick and not msg.full):
            return  # older than the state the welcome carried (a full one too: a rejoin's backlog)
        payload = msg.data if self.binary else msg.text
        if payload is None:
            return  # published before the owner knew this socket's encoding: it resyncs on the gap
        self.last_tick = max(self.last_tick, msg.tick)
        self.write(payload, prepared)

    def welcome(self, msg: GameWelcome) -> None:
        self.arbiter = msg.arbiter
        if msg.tick < self.last_tick:  # never happens if the log holds every acked tick
            log.warning("socket %s: welcome at tick %d after %d", self.reply, msg.tick, self.last_tick)
        self.welcome_tick = self.last_tick = msg.tick
        self.write(msg.data if self.binary else msg.text, {})
        self.welcomed = True  # then the snaps that came meanwhile, in order, before any new one
        early, self.early = self.early, []
        for snap in early:
            self.snap(snap, {})
        self._hand(msg)  # the consumer starts its prober

    def message(self, msg: GameMessage, encoded: dict, prepared: dict) -> None:
        """A reject, error, correction or players list; rejects and errors before the welcome too."""
        if not self.welcomed and msg.msg.get("type") not in ("reject", "error"):
            return
        payload = encoded.get(self.binary)
        if payload is None:
            payload = encoded[self.binary] = encode(msg.msg, self.binary)
        self.write(payload, prepared)

    def control(self, msg) -> None:
        """Messages that need the consumer: the state changes here first, in order."""
        kind = type(msg)
        if kind is GameEnded:
            self.write(encode({"type": "ended", "reason": msg.reason}, self.binary), {})
        if kind in (GameEnded, GameKick, GameReplaced):
            self.joined = self.open = False
        elif kind is GameRejoin:
            if msg.known and msg.arbiter and msg.arbiter == self.arbiter and self.welcomed:
                return  # it took the match through this very socket's join: welcomed by it already
            self.welcomed = False
            self.early.clear()
        elif kind is GameUnowned:
            self.welcomed = False
        self._hand(msg)


class Fanout:
    """The process's (this event loop's) one member of every match group with a local socket."""

    def __init__(self, layer):
        self.layer = layer
        self.channel = ""
        self.outlets: dict[str, Outlet] = {}
        self.groups: dict[str, dict[str, Outlet]] = {}
        self._serial = 0
        self._membership = asyncio.Lock()  # group adds and discards one at a time, in order
        self._started: asyncio.Task | None = None
        self._runner: asyncio.Task | None = None
        self._pump: asyncio.Task | None = None

    async def attach(self, group: str, binary: bool, protocol, inbox: asyncio.Queue) -> Outlet:
        """A socket of `group` joins; from now on the group's messages reach it (pre-welcome)."""
        if self._runner is None and (self._started is None or self._started.done()):
            self._started = asyncio.get_running_loop().create_task(self._start())  # again, if it failed
        await asyncio.shield(self._started)
        self._serial += 1
        sid = str(self._serial)
        outlet = Outlet(f"{self.channel}{SOCKET_SEP}{sid}", group, binary, protocol, inbox)
        async with self._membership:
            members = self.groups.get(group)
            if members is None:
                await self.layer.group_add(group, self.channel)  # raises if the layer is down
                members = self.groups[group] = {}
            members[sid] = outlet
        self.outlets[sid] = outlet
        return outlet

    def close_all(self, code: int, reason: str) -> None:
        """Close every local socket with `code` (the server is stopping)."""
        for outlet in list(self.outlets.values()):
            outlet.control(GameKick(code=code, reason=reason))

    async def detach(self, outlet: Outlet) -> None:
        outlet.open = False
        sid = outlet.reply.rpartition(SOCKET_SEP)[2]
        if self.outlets.pop(sid, None) is None:
            return
        async with self._membership:
            members = self.groups.get(outlet.group, {})
            members.pop(sid, None)
            if members or outlet.group not in self.groups:
                return
            del self.groups[outlet.group]
            try:
                await self.layer.group_discard(outlet.group, self.channel)
            except Exception as exc:  # the layer is down; the group's expiry (or Redis' restart) drops it
                log.info("fan-out: leaving group %s failed: %r", outlet.group, exc)

    async def _start(self) -> None:
        self.channel = await self.layer.new_channel("fanout.")
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()
        adopt = getattr(self.layer, "adopt", None)
        if adopt is not None:  # what this process sends arrives straight in (embedded: everything)
            adopt(self.channel, inbox)
        if adopt is None or getattr(self.layer, "remote_too", False):  # what other processes publish
            self._pump = loop.create_task(self._pump_remote(inbox), name="fan-out pump")
        self._runner = loop.create_task(self._run(inbox), name="fan-out")

    async def _pump_remote(self, inbox: asyncio.Queue) -> None:
        receive = functools.partial(self.layer.receive, self.channel)
        while True:
            inbox.put_nowait((math.inf, await receive_through_outages(receive, "fan-out")))

    async def _run(self, inbox: asyncio.Queue) -> None:
        while True:
            _, raw = await inbox.get()
            try:
                self.dispatch(raw)
            except Exception:  # one bad message must not stop every socket's stream
                log.exception("fan-out: a message could not be delivered")
            direct, through_consumer = written
            if direct:
                metrics.count(metrics.FRAMES, "direct", direct)
            if through_consumer:
                metrics.count(metrics.FRAMES, "consumer", through_consumer)
            written[:] = (0, 0)

    def dispatch(self, raw) -> None:
        msg = receive(raw, ToSocket, "fanout")
        if msg is None:
            return
        now = asyncio.get_running_loop().time()
        to = raw.get("to")
        if to is not None:
            outlet = self.outlets.get(to)
            if outlet is not None:
                outlet.heard_at = now
                self._one(outlet, msg)
            return
        members = self.groups.get(raw.get("group"))
        if not members:
            return
        outlets = list(members.values())
        for outlet in outlets:
            outlet.heard_at = now
        kind = type(msg)
        if kind is GameSnap:
            prepared: dict = {}
            for outlet in outlets:
                outlet.snap(msg, prepared)
        elif kind is GameMessage:
            encoded: dict = {}
            prepared = {}
            for outlet in outlets:
                outlet.message(msg, encoded, prepared)
        else:
            for outlet in outlets:
                outlet.control(msg)

    @staticmethod
    def _one(outlet: Outlet, msg) -> None:
        kind = type(msg)
        if kind is GameSnap:
            outlet.snap(msg, {})
        elif kind is GameMessage:
            outlet.message(msg, {}, {})
        elif kind is GameWelcome:
            outlet.welcome(msg)
        else:
            outlet.control(msg)


# This process's fan-out (one per event loop: tests run a loop each).
local = per_loop(lambda: Fanout(broadcast_layer()))
