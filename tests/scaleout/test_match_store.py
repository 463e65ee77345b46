"""game/transport/match_store.py's Redis store against the real Redis: appends made in one turn
of the loop share one round trip (one script call), and each owner still gets its own answer."""

import asyncio
import secrets

from django.conf import settings

from game.transport import resp
from game.transport.match_store import APPEND, NOT_OURS, OURS, STALE_LOG, RedisMatchStore


def make_store() -> RedisMatchStore:
    return RedisMatchStore(settings.REDIS_URL, f"t{secrets.token_hex(4)}")


def count_round_trips(monkeypatch) -> list[int]:
    """Count the appends' requests (one a round trip: a batch is one script call)."""
    sent = []
    original = resp.RespConnection.send

    def send(self, protocol, payload, take):
        sent.append(1)
        return original(self, protocol, payload, take)

    monkeypatch.setattr(resp.RespConnection, "send", send)
    return sent


async def test_appends_in_one_turn_share_a_round_trip_and_each_gets_its_own_answer(monkeypatch):
    store = make_store()
    try:
        await store.rewrite("a", "me", 0, [b"a0"])
        await store.rewrite("b", "me", 0, [b"b0"])
        await store.rewrite("c", "other", 0, [b"c0"])
        await store.redis.script_load(APPEND)
        await store._lean.ready()  # connected (a SELECT first): what is counted below is appends
        sent = count_round_trips(monkeypatch)
        answers = await asyncio.gather(
            store.append("a", "me", 0, 1, b"a1", 10),  # ours, continues the log
            store.append("b", "me", 7, 8, b"b8", 10),  # ours, but the store's log is at 0
            store.append("c", "me", 0, 1, b"c1", 10),  # another owner's lease
        )
        assert answers == [OURS, STALE_LOG, NOT_OURS]
        assert len(sent) == 1
        assert await store.read("a") == [b"a0", b"a1"]
        assert await store.read("b") == [b"b0"]
        assert await store.read("c") == [b"c0"]
        # What queues while a batch is on its way goes next, in one more round trip.
        sent.clear()
        first = asyncio.ensure_future(store.append("a", "me", 1, 2, b"a2", 10))
        for _ in range(100):  # until the first batch is on its way
            if sent:
                break
            await asyncio.sleep(0)
        assert sent and not first.done()
        later = [store.append(m, "me", 0, 1, m.encode(), 10) for m in ("d", "e")]
        assert await asyncio.gather(first, *later) == [OURS, STALE_LOG, STALE_LOG]
        assert len(sent) == 2
    finally:
        for m in "abcde":
            await store.drop(m)
        await store.close()


async def test_one_append_that_fails_in_redis_fails_alone():
    """The batch is one script call; an append Redis refuses (its log key holds another type)
    fails for its owner only, and the others are written."""
    store = make_store()
    try:
        await store.rewrite("a", "me", 0, [b"a0"])
        await store.rewrite("b", "me", 0, [b"b0"])
        await store.redis.delete(f"{store.prefix}:log:b")
        await store.redis.hset(f"{store.prefix}:log:b", "not", "a list")
        answers = await asyncio.gather(
            store.append("a", "me", 0, 1, b"a1", 10),
            store.append("b", "me", 0, 1, b"b1", 10),
            return_exceptions=True,
        )
        assert answers[0] == OURS and isinstance(answers[1], resp.ReplyError), answers
        assert "WRONGTYPE" in str(answers[1])
        assert await store.read("a") == [b"a0", b"a1"]
    finally:
        for m in "ab":
            await store.drop(m)
        await store.close()


async def test_a_redis_that_lost_the_script_gets_it_again():
    store = make_store()
    try:
        await store.rewrite("a", "me", 0, [b"a0"])
        await store.redis.script_flush()
        assert await store.append("a", "me", 0, 1, b"a1", 10) == OURS
        assert await store.read("a") == [b"a0", b"a1"]
    finally:
        await store.drop("a")
        await store.close()


async def test_an_unreachable_redis_fails_every_queued_append():
    store = RedisMatchStore("redis://127.0.0.1:1/0", "t")  # nothing listens on port 1
    answers = await asyncio.gather(
        *(store.append(m, "me", 0, 1, b"x", 10) for m in "ab"), return_exceptions=True
    )
    assert all(isinstance(a, ConnectionError) for a in answers), answers
    await store.close()


async def test_the_store_names_its_running_matches_whose_lease_lapsed():
    """The stale watch's one call a look: matches written to the log are running until dropped;
    those without a lease are named; a new store says so once."""
    from game.transport.match_store import MemoryMatchStore

    for store in (make_store(), MemoryMatchStore()):
        try:
            assert (await store.lapsed())[1] is True  # new: its set may miss matches
            assert await store.lapsed() == ([], False)
            await store.rewrite("a", "me", 0, [b"a0"])
            await store.rewrite("b", "me", 0, [b"b0"])
            assert await store.lapsed() == ([], False)  # both leases held
            await store.release("a", "me")
            assert await store.lapsed() == (["a"], False)
            await store.drop("b")
            await store.release("a", "me")
            assert await store.lapsed() == (["a"], False)
            await store.forget(["a"])  # the database has it as over
            assert await store.lapsed() == ([], False)
        finally:
            await store.drop("a")
            if isinstance(store, RedisMatchStore):
                await store.redis.delete(f"{store.prefix}:born")
                await store.close()


async def test_a_match_taken_before_its_first_log_write_is_running_already():
    store = make_store()
    try:
        await store.lapsed()
        assert await store.acquire("a", "me") == "me"
        assert await store.acquire("a", "other") == "me"
        await store.release("a", "me")
        assert await store.lapsed() == (["a"], False)  # its owner died before its first tick
    finally:
        await store.drop("a")
        await store.redis.delete(f"{store.prefix}:born")
        await store.close()
