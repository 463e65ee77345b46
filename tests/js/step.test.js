// The JS step reproduces the Python world's shared vectors bit for bit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { clampPoint, q, stepEntity, stepLength } from "../../static/js/sim/step.js";

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL("../vectors/step.json", import.meta.url)), "utf8"));

function rows(entities) {
  return [...entities.values()].sort((a, b) => a.id - b.id).map((e) => [e.id, e.owner, e.x, e.z, e.tx, e.tz]);
}

test("the vector file has cases", () => {
  assert.ok(vectors.cases.length >= 1);
});

for (const c of vectors.cases) {
  test(`step vectors: ${c.name} match the Python world exactly`, () => {
    const s = stepLength(c.speed, c.tick_rate);
    const ents = new Map();
    for (const [id, owner, x, z, tx, tz] of c.start) ents.set(id, { id, owner, x, z, tx, tz });
    c.states.forEach((expected, i) => {
      for (const [id, tx, tz] of c.retargets[String(i)] ?? []) {
        const e = ents.get(id);
        e.tx = tx;
        e.tz = tz;
      }
      for (const e of ents.values()) stepEntity(e, s);
      const got = rows(ents);
      assert.equal(got.length, expected.length, `tick ${i}: entity count`);
      for (let k = 0; k < got.length; k++) {
        for (let f = 0; f < 6; f++) {
          // Object.is: strict equality of doubles, -0 included.
          assert.ok(Object.is(got[k][f], expected[k][f]), `case ${c.name} tick ${i} entity ${got[k][0]} field ${f}: ${got[k][f]} != ${expected[k][f]}`);
        }
      }
    });
  });
}

test("q rounds to hundredths, halves up", () => {
  assert.equal(q(1.234), 1.23);
  assert.equal(q(1.235), Math.floor(1.235 * 100 + 0.5) / 100);
  assert.equal(q(-0.005), 0);
  assert.equal(q(-1.006), -1.01);
  assert.equal(q(3), 3);
});

test("an entity within one step lands exactly on its target", () => {
  const e = { x: 0, z: 0, tx: 0.3, tz: -0.2 };
  stepEntity(e, 0.5);
  assert.deepEqual([e.x, e.z], [0.3, -0.2]);
});

test("a resting entity does not move", () => {
  const e = { x: 1.25, z: -3.5, tx: 1.25, tz: -3.5 };
  stepEntity(e, 0.5);
  assert.deepEqual([e.x, e.z], [1.25, -3.5]);
});

test("clampPoint quantises and keeps a point inside the arena", () => {
  assert.deepEqual(clampPoint(70.123, -12.3456, 100, 100), [50, -12.35]);
  assert.deepEqual(clampPoint(-80, 80, 60, 40), [-30, 20]);
});
