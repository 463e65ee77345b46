"""Two people in two browsers play one match: what each sees, in real headless Chromium."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import ARTIFACTS


def own(state: dict) -> list[dict]:
    return [e for e in state["entities"] if e["own"]]


def by_id(state: dict, ent_id: int) -> dict | None:
    return next((e for e in state["entities"] if e["id"] == ent_id), None)


def spawn_and_wait(person, count_before: int) -> dict:
    person.page.click("button.spawn")
    state = person.wait(lambda s: len(own(s)) == count_before + 1, "a spawned cube", timeout=5)
    return max(own(state), key=lambda e: e["id"])


def pixel(person, x: float, y: float) -> tuple[int, int, int]:
    """The colour drawn at a viewport pixel (read from a screenshot of that spot)."""
    import struct
    import zlib

    png = person.page.screenshot(clip={"x": int(x), "y": int(y), "width": 1, "height": 1})
    # A 1x1 RGB(A) PNG: find the IDAT chunk and inflate it.
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    return tuple(raw[1:4])


def assert_spoke(person, encoding: str) -> None:
    """Every match socket asked for the encoding and every frame both ways was of its kind."""
    assert person.sockets, "no match socket seen"
    asked = ["msgpack"] if encoding == "msgpack" else None
    for url in person.sockets:
        assert parse_qs(urlparse(url).query).get("enc") == asked, url
    kind, other = ("binary", "text") if encoding == "msgpack" else ("text", "binary")
    frames = person.frames
    assert frames[f"received_{kind}"] > 10 and frames[f"sent_{kind}"] > 0, frames
    assert frames[f"received_{other}"] == 0 and frames[f"sent_{other}"] == 0, frames
    net = person.state()["net"]
    assert net["encoding"] == encoding and net["bytesInPerSec"] > 0, net


@pytest.mark.parametrize("encoding", ["msgpack", "json"])
def test_it_shows_every_change_to_both_players_and_refuses_bobs_orders(people, artifacts, encoding):
    alice, bob = people("alice"), people("bob")
    match = alice.api("POST", "/api/matches", {"name": "browser duel", "max_players": 4, "tick_rate": 10})
    query = "" if encoding == "msgpack" else "?enc=json"  # msgpack is the page's default
    alice.open(match["id"], query)
    bob.open(match["id"], query)

    cube = spawn_and_wait(alice, 0)
    # Within 1.5 s of alice seeing it (a bound on the wait, not a stopwatch around the click:
    # on a loaded machine the click itself took 2.6 s once).
    bob.wait(lambda s: by_id(s, cube["id"]) is not None, "alice's cube on bob's screen", timeout=1.5)

    # alice selects it and right-clicks a point: bob sees it arrive there
    alice.wait(lambda s: by_id(s, cube["id"])["drawnX"] is not None, "the cube drawn")
    at = alice.point_at(cube["id"])
    alice.page.mouse.click(at["x"], at["y"])
    alice.wait(lambda s: s["selected"] == [cube["id"]], "the selection")
    goal = alice.screen_of(cube["x"] + 6, cube["z"] - 4)
    alice.page.mouse.click(goal["x"], goal["y"], button="right")
    state = alice.wait(lambda s: by_id(s, cube["id"])["tx"] != cube["x"], "the move order")
    target = by_id(state, cube["id"])
    tx, tz = target["tx"], target["tz"]
    assert abs(tx - (cube["x"] + 6)) < 0.6 and abs(tz - (cube["z"] - 4)) < 0.6
    bob.wait(
        lambda s: (by_id(s, cube["id"])["x"], by_id(s, cube["id"])["z"]) == (tx, tz),
        "the cube arriving",
        timeout=6,
    )

    # bob cannot command it: he can inspect it, but nothing moves on either screen
    bob.wait(lambda s: by_id(s, cube["id"])["drawnX"] is not None, "the cube drawn for bob")
    spot = bob.point_at(cube["id"])
    bob.page.mouse.click(spot["x"], spot["y"])
    bob_state = bob.wait(lambda s: s["inspected"] == cube["id"], "bob inspecting alice's cube")
    assert bob_state["selected"] == []
    elsewhere = bob.screen_of(tx - 10, tz + 10)
    bob.page.mouse.click(elsewhere["x"], elsewhere["y"], button="right")
    bob.page.keyboard.press("ArrowUp")
    bob.page.keyboard.press("Delete")
    alice.page.wait_for_timeout(800)
    for person in (alice, bob):  # bob's orders changed nothing: alice's target, alice's cube
        ent = person.wait(
            lambda s: (by_id(s, cube["id"])["x"], by_id(s, cube["id"])["z"]) == (tx, tz),
            "the cube at rest where alice sent it",
            timeout=8,
        )
        ent = by_id(ent, cube["id"])
        assert (ent["tx"], ent["tz"], ent["owner"]) == (tx, tz, alice.player_id)

    # a second cube of bob's, and a screenshot of the arena with both players' cubes
    bobs = spawn_and_wait(bob, 0)
    alice.wait(lambda s: by_id(s, bobs["id"]) is not None, "bob's cube on alice's screen")
    alice.page.wait_for_timeout(400)
    if encoding == "msgpack":
        alice.page.screenshot(path=str(artifacts / "arena-two-players.png"))

    # alice deletes hers: it vanishes on both screens
    at = alice.point_at(cube["id"])
    alice.page.mouse.click(at["x"], at["y"])
    alice.wait(lambda s: s["selected"] == [cube["id"]], "the selection again")
    alice.page.click("button.delete")
    for person in (alice, bob):
        person.wait(lambda s: by_id(s, cube["id"]) is None, "the cube gone", timeout=3)
    assert alice.errors == [] and bob.errors == []
    for person in (alice, bob):
        assert_spoke(person, encoding)


def test_it_changes_a_cubes_colour_on_hover_and_box_selects_exactly_own_cubes(people):
    alice, bob = people("alice"), people("bob")
    match = alice.api("POST", "/api/matches", {"name": "hover and box", "max_players": 4, "tick_rate": 10})
    alice.open(match["id"])
    bob.open(match["id"])
    mine = [spawn_and_wait(alice, i) for i in range(3)]
    theirs = spawn_and_wait(bob, 0)
    state = alice.wait(
        lambda s: (
            by_id(s, theirs["id"]) is not None and all(by_id(s, c["id"])["drawnX"] is not None for c in mine)
        ),
        "all four cubes",
    )

    # hover: the colour under the pointer changes while the pointer is over the cube
    # the own cube standing furthest (on screen) from any other, so no neighbour shares its pixels
    spots = {e["id"]: alice.screen_of_entity(e["id"]) for e in state["entities"]}
    target = max(
        (c["id"] for c in mine),
        key=lambda i: min(
            abs(spots[i]["x"] - p["x"]) + abs(spots[i]["y"] - p["y"]) for j, p in spots.items() if j != i
        ),
    )
    at = spots[target]
    alice.page.mouse.move(at["x"] + 300, at["y"] + 200)
    alice.wait(lambda s: s["hovered"] is None, "nothing hovered")
    before = pixel(alice, at["x"], at["y"])
    at = alice.point_at(target)
    deadline = time.monotonic() + 5  # software WebGL under load draws a frame every few 100 ms
    while (during := pixel(alice, at["x"], at["y"])) == before and time.monotonic() < deadline:
        alice.page.wait_for_timeout(100)
    if during == before:
        alice.page.screenshot(path=str(ARTIFACTS / "hover-unchanged.png"))
    assert during != before, f"hover did not change the colour ({before}); state: {alice.state()}"

    # a box around everything selects alice's cubes and none of bob's
    points = [alice.screen_of_entity(e["id"]) for e in state["entities"]]
    left, top = min(p["x"] for p in points) - 40, min(p["y"] for p in points) - 40
    right, bottom = max(p["x"] for p in points) + 40, max(p["y"] for p in points) + 40
    alice.page.mouse.move(left, top)
    alice.page.mouse.down()
    alice.page.mouse.move((left + right) / 2, (top + bottom) / 2, steps=5)
    alice.page.mouse.move(right, bottom, steps=5)
    alice.page.mouse.up()
    selected = alice.wait(lambda s: len(s["selected"]) > 0, "a box selection")["selected"]
    assert sorted(selected) == sorted(c["id"] for c in mine)


def test_it_rejoins_as_the_same_player_with_the_same_cubes_after_a_reload(people):
    alice = people("alice")
    match = alice.api("POST", "/api/matches", {"name": "reload", "max_players": 2, "tick_rate": 10})
    alice.open(match["id"])
    first = spawn_and_wait(alice, 0)
    before = alice.state()
    alice.page.reload()
    after = alice.wait(lambda s: s["connected"] and by_id(s, first["id"]) is not None, "the rejoin")
    assert after["you"] == before["you"] == alice.player_id
    assert [e["id"] for e in own(after)] == [first["id"]]
    assert after["seq"] >= before["seq"]
    second = spawn_and_wait(alice, 1)  # and commands still count from the right seq
    assert second["id"] != first["id"]
