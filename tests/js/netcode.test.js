// Clock sync, server pings, the stamps commands carry, the pending buffer's events, the
// network simulation (?lag=&jitter=&loss=) and the rate meters behind the net graph.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";

import { lagCompEnabled, netGraphWanted, netSimParams } from "../../static/js/config.js";
import { Backoff } from "../../static/js/net/backoff.js";
import { Connection } from "../../static/js/net/connection.js";
import { MatchSession } from "../../static/js/net/match-session.js";
import { SimulatedSocket } from "../../static/js/net/net-sim.js";
import { parseFrame } from "../../static/js/net/protocol.js";
import { RateMeter } from "../../static/js/net/rate-meter.js";
import { ServerClock } from "../../static/js/net/server-clock.js";
import { FakeSocket, FakeTimers, delta, ent, fakeEnv, record, welcome } from "./helpers.js";

let timers;

beforeEach(() => {
  FakeSocket.instances = [];
  timers = new FakeTimers();
});

const sock = () => FakeSocket.instances.at(-1);

function connect({ lagComp = true } = {}) {
  const conn = new Connection("ws://test/", { env: fakeEnv(timers), backoff: new Backoff({ random: () => 0 }), lagComp });
  const session = new MatchSession(conn, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval, now: () => timers.now } }).connect();
  sock().open();
  return { conn, session };
}

test("the server's pings are answered at once, each exactly once", () => {
  const { conn } = connect();
  sock().receive(welcome({ tick: 5 }));
  sock().receive({ type: "ping", t: 1700000000123 });
  sock().receive({ type: "ping", t: 1700000000123 }); // a duplicate is not answered twice
  sock().receive({ type: "ping", t: 1700000002123 });
  assert.deepEqual(sock().sentOfType("pong"), [
    { type: "pong", t: 1700000000123 },
    { type: "pong", t: 1700000002123 },
  ]);
  assert.equal(conn.pongsSent, 2);
  assert.equal(parseFrame('{"type":"ping","t":1700000000123.0}').t, 1700000000123);
});

test("a new socket answers the server's pings afresh", () => {
  const { conn } = connect();
  sock().receive({ type: "ping", t: 42 });
  sock().serverClose(1006);
  timers.advance(500);
  sock().open();
  sock().receive({ type: "ping", t: 42 });
  assert.equal(sock().sentOfType("pong").length, 1);
  assert.equal(conn.pongsSent, 2);
});

test("round trip and jitter come from pongs; snapshot bytes are counted", () => {
  const { conn } = connect();
  for (const rtt of [300, 340, 300]) {
    timers.advance(1500 - (timers.now % 1500));
    const ping = sock().sentOfType("ping").at(-1);
    timers.advance(rtt);
    sock().receive({ type: "pong", t: ping.t, st: 1, tick: 3 });
  }
  assert.ok(conn.rtt > 300 && conn.rtt < 340);
  assert.ok(conn.clock.rttJitter > 0);
  sock().receive(welcome({ tick: 1 }));
  sock().receive(delta(2, [ent(1, 1, 0, 0)]));
  assert.ok(conn.snapBytesPerSec > 0);
});

test("the present tick is smooth: it never runs backwards and catches up gently", () => {
  const c = new ServerClock(10);
  assert.equal(c.present(0), null);
  c.onSnap(100, 1000);
  assert.equal(c.present(1000), 100);
  assert.equal(c.present(1050), 100.5);
  // A late snap does not pull the present back.
  c.onSnap(101, 1180);
  const p = c.present(1180);
  assert.ok(p >= 101.3);
  // The first round trip adds 1.5 ticks: no jump, the present catches up at 1.5 x real time.
  const before = c.present(1480);
  c.pending.set(7, 1180);
  c.onPong({ t: 7 }, 1480);
  assert.equal(c.halfRttTicks, 1.5);
  assert.equal(c.present(1480), before);
  const b = c.present(1580);
  assert.ok(Math.abs(b - before - 1.5) < 1e-9, `${before} -> ${b}`);
  assert.ok(c.present(1780) - b > 2.9); // caught up: 1.5 ticks ahead of the arrivals
  for (let t = 102; t < 120; t++) c.onSnap(t, 1000 + (t - 100) * 100 + 300);
  assert.ok(Math.abs(c.present(3200) - (121.5 + 0.6)) < 0.7, `${c.present(3200)}`);
});

test("commands are stamped with the present's tick, or with the last snap's only when lag compensation is off", () => {
  for (const lagComp of [true, false]) {
    FakeSocket.instances = [];
    timers = new FakeTimers();
    const { session } = connect({ lagComp });
    const ping = sock().sentOfType("ping")[0];
    timers.advance(300);
    sock().receive({ type: "pong", t: ping.t, st: 1, tick: 0 });
    sock().receive(welcome({ tick: 40, ents: [ent(1, 1, 0, 0)] }));
    timers.advance(250);
    session.move([1], 5, 5);
    const cmd = sock().sentOfType("cmd")[0];
    const entry = session.pending.list[0];
    assert.equal(entry.asOf, 44, "drawn from the present: 40 + 2.5 elapsed + 1.5 half round trip");
    assert.equal(cmd.tick, lagComp ? 44 : 40);
    assert.equal(entry.claim, cmd.tick);
  }
});

test("the session keeps commands until acknowledged or refused, and says so", () => {
  const { session } = connect();
  const log = record(session, "command", "snap", "rejected", "correction", "welcome");
  sock().receive(welcome({ tick: 10, ack: 3, ents: [ent(1, 1, 0, 0)] }));
  session.move([1], 5, 5); // 4
  session.spawn(1, 1); // 5
  session.nudge([1], 1, 0); // 6
  assert.deepEqual(session.pending.list.map((e) => [e.seq, e.op]), [[4, "move"], [5, "spawn"], [6, "nudge"]]);
  assert.deepEqual(session.pending.list[0].point, [5, 5]);
  sock().receive({ type: "reject", seq: 5, code: "spawn_cooldown", message: "slow", retry_ms: 100 });
  sock().receive(delta(11, [], [], { 1: 5 }));
  assert.deepEqual(session.pending.list.map((e) => e.seq), [6]);
  sock().receive({ type: "correction", ids: [1], reason: "speed_cap" });
  const types = log.map((e) => e.type);
  assert.deepEqual(types, ["welcome", "command", "command", "command", "rejected", "snap", "correction"]);
  const snap = log.find((e) => e.type === "snap").detail;
  assert.equal(snap.exact, true);
  assert.deepEqual(snap.acked.map((e) => e.seq), [4]);
  // A reconnect: what the welcome's ack does not cover was lost with the socket.
  sock().serverClose(1006);
  timers.advance(500);
  sock().open();
  sock().receive(welcome({ tick: 20, ack: 5, ents: [ent(1, 1, 0, 0)] }));
  assert.deepEqual(log.at(-1).detail.dropped.map((e) => e.seq), [6]);
  assert.equal(session.pending.size, 0);
  assert.equal(session.move([1], 0, 0)[0], 7);
});

// -- the network simulation ---------------------------------------------------------

class Inner {
  constructor() {
    this.readyState = 1;
    this.sent = [];
  }
  send(data) {
    this.sent.push(data);
  }
  close(code) {
    this.closed = code;
  }
}

function simulated(sim, random = () => 0.5) {
  const inner = new Inner();
  const s = new SimulatedSocket(inner, { seed: null, loss: 0, jitter: 0, ...sim }, { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, now: () => timers.now, random });
  const got = [];
  s.onmessage = (ev) => got.push([timers.now, ev.data]);
  return { inner, s, got };
}

test("the simulated network delays both ways by lag +- jitter and keeps the order", () => {
  let r = 0;
  const rolls = [1, 0, 0.5, 0.5];
  const { inner, s, got } = simulated({ lag: 150, jitter: 30 }, () => rolls[r++ % rolls.length]);
  s.send("a"); // 150 + 30
  s.send("b"); // 150 - 30, but not before a
  timers.advance(179);
  assert.deepEqual(inner.sent, []);
  timers.advance(1);
  assert.deepEqual(inner.sent, ["a", "b"]);
  inner.onmessage({ data: '{"type":"players"}' });
  timers.advance(149);
  assert.equal(got.length, 0);
  timers.advance(1);
  assert.deepEqual(got.map((g) => g[1]), ['{"type":"players"}']);
});

test("the simulated network drops incoming snaps, only snaps, reproducibly with a seed", () => {
  const run = () => {
    const { inner, s, got } = simulated({ lag: 0, loss: 0.2, seed: 3 });
    for (let t = 1; t <= 200; t++) inner.onmessage({ data: `{"type":"snap","tick":${t}}` });
    inner.onmessage({ data: '{"type":"welcome","snap":{"type":"snap"}}' });
    timers.advance(1);
    return { got: got.map((g) => g[1]), dropped: s.dropped };
  };
  const a = run();
  const b = run();
  assert.deepEqual(a, b);
  assert.ok(a.dropped > 20 && a.dropped < 60, `${a.dropped} dropped`);
  assert.equal(a.got.at(-1), '{"type":"welcome","snap":{"type":"snap"}}');
});

test("the simulated socket closes after what is still on its way, and closing it cancels deliveries", () => {
  const { inner, s, got } = simulated({ lag: 100 });
  const closes = [];
  s.onclose = (ev) => closes.push([timers.now, ev.code]);
  inner.onmessage({ data: "x" });
  inner.onclose({ code: 1006 });
  timers.advance(100);
  assert.deepEqual(got.map((g) => g[1]), ["x"]);
  assert.deepEqual(closes, [[100, 1006]]);
  const other = simulated({ lag: 100 });
  other.s.send("late");
  other.s.close(1000, "bye");
  timers.advance(500);
  assert.deepEqual(other.inner.sent, []);
  assert.equal(other.inner.closed, 1000);
});

test("the page's URL asks for the simulation, lag compensation off, and the net graph", () => {
  assert.equal(netSimParams(""), null);
  assert.deepEqual(netSimParams("?lag=150&jitter=30&loss=0.02"), { lag: 150, jitter: 30, loss: 0.02, seed: null });
  assert.deepEqual(netSimParams("?loss=5&seed=14"), { lag: 0, jitter: 0, loss: 0.9, seed: 14 });
  assert.equal(netSimParams("?lag=-5&jitter=abc"), null);
  assert.equal(lagCompEnabled(""), true);
  assert.equal(lagCompEnabled("?lagcomp=0"), false);
  assert.equal(netGraphWanted("?netgraph=1"), true);
  assert.equal(netGraphWanted(""), false);
});

test("rate meters average over their window", () => {
  const m = new RateMeter(1000, 10);
  for (let t = 0; t < 1000; t += 100) m.add(t, 50);
  assert.equal(m.rate(999), 500);
  assert.equal(m.rate(1450), 250);
  assert.equal(m.rate(5000), 0);
  assert.equal(m.total, 500);
});
