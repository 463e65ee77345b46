// Selection, box-selection math, ray picking and the nudge repeater.
import { test } from "node:test";
import assert from "node:assert/strict";

import { idsInBox, normalizeRect, rectContains } from "../../static/js/input/box-select.js";
import { NudgeRepeater } from "../../static/js/input/nudge.js";
import { pickCube, rayBox } from "../../static/js/input/picking.js";
import { Selection } from "../../static/js/input/selection.js";

test("a rectangle is the same whichever way it was dragged", () => {
  const a = normalizeRect(10, 20, 110, 70);
  const b = normalizeRect(110, 70, 10, 20);
  const c = normalizeRect(110, 20, 10, 70);
  for (const r of [a, b, c]) assert.deepEqual(r, { left: 10, top: 20, right: 110, bottom: 70, width: 100, height: 50 });
  assert.ok(rectContains(a, 10, 20));
  assert.ok(rectContains(a, 110, 70));
  assert.ok(!rectContains(a, 111, 50));
});

test("box selection takes only accepted items projected inside the box", () => {
  const items = [
    { id: 1, x: 0, z: 0, own: true },
    { id: 2, x: 5, z: 5, own: true },
    { id: 3, x: 1, z: 1, own: false }, // someone else's, inside
    { id: 4, x: 50, z: 50, own: true }, // outside
    { id: 5, x: 2, z: 2, own: true, behind: true },
  ];
  // A fake camera: 10 px per unit, origin at (100, 100); item 5 is behind the camera.
  const project = (x, z, out) => {
    out.x = 100 + x * 10;
    out.y = 100 + z * 10;
    if (x === 2) out.visible = false;
    return out;
  };
  const rect = normalizeRect(90, 90, 160, 160);
  assert.deepEqual(idsInBox(rect, items, project, (d) => d.own), [1, 2]);
  assert.deepEqual(idsInBox(rect, items, project), [1, 2, 3]);
  assert.deepEqual(idsInBox(normalizeRect(0, 0, 1, 1), items, project), []);
});

test("the selection selects, adds, toggles, inspects and prunes", () => {
  const s = new Selection();
  let changes = 0;
  s.addEventListener("change", () => changes++);
  s.select([3, 1]);
  assert.deepEqual(s.list(), [1, 3]);
  s.select([2], true);
  assert.deepEqual(s.list(), [1, 2, 3]);
  s.select([9]);
  assert.deepEqual(s.list(), [9]);
  s.toggle(4);
  s.toggle(9);
  assert.deepEqual(s.list(), [4]);
  s.inspect(77);
  assert.equal(s.inspected, 77);
  s.prune((id) => id !== 4 && id !== 77);
  assert.deepEqual(s.list(), []);
  assert.equal(s.inspected, null);
  s.clear(); // nothing to clear: no event
  assert.equal(changes, 7);
});

test("a ray hits a box at the entry distance and misses beside it", () => {
  // Straight down from (0.2, 10, 0.2) onto the unit cube standing at the origin.
  assert.equal(rayBox(0.2, 10, 0.2, 0, -1, 0, -0.5, 0, -0.5, 0.5, 1, 0.5), 9);
  assert.equal(rayBox(2, 10, 0, 0, -1, 0, -0.5, 0, -0.5, 0.5, 1, 0.5), Infinity);
  // Pointing away.
  assert.equal(rayBox(0, 10, 0, 0, 1, 0, -0.5, 0, -0.5, 0.5, 1, 0.5), Infinity);
  // Diagonal.
  const d = Math.SQRT1_2;
  const t = rayBox(-5, 0.5, 0, d, 0, d * 0, -0.5, 0, -0.5, 0.5, 1, 0.5);
  assert.ok(Math.abs(t - 4.5 / d) < 1e-9);
});

test("picking returns the nearest cube along the ray", () => {
  const items = [
    { id: 1, x: 0, z: 0 },
    { id: 2, x: 0, z: -3 },
    { id: 3, x: 8, z: 0 },
  ];
  // From the +z side at cube height, looking toward -z: cube 1 is in front of cube 2.
  const ray = { ox: 0, oy: 0.5, oz: 10, dx: 0, dy: 0, dz: -1 };
  assert.equal(pickCube(ray, items), 1);
  assert.equal(pickCube({ ...ray, ox: 8 }, items), 3);
  assert.equal(pickCube({ ...ray, ox: 4 }, items), null);
  assert.equal(pickCube(ray, []), null);
});

test("arrows give the 8 directions, opposites cancel", () => {
  const n = new NudgeRepeater(100);
  n.press("ArrowUp");
  assert.deepEqual(n.direction(), [0, -1]);
  n.press("ArrowRight");
  assert.deepEqual(n.direction(), [1, -1]);
  n.press("ArrowLeft");
  assert.deepEqual(n.direction(), [0, -1]);
  n.release("ArrowUp");
  assert.deepEqual(n.direction(), [0, 0]);
  assert.equal(n.press("KeyQ"), false);
});

test("a held arrow nudges at most 10 times a second", () => {
  const n = new NudgeRepeater(100);
  n.press("ArrowDown");
  let sent = 0;
  for (let now = 0; now < 1000; now += 4) if (n.poll(now)) sent++;
  assert.equal(sent, 10);
  n.release("ArrowDown");
  assert.equal(n.poll(5000), null);
});

test("a new press right after a nudge waits for the interval", () => {
  const n = new NudgeRepeater(100);
  n.press("ArrowLeft");
  assert.deepEqual(n.poll(0), [-1, 0]);
  n.release("ArrowLeft");
  n.press("ArrowRight");
  assert.equal(n.poll(50), null);
  assert.deepEqual(n.poll(100), [1, 0]);
});
