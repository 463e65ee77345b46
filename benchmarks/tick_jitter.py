"""Tick jitter of one running match: 2 players, 100 cubes gliding, embedded default server.

Prints p50/p99 of the server's tick interval (from the snaps' server times) and of the
snapshot interval as each client sees it, plus the count of missed ticks.

    .venv/bin/python benchmarks/tick_jitter.py [--seconds 20] [--tick-rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cubearena.liveserver import LiveServer  # noqa: E402
from loadbots.client import Account  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def player(url: str, name: str, match: dict | None, cubes: int, seconds: float, out: dict) -> dict:
    acct = Account(url)
    await acct.guest(name)
    if match is None:
        match = await acct.create_match("jitter", max_players=2, tick_rate=out["tick_rate"])
        out["match"] = match
    sock = await acct.open_socket(match)
    welcome = await sock.recv()
    sock.seq = welcome["ack"] or 0
    me = welcome["you"]
    mine: list[int] = []
    server_t, arrivals, ticks = [], [], []

    async def reader():
        while True:
            msg = await sock.recv()
            if msg["type"] != "snap":
                continue
            arrivals.append(time.monotonic())
            server_t.append(msg["t"])
            ticks.append(msg["tick"])
            sock.tick = msg["tick"]
            for e in msg["ents"]:
                if e["owner"] == me and e["id"] not in mine:
                    mine.append(e["id"])

    task = asyncio.create_task(reader())
    for i in range(cubes):  # 5 spawns a second at most (PROTOCOL.md)
        await sock.cmd("spawn", at=[random.uniform(-40, 40), random.uniform(-40, 40)], cid=f"c{i}")
        await asyncio.sleep(0.21)
    arrivals.clear(), server_t.clear(), ticks.clear()
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # keep every cube gliding: retarget a few each 100 ms
        if mine:
            await sock.cmd(
                "move",
                ids=random.sample(mine, min(3, len(mine))),
                to=[random.uniform(-45, 45), random.uniform(-45, 45)],
            )
        await asyncio.sleep(0.1)
    task.cancel()
    await sock.close()
    await acct.close()
    return {
        "server_ms": [b - a for a, b in zip(server_t, server_t[1:])],
        "client_ms": [(b - a) * 1000 for a, b in zip(arrivals, arrivals[1:])],
        "missed": sum(b - a - 1 for a, b in zip(ticks, ticks[1:])),
        "cubes": len(mine),
    }


async def main(seconds: float, tick_rate: int) -> None:
    with LiveServer() as server:
        shared = {"tick_rate": tick_rate}
        first = asyncio.create_task(player(server.url, "alice", None, 50, seconds, shared))
        while "match" not in shared:
            await asyncio.sleep(0.05)
        second = await player(server.url, "bob", shared["match"], 50, seconds, shared)
        results = [await first, second]
    nominal = 1000 / tick_rate
    server_ms = results[0]["server_ms"]
    client_ms = [v for r in results for v in r["client_ms"]]
    print(
        f"match: 2 players, {sum(r['cubes'] for r in results)} cubes, {tick_rate} Hz (nominal {nominal:.1f} ms), {seconds:.0f} s"
    )
    print(
        f"server tick interval  p50 {statistics.median(server_ms):6.1f} ms  p99 {pct(server_ms, 99):6.1f} ms  max {max(server_ms):6.1f} ms"
    )
    print(
        f"client snap interval  p50 {statistics.median(client_ms):6.1f} ms  p99 {pct(client_ms, 99):6.1f} ms  max {max(client_ms):6.1f} ms"
    )
    print(f"missed ticks seen by clients: {sum(r['missed'] for r in results)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tick-rate", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.tick_rate))
