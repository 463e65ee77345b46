"""A match owned by this arbiter: its rules engine, its sockets and its timers.

Lifecycle, in order: create (timers start), join / leave (sockets come and go), tick (at
the match's rate), dispose (timers stop, the record is closed). The arbiter consumer
calls these one at a time from its single dispatch loop, so nothing here needs a lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from game import limits
from lobby import limits as match_limits
from game.arbiter import clock
from game.records import flush as records_flush, ownership
from game.arbiter.auditor import AUDITOR_CHANNEL
from game.transport.broadcast import broadcast_layer
from game.wire.protocol import command_from_wire
from game.sim.commands import Event
from game.sim.match import MatchState
from game.sim.world import World
from game.wire.snapshots import Snap, delta_snap, encode, full_snap
from lobby.ticklag import TickLag
from lobby.notify import notify_lobby

log = logging.getLogger("game.arbiter")


def now_ms() -> int:
    return int(time.time() * 1000)


class MatchRuntime:
    """One match's live state inside one arbiter worker."""

    def __init__(self, match_id: str, channel: str, layer, claim: ownership.Claim, on_dispose=None):
        self.match_id = match_id
        self.channel = channel  # the owning arbiter's own channel: ticks are sent here
        self.layer = layer
        self.bcast = broadcast_layer()  # group sends; `layer` carries direct sends and ticks
        self.group = f"match.{uuid.UUID(match_id).hex}"
        self.tick_rate = claim.tick_rate
        self.loop = asyncio.get_running_loop()
        now = self.loop.time()
        self.state = MatchState(World(claim.arena[0], claim.arena[1], match_limits.DEFAULT_SPEED, claim.tick_rate))
        if claim.checkpoint:
            self.state.restore(claim.checkpoint, now)
        self.sockets: dict[int, tuple[str, bool]] = {}  # player -> (reply channel, binary)
        self.spectators: dict[str, bool] = {}  # reply channel -> binary
        self.presence: dict[int, str] = {}  # seats whose online flag changed since the last flush
        self.written: dict[int, tuple] = {}  # counters as last flushed, per seat
        self.empty_since: float | None = now
        self.keyframe_every = max(1, round(limits.KEYFRAME_EVERY_S * self.tick_rate))
        self.tick_lag = TickLag()
        self.failures = 0
        self.players_changed = False
        self.disposed = False
        self._tasks: list[asyncio.Task] = []
        self._on_dispose = on_dispose

    # -- lifecycle --------------------------------------------------------------
    def create(self, adopted: bool) -> None:
        """Start the match's timers (tick and flush); they die with `dispose`."""
        kind = "adopt" if adopted else "start"
        self.state.events.append(Event(self.state.world.tick, kind, None, {"arbiter": self.channel}))
        self._tasks = [
            self.loop.create_task(self._tick_timer(), name=f"tick {self.match_id}"),
            self.loop.create_task(self._flush_timer(), name=f"flush {self.match_id}"),
            self.loop.create_task(self._audit_timer(), name=f"audit {self.match_id}"),
        ]
        log.info("match %s: %s by %s at tick %d", self.match_id, kind, self.channel, self.state.world.tick)

    async def join(self, msg: dict) -> None:
        """A socket joins: a player takes (or retakes) its seat, a spectator just watches."""
        reply, binary, player = msg["reply"], msg.get("enc") == "msgpack", msg.get("player")
        now = self.loop.time()
        if player is None:
            self.spectators[reply] = binary
        else:
            seat = self.state.seat(player, msg["nickname"], msg["color"], now)
            if seat.kicked:
                await self._send(reply, {"type": "game.kick", "code": 4430, "reason": "you were removed from this match"})
                return
            old = self.sockets.get(player)
            if old is not None and old[0] != reply:
                await self._send(old[0], {"type": "game.replaced"})
            self.sockets[player] = (reply, binary)
            if not seat.online:
                seat.online = True
                self.presence[player] = "joined"
                self.state.events.append(Event(self.state.world.tick, "join", player, {}))
            self.empty_since = None
            log.info("match %s: player %s joined", self.match_id, player)
        await self._send(reply, {"type": "game.welcome", "tick": self.state.world.tick, "arbiter": self.channel,
                                 "payload": encode(self._welcome(player, binary), binary)})
        if player is not None:
            self._broadcast_players()
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

    async def leave(self, msg: dict) -> None:
        """A socket closed; a player's seat stays (they may come back while the match runs)."""
        reply, player = msg["reply"], msg.get("player")
        if player is None:
            self.spectators.pop(reply, None)
            return
        current = self.sockets.get(player)
        if current is None or current[0] != reply:
            return  # an old socket that a newer one replaced
        del self.sockets[player]
        seat = self.state.seats[player]
        seat.online = False
        self.presence[player] = "left"
        self.state.events.append(Event(self.state.world.tick, "leave", player, {}))
        if not self.sockets:
            self.empty_since = self.loop.time()
        log.info("match %s: player %s left", self.match_id, player)
        self._broadcast_players()
        await notify_lobby()

    async def command(self, msg: dict) -> None:
        """Admit a command into the next tick's queue, or answer with a reject now."""
        cmd = command_from_wire(msg["cmd"])
        reject = self.state.submit(cmd, self.loop.time())
        if reject is not None:
            await self._reject(msg["reply"], reject)

    def note(self, kind: str, player: int | None, payload: dict) -> None:
        """Record a refusal the socket made on its own (bad frames), with the match's events."""
        seat = self.state.seats.get(player) if player is not None else None
        if seat is not None:
            seat.rejected += 1
        self.state.events.append(Event(self.state.world.tick, kind, player, payload))

    def round_trip(self, player: int, ms: float) -> None:
        seat = self.state.seats.get(player)
        if seat is not None:
            seat.rtt_ms.append(ms)

    async def apply_verdicts(self, verdicts: list[dict]) -> list[str]:
        """Carry out the auditor's or an operator's verdicts; each is recorded with its evidence."""
        results = []
        tick = self.state.world.tick
        for v in verdicts:
            kind, player, ids = v["kind"], v.get("player"), v.get("ids", [])
            payload = {"rule": v["rule"], "ids": ids, "evidence": v.get("evidence", {})}
            if kind == "correction":
                done = [i for i in ids if self.state.place(i, *v["to"])]
                payload["to"] = v["to"]
                await self._correction(done, f"{v['rule']}: moved back by the server")
                results.append(f"moved {done}")
            elif kind == "removal":
                done = [i for i in ids if self.state.remove(i)]
                await self._correction(done, f"{v['rule']}: removed by the server")
                results.append(f"removed {done}")
            elif kind == "warning":
                seat = self.state.seats.get(player)
                if seat is not None:
                    seat.strikes += 1
                results.append("warned")
            elif kind == "kick":
                results.append(await self.kick(player, v["rule"]))
                continue  # kick records its own event
            self.state.events.append(Event(tick, "correction" if kind == "removal" else kind, player, payload))
        return results

    async def kick(self, player: int | None, rule: str) -> str:
        """Remove a player from the match for good: socket closed (4430), cubes removed, seat barred."""
        seat = self.state.seats.get(player) if player is not None else None
        if seat is None or seat.kicked:
            return "no such player"
        seat.kicked = True
        gone = [e.id for e in self.state.world.owned_by(player)]
        for ent_id in gone:
            self.state.remove(ent_id)
        self.state.events.append(Event(self.state.world.tick, "kick", player, {"rule": rule, "removed": gone}))
        sock = self.sockets.pop(player, None)
        if sock is not None:
            await self._send(sock[0], {"type": "game.kick", "code": 4430, "reason": f"removed from the match ({rule})"})
        if seat.online:
            seat.online = False
            self.presence[player] = "left"
        await self._correction(gone, f"{rule}: player removed")
        self._broadcast_players()
        log.warning("match %s: player %s kicked (%s)", self.match_id, player, rule)
        return f"kicked, removed {len(gone)} cubes"

    async def _correction(self, ids: list[int], reason: str) -> None:
        if ids:
            await self.bcast.group_send(self.group, {"type": "game.message",
                                                     "msg": {"type": "correction", "ids": ids, "reason": reason}})

    async def resync(self, msg: dict) -> None:
        """Send one socket a full snap of the current tick."""
        binary = msg.get("enc") == "msgpack"
        snap = self._full()
        await self._send(msg["reply"], {"type": "game.snap", "tick": snap.tick, "full": True,
                                        "text": None if binary else snap.text, "data": snap.data if binary else None})

    async def tick(self, msg: dict) -> None:
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
        self.tick_lag.add(self.loop.time() - msg["due"])
        if self.players_changed:
            self.players_changed = False
            await self.bcast.group_send(self.group, {"type": "game.message",
                                                     "msg": {"type": "players", "players": self.state.players()}})
        if self.empty_since is not None and now - self.empty_since > limits.EMPTY_MATCH_TIMEOUT_S:
            await self.dispose(f"no player for {limits.EMPTY_MATCH_TIMEOUT_S:.0f} s")

    async def dispose(self, reason: str, record: bool = True) -> None:
        """Stop the timers, tell every socket, and close the record."""
        if self.disposed:
            return
        self.disposed = True
        self.state.ended = True
        if self._on_dispose is not None:
            self._on_dispose()
        for task in self._tasks:
            task.cancel()
        log.info("match %s: ended (%s) at tick %d", self.match_id, reason, self.state.world.tick)
        if record:
            self.state.events.append(Event(self.state.world.tick, "end", None, {"reason": reason}))
            await self.flush()
            await ownership.finish_match(self.match_id, self.channel, self.state.world.tick,
                                       len(self.state.world.entities), reason)
        await self.bcast.group_send(self.group, {"type": "game.ended", "reason": reason})
        await notify_lobby()

    # -- timers ---------------------------------------------------------------------
    async def _tick_timer(self) -> None:
        """Send `match.tick` to our own channel at the match's rate, drift-corrected."""

        async def send_tick(due: float) -> None:
            try:
                await self.layer.send(self.channel, {"type": "match.tick", "match": self.match_id, "due": due})
            except Exception:  # a full or failing layer must not kill the clock
                log.exception("match %s: tick message not sent", self.match_id)

        await clock.every(self.tick_rate, send_tick)

    async def _flush_timer(self) -> None:
        while True:
            await asyncio.sleep(limits.FLUSH_EVERY_S)
            try:
                if not await self.flush():
                    log.warning("match %s: another arbiter owns it now; stepping down", self.match_id)
                    await self.dispose("adopted elsewhere", record=False)
                    return
            except Exception:
                log.exception("match %s: flush failed; will retry", self.match_id)

    async def _audit_timer(self) -> None:
        """Send the auditor a second's evidence; its verdicts come back as `match.verdicts`."""
        while True:
            await asyncio.sleep(limits.AUDIT_EVERY_S)
            batch = self.state.audit_batch()
            if not batch["commands"] and not batch["trails"]:
                continue
            try:
                await self.layer.send(AUDITOR_CHANNEL, {"type": "audit.batch", "match": self.match_id,
                                                        "reply": self.channel, "batch": batch})
            except Exception:  # the auditor is behind: this window goes unreviewed, play goes on
                log.warning("match %s: audit batch dropped", self.match_id)

    async def flush(self) -> bool:
        """Write events, changed counters and the heartbeat with checkpoint, in one batch."""
        state = self.state
        events = state.take_events()
        seats = []
        for seat in state.seats.values():
            counters = (seat.ack, seat.spawned, seat.deleted, seat.moves, seat.rejected, seat.kicked)
            presence = self.presence.pop(seat.player, None)
            if presence is None and self.written.get(seat.player) == counters:
                continue
            self.written[seat.player] = counters
            seats.append(records_flush.SeatRecord(seat.player, presence, *counters))
        checkpoint = None if self.disposed else state.checkpoint()
        ours, actions = await records_flush.flush(self.match_id, self.channel, state.world.tick, checkpoint, events, seats,
                                            self.tick_lag.as_json())
        if ours and actions and not self.disposed:
            results = [(pk, "; ".join(await self.apply_verdicts([verdict]))) for pk, verdict in actions]
            await records_flush.mark_actions_applied(results)
        return ours

    # -- sending ------------------------------------------------------------------
    def _full(self, cids: dict[int, str] | None = None) -> Snap:
        acks = {s.player: s.ack for s in self.state.seats.values()}
        return full_snap(self.state.world, now_ms(), acks, cids)

    async def _publish(self, snap: Snap) -> None:
        binary = any(b for _, b in self.sockets.values()) or any(self.spectators.values())
        text = any(not b for _, b in self.sockets.values()) or not all(self.spectators.values())
        await self.bcast.group_send(self.group, {
            "type": "game.snap", "tick": snap.tick, "full": snap.full,
            "text": snap.text if text else None, "data": snap.data if binary else None,
        })

    def _broadcast_players(self) -> None:
        """Send the player list with the next tick: a burst of joins costs one list, not N."""
        self.players_changed = True

    async def _reject(self, reply: str, reject) -> None:
        msg = {"type": "reject", "seq": reject.seq, "code": reject.code, "message": reject.message}
        if reject.retry_ms is not None:
            msg["retry_ms"] = reject.retry_ms
        await self._send(reply, {"type": "game.message", "msg": msg})

    async def _send(self, channel: str, message: dict) -> None:
        try:
            await self.layer.send(channel, message)
        except Exception:  # ChannelFull: that socket falls behind, the match goes on
            log.warning("match %s: could not send %s to %s", self.match_id, message["type"], channel)
