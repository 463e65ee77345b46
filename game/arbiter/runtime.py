"""A match owned by this arbiter: its rules engine, its sockets and its timers.

Lifecycle, in order: create (timers start), join / leave (sockets come and go), tick (at
the match's rate), dispose (timers stop, the record is closed) or step down (another
arbiter owns the match now). One writer: every change to the match happens in `handle`,
called by the arbiter consumer one message at a time from its dispatch loop. The timers
only send messages (tick, flush due, audit due) and database work runs in the match's
lane (game/records/lane.py), its result coming back as a message too; so nothing here
needs a lock. Once disposed, the match changes no more, and its closing task writes the
last of its records.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import msgspec

from game import limits
from game.arbiter import clock
from game.arbiter.pending import PendingRecords
from game.messages import (
    AUDITOR_CHANNEL,
    AuditBatch,
    Claim,
    GameEnded,
    GameKick,
    GameMessage,
    GameReplaced,
    GameSnap,
    GameWelcome,
    MatchAuditDue,
    MatchCmd,
    MatchEnd,
    MatchFlushDue,
    MatchFlushed,
    MatchJoin,
    MatchLeave,
    MatchNote,
    MatchResync,
    MatchRtt,
    MatchTick,
    MatchVerdicts,
    Message,
    OperatorVerdict,
    pack,
    post,
    send,
)
from game.records import flush as records_flush
from game.records import ownership
from game.records.lane import Lane
from game.sim import rules, verdicts
from game.sim.commands import Event
from game.sim.match import MatchState
from game.sim.world import World
from game.transport.broadcast import broadcast_layer
from game.wire.snapshots import Snap, delta_snap, encode, full_snap
from lobby import limits as match_limits
from lobby.notify import notify_lobby
from lobby.ticklag import TickLag

log = logging.getLogger("game.arbiter")


def now_ms() -> int:
    return int(time.time() * 1000)


class MatchRuntime:
    """One match's live state inside one arbiter worker."""

    def __init__(self, match_id: str, channel: str, layer, claim: Claim, lane: Lane, on_gone=None):
        self.match_id = match_id
        self.channel = channel  # the owning arbiter's own channel: ticks and results are sent here
        self.layer = layer
        self.bcast = broadcast_layer()  # group sends; `layer` carries direct sends and ticks
        self.group = f"match.{uuid.UUID(match_id).hex}"
        self.tick_rate = claim.tick_rate
        self.lane = lane
        self.loop = asyncio.get_running_loop()
        now = self.loop.time()
        world = World(claim.arena[0], claim.arena[1], match_limits.DEFAULT_SPEED, claim.tick_rate)
        self.state = MatchState(world, creator=claim.creator)
        if claim.checkpoint:
            self.state.restore(claim.checkpoint, now)
        self.sockets: dict[int, tuple[str, bool]] = {}  # player -> (reply channel, binary)
        self.spectators: dict[str, bool] = {}  # reply channel -> binary
        self.records = PendingRecords(match_id, channel)
        self.empty_since: float | None = now
        self.keyframe_every = max(1, round(limits.KEYFRAME_EVERY_S * self.tick_rate))
        self.tick_lag = TickLag()
        self.failures = 0
        self.players_changed = False
        self.disposed = False
        self.ending = False  # disposed and closing its record: the match is over
        self._tasks: list[asyncio.Task] = []
        self._on_gone = on_gone
        self._handlers = {
            MatchTick: self.tick,
            MatchCmd: self.command,
            MatchJoin: self.join,
            MatchLeave: self.leave,
            MatchResync: self.resync,
            MatchEnd: self.end,
            MatchNote: self.note,
            MatchRtt: self.round_trip,
            MatchVerdicts: self.apply_verdicts,
            MatchFlushDue: self.flush_due,
            MatchFlushed: self.flushed,
            MatchAuditDue: self.audit_due,
        }

    async def handle(self, msg: Message) -> None:
        """Apply one message to the match: the only way anything changes it."""
        await self._handlers[type(msg)](msg)

    # -- lifecycle --------------------------------------------------------------
    def create(self, adopted: bool) -> None:
        """Start the match's timers (tick, flush, audit); they die with `dispose`."""
        kind = "adopt" if adopted else "start"
        self.state.events.append(Event(self.state.world.tick, kind, None, {"arbiter": self.channel}))
        self._tasks = [
            self.loop.create_task(self._tick_timer(), name=f"tick {self.match_id}"),
            self.loop.create_task(
                self._timer(limits.FLUSH_EVERY_S, MatchFlushDue), name=f"flush {self.match_id}"
            ),
            self.loop.create_task(
                self._timer(limits.AUDIT_EVERY_S, MatchAuditDue), name=f"audit {self.match_id}"
            ),
        ]
        log.info("match %s: %s by %s at tick %d", self.match_id, kind, self.channel, self.state.world.tick)

    async def join(self, msg: MatchJoin) -> None:
        """A socket joins: a player takes (or retakes) its seat, a spectator just watches."""
        binary, player = msg.enc == "msgpack", msg.player
        if player is None:
            self.spectators[msg.reply] = binary
        else:
            seat = self.state.seat(player, msg.nickname, msg.color, self.loop.time())
            if seat.kicked:
                await self._send(msg.reply, GameKick(code=4430, reason="you were removed from this match"))
                return
            old = self.sockets.get(player)
            if old is not None and old[0] != msg.reply:
                await self._send(old[0], GameReplaced())
            self.sockets[player] = (msg.reply, binary)
            if not seat.online:
                seat.online = True
                self.records.presence[player] = "joined"
                self.state.events.append(Event(self.state.world.tick, "join", player, {}))
            self.empty_since = None
            log.info("match %s: player %s joined", self.match_id, player)
        frame = encode(self._welcome(player, binary), binary)
        welcome = GameWelcome(
            tick=self.state.world.tick, arbiter=self.channel, **{"data" if binary else "text": frame}
        )
        await self._send(msg.reply, welcome)
        if player is not None:
            self.players_changed = True  # sent with the next tick: a burst of joins costs one list
            await notify_lobby()

    def _welcome(self, player: int | None, binary: bool) -> dict:
        state = self.state
        seat = state.seats.get(player) if player is not None else None
        world = state.world
        return {
            "type": "welcome",
            "v": 1,
            "match": self.match_id,
            "you": player,
            "role": "player" if seat else "spectator",
            "color": seat.color if seat else None,
            "tick_rate": self.tick_rate,
            "arena": [world.half_w * 2, world.half_d * 2],
            "speed": world.speed,
            "ack": seat.ack if seat else None,
            "players": state.players(),
            "snap": self._full().as_dict(binary),
        }

    async def leave(self, msg: MatchLeave) -> None:
        """A socket closed; a player's seat stays (they may come back while the match runs)."""
        player = msg.player
        if player is None:
            self.spectators.pop(msg.reply, None)
            return
        current = self.sockets.get(player)
        if current is None or current[0] != msg.reply:
            return  # an old socket that a newer one replaced
        del self.sockets[player]
        self._offline(player)
        self.state.events.append(Event(self.state.world.tick, "leave", player, {}))
        log.info("match %s: player %s left", self.match_id, player)
        await notify_lobby()

    def _offline(self, player: int) -> None:
        seat = self.state.seats[player]
        if seat.online:
            seat.online = False
            self.records.presence[player] = "left"
        if not self.sockets:
            self.empty_since = self.loop.time()
        self.players_changed = True

    async def command(self, msg: MatchCmd) -> None:
        """Admit a command into the next tick's queue, or answer with a reject now."""
        reject = self.state.submit(msg.cmd, self.loop.time())
        if reject is not None:
            await self._reject(msg.reply, reject)

    async def end(self, msg: MatchEnd) -> None:
        """A player asks to end the match: the rules say who may."""
        refusal = rules.may_end(self.state, msg.player)
        if refusal is None:
            await self.dispose("ended by its creator")
            return
        code, message, _ = refusal
        await self.note(
            MatchNote(
                match=self.match_id,
                player=msg.player,
                kind="error",
                payload={"code": code, "seq": None, "message": message},
            )
        )
        if msg.reply:
            await self._send(msg.reply, GameMessage(msg={"type": "error", "code": code, "message": message}))

    async def note(self, msg: MatchNote) -> None:
        """Record a refusal the socket made on its own (bad frames), with the match's events."""
        seat = self.state.seats.get(msg.player) if msg.player is not None else None
        if seat is not None:
            seat.rejected += 1
        self.state.events.append(Event(self.state.world.tick, msg.kind, msg.player, msg.payload))

    async def round_trip(self, msg: MatchRtt) -> None:
        seat = self.state.seats.get(msg.player)
        if seat is not None:
            seat.rtt_ms.append(msg.ms)

    async def apply_verdicts(self, msg: MatchVerdicts) -> None:
        """Carry out the auditor's verdicts (game/sim/verdicts.py); each is recorded with its evidence."""
        for verdict in msg.verdicts:
            await self._announce(verdicts.apply(self.state, verdict))

    async def _announce(self, out: verdicts.Outcome) -> None:
        """Tell the sockets what a verdict did: a correction to all, a kick to its player."""
        if out.kicked is not None:
            sock = self.sockets.pop(out.kicked, None)
            if sock is not None:
                await self._send(sock[0], GameKick(code=4430, reason=f"removed from the match ({out.rule})"))
            self._offline(out.kicked)
            log.warning("match %s: player %s kicked (%s)", self.match_id, out.kicked, out.reason)
        if out.corrected:
            correction = {"type": "correction", "ids": out.corrected, "reason": out.reason}
            await self.bcast.group_send(self.group, pack(GameMessage(msg=correction)))

    async def resync(self, msg: MatchResync) -> None:
        """Send one socket a full snap of the current tick."""
        binary = msg.enc == "msgpack"
        snap = self._full()
        await self._send(
            msg.reply,
            GameSnap(
                tick=snap.tick,
                full=True,
                text=None if binary else snap.text,
                data=snap.data if binary else None,
            ),
        )

    async def tick(self, msg: MatchTick) -> None:
        """Apply the queue, step, send one snapshot to the match's group."""
        now = self.loop.time()
        result = self.state.tick(now)
        for reject in result.rejects:
            sock = self.sockets.get(reject.player)
            if sock is not None:
                await self._reject(sock[0], reject)
        if result.tick % self.keyframe_every == 0:
            snap = self._full(result.changes.cids)
        else:
            snap = delta_snap(self.state.world, now_ms(), result.acks, result.changes)
        await self._publish(snap)
        self.tick_lag.add(self.loop.time() - msg.due)
        if self.players_changed:
            self.players_changed = False
            players = {"type": "players", "players": self.state.players()}
            await self.bcast.group_send(self.group, pack(GameMessage(msg=players)))
        if self.empty_since is not None and now - self.empty_since > limits.EMPTY_MATCH_TIMEOUT_S:
            await self.dispose(f"no player for {limits.EMPTY_MATCH_TIMEOUT_S:.0f} s")

    async def dispose(self, reason: str) -> None:
        """The match is over: stop the timers, then (off the loop) close the record and tell every socket."""
        if self.disposed:
            return
        self.disposed = self.ending = True
        self.state.ended = True
        self._stop_timers()
        self.state.events.append(Event(self.state.world.tick, "end", None, {"reason": reason}))
        log.info("match %s: ended (%s) at tick %d", self.match_id, reason, self.state.world.tick)
        self._tasks.append(self.loop.create_task(self._close_record(reason), name=f"close {self.match_id}"))

    def step_down(self) -> None:
        """Another arbiter owns the match now: stop, quietly. Its sockets are the new owner's:
        they learn so (game.unowned) the next time they talk to this worker, and find it."""
        if self.disposed:
            return
        self.disposed = True
        self._stop_timers()
        log.warning("match %s: another arbiter owns it now; stepping down", self.match_id)
        if self._on_gone is not None:
            self._on_gone()

    def _stop_timers(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    async def _close_record(self, reason: str) -> None:
        """Write the last events and finish the record, retrying a failed write; then say so."""
        try:
            state, pause = self.state, 0.5
            if self._flush_task is not None:  # let the flush that is out land (or fail) first
                out = await self._flush_task
                self.records.settle(state, out.flush, ok=not out.error and out.ours)
            for attempt in range(1, limits.FINISH_TRIES + 1):
                try:
                    if state.events or self.records.presence:
                        batch = self.records.batch(state, self.tick_lag.as_json(), final=True)
                        ours, _ = await self.lane.run(
                            records_flush.flush, batch, timeout=limits.DB_JOB_TIMEOUT_S
                        )
                        self.records.settle(state, self.records.flushes, ok=True)
                        if not ours:
                            break  # adopted elsewhere meanwhile: the record is not ours to close
                    await self.lane.run(
                        ownership.finish_match,
                        self.match_id,
                        self.channel,
                        state.world.tick,
                        len(state.world.entities),
                        reason,
                        timeout=limits.DB_JOB_TIMEOUT_S,
                    )
                    break
                except Exception as exc:
                    self.records.settle(state, self.records.flushes, ok=False)  # nothing of it was written
                    log.warning(
                        "match %s: final write failed (try %d of %d): %r",
                        self.match_id,
                        attempt,
                        limits.FINISH_TRIES,
                        exc,
                    )
                    await asyncio.sleep(pause)
                    pause *= 2
            await self.bcast.group_send(self.group, pack(GameEnded(reason=reason)))
            await notify_lobby()
        finally:
            if self._on_gone is not None:
                self._on_gone()

    # -- timers: they only send messages ---------------------------------------------
    async def _tick_timer(self) -> None:
        """Send `match.tick` to our own channel at the match's rate, drift-corrected."""

        async def send_tick(due: float) -> None:  # a full or failing layer must not kill the clock
            await self._send(self.channel, MatchTick(match=self.match_id, due=due))

        await clock.every(self.tick_rate, send_tick)

    async def _timer(self, every_s: float, kind) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self._send(self.channel, kind(match=self.match_id))  # if full: the next one comes

    # -- records --------------------------------------------------------------------
    _flush_task: asyncio.Task | None = None

    async def flush_due(self, msg: MatchFlushDue) -> None:
        """Write what the match owes its records, off the loop; one flush out at a time."""
        if self._flush_task is not None:
            return  # the last one is still out: the next one carries both seconds
        batch = self.records.batch(self.state, self.tick_lag.as_json())
        self._flush_task = self.loop.create_task(self._flush(self.records.flushes, batch))

    async def _flush(self, number: int, batch) -> MatchFlushed:
        try:
            ours, actions = await self.lane.run(records_flush.flush, batch, timeout=limits.DB_JOB_TIMEOUT_S)
            result = MatchFlushed(
                match=self.match_id,
                flush=number,
                ours=ours,
                actions=[OperatorVerdict(pk, msgspec.convert(v, verdicts.Verdict)) for pk, v in actions],
            )
        except Exception as exc:
            log.warning("match %s: flush failed; its records wait for the next: %r", self.match_id, exc)
            result = MatchFlushed(match=self.match_id, flush=number, error=repr(exc)[:200])
        if not self.disposed:  # disposed: the closing task reads the result instead
            await post(self.layer, self.channel, result, self.match_id)
        return result

    async def flushed(self, msg: MatchFlushed) -> None:
        """A flush came back: drop what it wrote, carry out new operator actions, or step down."""
        self._flush_task = None
        self.records.settle(self.state, msg.flush, ok=not msg.error and msg.ours)
        if msg.error:
            return
        if not msg.ours:
            self.step_down()
            return
        for action in msg.actions:
            if action.action in self.records.seen_actions:
                continue
            self.records.seen_actions.add(action.action)
            out = verdicts.apply(self.state, action.verdict)
            self.records.applied.append((action.action, out.result))
            await self._announce(out)

    async def audit_due(self, msg: MatchAuditDue) -> None:
        """Send the auditor a second's evidence; its verdicts come back as `match.verdicts`."""
        batch = self.state.audit_batch()
        if not batch["commands"] and not batch["trails"]:
            return
        # If the auditor is behind, this window goes unreviewed and play goes on.
        await self._send(AUDITOR_CHANNEL, AuditBatch(match=self.match_id, reply=self.channel, batch=batch))

    # -- sending ------------------------------------------------------------------
    def _full(self, cids: dict[int, str] | None = None) -> Snap:
        acks = {s.player: s.ack for s in self.state.seats.values()}
        return full_snap(self.state.world, now_ms(), acks, cids)

    async def _publish(self, snap: Snap) -> None:
        binary = any(b for _, b in self.sockets.values()) or any(self.spectators.values())
        text = any(not b for _, b in self.sockets.values()) or not all(self.spectators.values())
        msg = GameSnap(
            tick=snap.tick,
            full=snap.full,
            text=snap.text if text else None,
            data=snap.data if binary else None,
        )
        await self.bcast.group_send(self.group, pack(msg))

    async def _reject(self, reply: str, reject) -> None:
        msg = {"type": "reject", "seq": reject.seq, "code": reject.code, "message": reject.message}
        if reject.retry_ms is not None:
            msg["retry_ms"] = reject.retry_ms
        await self._send(reply, GameMessage(msg=msg))

    async def _send(self, channel: str, msg: Message) -> None:
        await send(self.layer, channel, msg, self.match_id)
