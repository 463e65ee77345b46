// Interpolation: the history ring, the playback clock and the presenter.
import { test } from "node:test";
import assert from "node:assert/strict";

import { History } from "../../static/js/net/history.js";
import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { PlaybackClock } from "../../static/js/motion/playback-clock.js";
import { Presenter } from "../../static/js/motion/presenter.js";
import { delta, ent, welcome } from "./helpers.js";

const out = () => ({ x: NaN, z: NaN });

test("history samples linearly between ticks and holds at the ends", () => {
  const h = new History(8);
  h.push(10, 0, 0);
  h.push(11, 1, -2);
  h.push(12, 3, -2);
  const o = out();
  h.sample(10.5, o);
  assert.deepEqual([o.x, o.z], [0.5, -1]);
  h.sample(11.25, o);
  assert.deepEqual([o.x, o.z], [1.5, -2]);
  h.sample(9, o);
  assert.deepEqual([o.x, o.z], [0, 0]);
  h.sample(15, o);
  assert.deepEqual([o.x, o.z], [3, -2]);
  h.sample(11, o);
  assert.deepEqual([o.x, o.z], [1, -2]);
});

test("history interpolates across a gap of several ticks", () => {
  const h = new History(8);
  h.push(10, 0, 0);
  h.push(14, 4, 0);
  const o = out();
  h.sample(13, o);
  assert.equal(o.x, 3);
});

test("history keeps only the newest samples", () => {
  const h = new History(4);
  for (let t = 0; t < 10; t++) h.push(t, t, 0);
  assert.equal(h.count, 4);
  assert.equal(h.oldestTick, 6);
  assert.equal(h.newestTick, 9);
  const o = out();
  h.sample(2, o);
  assert.equal(o.x, 6);
});

test("history: the same tick overwrites, an older tick restarts", () => {
  const h = new History(4);
  h.push(5, 1, 1);
  h.push(5, 2, 2);
  assert.equal(h.count, 1);
  h.push(3, 7, 7);
  assert.equal(h.count, 1);
  assert.equal(h.newestTick, 3);
  const o = out();
  assert.equal(new History(4).sample(1, o), false);
});

test("history size must be a power of two", () => {
  assert.throws(() => new History(6));
});

test("the playback clock runs the configured delay behind arrivals", () => {
  const c = new PlaybackClock(10, { delayTicks: 2 });
  assert.equal(c.renderTick(0), null);
  c.onTick(100, 5000);
  assert.equal(c.renderTick(5000), 98);
  assert.equal(c.renderTick(5050), 98.5);
});

test("the playback clock smooths jitter, never runs backwards and keeps a sample ahead", () => {
  const c = new PlaybackClock(10, { delayTicks: 2, smoothing: 0.1 });
  c.onTick(0, 0);
  let prev = -Infinity;
  for (let t = 1; t < 200; t++) {
    const jitter = (t * 37) % 60; // 0..59 ms late
    const arrival = t * 100 + jitter;
    c.onTick(t, arrival);
    for (let f = 0; f < 6; f++) {
      const r = c.renderTick(arrival + f * 16);
      assert.ok(r >= prev, `went back at tick ${t}`);
      prev = r;
      // Drawing stays behind the newest tick: there is always a sample to glide toward.
      if (t > 50) assert.ok(t - r > 0.3 && t - r <= 2.6, `lag ${t - r} at tick ${t}`);
    }
  }
});

test("the playback clock re-anchors after a long stall", () => {
  const c = new PlaybackClock(10, { delayTicks: 2 });
  c.onTick(10, 1000);
  c.renderTick(1000);
  c.onTick(11, 9000); // the server stalled for 8 s
  assert.equal(c.renderTick(9000), 9);
});

function world() {
  const m = new WorldMirror();
  return m;
}

test("the presenter draws other players' cubes between snapshots, never jumping", () => {
  let now = 0;
  const m = world();
  const p = new Presenter(m, { clock: new PlaybackClock(10, { delayTicks: 2, adapt: false }), now: () => now }).connect();
  m.applyWelcome(welcome({ tick: 0, you: 1, ents: [ent(5, 2, 0, 0, 20, 0)] }));
  let last = 0;
  for (let t = 1; t <= 20; t++) {
    now = t * 100;
    m.applySnap(delta(t));
    for (let f = 0; f < 6; f++) {
      p.update(now + f * 16);
      const d = p.drawn.get(5);
      const step = d.x - last;
      assert.ok(step >= 0 && step <= 0.5 * 0.2 + 1e-9, `frame step ${step} at tick ${t}`);
      last = d.x;
    }
  }
  // Drawn about two ticks (1 unit) behind the authoritative 10.
  const d = p.drawn.get(5);
  assert.ok(m.get(5).x - d.x > 0.5 && m.get(5).x - d.x < 1.5);
  assert.equal(d.own, false);
});

test("the presenter marks own cubes and draws them through OwnMotion", () => {
  let now = 0;
  const m = world();
  const calls = [];
  const ownMotion = {
    hidden: new Set(),
    provisional: new Map(),
    beginFrame: () => 0,
    place(e, o) {
      calls.push(e.id);
      o.x = e.x;
      o.z = e.z;
      return true;
    },
  };
  const p = new Presenter(m, { ownMotion, now: () => now }).connect();
  m.applyWelcome(welcome({ tick: 0, you: 1, ents: [ent(1, 1, 0, 0, 5, 0), ent(2, 2, 0, 0)] }));
  p.update(16);
  assert.deepEqual(calls, [1]);
  assert.equal(p.drawn.get(1).own, true);
});

test("the presenter forgets removed cubes and shows new ones at their spawn point", () => {
  let now = 0;
  const m = world();
  const p = new Presenter(m, { now: () => now }).connect();
  m.applyWelcome(welcome({ tick: 0, ents: [ent(1, 2, 0, 0)] }));
  now = 100;
  m.applySnap(delta(1, [ent(2, 2, 7, 7, 20, 7, "c1")], [1]));
  p.update(100);
  assert.equal(p.drawn.has(1), false);
  assert.deepEqual([p.drawn.get(2).x, p.drawn.get(2).z], [7, 7]);
});

test("the presenter follows the tick rate the welcome announces", () => {
  let now = 1000;
  const m = world(); // the page guessed 10 Hz
  const p = new Presenter(m, { clock: new PlaybackClock(10, { delayTicks: 2 }), now: () => now }).connect();
  m.applyWelcome(welcome({ tick: 100, tickRate: 20 }));
  assert.equal(p.clock.interval, 50);
  assert.equal(p.update(1000), 98);
  now = 1050;
  m.applySnap(delta(101));
  assert.equal(p.update(1050), 99);
});
