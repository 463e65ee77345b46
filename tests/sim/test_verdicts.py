"""What verdicts do to a match, and who may end it: rules of the match, with no server."""

from game.sim import rules, verdicts
from game.sim.match import MatchState
from game.sim.verdicts import Verdict
from game.sim.world import World

ALICE, MALLORY = 1, 2


def match_with_cubes() -> MatchState:
    state = MatchState(World(100, 100, 5.0, 20), creator=ALICE)
    for player in (ALICE, MALLORY):
        state.seat(player, f"p{player}", "#fff", 0.0)
    state.world.spawn(ALICE, 1.0, 1.0, None)  # id 1
    state.world.spawn(MALLORY, 2.0, 2.0, None)  # id 2
    state.world.spawn(MALLORY, 3.0, 3.0, None)  # id 3
    return state


def test_only_the_creator_may_end_the_match():
    state = match_with_cubes()
    assert rules.may_end(state, ALICE) is None
    assert rules.may_end(state, MALLORY)[0] == "not_creator"
    assert rules.may_end(state, None)[0] == "not_creator"  # a spectator
    assert rules.may_end(MatchState(World(10, 10, 5.0, 10)), ALICE)[0] == "not_creator"  # nobody created it


def test_a_correction_puts_the_cube_back_and_is_recorded_with_its_evidence():
    state = match_with_cubes()
    out = verdicts.apply(
        state, Verdict("correction", "speed_cap", MALLORY, [2, 99], (0.5, -0.5), {"moved": 30})
    )
    ent = state.world.entities[2]
    assert (ent.x, ent.z) == (0.5, -0.5) and out.corrected == [2] and out.kicked is None
    assert "speed_cap" in out.reason and out.result == "moved [2]"
    event = state.events[-1]
    assert (event.kind, event.player, event.payload["evidence"], event.payload["to"]) == (
        "correction",
        MALLORY,
        {"moved": 30},
        [0.5, -0.5],
    )


def test_a_removal_removes_and_a_warning_adds_a_strike():
    state = match_with_cubes()
    out = verdicts.apply(state, Verdict("removal", "operator", None, [3]))
    assert 3 not in state.world.entities and out.corrected == [3]
    assert verdicts.apply(state, Verdict("warning", "flood_near_limit", MALLORY)).corrected == []
    assert state.seats[MALLORY].strikes == 1
    assert [e.kind for e in state.events] == ["correction", "warning"]


def test_a_kick_bars_the_seat_removes_its_cubes_and_names_the_socket_to_close():
    state = match_with_cubes()
    out = verdicts.apply(state, Verdict("kick", "strikes", MALLORY, evidence={"warnings": 3}))
    assert out.kicked == MALLORY and sorted(out.corrected) == [2, 3] and out.rule == "strikes"
    assert state.seats[MALLORY].kicked and list(state.world.entities) == [1]
    assert state.events[-1].kind == "kick" and state.events[-1].payload["removed"] == [2, 3]
    assert verdicts.apply(state, Verdict("kick", "strikes", MALLORY)).result == "no such player"  # once only
