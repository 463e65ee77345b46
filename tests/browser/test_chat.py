"""The match chat in real headless Chromium: two players and a spectator on one match."""

from __future__ import annotations

from tests.browser.conftest import ARTIFACTS


def chat_lines(person) -> list[dict]:
    return person.page.evaluate(
        """() => [...document.querySelectorAll('.chat-lines li')].map((li) => ({
            cls: li.className,
            nick: li.querySelector('.nick')?.textContent ?? null,
            text: li.querySelector('.text')?.textContent ?? li.textContent,
            markup: li.querySelectorAll('b, img, script').length,
        }))"""
    )


def wait_line(person, nick: str, text: str, timeout_ms: int = 10_000) -> None:
    person.page.wait_for_function(
        """([nick, text]) => [...document.querySelectorAll('.chat-lines li')].some((li) =>
            li.querySelector('.nick')?.textContent === nick
            && li.querySelector('.text')?.textContent === text)""",
        arg=[nick, text],
        timeout=timeout_ms,
    )


def own_cubes(person) -> int:
    return len([e for e in person.state()["entities"] if e["own"]])


def test_a_line_reaches_the_other_player_and_the_spectator_who_cannot_write(people, artifacts):
    alice, bob, carol = people("alice"), people("bob"), people("carol")
    match = alice.api("POST", "/api/matches", {"name": "chatty duel", "max_players": 4, "tick_rate": 10})
    alice.open(match["id"])
    bob.open(match["id"])
    carol.open(match["id"], "?role=spectator")
    assert carol.state()["role"] == "spectator"

    # Enter opens the box; what is typed there is text, not shortcuts (N and Space spawn, X deletes)
    page = alice.page
    page.locator("canvas").first.click(position={"x": 400, "y": 300})
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement === document.querySelector('.chat-input')")
    line = "nice <b>arena</b> & no spawns x"
    page.keyboard.type(line)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement !== document.querySelector('.chat-input')")
    assert page.input_value(".chat-input") == ""

    for person in (bob, carol, alice):
        wait_line(person, "alice", line)
        (shown,) = [entry for entry in chat_lines(person) if entry["text"] == line]
        assert shown["markup"] == 0  # drawn as text, never as markup
    assert "own" in [e for e in chat_lines(alice) if e["text"] == line][0]["cls"]
    assert own_cubes(alice) == 0  # the N, the spaces and the X in the line spawned and deleted nothing

    # bob answers the same way; Escape leaves the box keeping the draft
    bob.page.locator("canvas").first.click(position={"x": 400, "y": 300})
    bob.page.keyboard.press("Enter")
    bob.page.keyboard.type("gg alice")
    bob.page.keyboard.press("Enter")
    for person in (alice, carol):
        wait_line(person, "bob", "gg alice")
    bob.page.keyboard.press("Enter")
    bob.page.keyboard.type("draft")
    bob.page.keyboard.press("Escape")
    assert bob.page.evaluate("document.activeElement !== document.querySelector('.chat-input')")
    assert bob.page.input_value(".chat-input") == "draft"

    # the spectator reads, but its box is disabled and Enter does not open it
    box = carol.page.locator(".chat-input")
    assert box.is_disabled()
    assert "Spectators" in (box.get_attribute("placeholder") or "")
    carol.page.locator("canvas").first.click(position={"x": 400, "y": 300})
    carol.page.keyboard.press("Enter")
    assert not carol.page.evaluate("document.activeElement === document.querySelector('.chat-input')")
    carol.page.screenshot(path=str(ARTIFACTS / "chat.png"))
    # a box someone enabled by hand sends nothing either (the server refuses a spectator's
    # line too: tests/game/test_chat.py)
    carol.page.evaluate(
        """() => { const input = document.querySelector('.chat-input');
                   input.disabled = false; input.value = 'let me talk'; input.focus(); }"""
    )
    carol.page.keyboard.press("Enter")
    assert "Spectators can read the chat" in chat_lines(carol)[-1]["text"]
    assert not any(e["text"] == "let me talk" for e in chat_lines(alice))

    bob.page.screenshot(path=str(ARTIFACTS / "chat-player.png"))
    for person in (alice, bob, carol):
        assert person.errors == [], person.errors
