"""Affinity on real processes: each Daphne runs its own arbiter (s1, s2), advertises its load,
and the lobby sends a match's players to the process that should serve it."""

import asyncio

from django.db import connection

from .cluster import Socket, create_match, guest


async def adverts_show(cluster, test, timeout: float = 10) -> dict:
    """Until the servers' load adverts pass `test`; the adverts."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        ads = await asyncio.to_thread(cluster.adverts)
        if test(ads):
            return ads
        assert loop.time() < deadline, f"adverts never showed it: {ads}"
        await asyncio.sleep(0.2)


def owner_of(match_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT arbiter_channel FROM lobby_match WHERE id = %s", [match_id])
        return cursor.fetchone()[0]


async def play(account, match, server, enc="json") -> Socket:
    sock = await Socket.open(account, match, server_url=server.url, enc=enc)
    await sock.until_acked(await sock.cmd("spawn", at=[1, 1], cid="c1"))
    return sock


async def test_a_new_match_lands_on_the_less_loaded_process_and_its_ws_names_it(make_cluster):
    cluster = make_cluster(servers=2, arbiters=0, auditor=False, affinity=True)
    one, two = cluster.servers
    await adverts_show(cluster, lambda ads: set(ads) == {"s1", "s2"})
    alice, bob = await guest(one.url, "alice"), await guest(one.url, "bob")
    first = await create_match(alice, name="first")
    assert first["ws"] == f"/s/s1/ws/match/{first['id']}/", first["ws"]  # a tie goes to s1
    a = await play(alice, first, one)
    b = await play(bob, first, one)  # its owner's process: s1 holds both players
    owner = await asyncio.to_thread(owner_of, first["id"])
    ads = await adverts_show(cluster, lambda ads: ads["s1"]["players"] == 2)
    assert ads["s1"]["arbiter"] == owner and ads["s2"]["players"] == 0
    # The running match keeps sending its players to its owner...
    again = await bob.match(first["id"])
    assert again["ws"].startswith("/s/s1/"), again["ws"]
    # ...and a new match goes to the process with fewer players, which then owns it.
    carol = await guest(two.url, "carol")
    second = await create_match(carol, name="second")
    assert second["ws"] == f"/s/s2/ws/match/{second['id']}/", second["ws"]
    c = await play(carol, second, two)
    ads = await adverts_show(cluster, lambda ads: ads["s2"]["players"] == 1)
    assert await asyncio.to_thread(owner_of, second["id"]) == ads["s2"]["arbiter"]
    for sock in (a, b, c):
        await sock.close()
    for account in (alice, bob, carol):
        await account.close()


async def test_a_process_at_capacity_takes_no_new_match(make_cluster):
    cluster = make_cluster(
        servers=2,
        arbiters=0,
        auditor=False,
        affinity=True,
        server_env=[{"CUBEARENA_SERVER_CAPACITY": "1"}, {"CUBEARENA_SERVER_CAPACITY": "100"}],
    )
    one, two = cluster.servers
    await adverts_show(cluster, lambda ads: set(ads) == {"s1", "s2"})
    accounts = [await guest(one.url, f"p{i}") for i in range(4)]
    small = await create_match(accounts[0], name="on s1")
    assert small["ws"].startswith("/s/s1/")
    sockets = [await play(accounts[0], small, one)]
    big = await create_match(accounts[1], name="on s2")
    assert big["ws"].startswith("/s/s2/")  # s1 is full (1 of 1)
    sockets += [await play(acct, big, two) for acct in accounts[1:]]
    await adverts_show(cluster, lambda ads: ads["s1"]["players"] == 1 and ads["s2"]["players"] == 3)
    # s1 has fewer players, but it is at its capacity: the new match goes to s2.
    third = await create_match(accounts[0], name="third")
    assert third["ws"].startswith("/s/s2/"), third["ws"]
    for sock in sockets:
        await sock.close()
    for account in accounts:
        await account.close()


async def test_players_on_two_processes_see_each_other_within_three_ticks(make_cluster):
    """One player by affinity (on the owner's process), one through the other process."""
    cluster = make_cluster(servers=2, arbiters=0, auditor=False, affinity=True)
    one, two = cluster.servers
    await adverts_show(cluster, lambda ads: set(ads) == {"s1", "s2"})
    alice, bob = await guest(one.url, "alice"), await guest(two.url, "bob")
    match = await create_match(alice, name="across", tick_rate=20)
    assert match["ws"].startswith("/s/s1/")
    a = await play(alice, match, one)
    b = await play(bob, match, two, enc="msgpack")  # the same path, on the other process
    mine = {s: next(e["id"] for e in s.ents.values() if e["owner"] == s.player) for s in (a, b)}
    for mover, watcher in ((a, b), (b, a), (a, b), (b, a)):
        target = [round(10 - mover.last_tick % 20, 2), -7.0]
        sent_at = watcher.last_tick
        await mover.cmd("move", ids=[mine[mover]], to=target)

        def sees(sock, cube=mine[mover], target=target):
            ent = sock.ents.get(cube)
            return ent is not None and [ent["tx"], ent["tz"]] == target

        await watcher.wait_for(sees, timeout=5, what="the other player's move")
        assert watcher.last_tick - sent_at <= 3, (watcher.last_tick, sent_at)
    for sock in (a, b):
        await sock.close()
    for account in (alice, bob):
        await account.close()
