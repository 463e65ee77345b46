"""A group order in Chromium: the cubes go in formation, end a cube apart, and the browser's
predicted slots are the server's (computed by game/sim/formation.py from the command sent)."""

from __future__ import annotations

import itertools
import math
import time

import msgspec

from game.sim import formation
from tests.browser.test_play import own, spawn_and_wait

CUBE_SIZE = 1.0  # static/js/tunables.js CUBE_SIZE


def positions(state: dict) -> dict[int, tuple[float, float]]:
    return {e["id"]: (e["x"], e["z"]) for e in own(state)}


def at_rest(state: dict, count: int) -> bool:
    mine = own(state)
    return len(mine) == count and all((e["x"], e["z"]) == (e["tx"], e["tz"]) for e in mine)


def test_a_group_order_goes_in_formation_and_the_browser_predicts_the_servers_slots(people, artifacts):
    alice = people("alice")
    match = alice.api("POST", "/api/matches", {"name": "formation", "max_players": 2, "tick_rate": 10})
    sent: list[dict] = []

    def watch(ws):
        def on_sent(payload):
            msg = (
                msgspec.msgpack.decode(payload)
                if isinstance(payload, bytes)
                else msgspec.json.decode(payload)
            )
            if msg.get("type") == "cmd":
                sent.append(msg)

        ws.on("framesent", on_sent)

    alice.page.on("websocket", watch)
    # 150 ms each way (within the lag-compensation window of 2 ticks): the order's prediction
    # can be read well before the server's answer, and the server applies it as drawn.
    alice.open(match["id"], "?lag=150")
    count = 6
    for i in range(count):
        spawn_and_wait(alice, i)
    alice.wait(lambda s: at_rest(s, count), "the cubes at rest", timeout=10)
    alice.page.keyboard.press("Control+a")
    alice.wait(lambda s: len(s["selected"]) == count, "every own cube selected")

    before = alice.state()
    start = positions(before)
    cx = sum(x for x, _ in start.values()) / count
    cz = sum(z for _, z in start.values()) / count
    goal = alice.screen_of(cx + 14, cz - 6)
    alice.page.mouse.click(goal["x"], goal["y"], button="right")
    predicted = alice.wait(
        lambda s: s["net"]["pending"] >= 1 and all(e["predictedTarget"] is not None for e in own(s)),
        "the order pending and predicted",
        timeout=2,
    )
    assert predicted["ack"] < predicted["seq"], "read while the order was still unacknowledged"

    order = wait_for_order(alice, sent, 0)
    assert order["form"] in formation.FORMS and 0 <= order["facing"] <= 7
    assert sorted(order["ids"]) == sorted(start)
    slots = formation.slots(order["form"], order["facing"], tuple(order["to"]), len(order["ids"]), 100, 100)
    server_slots = dict(zip(order["ids"], slots, strict=True))
    browser_slots = {e["id"]: tuple(e["predictedTarget"]) for e in own(predicted)}
    assert browser_slots == server_slots

    # The server sends each cube to its slot, they get there, and none ends near another.
    alice.wait(
        lambda s: {e["id"]: (e["tx"], e["tz"]) for e in own(s)} == server_slots,
        "the server's targets",
        timeout=5,
    )
    rest = alice.wait(lambda s: at_rest(s, count), "the formation at rest", timeout=15)
    ends = positions(rest)
    assert ends == server_slots
    closest = min(math.dist(a, b) for a, b in itertools.combinations(ends.values(), 2))
    assert closest >= CUBE_SIZE, closest
    assert alice.state()["net"]["corrections"] == before["net"]["corrections"]  # drawn as the server did
    alice.page.wait_for_timeout(300)
    alice.page.screenshot(path=str(artifacts / "formation-move.png"))

    # An arrow nudge moves the whole group and keeps its shape.
    alice.page.keyboard.press("ArrowRight")
    moved = alice.wait(
        lambda s: at_rest(s, count) and positions(s) != ends, "the nudged group at rest", timeout=8
    )
    after = positions(moved)
    shifts = {(round(after[i][0] - ends[i][0], 6), round(after[i][1] - ends[i][1], 6)) for i in ends}
    assert len(shifts) == 1 and shifts != {(0, 0)}, shifts

    # F switches group orders to a line; the selection goes there in one row.
    alice.page.keyboard.press("f")
    alice.wait(lambda s: any("line" in n["text"] for n in s["notices"]), "the formation notice")
    orders = len(sent)
    goal = alice.screen_of(cx - 4, cz - 10)  # up the view: near its bottom edge the HUD covers the ground
    alice.page.mouse.click(goal["x"], goal["y"], button="right")
    line = wait_for_order(alice, sent, orders)
    assert line["form"] == "line"
    slots = formation.slots("line", line["facing"], tuple(line["to"]), len(line["ids"]), 100, 100)
    rest = alice.wait(lambda s: at_rest(s, count) and positions(s) != after, "the line at rest", timeout=15)
    assert positions(rest) == dict(zip(line["ids"], slots, strict=True))
    alice.page.wait_for_timeout(300)
    alice.page.screenshot(path=str(artifacts / "formation-line.png"))
    assert alice.errors == []


def wait_for_order(person, sent: list[dict], seen: int, timeout: float = 3.0) -> dict:
    """The next move the page sends (the simulated network holds it back a while)."""
    deadline = time.monotonic() + timeout
    while not any(m["op"] == "move" for m in sent[seen:]) and time.monotonic() < deadline:
        person.page.wait_for_timeout(50)
    return next(m for m in sent[seen:] if m["op"] == "move")
