"""The embedded server is live from its start: what a crashed predecessor left running is
adopted before any socket asks, and ends once nobody comes back."""

import asyncio
import json
import signal
import sqlite3
import tempfile
import time
from pathlib import Path

from cubearena.liveserver import LiveServer
from loadbots.client import Account
from tests.own_loop import run_async


async def start_a_match(server: LiveServer) -> str:
    alice = Account(server.url)
    await alice.guest("alice")
    match = await alice.create_match("left running", tick_rate=20)
    sock = await alice.open_socket(match)
    await sock.recv()  # welcome: the match runs
    await alice.close()
    return match["id"].replace("-", "")


def status(db: Path, match_hex: str) -> tuple[str, str]:
    with sqlite3.connect(db) as conn:
        sql = "SELECT status, end_reason FROM lobby_match WHERE id = ?"
        return conn.execute(sql, (match_hex,)).fetchone()


def test_a_match_left_running_by_a_crashed_server_is_adopted_at_start_and_ends_when_nobody_returns():
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db.sqlite3"
        env = {"DATABASE_URL": f"sqlite:///{db}", "CUBEARENA_MATCH_EMPTY_GRACE_S": "1"}
        first = LiveServer(env=env).start()
        try:
            match = run_async(start_a_match(first))
            first.proc.send_signal(signal.SIGKILL)  # no goodbye: the record says running
            first.proc.wait(10)
        finally:
            first.stop()
        assert status(db, match)[0] == "running"
        with LiveServer(env=env) as second:
            deadline = time.monotonic() + 15
            while status(db, match)[0] == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
            log = second.log_path.read_text()
        assert status(db, match) == ("finished", "no player for 1 s"), log[-3000:]
        assert "adopt by" in log


def logged(db: Path, match_hex: str) -> tuple[int | None, int]:
    """(the checkpoint's tick or None, the last tick a log chunk holds)."""
    with sqlite3.connect(db) as conn:
        sql = "SELECT checkpoint FROM lobby_match WHERE id = ?"
        (checkpoint,) = conn.execute(sql, (match_hex,)).fetchone()
        sql = "SELECT max(last_tick) FROM game_matchlogchunk WHERE match_id = ?"
        (last,) = conn.execute(sql, (match_hex,)).fetchone()
    return (json.loads(checkpoint)["tick"] if checkpoint else None), last or 0


async def until(check, what: str, timeout: float = 8.0):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        await asyncio.sleep(0.05)
    return value


async def spawn_after_the_checkpoint(server: LiveServer, db: Path) -> dict:
    """A cube spawned and acknowledged after the match's checkpoint, and logged in a chunk."""
    alice = Account(server.url)
    await alice.guest("alice")
    match = await alice.create_match("crash after the checkpoint", tick_rate=20)
    sock = await alice.open_socket(match)
    welcome = await sock.recv()
    match_hex = match["id"].replace("-", "")
    await until(lambda: logged(db, match_hex)[0] is not None, "checkpoint")
    seq, _ = await sock.cmd("spawn", at=[3, 4], cid="after")
    while (snap := await sock.recv()).get("type") != "snap" or snap["acks"].get(str(welcome["you"]), 0) < seq:
        pass
    await until(lambda: logged(db, match_hex)[1] >= snap["tick"], "chunk holding the spawn")
    checkpoint_tick, _ = logged(db, match_hex)
    assert checkpoint_tick < snap["tick"], "the checkpoint already holds the cube: nothing to show"
    await alice.close()
    return match


async def what_a_new_player_sees(server: LiveServer, match: dict) -> list:
    bob = Account(server.url)
    await bob.guest("bob")
    sock = await bob.open_socket(match)
    welcome = await sock.recv()
    await bob.close()
    return welcome["snap"]["ents"]


def test_a_server_crash_loses_no_play_the_database_logged_after_the_checkpoint():
    """The embedded store (leases and log tail) is the crashed process's memory: the server
    that adopts the match replays the database's log chunks after the checkpoint, which is
    written every few seconds while a chunk is written every second."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db.sqlite3"
        env = {"DATABASE_URL": f"sqlite:///{db}"}
        first = LiveServer(env=env).start()
        try:
            match = run_async(spawn_after_the_checkpoint(first, db))
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
        finally:
            first.stop()
        with LiveServer(env=env) as second:
            ents = run_async(what_a_new_player_sees(second, match))
        assert [(e["x"], e["z"]) for e in ents] == [(3, 4)], ents
