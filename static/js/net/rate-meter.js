/**
 * An amount per second over a sliding window (snapshot bytes, corrections): events are
 * summed into fixed time buckets, so adding and reading allocate nothing. Pure.
 */

export class RateMeter {
  /** @param {number} windowMs the span averaged over; @param {number} buckets its resolution */
  constructor(windowMs = 1000, buckets = 10) {
    this.bucketMs = windowMs / buckets;
    this.sums = new Float64Array(buckets);
    this.stamps = new Float64Array(buckets).fill(-Infinity); // bucket number each slot holds
    this.windowMs = windowMs;
    this.total = 0;
  }

  add(now, amount = 1) {
    const b = Math.floor(now / this.bucketMs);
    const i = b % this.sums.length;
    if (this.stamps[i] !== b) {
      this.stamps[i] = b;
      this.sums[i] = 0;
    }
    this.sums[i] += amount;
    this.total += amount;
  }

  /** The amount per second over the window ending at `now`. */
  rate(now) {
    const b = Math.floor(now / this.bucketMs);
    const n = this.sums.length;
    let sum = 0;
    for (let i = 0; i < n; i++) if (this.stamps[i] > b - n && this.stamps[i] <= b) sum += this.sums[i];
    return (sum * 1000) / this.windowMs;
  }
}
