"""Admin's list pages fit a 1,280 px window: no column is cut off behind a horizontal scroll."""

from __future__ import annotations

import subprocess
import sys
import uuid

from .conftest import ROOT

LISTS = [
    "/admin/lobby/match/",
    "/admin/lobby/player/",
    "/admin/lobby/participation/",
    "/admin/lobby/matchevent/",
    "/admin/game/operatoraction/",
    "/admin/game/matchrecord/",
]


def test_every_admin_list_fits_1280_px(browser, server, people):
    alice = people("alice")  # a match with a seat, so every list has a row to lay out
    match = alice.api("POST", "/api/matches", {"name": "a match with a long enough name", "max_players": 4})
    alice.open(match["id"])
    alice.wait(lambda s: s.get("tick", 0) > 0, "the match running")
    name, password = f"staff-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    env = {**server.env, "DJANGO_SUPERUSER_PASSWORD": password}
    command = ["createsuperuser", "--noinput", "--username", name, "--email", "staff@example.org"]
    subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.url + "/admin/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(server.url + "/admin/")
    widths = {}
    for path in LISTS:
        page.goto(server.url + path)
        assert page.locator("#changelist").count() == 1, f"{path} is not a change list"
        # Admin scrolls a wide table inside its own box: measure the table, not the page.
        widths[path] = page.evaluate(
            "Math.max(document.documentElement.scrollWidth,"
            " ...[...document.querySelectorAll('#result_list, .results')].map(e => e.scrollWidth))"
        )
    context.close()
    too_wide = {path: w for path, w in widths.items() if w > 1280}
    assert not too_wide, f"wider than the window: {too_wide}"
