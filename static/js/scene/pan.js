/**
 * Keyboard panning as plain maths (no three.js, no DOM). The camera moves by the time each pan
 * key was really held (from the key events' timestamps), not by the frames that happened to
 * run while it was down: a short tap moves a short way however slowly frames come, and a tap
 * that starts and ends between two frames still counts. The speed follows the zoom: a fixed
 * share of the view per second, so a tap moves little when zoomed in and far when zoomed out.
 * Pure.
 */

import { CAMERA_PAN_SPEED, PAN_MAX_STEP_S, PAN_TAP_MIN_S } from "../tunables.js";

/** Ground units per second at camera `distance`: the visible ground's size grows with it. */
export function panSpeed(distance, screensPerSecond = CAMERA_PAN_SPEED) {
  return screensPerSecond * distance;
}

export class PanKeys {
  /** @param {object} dirs key code -> [dx, dz] (input/key-bindings.js PAN_KEYS) */
  constructor(dirs, { tapMin = PAN_TAP_MIN_S, maxStep = PAN_MAX_STEP_S } = {}) {
    this.dirs = dirs;
    this.tapMin = tapMin * 1000;
    this.maxStep = maxStep * 1000;
    this.keys = new Map(); // code -> {down, since, up}: ms timestamps; up null while held
  }

  get size() {
    return this.keys.size;
  }

  /** A keydown at time `t` (ms); repeats of a held key change nothing. True if it pans. */
  press(code, t) {
    if (!(code in this.dirs)) return false;
    const k = this.keys.get(code);
    if (!k) this.keys.set(code, { down: t, since: t, up: null });
    else if (k.up !== null) k.up = null; // pressed again before a frame took the release
    return true;
  }

  /** A keyup at time `t` (ms). */
  release(code, t) {
    const k = this.keys.get(code);
    if (k && k.up === null) k.up = Math.max(t, k.since);
  }

  /** Focus lost: every key is up now and nothing more is owed. */
  clear() {
    this.keys.clear();
  }

  /**
   * The pan owed since the last call, at time `now` (ms): [dx, dz] in seconds of full-speed
   * travel along the screen's axes (times panSpeed() gives ground units). A key released
   * after less than the minimum tap counts as held that long; no key owes more than
   * `maxStep` at once (a frame after a long stall does not throw the view away). Keys held
   * together move no faster than one key.
   */
  take(now) {
    let dx = 0;
    let dz = 0;
    let longest = 0;
    for (const [code, k] of this.keys) {
      const end = k.up ?? Math.max(now, k.since);
      let held = end - k.since;
      if (k.up !== null && k.since === k.down && held < this.tapMin) held = this.tapMin; // a whole tap
      held = Math.min(held, this.maxStep) / 1000;
      if (k.up !== null) this.keys.delete(code);
      else k.since = end;
      const [ax, az] = this.dirs[code];
      dx += ax * held;
      dz += az * held;
      longest = Math.max(longest, held);
    }
    const len = Math.hypot(dx, dz);
    if (len > longest && len > 0) {
      dx *= longest / len;
      dz *= longest / len;
    }
    return [dx, dz];
  }
}
