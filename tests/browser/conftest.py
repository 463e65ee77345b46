"""Browser tests: a real server (Daphne, embedded default) and Debian's Chromium, headless.

Playwright drives /usr/bin/chromium (never a downloaded browser); software WebGL comes
from SwiftShader. Screenshots go to artifacts/ (see README).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from cubearena.liveserver import LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
# Where `point_at` aims, in pixels from a cube's centre on screen: the centre, then around it.
_AROUND = [(dx, dy) for dx, dy in itertools.product((-1, 0, 1), repeat=2) if dx or dy]
AIM_AROUND = [(0, 0)] + [(dx * r, dy * r) for r in (5, 10) for dx, dy in _AROUND]
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (scripts/services installs Debian's)")
        for item in items:
            if "browser" in item.nodeid.split("::")[0].split("/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def server():
    with LiveServer(
        env={
            "CUBEARENA_GUESTS_PER_ADDRESS": "1000",
            "CUBEARENA_LIVE_MATCHES_PER_PLAYER": "100",
            "CUBEARENA_MATCHES_PER_HOUR": "1000",
        }
    ) as live:
        yield live


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Player:
    """One person in one browser context: a guest session and a page."""

    def __init__(self, browser, server: LiveServer, nickname: str):
        self.server = server
        self.context = browser.new_context(viewport={"width": 1100, "height": 760})
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # The match sockets' URLs and frames by kind, as Chromium saw them (the encoding check).
        self.sockets: list[str] = []
        self.frames = {"received_text": 0, "received_binary": 0, "sent_text": 0, "sent_binary": 0}
        self.page.on("websocket", self._watch_socket)
        self.context.request.get(server.url + "/api/csrf")
        token = next(c["value"] for c in self.context.cookies() if c["name"] == "csrftoken")
        resp = self.context.request.post(
            server.url + "/api/guest",
            data=json.dumps({"nickname": nickname}),
            headers={"X-CSRFToken": token, "Content-Type": "application/json"},
        )
        assert resp.ok, resp.text()
        self.player_id = resp.json()["player"]

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        self.context.request.get(self.server.url + "/api/csrf")
        token = next(c["value"] for c in self.context.cookies() if c["name"] == "csrftoken")
        resp = self.context.request.fetch(
            self.server.url + path,
            method=method,
            data=json.dumps(body or {}),
            headers={"X-CSRFToken": token, "Content-Type": "application/json"},
        )
        assert resp.ok, resp.text()
        return resp.json()

    def _watch_socket(self, ws) -> None:
        if "/ws/match/" not in ws.url:
            return
        self.sockets.append(ws.url)

        def count(way: str, payload) -> None:
            self.frames[f"{way}_{'text' if isinstance(payload, str) else 'binary'}"] += 1

        ws.on("framereceived", lambda payload: count("received", payload))
        ws.on("framesent", lambda payload: count("sent", payload))

    def open(self, match_id: str, query: str = "") -> None:
        # Not "load": three.js is 1.3 MB of modules and a loaded machine is slow to parse it;
        # the welcome below is what matters.
        self.page.goto(f"{self.server.url}/match/{match_id}/{query}", wait_until="domcontentloaded")
        self.wait(lambda s: s["connected"] and s["tick"] is not None, "the welcome", timeout=40)

    def state(self) -> dict:
        return self.page.evaluate("window.__arena.state()")

    def wait(self, predicate, what: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.page.evaluate("window.__arena ? window.__arena.state() : null")
            if state is not None and predicate(state):
                return state
            self.page.wait_for_timeout(50)
        raise AssertionError(f"timed out waiting for {what}; last state: {json.dumps(state)[:1500]}")

    def screen_of_entity(self, ent_id: int) -> dict:
        return self.page.evaluate("(id) => window.__arena.screenOfEntity(id)", ent_id)

    def point_at(self, ent_id: int, timeout: float = 10.0) -> dict:
        """Put the mouse on a cube as a player would: aim, and re-aim until it highlights. Its
        centre may be hidden behind a neighbour (cubes spawned from the button land close
        together), so each new aim moves a little around it, as a player's hand would."""
        deadline = time.monotonic() + timeout
        for attempt in itertools.count():
            spot = self.screen_of_entity(ent_id)
            dx, dy = AIM_AROUND[attempt % len(AIM_AROUND)]
            spot = {**spot, "x": spot["x"] + dx, "y": spot["y"] + dy}
            self.page.mouse.move(spot["x"], spot["y"])
            try:
                self.wait(
                    lambda s: s["hovered"] == ent_id,
                    f"the pointer on cube {ent_id}",
                    timeout=min(1.0, max(0.1, deadline - time.monotonic())),
                )
                return spot
            except AssertionError:
                if time.monotonic() >= deadline:
                    self.page.screenshot(path=str(ARTIFACTS / f"point-at-{ent_id}-failed.png"))
                    raise

    def screen_of(self, x: float, z: float) -> dict:
        return self.page.evaluate("([x, z]) => window.__arena.screenOf(x, z)", [x, z])

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(browser, server):
    made: list[Player] = []

    def make(nickname: str) -> Player:
        person = Player(browser, server, nickname)
        made.append(person)
        return person

    yield make
    for person in made:
        person.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
