/**
 * Two taps of the same thing (a digit key, a click on one cube) within a short window make
 * a double tap. Pure; the caller passes the time.
 */

import { DOUBLE_TAP_MS } from "../tunables.js";

export class DoubleTap {
  constructor(windowMs = DOUBLE_TAP_MS) {
    this.windowMs = windowMs;
    this.last = null; // the last tap's key
    this.at = -Infinity;
  }

  /** A tap of `key` at `now` (ms): whether it is the second of a double tap. A third tap
   * starts afresh (a double click then a click is not two double clicks). */
  tap(key, now) {
    const double = key === this.last && now - this.at <= this.windowMs;
    if (double) this.reset();
    else {
      this.last = key;
      this.at = now;
    }
    return double;
  }

  reset() {
    this.last = null;
    this.at = -Infinity;
  }
}
