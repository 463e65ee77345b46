"""Every match can be replayed from its input log, as the database keeps it: `verify_replays`
reproduces the state at each keyframe and the final one, and names a log that does not."""

import zlib

import msgpack
import msgspec
import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command

from game.models import MatchLog, MatchLogChunk
from game.sim import inputlog, rulesets
from lobby.models import Match

from .players import two_players, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def verify(match) -> str:
    from io import StringIO

    out = StringIO()
    try:
        call_command("verify_replays", match=str(match.pk), stdout=out)
    except CommandError:
        pass
    return out.getvalue()


@pytest.mark.usefixtures("arbiter")
async def test_a_played_match_replays_from_its_log_to_its_final_state_and_a_tampered_one_does_not(settings):
    settings.MATCH_EMPTY_GRACE_S = 0.3
    alice, bob, match, a, b = await two_players()
    for i in range(4):
        await a.until_acked(await a.cmd("spawn", at=[i * 3, 1], cid=f"a{i}"), alice.pk)
        await b.until_acked(await b.cmd("spawn", at=[-i * 3, -1], cid=f"b{i}"), bob.pk)
    mine = sorted(i for i, e in a.ents.items() if e["owner"] == alice.pk)
    await a.until_acked(await a.cmd("move", ids=mine[:2], to=[20, 20], tick=a.tick - 2), alice.pk)
    await b.until_acked(await b.cmd("delete", ids=[mine[3]]), bob.pk)  # not bob's: refused
    await a.until_acked(await a.cmd("nudge", ids=mine[2:3], dir=[1, 0]), alice.pk)
    await a.close()
    await b.close()

    async def finished():
        return (await database_sync_to_async(Match.objects.get)(pk=match.pk)).status == "finished"

    await wait_for(finished, timeout=8, what="the match to end")
    chunks = await database_sync_to_async(list)(
        MatchLogChunk.objects.filter(match=match).order_by("first_tick")
    )
    assert chunks[0].first_tick == 1 and chunks[-1].keyframe is not None  # from the start, to the end
    assert all(x.last_tick + 1 == y.first_tick for x, y in zip(chunks, chunks[1:], strict=False))
    report = await database_sync_to_async(verify)(match)
    assert report.startswith("ok ") and "1 reproduced, 0 not" in report, report

    header = await database_sync_to_async(MatchLog.objects.get)(match=match)
    assert header.rules_version == rulesets.RULES_VERSION and header.settings["tick_rate"] == match.tick_rate
    assert header.initial["tick"] == 0 and not header.initial["ents"]
    assert all(c.digest for c in chunks)  # every chunk's end is checked

    # Tamper with one accepted command in the log: the replay names the tick it was on.
    def tamper(kind, **change):
        """The first `kind` command changed in the stored log; its tick and the chunk as it was."""
        for chunk in MatchLogChunk.objects.filter(match=match).order_by("first_tick"):
            was = chunk.entries
            raw = msgpack.unpackb(zlib.decompress(chunk.entries))
            entries = [inputlog.decode(r) for r in raw]
            for n, entry in enumerate(entries):
                for k, op in enumerate(entry.ops):
                    if isinstance(op, inputlog.Applied) and op.cmd.op == kind:
                        entry.ops[k] = inputlog.Applied(msgspec.structs.replace(op.cmd, **change))
                        raw[n] = inputlog.encode(entry)
                        chunk.entries = zlib.compress(msgpack.packb(raw))
                        chunk.save()
                        return entry.tick, (chunk.pk, was)

    def put_back(chunk_pk, was):
        MatchLogChunk.objects.filter(pk=chunk_pk).update(entries=was)

    tick, was = await database_sync_to_async(tamper)("spawn", point=(40.0, 40.0))
    report = await database_sync_to_async(verify)(match)
    assert "MISMATCH" in report and f"first differs at tick {tick} " in report, report
    assert '"at":[40.0,40.0]' in report, report

    # A move sent elsewhere (no event, no refusal): the entry's steer check names its own tick.
    await database_sync_to_async(put_back)(*was)
    assert "1 reproduced, 0 not" in await database_sync_to_async(verify)(match)
    tick, _ = await database_sync_to_async(tamper)("move", point=(-20.0, 5.0))
    report = await database_sync_to_async(verify)(match)
    assert "MISMATCH" in report and f"first differs at tick {tick} " in report, report
    assert "moved or nudged" in report and "between" not in report, report
