/**
 * PROTOCOL.md lag compensation in JavaScript, operation for operation as game/sim/match.py
 * (MatchState.applied_as_of and _steer), so the client replays its own moves and nudges
 * exactly as the arbiter will apply them (tests/vectors/prediction.json). Pure.
 */

import { LAG_WINDOW_S, NUDGE_DISTANCE } from "../tunables.js";
import { moveTargets } from "./formation.js";
import { clampPoint, stepEntity } from "./step.js";

const _target = [0, 0];
const _then = { x: 0, z: 0 };
const _ent = { x: 0, z: 0, tx: 0, tz: 0 };

/** W: how many ticks back a move or nudge may apply, floor(0.25 * tick_rate). */
export function lagWindow(tickRate, windowS = LAG_WINDOW_S) {
  return Math.floor(windowS * tickRate);
}

/**
 * The tick a move or nudge takes effect as of, when the arbiter processes it while its world
 * is at tick `now`: max(claimed, now - W, the player's previous applied tick), never in the
 * future, never before the arbiter's oldest kept tick (`historyFrom`, 1 for a match that
 * started at tick 0).
 */
export function appliedAsOf(now, claimed, previous, window, historyFrom = 1) {
  const oldest = Math.max(now - window, previous, Math.min(historyFrom, now));
  return Math.min(now, Math.max(claimed, oldest));
}

/**
 * Steer one entity ({x, z, tx, tz}, mutated) for a `move` to point or a `nudge` along point
 * (a direction), as of a past position `then` ({x, z} or null: the entity did not exist
 * then, or the command applies now) that lies `elapsed` ticks back: put it where it was,
 * retarget it from there, and step it forward again. `onStep(i, x, z)`, if given, hears
 * the position after each of those steps (i = 1..elapsed): the arbiter rewrites its
 * history of those ticks with them.
 */
export function steerEntity(ent, op, point, then, elapsed, stepLen, width, depth, onStep = null) {
  if (then) {
    ent.x = then.x;
    ent.z = then.z;
  }
  if (op === "nudge") {
    const dx = point[0];
    const dz = point[1];
    const norm = Math.sqrt(dx * dx + dz * dz);
    const ux = (dx / norm) * NUDGE_DISTANCE;
    const uz = (dz / norm) * NUDGE_DISTANCE;
    clampPoint(ent.x + ux, ent.z + uz, width, depth, _target);
  } else {
    clampPoint(point[0], point[1], width, depth, _target);
  }
  ent.tx = _target[0];
  ent.tz = _target[1];
  if (!then) return;
  for (let i = 1; i <= elapsed; i++) {
    stepEntity(ent, stepLen);
    if (onStep) onStep(i, ent.x, ent.z);
  }
}

/**
 * The arbiter's history after it processed our acknowledged move or nudge `entry` (with
 * `applied`: the tick it applied as of, `at`: the tick its world was at): the positions of
 * ticks applied+1..at rewritten on the path the cube then took. `history(id)` gives a
 * History (net/history.js) or null. Returns how many samples were rewritten.
 */
export function rewriteHistory(entry, history, stepLen, width, depth) {
  const { applied, at } = entry;
  if (applied == null || at == null || applied >= at) return 0;
  let n = 0;
  const slots = entry.form ? moveTargets(entry, width, depth) : null; // a formation: one target per id
  for (const id of entry.ids) {
    const h = history(id);
    if (!h || !h.at(applied, _then)) continue;
    _ent.x = _then.x;
    _ent.z = _then.z;
    steerEntity(_ent, entry.op, slots ? slots.get(id) : entry.point, _then, at - applied, stepLen, width, depth, (i, x, z) => {
      if (h.set(applied + i, x, z)) n += 1;
    });
  }
  return n;
}
