"""The load bots and the benchmark runner, end to end against real servers (short runs).

Both start servers in subprocesses and need no test database: the bots speak only HTTP and
WebSocket, and `manage.py loadbots` runs in a process of its own.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from cubearena.liveserver import LiveServer

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def server():
    with LiveServer() as live:
        yield live


def test_it_drives_bots_through_the_loadbots_command_and_reports_figures(server, tmp_path):
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "loadbots",
            "--url",
            server.url,
            "--bots",
            "6",
            "--matches",
            "2",
            "--seconds",
            "3",
            "--measure",
            "3",
            "--enc",
            "msgpack",
            "--server-pids",
            str(server.proc.pid),
            "--json",
            str(out),
            "--quiet",
        ],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "cmd -> ack ms" in proc.stdout
    report = json.loads(out.read_text())
    bots = report["bots"]
    assert bots["connected"] == 6 and bots["dropped"] == 0 and bots["no_cubes"] == 0
    assert bots["measuring"] == 3
    ack = report["latency_ms"]["ack"]
    assert ack["n"] > 0 and 0 < ack["p50"] <= ack["p99"] < 3000
    assert report["latency_ms"]["visible"]["n"] > 0
    assert report["snap_interval_ms"]["n"] > 0
    assert report["traffic"]["bytes_in"] > 0 and report["traffic"]["commands_out"] > 0
    # 6 bots x ~3 s x 10 moves a second, and about one snap a tick per bot
    assert report["traffic"]["commands_out"] >= 6 * 10 * 2
    assert report["traffic"]["msgs_per_bot_s"] > 10
    assert report["traffic"]["rejected"] == 0
    assert report["server"]["pids"] == [server.proc.pid]
    assert report["server"]["cpu_s"] > 0 and report["server"]["us_per_msg"] > 0


def test_it_runs_the_benchmark_smoke_mode_end_to_end(tmp_path):
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads((tmp_path / "smoke.json").read_text())
    assert {r["system"] for r in result["runs"]} == {"embedded", "baseline-delta"}
    for run in result["runs"]:
        assert run["report"]["bots"]["connected"] == run["n"]
        assert run["report"]["latency_ms"]["ack"]["n"] > 0
    assert (tmp_path / "smoke.png").stat().st_size > 0
    assert "largest N holding the tick" in proc.stdout


def test_the_ratio_benchmark_measures_two_systems_in_turns(tmp_path):
    cmd = [sys.executable, "benchmarks/ratio.py", "--systems", "embedded,baseline-delta", "--workloads", "W1"]
    cmd += ["--steps", "2", "--rounds", "2", "--seconds", "1", "--measure", "2", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (row,) = json.loads((tmp_path / "ratio.json").read_text())["rows"]
    us = row["us_per_msg"]
    assert len(us["embedded"]) == len(us["baseline-delta"]) == 2 and all(v > 0 for v in us["embedded"])
    assert row["ratio"] == round(
        statistics.median(us["baseline-delta"]) / statistics.median(us["embedded"]), 3
    )


def test_a_bot_whose_commands_back_up_is_behind_though_its_snaps_come_on_time():
    from loadbots.bot import Bot, Window

    bot = Bot(0, "http://127.0.0.1:1", Window(), measuring=True)
    bot.sends = 100
    bot.timings.interval = [0.05] * 200  # snaps exactly on the 20 Hz cadence
    bot.timings.ack = [0.04] * 100
    assert not bot.behind(10.0, 0.05, 200)
    bot.timings.ack = [0.04] * 95 + [2.5] * 5  # the worst commands wait 2.5 s
    assert bot.behind(10.0, 0.05, 200)
