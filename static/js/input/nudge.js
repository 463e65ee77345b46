/**
 * Arrow keys to nudge directions, at most one nudge per NUDGE_INTERVAL_MS while a key is
 * held (PROTOCOL.md: 10 a second). Pure; the caller passes the time.
 */

import { NUDGE_INTERVAL_MS } from "../tunables.js";

/** Screen directions on the ground: the camera looks toward -z, so "up" is -z. */
export const ARROW_DIRS = Object.freeze({
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
});

export class NudgeRepeater {
  constructor(interval = NUDGE_INTERVAL_MS) {
    this.interval = interval;
    this.held = new Set();
    this.lastSent = -Infinity;
    this.dir = [0, 0];
  }

  press(key) {
    if (!(key in ARROW_DIRS)) return false;
    this.held.add(key);
    return true;
  }

  release(key) {
    return this.held.delete(key);
  }

  releaseAll() {
    this.held.clear();
  }

  /** The combined direction of the held arrows (opposites cancel), components in -1..1. */
  direction() {
    let dx = 0;
    let dz = 0;
    for (const key of this.held) {
      dx += ARROW_DIRS[key][0];
      dz += ARROW_DIRS[key][1];
    }
    this.dir[0] = Math.sign(dx);
    this.dir[1] = Math.sign(dz);
    return this.dir;
  }

  /** The direction to nudge now, or null (nothing held, or too soon after the last one). */
  poll(now) {
    const dir = this.direction();
    if (dir[0] === 0 && dir[1] === 0) return null;
    if (now - this.lastSent < this.interval) return null;
    this.lastSent = now;
    return dir;
  }
}
