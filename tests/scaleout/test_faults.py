"""Surviving single faults, on real processes: Daphne servers, `runworker` arbiters, a Redis
of the test's own (killed and restarted), PostgreSQL behind a proxy the test can cut.

What every test checks, in the player's terms: no acknowledged command is lost, tick numbers
never go back, the records go on (counters not reset, presence right), and nobody has to
reconnect by hand for the match to come back.
"""

import asyncio
import io
import signal

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command

from game.models import MatchLogChunk
from lobby.models import Match, MatchEvent, Participation

from .cluster import Socket, TcpProxy, create_match, guest

FAST = {
    "CUBEARENA_MATCH_LEASE_S": "2",
    "CUBEARENA_MATCH_WATCH_S": "0.5",
    "CUBEARENA_SOCKET_SILENT_S": "3",
}


async def record(match_id) -> Match:
    return await database_sync_to_async(Match.objects.get)(pk=match_id)


async def seats(match_id) -> dict[int, Participation]:
    rows = await database_sync_to_async(list)(Participation.objects.filter(match_id=match_id))
    return {p.player_id: p for p in rows}


def busy_sessions() -> list[tuple]:
    """What PostgreSQL's other sessions are doing, when a write did not come: a lock held?"""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, wait_event_type, wait_event, now() - xact_start, query"
            " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state <> 'idle'"
        )
        return cursor.fetchall()


async def until(check, timeout: float, what: str):
    """Poll an async `check` until it is truthy (bounded); its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")
        await asyncio.sleep(0.1)


def owner_process(cluster, channel: str):
    """The arbiter process whose log says it is live as `channel`."""
    (proc,) = [p for p in cluster.arbiters if f"arbiter {channel}: live" in p.log()]
    return proc


async def play(sock: Socket, n: int, x: float) -> list[int]:
    """`n` spawns and a move of the first cube, every one acknowledged and none refused; their seqs."""
    seqs = [await sock.cmd("spawn", at=[x, i], cid=f"{x}-{i}") for i in range(n)]
    await sock.until_acked(seqs[-1], timeout=10)
    own = sorted(e["id"] for e in sock.ents.values() if e["owner"] == sock.player)
    seqs.append(await sock.cmd("move", ids=own[:1], to=[x, -20]))
    await sock.until_acked(seqs[-1], timeout=10)
    refused = [f for f in sock.of_type("reject") if f.get("seq") in seqs]
    assert not refused, f"refused: {refused}"
    return seqs


def rewelcomed(sock: Socket, after: int):
    return len(sock.of_type("welcome")) > after


async def two_players_on_two_servers(make_cluster, redis_server, **env):
    cluster = make_cluster(redis_server.url, servers=2, arbiters=2, auditor=False, env={**FAST, **env})
    alice = await guest(cluster.servers[0].url, "alice")
    bob = await guest(cluster.servers[1].url, "bob")
    match = await create_match(alice, name="faults", tick_rate=20)
    a = await Socket.open(alice, match)
    b = await Socket.open(bob, match, enc="msgpack")
    return cluster, match, (alice, a), (bob, b)


async def survives_losing_its_owner(make_cluster, redis_server, sig):
    cluster, match, (alice, a), (bob, b) = await two_players_on_two_servers(make_cluster, redis_server)
    await play(a, 3, 5)
    await play(b, 2, -5)
    before = await record(match["id"])
    owner = owner_process(cluster, before.arbiter_channel)
    # The last acknowledged commands, right before the fault.
    last_a, last_b = (
        await a.cmd("spawn", at=[9, 9], cid="last-a"),
        await b.cmd("spawn", at=[-9, 9], cid="last-b"),
    )
    await a.until_acked(last_a)
    await b.until_acked(last_b, player=bob.player)
    acked_cubes = {e["id"]: (e["tx"], e["tz"]) for e in a.ents.values()}
    ticks = (a.last_tick, b.last_tick)

    assert cluster.kill(owner, sig) is not None, "the arbiter did not exit"
    lease = float(FAST["CUBEARENA_MATCH_LEASE_S"])
    await a.wait_for(lambda s: rewelcomed(s, 1), timeout=lease + 3, what="alice's welcome from the new owner")
    await b.wait_for(lambda s: rewelcomed(s, 1), timeout=lease + 3, what="bob's welcome from the new owner")

    for sock, tick in zip((a, b), ticks, strict=True):
        welcome = sock.of_type("welcome")[-1]
        assert welcome["snap"]["tick"] >= tick, "tick numbers went back"
        assert welcome["ack"] >= (last_a if sock is a else last_b)
        since = max(i for i, f in enumerate(sock.frames) if f.get("type") == "welcome")
        assert all(f["tick"] >= tick for f in sock.frames[since:] if f.get("type") == "snap")
    cubes = {e["id"]: (e["tx"], e["tz"]) for e in a.ents.values()}
    assert cubes == acked_cubes, "an acknowledged command was lost"
    # Play goes on with the new owner, through both servers.
    await play(a, 1, 12)
    await play(b, 1, -12)

    after = await record(match["id"])
    assert after.arbiter_channel not in ("", before.arbiter_channel)
    assert after.epoch == before.epoch + 1
    assert a.last_tick >= max(ticks)

    seen = {}

    async def counters_continue():
        rows = await seats(match["id"])
        seen.update({p: (r.spawned, r.moves) for p, r in rows.items()})
        done = rows[alice.player].spawned >= 5 and rows[bob.player].spawned >= 4
        return done and rows[alice.player].moves >= 2 and rows

    try:
        rows = await until(counters_continue, 10, lambda: f"the seats' counters written on: {seen}")
    except AssertionError:
        print("database sessions not idle:", *await database_sync_to_async(busy_sessions)(), sep="\n  ")
        raise
    assert rows[alice.player].online and rows[bob.player].online and rows[alice.player].moves >= 2
    await a.close()
    await b.close()

    async def offline():
        rows = await seats(match["id"])
        return not any(p.online for p in rows.values())

    await until(offline, 6, "both seats offline after both sockets closed")
    # The creator ends it: its input log, written by both owners, replays to its final state.
    c = await Socket.open(alice, match)
    await c.send({"type": "end"})
    await c.next("ended", timeout=10)

    async def finished():
        return (await record(match["id"])).status == "finished"

    await until(finished, 10, "the match finished")
    out = io.StringIO()
    try:
        await database_sync_to_async(call_command)("verify_replays", match=match["id"], stdout=out)
    finally:
        print(out.getvalue())
    assert out.getvalue().startswith("ok "), out.getvalue()
    # The state the adopter resumed from is in the log, and the replay above passed through it.
    resumes = await database_sync_to_async(list)(
        MatchLogChunk.objects.filter(match_id=match["id"], resumed__isnull=False)
    )
    assert [r.resumed["tick"] >= max(ticks) for r in resumes] == [True], resumes
    await c.close()
    for account in (alice, bob):
        await account.close()
    return cluster, owner


async def test_kill_9_of_the_owning_arbiter_loses_no_acknowledged_command(make_cluster, redis_server):
    await survives_losing_its_owner(make_cluster, redis_server, signal.SIGKILL)


async def test_sigterm_of_the_owner_hands_the_match_over(make_cluster, redis_server):
    cluster, owner = await survives_losing_its_owner(make_cluster, redis_server, signal.SIGTERM)
    assert owner.proc.returncode == 0
    assert "handed over at tick" in owner.log()


@pytest.mark.parametrize("setup", ["workers", "affinity"])
async def test_redis_restarts_empty_or_from_its_dump_and_play_goes_on(make_cluster, redis_server, setup):
    """Standalone arbiters, or affinity with a second player whose socket reaches the owner
    through the other server (commands over the layer, snapshots by publish)."""
    shape = {"servers": 1, "arbiters": 1} if setup == "workers" else {"servers": 2, "arbiters": 0}
    cluster = make_cluster(redis_server.url, auditor=False, env=FAST, affinity=setup == "affinity", **shape)
    alice = await guest(cluster.servers[0].url, "alice")
    bob = await guest(cluster.servers[-1].url, "bob")
    match = await create_match(alice, name="redis", tick_rate=20)
    a = await Socket.open(alice, match)
    b = await Socket.open(bob, match, server_url=cluster.servers[-1].url, enc="msgpack")
    await play(a, 2, 3)
    await play(b, 1, -3)
    for restart in ("empty", "dump"):
        cubes = {e["id"]: (e["tx"], e["tz"]) for e in a.ents.values()}
        tick = a.last_tick
        if restart == "empty":
            redis_server.kill()
            await asyncio.sleep(1.0)  # an outage, not a blip: what fails, fails
            await asyncio.to_thread(redis_server.restart_empty)
        else:
            await asyncio.to_thread(redis_server.stop_with_dump)
            await asyncio.to_thread(redis_server.restart_from_dump)

        for sock in (a, b):

            async def acked_again(sock=sock, restart=restart):
                if sock.closed:
                    raise AssertionError(f"the socket closed: {sock.closed_code}")
                at = [len(sock.ents), 1 if sock is a else -1]
                seq = await sock.cmd("spawn", at=at, cid=f"after-{restart}")
                try:
                    await sock.until_acked(seq, timeout=1)
                    return True
                except AssertionError:
                    return False

            await until(acked_again, 10, f"a command acknowledged after Redis came back {restart}")
        assert a.last_tick > tick
        assert {i: (e["tx"], e["tz"]) for i, e in a.ents.items() if i in cubes} == cubes
        await b.wait_for(lambda s: len(s.ents) == len(a.ents), what="bob sees every cube alice sees")
        assert all(p.alive for p in cluster.procs), "a process exited"
    await a.close()
    await b.close()
    await alice.close()
    await bob.close()


@pytest.mark.parametrize("setup", ["workers", "affinity"])
async def test_database_down_10_s_loses_no_event_and_play_goes_on(make_cluster, redis_server, setup):
    proxy = TcpProxy("127.0.0.1", 5432)
    try:
        shape = {"arbiters": 1} if setup == "workers" else {"arbiters": 0, "affinity": True}
        cluster = make_cluster(redis_server.url, servers=1, auditor=False, env=FAST, db_via=proxy, **shape)
        alice = await guest(cluster.servers[0].url, "alice")
        match = await create_match(alice, name="db down", tick_rate=20)
        a = await Socket.open(alice, match)
        await play(a, 2, 3)
        owner = await record(match["id"])
        proxy.cut()
        loop = asyncio.get_running_loop()
        cut_at = loop.time()
        during = await play(a, 3, -3)  # acknowledged while the database is away (5 spawns a second at most)
        await asyncio.sleep(max(0.0, 10 - (loop.time() - cut_at)))  # the outage itself
        proxy.restore()

        async def all_spawns_recorded():
            qs = MatchEvent.objects.filter(match_id=match["id"], kind="spawn")
            return await database_sync_to_async(qs.count)() == 5

        await until(all_spawns_recorded, 15, "every spawn of the outage recorded")
        rows = await seats(match["id"])
        after = await record(match["id"])  # the database's return handed the match to nobody else
        assert (after.arbiter_channel, after.epoch) == (owner.arbiter_channel, owner.epoch)
        assert len(a.of_type("welcome")) == 1
        assert (
            not a.of_type("reject")
            and rows[alice.player].spawned == 5
            and rows[alice.player].last_seq >= during[-1]
        )
        await a.close()
        await alice.close()
    finally:
        proxy.close()


async def test_kill_9_of_a_server_leaves_no_ghost_seat_and_an_empty_match_ends(make_cluster, redis_server):
    env = {**FAST, "CUBEARENA_MATCH_EMPTY_GRACE_S": "2"}
    cluster = make_cluster(redis_server.url, servers=2, arbiters=1, auditor=False, env=env)
    one, two = cluster.servers
    alice, bob, carol = (
        await guest(one.url, "alice"),
        await guest(two.url, "bob"),
        await guest(one.url, "carol"),
    )
    shared = await create_match(alice, name="shared", tick_rate=20)
    alone = await create_match(carol, name="alone", tick_rate=20)
    a, b = await Socket.open(alice, shared), await Socket.open(bob, shared)
    c = await Socket.open(carol, alone)
    await play(a, 2, 4)
    cluster.kill(one)
    # Alice reconnects as the browser does, through the server that is left.
    alice.base_url = alice.http.base_url = two.url
    again = await Socket.open(alice, shared, server_url=two.url)
    assert again.welcome["ack"] >= a.seq
    await play(again, 1, 8)
    await play(b, 1, -8)
    assert not c.closed or c.closed_code == 1006

    async def carol_offline_and_her_match_over():
        rows = await seats(alone["id"])
        return not rows[carol.player].online and (await record(alone["id"])).status == "finished"

    await until(carol_offline_and_her_match_over, 15, "carol's ghost seat gone and her empty match ended")
    rows = await seats(shared["id"])
    assert rows[alice.player].online and rows[bob.player].online
    await again.close()
    await b.close()
    for account in (alice, bob, carol):
        await account.close()


async def test_an_owner_that_died_while_redis_lost_its_data_is_adopted_from_the_database(
    make_cluster, redis_server
):
    """The store's set of running matches lost the match with everything else, and its owner
    died meanwhile, so nobody will renew or name it: a watch that finds the store new reads the
    database's running matches (at once, not at its scan interval) and adopts it."""
    env = {**FAST, "CUBEARENA_MATCH_SCAN_S": "600"}
    cluster = make_cluster(redis_server.url, servers=1, arbiters=2, auditor=False, env=env)
    alice = await guest(cluster.servers[0].url, "alice")
    match = await create_match(alice, name="orphan", tick_rate=20)
    a = await Socket.open(alice, match)
    await play(a, 2, 3)
    await a.close()  # no socket asks for the match: only a watch can find it
    before = await record(match["id"])
    owner = owner_process(cluster, before.arbiter_channel)
    redis_server.kill()
    assert cluster.kill(owner) is not None, "the arbiter did not exit"
    await asyncio.to_thread(redis_server.restart_empty)

    async def adopted():
        now = await record(match["id"])
        return now.epoch > before.epoch and now.arbiter_channel not in ("", before.arbiter_channel)

    lease = float(FAST["CUBEARENA_MATCH_LEASE_S"])
    await until(adopted, lease + 1 + 5, "the match adopted by the arbiter that is left")
    b = await Socket.open(alice, match)
    assert b.welcome["snap"]["tick"] >= before.last_tick
    await play(b, 1, 6)
    await b.close()
    await alice.close()


async def test_an_owner_cut_off_from_the_store_stops_acknowledging_and_steps_down(make_cluster, redis_server):
    """The owner reaches Redis through a proxy the test cuts: it can no longer renew its lease,
    so it publishes nothing more; another arbiter adopts once the lease lapses; when the link
    comes back the old owner finds the lease taken and steps down, acknowledging nothing."""
    proxy = TcpProxy("127.0.0.1", redis_server.port)
    try:
        cluster = make_cluster(redis_server.url, servers=1, arbiters=0, auditor=False, env=FAST)
        cluster.env = {**cluster.env, "REDIS_URL": f"redis://127.0.0.1:{proxy.port}/0"}
        cut_off = cluster.start_arbiter()
        cluster.wait_for_arbiter()
        alice = await guest(cluster.servers[0].url, "alice")
        match = await create_match(alice, name="fenced", tick_rate=20)
        a = await Socket.open(alice, match)
        await play(a, 2, 3)
        assert f"arbiter {(await record(match['id'])).arbiter_channel}: live" in cut_off.log()
        cluster.env = {**cluster.env, "REDIS_URL": redis_server.url}
        cluster.start_arbiter()

        proxy.cut()
        cut_at = len(a.frames)
        await a.wait_for(lambda s: rewelcomed(s, 1), timeout=10, what="a welcome from the adopter")
        between = [f for f in a.frames[cut_at:] if f.get("type") in ("snap", "welcome")]
        assert between[0]["type"] == "welcome", "the cut-off owner published after losing the link"
        proxy.restore()

        async def stepped_down():
            return "another arbiter owns it now; stepping down" in cut_off.log()

        await until(stepped_down, 10, "the old owner stepping down once it reaches Redis again")
        await play(a, 1, 6)
        assert (await record(match["id"])).arbiter_channel not in cut_off.log()
        await a.close()
        await alice.close()
    finally:
        proxy.close()
