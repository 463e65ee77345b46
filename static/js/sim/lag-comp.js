/**
 * PROTOCOL.md lag compensation in JavaScript, operation for operation as game/sim/match.py
 * (MatchState.applied_as_of and _steer), so the client replays its own moves and nudges
 * exactly as the arbiter will apply them (tests/vectors/prediction.json). Pure.
 */

import { LAG_WINDOW_S, NUDGE_DISTANCE } from "../tunables.js";
import { clampPoint, stepEntity } from "./step.js";

const _target = [0, 0];

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
 * retarget it from there, and step it forward again.
 */
export function steerEntity(ent, op, point, then, elapsed, stepLen, width, depth) {
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
  if (then) for (let i = 0; i < elapsed; i++) stepEntity(ent, stepLen);
}
