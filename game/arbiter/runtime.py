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
import itertools
import logging
import time
import uuid

import msgspec
from django.conf import settings

from game import limits, metrics
from game.arbiter import clock
from game.arbiter.auditor import audit
from game.arbiter.chat import Chat
from game.arbiter.pending import PendingRecords
from game.messages import (
    AUDITOR_CHANNEL,
    AuditBatch,
    Claim,
    GameEnded,
    GameKick,
    GameMessage,
    GameRejoin,
    GameReplaced,
    GameSnap,
    GameUnowned,
    GameWelcome,
    MatchAlive,
    MatchAuditDue,
    MatchChat,
    MatchCmd,
    MatchCmds,
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
    post,
)
from game.records import flush as records_flush
from game.records import ownership
from game.records.lane import Lane
from game.sim import inputlog, rules, verdicts
from game.sim.commands import Event
from game.sim.match import MatchState
from game.sim.world import World
from game.transport.broadcast import broadcast_layer, deliver, to_group
from game.transport.match_store import NOT_OURS, STALE_LOG, match_store
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
        self.epoch = claim.epoch  # the fencing token every record write names
        self.store = match_store()
        self.sockets: dict[int, tuple[str, bool]] = {}  # player -> (reply channel, binary)
        self.spectators: dict[str, bool] = {}  # reply channel -> binary
        self.heard: dict[str, float] = {}  # socket -> when it last said it is there
        self.records = PendingRecords(match_id, claim.epoch)
        self.chat_room = Chat()  # chat's rate limits; its lines are events, not input (game/arbiter/chat.py)
        # The input log's entries since the last checkpoint written (game/sim/inputlog.py):
        # what the store must hold, and what it is rewritten with if it lost them.
        self.tail: list[tuple[int, bytes]] = []
        self.log_synced = False  # the store holds `tail` up to `logged_tick`
        # Joins that came while the log was failing: a welcome then would show (and acknowledge)
        # what the log does not hold, so they wait for it (or, if the match went elsewhere, look again).
        self.held_joins: list[MatchJoin] = []
        self.logged_tick = -1
        self.log_retry_at = 0.0
        self.unpublished = False  # ticks went unpublished (the log was unreachable): send a keyframe
        self.flush_wanted = False
        self._flush_tick = 0  # the tick the flush that is out ends at (its checkpoint's, if it carries one)
        self.created_at = now
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
            MatchCmds: self.commands,
            MatchJoin: self.join,
            MatchLeave: self.leave,
            MatchResync: self.resync,
            MatchEnd: self.end,
            MatchNote: self.note,
            MatchRtt: self.round_trip,
            MatchChat: self.chat,
            MatchVerdicts: self.apply_verdicts,
            MatchFlushDue: self.flush_due,
            MatchFlushed: self.flushed,
            MatchAuditDue: self.audit_due,
            MatchAlive: self.alive,
        }

    @property
    def log_failing(self) -> bool:
        """The last append failed (a retry time is set only then): the state runs ahead of the log."""
        return not self.log_synced and self.log_retry_at > 0

    async def handle(self, msg: Message) -> None:
        """Apply one message to the match: the only way anything changes it."""
        await self._handlers[type(msg)](msg)

    # -- lifecycle --------------------------------------------------------------
    async def create(self, claim: Claim) -> None:
        """Load the checkpoint and replay the input log after it, start the match's timers
        (tick, flush, audit; they die with `dispose`) and, after an adoption, tell every
        socket of the match to join this owner."""
        kind = "adopt" if claim.adopted else "start"
        try:
            if claim.checkpoint:
                self.state.restore(claim.checkpoint, self.loop.time())
            self._replay(claim.tail)
            for seat in self.state.seats.values():  # the record may not have heard of them yet
                if seat.online:
                    self.records.presence[seat.player] = "joined"
            if claim.adopted:  # the log records where it went on from, for replays to check
                self.records.resumed = self.state.checkpoint(self.loop.time())
        except Exception as exc:
            log.exception("match %s: its checkpoint cannot be read; abandoned", self.match_id)
            await self.dispose(f"abandoned: its checkpoint could not be read ({type(exc).__name__})", True)
            return
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
        log.info(
            "match %s: %s by %s (epoch %d) at tick %d, %d log entries replayed",
            self.match_id,
            kind,
            self.channel,
            self.epoch,
            self.state.world.tick,
            len(self.tail),
        )
        metrics.OWNERSHIP.labels(kind).inc()
        if claim.adopted:
            await self._group(GameRejoin(arbiter=self.channel), everyone=True)

    def _replay(self, tail: list[bytes]) -> None:
        """Play the log's entries after the checkpoint (the database's, then the store's: ticks
        already played are skipped); a bad or missing entry ends the replay there."""
        entries = []
        for raw in tail:
            try:
                entries.append((inputlog.decode(raw), raw))
            except msgspec.ValidationError as exc:
                log.warning("match %s: log entry unreadable, replay stops there: %s", self.match_id, exc)
                break
        base = self.state.world.tick
        try:
            inputlog.replay(self.state, [e for e, _ in entries], self.loop.time())
        except inputlog.LogGap as exc:
            log.warning("match %s: %s", self.match_id, exc)
        kept: dict[int, bytes] = {}  # the database's entries and the store's may overlap: one a tick
        for e, raw in entries:
            if base < e.tick <= self.state.world.tick:
                kept.setdefault(e.tick, raw)
        self.tail = sorted(kept.items())

    async def join(self, msg: MatchJoin) -> None:
        """A socket joins: a player takes (or retakes) its seat, a spectator just watches."""
        if self.disposed:
            await self._send(msg.reply, GameEnded(reason="this match is over"))
            return
        if self.log_failing:
            self.held_joins = [j for j in self.held_joins if j.reply != msg.reply] + [msg]
            return
        binary, player = msg.enc == "msgpack", msg.player
        self.heard[msg.reply] = self.loop.time()
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
            if self.state.set_online(player, True):
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
            "chat": list(self.chat_room.recent),  # oldest first: what a late or returning socket missed
            "build": settings.BUILD_ID,  # a page built from other code is told to reload
        }

    async def leave(self, msg: MatchLeave) -> None:
        """A socket closed; a player's seat stays (they may come back while the match runs)."""
        player = msg.player
        self.heard.pop(msg.reply, None)
        if player is None:
            self.spectators.pop(msg.reply, None)
            return
        current = self.sockets.get(player)
        if current is None or current[0] != msg.reply:
            return  # an old socket that a newer one replaced
        del self.sockets[player]
        self._left(player, {})
        log.info("match %s: player %s left", self.match_id, player)
        await notify_lobby()

    def _left(self, player: int, why: dict) -> None:
        """The player's socket is gone (closed, silent, or never back after an adoption): recorded."""
        self._offline(player)
        self.state.events.append(Event(self.state.world.tick, "leave", player, why))

    def _offline(self, player: int) -> None:
        if self.state.set_online(player, False):
            self.records.presence[player] = "left"
        if not self.sockets:
            self.empty_since = self.loop.time()
        self.players_changed = True

    async def command(self, msg: MatchCmd) -> None:
        """Admit a command into the next tick's queue, or answer with a reject now."""
        reject = self.state.submit(msg.cmd, self.loop.time())
        if reject is not None:
            metrics.count(metrics.COMMANDS, reject.code)
            await self._reject(msg.reply, reject)

    async def commands(self, msg: MatchCmds) -> None:
        """Commands another process's sockets sent together (game/edge/forwarder.py), in order."""
        for cmd in msg.cmds:
            await self.command(cmd)

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

    async def chat(self, msg: MatchChat) -> None:
        """A player's chat line: to everyone on the match and into its events, never into the
        input log (it changes nothing in the world); or a refusal to its sender."""
        said = self.chat_room.say(self.state, msg.player, msg.text, self.loop.time())
        if said.refusal is not None:
            await self._send(msg.reply, GameMessage(msg=said.refusal))
        else:
            await self._group(GameMessage(msg=said.line))

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
            correction.update(by=out.by, action=out.action)
            await self._group(GameMessage(msg=correction))

    async def resync(self, msg: MatchResync) -> None:
        """Send one socket a full snap of the current tick."""
        if self.log_failing:
            return  # not a state the log holds; the first snap once it does is a full one
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
        result, entry, data = self._step(now)
        applied = sum(1 for op in entry.ops if isinstance(op, inputlog.Applied))
        if applied:
            metrics.count(metrics.COMMANDS, "accepted", applied)
        for reject in result.rejects:
            metrics.count(metrics.COMMANDS, reject.code)
            sock = self.sockets.get(reject.player)
            if sock is not None:
                await self._reject(sock[0], reject)
        # No snapshot (and so no ack) goes out before the log holds its tick.
        if not await self._log(entry.tick, data):
            self.unpublished = True
            if not self.disposed:
                await self._empty_check(now)
            return
        if result.tick % self.keyframe_every == 0 or self.unpublished:
            self.unpublished = False
            snap = self._full(result.changes.cids)
        else:
            snap = delta_snap(self.state.world, now_ms(), result.acks, result.changes)
        await self._publish(snap)
        if self.held_joins:  # the log holds this tick: they may see it now
            held, self.held_joins = self.held_joins, []
            for join in held:
                await self.join(join)
        lag = self.loop.time() - msg.due
        self.tick_lag.add(lag)
        metrics.TICK_LAG.observe(lag)
        if self.flush_wanted and self._flush_task is None:
            self.flush_wanted = False
            self._start_flush(now)
        if self.players_changed:
            self.players_changed = False
            players = {"type": "players", "players": self.state.players()}
            await self._group(GameMessage(msg=players))
        await self._empty_check(now)

    async def _empty_check(self, now: float) -> None:
        grace = settings.MATCH_EMPTY_GRACE_S
        if self.empty_since is not None and now - self.empty_since > grace:
            await self.dispose(f"no player for {grace:.0f} s")

    async def _log(self, tick: int, data: bytes) -> bool:
        """Append the tick's entry to the input log (renewing the lease with it); False if the
        store is unreachable or the match is no longer ours (then we step down)."""
        if not self.log_synced and self.loop.time() < self.log_retry_at:
            return False  # it just failed: do not spend every tick waiting on a dead store
        try:
            answer = STALE_LOG
            if self.log_synced:
                answer = await self.store.append(
                    self.match_id, self.channel, self.logged_tick, tick, data, len(self.tail)
                )
            if answer == STALE_LOG:  # a new owner, or the store lost entries: write the whole tail
                entries = [d for _, d in self.tail]
                answer = await self.store.rewrite(self.match_id, self.channel, tick, entries)
        except Exception as exc:
            if self.log_synced:
                log.warning("match %s: input log unreachable, snapshots wait for it: %r", self.match_id, exc)
            self.log_synced = False
            self.log_retry_at = self.loop.time() + 0.5
            return False
        if answer == NOT_OURS:
            self.step_down()
            return False
        if not self.log_synced and self.logged_tick >= 0:
            log.warning("match %s: input log written again (%d entries)", self.match_id, len(self.tail))
        self.log_synced, self.logged_tick = True, tick
        return True

    async def alive(self, msg: MatchAlive) -> None:
        """A socket says it is there; one this match does not know is asked to join again."""
        if msg.player is None:
            known = msg.reply in self.spectators
        else:
            known = self.sockets.get(msg.player, ("",))[0] == msg.reply
        if known:
            self.heard[msg.reply] = self.loop.time()
        else:
            await self._send(msg.reply, GameRejoin(arbiter=self.channel, known=False))

    def _sweep(self, now: float) -> None:
        """Seats whose socket went silent go offline: its server died, or its leave was lost."""
        silent = settings.SOCKET_SILENT_S
        if not self.log_synced:  # Redis is away: nobody can be heard, so silence says nothing
            self.heard = dict.fromkeys(self.heard, now)
            return
        for player, (reply, _) in list(self.sockets.items()):
            if now - self.heard.get(reply, now) > silent:
                del self.sockets[player]
                self.heard.pop(reply, None)
                self._left(player, {"reason": "silent"})
                log.info("match %s: player %s's socket went silent", self.match_id, player)
        for reply in [r for r in self.spectators if now - self.heard.get(r, now) > silent]:
            del self.spectators[reply]
            self.heard.pop(reply, None)
        if now - self.created_at > silent:  # seats a checkpoint had online whose socket never came back
            for seat in self.state.seats.values():
                if seat.online and seat.player not in self.sockets:
                    self._left(seat.player, {"reason": "not back"})

    async def dispose(self, reason: str, abandoned: bool = False) -> None:
        """The match is over: stop the timers, then (off the loop) close the record and tell every socket."""
        if self.disposed:
            return
        await self._seal()
        if self.disposed:  # the seal found the match taken elsewhere: not ours to close
            return
        self.disposed = self.ending = True
        self.state.ended = True
        self._stop_timers()
        held, self.held_joins = self.held_joins, []
        for join in held:
            await self._send(join.reply, GameEnded(reason="this match is over"))
        self.state.events.append(Event(self.state.world.tick, "end", None, {"reason": reason}))
        log.info("match %s: ended (%s) at tick %d", self.match_id, reason, self.state.world.tick)
        close = self._close_record(reason, abandoned)
        self._tasks.append(self.loop.create_task(close, name=f"close {self.match_id}"))

    async def _seal(self) -> None:
        """Changes made since the last tick (a join, a verdict, queued commands) go into one
        last logged tick, so the log ends exactly where the final state does."""
        if self.logged_tick < 0 or not (self.state.inputs or self.state.queue):
            return
        _, entry, data = self._step(self.loop.time())
        await self._log(entry.tick, data)  # if the store is away, the final chunk still has it

    def _step(self, now: float):
        """One tick of the rules, and its input log entry kept in the tail (`_log` sends it)."""
        result = self.state.tick(now)
        entry = self.state.take_entry()
        data = inputlog.encode(entry)
        self.tail.append((entry.tick, data))
        return result, entry, data

    def step_down(self) -> None:
        """Another arbiter owns the match now: stop, quietly. Its sockets are the new owner's:
        they learn so (game.unowned) the next time they talk to this worker, and find it."""
        if self.disposed:
            return
        self.disposed = True
        self._stop_timers()
        if self.held_joins:  # they find the new owner
            held, self.held_joins = self.held_joins, []
            self._tasks.append(self.loop.create_task(self._unowned(held), name=f"unowned {self.match_id}"))
        log.warning("match %s: another arbiter owns it now; stepping down", self.match_id)
        metrics.OWNERSHIP.labels("step_down").inc()
        if self._on_gone is not None:
            self._on_gone()

    async def hand_off(self) -> None:
        """The worker is stopping: final checkpoint, lease released, every socket told to join
        whichever arbiter takes the match next. Acknowledged input is all in the log already."""
        if self.disposed:
            await asyncio.gather(*self._tasks, return_exceptions=True)  # a closing match closes
            return
        await self._seal()
        if self.disposed:
            return
        self.disposed = True
        self._stop_timers()
        try:  # bounded: the worker must be gone within 10 s of SIGTERM
            if self._flush_task is not None:
                out = await asyncio.wait_for(asyncio.shield(self._flush_task), 1.5)
                self.records.settle(self.state, out.flush, ok=not out.error and out.ours)
            lag, now = self.tick_lag.as_json(), self.loop.time()
            batch = self.records.batch(self.state, lag, now, hand_off=True, log=self.tail)
            await self.lane.run(records_flush.flush, batch, timeout=2.0)
        except Exception as exc:  # the log and the last checkpoint still carry the match
            log.warning("match %s: final checkpoint not written: %r", self.match_id, exc)
        try:
            await self.store.release(self.match_id, self.channel)
        except Exception as exc:
            log.warning("match %s: lease not released (it lapses): %r", self.match_id, exc)
        await self._group(GameRejoin(arbiter=""), everyone=True)
        held, self.held_joins = self.held_joins, []
        await self._unowned(held)
        log.warning("match %s: handed over at tick %d", self.match_id, self.state.world.tick)
        metrics.OWNERSHIP.labels("hand_off").inc()
        if self._on_gone is not None:
            self._on_gone()

    async def _unowned(self, joins: list[MatchJoin]) -> None:
        for join in joins:
            await self._send(join.reply, GameUnowned())

    def _stop_timers(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    async def _close_record(self, reason: str, abandoned: bool = False) -> None:
        """Write the last events and finish the record, retrying a failed write; then say so."""
        try:
            state, pause = self.state, 0.5
            if self._flush_task is not None:  # let the flush that is out land (or fail) first
                out = await self._flush_task
                self.records.settle(state, out.flush, ok=not out.error and out.ours)
            for attempt in range(1, limits.FINISH_TRIES + 1):
                try:
                    if state.events or self.records.presence or self.tail:
                        lag = self.tick_lag.as_json()
                        batch = self.records.batch(state, lag, self.loop.time(), final=True, log=self.tail)
                        ours, _ = await self.lane.run(
                            records_flush.flush, batch, timeout=limits.DB_JOB_TIMEOUT_S
                        )
                        self.records.settle(state, self.records.flushes, ok=True)
                        if not ours:
                            break  # adopted elsewhere meanwhile: the record is not ours to close
                    await self.lane.run(
                        ownership.finish_match,
                        self.match_id,
                        self.epoch,
                        state.world.tick,
                        len(state.world.entities),
                        reason,
                        abandoned,
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
            await self._group(GameEnded(reason=reason), everyone=True)
            try:
                await self.store.drop(self.match_id)
            except Exception as exc:  # the lease lapses and the log expires by themselves
                log.warning("match %s: lease and log not dropped: %r", self.match_id, exc)
            await notify_lobby()
        finally:
            if self._on_gone is not None:
                self._on_gone()

    # -- timers: they only send messages ---------------------------------------------
    async def _tick_timer(self) -> None:
        """Send `match.tick` to our own channel at the match's rate, drift-corrected."""

        async def send_tick(due: float) -> None:  # a full or failing layer must not kill the clock
            await self._send(self.channel, MatchTick(match=self.match_id, due=due))

        await clock.every(self.tick_rate, send_tick, self.store.tick_phase)

    async def _timer(self, every_s: float, kind) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self._send(self.channel, kind(match=self.match_id))  # if full: the next one comes

    # -- records --------------------------------------------------------------------
    _flush_task: asyncio.Task | None = None
    _review_task: asyncio.Task | None = None

    async def flush_due(self, msg: MatchFlushDue) -> None:
        """Once a second: look for silent sockets, and have the next tick start a flush (the
        checkpoint is taken right after a tick's log entry, so the log continues it)."""
        self._sweep(self.loop.time())
        self.flush_wanted = True  # if one is still out, the next one carries both seconds
        metrics.MATCH_PLAYERS.labels(self.match_id).set(len(self.sockets))
        metrics.MATCH_CUBES.labels(self.match_id).set(len(self.state.world.entities))
        metrics.MATCH_TICK.labels(self.match_id).set(self.state.world.tick)

    def _start_flush(self, now: float) -> None:
        """Write what the match owes its records, off the loop; one flush out at a time."""
        batch = self.records.batch(self.state, self.tick_lag.as_json(), now, log=self.tail)
        self._flush_tick = batch.tick
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
        sent = self.records.in_flight
        settled = self.records.settle(self.state, msg.flush, ok=not msg.error and msg.ours)
        if settled and not msg.error and sent.checkpoint:
            self.tail = [(t, d) for t, d in self.tail if t > self._flush_tick]  # the checkpoint has them
        if msg.error:
            self._bound_pending()
            return
        if not msg.ours:
            self.step_down()
            return
        if sent is not None and sent.number == msg.flush and sent.presence:
            await notify_lobby()  # its seats' online flags are written: the lobby's who's online
        for action in msg.actions:
            if action.action in self.records.seen_actions:
                continue
            self.records.seen_actions.add(action.action)
            out = verdicts.apply(self.state, action.verdict)
            self.records.applied.append((action.action, out.result))
            await self._announce(out)

    def _bound_pending(self) -> None:
        """The database is away: keep its events in memory, up to a bound (minutes of a busy match)."""
        over = len(self.state.events) - limits.PENDING_EVENTS_MAX
        if over > 0:
            del self.state.events[:over]
            log.error("match %s: database away too long; %d oldest events dropped", self.match_id, over)

    async def audit_due(self, msg: MatchAuditDue) -> None:
        """Have a second's evidence reviewed, in a thread here or by an auditor process; the
        verdicts come back as `match.verdicts` either way."""
        batch = self.state.audit_batch()
        if not batch["commands"] and not batch["trails"]:
            return
        if not settings.AUDIT_IN_PROCESS:  # if the auditors are behind, this window goes unreviewed
            audit_batch = AuditBatch(match=self.match_id, reply=self.channel, batch=batch)
            await self._send(AUDITOR_CHANNEL, audit_batch)
        elif self._review_task is None or self._review_task.done():  # else the last one is still out: skipped
            self._review_task = self.loop.create_task(self._review(batch), name=f"review {self.match_id}")
        else:
            metrics.count(metrics.AUDITS, "skipped")

    async def _review(self, batch: dict) -> None:
        """Review a batch in a thread; the verdicts come back as a message, as an auditor's do."""
        try:
            found = await audit(self.match_id, batch)
        except Exception:
            metrics.count(metrics.AUDITS, "failed")
            log.exception("match %s: a review failed; that window goes unreviewed", self.match_id)
            return
        metrics.count(metrics.AUDITS, "reviewed")
        if found and not self.disposed:
            found_msg = MatchVerdicts(match=self.match_id, verdicts=found)
            await post(self.layer, self.channel, found_msg, self.match_id)

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
        if text:
            metrics.count(metrics.SNAPSHOT_BYTES, "json", len(msg.text))
        if binary:
            metrics.count(metrics.SNAPSHOT_BYTES, "msgpack", len(msg.data))
        await self._group(msg)

    async def _group(self, msg: Message, everyone: bool = False) -> None:
        """To every socket of the match; a layer that fails is logged, never raised (a Redis
        outage must not count as the match's handler failing). Unless `everyone` (a rejoin or
        an end, which sockets this owner does not know yet must hear too), nothing is published
        when every socket it knows is in this process (affinity: snaps stay off Redis)."""
        members = None
        if not everyone:
            members = itertools.chain((r for r, _ in self.sockets.values()), self.spectators)
        try:
            await to_group(self.bcast, self.group, msg, members)
        except Exception as exc:
            if self.log_synced:
                log.warning("match %s: group send failed: %r", self.match_id, exc)

    async def _reject(self, reply: str, reject) -> None:
        msg = {"type": "reject", "seq": reject.seq, "code": reject.code, "message": reject.message}
        if reject.retry_ms is not None:
            msg["retry_ms"] = reject.retry_ms
        await self._send(reply, GameMessage(msg=msg))

    async def _send(self, address: str, msg: Message) -> None:
        """To a socket (through its process's fan-out) or a channel (ours, the auditor's)."""
        await deliver(self.layer, address, msg, self.match_id)
