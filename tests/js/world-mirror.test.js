// The world mirror keeps PROTOCOL.md "Snaps" and "Order".
import { test } from "node:test";
import assert from "node:assert/strict";

import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { stepEntity } from "../../static/js/sim/step.js";
import { delta, ent, full, record, welcome } from "./helpers.js";

function mirrorAt(tick = 10, ents = [ent(1, 1, 0, 0, 10, 0), ent(2, 2, 5, 5)], extra = {}) {
  const m = new WorldMirror();
  m.applyWelcome(welcome({ tick, ents, ...extra }));
  return m;
}

function pos(m, id) {
  const e = m.get(id);
  return [e.x, e.z];
}

test("it applies the welcome's full snap and parameters", () => {
  const m = mirrorAt(10);
  assert.equal(m.tick, 10);
  assert.equal(m.you, 1);
  assert.equal(m.role, "player");
  assert.equal(m.stepLen, 0.5);
  assert.deepEqual([...m.entities.keys()], [1, 2]);
});

test("it steps entities a delta does not list, with the shared step", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11));
  assert.deepEqual(pos(m, 1), [0.5, 0]);
  m.applySnap(delta(12));
  assert.deepEqual(pos(m, 1), [1, 0]);
  assert.deepEqual(pos(m, 2), [5, 5]); // resting
});

test("a listed entity takes the listed state and is not stepped again", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11, [ent(1, 1, 3, 3, -10, 3)]));
  assert.deepEqual(pos(m, 1), [3, 3]);
  assert.equal(m.get(1).tx, -10);
  m.applySnap(delta(12));
  assert.deepEqual(pos(m, 1), [2.5, 3]);
});

test("a delta adds spawned entities and removes gone ones", () => {
  const m = mirrorAt(10);
  const log = record(m, "tick", "spawned");
  m.applySnap(delta(11, [ent(3, 1, -4, -4, -4, -4, "c1")], [2]));
  assert.deepEqual([...m.entities.keys()].sort(), [1, 3]);
  const tick = log.find((e) => e.type === "tick").detail;
  assert.deepEqual(tick.added, [3]);
  assert.deepEqual(tick.removed, [2]);
  assert.deepEqual(log.find((e) => e.type === "spawned").detail, { id: 3, cid: "c1" });
});

test("another player's spawn carries no spawned event for us", () => {
  const m = mirrorAt(10);
  const log = record(m, "spawned");
  m.applySnap(delta(11, [ent(3, 2, 0, 0, 0, 0, "c9")]));
  assert.equal(log.length, 0);
});

test("it ignores a snap whose tick is not above the last applied one", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11));
  assert.equal(m.applySnap(delta(11, [ent(1, 1, 40, 40)])), "ignored");
  assert.equal(m.applySnap(delta(9, [ent(1, 1, 40, 40)])), "ignored");
  assert.equal(m.applySnap(full(11, [])), "ignored");
  assert.deepEqual(pos(m, 1), [0.5, 0]);
  assert.equal(m.tick, 11);
});

test("a gap asks for a resync and only a full snap is applied until one comes", () => {
  const m = mirrorAt(10);
  const log = record(m, "resync-needed");
  assert.equal(m.applySnap(delta(12)), "gap");
  assert.equal(log.length, 1);
  assert.deepEqual(log[0].detail, { tick: 12, expected: 11 });
  assert.equal(m.awaitingFull, true);
  assert.equal(m.applySnap(delta(13)), "waiting");
  assert.equal(m.tick, 10);
  assert.deepEqual(pos(m, 1), [0, 0]);
  assert.equal(m.applySnap(full(14, [ent(1, 1, 2, 0, 10, 0)])), "applied");
  assert.equal(m.awaitingFull, false);
  assert.equal(m.tick, 14);
  // The full snap did not list entity 2: it is gone.
  assert.deepEqual([...m.entities.keys()], [1]);
  assert.equal(m.applySnap(delta(15)), "applied");
  assert.deepEqual(pos(m, 1), [2.5, 0]);
});

test("after a full snap at T the mirror expects T+1", () => {
  const m = mirrorAt(10);
  m.applySnap(full(11, [ent(1, 1, 0.5, 0, 10, 0)]));
  assert.equal(m.applySnap(delta(12)), "applied");
  assert.equal(m.applySnap(delta(14)), "gap");
});

test("a welcome (reconnect) clears a pending resync and replaces the world", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(12));
  assert.equal(m.awaitingFull, true);
  m.applyWelcome(welcome({ tick: 20, ents: [ent(7, 1, 1, 1)], ack: 5 }));
  assert.equal(m.awaitingFull, false);
  assert.equal(m.tick, 20);
  assert.deepEqual([...m.entities.keys()], [7]);
  assert.equal(m.ack, 5);
});

test("a welcome at an older tick voids the interpolation history", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11));
  const log = record(m, "reset");
  m.applyWelcome(welcome({ tick: 3, ents: [ent(1, 1, 0, 0, 10, 0)] }));
  assert.equal(log[0].detail.rewound, true);
  assert.equal(m.get(1).history.count, 1);
  assert.equal(m.get(1).history.newestTick, 3);
});

test("a full snap keeps entities it lists and their history", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11));
  m.applySnap(full(12, [ent(1, 1, 1, 0, 10, 0), ent(2, 2, 5, 5)]));
  assert.equal(m.get(1).history.count, 3);
});

test("own acks are read from the snaps' acks", () => {
  const m = mirrorAt(10, undefined, { ack: 3 });
  m.applySnap(delta(11, [], [], { 1: 7, 2: 99 }));
  assert.equal(m.ack, 7);
  m.applySnap(delta(12, [], [], { 1: 6 }));
  assert.equal(m.ack, 7);
});

test("a corrected entity jumps: its history restarts when it is next listed", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11));
  m.markCorrected([1]);
  m.applySnap(delta(12, [ent(1, 1, -20, 0)]));
  const h = m.get(1).history;
  assert.equal(h.count, 1);
  assert.equal(h.newestTick, 12);
});

test("every applied tick adds one history sample per entity", () => {
  const m = mirrorAt(10);
  for (let t = 11; t <= 15; t++) m.applySnap(delta(t));
  const h = m.get(1).history;
  assert.equal(h.count, 6);
  const out = { x: 0, z: 0 };
  h.sample(12.5, out);
  assert.equal(out.x, 1.25);
});

test("snaps before a welcome are ignored", () => {
  const m = new WorldMirror();
  assert.equal(m.applySnap(delta(1, [ent(1, 1, 0, 0)])), "ignored");
  assert.equal(m.entities.size, 0);
});

test("msgpack-style array records are read as hundredths", () => {
  const m = mirrorAt(10);
  m.applySnap(delta(11, [[9, 2, 150, -300, 400, -300, null]]));
  const e = m.get(9);
  assert.deepEqual([e.x, e.z, e.tx, e.tz], [1.5, -3, 4, -3]);
});

test("stepping many ticks matches stepping the same entity directly", () => {
  const m = mirrorAt(0, [ent(1, 1, -33.33, 12.5, 41.07, -18.91)]);
  const copy = { x: -33.33, z: 12.5, tx: 41.07, tz: -18.91 };
  for (let t = 1; t <= 300; t++) {
    m.applySnap(delta(t));
    stepEntity(copy, 0.5);
    assert.deepEqual(pos(m, 1), [copy.x, copy.z]);
  }
});
