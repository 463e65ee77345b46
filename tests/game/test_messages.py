"""The layer's message types: every one survives the seam (and Redis' msgpack) as itself;
anything else is refused with what is wrong."""

import msgpack
import pytest

from game import messages as m
from game.sim.commands import Command
from game.sim.verdicts import Verdict

JOIN = m.MatchJoin(match="a", player=3, nickname="alice", color="#f00", enc="msgpack", reply="r!1")
EXAMPLES = [
    JOIN,
    m.MatchStart(match="a", join=JOIN),
    m.ArbiterPing(reply="r!1"),
    m.MatchLeave(match="a", player=None, reply="r!2"),
    m.MatchCmd(match="a", reply="r!1", cmd=Command(3, 7, 120, "move", (4, 5), (1.5, -2.0))),
    m.MatchCmds(match="a", cmds=[m.MatchCmd(match="a", reply="f#2", cmd=Command(3, 8, 121, "delete", (4,)))]),
    m.MatchResync(match="a", reply="r!1", enc="json"),
    m.MatchEnd(match="a", player=3, reply="r!1"),
    m.MatchNote(match="a", player=3, kind="error", payload={"code": "bad_json"}),
    m.MatchRtt(match="a", player=3, ms=41.5),
    m.MatchVerdicts(
        match="a", verdicts=[Verdict("correction", "speed_cap", 3, [4], (0.0, 1.0), {"moved": 9})]
    ),
    m.MatchTick(match="a", due=12.25),
    m.MatchFlushDue(match="a"),
    m.MatchAuditDue(match="a"),
    m.MatchClaimed(
        match="a",
        claim=m.Claim(
            owned=True, tick_rate=20, arena=(50, 60), creator=3, checkpoint={"tick": 5}, adopted=True
        ),
    ),
    m.MatchClaimed(match="a", error="timed out"),
    m.MatchFlushed(
        match="a", flush=2, actions=[m.OperatorVerdict(9, Verdict("removal", "operator", None, [4]))]
    ),
    m.AuditBatch(match="a", reply="arb!1", batch={"commands": []}),
    m.GameWelcome(tick=4, arbiter="arb!1", data=b"\x81\xa4type"),
    m.GameSnap(tick=5, full=False, text='{"type":"snap"}', data=b"\x80"),
    m.GameMessage(msg={"type": "reject", "seq": 2}),
    m.GameReplaced(),
    m.GameEnded(reason="ended by its creator"),
    m.GameKick(code=4430, reason="removed"),
    m.GameUnowned(),
    m.ArbiterPong(arbiter="arb!1", matches=2),
    m.HealthEcho(),
]
ACCEPTS = m.ToArbiter | m.ToAuditor | m.ToSocket | m.ToHealth


@pytest.mark.parametrize("msg", EXAMPLES, ids=lambda msg: type(msg).__name__)
def test_every_message_crosses_the_layer_as_itself(msg):
    raw = m.pack(msg)
    assert raw["type"] == type(msg).__struct_config__.tag and raw["v"] == m.VERSION
    assert m.unpack(raw, ACCEPTS) == msg
    over_redis = msgpack.unpackb(msgpack.packb(raw, use_bin_type=True), raw=False)  # as channels-redis does
    assert m.unpack(over_redis, ACCEPTS) == msg


def test_a_command_travels_as_one_compact_array():
    assert list(m.pack(EXAMPLES[4])["cmd"]) == [3, 7, 120, "move", (4, 5), (1.5, -2.0), None, None, 0]


@pytest.mark.parametrize(
    "raw, why",
    [
        ({"type": "match.warp", "match": "a"}, "match.warp"),
        ({"type": "match.tick", "v": 2, "match": "a", "due": 1.0}, "version 2"),
        ({"type": "match.tick", "match": "a"}, "due"),
        ({"type": "match.cmd", "match": "a", "reply": "r", "cmd": [1, 2]}, "cmd"),
        ({"match": "a"}, "type"),
    ],
)
def test_it_refuses_what_it_does_not_know(raw, why):
    with pytest.raises(m.Refused, match=why):
        m.unpack(raw, m.ToArbiter)


def test_a_socket_refuses_an_arbiters_message_and_the_other_way_round():
    with pytest.raises(m.Refused):
        m.unpack(m.pack(m.MatchTick(match="a", due=1.0)), m.ToSocket)
    with pytest.raises(m.Refused):
        m.unpack(m.pack(m.GameReplaced()), m.ToArbiter)
