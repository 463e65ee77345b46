"""Two players against channels-redis and PostgreSQL, with the arbiter in a runworker process."""

import asyncio
import os
import time

import pytest
from channels.db import database_sync_to_async

from game.management.commands.runworker import AUDITOR_NICE
from lobby.models import Match, MatchEvent, Participation
from tests.game.players import Client, jump_batch, make_match, make_player

from .conftest import wait_for_arbiter

pytestmark = pytest.mark.django_db(transaction=True)


async def test_it_plays_two_players_through_a_separate_arbiter_process(runworker):
    from django.conf import settings

    assert not settings.ARBITER_IN_PROCESS
    runworker()
    runworker("auditor")
    worker_channel = await wait_for_arbiter()

    alice, alice_key = await make_player("alice")
    bob, bob_key = await make_player("bob")
    match = await make_match(alice)
    a, b = Client(match, alice_key), Client(match, bob_key)
    await a.connect()
    await b.connect()

    seq = await a.cmd("spawn", at=[3, 4], cid="c1")
    snap = await b.next("snap", where=lambda m: any(e["owner"] == alice.pk for e in m["ents"]))
    assert snap["tick"] - b.welcome["snap"]["tick"] <= 3
    await a.until_acked(seq, alice.pk)
    (cube_id,) = a.ents

    await b.cmd("move", ids=[cube_id], to=[20, 20])
    assert (await b.next("reject"))["code"] == "not_owner"
    await b.cmd("delete", ids=[cube_id])
    assert (await b.next("reject"))["code"] == "not_owner"

    await a.until_acked(await a.cmd("move", ids=[cube_id], to=[-8, 6]), alice.pk)
    await b.next("snap", where=lambda m: any(e["id"] == cube_id and e["tx"] == -8 for e in m["ents"]))
    assert (b.ents[cube_id]["tx"], b.ents[cube_id]["tz"]) == (-8, 6)

    record = await database_sync_to_async(Match.objects.get)(pk=match.pk)
    assert record.status == "running" and record.arbiter_channel == worker_channel

    # the auditor runs in its own process: a crafted batch comes back as a correction to both
    from channels.layers import get_channel_layer

    jump = jump_batch(match.id, worker_channel, cube_id, alice.pk, (2.0, 2.0), (30.0, 30.0))
    await get_channel_layer().send("auditor", jump)
    for client in (a, b):
        assert (await client.next("correction", timeout=5))["ids"] == [cube_id]

    await b.close()

    @database_sync_to_async
    def leave_recorded():
        seat = Participation.objects.get(match=match, player=bob)
        return (
            seat.left is not None
            and MatchEvent.objects.filter(match=match, player=bob, kind="leave").exists()
        )

    for _ in range(40):
        if await leave_recorded():
            break
        await asyncio.sleep(0.1)
    assert await leave_recorded()
    await a.close()


async def test_it_adopts_a_match_from_its_checkpoint_when_the_worker_dies(runworker):
    first = runworker()
    await wait_for_arbiter()
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    await a.until_acked(await a.cmd("spawn", at=[7, -7], cid="c1"), alice.pk)
    await asyncio.sleep(1.5)  # let a checkpoint be written
    await a.close()
    first.kill()
    first.wait()
    runworker()
    adopter = await wait_for_arbiter()
    await asyncio.sleep(5.5)  # the dead worker's heartbeat goes stale
    again = Client(match, key)
    welcome = await again.connect()
    assert [(e["x"], e["z"]) for e in welcome["snap"]["ents"]] == [(7, -7)]
    record = await database_sync_to_async(Match.objects.get)(pk=match.pk)
    assert record.arbiter_channel == adopter
    await again.close()


def test_an_auditor_process_runs_below_the_arbiters_priority(runworker):
    """The slow tier yields a shared core to the ticks; an arbiter keeps its priority."""
    auditor, arbiter = runworker("auditor"), runworker("arbiter")
    deadline = time.monotonic() + 30
    while os.getpriority(os.PRIO_PROCESS, auditor.pid) < AUDITOR_NICE:
        assert auditor.poll() is None and time.monotonic() < deadline, (
            "the auditor did not lower its priority"
        )
        time.sleep(0.05)
    assert os.getpriority(os.PRIO_PROCESS, arbiter.pid) == os.getpriority(os.PRIO_PROCESS, 0)
