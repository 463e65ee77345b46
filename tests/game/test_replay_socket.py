"""The replay socket streams a finished match from its log in the live snapshot format: a
client that applies the snaps as the browser does (deltas stepped with the shared step) sees
the match's final positions; seeks land on the tick asked, fast."""

import asyncio
import json
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from game.models import MatchLogChunk
from game.sim.world import Entity, step_entity
from lobby.models import Match

from .players import ORIGIN, make_player
from .synthetic import record_match

pytestmark = pytest.mark.django_db(transaction=True)


class Viewer:
    """Applies snaps as static/js/replay/ does: a full snap replaces the world, a delta lists
    what the step cannot predict and everything else takes one step."""

    def __init__(self, match, session_key=None, query=""):
        from cubearena.asgi import application

        headers = [ORIGIN] + ([(b"cookie", f"sessionid={session_key}".encode())] if session_key else [])
        self.ws = WebsocketCommunicator(application, f"/ws/replay/{match.pk}/{query}", headers=headers)
        self.ents: dict[int, Entity] = {}
        self.tick = None
        self.info = None
        self.players = None
        self.state = None

    async def open(self):
        ok, _ = await self.ws.connect(timeout=10)
        assert ok
        self.info = await self.next("replay", timeout=10)
        await self.next("replay.state")

    async def next(self, kind, timeout=5.0, where=lambda m: True):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {kind} within {timeout} s"
            msg = json.loads(await self.ws.receive_from(timeout=left))
            if msg["type"] == "snap":
                self.apply(msg)
            elif msg["type"] == "players":
                self.players = msg["players"]
            elif msg["type"] == "replay.state":
                self.state = msg
            if msg["type"] == kind and where(msg):
                return msg

    def apply(self, snap):
        step = self.info["speed"] / self.info["tick_rate"]
        if snap["full"]:
            self.ents = {}
        else:
            assert snap["tick"] == self.tick + 1, "deltas come one tick after another"
            for ent in self.ents.values():
                step_entity(ent, step)
            for gone in snap["gone"]:
                del self.ents[gone]
        for e in snap["ents"]:
            self.ents[e["id"]] = Entity(e["id"], e["owner"], e["x"], e["z"], e["tx"], e["tz"])
        self.tick = snap["tick"]

    def positions(self):
        return sorted((e.id, e.owner, e.x, e.z, e.tx, e.tz) for e in self.ents.values())

    async def send(self, **msg):
        await self.ws.send_to(text_data=json.dumps(msg))


def expected_at(match, tick):
    """The match's state at `tick`, replayed here from its stored log."""
    from game.records import replays
    from game.sim import replay

    cursor = replay.Cursor(replays.header(match), [e for c in replays.chunks(match) for e in c.entries])
    cursor.seek(tick)
    return sorted((e.id, e.owner, e.x, e.z, e.tx, e.tz) for e in cursor.state.world.entities.values())


def final_keyframe(match):
    chunk = MatchLogChunk.objects.filter(match=match).order_by("-last_tick").first()
    return chunk.last_tick, sorted(tuple(e) for e in chunk.keyframe["ents"])


async def test_a_replay_plays_to_the_final_positions_and_seeks_anywhere(settings):
    match = await database_sync_to_async(record_match)("watched", ticks=400)
    last, final = await database_sync_to_async(final_keyframe)(match)
    v = Viewer(match)
    await v.open()
    assert (v.info["first"], v.info["last"], v.info["tick_rate"]) == (0, last, 20)
    assert v.tick == 0 and v.ents == {} and v.players == []  # seats are made on tick 1

    began = time.monotonic()
    await v.send(type="seek", tick=last // 2)
    await v.next("replay.state", where=lambda m: m["tick"] == last // 2)
    assert v.tick == last // 2 and v.ents and time.monotonic() - began < 0.2  # a seek under 200 ms
    assert [p["nickname"] for p in v.players] == ["p1", "p2"]
    middle = v.positions()

    await v.send(type="speed", speed=8)
    await v.send(type="play")
    await v.next("snap", where=lambda m: m["tick"] >= last // 2 + 20)
    await v.send(type="pause")  # lands between ticks: the state names the last snap's tick
    paused = await v.next("replay.state", where=lambda m: not m["playing"])
    assert paused["tick"] == v.tick and await v.ws.receive_nothing(timeout=0.3)
    assert v.positions() == await database_sync_to_async(expected_at)(match, v.tick)
    await v.send(type="play")
    await v.next("replay.state", timeout=10, where=lambda m: not m["playing"] and m["tick"] == last)
    assert v.tick == last and v.positions() == final  # every delta applied: the match's end
    assert sum(p["cubes"] for p in v.players) == len(final)

    await v.send(type="seek", tick=last // 2)  # back: the same state as before
    await v.next("replay.state", where=lambda m: m["tick"] == last // 2)
    assert v.positions() == middle
    await v.send(type="seek", tick=10**9)
    await v.next("replay.state", where=lambda m: m["tick"] == last)
    assert v.positions() == final

    await v.send(type="speed", speed=99)
    assert (await v.next("error"))["code"] == "bad_message"
    await v.ws.send_to(text_data="{not json")
    assert (await v.next("error"))["code"] == "bad_message"
    await v.ws.disconnect()


async def test_only_a_finished_match_with_a_log_is_replayed_and_a_private_one_to_its_people(settings):
    async def close_code(match, **kw):
        v = Viewer(match, **kw)
        ok, _ = await v.ws.connect(timeout=10)
        assert ok
        out = await v.ws.receive_output(timeout=10)
        while out["type"] == "websocket.send":
            out = await v.ws.receive_output(timeout=10)
        return out.get("code")

    running = await database_sync_to_async(Match.objects.create)(name="live", status="running")
    assert await close_code(running) == 4404
    empty = await database_sync_to_async(Match.objects.create)(name="empty", status="finished")
    assert await close_code(empty) == 4404

    owner, key = await make_player("owner")
    secret = await database_sync_to_async(record_match)("secret", players=[owner], ticks=40)
    await database_sync_to_async(Match.objects.filter(pk=secret.pk).update)(private=True, join_code="abc123")
    assert await close_code(secret) == 4403
    v = Viewer(secret, session_key=key)  # its creator
    await v.open()
    await v.ws.disconnect()
    v = Viewer(secret, query="?code=abc123")
    await v.open()
    await v.ws.disconnect()


async def test_the_cursors_work_never_runs_on_the_event_loops_thread(monkeypatch, settings):
    """The one pass, every seek and every step (a big match's seek is tens of ms of CPU) run in
    a worker thread, so the loop goes on serving every other socket meanwhile."""
    from game.sim import replay

    calls = []

    def watched(name):
        real = getattr(replay.Cursor, name)

        def run(self, *args):
            try:
                asyncio.get_running_loop()
                calls.append((name, "loop"))
            except RuntimeError:
                calls.append((name, "thread"))
            return real(self, *args)

        monkeypatch.setattr(replay.Cursor, name, run)

    for name in ("prepare", "seek", "step"):
        watched(name)
    match = await database_sync_to_async(record_match)("threads", ticks=60)
    v = Viewer(match)
    await v.open()
    await v.send(type="seek", tick=30)
    await v.next("replay.state", where=lambda m: m["tick"] == 30)
    await v.send(type="speed", speed=8)
    await v.send(type="play")
    await v.next("replay.state", timeout=10, where=lambda m: not m["playing"] and m["tick"] == v.info["last"])
    await v.send(type="play")  # at the end: from the start again
    await v.next("snap", where=lambda m: m["full"] and m["tick"] == 0)
    await v.ws.disconnect()
    assert {name for name, _ in calls} == {"prepare", "seek", "step"}
    assert [c for c in calls if c[1] == "loop"] == []


async def test_the_page_is_told_how_far_the_log_is_prepared_before_the_first_frame(monkeypatch, settings):
    """A big match's one pass takes up to a minute: the page hears how far it has come, at once
    and then every PROGRESS_EVERY_S, in order, before `replay`."""
    from game.edge import replay as edge
    from game.sim import replay

    real = replay.Cursor.prepare

    def slow(self):
        time.sleep(0.2)  # a long log's pass, in its worker thread
        real(self)

    monkeypatch.setattr(replay.Cursor, "prepare", slow)
    monkeypatch.setattr(edge, "PROGRESS_EVERY_S", 0.02)
    match = await database_sync_to_async(record_match)("progress", ticks=60)
    v = Viewer(match)
    ok, _ = await v.ws.connect(timeout=10)
    assert ok
    seen = []
    while (msg := json.loads(await v.ws.receive_from(timeout=10)))["type"] == "replay.preparing":
        seen.append(msg)
    assert msg["type"] == "replay", msg
    assert len(seen) >= 3, seen
    ticks = [m["tick"] for m in seen]
    assert ticks == sorted(ticks) and seen[0]["first"] <= ticks[0] and ticks[-1] <= seen[0]["last"]
    assert seen[0]["last"] == msg["last"]
    await v.ws.disconnect()
