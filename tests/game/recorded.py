"""A small match played for real (sockets, in-process arbiter) until it ends, for the tests
that need a recorded match: its events, seats and input log in the test database."""

from __future__ import annotations

from channels.db import database_sync_to_async

from lobby.models import Match

from .players import two_players, wait_for


async def play_recorded_match(settings, spawns: int = 4, name: str = "recorded") -> Match:
    """Two players spawn, move (one backdated), nudge and delete (one refused), then leave;
    the match ends by itself. Needs the `arbiter` fixture and a transactional database."""
    settings.MATCH_EMPTY_GRACE_S = 0.3
    alice, bob, match, a, b = await two_players(name=name)
    for i in range(spawns):
        await a.until_acked(await a.cmd("spawn", at=[i * 3, 1], cid=f"a{i}"), alice.pk)
        await b.until_acked(await b.cmd("spawn", at=[-i * 3, -1], cid=f"b{i}"), bob.pk)
    mine = sorted(i for i, e in a.ents.items() if e["owner"] == alice.pk)
    theirs = sorted(i for i, e in b.ents.items() if e["owner"] == bob.pk)
    await a.until_acked(await a.cmd("move", ids=mine[:2], to=[20, 20], tick=a.tick - 2), alice.pk)
    await b.until_acked(await b.cmd("delete", ids=[mine[-1]]), bob.pk)  # not bob's: refused
    await b.until_acked(await b.cmd("delete", ids=[theirs[-1]]), bob.pk)
    await a.until_acked(await a.cmd("nudge", ids=mine[2:3], dir=[1, 0]), alice.pk)
    await b.until_acked(await b.cmd("move", ids=theirs[:2], to=[-20, 10]), bob.pk)
    await a.close()
    await b.close()

    async def finished():
        return (await database_sync_to_async(Match.objects.get)(pk=match.pk)).status == "finished"

    await wait_for(finished, timeout=8, what="the match to end")
    return await database_sync_to_async(Match.objects.get)(pk=match.pk)
