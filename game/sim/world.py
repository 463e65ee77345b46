"""Entity map and the per-tick step.

A World knows nothing of players' rights: the rules decide what may happen and then
call `spawn`, `retarget`, `remove` or `place`. Every change the step cannot predict is
recorded so the arbiter can send a delta that lists only those entities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import formation
from .commands import Command
from .quant import clamp, q


@dataclass(slots=True)
class Entity:
    id: int
    owner: int
    x: float
    z: float
    tx: float
    tz: float

    @property
    def moving(self) -> bool:
        return self.x != self.tx or self.z != self.tz

    def velocity(self, step_len: float) -> tuple[float, float]:
        """Units per tick toward the target (zero when resting)."""
        dx, dz = self.tx - self.x, self.tz - self.z
        d = math.sqrt(dx * dx + dz * dz)
        if d == 0:
            return 0.0, 0.0
        f = min(step_len, d) / d
        return dx * f, dz * f


@dataclass(slots=True)
class Changes:
    """What the last ticks changed that a client's own step would not predict."""

    touched: set[int] = field(default_factory=set)
    gone: list[int] = field(default_factory=list)
    cids: dict[int, str] = field(default_factory=dict)


class World:
    """All entities of one match, the tick counter, and the arena's geometry."""

    def __init__(self, width: float, depth: float, speed: float, tick_rate: int, tick: int = 0):
        self.half_w = width / 2
        self.half_d = depth / 2
        self.speed = speed
        self.tick_rate = tick_rate
        self.step_len = speed / tick_rate
        self.tick = tick
        self.next_id = 1
        self.entities: dict[int, Entity] = {}
        self.changes = Changes()

    # -- geometry -------------------------------------------------------------
    def clamp_point(self, x: float, z: float) -> tuple[float, float]:
        """A point quantised and kept inside the arena."""
        return (
            q(clamp(x, -self.half_w, self.half_w)),
            q(clamp(z, -self.half_d, self.half_d)),
        )

    def move_targets(self, cmd: Command) -> list[tuple[float, float]] | None:
        """The targets of a formation move's cubes, in the order of its ids; None for any
        other command (a plain move sends every cube to its point)."""
        if cmd.op != "move" or cmd.form is None:
            return None
        return formation.slots(
            cmd.form, cmd.facing, cmd.point, len(cmd.ids), self.half_w * 2, self.half_d * 2
        )

    # -- changes the rules have allowed ----------------------------------------
    def spawn(self, owner: int, x: float, z: float, cid: str | None = None) -> Entity:
        x, z = self.clamp_point(x, z)
        ent = Entity(self.next_id, owner, x, z, x, z)
        self.next_id += 1
        self.entities[ent.id] = ent
        self.changes.touched.add(ent.id)
        if cid is not None:
            self.changes.cids[ent.id] = cid
        return ent

    def retarget(self, ent: Entity, tx: float, tz: float) -> None:
        ent.tx, ent.tz = self.clamp_point(tx, tz)
        self.changes.touched.add(ent.id)

    def place(self, ent: Entity, x: float, z: float) -> None:
        """Move an entity authoritatively (a correction); it stops where it is put."""
        ent.x, ent.z = self.clamp_point(x, z)
        ent.tx, ent.tz = ent.x, ent.z
        self.changes.touched.add(ent.id)

    def remove(self, ent_id: int) -> Entity | None:
        ent = self.entities.pop(ent_id, None)
        if ent is not None:
            self.changes.touched.discard(ent_id)
            self.changes.cids.pop(ent_id, None)
            self.changes.gone.append(ent_id)
        return ent

    def take_changes(self) -> Changes:
        changes, self.changes = self.changes, Changes()
        return changes

    def owned_by(self, owner: int) -> list[Entity]:
        return [e for e in self.entities.values() if e.owner == owner]

    def count_owned(self, owner: int) -> int:
        return sum(1 for e in self.entities.values() if e.owner == owner)

    # -- the step ------------------------------------------------------------------
    def step(self) -> None:
        """Advance one tick: every entity moves `speed / tick_rate` toward its target."""
        s = self.step_len
        for ent in self.entities.values():
            step_entity(ent, s)
        self.tick += 1


def step_entity(ent: Entity, s: float) -> None:
    """PROTOCOL.md "The step", operation for operation (the JS port must match)."""
    dx = ent.tx - ent.x
    dz = ent.tz - ent.z
    if dx == 0 and dz == 0:
        return
    d = math.sqrt(dx * dx + dz * dz)
    if d <= s:
        ent.x = ent.tx
        ent.z = ent.tz
    else:
        ent.x = q(ent.x + dx * s / d)
        ent.z = q(ent.z + dz * s / d)
