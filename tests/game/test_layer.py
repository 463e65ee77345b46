"""The in-memory layer's own behaviour (game/transport/memory_layer.py): delivery, adoption, the sweep."""

import asyncio
import math

import pytest
from channels.exceptions import ChannelFull

from game.transport.memory_layer import ArenaChannelLayer
from tests.own_loop import in_own_loop


@pytest.fixture
def layer():
    return ArenaChannelLayer(expiry=60, capacity=3, sweep_every=0)


async def adopted_member(layer, group: str) -> tuple[str, asyncio.Queue]:
    """A new channel adopted into an inbox of its own, in `group`."""
    ch = await layer.new_channel()
    inbox: asyncio.Queue = asyncio.Queue(10)
    layer.adopt(ch, inbox)
    await layer.group_add(group, ch)
    return ch, inbox


@in_own_loop
async def test_it_delivers_without_copying_and_keeps_a_drained_queue(layer):
    ch = await layer.new_channel()
    msg = {"type": "x", "payload": [1, 2]}
    await layer.send(ch, msg)
    assert await layer.receive(ch) is msg  # handed over: senders never touch it again
    assert ch in layer.channels  # not rebuilt for the next message


@in_own_loop
async def test_a_full_channel_raises_channel_full(layer):
    ch = await layer.new_channel()
    for i in range(3):
        await layer.send(ch, {"type": "x", "i": i})
    with pytest.raises(ChannelFull):
        await layer.send(ch, {"type": "x", "i": 3})


@in_own_loop
async def test_an_adopted_channel_delivers_into_the_inbox_and_survives_the_sweep(layer):
    ch, inbox = await adopted_member(layer, "g")
    await layer.group_send("g", {"type": "snap", "tick": 1})
    await layer.send(ch, {"type": "direct"})
    got = [inbox.get_nowait()[1]["type"] for _ in range(2)]
    assert got == ["snap", "direct"]
    idle = await layer.new_channel()
    await layer.send(idle, {"type": "x"})
    await layer.receive(idle)
    layer._clean_expired()  # sweep_every=0: sweeps now
    assert ch in layer.channels and idle not in layer.channels  # empty, nobody waiting: dropped
    layer.release(ch)
    assert ch not in layer.channels


@in_own_loop
async def test_the_sweep_drops_expired_messages_and_their_channels_group_memberships(layer):
    ch, inbox = await adopted_member(layer, "g")
    inbox.put_nowait((0.0, {"type": "old"}))  # expired long ago
    layer._clean_expired()
    assert inbox.empty() and ch not in layer.groups.get("g", {})
    inbox.put_nowait((math.inf, {"type": "socket"}))  # a pump's item never expires
    layer._clean_expired()
    assert inbox.qsize() == 1
