/**
 * Reconnect delays: 0.5 s doubling to 8 s, each scaled down by a random jitter so that
 * many tabs dropped together do not come back together. Pure; the random source is passed in.
 */

import { BACKOFF_BASE_MS, BACKOFF_JITTER, BACKOFF_MAX_MS } from "../tunables.js";

export class Backoff {
  constructor({ base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS, jitter = BACKOFF_JITTER, random = Math.random } = {}) {
    this.base = base;
    this.max = max;
    this.jitter = jitter;
    this.random = random;
    this.attempt = 0;
  }

  /** The un-jittered delay of attempt n (0-based). */
  ceiling(n) {
    return Math.min(this.max, this.base * 2 ** Math.min(n, 30));
  }

  /** The delay before the next attempt, in ms; each call counts one attempt. */
  next() {
    const cap = this.ceiling(this.attempt);
    this.attempt += 1;
    return Math.round(cap * (1 - this.jitter * this.random()));
  }

  /** A connection held: start from the base again. */
  reset() {
    this.attempt = 0;
  }
}
