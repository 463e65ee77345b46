"""The real-process harness itself: two Daphne servers and an arbiter on a Redis of the test's own."""

from .cluster import Socket, create_match, guest


async def test_two_servers_share_a_match_and_the_redis_comes_back_empty(make_cluster, redis_server):
    cluster = make_cluster(redis_server.url, servers=2, arbiters=1, auditor=False)
    one, two = cluster.servers
    alice = await guest(one.url, "alice")
    bob = await guest(two.url, "bob")
    match = await create_match(alice, name="two servers", tick_rate=20)

    a = await Socket.open(alice, match)
    b = await Socket.open(bob, match, enc="msgpack")
    assert a.welcome["you"] == alice.player and b.welcome["you"] == bob.player
    await a.until_acked(await a.cmd("spawn", at=[3, 4], cid="a1"))
    await b.until_acked(await b.cmd("spawn", at=[-5, 6], cid="b1"))

    def both_cubes(sock):
        return sorted((e["owner"], e["x"], e["z"]) for e in sock.ents.values()) == sorted(
            [(alice.player, 3, 4), (bob.player, -5, 6)]
        )

    await a.wait_for(both_cubes, what="both cubes on server one")
    await b.wait_for(both_cubes, what="both cubes on server two")
    assert a.last_tick > 0 and b.last_tick > 0
    await a.close()
    await b.close()
    await alice.close()
    await bob.close()

    with redis_server.client() as client:
        client.set("marker", "before")
    redis_server.kill()
    assert not redis_server.ping()
    redis_server.restart_empty()
    assert redis_server.ping()
    with redis_server.client() as client:  # (the live match's owner may have written its lease back)
        assert client.get("marker") is None
