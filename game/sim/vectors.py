"""Shared test vectors for the step: the Python world writes them, `node --test` replays them.

Run `python -m game.sim.vectors` to rewrite tests/vectors/step.json; a Python test checks
that the committed file is what this module produces, so the two languages cannot drift.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from .world import World

VECTOR_FILE = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "step.json"


def _state(world: World) -> list[list[float]]:
    return [[e.id, e.owner, e.x, e.z, e.tx, e.tz] for e in sorted(world.entities.values(), key=lambda e: e.id)]


def _case(name: str, speed: float, tick_rate: int, rng: random.Random, n: int, ticks: int) -> dict:
    world = World(100, 100, speed, tick_rate)
    for i in range(n):
        ent = world.spawn(1 + i % 3, rng.uniform(-50, 50), rng.uniform(-50, 50))
        world.retarget(ent, rng.uniform(-50, 50), rng.uniform(-50, 50))
    start = _state(world)
    retargets: dict[int, list[list[float]]] = {}
    states = []
    for t in range(ticks):
        # Every few ticks some entities get a new target, as a delta would carry.
        if t % 7 == 3:
            moves = []
            for ent in list(world.entities.values())[:: max(1, n // 4)]:
                world.retarget(ent, rng.uniform(-60, 60), rng.uniform(-60, 60))
                moves.append([ent.id, ent.tx, ent.tz])
            retargets[t] = moves
        world.step()
        states.append(_state(world))
    return {
        "name": name,
        "arena": [100, 100],
        "speed": speed,
        "tick_rate": tick_rate,
        "start": start,
        "retargets": {str(k): v for k, v in retargets.items()},
        "states": states,
    }


def build() -> dict:
    rng = random.Random(20261126)
    cases = [
        _case("10hz-default", 5.0, 10, rng, 12, 60),
        _case("30hz", 5.0, 30, rng, 12, 90),
        _case("odd-speed-7hz", 3.7, 7, rng, 20, 80),
        _case("fast-20hz", 11.3, 20, rng, 30, 120),
        _case("many", 5.0, 20, rng, 200, 40),
    ]
    return {
        "about": "PROTOCOL.md 'The step'. Entity rows: [id, owner, x, z, tx, tz]. "
        "'retargets' maps a tick index to [id, tx, tz] rows applied (already quantised "
        "and clamped) before that tick's step; states[i] is the state after step i.",
        "cases": cases,
    }


def dumps(data: dict) -> str:
    return json.dumps(data, separators=(",", ":")) + "\n"


def main() -> None:
    VECTOR_FILE.parent.mkdir(parents=True, exist_ok=True)
    VECTOR_FILE.write_text(dumps(build()))
    print(f"wrote {VECTOR_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
