"""Match chat through the real socket, layer and in-process arbiter: who hears it, what is
refused (each with a typed error, the match going on), and what the record keeps."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from game import limits
from lobby.models import MatchEvent

from .players import Client, two_players, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("arbiter")]


def chat(text) -> dict:
    return {"type": "chat", "text": text}


async def refused(client: Client, code: str) -> dict:
    err = await client.next("error", where=lambda m: m.get("about") == "chat")
    assert err["code"] == code and err["message"], err
    return err


async def test_it_sends_a_players_line_to_both_players_and_a_spectator():
    alice, bob, match, a, b = await two_players()
    watcher = Client(match, query="role=spectator")
    await watcher.connect()
    await a.send(chat("  hello <b>bob</b>\n& all  "))
    for client in (a, b, watcher):
        line = await client.next("chat")
        assert line == {
            "type": "chat",
            "player": alice.pk,
            "nick": "alice",
            "text": "hello <b>bob</b> & all",  # trimmed, the newline a space, markup kept as text
            "tick": line["tick"],
        }
        assert line["tick"] >= a.welcome["snap"]["tick"]
    await b.send(chat("hi alice"))
    for client in (a, b, watcher):
        assert (await client.next("chat"))["player"] == bob.pk
    for client in (a, b, watcher):
        await client.close()


async def test_it_refuses_a_spectators_line_and_nobody_hears_it():
    alice, bob, match, a, b = await two_players()
    watcher = Client(match, query="role=spectator")
    await watcher.connect()
    await watcher.send(chat("let me in"))
    await refused(watcher, "spectator")
    await a.send(chat("after"))
    for client in (a, b, watcher):  # the first line anyone hears is alice's
        assert (await client.next("chat"))["text"] == "after"
    for client in (a, b, watcher):
        await client.close()


async def test_it_refuses_empty_too_long_and_too_fast_lines_and_the_match_goes_on():
    alice, bob, match, a, b = await two_players()
    await a.send(chat(" \t\n "))
    await refused(a, "chat_empty")
    await a.send(chat("x" * (limits.CHAT_MAX_CHARS + 1)))
    err = await refused(a, "chat_too_long")
    assert str(limits.CHAT_MAX_CHARS) in err["message"]
    await a.send({"type": "chat", "text": 7})  # not text at all
    assert (await a.next("error"))["code"] == "bad_message"

    longest = "é" * limits.CHAT_MAX_CHARS  # the limit counts characters, not bytes
    await a.send(chat(longest))
    assert (await b.next("chat"))["text"] == longest
    for i in range(limits.CHAT_BURST - 1):
        await a.send(chat(f"line {i}"))
    for i in range(limits.CHAT_BURST - 1):
        assert (await b.next("chat"))["text"] == f"line {i}"
    await a.send(chat("one too many"))
    err = await refused(a, "rate_limited")
    assert 0 < err["retry_ms"] <= limits.CHAT_WINDOW_S * 1000 / limits.CHAT_BURST + 1

    # the socket, the arbiter and the other player carry on: commands, chat from bob, snaps
    seq = await a.cmd("spawn", at=[1, 1], cid="c1")
    await a.until_acked(seq, alice.pk)
    await b.next("snap", where=lambda m: any(e["owner"] == alice.pk for e in m["ents"]))
    await b.send(chat("still here"))
    assert (await a.next("chat"))["text"] == "still here"
    assert not [m for m in b.inbox if m["type"] == "chat" and m["text"] == "one too many"]
    await a.close()
    await b.close()


async def test_it_records_each_line_as_a_chat_event():
    alice, bob, match, a, b = await two_players()
    await a.send(chat("gg"))
    await b.next("chat")
    await b.send(chat(""))  # refused: recorded as the refusal it is, not as chat
    await refused(b, "chat_empty")

    @database_sync_to_async
    def chats():
        return list(MatchEvent.objects.filter(match=match, kind="chat").values_list("player_id", "payload"))

    recorded = await wait_for(chats, what="the chat event")  # written by the once-a-second flush
    assert recorded == [(alice.pk, {"text": "gg"})]
    errors = await database_sync_to_async(
        lambda: list(MatchEvent.objects.filter(match=match, kind="error").values_list("payload", flat=True))
    )()
    assert [e["code"] for e in errors] == ["chat_empty"]
    await a.close()
    await b.close()


async def test_a_welcome_carries_the_latest_lines_for_a_socket_that_joins_late_or_comes_back():
    alice, bob, match, a, b = await two_players()
    assert a.welcome["chat"] == []
    lines = []
    for n in range(limits.CHAT_BURST):
        await a.send(chat(f"line {n}"))
        lines.append(await b.next("chat", where=lambda m, n=n: m["text"] == f"line {n}"))
    await b.close()
    again = Client(match, b.session_key)  # bob reloads the page
    welcome = await again.connect()
    assert welcome["chat"] == lines  # oldest first, as they were sent
    watcher = Client(match, query="role=spectator")
    assert (await watcher.connect())["chat"] == lines
    for client in (a, again, watcher):
        await client.close()
