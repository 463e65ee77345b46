// Client-side prediction and reconciliation of own cubes: OwnMotion over the replay.
import { test } from "node:test";
import assert from "node:assert/strict";

import { OwnMotion } from "../../static/js/motion/own-motion.js";
import { PendingCommands } from "../../static/js/net/pending.js";
import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { appliedAsOf, lagWindow, rewriteHistory, steerEntity } from "../../static/js/sim/lag-comp.js";
import { History } from "../../static/js/net/history.js";
import { replay } from "../../static/js/sim/replay.js";
import { MAX_REPLAY_TICKS } from "../../static/js/tunables.js";
import { delta, ent, full, welcome } from "./helpers.js";

/** alice (player 1) with one cube at rest at the origin, at tick 10, 10 Hz, W = 2. */
function world({ ents = [ent(1, 1, 0, 0), ent(2, 2, 5, 5)], tick = 10 } = {}) {
  const mirror = new WorldMirror();
  mirror.applyWelcome(welcome({ tick, ents }));
  const pending = new PendingCommands({ window: 2 });
  const clock = { present: tick + 0.5, now: 0 };
  const motion = new OwnMotion(mirror, pending, { present: () => clock.present, now: () => clock.now, fallbackUp: () => 2 });
  motion.reset();
  motion.beginFrame(0);
  let seq = 0;
  const send = (op, fields = {}, asOf = Math.floor(clock.present), claim = asOf) => {
    const e = pending.add({ seq: ++seq, op, ids: [], point: null, cid: null, claim, asOf, sentAt: 0, ...fields });
    motion.commandSent(e);
    return e;
  };
  /** The server's snap of `tick`: `ents` listed, acks for player 1. */
  const snap = (t, ents = [], ack = undefined, gone = []) => {
    const before = mirror.tick;
    const result = mirror.applySnap(delta(t, ents, gone, ack === undefined ? {} : { 1: ack }));
    if (result === "applied") {
      pending.acknowledge(mirror.ack, mirror.tick, mirror.tick === before + 1);
      motion.reconcile();
    }
    return result;
  };
  const frame = (present, now = clock.now) => {
    clock.present = present;
    clock.now = now;
    motion.beginFrame(now);
    const out = { x: NaN, z: NaN };
    const predicted = motion.place(mirror.get(1), out);
    return { ...out, predicted };
  };
  return { mirror, pending, motion, clock, send, snap, frame };
}

test("applied-as-of keeps the claim inside the window, after the previous one, never in the future", () => {
  assert.equal(lagWindow(10), 2);
  assert.equal(lagWindow(20), 5);
  assert.equal(lagWindow(7), 1);
  assert.equal(appliedAsOf(20, 19, 0, 2), 19);
  assert.equal(appliedAsOf(20, 10, 0, 2), 18);
  assert.equal(appliedAsOf(20, 25, 0, 2), 20);
  assert.equal(appliedAsOf(20, 18, 19, 2), 19);
  assert.equal(appliedAsOf(0, 0, 0, 2), 0);
  assert.equal(appliedAsOf(1, 0, 0, 2), 1); // the arbiter's history starts at tick 1
});

test("steering rewinds, retargets and fast-forwards; a diagonal nudge goes one unit", () => {
  const e = { x: 3, z: 0, tx: 3, tz: 0 };
  steerEntity(e, "move", [10, 0], { x: 1, z: 0 }, 2, 0.5, 100, 100);
  assert.deepEqual([e.x, e.z, e.tx, e.tz], [2, 0, 10, 0]);
  const n = { x: 0, z: 0, tx: 0, tz: 0 };
  steerEntity(n, "nudge", [1, -1], null, 0, 0.5, 100, 100);
  assert.deepEqual([n.tx, n.tz], [0.71, -0.71]);
  const edge = { x: 49.6, z: 0, tx: 49.6, tz: 0 };
  steerEntity(edge, "nudge", [1, 0], null, 0, 0.5, 100, 100);
  assert.equal(edge.tx, 50); // clamped to the arena
});

test("a move starts moving the cube in the very next frame, before any server reply", () => {
  const w = world();
  const still = w.frame(10.5);
  assert.deepEqual([still.x, still.z], [0, 0]);
  w.send("move", { ids: [1], point: [10, 0] }, 10);
  const next = w.frame(10.6, 16);
  assert.ok(next.predicted);
  assert.ok(next.x > 0 && next.z === 0, `drawn at ${next.x}`);
  assert.equal(w.mirror.get(1).tx, 0); // the server has said nothing yet
  // One tick later it is a step along, as the server will have it.
  const later = w.frame(11.5, 1000);
  assert.ok(Math.abs(later.x - 0.75) < 1e-9, `drawn at ${later.x}`);
});

test("when the snaps agree with the prediction nothing is corrected, acked or not", () => {
  const w = world();
  w.send("move", { ids: [1], point: [10, 0] }, 10, 10); // applied as of 10, acked in 13
  w.snap(11);
  w.snap(12);
  assert.equal(w.pending.size, 1);
  // The server processed it in tick 13 (world at 12): rewound to 10, fast-forwarded.
  w.snap(13, [ent(1, 1, 1.5, 0, 10, 0)], 1);
  assert.equal(w.pending.size, 0);
  assert.equal(w.pending.applied, 10);
  assert.equal(w.motion.stats.corrections, 0);
  assert.equal(w.motion.stats.reconciles, 3);
  const f = w.frame(14.5, 2000);
  assert.equal(f.x, 2.25);
});

test("a prediction the server contradicts is counted, bent away over a few frames, and large ones snap", () => {
  const w = world();
  w.clock.present = 12.5;
  w.send("move", { ids: [1], point: [10, 0] }, 12, 12);
  const before = w.frame(12.5, 1000);
  // The arbiter clamped it: applied as of 13 (one step later) instead of 12.
  w.snap(11);
  w.snap(12);
  w.snap(13);
  w.snap(14, [ent(1, 1, 0.5, 0, 10, 0)], 1);
  const s = w.motion.stats;
  assert.equal(s.corrections, 1);
  assert.ok(Math.abs(s.largest - 0.5) < 1e-9, `${s.largest}`);
  assert.equal(before.x, 0.25);
  // Still drawn where the old prediction had it (1.0 at tick 14); the error fades over the
  // next frames instead of jumping to the server's 0.5.
  const at = w.frame(14, 1000);
  assert.ok(Math.abs(at.x - 1) < 1e-9, `${at.x}`);
  const soon = w.frame(14, 1300);
  assert.ok(Math.abs(soon.x - 0.5) < 0.03, `still ${soon.x}`);
  // The server puts the cube somewhere else entirely: it jumps.
  w.motion.corrected([1]);
  w.snap(15, [ent(1, 1, -20, -20)]);
  assert.equal(s.corrections, 2);
  assert.equal(s.snapped, 1);
  const jumped = w.frame(15.5, 1400);
  assert.deepEqual([jumped.x, jumped.z], [-20, -20]);
});

test("a spawn shows a provisional cube until the server's arrives with its cid", () => {
  const w = world();
  const e = w.send("spawn", { point: [4, 4], cid: "c1" });
  assert.deepEqual([...w.motion.provisional.values()], [{ cid: "c1", seq: e.seq, x: 4, z: 4 }]);
  w.snap(11);
  assert.equal(w.motion.provisional.size, 1);
  w.snap(12, [ent(3, 1, 4, 4, 4, 4, "c1")], e.seq);
  assert.equal(w.motion.provisional.size, 0);
  assert.equal(w.mirror.get(3).cid, "c1");
});

test("a refused spawn or delete is taken back; a refused move is a correction", () => {
  const w = world();
  const spawn = w.send("spawn", { point: [4, 4], cid: "c1" });
  const del = w.send("delete", { ids: [1] });
  assert.ok(w.motion.hidden.has(1));
  w.motion.rejected(w.pending.remove(spawn.seq));
  w.motion.rejected(w.pending.remove(del.seq));
  assert.equal(w.motion.provisional.size, 0);
  assert.equal(w.motion.hidden.has(1), false);
  assert.equal(w.motion.stats.corrections, 0); // nothing had moved
  w.clock.present = 11;
  const move = w.send("move", { ids: [1], point: [10, 0] }, 10);
  w.frame(12, 0);
  w.motion.rejected(w.pending.remove(move.seq));
  assert.equal(w.motion.stats.corrections, 1);
});

test("a deleted cube hides at once and the replay refuses later orders for it, as the server will", () => {
  const w = world();
  w.send("delete", { ids: [1] }, 10);
  w.send("move", { ids: [1], point: [9, 9] }, 10);
  assert.ok(w.motion.hidden.has(1));
  w.snap(11);
  w.snap(12);
  w.snap(13, [], 2, [1]);
  assert.equal(w.mirror.get(1), undefined);
  assert.equal(w.pending.size, 0);
  assert.equal(w.motion.stats.corrections, 0);
});

test("a second order rewinds to the history as the first order rewrote it", () => {
  // The arbiter rewrites its history after a backdated command (game/sim/match.py _steer): an
  // order applied as of a tick before the previous one was processed starts from the first
  // order's path, not the superseded one. So does the replay.
  const r = replay({
    base: 10,
    entities: [{ id: 1, x: 0, z: 0, tx: 0, tz: 0 }],
    past: (id, t, out) => ((out.x = 0), (out.z = 0), true),
    commands: [
      { seq: 1, op: "move", ids: [1], point: [10, 0], asOf: 10, proc: 13 },
      { seq: 2, op: "nudge", ids: [1], point: [0, 1], asOf: 11, proc: 14 },
    ],
    window: 2,
    stepLen: 0.5,
    width: 100,
    depth: 100,
    until: 16,
  });
  const out = { x: 0, z: 0, tx: 0, tz: 0 };
  r.timeline.serverAt(1, 13, out);
  assert.deepEqual([out.x, out.tx], [1.5, 10]); // the move, fast-forwarded 3 ticks
  r.timeline.serverAt(1, 12, out);
  assert.deepEqual([out.x, out.z], [0, 0]); // what the snap of 12 said: serverAt is not rewritten
  r.timeline.serverAt(1, 14, out);
  // The nudge rewinds to tick 11 of the rewritten history: half a step along the move.
  assert.deepEqual([out.x, out.z, out.tx, out.tz], [0.5, 1, 0.5, 1]);
  r.timeline.positionAt(1, 11, out);
  assert.deepEqual([out.x, out.z], [0.5, 0]);
  r.timeline.positionAt(1, 12, out);
  assert.deepEqual([out.x, out.z], [0.5, 0.5]);
  assert.equal(r.applied, 11);
});

test("an acknowledged backdated order rewrites the history of the ticks it was fast-forwarded over", () => {
  const h = new History(16);
  for (let t = 8; t <= 13; t++) h.push(t, 0, 0);
  assert.equal(h.set(20, 1, 1), false); // no sample: nothing changes
  const entry = { op: "move", ids: [1, 2], point: [10, 0], applied: 10, at: 12 };
  // Cube 2 has no history here (e.g. corrected since): it is left alone.
  assert.equal(rewriteHistory(entry, (id) => (id === 1 ? h : null), 0.5, 100, 100), 2);
  const out = { x: 0, z: 0 };
  const at = (t) => (h.at(t, out), [out.x, out.z]);
  assert.deepEqual([at(10), at(11), at(12), at(13)], [[0, 0], [0.5, 0], [1, 0], [0, 0]]);
  // Applied as of the tick it was processed in: nothing to rewrite.
  assert.equal(rewriteHistory({ ...entry, applied: 12 }, () => h, 0.5, 100, 100), 0);
});

test("the replay goes no further than the cap past the last snap", () => {
  const w = world();
  w.send("move", { ids: [1], point: [40, 0] }, 10);
  const far = w.frame(10 + MAX_REPLAY_TICKS + 50, 5000);
  const cap = w.frame(10 + MAX_REPLAY_TICKS, 6000);
  assert.equal(far.x, cap.x);
  assert.ok(w.motion.timeline.until <= 10 + MAX_REPLAY_TICKS);
});

test("a snap out of order is ignored and a lost one waits for the full snap before reconciling", () => {
  const w = world();
  w.send("move", { ids: [1], point: [10, 0] }, 10);
  assert.equal(w.snap(11), "applied");
  assert.equal(w.snap(11), "ignored");
  assert.equal(w.snap(10), "ignored");
  assert.equal(w.motion.stats.reconciles, 1);
  assert.equal(w.snap(13, [ent(1, 1, 1.5, 0, 10, 0)], 1), "gap"); // 12 was lost
  assert.equal(w.pending.size, 1); // its ack is not taken from a snap that was not applied
  assert.equal(w.motion.stats.reconciles, 1);
  // The full snap that answers the resync: same state as the prediction, no correction.
  w.mirror.applySnap(full(14, [ent(1, 1, 2, 0, 10, 0), ent(2, 2, 5, 5)], { 1: 1 }));
  w.pending.acknowledge(w.mirror.ack, 14, false);
  w.motion.reconcile();
  assert.equal(w.pending.size, 0);
  assert.equal(w.motion.stats.corrections, 0);
  // Not knowing the exact tick it was processed in, the applied tick is an estimate.
  assert.ok(w.pending.applied >= 10 && w.pending.applied <= 13);
});

test("acknowledgement delays are learnt, and pending commands replay in the tick they will be processed", () => {
  const p = new PendingCommands({ window: 2 });
  assert.equal(p.ackDelay(4), 4);
  for (let i = 1; i <= 5; i++) p.add({ seq: i, op: "move", ids: [1], point: [0, 0], claim: 10 * i, asOf: 10 * i });
  p.acknowledge(1, 13, true);
  p.acknowledge(2, 22, true);
  p.acknowledge(3, 34, true);
  assert.deepEqual(p.delays, [3, 2, 4]);
  assert.equal(p.ackDelay(), 3);
  assert.equal(p.expectedProc(p.get(4), 30), 43);
  assert.equal(p.expectedProc(p.get(4), 50), 51);
  assert.equal(p.applied, 31); // seq 3: claimed 30, processed with the world at 33: 33 - W
});

test("the way up is learnt from where in its tick each command left", () => {
  const p = new PendingCommands({ window: 2 });
  // Sent at present 10.2, 20.9, 30.5; processed in the ticks the server was at 11, 22, 32.
  [10.2, 20.9, 30.5].forEach((present, i) => p.add({ seq: i + 1, op: "nudge", ids: [1], point: [1, 0], claim: Math.floor(present), asOf: Math.floor(present), present }));
  p.acknowledge(1, 12, true);
  p.acknowledge(2, 23, true);
  p.acknowledge(3, 33, true);
  assert.ok(Math.abs(p.upTicks() - 1.6) < 1e-9, `${p.upTicks()}`); // the median of 1.3, 1.6 and 2.0
  // Two commands stamped with the same tick may well be processed in different ones.
  assert.equal(p.expectedProc({ asOf: 40, present: 40.1 }, 0), 42);
  assert.equal(p.expectedProc({ asOf: 40, present: 40.8 }, 0), 43);
  assert.equal(new PendingCommands().expectedProc({ asOf: 40, present: 40.8 }, 0, 1.5), 43);
});
