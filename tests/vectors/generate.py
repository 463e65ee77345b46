"""Shared test vectors: the Python simulation writes them, `node --test` replays them.

Run `python -m tests.vectors.generate` to rewrite tests/vectors/step.json (the step),
tests/vectors/prediction.json (the arbiter's lag compensation, for the browser's
prediction and reconciliation) and tests/vectors/frames.json (server messages as the wire
carries them in each encoding, for the browser's decoding); Python tests (tests/sim/test_world.py,
tests/sim/test_vectors_prediction.py) check that the committed files are what this module
produces, and tests/js/ replays them, so the two languages cannot drift.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from game.sim import formation
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World

VECTOR_DIR = Path(__file__).resolve().parent
VECTOR_FILE = VECTOR_DIR / "step.json"
PREDICTION_FILE = VECTOR_DIR / "prediction.json"
FRAMES_FILE = VECTOR_DIR / "frames.json"


def _state(world: World) -> list[list[float]]:
    return [
        [e.id, e.owner, e.x, e.z, e.tx, e.tz] for e in sorted(world.entities.values(), key=lambda e: e.id)
    ]


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
        "and clamped) before that tick's step; states[i] is the state after step i. "
        "'formations': a move's formation slots (game/sim/formation.py) for its form, "
        "facing, target 'to', n ids and arena: 'slots' [[x, z], ...] in the order of the ids.",
        "cases": cases,
        "formations": _formations(random.Random(20261129)),
    }


def _formations(rng: random.Random) -> list[dict]:
    """Formation slots over forms, facings, group sizes, arenas and targets in, at and past the edges."""
    arenas = [(100, 100), (60, 40), (37, 23), (20, 20), (7, 9)]
    sizes = [1, 2, 3, 4, 5, 7, 9, 10, 16, 17, 33, 50, 64]
    out = []
    for k in range(320):
        form = formation.FORMS[k % 2]
        facing = (k // 2) % 8
        width, depth = arenas[(k // 16) % len(arenas)]
        n = sizes[rng.randrange(len(sizes))] if k % 5 else rng.randint(1, 64)
        hw, hd = width / 2, depth / 2
        pick = k % 4
        if pick == 0:  # anywhere, a little past the edges too
            to = (round(rng.uniform(-hw * 1.2, hw * 1.2), 3), round(rng.uniform(-hd * 1.2, hd * 1.2), 3))
        elif pick == 1:  # on an edge or a corner
            to = (rng.choice((-hw, hw, rng.uniform(-hw, hw))), rng.choice((-hd, hd)))
        elif pick == 2:  # near the middle, unquantised
            to = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        else:  # far outside
            to = (rng.uniform(-1e4, 1e4), rng.uniform(-1e4, 1e4))
        slots = formation.slots(form, facing, to, n, width, depth)
        out.append(
            {
                "form": form,
                "facing": facing,
                "to": list(to),
                "n": n,
                "arena": [width, depth],
                "slots": [list(p) for p in slots],
            }
        )
    return out


# -- prediction: the arbiter's lag compensation as the browser must replay it -------------

PLAYERS = {1: ("alice", "#e5533d"), 2: ("bob", "#3d8be5"), 3: ("mallory", "#9b5de5")}


@dataclass(frozen=True)
class Order:
    """One scripted command: sent by `player` after it had snap `issued`, stamped `claimed`,
    reaching the arbiter while its world is at tick `at` (so processed in tick at + 1)."""

    at: int
    player: int
    op: str
    ids: tuple[int, ...] = ()
    point: tuple[float, float] | None = None
    claimed: int = 0
    issued: int = 0
    cid: str | None = None
    seq: int | None = None  # None: the next number; a number: a hostile client's own choice
    client: bool = True  # False: no honest client would send it (the browser never replays it)
    form: str | None = None  # a formation move (game/sim/formation.py)
    facing: int = 0


def _rows(world: World) -> list[list]:
    return [
        [e.id, e.owner, e.x, e.z, e.tx, e.tz] for e in sorted(world.entities.values(), key=lambda e: e.id)
    ]


def _session(
    name: str,
    tick_rate: int,
    speed: float,
    arena: tuple[int, int],
    cube_cap: int,
    ticks: int,
    orders: list[Order],
    about: str,
) -> dict:
    """Drive a MatchState through `orders`; record every snap as a delta and as the full state."""
    state = MatchState(World(arena[0], arena[1], speed, tick_rate), cube_cap=cube_cap)
    players = sorted({o.player for o in orders})
    for p in players:
        state.seat(p, *PLAYERS[p], now=0.0)
    snaps = [{"tick": 0, "ents": [], "gone": [], "acks": {}, "state": _rows(state.world), "rewritten": []}]
    commands: list[dict] = []
    last_seq = dict.fromkeys(players, 0)
    pending = sorted(orders, key=lambda o: o.at)  # stable: same-tick orders keep their script order
    for i in range(ticks):
        now = i / tick_rate + 0.01
        while pending and pending[0].at == i:
            o = pending.pop(0)
            seq = o.seq if o.seq is not None else last_seq[o.player] + 1
            last_seq[o.player] = max(last_seq[o.player], seq)
            cmd = Command(o.player, seq, o.claimed, o.op, o.ids, o.point, o.cid, o.form, o.facing)
            reject = state.submit(cmd, now)
            commands.append(
                {
                    "player": o.player,
                    "seq": seq,
                    "op": o.op,
                    "ids": list(o.ids),
                    "point": list(o.point) if o.point is not None else None,
                    "cid": o.cid,
                    "claimed": o.claimed,
                    "issued": o.issued,
                    "at": i,
                    "client": o.client,
                    "reject": reject.code if reject else None,
                    "rejected_at": i if reject else None,
                    "applied": None,
                    "proc": None,
                    **({"form": o.form, "facing": o.facing} if o.form is not None else {}),
                }
            )
        seen = len(state.accepted)
        result = state.tick(now + 0.5 / tick_rate)
        for player, seq, _op, _ids, _claimed, applied, _tick in state.accepted[seen:]:
            _find(commands, player, seq)["applied"] = applied
        for reject in result.rejects:
            found = _find(commands, reject.player, reject.seq)
            found["reject"], found["rejected_at"] = reject.code, result.tick
        changes = result.changes
        # The arbiter's history where a backdated command has rewritten what a snap said.
        rewritten = []
        for t, positions in state.history:
            if t >= result.tick:
                continue
            said = {row[0]: (row[2], row[3]) for row in snaps[t]["state"]}
            rewritten += [[t, i, x, z] for i, (x, z) in sorted(positions.items()) if said.get(i) != (x, z)]
        listed = [state.world.entities[i] for i in sorted(changes.touched) if i in state.world.entities]
        snaps.append(
            {
                "tick": result.tick,
                "ents": [[e.id, e.owner, e.x, e.z, e.tx, e.tz, changes.cids.get(e.id)] for e in listed],
                "gone": sorted(changes.gone),
                "acks": {str(p): a for p, a in sorted(result.acks.items())},
                "state": _rows(state.world),
                "rewritten": rewritten,
            }
        )
    acked = dict.fromkeys(players, 0)
    for snap in snaps:
        for p, a in snap["acks"].items():
            for c in commands:
                if (
                    c["player"] == int(p)
                    and acked[int(p)] < c["seq"] <= a
                    and c["at"] < snap["tick"]
                    and c["proc"] is None
                    and c["reject"] != "stale_seq"
                ):
                    c["proc"] = snap["tick"]
            acked[int(p)] = max(acked[int(p)], a)
    return {
        "name": name,
        "about": about,
        "tick_rate": tick_rate,
        "speed": speed,
        "arena": list(arena),
        "window": state.window,
        "cube_cap": cube_cap,
        "players": players,
        "commands": commands,
        "snaps": snaps,
    }


def _find(commands: list[dict], player: int, seq: int) -> dict:
    return next(c for c in reversed(commands) if c["player"] == player and c["seq"] == seq)


def _backdating_10hz() -> dict:
    a, b, m = 1, 2, 3
    o = Order
    orders = [
        o(0, a, "spawn", point=(0, 0), cid="c1"),
        o(0, a, "spawn", point=(10, 5), cid="c2"),
        o(0, b, "spawn", point=(-10, -10), cid="c1"),
        o(1, a, "spawn", point=(20, -5), cid="c3", claimed=1, issued=1),
        o(1, m, "spawn", point=(-20, 20), cid="m1", claimed=1, issued=1),
        o(3, a, "move", (1,), (8, 0), claimed=2, issued=2),  # one tick back
        o(5, a, "move", (2,), (10, 15), claimed=3, issued=3),  # W back: the edge of the window
        o(6, a, "nudge", (1,), (1, 1), claimed=5, issued=4),  # diagonal
        o(7, a, "move", (1, 2), (-5, -5), claimed=1, issued=6),  # far back: clamped to now - W
        o(8, a, "move", (4,), (20, 10), claimed=12, issued=7),  # a future tick counts as now
        o(9, a, "move", (1,), (0, 20), claimed=8, issued=7),  # two in one tick; the second
        o(9, a, "nudge", (1,), (-1, 0), claimed=7, issued=7),  # ... not before the first
        o(12, a, "move", (2,), (30, 30), claimed=11, issued=10),  # applied as of 11, processed in 13
        o(13, a, "nudge", (2,), (0, -1), claimed=12, issued=11),  # rewinds to history[12]: before the move
        o(14, b, "move", (1,), (-30, 0), claimed=13, issued=12),  # not_owner
        o(14, b, "nudge", (3,), (0, 1), claimed=14, issued=12),
        o(15, a, "delete", (4,), claimed=14, issued=13),
        o(15, a, "move", (4,), (0, 0), claimed=14, issued=13),  # unknown_entity: deleted just before
        o(16, a, "spawn", point=(-3, 7), cid="c4", claimed=15, issued=14),
        o(17, a, "spawn", point=(60, -70), cid="c5", claimed=16, issued=15),  # clamped to the arena
        o(18, a, "spawn", point=(1, 1), cid="c6", claimed=17, issued=16),  # cube_cap at the tick
        o(18, a, "spawn", point=(2, 2), cid="c7", claimed=17, issued=16),
        o(18, a, "spawn", point=(3, 3), cid="c8", claimed=17, issued=16),
        o(18, a, "spawn", point=(4, 4), cid="c9", claimed=17, issued=16),  # spawn_cooldown at once
        o(19, a, "move", (6, 7), (-40, 45), claimed=18, issued=18),
        o(20, m, "move", (5,), (5, 5), claimed=19, issued=18, seq=1, client=False),  # stale_seq
        o(22, m, "spawn", point=(-20, -20), cid="m2", claimed=21, issued=20),
        o(23, m, "move", (8,), (0, -30), claimed=22, issued=22, client=False),  # before its cube existed
        o(24, a, "nudge", (6,), (-1, -1), claimed=23, issued=22),
        o(25, a, "nudge", (6,), (-1, -1), claimed=24, issued=23),
        o(26, a, "nudge", (6,), (1, 0), claimed=25, issued=24),
        o(30, a, "move", (1, 2, 6), (-12.34, 5.67), claimed=29, issued=28),
        o(31, b, "move", (3,), (49.99, -49.99), claimed=29, issued=28),
    ]
    return _session(
        "backdating-10hz",
        10,
        5.0,
        (100, 100),
        4,
        60,
        orders,
        "backdated moves and nudges at W = 2: in window, at its edge, clamped, future, "
        "two in one tick, a second command rewinding into the history the first rewrote, "
        "refusals (not_owner, unknown_entity, cube_cap, spawn_cooldown, stale_seq)",
    )


def _random_session(
    name: str,
    tick_rate: int,
    speed: float,
    arena: tuple[int, int],
    seed: int,
    ticks: int,
    up: tuple[int, int],
    down: tuple[int, int],
    every: int,
) -> dict:
    """Two clients with a lag of `up`/`down` ticks (ranges) ordering their cubes about at random."""
    rng = random.Random(seed)
    hw, hd = arena[0] / 2, arena[1] / 2
    orders = []
    for p in (1, 2):
        for k in range(3):
            orders.append(
                Order(
                    0,
                    p,
                    "spawn",
                    point=(round(rng.uniform(-hw, hw), 2), round(rng.uniform(-hd, hd), 2)),
                    cid=f"c{k + 1}",
                )
            )
    # The spawns above get ids 1-6 in order: player 1 owns 1-3, player 2 owns 4-6.
    owned = {1: [1, 2, 3], 2: [4, 5, 6]}
    for p in (1, 2):
        last_at, issued = 0, 2
        while True:
            issued += rng.randint(1, every)
            at = max(last_at, issued + rng.randint(*up))
            if at >= ticks - 25:
                break
            last_at = at
            claimed = max(0, issued + rng.randint(*down) + rng.choice((-1, 0, 0, 0, 1)))
            ids = tuple(sorted(rng.sample(owned[p], rng.randint(1, len(owned[p])))))
            if rng.random() < 0.6:
                point = (
                    round(rng.uniform(-hw * 1.1, hw * 1.1), 2),
                    round(rng.uniform(-hd * 1.1, hd * 1.1), 2),
                )
                orders.append(Order(at, p, "move", ids, point, claimed=claimed, issued=issued))
            else:
                d = rng.choice([(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1)])
                orders.append(Order(at, p, "nudge", ids, d, claimed=claimed, issued=issued))
    return _session(
        name,
        tick_rate,
        speed,
        arena,
        50,
        ticks,
        orders,
        f"two clients {up[0]}-{up[1]} ticks up and {down[0]}-{down[1]} down, ordering at random",
    )


def _formation_session(
    name: str, tick_rate: int, arena: tuple[int, int], seed: int, ticks: int, up: tuple[int, int], every: int
) -> dict:
    """Two clients ordering groups about in formations (backdated like any move), nudging the
    groups and sending plain moves in between, with targets near the edges too."""
    rng = random.Random(seed)
    hw, hd = arena[0] / 2, arena[1] / 2
    orders = []
    for p in (1, 2):
        for k in range(5):
            at = (round(rng.uniform(-hw, hw), 2), round(rng.uniform(-hd, hd), 2))
            orders.append(Order(0, p, "spawn", point=at, cid=f"c{k + 1}"))
    owned = {1: [1, 2, 3, 4, 5], 2: [6, 7, 8, 9, 10]}  # the spawns above, in order
    for p in (1, 2):
        last_at, issued = 0, 2
        while True:
            issued += rng.randint(1, every)
            at = max(last_at, issued + rng.randint(*up))
            if at >= ticks - 30:
                break
            last_at = at
            claimed = max(0, issued + rng.randint(0, 2))
            ids = tuple(rng.sample(owned[p], rng.randint(2, len(owned[p]))))  # in any order
            roll = rng.random()
            if roll < 0.6:
                to = (round(rng.uniform(-hw * 1.1, hw * 1.1), 2), round(rng.uniform(-hd * 1.1, hd * 1.1), 2))
                form = rng.choice(formation.FORMS)
                orders.append(
                    Order(at, p, "move", ids, to, claimed, issued, form=form, facing=rng.randrange(8))
                )
            elif roll < 0.85:
                d = rng.choice([(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1)])
                orders.append(Order(at, p, "nudge", ids, d, claimed=claimed, issued=issued))
            else:
                to = (round(rng.uniform(-hw, hw), 2), round(rng.uniform(-hd, hd), 2))
                orders.append(Order(at, p, "move", ids, to, claimed=claimed, issued=issued))
    return _session(
        name,
        tick_rate,
        5.0,
        arena,
        50,
        ticks,
        orders,
        "two clients moving groups in formations, nudging them",
    )


def build_prediction() -> dict:
    cases = [
        _backdating_10hz(),
        _random_session("random-20hz", 20, 5.0, (100, 100), 7, 160, (1, 4), (1, 3), 4),
        _random_session("random-30hz-held-nudges", 30, 5.0, (100, 100), 11, 150, (3, 6), (2, 5), 3),
        _random_session("edges-7hz", 7, 3.7, (60, 40), 5, 90, (0, 2), (0, 2), 3),
        _formation_session("formations-20hz", 20, (40, 30), 13, 200, (1, 4), 6),
    ]
    return {
        "about": "PROTOCOL.md lag compensation as game.sim.match.MatchState applies it. Per case: "
        "'commands' as sent ('claimed' the tick stamp, 'issued' the last snap the client had, "
        "'at' the arbiter's tick on arrival, 'applied' the tick a move or nudge took effect as of, "
        "'proc' the snap whose acks first cover it, 'reject' a refusal code); 'snaps' one per "
        "tick: the delta ('ents' rows [id, owner, x, z, tx, tz, cid], 'gone', 'acks'), the "
        "full 'state' rows [id, owner, x, z, tx, tz] after that tick, and 'rewritten' rows "
        "[tick, id, x, z]: the arbiter's lag-compensation history after that tick where a "
        "backdated command has rewritten the position an earlier snap gave. A formation move "
        "also carries 'form' and 'facing'.",
        "cases": cases,
    }


# -- frames: server messages in both encodings, for the browser's decoding path ------------


def build_frames() -> dict:
    """Messages the server sends, encoded by game.wire exactly as a socket gets them."""
    import base64

    from game.wire.snapshots import delta_snap, encode, full_snap

    rng = random.Random(20261129)
    world = World(100, 100, 5.0, 10, tick=123456)
    for i in range(9):
        ent = world.spawn(1 + i % 2, rng.uniform(-50, 50), rng.uniform(-50, 50), cid=f"c{i + 1}")
        world.retarget(ent, rng.uniform(-50, 50), rng.uniform(-50, 50))
    edge = world.spawn(2, -50, 49.99)
    world.retarget(edge, 0.07, -0.01)
    t_ms = 1_764_400_000_123
    full = full_snap(world, t_ms, {1: 7, 2: 2_147_483_647}, {ent.id: "c9"})
    world.take_changes()
    world.step()
    moved = world.entities[3]
    world.retarget(moved, -12.34, 45.6)
    world.remove(4)
    world.spawn(1, 0.5, -0.5, cid="c10")
    delta = delta_snap(world, t_ms + 100, {1: 8}, world.take_changes())
    players = [
        {"id": 1, "nickname": "ålice ☃ 🧊", "color": "#e5533d", "online": True, "cubes": 5},
        {"id": 2, "nickname": "bob", "color": "#3d8be5", "online": False, "cubes": 5},
    ]

    def welcome(binary: bool) -> dict:
        return {
            "type": "welcome",
            "v": 1,
            "match": "0b9f6c52-8d0e-4f77-a8a3-3c1c2f7a9e10",
            "you": 1,
            "role": "player",
            "color": "#e5533d",
            "tick_rate": 10,
            "arena": [100, 100],
            "speed": 5.0,
            "ack": 7,
            "players": players,
            "snap": full.as_dict(binary),
            "build": "3f1c0a9e5b7d",
        }

    messages = [
        ("welcome", welcome(False), welcome(True)),
        ("delta", delta.as_dict(False), delta.as_dict(True)),
        ("full", full.as_dict(False), full.as_dict(True)),
        ("players", {"type": "players", "players": players}, None),
        ("pong", {"type": "pong", "t": 81234.56789, "st": t_ms, "tick": 123457}, None),
        ("ping", {"type": "ping", "t": t_ms}, None),
        (
            "reject",
            {"type": "reject", "seq": 3, "code": "rate_limited", "message": "slow down", "retry_ms": 200},
            None,
        ),
        (
            "correction",
            {"type": "correction", "ids": [3], "reason": "operator", "by": "operator", "action": "moved"},
            None,
        ),
        ("ended", {"type": "ended", "reason": "the creator ended the match"}, None),
    ]
    frames = []
    for name, as_json, as_bin in messages:
        data = encode(as_bin if as_bin is not None else as_json, True)
        frames.append(
            {"name": name, "json": encode(as_json, False), "msgpack": base64.b64encode(data).decode()}
        )
    return {
        "about": "Server messages as game.wire encodes them: 'json' the text frame, 'msgpack' the "
        "binary frame (base64), entity records as arrays with coordinates in hundredths. "
        "Decoded, both must give the same message and the same doubles.",
        "frames": frames,
    }


def dumps(data: dict) -> str:
    return json.dumps(data, separators=(",", ":")) + "\n"


def main() -> None:
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    VECTOR_FILE.write_text(dumps(build()))
    PREDICTION_FILE.write_text(dumps(build_prediction()))
    FRAMES_FILE.write_text(dumps(build_frames()))
    print(f"wrote {VECTOR_FILE}, {PREDICTION_FILE} and {FRAMES_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
