/**
 * What the client knows of the server's time: the round trip (from ping/pong) and the
 * server tick estimate commands carry. Pure; the caller passes local times in ms.
 */

import { RTT_SMOOTHING } from "../tunables.js";

export class ServerClock {
  constructor(tickRate = 10) {
    this.setTickRate(tickRate);
    this.rtt = null; // smoothed round trip, ms
    this.lastRtt = null;
    this.snapTick = null; // tick of the newest snap received
    this.snapAt = 0; // local time it arrived
    this.pongTick = null;
    this.pending = new Map(); // ping t -> local send time
  }

  setTickRate(tickRate) {
    this.tickRate = tickRate;
    this.interval = 1000 / tickRate;
  }

  /** A snap (or welcome) for `tick` arrived at local time `now`. */
  onSnap(tick, now) {
    if (this.snapTick === null || tick >= this.snapTick) {
      this.snapTick = tick;
      this.snapAt = now;
    }
  }

  /** A ping is being sent: returns its `t` and remembers when it left. */
  stampPing(wallMs, now) {
    let t = Math.round(wallMs);
    while (this.pending.has(t)) t += 1;
    this.pending.set(t, now);
    if (this.pending.size > 16) this.pending.delete(this.pending.keys().next().value);
    return t;
  }

  /** A pong came back; returns the measured round trip or null if it matches no ping. */
  onPong(msg, now) {
    const sent = this.pending.get(msg.t);
    if (sent === undefined) return null;
    this.pending.delete(msg.t);
    const sample = Math.max(0, now - sent);
    this.lastRtt = sample;
    this.rtt = this.rtt === null ? sample : this.rtt + (sample - this.rtt) * RTT_SMOOTHING;
    if (Number.isInteger(msg.tick)) this.pongTick = msg.tick;
    return sample;
  }

  /** Drop pings in flight (their socket is gone). */
  forgetPings() {
    this.pending.clear();
  }

  /**
   * PROTOCOL.md: the last snap's tick, plus the whole ticks elapsed locally since it
   * arrived, plus half the measured round trip in ticks.
   */
  estimateTick(now) {
    if (this.snapTick === null) return 0;
    const elapsed = Math.max(0, Math.floor((now - this.snapAt) / this.interval));
    const half = this.rtt === null ? 0 : Math.round(this.rtt / 2 / this.interval);
    return this.snapTick + elapsed + half;
  }
}
