"""game/transport/redis_layer.py against the real Redis: one-round-trip send, capacity, local delivery."""

import asyncio
import secrets

import pytest
from channels.exceptions import ChannelFull
from django.conf import settings

from game.transport.redis_layer import ArenaRedisChannelLayer


def make_layer(**overrides) -> ArenaRedisChannelLayer:
    config = (
        dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
        | {"prefix": f"t{secrets.token_hex(4)}"}
        | overrides
    )
    return ArenaRedisChannelLayer(**config)


async def test_it_carries_messages_through_redis_to_another_layer_in_order():
    sender, receiver = make_layer(), make_layer()
    sender.prefix = receiver.prefix
    ch = await receiver.new_channel()
    for i in range(3):
        await sender.send(ch, {"type": "x", "i": i})
    got = [(await asyncio.wait_for(receiver.receive(ch), 5))["i"] for _ in range(3)]
    assert got == [0, 1, 2]
    await sender.send("arbiter-test", {"type": "named"})  # a named channel, too
    assert (await asyncio.wait_for(receiver.receive("arbiter-test"), 5))["type"] == "named"
    await sender.flush()


async def test_a_full_channel_raises_channel_full_and_keeps_what_it_had():
    layer = make_layer(capacity=2)
    ch = await layer.new_channel()
    await layer.send(ch, {"type": "x", "i": 0})
    await layer.send(ch, {"type": "x", "i": 1})
    with pytest.raises(ChannelFull):
        await layer.send(ch, {"type": "x", "i": 2})
    assert (await asyncio.wait_for(layer.receive(ch), 5))["i"] == 0
    await layer.flush()


async def test_an_adopted_channel_gets_this_process_messages_without_redis():
    layer = make_layer()
    ch = await layer.new_channel()
    inbox: asyncio.Queue = asyncio.Queue(1)
    layer.adopt(ch, inbox)
    msg = {"type": "match.tick", "due": 1.0}
    await layer.send(ch, msg)
    assert inbox.get_nowait()[1] is msg  # handed over, not serialised
    key = layer.prefix + layer.non_local_name(ch)
    assert await layer.connection(0).zcard(key) == 0  # nothing went to Redis
    await layer.send(ch, {"type": "one"})
    with pytest.raises(ChannelFull):  # the inbox's bound is the channel's capacity here
        await layer.send(ch, {"type": "two"})
    layer.release(ch)
    await layer.send(ch, {"type": "through redis"})
    assert await layer.connection(0).zcard(key) == 1
    await layer.flush()


async def test_a_message_older_than_the_bound_is_dropped_on_receipt():
    """As after a Redis restarted from its dump: a queued join from before is not delivered."""
    import time

    from game.transport import redis_layer

    layer = make_layer()
    await layer.send("arbiter-stale", {"type": "x", "i": "stale"})
    key = layer.prefix + "arbiter-stale"
    conn = layer.connection(layer.consistent_hash("arbiter-stale"))
    (member,) = await conn.zrange(key, 0, -1)
    await conn.zadd(key, {member: time.time() - redis_layer.MAX_AGE_S - 1}, xx=True)
    await layer.send("arbiter-stale", {"type": "x", "i": "fresh"})
    assert (await asyncio.wait_for(layer.receive("arbiter-stale"), 5))["i"] == "fresh"
    await layer.flush()


async def test_a_send_after_redis_restarted_goes_through_on_a_fresh_connection(redis_server):
    """The pooled connection died with the old Redis: the first send after it is back must not
    be lost (it was a welcome, or a snapshot)."""
    from game.transport.redis_layer import ArenaPubSubChannelLayer

    layer = make_layer(hosts=[{"address": redis_server.url}])
    pubsub = ArenaPubSubChannelLayer(hosts=[{"address": redis_server.url}], prefix=layer.prefix + "-b")
    ch = await layer.new_channel()
    await layer.send(ch, {"type": "x", "i": "before"})
    assert (await asyncio.wait_for(layer.receive(ch), 5))["i"] == "before"
    await pubsub.group_send("g", {"type": "x"})
    await asyncio.to_thread(redis_server.restart_empty)
    await layer.send(ch, {"type": "x", "i": "after"})  # raised ConnectionError before the retry
    await pubsub.group_send("g", {"type": "x"})
    assert (await asyncio.wait_for(layer.receive(ch), 5))["i"] == "after"
    await layer.flush()
    await pubsub.flush()


async def test_a_process_reads_its_channels_many_messages_a_round_trip_in_order():
    """One reader pops what waits for every channel of the process at once (BZMPOP), and
    hands each channel its messages in send order."""
    sender, receiver = make_layer(), make_layer()
    sender.prefix = receiver.prefix
    one, two = await receiver.new_channel(), await receiver.new_channel()
    for i in range(5):
        await sender.send(one, {"type": "x", "i": i})
        await sender.send(two, {"type": "y", "i": i})
    key = receiver.prefix + receiver.non_local_name(one)
    conn = receiver.connection(receiver.consistent_hash(receiver.non_local_name(one)))
    assert await conn.zcard(key) == 10
    got_one = [(await asyncio.wait_for(receiver.receive(one), 5))["i"] for _ in range(5)]
    assert got_one == [0, 1, 2, 3, 4]
    assert await conn.zcard(key) == 0  # all ten came in the first round trip
    assert [(await asyncio.wait_for(receiver.receive(two), 5))["i"] for _ in range(5)] == [0, 1, 2, 3, 4]
    assert not receiver.receive_buffer  # drained channels leave no buffer behind
    later = asyncio.create_task(receiver.receive(one))  # the reader waits in Redis for more
    await sender.send(one, {"type": "x", "i": "later"})
    assert (await asyncio.wait_for(later, 5))["i"] == "later"
    await receiver.flush()
    await sender.flush()


async def test_a_group_send_reaches_each_of_a_process_channels_in_the_group():
    """channels-redis sends a group's members on one process as one message naming them all."""
    sender, receiver = make_layer(), make_layer()
    sender.prefix = receiver.prefix
    one, two = await receiver.new_channel(), await receiver.new_channel()
    for ch in (one, two):
        await receiver.group_add("lobby-test", ch)
    await sender.group_send("lobby-test", {"type": "lobby.changed"})
    for ch in (one, two):
        assert (await asyncio.wait_for(receiver.receive(ch), 5))["type"] == "lobby.changed"
    await receiver.flush()
    await sender.flush()
