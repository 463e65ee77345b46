"""How long joining a match takes: from page load (or from the HTTP join) to the first snapshot.

Against a LiveServer (the embedded default, as `scripts/play` runs it), three measures, each
over `--joins` joins (20 by default), printed as p50/p99/max in ms:

- **browser, first visit**: a new player in a fresh browser context (empty cache) opens the
  match page; from the start of navigation to the page holding its first snapshot (the
  welcome's full snap), with the steps in between (HTML received, modules run, socket open,
  first frame drawn with the world).
- **browser, reload**: the same player reloads the page (cache warm, seat already taken).
- **socket**: no browser: `POST /api/guest` then the match socket, until the welcome arrives
  (the server's share of a join).

    .venv/bin/python benchmarks/join_time.py [--joins 20] [--only browser|socket] [--enc json]
    [--debug-off]  # DEBUG=0 with collectstatic: hashed, compressed static files as deployed

Headless Chromium with software WebGL; the numbers depend on what else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cubearena.liveserver import LiveServer  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

ENV = {
    "CUBEARENA_GUESTS_PER_ADDRESS": "10000",
    "CUBEARENA_LIVE_MATCHES_PER_PLAYER": "1000",
    "CUBEARENA_MATCHES_PER_HOUR": "10000",
}
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "join-time-benchmark-" + "x" * 40,
    "SECURE": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
}

# What the page knows of its own join, in ms since navigation began.
TIMING_JS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const t = window.__arena.state().timing;
  return {html: nav.responseEnd, dom: nav.domContentLoadedEventEnd, app: t.appStart,
          open: t.socketOpen, welcome: t.welcome, frame: t.firstFrame};
}"""
STEPS = [
    ("html", "HTML received"),
    ("dom", "DOM ready"),
    ("app", "modules run (app starts)"),
    ("open", "socket open"),
    ("welcome", "first snapshot"),
    ("frame", "first frame with it"),
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def line(label: str, values: list[float]) -> str:
    return f"  {label:<28} p50 {pct(values, 50):7.0f} ms   p99 {pct(values, 99):7.0f} ms   max {max(values):7.0f} ms"


def api(opener, base: str, method: str, path: str, body: dict | None = None) -> dict:
    opener.open(base + "/api/csrf").read()
    jar = next(h for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
    token = next(c.value for c in jar if c.name == "csrftoken")
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body or {}).encode(),
        method=method,
        headers={"X-CSRFToken": token, "Content-Type": "application/json", "Origin": base},
    )
    with opener.open(req) as resp:
        return json.loads(resp.read() or b"{}")


def new_opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def make_match(base: str, players: int) -> str:
    opener, _ = new_opener()
    api(opener, base, "POST", "/api/guest", {"nickname": "host"})
    match = api(opener, base, "POST", "/api/matches", {"name": "join time", "max_players": players})
    return match["id"]


def browser_joins(base: str, match_id: str, joins: int, enc: str) -> tuple[list[dict], list[dict]]:
    from playwright.sync_api import sync_playwright

    query = "?enc=json" if enc == "json" else ""
    first, again = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for i in range(joins):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.request.get(base + "/api/csrf")
            token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
            context.request.post(
                base + "/api/guest",
                data=json.dumps({"nickname": f"joiner{i}"}),
                headers={"X-CSRFToken": token, "Content-Type": "application/json"},
            )
            page = context.new_page()
            for out, reload in ((first, False), (again, True)):
                if reload:
                    page.reload(wait_until="commit")
                else:
                    page.goto(f"{base}/match/{match_id}/{query}", wait_until="commit")
                page.wait_for_function(
                    "window.__arena && window.__arena.state().timing.firstFrame !== null",
                    timeout=60_000,
                    polling=20,
                )
                out.append(page.evaluate(TIMING_JS))
            context.close()
        browser.close()
    return first, again


async def socket_joins(base: str, match_id: str, joins: int, enc: str) -> list[float]:
    import websockets

    took = []
    ws_base = base.replace("http://", "ws://")
    for i in range(joins):
        opener, jar = new_opener()
        start = time.perf_counter()
        await asyncio.to_thread(api, opener, base, "POST", "/api/guest", {"nickname": f"socket{i}"})
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        url = f"{ws_base}/ws/match/{match_id}/" + ("?enc=msgpack" if enc == "msgpack" else "")
        async with websockets.connect(url, origin=base, additional_headers={"Cookie": cookie}) as ws:
            first = await asyncio.wait_for(ws.recv(), 30)
            took.append((time.perf_counter() - start) * 1000)
        if isinstance(first, bytes):
            import msgspec

            kind = msgspec.msgpack.decode(first).get("type")
        else:
            kind = json.loads(first).get("type")
        if kind != "welcome":
            raise RuntimeError(f"the first message was {kind!r}, not welcome")
    return took


def report_browser(title: str, rows: list[dict]) -> None:
    print(f"{title} ({len(rows)} joins), ms since navigation began:")
    for key, label in STEPS:
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            print(line(label, values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--only", choices=["browser", "socket"])
    parser.add_argument("--enc", choices=["msgpack", "json"], default="msgpack")
    parser.add_argument("--debug-off", action="store_true", help="DEBUG=0 with collectstatic (as deployed)")
    args = parser.parse_args()
    env = {**ENV, **(PRODUCTION if args.debug_off else {})}
    with LiveServer(env=env, collectstatic=args.debug_off) as server:
        mode = "DEBUG=0, collectstatic" if args.debug_off else "DEBUG=1 (scripts/play)"
        print(f"join time: embedded server, {mode}, {args.enc}, {args.joins} joins each")
        if args.only != "socket":
            match_id = make_match(server.url, args.joins + 2)
            first, again = browser_joins(server.url, match_id, args.joins, args.enc)
            report_browser("browser, first visit (empty cache)", first)
            report_browser("browser, reload", again)
        if args.only != "browser":
            match_id = make_match(server.url, args.joins + 2)
            took = asyncio.run(socket_joins(server.url, match_id, args.joins, args.enc))
            print(f"socket, no browser ({len(took)} joins), ms from POST /api/guest:")
            print(line("welcome received", took))


if __name__ == "__main__":
    main()
