"""The match socket: a thin adapter between one browser and the match's arbiter.

It admits the socket (seat, code, role), attaches it to the process's fan-out (which writes
everything the arbiter sends it, game/edge/fanout.py), asks the arbiter for a welcome, and
then decodes, validates and forwards. It writes only its own replies (pong, error, ping).
No game rule lives here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from game import limits, placement
from game.arbiter.inprocess import ensure_arbiter, local_arbiter
from game.edge import fanout, forwarder
from game.messages import (
    ARBITER_CHANNEL,
    GameEnded,
    GameKick,
    GameRejoin,
    GameReplaced,
    GameUnowned,
    GameWelcome,
    MatchAlive,
    MatchChat,
    MatchCmd,
    MatchEnd,
    MatchJoin,
    MatchLeave,
    MatchNote,
    MatchResync,
    MatchRtt,
    MatchStart,
    pack,
)
from game.records import admission
from game.sim.rates import SlidingWindow
from game.transport import frames
from game.transport.inbox import InboxConsumerMixin
from game.wire.protocol import (
    Chat,
    End,
    Ping,
    Pong,
    ProtocolError,
    Resync,
    chat_text,
    parse_frame,
    to_command,
)
from game.wire.snapshots import encode

log = logging.getLogger("game.socket")

WELCOME_TRIES = 4  # asks for a welcome (the owner's, then any arbiter's) before closing 1013


class MatchConsumer(InboxConsumerMixin, AsyncWebsocketConsumer):
    layer_channel = False  # the arbiter reaches it through the fan-out's channel
    inbox_size = 1024  # the fan-out hands it what it cannot write itself; it must not be refused
    grant: admission.SocketGrant | None = None
    out: fanout.Outlet | None = None  # what the fan-out knows of it: welcomed, its owner, its ticks
    closing = False  # once we close, what the browser still sends is read no more, and nothing is sent

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:  # however the socket ended (even by a handler raising): its timers end with it
            for task in (self.watchdog, self.prober, self.keepalive):
                if task is not None:
                    task.cancel()

    watchdog = prober = keepalive = None

    async def close(self, code=None, reason=None):
        if not self.closing:
            self.closing = True
            if self.out is not None:
                self.out.open = False
            await super().close(code=code, reason=reason)

    def server_feed(self):
        return frames.feeder(self.scope)  # Daphne puts each frame straight into the inbox

    async def dispatch(self, message):
        # Database work goes through database_sync_to_async, which closes stale connections
        # itself: skip Channels' per-message thread hop (it dominates a 20 Hz broadcast).
        if type(message) is dict:  # from the ASGI server
            await getattr(self, get_handler_name(message))(message)
        elif isinstance(message, (str, bytes)):  # a frame the fan-out has no direct route for
            await self._out(message)
        else:  # from the fan-out: what needs this consumer (close, join again, start probing)
            await self._handlers[type(message)](self, message)

    # -- opening ----------------------------------------------------------------
    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode(errors="replace"))
        self.spectator = query.get("role", [""])[0] == "spectator"
        self.binary = query.get("enc", [""])[0] == "msgpack"
        self.match_id = self.scope["url_route"]["kwargs"]["match_id"]
        self.pings = SlidingWindow(limits.PINGS_PER_S)
        self.resyncs = SlidingWindow(limits.RESYNCS_PER_S)
        self.noted = SlidingWindow(limits.PINGS_PER_S)  # bad frames recorded per second
        self.abuse = SlidingWindow(limits.ABUSE_FRAMES, limits.ABUSE_WINDOW_S)
        self.watchdog: asyncio.Task | None = None
        self.prober: asyncio.Task | None = None
        self.keepalive: asyncio.Task | None = None
        self.join_sent = False
        self.probes: dict[float, float] = {}  # server ping t -> monotonic time sent
        self.forward = forwarder.local().send  # looked up once: it is every command's way out
        await self.accept()  # refusals are accept + close with a code (PROTOCOL.md)
        code = query.get("code", [None])[0]
        try:
            self.grant = await admission.admit_socket(
                self.match_id, self.scope.get("session"), self.spectator, code
            )
        except admission.SocketRefusal as refusal:
            await self.close(code=refusal.code, reason=refusal.reason)
            return
        self.player = self.grant.player
        self.out = await fanout.local().attach(
            self.grant.group, self.binary, frames.protocol_of(self.scope), self._inbox
        )
        await self._ask_welcome(self.grant.arbiter_channel)
        self.keepalive = asyncio.get_running_loop().create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        """Tell the owner this socket is there (a seat whose socket falls silent goes offline),
        and if the owner itself falls silent past its lease, look for the match's new owner."""
        loop = asyncio.get_running_loop()
        every = settings.SOCKET_SILENT_S / 3
        out = self.out
        out.heard_at = loop.time()
        while True:
            await asyncio.sleep(every)
            if out.welcomed and loop.time() - out.heard_at > settings.MATCH_LEASE_S + 1.0:
                log.warning("match %s: owner silent; looking for the match's owner", self.match_id)
                out.heard_at = loop.time()
                out.welcomed = False
                await self._ask_welcome("")
            if out.arbiter:  # also while a rejoin waits: the owner may be the same one
                alive = MatchAlive(match=self.match_id, player=self.player, reply=out.reply)
                await self._tell_owner(alive)

    async def _tell_owner(self, msg) -> bool:
        """Send to the owner; a full or unreachable layer is not this socket's end."""
        try:
            await self.forward(self.out.arbiter, msg)
            return True
        except Exception as exc:
            log.info("match %s: %s not delivered: %r", self.match_id, type(msg).__name__, exc)
            return False

    async def _ask_welcome(self, owner: str) -> bool:
        """Join through the owning arbiter, or through `arbiter` to start or adopt the match.
        False if the join could not be sent (the layer is down): the watchdog asks again soon."""
        g = self.grant
        join = MatchJoin(
            match=g.match_id,
            player=g.player,
            nickname=g.nickname,
            color=g.color,
            enc="msgpack" if self.binary else "json",
            reply=self.out.reply,
        )
        ensure_arbiter()
        try:
            if owner:
                await self.channel_layer.send(owner, pack(join))
            else:
                start = MatchStart(match=g.match_id, join=join)
                await self.channel_layer.send(await self._starter(), pack(start))
        except Exception as exc:  # the layer is down: the watchdog asks again
            log.info("match %s: join not sent: %r", self.match_id, exc)
            self.join_sent = False
        else:
            self.join_sent = True
        if self.watchdog is None or self.watchdog.done():
            self.watchdog = asyncio.get_running_loop().create_task(self._await_welcome())
        return self.join_sent

    async def _starter(self) -> str:
        """Who starts (or adopts) the match: with affinity the server its path names (placement
        chose it; a proxy may have sent this socket elsewhere), else this process's own
        arbiter, else any (`arbiter`)."""
        named = placement.named_server(self.scope.get("path", "")) if settings.AFFINITY else None
        if named and named != settings.SERVER_NAME:
            try:
                channel = await placement.arbiter_of(named)
            except Exception as exc:  # Redis away: the local arbiter will do
                log.info("match %s: placement unreadable: %r", self.match_id, exc)
                channel = None
            if channel:
                return channel
        return local_arbiter() or ARBITER_CHANNEL

    async def _await_welcome(self) -> None:
        """Ask again until a welcome comes (an adoption takes up to a lease), then give up 1013.
        A join the layer refused is sent again within half a second, not after the timeout."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + (WELCOME_TRIES + 1) * limits.WELCOME_TIMEOUT_S
        while loop.time() < give_up:
            wait = limits.WELCOME_TIMEOUT_S if self.join_sent else 0.5
            await asyncio.sleep(min(wait, max(0.0, give_up - loop.time())))
            if self.out.welcomed:
                return
            if self.join_sent:
                log.warning("match %s: no welcome for player %s; asking again", self.match_id, self.player)
            await self._ask_welcome("")
        if not self.out.welcomed:
            await self.close(code=1013, reason="no game server answered; try again")

    # -- from the arbiter, through the fan-out (which wrote their frames already) --------
    async def game_welcome(self, message: GameWelcome):
        if self.player is not None and self.prober is None:
            self.prober = asyncio.get_running_loop().create_task(self._probe())

    async def game_replaced(self, message: GameReplaced):
        await self.close(code=4001, reason="replaced by a newer connection")

    async def game_ended(self, message: GameEnded):
        await self.close(code=4410, reason="match ended")

    async def game_kick(self, message: GameKick):
        await self.close(code=message.code, reason=message.reason)

    async def game_unowned(self, message: GameUnowned):
        """The arbiter we talked to no longer owns the match: find the owner again."""
        await self._ask_welcome("")

    async def game_rejoin(self, message: GameRejoin):
        """The match has a new owner (or its owner is stopping): join again, get a fresh welcome."""
        await self._ask_welcome(message.arbiter)

    # -- from the browser ------------------------------------------------------------
    async def receive(self, text_data=None, bytes_data=None):
        if self.grant is None or self.closing:
            return
        try:
            raw = bytes_data if text_data is None else text_data
            msg = parse_frame(raw, binary=self.binary and bytes_data is not None)
            if isinstance(msg, Ping):
                await self._ping(msg)
            elif isinstance(msg, Pong):
                await self._pong(msg)
            elif isinstance(msg, Resync):
                await self._resync()
            elif isinstance(msg, End):
                await self._end()
            elif isinstance(msg, Chat):
                await self._chat(msg)
            else:
                await self._command(msg)
        except ProtocolError as err:
            await self._refuse(err)
        except Exception as exc:  # a full or unreachable layer: this frame is refused, the socket lives
            log.info("match %s: frame not forwarded: %r", self.match_id, exc)
            await self._refuse(ProtocolError("busy", "the server cannot take more right now; retry shortly"))

    async def _command(self, msg) -> None:
        if self.spectator:
            raise ProtocolError("spectator", "spectators cannot change the world", msg.seq)
        if not self.out.welcomed:
            if self.out.welcome_tick >= 0:  # welcomed before: the match is moving to another arbiter
                raise ProtocolError(
                    "busy", "the match is moving to another server; send it again", msg.seq, 250
                )
            raise ProtocolError("bad_message", "wait for welcome before sending commands", msg.seq)
        forward = MatchCmd(match=self.match_id, reply=self.out.reply, cmd=to_command(msg, self.player))
        try:  # to another process's owner it waits a few ms for company (game/edge/forwarder.py)
            await self.forward(self.out.arbiter, forward)
        except Exception:  # full, or the layer unreachable
            raise ProtocolError(
                "busy", "the match is busy; command not queued, send it again", msg.seq, 100
            ) from None

    async def _ping(self, msg: Ping) -> None:
        wait = self.pings.take(time.monotonic())
        if wait:
            raise ProtocolError("rate_limited", "at most 5 pings a second", retry_ms=wait)
        await self._out(
            encode(
                {"type": "pong", "t": msg.t, "st": int(time.time() * 1000), "tick": self.out.last_tick},
                self.binary,
            )
        )

    async def _probe(self) -> None:
        """Ping the player every few seconds: the auditor compares lag claims with the round trip."""
        while True:
            await asyncio.sleep(limits.PROBE_EVERY_S)
            t = float(int(time.time() * 1000))
            self.probes = {k: v for k, v in self.probes.items() if k > t - 10_000}
            self.probes[t] = time.monotonic()
            await self._out(encode({"type": "ping", "t": t}, self.binary))

    async def _pong(self, msg: Pong) -> None:
        sent = self.probes.pop(msg.t, None)
        if sent is None:
            raise ProtocolError("bad_message", "pong for a ping the server did not send (or answered twice)")
        ms = (time.monotonic() - sent) * 1000
        await self._tell_owner(MatchRtt(match=self.match_id, player=self.player, ms=ms))

    async def _resync(self) -> None:
        wait = self.resyncs.take(time.monotonic())
        if wait:
            raise ProtocolError("rate_limited", "at most 5 resyncs a second", retry_ms=wait)
        if self.out.welcomed:
            enc = "msgpack" if self.binary else "json"
            await self._tell_owner(MatchResync(match=self.match_id, reply=self.out.reply, enc=enc))

    async def _end(self) -> None:
        """Ask the arbiter; who may end a match is a rule (game/sim/rules.py), answered from there."""
        if not self.out.welcomed:
            raise ProtocolError("bad_message", "wait for welcome before ending the match")
        await self._tell_owner(MatchEnd(match=self.match_id, player=self.player, reply=self.out.reply))

    async def _chat(self, msg: Chat) -> None:
        """A chat line, checked here (who, how long) and sent to the owner, which rate-limits,
        records and broadcasts it (game/arbiter/chat.py)."""
        if self.spectator:
            raise ProtocolError("spectator", "spectators can read the chat but not write in it", about="chat")
        if not self.out.welcomed:
            raise ProtocolError("bad_message", "wait for welcome before chatting", about="chat")
        text = chat_text(msg.text)
        if not await self._tell_owner(
            MatchChat(match=self.match_id, player=self.player, reply=self.out.reply, text=text)
        ):
            raise ProtocolError(
                "busy", "the match is busy; message not sent, send it again", retry_ms=250, about="chat"
            )

    async def _refuse(self, err: ProtocolError) -> None:
        await self._out(encode(err.as_message(), self.binary))
        if self.abuse.take(time.monotonic()):
            log.warning("match %s: player %s closed for abuse (%s)", self.match_id, self.player, err.code)
            await self.close(code=4429, reason="too many refused messages")
            return
        if self.out.arbiter and self.noted.take(time.monotonic()) == 0:
            kind = "reject" if err.seq is not None else "error"
            note = MatchNote(
                match=self.match_id,
                player=self.player,
                kind=kind,
                payload={"code": err.code, "seq": err.seq, "message": err.message[:200]},
            )
            await self._tell_owner(note)
        log.info("match %s: player %s: %s (%s)", self.match_id, self.player, err.code, err.message[:120])

    # -- closing -------------------------------------------------------------------
    async def disconnect(self, code):
        for task in (self.watchdog, self.prober, self.keepalive):
            if task is not None:
                task.cancel()
        out = self.out
        if out is None:
            return
        await fanout.local().detach(out)
        if out.joined and out.arbiter:
            leave = MatchLeave(match=self.match_id, player=self.player, reply=out.reply)
            await self._tell_owner(leave)  # if lost, the owner notices the silence

    _handlers = {
        GameWelcome: game_welcome,
        GameReplaced: game_replaced,
        GameEnded: game_ended,
        GameKick: game_kick,
        GameUnowned: game_unowned,
        GameRejoin: game_rejoin,
    }

    async def _out(self, payload: str | bytes) -> None:
        """This socket's own replies (pong, ping, error), and what the fan-out hands it."""
        if self.closing:
            return
        protocol = self.out.protocol if self.out is not None else None
        if protocol is not None:  # as the fan-out writes: framed here, written as bytes
            frames.write(protocol, frames.prepare(protocol, payload))
        elif isinstance(payload, bytes):
            await self.send(bytes_data=payload)
        else:
            await self.send(text_data=payload)
