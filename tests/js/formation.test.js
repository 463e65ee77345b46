// Formation slots: the browser computes exactly the server's (tests/vectors/step.json,
// written from game/sim/formation.py), keeps cubes apart, fits the arena, and orders ids so
// each cube takes a nearby slot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { DIRECTIONS, SPACING, facingToward, formationSlots, moveTargets, orderForSlots } from "../../static/js/sim/formation.js";
import { moveCmd } from "../../static/js/net/protocol.js";
import { clampPoint } from "../../static/js/sim/step.js";

const { formations } = JSON.parse(readFileSync(new URL("../vectors/step.json", import.meta.url), "utf8"));

test("the vectors cover both forms, every facing, big groups and small arenas", () => {
  assert.ok(formations.length >= 300);
  assert.deepEqual(new Set(formations.map((c) => c.form)), new Set(["box", "line"]));
  assert.equal(new Set(formations.map((c) => c.facing)).size, 8);
  assert.ok(formations.some((c) => c.n === 64 && c.arena[0] <= 20));
});

test("every vector's slots are what the browser computes, bit for bit", () => {
  let n = 0;
  for (const c of formations) {
    const got = formationSlots(c.form, c.facing, c.to, c.n, c.arena[0], c.arena[1]);
    assert.equal(got.length, c.slots.length);
    got.forEach(([x, z], i) => {
      assert.ok(Object.is(x, c.slots[i][0]) && Object.is(z, c.slots[i][1]), `${JSON.stringify(c.to)} ${c.form} ${c.facing} n=${c.n} slot ${i}: ${x},${z} != ${c.slots[i]}`);
      n += 1;
    });
  }
  assert.ok(n > 3000, `${n} slots`);
});

function minDistance(slots) {
  let best = Infinity;
  for (let i = 0; i < slots.length; i++) {
    for (let j = i + 1; j < slots.length; j++) best = Math.min(best, Math.hypot(slots[i][0] - slots[j][0], slots[i][1] - slots[j][1]));
  }
  return best;
}

test("slots that fit the arena are a spacing apart (give or take the quantiser), inside it", () => {
  let fitted = 0;
  for (const c of formations) {
    const [w, d] = c.arena;
    for (const [x, z] of c.slots) assert.ok(Math.abs(x) <= w / 2 && Math.abs(z) <= d / 2);
    const free = formationSlots(c.form, c.facing, [0, 0], c.n, 1e6, 1e6);
    const extent = (k) => Math.max(...free.map((p) => p[k])) - Math.min(...free.map((p) => p[k]));
    if (c.n > 1 && extent(0) <= w && extent(1) <= d) {
      fitted += 1;
      assert.ok(minDistance(c.slots) >= SPACING - 0.015, `${JSON.stringify(c)}`);
    }
  }
  assert.ok(fitted > 200, `${fitted} fitted`);
});

test("one cube goes exactly where a plain move sends it", () => {
  for (const to of [[3.333, -7.777], [60, 60], [-49.995, 0.005]]) {
    assert.deepEqual(formationSlots("box", 3, to, 1, 100, 100), [clampPoint(to[0], to[1], 100, 100)]);
  }
});

test("at an edge the whole formation shifts inward and keeps its shape", () => {
  const free = formationSlots("box", 0, [0, 0], 9, 100, 100);
  const edge = formationSlots("box", 0, [50, -50], 9, 100, 100);
  const dx = edge[0][0] - free[0][0];
  const dz = edge[0][1] - free[0][1];
  edge.forEach(([x, z], i) => {
    assert.ok(Math.abs(x - free[i][0] - dx) < 1e-9 && Math.abs(z - free[i][1] - dz) < 1e-9, `slot ${i}`);
  });
  assert.equal(Math.max(...edge.map((p) => p[0])), 50);
  assert.equal(Math.min(...edge.map((p) => p[1])), -50);
});

test("the front row faces the way the group goes; a line is one row", () => {
  const line = formationSlots("line", 2, [0, 0], 5, 100, 100); // facing +z: a row along x
  assert.ok(line.every(([, z]) => z === 0));
  assert.deepEqual(line.map(([x]) => x), [4, 2, 0, -2, -4]);
  const box = formationSlots("box", 0, [10, 10], 4, 100, 100); // facing +x: first row in front
  assert.ok(box[0][0] > box[2][0] && box[1][0] > box[3][0]);
  assert.equal(facingToward([0, 0], [10, 0.5]), 0);
  assert.equal(facingToward([0, 0], [-3, -3.2]), 5);
  assert.equal(facingToward([0, 0], [0, -9]), 6);
  assert.deepEqual(DIRECTIONS[facingToward([5, 5], [5, 20])], [0, 1]);
});

test("the browser orders ids so cubes take nearby slots, and a move carries form and facing", () => {
  // Two cubes side by side across the +z travel: the one at larger x takes the slot at larger x.
  const cubes = [
    { id: 7, x: -5, z: 0 },
    { id: 9, x: 5, z: 0 },
  ];
  const ids = orderForSlots(cubes, "line", 2);
  const slots = formationSlots("line", 2, [0, 20], 2, 100, 100);
  const slotOf = new Map(ids.map((id, i) => [id, slots[i]]));
  assert.ok(slotOf.get(9)[0] > slotOf.get(7)[0]);
  const msg = moveCmd(3, 10, ids, 0, 20, "line", 2);
  assert.deepEqual(msg, { type: "cmd", seq: 3, tick: 10, op: "move", ids, to: [0, 20], form: "line", facing: 2 });
  assert.deepEqual(moveCmd(3, 10, [1], 0, 20), { type: "cmd", seq: 3, tick: 10, op: "move", ids: [1], to: [0, 20] });
  const targets = moveTargets({ op: "move", ids, point: [0, 20], form: "line", facing: 2 }, 100, 100);
  assert.deepEqual([...targets.values()], slots);
  assert.deepEqual([...moveTargets({ op: "move", ids: [4, 5], point: [1, 2] }, 100, 100).values()], [[1, 2], [1, 2]]);
});
