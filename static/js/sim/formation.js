/**
 * Formation slots for a group `move`, operation for operation as game/sim/formation.py, so
 * the browser predicts exactly the targets the server gives (tests/vectors/step.json holds
 * both to it). A slot depends only on the command (target, form, facing, the ids in the order
 * sent) and the arena, never on where the cubes are; only + - * / sqrt and q() are used
 * (sin, cos and atan2 differ between V8 and CPython). Pure.
 *
 * Rows of `cols` cubes SPACING apart, centred on the target, the first row in front (furthest
 * along the facing) and a short last row centred too; `box` is as square as it can be, `line`
 * one row of up to LINE_MAX per row. A formation that pokes out of the arena shifts inward
 * whole; one larger than the arena is clamped slot by slot.
 */

import { clamp, q } from "./step.js";

export const FORMS = Object.freeze(["box", "line"]);
/** Centre to centre: one cube's width of ground between neighbours. */
export const SPACING = 2;
export const LINE_MAX = 16;
/** facing k: the front faces along DIRECTIONS[k] ([x, z]): 0 = +x, then 45 degrees toward +z each. */
export const DIRECTIONS = Object.freeze([
  [1, 0],
  [1, 1],
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
]);

/** How many cubes a full row holds. */
export function columns(form, n) {
  if (form === "line") return n < LINE_MAX ? n : LINE_MAX;
  let c = 1;
  while (c * c < n) c += 1;
  return c;
}

/** The n slots [[x, z], ...] (quantised, inside the arena) for a move to `to`, in the order of the ids. */
export function formationSlots(form, facing, to, n, width, depth) {
  const halfW = width / 2;
  const halfD = depth / 2;
  const tx = q(clamp(to[0], -halfW, halfW));
  const tz = q(clamp(to[1], -halfD, halfD));
  const [dx, dz] = DIRECTIONS[facing];
  const norm = Math.sqrt(dx * dx + dz * dz);
  const fx = dx / norm;
  const fz = dz / norm;
  const rx = -fz;
  const rz = fx;
  const cols = columns(form, n);
  const rows = Math.floor((n + cols - 1) / cols);
  const xs = new Array(n);
  const zs = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = Math.floor(i / cols);
    const col = i - row * cols;
    const inRow = row < rows - 1 ? cols : n - row * cols;
    const u = (col - (inRow - 1) / 2) * SPACING;
    const v = ((rows - 1) / 2 - row) * SPACING;
    xs[i] = q(tx + v * fx + u * rx);
    zs[i] = q(tz + v * fz + u * rz);
  }
  const sx = shift(Math.min(...xs), Math.max(...xs), halfW);
  const sz = shift(Math.min(...zs), Math.max(...zs), halfD);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = [q(clamp(xs[i] + sx, -halfW, halfW)), q(clamp(zs[i] + sz, -halfD, halfD))];
  return out;
}

function shift(lo, hi, half) {
  if (lo < -half) return -half - lo;
  if (hi > half) return half - hi;
  return 0;
}

/**
 * Each id's target for a move command ({op, ids, point, form, facing}): its formation slot,
 * or the point itself for a move without a form. A Map id -> [x, z], or null (not a move).
 */
export function moveTargets(cmd, width, depth) {
  if (cmd.op !== "move") return null;
  const out = new Map();
  if (!cmd.form) {
    for (const id of cmd.ids) out.set(id, cmd.point);
    return out;
  }
  const slots = formationSlots(cmd.form, cmd.facing ?? 0, cmd.point, cmd.ids.length, width, depth);
  cmd.ids.forEach((id, i) => out.set(id, slots[i]));
  return out;
}

/**
 * The facing (0..7) of an order from `from` (the group's centre) to `to`: the direction
 * of travel, to the nearest 45 degrees (the browser's choice; the server takes any facing).
 */
export function facingToward(from, to) {
  const dx = to[0] - from[0];
  const dz = to[1] - from[1];
  if (dx === 0 && dz === 0) return 0;
  let best = 0;
  let bestDot = -Infinity;
  DIRECTIONS.forEach(([x, z], k) => {
    const dot = (dx * x + dz * z) / Math.sqrt(x * x + z * z);
    if (dot > bestDot) {
      bestDot = dot;
      best = k;
    }
  });
  return best;
}

/**
 * The ids in the order that sends each cube to a nearby slot: front to back along the facing,
 * then along each row (what the slot order is), from where the cubes are now. Only the order
 * is chosen here; the slots themselves never depend on positions.
 */
export function orderForSlots(cubes, form, facing) {
  const [dx, dz] = DIRECTIONS[facing];
  const norm = Math.sqrt(dx * dx + dz * dz);
  const fx = dx / norm;
  const fz = dz / norm;
  const cols = columns(form, cubes.length);
  const byFront = cubes.slice().sort((a, b) => b.x * fx + b.z * fz - (a.x * fx + a.z * fz) || a.id - b.id);
  const out = [];
  for (let i = 0; i < byFront.length; i += cols) {
    const row = byFront.slice(i, i + cols);
    row.sort((a, b) => a.x * -fz + a.z * fx - (b.x * -fz + b.z * fx) || a.id - b.id);
    for (const c of row) out.push(c.id);
  }
  return out;
}
