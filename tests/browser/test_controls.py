"""RTS controls in Chromium: the minimap (look there, order there), control groups, select
all, a double click on a cube, the `?` list of bindings, and no shortcut while typing."""

from __future__ import annotations

import math

import msgspec

from game.sim import formation
from tests.browser.test_formation import wait_for_order
from tests.browser.test_play import own, spawn_and_wait

ARENA = (100, 100)  # a match's default arena


def minimap_click(person, x: float, z: float, button: str = "left") -> None:
    spot = person.page.evaluate("([x, z]) => window.__arena.minimapOf(x, z)", [x, z])
    person.page.mouse.click(spot["x"], spot["y"], button=button)


def camera_at(x: float, z: float, tol: float = 0.75):
    return lambda s: math.dist((s["camera"]["x"], s["camera"]["z"]), (x, z)) <= tol


def minimap_pixels(person, x: float, z: float) -> set[tuple[int, int, int]]:
    """The colours the minimap shows within 3 px of ground point (x, z)."""
    data = person.page.evaluate(
        """([x, z]) => {
            const c = document.querySelector('.minimap-canvas');
            const r = c.getBoundingClientRect();
            const p = window.__arena.minimapOf(x, z);
            const px = Math.round((p.x - r.left) * c.width / r.width);
            const py = Math.round((p.y - r.top) * c.height / r.height);
            return Array.from(c.getContext('2d').getImageData(px - 3, py - 3, 7, 7).data);
        }""",
        [x, z],
    )
    return {tuple(data[i : i + 3]) for i in range(0, len(data), 4)}


def alice_rgb(person) -> tuple[int, int, int]:
    color = person.state()["color"]
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def pointable(person, ids: list[int]) -> tuple[int, dict]:
    """One of the cubes the pointer can rest on (spawns scatter: one may hide another)."""
    for ent_id in ids:
        try:
            return ent_id, person.point_at(ent_id, timeout=3)
        except AssertionError:
            if ent_id == ids[-1]:
                raise
    raise AssertionError("no cube given")


def selected_is(ids) -> callable:
    want = sorted(ids)
    return lambda s: s["selected"] == want


def test_minimap_control_groups_select_all_and_the_key_list(people, artifacts):
    alice = people("alice")
    match = alice.api("POST", "/api/matches", {"name": "controls", "max_players": 2, "tick_rate": 10})
    sent: list[dict] = []

    def watch(ws):
        def on_sent(payload):
            decode = msgspec.msgpack.decode if isinstance(payload, bytes) else msgspec.json.decode
            msg = decode(payload)
            if msg.get("type") == "cmd":
                sent.append(msg)

        ws.on("framesent", on_sent)

    alice.page.on("websocket", watch)
    alice.open(match["id"])
    page = alice.page

    # A left click on the minimap brings that point to the middle of the view; a cube spawned
    # now lands there, far from the three spawned after the view went back to the middle.
    minimap_click(alice, 38, 38)
    alice.wait(camera_at(38, 38), "the view at (38, 38)")
    far = spawn_and_wait(alice, 0)
    assert math.dist((far["x"], far["z"]), (38, 38)) < 3
    minimap_click(alice, 0, 0)
    alice.wait(camera_at(0, 0), "the view back in the middle")
    near = [spawn_and_wait(alice, 1 + i)["id"] for i in range(3)]
    everyone = sorted([far["id"], *near])
    alice.wait(lambda s: all((e["x"], e["z"]) == (e["tx"], e["tz"]) for e in own(s)), "the cubes at rest")
    assert not alice.screen_of_entity(far["id"])["visible"], "the far cube is off screen"
    page.wait_for_timeout(150)  # a minimap refresh with every cube at rest
    for cube in own(alice.state()):
        assert minimap_pixels(alice, cube["x"], cube["z"]) >= {(255, 255, 255), alice_rgb(alice)}, cube

    # A double click on one of her cubes selects those on screen: not the far one.
    _, spot = pointable(alice, near)
    page.mouse.dblclick(spot["x"], spot["y"])
    alice.wait(selected_is(near), "the cubes on screen selected")

    # Ctrl+A and Shift+A select all her cubes; Shift+digit sets a group, the digit recalls it.
    page.keyboard.press("Escape")
    alice.wait(selected_is([]), "nothing selected")
    page.keyboard.press("Control+a")
    alice.wait(selected_is(everyone), "Ctrl+A: all her cubes")
    page.keyboard.press("Shift+Digit1")
    alice.wait(lambda s: s["groups"] == {"1": everyone}, "group 1")
    one, spot = pointable(alice, near)
    page.mouse.click(spot["x"], spot["y"])
    alice.wait(selected_is([one]), "one cube selected")
    page.keyboard.press("Shift+Digit2")
    alice.wait(lambda s: s["groups"] == {"1": everyone, "2": [one]}, "group 2")
    page.keyboard.press("Escape")
    alice.wait(selected_is([]), "nothing selected")
    page.keyboard.press("Shift+KeyA")
    alice.wait(selected_is(everyone), "Shift+A: all her cubes")
    assert alice.state()["camera"]["x"] == 0, "Shift+A did not pan (plain A does)"
    page.keyboard.press("Escape")
    page.keyboard.press("Digit2")
    alice.wait(selected_is([one]), "group 2 recalled")
    page.keyboard.press("Digit1")
    state = alice.wait(selected_is(everyone), "group 1 recalled")
    assert camera_at(0, 0, 0.01)(state), "a single tap does not move the view"

    # A double tap of the digit also centres the view on the group.
    page.keyboard.press("Digit1")
    page.keyboard.press("Digit1")
    mine = own(state)
    cx = sum(e["drawnX"] for e in mine) / len(mine)
    cz = sum(e["drawnZ"] for e in mine) / len(mine)
    alice.wait(camera_at(cx, cz, 0.5), f"the view centred on group 1 at ({cx:.1f}, {cz:.1f})")

    # Nothing fires while typing in a text field.
    page.evaluate(
        """() => {
            const box = document.createElement('input');
            box.id = 'typing';
            document.body.append(box);
            box.focus();
        }"""
    )
    for key in ("Escape", "Digit2", "Shift+Digit3", "Shift+KeyA", "Shift+Slash", "KeyN"):
        page.keyboard.press(key)
    page.wait_for_timeout(200)
    state = alice.state()
    assert state["selected"] == everyone and "3" not in state["groups"] and not state["keyHelp"]
    assert len(own(state)) == 4 and state["provisional"] == []
    assert page.input_value("#typing") == "2#A?n"
    page.evaluate("() => document.getElementById('typing').remove()")

    # A right click on the minimap sends the selection there, in formation, as on the ground.
    seen = len(sent)
    minimap_click(alice, -25, 20, button="right")
    order = wait_for_order(alice, sent, seen)
    assert sorted(order["ids"]) == everyone
    assert math.dist(order["to"], (-25, 20)) < 0.75, order["to"]
    assert order["form"] == "box"
    slots = formation.slots(order["form"], order["facing"], tuple(order["to"]), len(order["ids"]), *ARENA)
    targets = dict(zip(order["ids"], slots, strict=True))
    alice.wait(
        lambda s: {e["id"]: (e["tx"], e["tz"]) for e in own(s)} == targets,
        "the server's targets at the minimap's point",
        timeout=5,
    )
    page.wait_for_timeout(600)  # the cubes on their way, the view outline drawn
    page.locator("section.minimap").screenshot(path=str(artifacts / "minimap.png"))

    # `?` opens the list of every binding, generated from the keyboard's own table.
    page.keyboard.press("Shift+Slash")
    alice.wait(lambda s: s["keyHelp"], "the key list open")
    listed = page.evaluate(
        """async () => {
            const { KEY_BINDINGS } = await import('/static/js/input/key-bindings.js');
            const rows = [...document.querySelectorAll('.key-help tr.binding')];
            return {
                table: KEY_BINDINGS.map((b) => [b.keys, b.what]),
                shown: rows.map((r) => [[...r.querySelectorAll('kbd')].map((k) => k.textContent),
                                        r.querySelector('.what').textContent]),
                visible: !!document.querySelector('.key-help').offsetParent,
            };
        }"""
    )
    assert listed["visible"] and listed["shown"] == listed["table"]
    labels = {k for keys, _ in listed["shown"] for k in keys}
    assert {"Ctrl+1…9", "Shift+1…9", "1…9", "Ctrl+A", "Shift+A", "Double-click", "?", "Escape"} <= labels
    page.screenshot(path=str(artifacts / "key-help.png"))
    page.keyboard.press("Escape")
    state = alice.wait(lambda s: not s["keyHelp"], "the key list closed")
    assert state["selected"] == everyone, "Escape closed the list and kept the selection"
    assert alice.errors == []
