"""The embedded server is live from its start: what a crashed predecessor left running is
adopted before any socket asks, and ends once nobody comes back."""

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
