"""Affinity on real processes: each Daphne runs its own arbiter (s1, s2), advertises its load,
and the lobby sends a match's players to the process that should serve it."""

import asyncio
import signal

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from lobby.models import Match, MatchEvent, Participation

from .cluster import Socket, TcpProxy, create_match, guest


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
    await adverts_show(cluster, lambda ads: ads["s1"]["players"] == 1)
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
    # bob's socket lands first, on the other process (a proxy that ignored the prefix): the
    # match still starts where placement put it, so the players routed right are local to it.
    b = await play(bob, match, two, enc="msgpack")
    a = await play(alice, match, one)
    ads = await asyncio.to_thread(cluster.adverts)
    assert await asyncio.to_thread(owner_of, match["id"]) == ads["s1"]["arbiter"]
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


FAST = {"CUBEARENA_MATCH_LEASE_S": "2", "CUBEARENA_MATCH_WATCH_S": "0.5", "CUBEARENA_SOCKET_SILENT_S": "3"}


async def reconnect_like_a_browser(account, match_id: str, servers, dead, timeout: float) -> Socket:
    """Ask the API for the match again (any live server: the proxy's job) and open its `ws` on
    the server it names, until a welcome comes; as the browser's reconnect with back-off does."""
    from loadbots.client import Account

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    live = [s for s in servers if s is not dead]
    api = Account(live[0].url)
    api.http.cookies.update(account.http.cookies)  # the same player (cookies are per host, not port)
    api.player = account.player
    by_name = {s.server_name: s for s in servers}
    try:
        while True:
            match = await api.match(match_id)
            server = by_name[match["ws"].split("/")[2]]
            if server is not dead:
                try:
                    return await Socket.open(
                        api, match, server_url=server.url, timeout=max(0.5, deadline - loop.time())
                    )
                except (OSError, AssertionError, TimeoutError):
                    pass
            assert loop.time() < deadline, f"no welcome within {timeout} s of the fault"
            await asyncio.sleep(0.25)
    finally:
        await api.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_when_the_owning_server_goes_its_players_reconnect_to_the_adopter(make_cluster, sig):
    """Its sockets go with its arbiter (killed; or stopped, after handing the match over): they
    ask the API again and play on with the process that took the match within lease + 3 s; the
    other server's player never reconnects; nothing acknowledged is lost."""
    cluster = make_cluster(servers=2, arbiters=0, auditor=False, affinity=True, env=FAST)
    one, two = cluster.servers
    await adverts_show(cluster, lambda ads: set(ads) == {"s1", "s2"})
    alice, bob = await guest(one.url, "alice"), await guest(two.url, "bob")
    match = await create_match(alice, name="owner dies", tick_rate=20)
    assert match["ws"].startswith("/s/s1/")
    a = await play(alice, match, one)
    b = await play(bob, match, two, enc="msgpack")  # through the cross-process path
    last = await a.cmd("spawn", at=[9, 9], cid="last-a")
    await a.until_acked(last)
    await b.wait_for(lambda s: len(s.ents) == 3, what="bob sees alice's last cube")
    acked = {e["id"]: (e["tx"], e["tz"]) for e in b.ents.values()}
    tick = b.last_tick

    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    one.proc.send_signal(sig)  # not waited for: a stopping server hands over, closes, then exits
    lease = float(FAST["CUBEARENA_MATCH_LEASE_S"])
    a2 = await reconnect_like_a_browser(alice, match["id"], cluster.servers, one, timeout=lease + 3)
    assert a2.welcome["you"] == alice.player
    await b.wait_for(lambda s: len(s.of_type("welcome")) > 1, timeout=lease + 3, what="bob's new welcome")
    assert loop.time() - killed_at <= lease + 3
    assert b.closed_code is None, "bob, on the surviving server, had to reconnect"
    for sock in (a2, b):
        cubes = {e["id"]: (e["tx"], e["tz"]) for e in sock.ents.values()}
        assert cubes == acked, "an acknowledged command was lost"
        assert sock.last_tick >= tick, "tick numbers went back"
    # Play goes on, both on the adopter's process now.
    assert (await asyncio.to_thread(cluster.adverts))["s2"]["arbiter"] == await asyncio.to_thread(
        owner_of, match["id"]
    )
    await a2.until_acked(await a2.cmd("spawn", at=[12, 1], cid="after"), timeout=5)
    await b.wait_for(lambda s: len(s.ents) == 4, what="bob sees alice's cube made after the fault")
    assert await asyncio.to_thread(one.proc.wait, 10) is not None  # and the server did exit
    if sig == signal.SIGTERM:
        assert "1 matches handed over" in one.log()
    for sock in (a2, b):
        await sock.close()
    for account in (alice, bob):
        await account.close()


async def a_match_on_s1(make_cluster, nickname: str, env: dict, **kwargs):
    """Two servers with their arbiters; a new match of `nickname`'s, which lands on s1, with
    their socket there: (cluster, account, match, socket)."""
    cluster = make_cluster(servers=2, arbiters=0, auditor=False, affinity=True, env=env, **kwargs)
    await adverts_show(cluster, lambda ads: set(ads) == {"s1", "s2"})
    one = cluster.servers[0]
    account = await guest(one.url, nickname)
    match = await create_match(account, name=f"{nickname}'s", tick_rate=20)
    assert match["ws"].startswith("/s/s1/")
    return cluster, account, match, await play(account, match, one)


async def test_a_killed_servers_player_leaves_no_ghost_seat_and_its_empty_match_ends(make_cluster):
    """kill -9 of the server that ran both a match and its only socket: the other server adopts
    the match, finds the seat's socket never comes back, sets it offline and ends the empty match."""
    env = {**FAST, "CUBEARENA_MATCH_EMPTY_GRACE_S": "2"}
    cluster, carol, alone, c = await a_match_on_s1(make_cluster, "carol", env)
    one, two = cluster.servers
    one.proc.send_signal(signal.SIGKILL)

    def state():
        seat = Participation.objects.get(match_id=alone["id"], player_id=carol.player)
        match = Match.objects.get(pk=alone["id"])
        adopted = MatchEvent.objects.filter(match_id=alone["id"], kind="adopt").exists()
        return seat.online, match.status, adopted

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while (now := await database_sync_to_async(state)()) != (False, "finished", True):
        assert loop.time() < deadline, f"carol's seat, her match, adopted: {now}"
        await asyncio.sleep(0.2)
    assert f"match {alone['id']}: adopt by" in two.log()
    await c.close()
    await carol.close()


async def test_a_server_cut_off_from_redis_acknowledges_nothing_more_and_its_player_moves_to_the_adopter(
    make_cluster, redis_server
):
    """The owner's process reaches Redis through a proxy the test cuts: it can no longer log or
    renew its lease, so its sockets hear nothing more; the other server adopts the match once the
    lease lapses; the player, reconnecting as the browser does after a silence, plays on there
    with nothing acknowledged lost; when the link comes back the old owner steps down."""
    proxy = TcpProxy("127.0.0.1", redis_server.port)
    try:
        cut_off = {"REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
        cluster, alice, match, a = await a_match_on_s1(make_cluster, "alice", FAST, server_env=[cut_off])
        one = cluster.servers[0]
        await a.until_acked(await a.cmd("spawn", at=[4, 4], cid="last"))
        acked = {e["id"]: (e["tx"], e["tz"]) for e in a.ents.values()}
        tick = a.last_tick

        proxy.cut()
        late = await a.cmd("spawn", at=[-4, -4], cid="after the cut")  # must never be acknowledged
        lease = float(FAST["CUBEARENA_MATCH_LEASE_S"])
        loop = asyncio.get_running_loop()
        silent_from = loop.time()
        while loop.time() - silent_from < 1.0:  # the browser drops a socket silent this long
            heard = len(a.frames)
            await asyncio.sleep(0.25)
            if len(a.frames) != heard:
                silent_from = loop.time()
            assert loop.time() < silent_from + lease + 5, "the cut-off owner kept publishing"
        assert not a.acked(late), "the cut-off owner acknowledged a command it could not log"
        await a.close()
        a2 = await reconnect_like_a_browser(alice, match["id"], cluster.servers, one, timeout=lease + 5)
        assert a2.welcome["you"] == alice.player and a2.last_tick >= tick, "tick numbers went back"
        assert {e["id"]: (e["tx"], e["tz"]) for e in a2.ents.values()} == acked, "acknowledged input lost"
        await a2.until_acked(await a2.cmd("spawn", at=[6, 6], cid="on the adopter"), timeout=5)

        proxy.restore()
        deadline = loop.time() + 10
        while "another arbiter owns it now; stepping down" not in one.log():
            assert loop.time() < deadline, "the old owner did not step down once it reached Redis again"
            await asyncio.sleep(0.2)
        await a2.until_acked(await a2.cmd("spawn", at=[7, 7], cid="still"), timeout=5)
        assert len(a2.ents) == len(acked) + 2, "the command sent to the cut-off owner took effect"
        await a2.close()
        await alice.close()
    finally:
        proxy.close()
