"""The rules engine of one match: ownership, caps, rates, seq and acks (no Django, no clock)."""

from game import limits
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World

ALICE, BOB = 1, 2


def match(**kw) -> MatchState:
    state = MatchState(World(100, 100, speed=5, tick_rate=10), **kw)
    state.seat(ALICE, "alice", "#e5533d", now=0.0)
    state.seat(BOB, "bob", "#3d8be5", now=0.0)
    return state


def spawn(state, player, seq, at=(0, 0), now=0.0):
    return state.submit(Command(player, seq, 0, "spawn", point=at, cid=f"c{seq}"), now)


def test_it_spawns_a_cube_for_its_owner_on_the_next_tick():
    state = match()
    assert spawn(state, ALICE, 1, (3, 4)) is None
    assert state.world.entities == {}
    result = state.tick(0.1)
    (cube,) = state.world.entities.values()
    assert (cube.owner, cube.x, cube.z) == (ALICE, 3, 4)
    assert result.acks == {ALICE: 1}
    assert result.changes.cids == {cube.id: "c1"}


def test_it_refuses_bob_moving_or_deleting_alices_cube_and_changes_nothing():
    state = match()
    spawn(state, ALICE, 1)
    state.tick(0.1)
    (cube,) = state.world.entities.values()
    state.submit(Command(BOB, 1, 1, "move", (cube.id,), (20, 20)), 0.2)
    state.submit(Command(BOB, 2, 1, "delete", (cube.id,)), 0.2)
    result = state.tick(0.2)
    assert [(r.player, r.seq, r.code) for r in result.rejects] == [
        (BOB, 1, "not_owner"),
        (BOB, 2, "not_owner"),
    ]
    assert (cube.tx, cube.tz) == (0, 0) and cube.id in state.world.entities
    assert result.acks == {BOB: 2}  # refused commands are processed too
    assert state.seats[BOB].rejected == 2


def test_it_refuses_a_whole_command_when_one_id_is_unknown():
    state = match()
    spawn(state, ALICE, 1)
    state.tick(0.1)
    (cube,) = state.world.entities.values()
    state.submit(Command(ALICE, 2, 1, "move", (cube.id, 999), (10, 0)), 0.2)
    result = state.tick(0.2)
    assert [r.code for r in result.rejects] == ["unknown_entity"]
    assert (cube.tx, cube.tz) == (0, 0)


def test_it_moves_and_nudges_own_cubes():
    state = match()
    spawn(state, ALICE, 1)
    state.tick(0.1)
    (cube,) = state.world.entities.values()
    state.submit(Command(ALICE, 2, 1, "move", (cube.id,), (10, 0)), 0.2)
    state.tick(0.2)
    assert (cube.tx, cube.x) == (10, 0.5)
    state.submit(Command(ALICE, 3, 2, "nudge", (cube.id,), (0.0, -1.0)), 0.3)
    state.tick(0.3)
    assert (cube.tx, cube.tz) == (0.5, -1.0)  # one unit from where it stood when nudged


def test_it_clamps_a_move_target_to_the_arena():
    state = match()
    spawn(state, ALICE, 1)
    state.tick(0.1)
    (cube,) = state.world.entities.values()
    state.submit(Command(ALICE, 2, 1, "move", (cube.id,), (80, -80)), 0.2)
    state.tick(0.2)
    assert (cube.tx, cube.tz) == (50, -50)


def test_it_caps_cubes_per_player():
    state = match(cube_cap=3)
    for seq in range(1, 5):
        assert spawn(state, ALICE, seq, now=seq * 0.3) is None
    result = state.tick(2.0)
    assert [r.code for r in result.rejects] == ["cube_cap"]
    assert state.world.count_owned(ALICE) == 3


def test_it_refuses_a_sixth_spawn_within_a_second_with_retry_ms():
    state = match()
    answers = [spawn(state, ALICE, seq, now=0.5) for seq in range(1, 7)]
    assert answers[:5] == [None] * 5
    assert answers[5].code == "spawn_cooldown" and answers[5].retry_ms > 0
    assert spawn(state, ALICE, 7, now=1.6) is None  # a second later it fits again


def test_it_rate_limits_commands_beyond_the_burst():
    state = match()
    spawn(state, ALICE, 1)
    state.tick(0.1)
    (cube,) = state.world.entities.values()
    answers = [
        state.submit(Command(ALICE, s, 1, "move", (cube.id,), (1, 1)), 0.2)
        for s in range(2, 2 + limits.CMD_BURST + 5)
    ]
    refused = [a for a in answers if a is not None]
    assert len(refused) == 5 and {a.code for a in refused} == {"rate_limited"}
    assert all(a.retry_ms > 0 for a in refused)
    # 30 a second sustained: after a second, about 30 more fit
    later = [state.submit(Command(ALICE, s, 1, "move", (cube.id,), (1, 1)), 1.2) for s in range(100, 140)]
    assert 28 <= sum(a is None for a in later) <= 31


def test_it_refuses_a_stale_seq_without_moving_the_ack():
    state = match()
    spawn(state, ALICE, 5)
    state.tick(0.1)
    reject = spawn(state, ALICE, 5, now=0.3)
    assert reject.code == "stale_seq"
    result = state.tick(0.4)
    assert result.acks == {} and state.seats[ALICE].ack == 5


def test_it_acks_a_command_refused_on_arrival_at_the_next_tick():
    state = match()
    for seq in range(1, 7):
        spawn(state, ALICE, seq, now=0.0)
    result = state.tick(0.1)
    assert result.acks == {ALICE: 6}


def test_it_refuses_commands_after_the_end():
    state = match()
    state.ended = True
    assert spawn(state, ALICE, 1).code == "match_ended"


def test_it_restores_a_checkpoint_exactly():
    state = match()
    for seq in range(1, 4):
        spawn(state, ALICE, seq, at=(seq, -seq), now=seq)
    state.tick(4.0)
    first = next(iter(state.world.entities.values()))
    state.submit(Command(ALICE, 4, 1, "move", (first.id,), (20, 20)), 4.1)
    state.tick(4.1)
    copy = MatchState(World(100, 100, speed=5, tick_rate=10))
    copy.restore(state.checkpoint(now=4.1), now=10.0)
    assert copy.checkpoint(now=10.0) == state.checkpoint(now=4.1)
    state.tick(4.2)
    copy.tick(10.1)
    assert copy.checkpoint(10.1)["ents"] == state.checkpoint(4.2)["ents"]


def test_it_refuses_a_command_from_a_player_without_a_seat():
    state = match()
    reject = spawn(state, 99, 1)
    assert (reject.code, reject.player) == ("bad_message", 99)
    assert state.queue == []


def test_it_accepts_each_op_from_its_owner_within_every_rule():
    state = match()
    assert spawn(state, ALICE, 1, (60, -60)) is None  # out of bounds: clamped, not refused
    result = state.tick(0.1)
    (cube,) = state.world.entities.values()
    assert (cube.x, cube.z) == (50, -50) and result.rejects == []
    for seq, op, extra in [
        (2, "move", {"point": (1, 1)}),
        (3, "nudge", {"point": (1.0, 0.0)}),
        (4, "delete", {}),
    ]:
        assert (
            state.submit(Command(ALICE, seq, state.world.tick, op, (cube.id,), **extra), 0.2 + seq / 10)
            is None
        )
        assert state.tick(0.2 + seq / 10).rejects == []
    assert state.world.entities == {} and state.seats[ALICE].ack == 4
