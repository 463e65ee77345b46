"""The slow rules, each raising its verdict from a crafted batch, and a real batch passing clean."""

from game import limits
from game.sim.audit import flood_near_limit, impossible_sequence, lag_claims, review, speed_cap
from game.sim.commands import Command
from game.sim.match import MatchState
from game.sim.world import World

ALICE, MALLORY = 1, 2


def batch(**over) -> dict:
    base = {
        "tick_rate": 20,
        "speed": 5.0,
        "from": 100,
        "to": 120,
        "commands": [],
        "trails": {},
        "owners": {},
        "placed": [],
        "born": {},
        "refused": {},
        "rtt": {},
        "strikes": {},
    }
    return {**base, **over}


def test_it_corrects_a_cube_that_jumped_faster_than_its_speed():
    trail = [[100, 0.0, 0.0], [101, 0.25, 0.0], [102, 9.0, 0.0], [103, 9.25, 0.0]]
    (v,) = speed_cap(batch(trails={"7": trail}, owners={"7": MALLORY}))
    assert (v.kind, v.rule, v.player, v.ids, v.to) == ("correction", "speed_cap", MALLORY, [7], (0.25, 0.0))
    assert v.evidence["moved"] > v.evidence["allowed"]


def test_it_lets_a_backdated_move_and_a_placement_explain_a_jump():
    trail = [[100, 0.0, 0.0], [101, 0.25, 0.0], [102, 1.2, 0.5]]
    backdated = [ALICE, 5, "move", [7], 97, 97, 101, 0]  # applied 4 ticks back at tick 101
    assert speed_cap(batch(trails={"7": trail}, commands=[backdated])) == []
    assert speed_cap(batch(trails={"7": trail}, placed=[[7, 102]])) == []


def test_it_warns_of_claims_further_back_than_the_round_trip_explains():
    claims = [[MALLORY, s, "move", [7], 110 - 5, 110 - 5, 110, 0] for s in range(1, 4)]  # 250 ms back each
    (v,) = lag_claims(batch(commands=claims, rtt={str(MALLORY): [20, 22, 21]}))
    assert (v.kind, v.rule, v.player) == ("warning", "lag_claims", MALLORY)
    assert v.evidence["count"] == 3
    assert (
        lag_claims(batch(commands=claims, rtt={str(MALLORY): [300, 310, 290]})) == []
    )  # 150 ms one way: fine


def test_it_warns_of_a_flood_just_under_the_limit():
    commands = [[MALLORY, s, "move", [7], 100, 100, 100, 0] for s in range(29)]
    (v,) = flood_near_limit(batch(commands=commands))
    assert (v.rule, v.player) == ("flood_near_limit", MALLORY)
    honest = [[ALICE, s, "move", [3], 100, 100, 100, 0] for s in range(10)]
    assert flood_near_limit(batch(commands=honest)) == []


def test_it_warns_of_a_command_claiming_a_tick_before_its_cube_existed():
    cmd = [MALLORY, 9, "move", [7], 104, 110, 110, 0]
    (v,) = impossible_sequence(batch(commands=[cmd], born={"7": 108}))
    assert (v.rule, v.ids, v.evidence["born"]) == ("impossible_sequence", [7], {"7": 108})


def test_it_kicks_at_the_strike_limit():
    cmd = [MALLORY, 9, "move", [7], 104, 110, 110, 0]
    verdicts = review(
        batch(commands=[cmd], born={"7": 108}, strikes={str(MALLORY): limits.AUDIT_STRIKES_TO_KICK - 1})
    )
    assert [v.kind for v in verdicts] == ["warning", "kick"]


def test_it_finds_nothing_in_honest_play():
    state = MatchState(World(100, 100, speed=5, tick_rate=20))
    state.seat(ALICE, "alice", "#e5533d", now=0.0)
    state.seats[ALICE].rtt_ms.extend([80, 90])
    state.submit(Command(ALICE, 1, 0, "spawn", point=(0, 0), cid="c1"), 0.0)
    state.tick(0.05)
    (cube,) = state.world.entities.values()
    t = 0.05
    for seq in range(2, 12):
        t += 0.2
        state.submit(Command(ALICE, seq, state.world.tick, "move", (cube.id,), (seq * 3, -seq)), t)
        for _ in range(4):
            state.tick(t)
    b = state.audit_batch()
    assert len(b["commands"]) == 10 and len(b["trails"][str(cube.id)]) > 30
    assert review(b) == []


def test_it_finds_nothing_when_backdated_moves_reverse_a_cube():
    state = MatchState(World(100, 100, speed=5, tick_rate=30))
    state.seat(ALICE, "alice", "#e5533d", now=0.0)
    state.submit(Command(ALICE, 1, 0, "spawn", point=(0, 0), cid="c1"), 0.0)
    state.tick(0.03)
    (cube,) = state.world.entities.values()
    t, seq = 0.03, 1
    for k in range(40):  # back and forth, every command claiming the furthest tick allowed
        seq += 1
        target = (20.0, 13.0) if k % 2 else (-20.0, -13.0)
        state.submit(
            Command(ALICE, seq, max(0, state.world.tick - state.window), "move", (cube.id,), target), t
        )
        for _ in range(state.window + 2):
            t += 1 / 30
            state.tick(t)
    assert speed_cap(state.audit_batch()) == []
