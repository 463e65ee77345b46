// The connection: parsing, pings, reconnects with back-off, final close codes, stalls.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";

import { Backoff } from "../../static/js/net/backoff.js";
import { CLOSE_STALLED, Connection } from "../../static/js/net/connection.js";
import { FakeSocket, FakeTimers, delta, fakeEnv, record, welcome } from "./helpers.js";

let timers;
let conn;
let log;

beforeEach(() => {
  FakeSocket.instances = [];
  timers = new FakeTimers();
  conn = new Connection("ws://test/ws/match/m/", { env: fakeEnv(timers), backoff: new Backoff({ random: () => 0 }) });
  log = record(conn, "state", "message", "bad-frame");
});

const last = () => FakeSocket.instances.at(-1);
const states = () => log.filter((e) => e.type === "state").map((e) => e.detail.state);

test("it opens a socket, reports states and parses messages", () => {
  conn.connect();
  assert.equal(last().url, "ws://test/ws/match/m/");
  last().open();
  last().receive(welcome({ tick: 5 }));
  assert.deepEqual(states(), ["connecting", "open"]);
  const msgs = log.filter((e) => e.type === "message");
  assert.equal(msgs[0].detail.type, "welcome");
  assert.equal(conn.isOpen, true);
});

test("send refuses while the socket is not open", () => {
  conn.connect();
  assert.equal(conn.send({ type: "resync" }), false);
  last().open();
  assert.equal(conn.send({ type: "resync" }), true);
  assert.deepEqual(last().sentOfType("resync"), [{ type: "resync" }]);
});

test("it pings on open and every interval, and measures the round trip from pongs", () => {
  conn.connect();
  last().open();
  const first = last().sentOfType("ping");
  assert.equal(first.length, 1);
  timers.advance(80);
  last().receive({ type: "pong", t: first[0].t, st: 1, tick: 3 });
  assert.equal(conn.rtt, 80);
  timers.advance(1500);
  assert.equal(last().sentOfType("ping").length, 2);
});

test("a pong for no ping of ours is not a round trip", () => {
  conn.connect();
  last().open();
  last().receive({ type: "pong", t: 42, st: 1, tick: 3 });
  assert.equal(conn.rtt, null);
});

test("the tick estimate adds elapsed whole ticks and half the round trip", () => {
  conn.connect();
  last().open();
  const ping = last().sentOfType("ping")[0];
  timers.advance(200); // rtt 200 ms = 2 ticks at 10 Hz, half is 1
  last().receive({ type: "pong", t: ping.t, st: 1, tick: 0 });
  last().receive(welcome({ tick: 40 }));
  assert.equal(conn.estimateTick(), 41);
  timers.advance(250);
  assert.equal(conn.estimateTick(), 43);
  last().receive(delta(44));
  assert.equal(conn.estimateTick(), 45);
});

test("an ordinary close reconnects after 0.5 s, then 1 s, then 2 s", () => {
  conn.connect();
  last().open();
  last().serverClose(1006);
  assert.equal(states().at(-1), "waiting");
  assert.equal(log.at(-1).detail.retryIn, 500);
  assert.equal(FakeSocket.instances.length, 1);
  timers.advance(499);
  assert.equal(FakeSocket.instances.length, 1);
  timers.advance(1);
  assert.equal(FakeSocket.instances.length, 2);
  last().serverClose(1006); // refused before opening
  timers.advance(999);
  assert.equal(FakeSocket.instances.length, 2);
  timers.advance(1);
  assert.equal(FakeSocket.instances.length, 3);
  last().serverClose(1011);
  assert.equal(log.filter((e) => e.type === "state").at(-1).detail.retryIn, 2000);
});

test("a welcome resets the back-off", () => {
  conn.connect();
  last().serverClose(1006);
  timers.advance(500);
  last().serverClose(1006);
  timers.advance(1000);
  last().open();
  last().receive(welcome());
  last().serverClose(1001);
  assert.equal(log.filter((e) => e.type === "state").at(-1).detail.retryIn, 500);
});

for (const code of [4001, 4401, 4403, 4404, 4409, 4410, 4429, 4430]) {
  test(`close code ${code} is final: no reconnect`, () => {
    conn.connect();
    last().open();
    last().serverClose(code);
    timers.advance(60000);
    assert.equal(FakeSocket.instances.length, 1);
    const s = log.filter((e) => e.type === "state").at(-1).detail;
    assert.equal(s.state, "closed");
    assert.equal(s.code, code);
    assert.ok(s.reason.length > 0);
    assert.equal(s.replaced, code === 4001);
  });
}

test("after markFinal (the match ended) even an ordinary close is final", () => {
  conn.connect();
  last().open();
  conn.markFinal(4410, "over");
  last().serverClose(1000);
  timers.advance(60000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(states().at(-1), "closed");
});

test("a silent socket is dropped and replaced", () => {
  conn.connect();
  const first = last();
  first.open();
  timers.advance(9999);
  assert.equal(first.closedWith, null);
  timers.advance(1);
  assert.equal(first.closedWith?.code, CLOSE_STALLED);
  assert.equal(states().at(-1), "waiting");
  timers.advance(500);
  assert.equal(FakeSocket.instances.length, 2);
});

test("a socket that keeps talking is not dropped", () => {
  conn.connect();
  last().open();
  for (let i = 0; i < 30; i++) {
    timers.advance(1000);
    last().receive(delta(i + 1));
  }
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(last().closedWith, null);
});

test("a bad frame is reported, not thrown", () => {
  conn.connect();
  last().open();
  last().receive("{oops");
  assert.equal(log.filter((e) => e.type === "bad-frame").length, 1);
  assert.equal(conn.isOpen, true);
});

test("dispose closes the socket and cancels a pending reconnect", () => {
  conn.connect();
  last().serverClose(1006);
  conn.dispose();
  timers.advance(60000);
  assert.equal(FakeSocket.instances.length, 1);
  assert.equal(states().at(-1), "closed");
  assert.equal(timers.tasks.size, 0);
});

test("events of a replaced socket are ignored", () => {
  conn.connect();
  const old = last();
  old.open();
  timers.advance(11000); // stalled: dropped
  timers.advance(500);
  const fresh = last();
  assert.notEqual(old, fresh);
  old.receive(welcome()); // handlers were detached; nothing arrives
  assert.equal(log.filter((e) => e.type === "message").length, 0);
});

test("before reconnecting it asks where the match is now, and stops if it is over", async () => {
  const places = ["ws://other/ws/match/m/", null];
  const asked = [];
  conn = new Connection("ws://test/ws/match/m/", {
    env: fakeEnv(timers),
    backoff: new Backoff({ random: () => 0 }),
    locate: async () => {
      asked.push(conn.url);
      return places.shift();
    },
  });
  log = record(conn, "state", "message", "bad-frame");
  conn.connect();
  last().open();
  last().serverClose(1006, "");
  timers.advance(60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(last().url, "ws://other/ws/match/m/");
  assert.deepEqual(asked, ["ws://test/ws/match/m/"]);
  last().open();
  last().serverClose(1006, "");
  timers.advance(60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.final.code, 4410);
  assert.equal(states().at(-1), "closed");
});

test("when the API cannot say where the match is, it retries where it was", async () => {
  conn = new Connection("ws://test/ws/match/m/", {
    env: fakeEnv(timers),
    backoff: new Backoff({ random: () => 0 }),
    locate: async () => {
      throw new Error("503");
    },
  });
  conn.connect();
  last().open();
  last().serverClose(1006, "");
  timers.advance(60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(FakeSocket.instances.length, 2);
  assert.equal(last().url, "ws://test/ws/match/m/");
});
