/**
 * A fixed ring of (tick, x, z) samples for one entity, and sampling between them at a
 * fractional tick. Typed arrays, no allocation per push or sample. Pure.
 */

import { HISTORY_SIZE } from "../tunables.js";

export class History {
  constructor(size = HISTORY_SIZE) {
    if (size < 2 || (size & (size - 1)) !== 0) throw new Error("History size must be a power of two >= 2");
    this.mask = size - 1;
    this.ticks = new Float64Array(size);
    this.xs = new Float64Array(size);
    this.zs = new Float64Array(size);
    this.head = -1; // index of the newest sample
    this.count = 0;
  }

  clear() {
    this.head = -1;
    this.count = 0;
  }

  get newestTick() {
    return this.count ? this.ticks[this.head] : null;
  }

  get oldestTick() {
    return this.count ? this.ticks[(this.head - this.count + 1) & this.mask] : null;
  }

  /** Record the state at `tick`; a tick not above the newest replaces or restarts the ring. */
  push(tick, x, z) {
    if (this.count) {
      const newest = this.ticks[this.head];
      if (tick === newest) {
        this.xs[this.head] = x;
        this.zs[this.head] = z;
        return;
      }
      if (tick < newest) this.clear();
    }
    this.head = (this.head + 1) & this.mask;
    this.ticks[this.head] = tick;
    this.xs[this.head] = x;
    this.zs[this.head] = z;
    if (this.count <= this.mask) this.count += 1;
  }

  /** Replace the sample of exactly `tick`; false (and nothing changes) if there is none. */
  set(tick, x, z) {
    const i = this.indexOf(tick);
    if (i < 0) return false;
    this.xs[i] = x;
    this.zs[i] = z;
    return true;
  }

  /** The sample of exactly `tick` into out.x/out.z; false if the ring holds none for it. */
  at(tick, out) {
    const i = this.indexOf(tick);
    if (i < 0) return false;
    out.x = this.xs[i];
    out.z = this.zs[i];
    return true;
  }

  /** The ring index of the sample of exactly `tick`, newest first; -1 if there is none. */
  indexOf(tick) {
    const mask = this.mask;
    let i = this.head;
    for (let n = 0; n < this.count; n++) {
      const t = this.ticks[i];
      if (t === tick) return i;
      if (t < tick) return -1;
      i = (i - 1) & mask;
    }
    return -1;
  }

  /**
   * The position at a fractional `tick`, linear between the samples around it, held at the
   * ends (no extrapolation). Writes out.x/out.z; returns false when the ring is empty.
   */
  sample(tick, out) {
    if (!this.count) return false;
    const mask = this.mask;
    let i = this.head;
    if (tick >= this.ticks[i]) {
      out.x = this.xs[i];
      out.z = this.zs[i];
      return true;
    }
    for (let n = 1; n < this.count; n++) {
      const j = (i - 1) & mask;
      const t0 = this.ticks[j];
      if (t0 <= tick) {
        const f = (tick - t0) / (this.ticks[i] - t0);
        out.x = this.xs[j] + (this.xs[i] - this.xs[j]) * f;
        out.z = this.zs[j] + (this.zs[i] - this.zs[j]) * f;
        return true;
      }
      i = j;
    }
    out.x = this.xs[i];
    out.z = this.zs[i];
    return true;
  }
}
