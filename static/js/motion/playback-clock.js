/**
 * Maps local time to the fractional tick being drawn: ticks are placed on a local timeline
 * from their arrival times (smoothed against network jitter), and drawing runs a couple of
 * snapshot intervals behind it so there are always two samples to glide between. Pure.
 */

import { CLOCK_RESET_MS, CLOCK_SMOOTHING, INTERP_DELAY_TICKS } from "../tunables.js";

export class PlaybackClock {
  constructor(tickRate = 10, { delayTicks = INTERP_DELAY_TICKS, smoothing = CLOCK_SMOOTHING, resetMs = CLOCK_RESET_MS } = {}) {
    this.delayTicks = delayTicks;
    this.smoothing = smoothing;
    this.resetMs = resetMs;
    this.setTickRate(tickRate);
    this.reset();
  }

  setTickRate(tickRate) {
    this.interval = 1000 / tickRate;
  }

  /** Forget the timeline (the server's ticks restarted). */
  reset() {
    this.offset = null; // local ms at which tick 0 would have arrived
    this.last = null; // the last tick handed out, so drawing never runs backwards
  }

  /** Tick `tick` was applied at local time `now`. */
  onTick(tick, now) {
    const sample = now - tick * this.interval;
    if (this.offset === null || Math.abs(sample - this.offset) > this.resetMs) {
      this.offset = sample;
      this.last = null;
    } else if (sample < this.offset) {
      // An early arrival shows the real schedule better than late ones do: follow it faster.
      this.offset += (sample - this.offset) * Math.min(1, this.smoothing * 4);
    } else {
      this.offset += (sample - this.offset) * this.smoothing;
    }
  }

  /** The fractional tick to draw at local time `now`, or null before any tick. */
  renderTick(now) {
    if (this.offset === null) return null;
    let t = (now - this.offset) / this.interval - this.delayTicks;
    if (this.last !== null && t < this.last) t = this.last;
    this.last = t;
    return t;
  }
}
