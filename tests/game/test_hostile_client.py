"""Mallory sends thousands of generated malformed and malicious messages at a running match.

Alice and Bob play honestly meanwhile. Afterwards the server still ticks at its rate, the
honest cubes are exactly where the simulation puts them, every hostile message got a typed
answer (or mallory's socket was closed with a code), and nothing was written outside the
match's own records.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.arbiter.consumer import RUNTIMES
from game.arbiter.inprocess import stop_arbiter
from game.wire.protocol import ProtocolError, decode_frame, parse_message
from lobby.models import Match, MatchEvent

from .players import Client, make_match, make_player

MIN_MESSAGES = 2000
ANSWER_TIMEOUT = 1.0

# -- what mallory sends ---------------------------------------------------------------------
numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 1e300, -0.0, 50, 51, 1e6]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ops = st.sampled_from(["spawn", "move", "nudge", "delete", "SPAWN", "", "teleport"]) | st.text(max_size=10)
points = st.lists(numbers, min_size=0, max_size=3) | json_values


@st.composite
def commands(draw):
    msg = {
        "type": "cmd",
        "seq": draw(st.integers(1, 2**31 - 1) | numbers | json_values),
        "tick": draw(st.integers(0, 10_000) | numbers),
        "op": draw(ops),
    }
    for name, values in [
        ("at", points),
        ("to", points),
        ("dir", st.lists(st.integers(-2, 2), max_size=3)),
        ("ids", st.lists(st.integers(-5, 300), max_size=70) | json_values),
        ("cid", st.text(max_size=20) | json_values),
    ]:
        if draw(st.booleans()):
            msg[name] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        msg[draw(st.text(min_size=1, max_size=6))] = draw(json_values)  # an extra field
    return msg


@st.composite
def well_formed_commands(draw):
    """Commands that parse: they test the rules (ownership, caps, rates, stale seqs)."""
    op = draw(st.sampled_from(["spawn", "move", "nudge", "delete"]))
    msg = {"type": "cmd", "seq": draw(st.integers(1, 3000)), "tick": draw(st.integers(0, 3000)), "op": op}
    ids = draw(st.lists(st.integers(1, 120), min_size=1, max_size=5))  # often alice's or bob's cubes
    coord = st.floats(-200, 200, allow_nan=False)
    if op == "spawn":
        msg.update(at=[draw(coord), draw(coord)], cid=draw(st.text(min_size=1, max_size=16)))
    elif op == "move":
        msg.update(ids=ids, to=[draw(coord), draw(coord)])
    elif op == "nudge":
        msg.update(ids=ids, dir=draw(st.sampled_from([[1, 0], [0, -1], [1, 1], [-1, 1]])))
    else:
        msg.update(ids=ids)
    return msg


others = st.fixed_dictionaries(
    {"type": st.sampled_from(["ping", "pong", "resync", "end"])}, optional={"t": numbers | json_values}
)
frames = st.one_of(
    commands().map(lambda m: json.dumps(m, allow_nan=True)),
    well_formed_commands().map(json.dumps),
    others.map(lambda m: json.dumps(m, allow_nan=True)),
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=64),
    st.binary(max_size=64),
    st.integers(16 * 1024 - 10, 20_000).map(lambda n: '{"type": "ping", "t": 1, "x": "' + "a" * n + '"}'),
)


# -- the match, on a loop of its own so Hypothesis can drive it from a plain function ---------
class Arena:
    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sent = self.answered = self.disconnects = self.kicks = 0
        self.codes: dict[str, int] = {}
        self.unanswered: list = []

    def run(self, coro, timeout=60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def setup(self):
        self.alice, alice_key = await make_player("alice")
        self.bob, bob_key = await make_player("bob")
        self.bystander = await make_match(self.alice, name="bystander")
        self.match = await make_match(self.alice, name="arena", tick_rate=30, max_players=50)
        self.a, self.b = Client(self.match, alice_key), Client(self.match, bob_key)
        await self.a.connect()
        await self.b.connect()
        self.targets = {}
        for client, player, base in ((self.a, self.alice, 10), (self.b, self.bob, -10)):
            for i in range(3):
                await client.cmd("spawn", at=[base, i * 5], cid=f"h{i}")
            await client.until_acked(client.seq, player.pk)
        self.before = await self.counts()
        self.started = time.monotonic()
        self.start_tick = self.a.tick
        await self.new_mallory()

    async def new_mallory(self):
        self.mallory, key = await make_player(f"mallory{self.kicks}")
        self.key = key
        self.m = Client(self.match, key)
        await self.m.connect()

    async def reconnect(self):
        self.m = Client(self.match, self.key)
        await self.m.ws.connect(timeout=5)
        try:
            first = await asyncio.wait_for(self.m.ws.output_queue.get(), 5)
        except TimeoutError:
            print(
                "RECONNECT: no welcome; runtime seat:",
                RUNTIMES[str(self.match.id)].state.seats.get(self.mallory.pk),
            )
            raise
        if first["type"] == "websocket.close":  # kicked by a verdict: a new mallory comes
            assert first["code"] == 4430
            self.kicks += 1
            await self.new_mallory()
            return
        self.m.welcome = json.loads(first["text"])
        self.m.seq = self.m.welcome["ack"]

    async def honest_moves(self, force=False):
        """Alice and Bob keep steering their cubes to known targets, a few times a second."""
        if not force and time.monotonic() - getattr(self, "last_move", 0) < 0.25:
            return
        self.last_move = time.monotonic()
        for client, player, sign in ((self.a, self.alice, 1), (self.b, self.bob, -1)):
            own = [i for i, e in client.ents.items() if e["owner"] == player.pk]
            n = self.sent % 17
            target = [sign * (5 + n), n - 8]
            await client.cmd("move", ids=own, to=target)
            for i in own:
                self.targets[i] = tuple(target)

    async def attack(self, batch: list):
        await self.honest_moves()
        for frame in batch:
            await self.send_one(frame)

    async def send_one(self, frame):
        m = self.m
        self.sent += 1
        expect_seq = None
        try:
            msg = parse_message(decode_frame(frame, binary=False))
            expect_seq = getattr(msg, "seq", None)
        except ProtocolError:
            pass
        key = "bytes" if isinstance(frame, bytes) else "text"
        await m.ws.send_input({"type": "websocket.receive", key: frame})  # empty frames too
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while time.monotonic() < deadline:
            try:  # not receive_output(timeout=...): its timeout cancels the consumer under test
                out = await asyncio.wait_for(m.ws.output_queue.get(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            if out["type"] == "websocket.close":
                self.disconnects += 1
                self.codes[f"close {out.get('code')}"] = self.codes.get(f"close {out.get('code')}", 0) + 1
                await self.reconnect()
                return
            reply = json.loads(out["text"])
            kind = reply["type"]
            if kind in ("error", "reject") and (expect_seq is None or reply.get("seq") in (expect_seq, None)):
                self.codes[reply["code"]] = self.codes.get(reply["code"], 0) + 1
                self.answered += 1
                return
            if kind in ("pong", "ended") or (kind == "snap" and reply["full"]):
                self.answered += 1
                return
            if (
                kind == "snap"
                and expect_seq is not None
                and reply["acks"].get(str(self.mallory.pk), 0) >= expect_seq
            ):
                self.answered += 1  # accepted and processed: the ack is the answer
                return
        self.unanswered.append(frame[:200] if not isinstance(frame, bytes) else repr(frame))
        if len(self.unanswered) < 5:
            print("unanswered:", repr(frame)[:300])

    @database_sync_to_async
    def counts(self):
        return {
            "matches": Match.objects.count(),
            "bystander_events": MatchEvent.objects.filter(match=self.bystander).count(),
            "bystander": Match.objects.filter(pk=self.bystander.pk).values("status", "checkpoint").get(),
        }

    async def verify(self):
        # the server still ticks at its rate
        t0, tick0 = time.monotonic(), self.a.tick
        while time.monotonic() - t0 < 1.0:
            await self.a.next("snap")
        rate = (self.a.tick - tick0) / (time.monotonic() - t0)
        assert rate > 0.8 * 30, f"ticking at {rate:.1f} Hz after the attack"
        # the honest cubes are exactly where the simulation puts them: at their targets
        await self.honest_moves(force=True)
        await self.a.until_acked(self.a.seq, self.alice.pk)
        await self.b.until_acked(self.b.seq, self.bob.pk)
        await asyncio.sleep(2.0)  # 30 units at 5 units/s is at most 6 s; these trips are short
        for _ in range(200):
            world = RUNTIMES[str(self.match.id)].state.world
            if all((world.entities[i].x, world.entities[i].z) == t for i, t in self.targets.items()):
                break
            await asyncio.sleep(0.1)
        world = RUNTIMES[str(self.match.id)].state.world
        for i, target in self.targets.items():
            ent = world.entities[i]
            assert (ent.x, ent.z) == target and ent.owner in (self.alice.pk, self.bob.pk)
        await self.a.next("snap")
        for client in (self.a, self.b):
            for i, target in self.targets.items():
                assert (client.ents[i]["tx"], client.ents[i]["tz"]) == target
        # nothing written outside the match's own records
        assert await self.counts() == self.before

    async def teardown(self):
        for client in (self.a, self.b, self.m):
            try:
                await client.close()
            except Exception:
                pass
        await stop_arbiter()


@pytest.mark.django_db(transaction=True)
def test_it_stands_against_a_hostile_client():
    arena = Arena()
    arena.thread.start()
    arena.run(arena.setup())
    try:

        @settings(
            max_examples=400,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(frames, min_size=5, max_size=12))
        def attack(batch):
            arena.run(arena.attack(batch))
            if arena.sent % 200 < len(batch):
                print(
                    f"{arena.sent} sent, {time.monotonic() - arena.started:.1f} s, codes {arena.codes}",
                    flush=True,
                )

        while arena.sent < MIN_MESSAGES:
            attack()
        arena.run(arena.verify())
    finally:
        arena.run(arena.teardown())
        arena.loop.call_soon_threadsafe(arena.loop.stop)
        arena.thread.join(5)
    print(
        f"\nhostile messages: {arena.sent}; typed answers: {arena.answered}; "
        f"disconnects: {arena.disconnects}; kicked mallories: {arena.kicks}"
    )
    print("answers by code:", dict(sorted(arena.codes.items(), key=lambda kv: -kv[1])))
    assert arena.sent >= MIN_MESSAGES
    assert arena.unanswered == [], f"{len(arena.unanswered)} unanswered, e.g. {arena.unanswered[:3]}"
    assert math.isclose(arena.answered + arena.disconnects, arena.sent)
