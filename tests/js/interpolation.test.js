// Other players' cubes: the adaptive interpolation delay, extrapolation past a late or lost
// snapshot, and the bounded catch-up afterwards; out-of-order and lost snapshots end to end.
import { test } from "node:test";
import assert from "node:assert/strict";

import { PlaybackClock } from "../../static/js/motion/playback-clock.js";
import { Presenter } from "../../static/js/motion/presenter.js";
import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { EXTRAPOLATE_MAX_TICKS, INTERP_MIN_DELAY_TICKS } from "../../static/js/tunables.js";
import { stepEntity } from "../../static/js/sim/step.js";
import { delta, ent, full, welcome } from "./helpers.js";

const SPEED = 5; // units per second; 0.5 per tick at 10 Hz

test("the interpolation delay starts at two intervals and settles near one plus the margin on a steady feed", () => {
  const c = new PlaybackClock(10);
  assert.equal(c.delayTicks, 2);
  assert.equal(c.delayMs, 200);
  let last = null;
  for (let t = 0; t < 600; t++) {
    c.onTick(t, t * 100);
    for (let f = 0; f < 6; f++) {
      const r = c.renderTick(t * 100 + f * 16.7);
      if (last !== null) assert.ok(r - last >= 0 && r - last <= (16.7 / 100) * 1.05 + 1e-9, `render step ${r - last}`);
      last = r;
    }
  }
  assert.ok(Math.abs(c.delayTicks - INTERP_MIN_DELAY_TICKS) < 0.01, `delay ${c.delayTicks}`);
  assert.ok(c.jitter < 1);
});

test("the interpolation delay grows with jitter, enough to keep a snapshot ahead of drawing", () => {
  const c = new PlaybackClock(10);
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  let newest = -1;
  let frames = 0;
  let starved = 0;
  let overrun = 0;
  for (let t = 0; t < 400; t++) {
    const arrival = t * 100 + rand() * 90; // up to 90 ms late, at random
    // Frames between this arrival and the next: is the snap after the render tick in hand?
    for (let now = arrival; now < (t + 1) * 100; now += 16) {
      const r = c.renderTick(now);
      if (t <= 100 || r === null) continue;
      frames += 1;
      if (r > newest) {
        starved += 1;
        overrun = Math.max(overrun, r - newest);
      }
    }
    c.onTick(t, arrival);
    newest = t;
  }
  // Rarely, and then barely (extrapolation bridges that), does drawing outrun the snaps.
  assert.ok(starved <= frames / 100, `${starved} of ${frames} frames`);
  assert.ok(overrun < 0.25, `overran by ${overrun} ticks`);
  assert.ok(c.delayTicks > 1.5, `delay ${c.delayTicks}`);
  assert.ok(c.jitter > 10, `jitter ${c.jitter}`);
});

/** Bob watches alice's cube 5 (owner 2) glide from the origin toward x = 40. */
function watch({ delayTicks = 2 } = {}) {
  let now = 0;
  const mirror = new WorldMirror();
  const presenter = new Presenter(mirror, { clock: new PlaybackClock(10, { delayTicks, adapt: false }), now: () => now }).connect();
  mirror.applyWelcome(welcome({ tick: 0, you: 1, ents: [ent(5, 2, 0, 0, 40, 0)] }));
  // The server's own world, to make honest snaps from.
  const server = { x: 0, z: 0, tx: 40, tz: 0 };
  const frames = [];
  const frame = (at) => {
    now = at;
    presenter.update(at);
    const d = presenter.drawn.get(5);
    frames.push({ at, x: d.x, z: d.z, r: presenter.renderTick, extrapolated: d.extrapolated });
  };
  /** Server tick t: the cube steps, its delta arrives at t * 100 ms (unless `lost`), 6 frames follow. */
  const tick = (t, lost = false) => {
    stepEntity(server, 0.5);
    now = t * 100;
    if (!lost) mirror.applySnap(delta(t));
    for (let f = 0; f < 6; f++) frame(t * 100 + f * 16);
  };
  return { mirror, presenter, server, frames, frame, tick, setNow: (v) => (now = v) };
}

function assertSmooth(frames, factor = 2) {
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1];
    const b = frames[i];
    const step = Math.hypot(b.x - a.x, b.z - a.z);
    const bound = (factor * SPEED * (b.at - a.at)) / 1000 + 1e-9;
    assert.ok(step <= bound, `frame at ${b.at}: ${step.toFixed(4)} units in ${b.at - a.at} ms (render ${b.r.toFixed(2)})`);
  }
}

test("past a late snapshot a remote cube goes on along the step, then holds; the snap changes nothing", () => {
  const w = watch();
  for (let t = 1; t <= 10; t++) w.tick(t);
  // Snaps 11-18 are held up for 800 ms; drawing (2 ticks behind) runs past tick 10.
  for (let at = 1100; at < 1900; at += 16) w.frame(at);
  const guessed = w.frames.filter((f) => f.extrapolated);
  assert.ok(guessed.length > 10);
  const held = w.frames.at(-1);
  assert.equal(held.x, 0.5 * (10 + EXTRAPOLATE_MAX_TICKS)); // then it holds
  for (let t = 11; t <= 18; t++) {
    stepEntity(w.server, 0.5);
    w.setNow(1900);
    w.mirror.applySnap(delta(t));
  }
  for (let at = 1900; at < 2600; at += 16) w.frame(at);
  assertSmooth(w.frames);
  assert.ok(w.presenter.stats.blended >= 1); // the hold's lag behind the truth is bent away
});

test("a lost snapshot: the gap waits for the full snap, and the drawn motion never jumps", () => {
  const w = watch();
  let t = 0;
  const tickTo = (last, lose = new Set()) => {
    while (t < last) {
      t += 1;
      w.tick(t, lose.has(t));
    }
  };
  tickTo(20, new Set([13]));
  assert.equal(w.mirror.stats.gaps, 1);
  assert.equal(w.mirror.tick, 12); // 14-20 wait for the full snap
  t += 1;
  stepEntity(w.server, 0.5);
  w.setNow(t * 100);
  w.mirror.applySnap(full(t, [ent(5, 2, w.server.x, w.server.z, 40, 0)]));
  assert.equal(w.mirror.stats.filled, 1); // the step bridges 12 -> 21: history filled
  tickTo(40);
  assertSmooth(w.frames);
  assert.equal(w.mirror.get(5).x, w.server.x);
});

test("snapshots out of order: the late one is ignored, the gap resyncs, and drawing stays smooth", () => {
  const w = watch();
  const snaps = [];
  for (let t = 1; t <= 30; t++) {
    stepEntity(w.server, 0.5);
    snaps.push(delta(t));
  }
  // 12 arrives before 11: a gap (resync), 11 is then too old.
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 11, 13, 14];
  const results = [];
  order.forEach((t, i) => {
    w.setNow((i + 1) * 100);
    results.push(w.mirror.applySnap(snaps[t - 1]));
    for (let f = 0; f < 6; f++) w.frame((i + 1) * 100 + f * 16);
  });
  assert.deepEqual(results.slice(10), ["gap", "waiting", "waiting", "waiting"]);
  // The resync's answer (a full snap of tick 16), then deltas again.
  const s = { x: 0, z: 0, tx: 40, tz: 0 };
  for (let t = 1; t <= 16; t++) stepEntity(s, 0.5);
  w.setNow(1500);
  w.mirror.applySnap(full(16, [ent(5, 2, s.x, s.z, 40, 0)]));
  for (let t = 17; t <= 30; t++) {
    w.setNow((t - 1) * 100);
    w.mirror.applySnap(snaps[t - 1]);
    for (let f = 0; f < 6; f++) w.frame((t - 1) * 100 + f * 16);
  }
  assertSmooth(w.frames);
});

test("a remote cube retargeted while its snaps were lost catches up at a bounded speed", () => {
  const w = watch();
  for (let t = 1; t <= 10; t++) w.tick(t);
  // 11-14 lost; at 11 the cube turned around. Drawing guessed it went on.
  w.server.tx = -40;
  for (let t = 11; t <= 14; t++) stepEntity(w.server, 0.5);
  for (let at = 1100; at < 1500; at += 16) w.frame(at);
  w.setNow(1500);
  w.mirror.applySnap(full(14, [ent(5, 2, w.server.x, w.server.z, -40, 0)]));
  for (let t = 15; t <= 30; t++) w.tick(t);
  assertSmooth(w.frames);
  assert.ok(w.presenter.stats.blended >= 1);
  // Caught up: drawn on the interpolated path again.
  const last = w.frames.at(-1);
  const truth = { x: NaN, z: NaN };
  w.mirror.get(5).history.sample(last.r, truth);
  assert.ok(Math.abs(last.x - truth.x) < 1e-6, `${last.x} vs ${truth.x}`);
});
