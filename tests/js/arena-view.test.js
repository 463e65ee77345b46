// A readable arena (issue 14, item 2): the first view's framing maths (scene/framing.js) and
// keyboard panning by held time at a speed that follows the zoom (scene/pan.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import {
  cubePixelHeight,
  cubeScreenBox,
  distanceForPixels,
  fitDistance,
  projector,
  readableDistance,
  rigView,
  startView,
} from "../../static/js/scene/framing.js";
import { PanKeys, panSpeed } from "../../static/js/scene/pan.js";
import { PAN_KEYS } from "../../static/js/input/key-bindings.js";
import {
  CAMERA_MAX_DISTANCE_FACTOR,
  CAMERA_MIN_DISTANCE,
  CAMERA_PAN_SPEED,
  CAMERA_START_DISTANCE_FACTOR,
  PAN_MAX_STEP_S,
  PAN_TAP_MIN_S,
  START_CUBE_MIN_PX,
} from "../../static/js/tunables.js";

const VIEW = rigView(1280, 800); // the window issue 14 names
const LIMITS = { minDistance: CAMERA_MIN_DISTANCE, maxDistance: 100 * CAMERA_MAX_DISTANCE_FACTOR };

for (const path of ["scene/framing.js", "scene/pan.js"]) {
  test(`${path} imports without a DOM and without three.js`, async () => {
    const url = new URL(`../../static/js/${path}`, import.meta.url);
    assert.doesNotMatch(readFileSync(fileURLToPath(url), "utf8"), /from\s+["']three["']/);
    assert.equal(typeof globalThis.document, "undefined");
    await import(url.href);
  });
}

/** Every cube at `points` that shows on screen when the camera looks at (cx, cz) from `distance`. */
function visibleHeights(points, start) {
  const heights = [];
  for (const [x, z] of points) {
    const b = cubeScreenBox(VIEW, start.distance, x - start.x, z - start.z);
    if (b && b.right > 0 && b.left < VIEW.width && b.bottom > 0 && b.top < VIEW.height) heights.push(b.height);
  }
  return heights;
}

test("the projection puts the point looked at in the middle and far things higher and smaller", () => {
  const project = projector(VIEW, 40);
  const [x, y] = project(0, 0, 0);
  assert.ok(Math.abs(x - 640) < 1e-9 && Math.abs(y - 400) < 1e-9);
  assert.ok(project(0, 0, -10)[1] < 400 && project(0, 0, 10)[1] > 400, "-z is up the screen");
  assert.ok(project(5, 0, 0)[0] > 640, "+x is right");
  assert.ok(cubePixelHeight(VIEW, 40, 0, -10) < cubePixelHeight(VIEW, 40, 0, 0));
  assert.ok(cubePixelHeight(VIEW, 20) > 1.9 * cubePixelHeight(VIEW, 40) && cubePixelHeight(VIEW, 20) < 2.1 * cubePixelHeight(VIEW, 40));
});

test("the old first view (0.45 x the arena's side) drew cubes about 20-27 px tall: under 40", () => {
  const old = 100 * CAMERA_START_DISTANCE_FACTOR;
  const h = cubePixelHeight(VIEW, old);
  assert.ok(h > 18 && h < 30, `${h}`);
  assert.ok(h < 40);
});

test("distanceForPixels and readableDistance agree with the projection", () => {
  const d = distanceForPixels(VIEW, 40);
  assert.ok(Math.abs(cubePixelHeight(VIEW, d) - 40) < 0.05, `${cubePixelHeight(VIEW, d)}`);
  const r = readableDistance(VIEW, [[0, 0]], 150, { minPx: 40 });
  assert.ok(cubePixelHeight(VIEW, r) >= 40 && r > 0.97 * d && r <= d, `${r} vs ${d}`);
  // A cube far up the view limits how far back the camera may stand (it is smaller there).
  const far = readableDistance(VIEW, [[0, 0], [0, -12]], 150, { minPx: 40 });
  assert.ok(far < r && cubePixelHeight(VIEW, far, 0, -12) >= 40);
});

test("fitDistance frames a box of ground inside the margins, and no farther than needed", () => {
  const box = [
    [-20, -10],
    [20, -10],
    [-20, 10],
    [20, 10],
  ];
  const d = fitDistance(VIEW, box, { size: 0, margin: 0.1 });
  const inside = (dist) =>
    box.every(([x, z]) => {
      const b = cubeScreenBox(VIEW, dist, x, z, 0);
      return b.left >= 80 - 1e-6 && b.right <= 1200 + 1e-6 && b.top >= 80 - 1e-6 && b.bottom <= 720 + 1e-6;
    });
  assert.ok(inside(d) && !inside(d * 0.98), `${d}`);
});

test("the first view frames a group of own cubes, each at least 40 px tall", () => {
  const group = [
    [10, 5],
    [13, 7],
    [6, 6],
    [12, 2],
    [15, 10],
  ];
  const start = startView(VIEW, group, [100, 100], LIMITS);
  assert.ok(Math.abs(start.x - 10.5) < 1e-9 && Math.abs(start.z - 6) < 1e-9, "the box's middle");
  const heights = visibleHeights(group, start);
  assert.equal(heights.length, group.length, "every cube on screen");
  assert.ok(Math.min(...heights) >= START_CUBE_MIN_PX && START_CUBE_MIN_PX >= 40, `${heights}`);
});

test("a lone cube is not shown huge, a spread army shows its readable middle", () => {
  const lone = startView(VIEW, [[-30, 20]], [100, 100], LIMITS);
  assert.deepEqual([lone.x, lone.z], [-30, 20]);
  const h = cubePixelHeight(VIEW, lone.distance);
  assert.ok(h >= 40 && h < 70, `${h}`);

  const army = [];
  for (let i = 0; i < 40; i++) army.push([((i * 37) % 90) - 45, ((i * 53) % 90) - 45]);
  const start = startView(VIEW, army, [100, 100], LIMITS);
  const heights = visibleHeights(army, start);
  assert.ok(heights.length >= 3 && heights.length < army.length, `${heights.length} on screen`);
  assert.ok(Math.min(...heights) >= 40, `${Math.min(...heights)}`);
});

test("with no own cubes: a small arena is framed whole, a large one shows its middle readable", () => {
  const small = startView(VIEW, [], [24, 24], LIMITS);
  assert.deepEqual([small.x, small.z], [0, 0]);
  for (const corner of [
    [-12, -12],
    [12, -12],
    [-12, 12],
    [12, 12],
  ]) {
    const b = cubeScreenBox(VIEW, small.distance, corner[0], corner[1], 0);
    assert.ok(b.left >= 0 && b.right <= 1280 && b.top >= 0 && b.bottom <= 800, `corner ${corner}`);
  }
  assert.ok(cubePixelHeight(VIEW, small.distance) >= 40);
  const large = startView(VIEW, [], [100, 100], LIMITS);
  assert.deepEqual([large.x, large.z], [0, 0]);
  assert.ok(cubePixelHeight(VIEW, large.distance) >= 40, "a spawn in the middle is readable");
  assert.ok(large.distance >= LIMITS.minDistance && large.distance <= LIMITS.maxDistance);
});

test("a smaller window frames closer (the 40 px are screen pixels)", () => {
  const group = [
    [0, 0],
    [8, 8],
  ];
  const big = startView(VIEW, group, [100, 100], LIMITS);
  const small = startView(rigView(800, 500), group, [100, 100], LIMITS);
  assert.ok(small.distance < big.distance);
});

test("pan speed follows the zoom", () => {
  assert.equal(panSpeed(10), 10 * CAMERA_PAN_SPEED);
  assert.equal(panSpeed(40) / panSpeed(10), 4);
});

test("a pan key moves by the time it was held, not by the frames that ran", () => {
  const keys = new PanKeys(PAN_KEYS);
  assert.equal(keys.press("KeyD", 1000), true);
  assert.equal(keys.press("KeyQ", 1000), false, "not a pan key");
  // Slow frames: 1000 -> 1300 -> 1450 with the key held throughout, released at 1400.
  const [a] = keys.take(1200);
  keys.press("KeyD", 1250); // a repeat: changes nothing
  keys.release("KeyD", 1400);
  const [b] = keys.take(1450);
  assert.ok(Math.abs(a - 0.2) < 1e-9 && Math.abs(b - 0.2) < 1e-9, `${a} ${b}`);
  assert.equal(keys.size, 0);
  assert.deepEqual(keys.take(2000), [0, 0]);
});

test("a short tap between two frames still moves, by at least the minimum tap", () => {
  const keys = new PanKeys(PAN_KEYS);
  keys.press("KeyA", 500);
  keys.release("KeyA", 505);
  const [dx, dz] = keys.take(900);
  assert.ok(Math.abs(dx + PAN_TAP_MIN_S) < 1e-9 && dz === 0, `${dx}`);
  // A 120 ms tap counts 120 ms.
  keys.press("KeyS", 1000);
  keys.release("KeyS", 1120);
  assert.ok(Math.abs(keys.take(1500)[1] - 0.12) < 1e-9);
});

test("a tap moves the view less when zoomed in than zoomed out", () => {
  const tap = (distance) => {
    const keys = new PanKeys(PAN_KEYS);
    keys.press("KeyD", 0);
    keys.release("KeyD", 100);
    return keys.take(300)[0] * panSpeed(distance);
  };
  assert.ok(tap(10) < tap(20) && tap(20) < tap(80));
  assert.ok(Math.abs(tap(80) / tap(10) - 8) < 1e-9);
});

test("keys held together go no faster than one; a stalled frame pans at most the cap", () => {
  const keys = new PanKeys(PAN_KEYS);
  keys.press("KeyW", 0);
  keys.press("KeyD", 0);
  const [dx, dz] = keys.take(100);
  assert.ok(Math.abs(Math.hypot(dx, dz) - 0.1) < 1e-9 && dx > 0 && dz < 0);
  const [sx, sz] = keys.take(10_100);
  assert.ok(Math.abs(Math.hypot(sx, sz) - PAN_MAX_STEP_S) < 1e-9);
  keys.clear();
  assert.deepEqual(keys.take(20_000), [0, 0]);
});

test("a release with no press (focus came back with the key down) pans nothing", () => {
  const keys = new PanKeys(PAN_KEYS);
  keys.release("KeyD", 10);
  assert.deepEqual(keys.take(100), [0, 0]);
});
