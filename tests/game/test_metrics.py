"""/metrics: Prometheus text for operators, on loopback or with a token; it moves when a
player plays, and a finished match's series go."""

import pytest
from asgiref.sync import sync_to_async
from django.test import Client as HttpClient
from prometheus_client.parser import text_string_to_metric_families

from game.arbiter.consumer import RUNTIMES

from .players import Client, make_match, make_player, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def scrape(**headers) -> tuple[int, dict]:
    resp = HttpClient().get("/metrics", **headers)
    if resp.status_code != 200:
        return resp.status_code, {}
    samples = {}
    for family in text_string_to_metric_families(resp.content.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return 200, samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.usefixtures("arbiter")
async def test_metrics_move_when_a_player_plays_and_a_finished_match_s_series_go(settings):
    settings.MATCH_EMPTY_GRACE_S = 0.3
    _, before = await sync_to_async(scrape)()
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    for i in range(3):
        await a.until_acked(await a.cmd("spawn", at=[i, 1], cid=f"c{i}"), alice.pk)
    await a.until_acked(await a.cmd("delete", ids=[99999]), alice.pk)  # refused: no such cube
    runtime = RUNTIMES[str(match.id)]
    await wait_for(lambda: runtime.flush_wanted is False and runtime.records.flushes >= 1, what="a flush")
    _, during = await sync_to_async(scrape)()
    commands = "cubearena_commands_total"
    assert value(during, commands, result="accepted") - value(before, commands, result="accepted") == 3
    assert value(during, "cubearena_commands_total", result="unknown_entity") >= 1
    assert value(during, "cubearena_matches") >= 1 and value(during, "cubearena_players") >= 1
    assert value(during, "cubearena_match_cubes", match=str(match.id)) == 3
    assert value(during, "cubearena_tick_lag_seconds_count") > value(
        before, "cubearena_tick_lag_seconds_count"
    )
    assert value(during, "cubearena_snapshot_bytes_total", enc="json") > 0
    await a.close()
    await wait_for(lambda: str(match.id) not in RUNTIMES, timeout=5, what="the match to end")
    _, after = await sync_to_async(scrape)()
    assert not [k for k in after if ("match", str(match.id)) in k[1]]


def test_metrics_are_not_public():
    assert scrape(REMOTE_ADDR="203.0.113.9")[0] == 404
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")[0] == 404


def test_a_token_opens_metrics_from_elsewhere(settings):
    settings.METRICS_TOKEN = "s3cret"
    assert scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong")[0] == 404
    assert scrape(REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret")[0] == 200
