"""Lag compensation: moves apply as of the claimed tick within W, fast-forwarded to now."""

from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import Entity, World, step_entity

ALICE = 1


def moving_match(tick_rate=20):
    state = MatchState(World(100, 100, speed=5, tick_rate=tick_rate))
    state.seat(ALICE, "alice", "#e5533d", now=0.0)
    state.submit(Command(ALICE, 1, 0, "spawn", point=(0, 0), cid="c1"), 0.0)
    state.tick(0.05)
    (cube,) = state.world.entities.values()
    state.submit(Command(ALICE, 2, 1, "move", (cube.id,), (40, 0)), 0.1)
    for i in range(20):
        state.tick(0.1 + i * 0.05)
    return state, cube


def test_it_fast_forwards_a_move_claiming_a_tick_200_ms_back():
    state, cube = moving_match(tick_rate=20)  # W = 5 ticks = 250 ms
    now = state.world.tick
    claimed = now - 4  # 200 ms back
    x_then = dict(state.history)[claimed][cube.id]
    state.submit(Command(ALICE, 3, claimed, "move", (cube.id,), (x_then[0], 30)), 2.0)
    state.tick(2.0)
    # What the client predicted: from its position at the claimed tick, 5 steps toward the new target.
    expected = Entity(0, ALICE, *x_then, x_then[0], 30)
    for _ in range(now - claimed + 1):
        step_entity(expected, state.world.step_len)
    assert (cube.x, cube.z) == (expected.x, expected.z)
    assert state.seats[ALICE].applied_tick == claimed
    assert state.seats[ALICE].lag_clamped == 0


def test_it_clamps_and_counts_a_claim_two_seconds_back():
    state, cube = moving_match(tick_rate=20)
    now = state.world.tick
    state.submit(Command(ALICE, 3, now - 40, "move", (cube.id,), (0, 30)), 2.0)
    state.tick(2.0)
    assert state.seats[ALICE].applied_tick == now - 5
    assert state.seats[ALICE].lag_clamped == 1


def test_it_treats_a_future_tick_as_now_and_counts_it():
    state, cube = moving_match(tick_rate=20)
    now = state.world.tick
    before = (cube.x, cube.z)
    state.submit(Command(ALICE, 3, now + 50, "move", (cube.id,), (before[0], 30)), 2.0)
    state.tick(2.0)
    assert state.seats[ALICE].applied_tick == now
    assert state.seats[ALICE].lag_clamped == 1
    assert cube.x == before[0] and cube.z == 0.25  # one plain step toward the new target


def test_it_never_applies_before_the_players_previous_command():
    state, cube = moving_match(tick_rate=20)
    now = state.world.tick
    state.submit(Command(ALICE, 3, now - 1, "move", (cube.id,), (0, 30)), 2.0)
    state.tick(2.0)
    state.submit(Command(ALICE, 4, now - 4, "move", (cube.id,), (0, -30)), 2.05)
    state.tick(2.05)
    assert state.seats[ALICE].applied_tick == now - 1
    assert state.seats[ALICE].lag_clamped == 1


def test_a_second_backdated_command_rewinds_onto_the_path_the_first_one_took():
    state, cube = moving_match(tick_rate=20)
    now = state.world.tick
    history = dict(state.history)
    x_then = history[now - 3][cube.id]
    state.submit(Command(ALICE, 3, now - 3, "move", (cube.id,), (x_then[0], 30)), 2.0)
    state.submit(Command(ALICE, 4, now - 1, "nudge", (cube.id,), (1, 0)), 2.0)
    state.tick(2.0)
    # The first move's path: from the history of now - 3, two steps toward (x, 30).
    path = Entity(0, ALICE, *x_then, x_then[0], 30)
    step_entity(path, state.world.step_len)
    step_entity(path, state.world.step_len)
    assert dict(state.history)[now - 1][cube.id] == (path.x, path.z)  # rewritten
    # The nudge starts there, not where the cube was on its way to (40, 0).
    nudged = Entity(0, ALICE, path.x, path.z, path.x + 1, path.z)
    for _ in range(2):
        step_entity(nudged, state.world.step_len)
    assert (cube.x, cube.z, cube.tx, cube.tz) == (nudged.x, nudged.z, nudged.tx, nudged.tz)


def test_a_backdated_command_cannot_undo_a_correction():
    state, cube = moving_match(tick_rate=20)
    now = state.world.tick
    assert state.place(cube.id, -10, -10)
    state.submit(Command(ALICE, 3, now - 3, "move", (cube.id,), (-10, 10)), 2.0)
    state.tick(2.0)
    # It applies from where the correction put the cube: one plain step, no rewind.
    assert (cube.x, cube.z) == (-10, -10 + state.world.step_len)
    assert all(cube.id not in positions for tick, positions in state.history if tick <= now)
