"""The arbiter's own work per tick for a 1,000-cube match: rules, step, snapshot encoding.

No server, no network: the simulation and the encoders alone, as the arbiter runs them.
200 players x 5 cubes at 20 Hz, each player moving one cube every 100 ms (so 100 moves a
tick), a keyframe every 5 s, and the auditor's batch built once a second.

    .venv/bin/python benchmarks/tick_work.py [--players 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game import limits  # noqa: E402
from game.sim.commands import Command  # noqa: E402
from game.sim.match import MatchState  # noqa: E402
from game.sim.world import World  # noqa: E402
from game.wire.snapshots import delta_snap, full_snap  # noqa: E402
from lobby import limits as match_limits  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main(players: int, seconds: float, tick_rate: int) -> None:
    rng = random.Random(7)
    state = MatchState(World(100, 100, match_limits.DEFAULT_SPEED, tick_rate))
    now = 0.0
    seqs = {}
    for p in range(1, players + 1):
        state.seat(p, f"bot{p}", "#ffffff", now)
        seqs[p] = 0
    for _ in range(5):  # 5 cubes each
        for p in range(1, players + 1):
            seqs[p] += 1
            state.submit(
                Command(p, seqs[p], 0, "spawn", point=(rng.uniform(-50, 50), rng.uniform(-50, 50)), cid="c"),
                now,
            )
        now += 1.0
        state.tick(now)
    owned = {p: [e.id for e in state.world.owned_by(p)] for p in range(1, players + 1)}
    assert sum(len(v) for v in owned.values()) == players * 5

    keyframe_every = round(limits.KEYFRAME_EVERY_S * tick_rate)
    times = {"rules+step": [], "encode": [], "total": []}
    audit_ms = []
    sizes = []
    ticks = int(seconds * tick_rate)
    dt = 1.0 / tick_rate
    movers_per_tick = players * 10 // tick_rate  # one move per player per 100 ms
    order = list(range(1, players + 1))
    for t in range(ticks):
        now += dt
        rng.shuffle(order)
        for p in order[:movers_per_tick]:
            seqs[p] += 1
            state.submit(
                Command(
                    p,
                    seqs[p],
                    state.world.tick,
                    "move",
                    (rng.choice(owned[p]),),
                    (rng.uniform(-50, 50), rng.uniform(-50, 50)),
                ),
                now,
            )
        t0 = time.perf_counter()
        result = state.tick(now)
        t1 = time.perf_counter()
        if result.tick % keyframe_every == 0:
            snap = full_snap(state.world, 0, {s.player: s.ack for s in state.seats.values()})
        else:
            snap = delta_snap(state.world, 0, result.acks, result.changes)
        text, data = snap.text, snap.data
        t2 = time.perf_counter()
        times["rules+step"].append((t1 - t0) * 1000)
        times["encode"].append((t2 - t1) * 1000)
        times["total"].append((t2 - t0) * 1000)
        sizes.append((len(text), len(data), snap.full))
        if t % tick_rate == 0:
            a0 = time.perf_counter()
            state.audit_batch()
            audit_ms.append((time.perf_counter() - a0) * 1000)

    print(
        f"arbiter tick work: {players} players, {len(state.world.entities)} cubes, {tick_rate} Hz, "
        f"{movers_per_tick} moves a tick, {ticks} ticks"
    )
    for name, values in times.items():
        print(
            f"  {name:<11} p50 {statistics.median(values):6.2f} ms   p99 {pct(values, 99):6.2f} ms   max {max(values):6.2f} ms"
        )
    print(f"  audit batch (once a second) p50 {statistics.median(audit_ms):6.2f} ms")
    deltas = [s for s in sizes if not s[2]]
    fulls = [s for s in sizes if s[2]]
    print(
        f"  delta snap: JSON {statistics.median(d[0] for d in deltas):,.0f} B, msgpack {statistics.median(d[1] for d in deltas):,.0f} B; "
        f"keyframe: JSON {statistics.median(f[0] for f in fulls):,.0f} B, msgpack {statistics.median(f[1] for f in fulls):,.0f} B"
    )
    per_player = (sum(d[1] for d in deltas) + sum(f[1] for f in fulls)) / seconds
    print(f"  msgpack bytes per player per second (snaps only): {per_player / 1000:,.1f} KB/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tick-rate", type=int, default=20)
    args = parser.parse_args()
    main(args.players, args.seconds, args.tick_rate)
