"""A readable arena (issue 14, item 2) in Chromium, in the 1280x800 window the issue names: the
first view frames the player's cubes with each at least 40 px tall (and, with no cubes, shows
the arena's middle where a spawn lands at that size too), a tap of a pan key moves less zoomed
in than zoomed out, and a screenshot with own, selected, hovered and another player's cubes
(artifacts/arena-readable.png)."""

from __future__ import annotations

from tests.browser.test_play import own, spawn_and_wait

WINDOW = {"width": 1280, "height": 800}
MIN_PX = 40


def heights(person, ids: list[int]) -> dict[int, float]:
    """Projected screen height (px) of each cube on screen, by id."""
    out = {}
    for ent_id in ids:
        box = person.page.evaluate("(id) => window.__arena.cubeScreenBox(id)", ent_id)
        across = box["right"] > 0 and box["left"] < WINDOW["width"]
        if across and box["bottom"] > 0 and box["top"] < WINDOW["height"]:
            out[ent_id] = box["height"]
    return out


def tap_pan(person) -> float:
    """How far (ground units) a 100 ms tap of D moves the view."""
    x0 = person.state()["camera"]["x"]
    person.page.keyboard.press("KeyD", delay=100)
    frames = person.state()["frames"]
    person.wait(lambda s: s["frames"] >= frames + 2, "two frames after the tap")
    return person.state()["camera"]["x"] - x0


def zoom(person, notches: int) -> float:
    """Wheel notches at the middle of the view (negative: in); the camera's distance after.
    Dispatched in the page at once (Playwright's wheel waits out a slow frame per notch)."""
    person.page.evaluate(
        """([n, x, y]) => {
            const canvas = document.querySelector('.arena-canvas');
            const init = {deltaY: Math.sign(n) * 100, clientX: x, clientY: y, cancelable: true};
            for (let i = 0; i < Math.abs(n); i++) {
                canvas.dispatchEvent(new WheelEvent('wheel', init));
            }
        }""",
        [notches, WINDOW["width"] / 2, WINDOW["height"] / 2],
    )
    return person.state()["camera"]["distance"]


def test_the_first_view_frames_own_cubes_readable_and_pans_follow_the_zoom(people, artifacts):
    alice, bob = people("alice"), people("bob")
    for person in (alice, bob):
        person.page.set_viewport_size(WINDOW)
    match = alice.api("POST", "/api/matches", {"name": "readable", "max_players": 2, "tick_rate": 10})

    # No cubes yet: the arena's middle, where a spawn lands, at a readable size.
    alice.open(match["id"])
    # Bob's page loads meanwhile (his cube, in the middle, is for the picture).
    bob.page.goto(f"{bob.server.url}/match/{match['id']}/", wait_until="commit")
    first = spawn_and_wait(alice, 0)
    assert heights(alice, [first["id"]])[first["id"]] >= MIN_PX

    # Five more, sent off in a box formation (a cube's width apart).
    for n in range(1, 6):
        spawn_and_wait(alice, n)
    alice.page.keyboard.press("Control+a")
    alice.wait(lambda s: len(s["selected"]) == 6, "all six selected")
    goal = alice.screen_of(-4, 1)
    alice.page.mouse.click(goal["x"], goal["y"], button="right")
    bob.wait(lambda s: s["connected"] and s["tick"] is not None, "bob's welcome", timeout=40)
    spawn_and_wait(bob, 0)
    alice.wait(lambda s: all((e["x"], e["z"]) == (e["tx"], e["tz"]) for e in s["entities"]), "all at rest")

    # A reload: the first view frames her six cubes, each at least 40 px tall.
    alice.page.reload()
    # (timing.firstFrame: the first frame drawn with the welcome's world, which frames the view)
    state = alice.wait(lambda s: len(own(s)) == 6 and s["timing"]["firstFrame"], "a frame with the world")
    mine = own(state)
    seen = heights(alice, [e["id"] for e in mine])
    assert len(seen) == len(mine), f"every own cube on screen: {seen}"
    assert min(seen.values()) >= MIN_PX, f"cube heights in px: {seen}"
    xs, zs = [e["x"] for e in mine], [e["z"] for e in mine]
    cam = state["camera"]
    middle = ((min(xs) + max(xs)) / 2, (min(zs) + max(zs)) / 2)
    assert abs(cam["x"] - middle[0]) < 0.01 and abs(cam["z"] - middle[1]) < 0.01, (cam, middle)

    # The picture: one cube selected, one hovered, bob's beside them.
    page = alice.page
    ids = sorted(seen, key=lambda i: alice.screen_of_entity(i)["x"])
    spot = alice.point_at(ids[0])
    page.mouse.click(spot["x"], spot["y"])
    alice.wait(lambda s: s["selected"] == [ids[0]], "one cube selected")
    alice.point_at(ids[-1])
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "arena-readable.png"))
    page.mouse.move(5, WINDOW["height"] / 2)
    page.keyboard.press("Escape")

    # A tap of D: a short way zoomed in, farther at the start, farthest zoomed out.
    start_distance = state["camera"]["distance"]
    at_start = tap_pan(alice)
    near = zoom(alice, -8)
    zoomed_in = tap_pan(alice)
    far = zoom(alice, 16)
    zoomed_out = tap_pan(alice)
    report = (
        f"taps: {zoomed_in:.2f} at distance {near:.1f}, {at_start:.2f} at {start_distance:.1f}, "
        f"{zoomed_out:.2f} at {far:.1f}"
    )
    assert near < start_distance < far, report
    assert 0 < zoomed_in < at_start < zoomed_out, report
    # About a tenth of the camera's distance for a tenth of a second (0.9 distances a second).
    for moved, distance in ((zoomed_in, near), (at_start, start_distance), (zoomed_out, far)):
        assert 0.04 < moved / distance < 0.35, report
    assert not alice.errors and not bob.errors, alice.errors + bob.errors
