"""A match's lifecycle edges: it ends by itself when empty; dead ones are marked abandoned."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from game.arbiter.consumer import RUNTIMES
from game.messages import MatchVerdicts
from game.sim.verdicts import Verdict
from lobby.models import Match, Participation

from .players import Client, make_match, make_player, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.usefixtures("arbiter")
async def test_it_finishes_a_match_that_has_had_no_player_for_the_timeout(settings):
    settings.MATCH_EMPTY_GRACE_S = 0.5
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    await a.until_acked(await a.cmd("spawn", at=[1, 1], cid="a1"), alice.pk)
    await a.close()
    record = await _ends(match, timeout=5.0)
    assert record.status == "finished" and record.final_entities == 1
    assert "no player" in record.end_reason and record.ended >= record.started


def test_it_marks_unjoined_and_silent_matches_abandoned(capsys):
    old = timezone.now() - timedelta(days=2)
    unjoined = Match.objects.create(name="never played")
    Match.objects.filter(pk=unjoined.pk).update(created=old)
    silent = Match.objects.create(
        name="server died", status="running", last_tick_at=old, arbiter_channel="x!y"
    )
    live = Match.objects.create(name="live", status="running", last_tick_at=timezone.now())
    call_command("prunerecords")
    assert "marked 2 matches abandoned" in capsys.readouterr().out
    statuses = dict(Match.objects.values_list("name", "status"))
    assert statuses == {"never played": "abandoned", "server died": "abandoned", "live": "running"}
    assert Match.objects.get(pk=silent.pk).arbiter_channel == ""
    assert live.pk


async def _ends(match, timeout: float = 8.0) -> Match:
    async def over():
        record = await database_sync_to_async(Match.objects.get)(pk=match.pk)
        return record if record.status == "finished" else None

    return await wait_for(over, timeout=timeout, what="the match to end")


@pytest.mark.usefixtures("arbiter")
async def test_a_match_whose_only_player_was_kicked_ends(settings):
    settings.MATCH_EMPTY_GRACE_S = 0.5
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect()
    runtime = RUNTIMES[str(match.id)]
    await runtime.apply_verdicts(
        MatchVerdicts(match=str(match.id), verdicts=[Verdict("kick", "test", alice.pk)])
    )
    assert (await a.ws.receive_output(timeout=3))["code"] == 4430
    record = await _ends(match)
    assert "no player" in record.end_reason


@pytest.mark.usefixtures("arbiter")
async def test_a_match_whose_only_socket_dropped_before_its_welcome_ends(settings):
    settings.MATCH_EMPTY_GRACE_S = 0.5
    settings.SOCKET_SILENT_S = 0.6
    alice, key = await make_player("alice")
    match = await make_match(alice)
    a = Client(match, key)
    await a.connect(expect_welcome=False)
    await a.ws.disconnect()  # gone before the welcome: its socket never sends a leave
    record = await _ends(match)
    assert "no player" in record.end_reason
    seat = await database_sync_to_async(Participation.objects.get)(match=match, player=alice)
    assert not seat.online
