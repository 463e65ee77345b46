/**
 * PROTOCOL.md "The step" in JavaScript, operation for operation as game/sim/world.py
 * step_entity, so both languages produce the same doubles (tests/vectors/step.json).
 * Pure: no DOM, no three.js; node imports it for the vector test.
 */

/** Round to the nearest 1/100, halves up: PROTOCOL.md q(). */
export function q(v) {
  return Math.floor(v * 100 + 0.5) / 100;
}

export function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Units one entity moves per tick. */
export function stepLength(speed, tickRate) {
  return speed / tickRate;
}

/**
 * Advance one entity ({x, z, tx, tz}, mutated in place) by one tick of length `s`.
 * The evaluation order (x + dx * s / d) is the protocol's; do not "simplify" it.
 */
export function stepEntity(ent, s) {
  const dx = ent.tx - ent.x;
  const dz = ent.tz - ent.z;
  if (dx === 0 && dz === 0) return;
  const d = Math.sqrt(dx * dx + dz * dz);
  if (d <= s) {
    ent.x = ent.tx;
    ent.z = ent.tz;
  } else {
    ent.x = q(ent.x + (dx * s) / d);
    ent.z = q(ent.z + (dz * s) / d);
  }
}

/** A point quantised and kept inside an arena of `width` x `depth` centred on the origin. */
export function clampPoint(x, z, width, depth, out = [0, 0]) {
  out[0] = q(clamp(x, -width / 2, width / 2));
  out[1] = q(clamp(z, -depth / 2, depth / 2));
  return out;
}
