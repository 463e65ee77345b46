"""A socket told to join again (its match moved to another arbiter) gets a fresh welcome and
then nothing older than it: not a delta, not a full snap left over from before."""

import json

import pytest
from channels.layers import get_channel_layer

from game.arbiter.consumer import RUNTIMES
from game.messages import GameRejoin, GameSnap
from game.transport.broadcast import deliver

from .players import Client, make_match, make_player

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("arbiter")
async def test_after_a_rejoin_welcome_no_older_snap_reaches_the_client():
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    first = await a.connect()
    runtime = RUNTIMES[str(match.id)]
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="c1"), alice.pk)
    while a.tick < 5:
        await a.next("snap")
    reply = runtime.sockets[alice.pk][0]
    layer = get_channel_layer()
    stale = json.dumps({"type": "snap", "tick": 2, "full": True, "t": 0, "ents": [], "gone": [], "acks": {}})
    await deliver(layer, reply, GameRejoin(arbiter=runtime.channel, known=False))
    await deliver(layer, reply, GameSnap(tick=2, full=True, text=stale))  # held while the rejoin waits
    second = await a.next("welcome", timeout=5)
    assert second["snap"]["tick"] >= first["snap"]["tick"] and second["ack"] == a.seq
    for _ in range(5):
        snap = await a.next("snap")
        assert snap["tick"] > second["snap"]["tick"] > 2, snap["tick"]
    assert [e["id"] for e in second["snap"]["ents"]] == [1]
    await a.close()
