"""A `runworker arbiter` serves its own Prometheus metrics on a loopback port."""

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from cubearena.liveserver import free_port

from .cluster import Socket, create_match, guest


def scrape(port: int) -> dict:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_worker_serves_metrics_that_move_when_a_player_plays(make_cluster, redis_server):
    port = free_port()
    cluster = make_cluster(
        redis_server.url, servers=1, arbiters=1, auditor=False, env={"CUBEARENA_METRICS_PORT": str(port)}
    )
    alice = await guest(cluster.servers[0].url, "alice")
    match = await create_match(alice, name="metrics", tick_rate=20)
    a = await Socket.open(alice, match)
    await a.until_acked(await a.cmd("spawn", at=[1, 2], cid="c1"))
    samples = scrape(port)
    assert samples[("cubearena_matches", ())] == 1
    assert samples[("cubearena_commands_total", (("result", "accepted"),))] >= 1
    assert samples[("cubearena_ownership_changes_total", (("change", "start"),))] == 1
    await a.close()
    await alice.close()
