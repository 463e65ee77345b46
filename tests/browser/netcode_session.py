"""A scripted 60 s session under a simulated 150/30 ms lag/jitter, with and without lag compensation.

Not a test (pytest does not collect it): run it by hand to measure how often, and by how
much, the server corrects the browser's prediction of its own cubes:

    .venv/bin/python -m tests.browser.netcode_session [--seconds 60] [--lag 150] [--jitter 30]

Alice (in headless Chromium, ?lag=..&jitter=..) spawns four cubes, selects them and then,
from a seeded script, right-clicks somewhere near the middle every 1.5 s or taps an arrow
key twice (nudges); at most two orders a second, so the auditor's lag-claim rule never
fires. The same script runs with ?lagcomp=0 (commands stamped with the last snap's tick).
"""

from __future__ import annotations

import argparse
import json
import random
import time

from cubearena.liveserver import LiveServer
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Player

ENV = {
    "CUBEARENA_GUESTS_PER_ADDRESS": "1000",
    "CUBEARENA_LIVE_MATCHES_PER_PLAYER": "100",
    "CUBEARENA_MATCHES_PER_HOUR": "1000",
}


def run(browser, server, query: str, seconds: float, seed: int) -> dict:
    alice = Player(browser, server, "alice")
    try:
        match = alice.api(
            "POST", "/api/matches", {"name": "netcode session", "max_players": 2, "tick_rate": 10}
        )
        alice.open(match["id"], query)
        alice.wait(lambda s: s["net"]["rtt"] is not None, "a round trip")
        for n in range(4):
            alice.page.click("button.spawn")
            alice.wait(lambda s, n=n: sum(e["own"] for e in s["entities"]) == n + 1, "a cube", timeout=5)
            alice.page.wait_for_timeout(300)
        alice.page.mouse.click(5, 300)  # focus the arena, then select every own cube
        alice.page.keyboard.press("Control+a")
        alice.wait(lambda s: len(s["selected"]) == 4, "the selection")
        rng = random.Random(seed)
        start = alice.state()
        began = time.monotonic()
        orders = 0
        while time.monotonic() - began < seconds:
            if rng.random() < 0.7:
                x, z = rng.uniform(-8, 8), rng.uniform(-6, 6)
                at = alice.screen_of(x, z)
                alice.page.mouse.click(at["x"], at["y"], button="right")
                orders += 1
            else:
                key = rng.choice(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"])
                for _ in range(2):
                    alice.page.keyboard.press(key)
                    alice.page.wait_for_timeout(250)
                orders += 2
            alice.page.wait_for_timeout(1500)
        elapsed = time.monotonic() - began
        alice.page.wait_for_timeout(2500)  # let the last orders be acknowledged
        end = alice.state()
        net = end["net"]
        corrections = net["corrections"] - start["net"]["corrections"]
        return {
            "query": query,
            "seconds": round(elapsed, 1),
            "orders": orders,
            "commands": end["seq"] - start["seq"],
            "corrections": corrections,
            "correction_events": net["correctionEvents"] - start["net"]["correctionEvents"],
            "corrections_per_minute": round(corrections * 60 / elapsed, 1),
            "events_per_minute": round(
                (net["correctionEvents"] - start["net"]["correctionEvents"]) * 60 / elapsed, 1
            ),
            "largest_correction": round(net["largestCorrection"], 3),
            "mean_correction": round(net["totalCorrection"] / net["corrections"], 3)
            if net["corrections"]
            else 0,
            "rtt_ms": round(net["rtt"]),
            "jitter_ms": round(net["jitter"], 1),
            "interp_delay_ms": round(net["interpDelay"]),
            "ack_delay_ticks": net["ackDelayTicks"],
            "pending_at_end": net["pending"],
            "kicked": end["closed"],
            "errors": alice.errors,
        }
    finally:
        alice.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--lag", type=int, default=150)
    parser.add_argument("--jitter", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    base = f"?lag={args.lag}&jitter={args.jitter}"
    results = []
    with LiveServer(env=ENV) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for query in (base, base + "&lagcomp=0"):
            results.append(run(browser, server, query, args.seconds, args.seed))
            print(json.dumps(results[-1]), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
