"""Frame CPU time of the browser client drawing N cubes, in headless Chromium (software WebGL).

Opens a match page with `?bench=N`: N cubes wander the arena through the real client
(mirror, presenter, instanced renderer) without a socket, and the page records the
JavaScript time of every frame. Prints p50/p95/p99/max of those frame times and the frames
drawn per second. Software WebGL rasterises in Chromium's GPU process, outside the JS time, so
it then times `--renders` draws of the same frame, each waited for until its pixels are done
(`window.__arena.renderTimes`, not in the older client: 0 skips it): the drawing's whole cost.
The camera keeps its first view (own cubes framed); `--distance D` wheels it out to D first
(45 was the first view of a 100 x 100 arena before issue 14's readable arena).

    .venv/bin/python benchmarks/frame_time.py [--cubes 500] [--seconds 15] [--distance 45] [--renders 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cubearena.liveserver import LiveServer  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


ZOOM_OUT_JS = """(d) => {
  const canvas = document.querySelector('.arena-canvas');
  const r = canvas.getBoundingClientRect();
  const init = {deltaY: 100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, cancelable: true};
  for (let i = 0; i < 100 && window.__arena.state().camera.distance < d; i++) {
    canvas.dispatchEvent(new WheelEvent('wheel', init));
  }
  return window.__arena.state().camera.distance;
}"""


def main(cubes: int, seconds: float, distance: float | None = None, renders: int = 60) -> None:
    from playwright.sync_api import sync_playwright

    with LiveServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        request = context.request
        request.get(server.url + "/api/csrf")
        token = lambda: next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")  # noqa: E731
        request.post(
            server.url + "/api/guest",
            data=json.dumps({"nickname": "bench"}),
            headers={"X-CSRFToken": token(), "Content-Type": "application/json"},
        )
        request.get(server.url + "/api/csrf")
        match = request.post(
            server.url + "/api/matches",
            data=json.dumps({"name": "frame bench"}),
            headers={"X-CSRFToken": token(), "Content-Type": "application/json"},
        ).json()
        page = context.new_page()
        page.goto(f"{server.url}/match/{match['id']}/?bench={cubes}")
        page.wait_for_function("window.__arena && window.__arena.state().entities.length > 0")
        page.wait_for_timeout(2000)  # warm-up: shaders compiled, caches hot
        if distance is not None:
            page.evaluate(ZOOM_OUT_JS, distance)
            page.wait_for_timeout(500)
        camera = page.evaluate("window.__arena.state().camera")
        page.evaluate("window.__arena.frameTimes.length = 0")
        page.wait_for_timeout(seconds * 1000)
        times = page.evaluate("Array.from(window.__arena.frameTimes)")
        drawn = len(page.evaluate("window.__arena.state().entities"))
        drawing = []
        for _ in range(renders // 15):  # in batches: the page's own frames run in between
            drawing += page.evaluate("window.__arena.renderTimes(15)")
            page.wait_for_timeout(200)
        browser.close()
    print(
        f"{drawn} cubes, {len(times)} frames in {seconds:.0f} s ({len(times) / seconds:.1f} frames/s; "
        f"headless Chromium, SwiftShader WebGL), camera distance {camera['distance']:.1f}"
    )
    print(
        f"frame JS time  p50 {statistics.median(times):.2f} ms  p95 {pct(times, 95):.2f} ms  "
        f"p99 {pct(times, 99):.2f} ms  max {max(times):.2f} ms  (budget 16 ms)"
    )
    if drawing:
        print(
            f"draw + raster  p50 {statistics.median(drawing):.1f} ms  p25 {pct(drawing, 25):.1f} ms  "
            f"p75 {pct(drawing, 75):.1f} ms  ({len(drawing)} draws of one frame, each waited for)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cubes", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--distance", type=float, default=None, help="wheel the camera out to this first")
    parser.add_argument("--renders", type=int, default=60, help="draws timed to the last pixel (0: none)")
    args = parser.parse_args()
    main(args.cubes, args.seconds, args.distance, args.renders)
