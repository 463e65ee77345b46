"""One match's rules engine: seats, the command queue, and the tick.

`submit` admits or refuses a command as it arrives; `tick` applies the queue through the
tick rules, steps the world, and reports what a snapshot must carry. No clock is read:
the arbiter passes the time in.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections import deque
from dataclasses import dataclass, field

from game import limits

from .commands import Command, Event, Reject
from .inputlog import LOG_VERSION, Applied, Entry, Kicked, Placed, Present, Removed, Seated, Struck
from .rates import SlidingWindow, TokenBucket
from .rules import ADMISSION_RULES, TICK_RULES
from .seat import Seat
from .world import Changes, World, step_entity


@dataclass(slots=True)
class TickResult:
    tick: int
    changes: Changes
    acks: dict[int, int]
    rejects: list[Reject] = field(default_factory=list)


class MatchState:
    """Seats, queue and world of one match."""

    def __init__(self, world: World, cube_cap: int = limits.CUBE_CAP_PER_PLAYER, creator: int | None = None):
        self.world = world
        self.creator = creator  # the player who may end the match (rules.may_end)
        self.cube_cap = cube_cap
        self.seats: dict[int, Seat] = {}
        self.queue: list[Command] = []
        self.events: list[Event] = []
        self._acks_changed: set[int] = set()
        self.ended = False
        # Lag compensation: entity positions at the end of each of the last W ticks.
        self.window = math.floor(limits.LAG_WINDOW_S * world.tick_rate)
        self.history: deque[tuple[int, dict[int, tuple[float, float]]]] = deque(maxlen=self.window + 1)
        # The auditor's evidence since the last batch (see game/sim/audit.py).
        self.accepted: list[tuple] = []  # (player, seq, op, ids, claimed, applied, tick)
        self.trails: dict[int, list[tuple]] = {}  # watched cube -> [(tick, x, z), ...]
        self.placed: list[tuple[int, int]] = []  # (id, tick) of authoritative placements
        self.refused: dict[int, int] = {}
        self.born: dict[int, int] = {}
        self.audit_from = world.tick
        # The input log (game/sim/inputlog.py): what changed the world since the last entry.
        self.inputs: list = []
        self._logged: dict[int, tuple[int, int, int]] = {}  # (seq, ack, rejected) as last logged
        self._steered: list[tuple[int, tuple[int, ...]]] = []  # (applied tick, ids) of this tick's steers
        self._steer_check = 0  # the last step's check of them (see steer_check), for take_entry

    # -- seats -------------------------------------------------------------
    def seat(self, player: int, nickname: str, color: str, now: float) -> Seat:
        """The player's seat, made on first join; kept while the match runs."""
        seat = self.seats.get(player)
        if seat is None:
            seat = Seat(
                player,
                nickname,
                color,
                TokenBucket(limits.CMD_RATE_PER_S, limits.CMD_BURST, now),
                SlidingWindow(limits.SPAWNS_PER_S),
            )
            self.seats[player] = seat
            self.inputs.append(Seated(player, nickname, color))
        return seat

    def players(self) -> list[dict]:
        counts: dict[int, int] = {}
        for ent in self.world.entities.values():
            counts[ent.owner] = counts.get(ent.owner, 0) + 1
        return [s.public(counts.get(s.player, 0)) for s in self.seats.values()]

    # -- commands ------------------------------------------------------------
    def submit(self, cmd: Command, now: float) -> Reject | None:
        """Admit a command into the queue for the next tick, or refuse it at once."""
        seat = self.seats.get(cmd.player)
        if seat is None:
            return Reject(cmd.player, cmd.seq, "bad_message", "you have no seat in this match")
        if self.ended:
            return self._refuse(seat, cmd, ("match_ended", "the match is over", None))
        refusal = None
        for rule in ADMISSION_RULES:
            refusal = rule(self, seat, cmd, now)
            if refusal is not None:
                break
        if refusal is not None and refusal[0] == "stale_seq":
            return self._refuse(seat, cmd, refusal, ack=False)  # not a new number
        seat.seq = cmd.seq
        if refusal is not None:
            return self._refuse(seat, cmd, refusal)
        self.queue.append(cmd)
        return None

    def _refuse(self, seat: Seat, cmd: Command, refusal: tuple, ack: bool = True) -> Reject:
        code, message, retry_ms = refusal
        seat.rejected += 1
        self.refused[seat.player] = self.refused.get(seat.player, 0) + 1
        if ack:
            self._ack(seat, cmd.seq)
        self.events.append(
            Event(self.world.tick, "reject", seat.player, {"seq": cmd.seq, "op": cmd.op, "code": code})
        )
        return Reject(cmd.player, cmd.seq, code, message, retry_ms)

    def _ack(self, seat: Seat, seq: int) -> None:
        if seq > seat.ack:
            seat.ack = seq
            self._acks_changed.add(seat.player)

    # -- the tick ------------------------------------------------------------
    def tick(self, now: float) -> TickResult:
        """Apply queued commands through the tick rules, then step the world once."""
        queue, self.queue = self.queue, []
        rejects = []
        for cmd in queue:
            seat = self.seats[cmd.player]
            refusal = None
            for rule in TICK_RULES:
                refusal = rule(self, seat, cmd, now)
                if refusal is not None:
                    break
            if refusal is not None:
                rejects.append(self._refuse(seat, cmd, refusal))
                continue
            self._apply(seat, cmd)
            self._ack(seat, cmd.seq)
        self.step()
        acks = {p: self.seats[p].ack for p in self._acks_changed}
        self._acks_changed = set()
        return TickResult(self.world.tick, self.world.take_changes(), acks, rejects)

    def step(self) -> None:
        """Step the world once and keep what lag compensation and the auditor need of it."""
        self.world.step()
        if self.window:
            self.history.append((self.world.tick, {e.id: (e.x, e.z) for e in self.world.entities.values()}))
        self._record_trails()
        self._steer_check = self.steer_check()

    def apply_logged(self, cmd: Command) -> None:
        """Apply a command the log says was accepted (a replay: the rules passed it then)."""
        self._apply(self.seats[cmd.player], cmd)

    def take_entry(self) -> Entry:
        """This tick's input log entry: the ops since the last one and the seats that changed."""
        ops, self.inputs = self.inputs, []
        changed = {}
        for seat in self.seats.values():
            now = (seat.seq, seat.ack, seat.rejected)
            if self._logged.get(seat.player) != now:
                changed[seat.player] = self._logged[seat.player] = now
        check, self._steer_check = self._steer_check, 0
        return Entry(LOG_VERSION, self.world.tick, ops, changed, check)

    def steer_check(self) -> int:
        """A check of what the moves and nudges since the last step decided (the log entry's
        `steered`): a crc32 over each one's applied tick (a backdated command rewinds its cubes
        to that tick and fast-forwards them, so it decides where they stand) and each of its
        cubes' id, position and target as they are now, after the step (a cube removed since is
        left out); 0 when nothing was steered. Integers and the coordinates' exact doubles,
        packed little-endian: the same on every machine that steps the same."""
        steered, self._steered = self._steered, []
        if not steered:
            return 0
        ents = self.world.entities
        ints: list[int] = []
        coords: list[float] = []
        for applied, ids in steered:
            ints.append(applied)
            for ent_id in ids:
                ent = ents.get(ent_id)
                if ent is not None:
                    ints.append(ent_id)
                    coords += (ent.x, ent.z, ent.tx, ent.tz)
        crc = zlib.crc32(struct.pack(f"<{len(ints)}q", *ints))
        return zlib.crc32(struct.pack(f"<{len(coords)}d", *coords), crc)

    def _apply(self, seat: Seat, cmd: Command) -> None:
        self.inputs.append(Applied(cmd))
        world = self.world
        tick = world.tick + 1  # the tick this command belongs to
        if cmd.op == "spawn":
            ent = world.spawn(seat.player, cmd.point[0], cmd.point[1], cmd.cid)
            self.born[ent.id] = tick
            seat.spawned += 1
            self.events.append(Event(tick, "spawn", seat.player, {"id": ent.id, "at": [ent.x, ent.z]}))
        elif cmd.op in ("move", "nudge"):
            self._steer(seat, cmd)
            seat.moves += 1
        elif cmd.op == "delete":
            for ent_id in cmd.ids:
                world.remove(ent_id)
                self.born.pop(ent_id, None)
            seat.deleted += len(cmd.ids)
            self.events.append(Event(tick, "delete", seat.player, {"ids": list(cmd.ids)}))

    def applied_as_of(self, seat: Seat, claimed: int) -> int:
        """The tick a move or nudge takes effect as of (PROTOCOL.md lag compensation)."""
        now = self.world.tick
        oldest = max(now - self.window, seat.applied_tick, self.history[0][0] if self.history else now)
        if claimed > now or claimed < max(now - self.window, seat.applied_tick):
            seat.lag_clamped += 1  # a future tick, or further back than allowed
        return min(now, max(claimed, oldest))

    def _steer(self, seat: Seat, cmd: Command) -> None:
        """Retarget cubes as of the applied tick, then fast-forward them to now."""
        world = self.world
        applied = self.applied_as_of(seat, cmd.tick)
        seat.applied_tick = applied
        past = None
        if applied < world.tick:
            past = next(positions for tick, positions in self.history if tick == applied)
        elapsed = world.tick - applied
        if cmd.op == "nudge":
            dx, dz = cmd.point
            norm = math.sqrt(dx * dx + dz * dz)
            ux, uz = dx / norm * limits.NUDGE_DISTANCE, dz / norm * limits.NUDGE_DISTANCE
        # The ticks after `applied`: their positions are rewritten as the cube now went, so a
        # later command rewinding into them starts from this path, not the superseded one.
        later = list(self.history)[len(self.history) - elapsed :] if past is not None else []
        slots = world.move_targets(cmd)  # a formation's slots, or None
        for i, ent_id in enumerate(cmd.ids):
            ent = world.entities[ent_id]
            self._watch(ent)
            then = past.get(ent_id) if past is not None else None
            if then is not None:
                ent.x, ent.z = then
            if cmd.op == "nudge":
                world.retarget(ent, ent.x + ux, ent.z + uz)
            elif slots is not None:
                world.retarget(ent, slots[i][0], slots[i][1])
            else:
                world.retarget(ent, cmd.point[0], cmd.point[1])
            if then is not None:
                for _, positions in later:
                    step_entity(ent, world.step_len)
                    positions[ent_id] = (ent.x, ent.z)
        self.accepted.append((seat.player, cmd.seq, cmd.op, cmd.ids, cmd.tick, applied, world.tick))
        self._steered.append((applied, cmd.ids))

    # -- evidence for the auditor -------------------------------------------------
    def _watch(self, ent) -> None:
        if ent.id not in self.trails and len(self.trails) < limits.AUDIT_WATCH_MAX:
            self.trails[ent.id] = [(self.world.tick, ent.x, ent.z)]  # where it stood before the command

    def _record_trails(self) -> None:
        # Tuples, not lists: a thousand a tick at 200 players, and the collector stops tracking
        # a tuple of numbers at its first look (a list it walks until the list is gone).
        entities, tick = self.world.entities, self.world.tick
        for ent_id, trail in self.trails.items():
            ent = entities.get(ent_id)
            if ent is not None:
                trail.append((tick, ent.x, ent.z))

    def place(self, ent_id: int, x: float, z: float) -> bool:
        """An authoritative placement (a correction); False if the cube is gone."""
        ent = self.world.entities.get(ent_id)
        if ent is None:
            return False
        self.inputs.append(Placed(ent_id, x, z))
        self.world.place(ent, x, z)
        self.placed.append((ent_id, self.world.tick + 1))
        # No command may rewind the cube to before the correction (the client's mirror forgets
        # a corrected cube's history too, so both then apply such a command as of now).
        for _, positions in self.history:
            positions.pop(ent_id, None)
        return True

    def remove(self, ent_id: int) -> bool:
        self.born.pop(ent_id, None)
        if self.world.remove(ent_id) is None:
            return False
        self.inputs.append(Removed(ent_id))
        return True

    def strike(self, player: int) -> None:
        """A warning from the auditor counts against the player."""
        seat = self.seats.get(player)
        if seat is not None:
            seat.strikes += 1
            self.inputs.append(Struck(player))

    def set_online(self, player: int, online: bool) -> bool:
        """A player's socket came or went; False if nothing changed."""
        seat = self.seats[player]
        if seat.online == online:
            return False
        seat.online = online
        self.inputs.append(Present(player, online))
        return True

    def bar(self, player: int) -> None:
        """The player is out of the match for good (a kick); their cubes go separately."""
        self.seats[player].kicked = True
        self.inputs.append(Kicked(player))

    def audit_batch(self) -> dict:
        """A second's evidence, as plain data for the auditor; starts the next window."""
        referenced = {i for c in self.accepted for i in c[3]}
        batch = {
            "tick_rate": self.world.tick_rate,
            "speed": self.world.speed,
            "from": self.audit_from,
            "to": self.world.tick,
            "commands": [list(c) for c in self.accepted],
            "trails": {str(i): t for i, t in self.trails.items()},
            "owners": {str(i): self.world.entities[i].owner for i in self.trails if i in self.world.entities},
            "placed": [list(p) for p in self.placed],
            "born": {str(i): self.born[i] for i in referenced if i in self.born},
            "refused": {str(p): n for p, n in self.refused.items()},
            "rtt": {str(s.player): list(s.rtt_ms) for s in self.seats.values() if s.rtt_ms},
            "strikes": {str(s.player): s.strikes for s in self.seats.values() if s.strikes},
        }
        self.accepted, self.placed, self.refused = [], [], {}
        # Cubes commanded in this window are watched through the next one too, from where they are.
        self.trails = {
            i: [t[-1]] for i, t in self.trails.items() if i in referenced and i in self.world.entities
        }
        self.audit_from = self.world.tick
        return batch

    def take_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # -- checkpoints ---------------------------------------------------------
    def checkpoint(self, now: float) -> dict:
        """Everything another worker needs to adopt the match (JSON-safe). Rate state is
        stored as ages, not as this process's monotonic stamps."""
        w = self.world
        return {
            "v": CHECKPOINT_VERSION,
            "tick": w.tick,
            "next_id": w.next_id,
            "ents": [[e.id, e.owner, e.x, e.z, e.tx, e.tz] for e in w.entities.values()],
            "seats": {str(s.player): seat_row(s, now) for s in self.seats.values()},
            "history": [[t, list(pos.items())] for t, pos in self.history],  # [id, [x, z]] in JSON
            "born": [[i, t] for i, t in self.born.items()],
        }

    def restore(self, data: dict, now: float) -> None:
        """Load a checkpoint into this (fresh) state; version 1 (before seats carried their
        counters) still loads, so a hand-off works across one deploy."""
        from .world import Entity

        w = self.world
        w.tick = int(data["tick"])
        w.next_id = int(data["next_id"])
        w.entities = {int(r[0]): Entity(int(r[0]), int(r[1]), *map(float, r[2:6])) for r in data["ents"]}
        for pid, row in data["seats"].items():
            seat = self.seat(int(pid), row[0], row[1], now)
            seat.seq, seat.ack = int(row[2]), int(row[3])
            if len(row) > 4:
                _restore_seat(seat, row, now)
        for tick, positions in data.get("history", []):
            self.history.append((int(tick), {int(i): (float(x), float(z)) for i, (x, z) in positions}))
        self.born = {int(i): int(t) for i, t in data.get("born", [])}
        self.audit_from = w.tick
        self.inputs = []
        self._steered, self._steer_check = [], 0
        self._logged = {s.player: (s.seq, s.ack, s.rejected) for s in self.seats.values()}


CHECKPOINT_VERSION = 2


def seat_row(s: Seat, now: float) -> list:
    """A seat as a checkpoint keeps it (rate state as ages before `now`); replay.pack keeps it so too."""
    b = s.bucket
    return [
        s.nickname,
        s.color,
        s.seq,
        s.ack,
        s.online,
        s.spawned,
        s.deleted,
        s.moves,
        s.rejected,
        s.applied_tick,
        s.lag_clamped,
        s.strikes,
        s.kicked,
        [b.tokens, max(0.0, now - b.stamp)],
        [max(0.0, now - t) for t in s.spawns.times],
    ]


def _restore_seat(seat: Seat, row: list, now: float) -> None:
    seat.online, seat.kicked = bool(row[4]), bool(row[12])
    seat.spawned, seat.deleted, seat.moves, seat.rejected = map(int, row[5:9])
    seat.applied_tick, seat.lag_clamped, seat.strikes = map(int, row[9:12])
    tokens, age = row[13]
    seat.bucket.tokens, seat.bucket.stamp = float(tokens), now - float(age)
    seat.spawns.times.extend(now - float(a) for a in sorted(row[14], reverse=True))
