"""Formation moves: slots from the command alone, a cube apart, inside the arena; the wire's
optional `form` and `facing`; the rules engine sending each id to its slot, backdated like
any move; nudges keeping the group's shape."""

import itertools
import math

import msgspec
import pytest

from game.sim import formation
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World
from game.wire.protocol import MoveCmd, ProtocolError, parse_frame, to_command

ALICE = 1


def min_distance(slots) -> float:
    return min(math.dist(a, b) for a, b in itertools.combinations(slots, 2))


@pytest.mark.parametrize("form", formation.FORMS)
@pytest.mark.parametrize("facing", range(8))
@pytest.mark.parametrize("n", [2, 3, 5, 9, 16, 17, 50, 64])
def test_slots_are_a_spacing_apart_inside_the_arena_wherever_the_target_is(form, facing, n):
    for to in [(0, 0), (50, 50), (-50, 3.21), (1e5, -1e5), (12.345, -0.005)]:
        slots = formation.slots(form, facing, to, n, 100, 100)
        assert len(slots) == n
        assert all(-50 <= x <= 50 and -50 <= z <= 50 for x, z in slots)
        assert all(x == formation.q(x) and z == formation.q(z) for x, z in slots)
        assert min_distance(slots) >= formation.SPACING - 0.015, (to, slots)


def test_one_cube_goes_exactly_where_a_plain_move_sends_it():
    world = World(100, 100, 5, 10)
    for to in [(3.333, -7.777), (60, 60), (-49.995, 0.005)]:
        assert formation.slots("box", 5, to, 1, 100, 100) == [world.clamp_point(*to)]


def test_an_edge_shifts_the_whole_formation_inward_with_its_shape():
    free = formation.slots("box", 1, (0, 0), 9, 100, 100)
    edge = formation.slots("box", 1, (-50, 50), 9, 100, 100)
    dx, dz = edge[0][0] - free[0][0], edge[0][1] - free[0][1]
    for (x, z), (fx, fz) in zip(edge, free, strict=True):
        assert x - fx == pytest.approx(dx, abs=1e-9) and z - fz == pytest.approx(dz, abs=1e-9)
    assert min(x for x, _ in edge) == -50 and max(z for _, z in edge) == 50


def test_a_formation_larger_than_the_arena_is_clamped_inside_it():
    slots = formation.slots("line", 0, (0, 0), 64, 10, 10)
    assert all(-5 <= x <= 5 and -5 <= z <= 5 for x, z in slots)


def test_the_front_row_leads_and_a_line_is_a_row_across_the_travel():
    box = formation.slots("box", 0, (10, 10), 4, 100, 100)  # facing +x
    assert box[0][0] > box[2][0] and box[1][0] > box[3][0]
    assert formation.slots("line", 2, (0, 0), 5, 100, 100) == [(4, 0), (2, 0), (0, 0), (-2, 0), (-4, 0)]
    assert formation.columns("box", 10) == 4 and formation.columns("line", 40) == formation.LINE_MAX


def test_the_formation_module_uses_no_trigonometry():
    source = (formation.__file__ and open(formation.__file__).read()) or ""
    for name in ("sin", "cos", "tan", "atan", "atan2", "hypot", "pi", "radians"):
        assert f"math.{name}(" not in source and f"math.{name} " not in source


# -- on the wire -------------------------------------------------------------------------


def frame(msg: dict, binary: bool):
    return msgspec.msgpack.encode(msg) if binary else msgspec.json.encode(msg).decode()


@pytest.mark.parametrize("binary", [False, True])
def test_a_move_may_carry_form_and_facing_and_means_what_it_did_without_them(binary):
    base = {"type": "cmd", "seq": 4, "tick": 9, "op": "move", "ids": [3, 5, 3, 8], "to": [1.5, -2]}
    plain = parse_frame(frame(base, binary), binary)
    assert isinstance(plain, MoveCmd) and plain.form is None
    assert to_command(plain, ALICE) == Command(ALICE, 4, 9, "move", (3, 5, 8), (1.5, -2))
    formed = parse_frame(frame({**base, "form": "line", "facing": 7}, binary), binary)
    cmd = to_command(formed, ALICE)
    assert (cmd.form, cmd.facing, cmd.ids) == ("line", 7, (3, 5, 8))
    assert to_command(parse_frame(frame({**base, "form": "box"}, binary), binary), ALICE).facing == 0


@pytest.mark.parametrize(
    "extra", [{"form": "wedge"}, {"form": "box", "facing": 8}, {"form": "box", "facing": -1}]
)
def test_a_bad_form_or_facing_is_refused_with_the_commands_seq(extra):
    base = {"type": "cmd", "seq": 4, "tick": 9, "op": "move", "ids": [3], "to": [1.5, -2]}
    with pytest.raises(ProtocolError) as err:
        parse_frame(frame({**base, **extra}, False), False)
    assert (err.value.code, err.value.seq) == ("bad_message", 4)


def test_commands_logged_before_formations_still_decode():
    old = msgspec.msgpack.encode([1, 2, 3, "move", [4, 5], [1.0, 2.0], None])
    cmd = msgspec.msgpack.decode(old, type=Command)
    assert (cmd.form, cmd.facing) == (None, 0)
    again = Command(1, 2, 3, "move", (4, 5), (1.0, 2.0), None, "box", 3)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(again), type=Command) == again


# -- in the rules engine ---------------------------------------------------------------------


def match_with_cubes(n: int, tick_rate: int = 10) -> tuple[MatchState, list[int]]:
    state = MatchState(World(100, 100, speed=5, tick_rate=tick_rate))
    state.seat(ALICE, "alice", "#e5533d", now=0.0)
    for i in range(n):
        state.submit(Command(ALICE, i + 1, 0, "spawn", point=(i * 0.5 - 10, 0), cid=f"c{i}"), 0.0)
        if i % 5 == 4:
            state.tick(1.0 + i)  # spawns are limited to 5 a second
    state.tick(100.0)
    return state, sorted(state.world.entities)


def run(state: MatchState, ticks: int, now: float = 200.0) -> None:
    for k in range(ticks):
        state.tick(now + k / 10)


def test_each_id_goes_to_its_slot_in_the_order_sent_whatever_the_positions():
    state, ids = match_with_cubes(7)
    order = tuple(reversed(ids))
    seq = state.seats[ALICE].seq + 1
    state.submit(Command(ALICE, seq, state.world.tick, "move", order, (20, -10), form="box", facing=3), 150.0)
    state.tick(150.0)
    slots = formation.slots("box", 3, (20, -10), len(order), 100, 100)
    assert [(state.world.entities[i].tx, state.world.entities[i].tz) for i in order] == slots
    run(state, 200)
    ends = [(e.x, e.z) for e in state.world.entities.values()]
    assert sorted(ends) == sorted(slots) and min_distance(ends) >= 1.0


def test_a_backdated_formation_move_lands_on_the_same_slots():
    state, ids = match_with_cubes(4, tick_rate=20)
    run(state, 10, 120.0)
    now = state.world.tick
    seq = state.seats[ALICE].seq + 1
    state.submit(Command(ALICE, seq, now - 3, "move", tuple(ids), (-30, 30), form="line", facing=6), 150.0)
    state.tick(150.0)
    assert state.accepted[-1][5] < now  # applied as of an earlier tick
    run(state, 400)
    assert [(state.world.entities[i].x, state.world.entities[i].z) for i in ids] == formation.slots(
        "line", 6, (-30, 30), 4, 100, 100
    )


@pytest.mark.parametrize("direction", [(1.0, 0.0), (-1.0, 1.0), (0.0, -1.0)])
def test_an_arrow_nudge_keeps_the_groups_shape(direction):
    state, ids = match_with_cubes(9)
    seq = state.seats[ALICE].seq + 1
    state.submit(
        Command(ALICE, seq, state.world.tick, "move", tuple(ids), (5, 5), form="box", facing=1), 150.0
    )
    run(state, 200)
    before = [(state.world.entities[i].x, state.world.entities[i].z) for i in ids]
    for k in range(3):
        state.submit(Command(ALICE, seq + 1 + k, state.world.tick, "nudge", tuple(ids), direction), 300.0 + k)
        run(state, 10, 300.0 + k)
    run(state, 50, 400.0)
    after = [(state.world.entities[i].x, state.world.entities[i].z) for i in ids]
    (dx, dz), *_ = [(a[0] - b[0], a[1] - b[1]) for a, b in zip(after, before, strict=True)]
    assert (dx, dz) != (0, 0)
    for (ax, az), (bx, bz) in zip(after, before, strict=True):
        assert ax - bx == pytest.approx(dx, abs=1e-9) and az - bz == pytest.approx(dz, abs=1e-9)
