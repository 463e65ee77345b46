"""The replay viewer in Chromium: a finished match (imported from a match file into the live
server) is watched from its summary page's Watch replay button; it plays, seeks to the middle
and to the end, and shows the positions the match ended with."""

from __future__ import annotations

import random
import time
import uuid
import zlib
from datetime import timedelta

import msgpack
import pytest
from django.utils import timezone

from game.records import matchfile as mf
from game.sim import inputlog, replay, rulesets, verdicts
from game.sim.commands import Command

from .conftest import ARTIFACTS

TICK_RATE = 10


def recorded_match(ticks: int = 400) -> tuple[mf.MatchFile, replay.Header, list]:
    """Two players' match (spawns, moves, a correction between ticks, a leave and a rejoin),
    as a match file; the simulation alone, no database."""
    settings = rulesets.Settings(
        arena_width=100,
        arena_depth=100,
        tick_rate=TICK_RATE,
        speed=5.0,
        cube_cap=50,
        creator=1,
        name="watched",
    )
    header = replay.header_for(settings)
    state = rulesets.new_state(settings)
    rng = random.Random(3)
    for p, name in ((1, "alice"), (2, "bob")):
        state.seat(p, name, "#e5533d" if p == 1 else "#3d8be5", 0.0)
        state.set_online(p, True)
    seq, now, entries, events = {1: 0, 2: 0}, 0.0, [], []
    for t in range(1, ticks + 1):
        now += 1 / TICK_RATE
        for p in (1, 2):
            if state.seats[p].online and rng.random() < 0.15:
                seq[p] += 1
                own = [e.id for e in state.world.owned_by(p)]
                if len(own) < 6:
                    cmd = Command(
                        p,
                        seq[p],
                        state.world.tick,
                        "spawn",
                        point=(rng.uniform(-30, 30), rng.uniform(-30, 30)),
                    )
                else:
                    to = (rng.uniform(-45, 45), rng.uniform(-45, 45))
                    cmd = Command(p, seq[p], state.world.tick, "move", (rng.choice(own),), to)
                state.submit(cmd, now)
        if t == ticks // 3:
            state.set_online(2, False)
        if t == ticks // 2:
            state.set_online(2, True)
        if t == 2 * ticks // 3 and state.world.entities:
            verdicts.apply(
                state,
                verdicts.Verdict("correction", "operator", None, [min(state.world.entities)], (0.0, 0.0)),
            )
        state.tick(now)
        entries.append(state.take_entry())
        events += [e for e in state.take_events() if e.kind in ("spawn", "delete")]
    chunks = []
    for first in range(0, ticks, 10):
        part = entries[first : first + 10]
        blob = zlib.compress(msgpack.packb([inputlog.encode(e) for e in part]))
        chunks.append(mf.ChunkInfo(part[0].tick, part[-1].tick, inputlog.LOG_VERSION, blob))
    chunks[-1].keyframe = state.checkpoint(now)
    chunks[-1].digest = replay.digest(chunks[-1].keyframe)
    ended = timezone.now() - timedelta(minutes=1)
    started = ended - timedelta(seconds=ticks / TICK_RATE)
    data = mf.MatchFile(
        format=mf.FORMAT,
        version=mf.FILE_VERSION,
        exported=timezone.now(),
        match=mf.MatchInfo(
            id=uuid.uuid4(),
            name="watched",
            status="finished",
            created=started,
            started=started,
            ended=ended,
            end_reason="ended by its creator",
            max_players=8,
            tick_rate=TICK_RATE,
            arena_width=100,
            arena_depth=100,
            private=False,
            creator=1,
            last_tick=ticks,
            final_entities=len(state.world.entities),
        ),  # fmt: skip
        players=[mf.PlayerInfo(1, "alice"), mf.PlayerInfo(2, "bob")],
        seats=[
            mf.SeatInfo(
                p, "#000000", started, ended, False, False, s.ack, s.spawned, s.deleted, s.moves, s.rejected
            )
            for p, s in state.seats.items()
        ],
        events=[mf.EventInfo(e.tick, e.kind, e.player, e.payload, started) for e in events],
        log=mf.LogInfo(header.log_version, header.rules_version, settings, header.initial, chunks),
    )
    return data, header, entries


def ents_of(state) -> list:
    return sorted([e.id, e.owner, e.x, e.z, e.tx, e.tz] for e in state.world.entities.values())


@pytest.fixture
def watched(server, tmp_path):
    data, header, entries = recorded_match()
    path = tmp_path / "watched.json.gz"
    path.write_bytes(mf.dumps(data))
    server.manage("importmatch", str(path), "--keep-id")
    cursor = replay.Cursor(header, entries, every=50)
    cursor.prepare()
    return data, cursor


def test_the_viewer_plays_seeks_to_the_middle_and_to_the_end_and_shows_the_final_positions(
    people, server, watched, artifacts
):
    data, cursor = watched
    viewer = people("viewer")
    page = viewer.page
    page.goto(f"{server.url}/match/{data.match.id}/summary/", wait_until="domcontentloaded")
    page.click("#watch-replay")

    def wait(predicate, what, timeout=20.0):
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = page.evaluate("window.__replay ? window.__replay.state() : null")
            if state and predicate(state):
                return state
            page.wait_for_timeout(50)
        raise AssertionError(f"timed out waiting for {what}; last state: {str(state)[:800]}")

    def expected(tick):
        cursor.seek(tick)
        return ents_of(cursor.state)

    state = wait(lambda s: s["ready"] and s["tick"] == 0, "the replay at its start", timeout=60)
    assert state["last"] == cursor.last and {m[1] for m in state["marks"]} >= {"join", "leave", "correction"}
    assert page.locator("#marks .mark").count() == len(state["marks"])

    page.select_option("#speed", "8")
    wait(lambda s: s["speed"] == 8, "8x")
    page.click("#play")
    state = wait(lambda s: s["playing"] and s["tick"] > 20, "the replay playing")
    state = page.evaluate("window.__replay.state()")
    assert state["ents"] == expected(state["tick"])  # what it shows is the match at that tick

    page.click("#play")  # pause
    paused = wait(lambda s: not s["playing"], "the pause")["tick"]
    page.wait_for_timeout(300)
    assert page.evaluate("window.__replay.state()")["tick"] == paused

    box = page.locator("#seek").bounding_box()  # the middle of the seek bar
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    state = wait(lambda s: abs(s["tick"] - cursor.last / 2) <= cursor.last * 0.05, "the seek to the middle")
    assert state["ents"] == expected(state["tick"])
    assert [p["nickname"] for p in state["players"]] == ["alice", "bob"]

    page.keyboard.press("End")
    state = wait(lambda s: s["tick"] == cursor.last, "the seek to the end")
    final = sorted(list(e) for e in data.log.chunks[-1].keyframe["ents"])
    assert state["ents"] == final  # the positions the match ended with
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / "replay-viewer.png"))
    assert viewer.errors == []
