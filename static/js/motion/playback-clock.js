/**
 * Maps local time to the fractional tick other players' cubes are drawn at: ticks are placed
 * on a local timeline from their arrival times (smoothed against network jitter), and
 * drawing runs behind it by the interpolation delay, so there are two samples to glide
 * between. The delay starts at two snapshot intervals and then follows the snaps' measured
 * lateness, slowly, so cubes never jump when it changes. Pure.
 */

import {
  CLOCK_RESET_MS,
  CLOCK_SMOOTHING,
  INTERP_ADAPT_AFTER,
  INTERP_DELAY_DOWN_PER_TICK,
  INTERP_DELAY_TICKS,
  INTERP_DELAY_UP_PER_TICK,
  INTERP_MARGIN_TICKS,
  INTERP_MAX_DELAY_TICKS,
  INTERP_MIN_DELAY_TICKS,
  JITTER_SMOOTHING,
  LATENESS_PEAK_DECAY,
} from "../tunables.js";

export class PlaybackClock {
  constructor(tickRate = 10, { delayTicks = INTERP_DELAY_TICKS, smoothing = CLOCK_SMOOTHING, resetMs = CLOCK_RESET_MS, adapt = true } = {}) {
    this.delayTicks = delayTicks;
    this.smoothing = smoothing;
    this.resetMs = resetMs;
    this.adapt = adapt;
    this.targetDelay = delayTicks; // where the delay is heading (it moves there gradually)
    this.jitter = 0; // smoothed |arrival - timeline|, ms
    this.peakLate = 0; // recent worst lateness against the timeline, ms
    this.arrivals = 0;
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
    this.lastAt = null;
    this.arrivals = 0;
    this.peakLate = 0;
  }

  /** The tick newest on the timeline now (no delay): where the latest snap "should" be. */
  arrivalTick(now) {
    return this.offset === null ? null : (now - this.offset) / this.interval;
  }

  /** Tick `tick` was applied at local time `now`. */
  onTick(tick, now) {
    const sample = now - tick * this.interval;
    if (this.offset === null || Math.abs(sample - this.offset) > this.resetMs) {
      this.offset = sample;
      this.last = null;
      this.arrivals = 0;
      this.peakLate = 0;
      return;
    }
    const dev = sample - this.offset; // > 0: later than the timeline expected
    this.jitter += (Math.abs(dev) - this.jitter) * JITTER_SMOOTHING;
    this.peakLate = Math.max(Math.max(0, dev), this.peakLate * LATENESS_PEAK_DECAY);
    if (dev < 0) {
      // An early arrival shows the real schedule better than late ones do: follow it faster.
      this.offset += dev * Math.min(1, this.smoothing * 4);
    } else {
      this.offset += dev * this.smoothing;
    }
    this.arrivals += 1;
    if (this.adapt && this.arrivals >= INTERP_ADAPT_AFTER) {
      // Drawing at ceil(render tick) needs that snap in hand: one interval plus the lateness.
      this.targetDelay = Math.min(INTERP_MAX_DELAY_TICKS, Math.max(INTERP_MIN_DELAY_TICKS, 1 + this.peakLate / this.interval + INTERP_MARGIN_TICKS));
    }
  }

  /** The interpolation delay in ms. */
  get delayMs() {
    return this.delayTicks * this.interval;
  }

  /** The fractional tick to draw at local time `now`, or null before any tick. */
  renderTick(now) {
    if (this.offset === null) return null;
    if (this.lastAt !== null && this.targetDelay !== this.delayTicks) {
      // Slew toward the target: drawing runs a few percent slower or faster, never jumps.
      const ticks = Math.max(0, now - this.lastAt) / this.interval;
      const d = this.targetDelay - this.delayTicks;
      this.delayTicks += d > 0 ? Math.min(d, ticks * INTERP_DELAY_UP_PER_TICK) : Math.max(d, -ticks * INTERP_DELAY_DOWN_PER_TICK);
    }
    this.lastAt = now;
    let t = (now - this.offset) / this.interval - this.delayTicks;
    if (this.last !== null && t < this.last) t = this.last;
    this.last = t;
    return t;
  }
}
