/**
 * What the client knows of the server's time (clock sync): the round trip and its jitter
 * (from ping/pong), when snaps arrive, and from both the server tick the client estimates
 * is current. Commands are stamped with that tick (lag compensation) and own cubes are
 * drawn at it (prediction). Pure; the caller passes local times in ms.
 */

import { CLOCK_RESET_MS, CLOCK_SMOOTHING, JITTER_SMOOTHING, PRESENT_CATCHUP, PRESENT_RESET_LATE_MS, RTT_SMOOTHING } from "../tunables.js";

export class ServerClock {
  constructor(tickRate = 10) {
    this.rtt = null; // smoothed round trip, ms
    this.lastRtt = null;
    this.rttJitter = 0; // smoothed |difference of consecutive round trips|, ms (RFC 3550 style)
    this.snapTick = null; // tick of the newest snap received
    this.snapAt = 0; // local time it arrived
    this.pongTick = null;
    this.pending = new Map(); // ping t -> local send time
    this.setTickRate(tickRate);
  }

  setTickRate(tickRate) {
    this.tickRate = tickRate;
    this.interval = 1000 / tickRate;
    this.offset = null; // local ms at which tick 0 would have arrived (de-jittered)
    this.last = null; // the last present handed out, and when: it never runs backwards
    this.lastAt = 0;
  }

  /** A snap (or welcome) for `tick` arrived at local time `now`. */
  onSnap(tick, now) {
    if (this.snapTick === null || tick >= this.snapTick) {
      this.snapTick = tick;
      this.snapAt = now;
    }
    const sample = now - tick * this.interval;
    // Start again on the first snap, or when the server's clock jumped: snaps far earlier than
    // expected, or so late that the server must have stalled (a page too busy to read its
    // socket for a while makes them late too, and that says nothing of the server's clock).
    if (this.offset === null || sample < this.offset - CLOCK_RESET_MS || sample > this.offset + PRESENT_RESET_LATE_MS) {
      this.offset = sample;
      this.last = null;
    } else if (sample < this.offset) {
      // An early arrival shows the real schedule better than late ones do: follow it faster.
      this.offset += (sample - this.offset) * Math.min(1, CLOCK_SMOOTHING * 4);
    } else {
      this.offset += (sample - this.offset) * CLOCK_SMOOTHING;
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
    if (this.lastRtt !== null) this.rttJitter += (Math.abs(sample - this.lastRtt) - this.rttJitter) * JITTER_SMOOTHING * 4;
    this.lastRtt = sample;
    this.rtt = this.rtt === null ? sample : this.rtt + (sample - this.rtt) * RTT_SMOOTHING;
    if (Number.isInteger(msg.tick)) this.pongTick = msg.tick;
    return sample;
  }

  /** Drop pings in flight (their socket is gone). */
  forgetPings() {
    this.pending.clear();
  }

  /** Half the round trip in ticks (0 before the first pong). */
  get halfRttTicks() {
    return this.rtt === null ? 0 : this.rtt / 2 / this.interval;
  }

  /**
   * PROTOCOL.md, literally: the last snap's tick, plus the whole ticks elapsed locally since
   * it arrived, plus half the measured round trip in ticks.
   */
  estimateTick(now) {
    if (this.snapTick === null) return 0;
    const elapsed = Math.max(0, Math.floor((now - this.snapAt) / this.interval));
    return this.snapTick + elapsed + Math.round(this.halfRttTicks);
  }

  /**
   * The same estimate as a smooth fractional tick: the snaps' arrival times de-jittered,
   * plus half the round trip. Never runs backwards and catches up at most PRESENT_CATCHUP
   * times real time, so own cubes drawn at it glide. Null before the first snap.
   */
  present(now) {
    if (this.offset === null) return null;
    let p = (now - this.offset) / this.interval + this.halfRttTicks;
    if (this.last !== null) {
      if (p < this.last) p = this.last;
      else p = Math.min(p, this.last + ((now - this.lastAt) / this.interval) * PRESENT_CATCHUP);
    }
    this.last = p;
    this.lastAt = now;
    return p;
  }

  /**
   * The ticks a command issued now carries: `tick` goes on the wire, `asOf` is the tick the
   * client draws it from. With lag compensation both are the present's whole tick (never
   * before the newest snap); without, the wire gets the newest snap's tick only. `present`
   * (fractional) helps guess the tick the server will process it in.
   */
  stamp(now, lagComp = true) {
    const snap = this.snapTick ?? 0;
    const p = this.present(now);
    const asOf = p === null ? snap : Math.max(snap, Math.floor(p));
    return { tick: lagComp ? asOf : snap, asOf, present: p };
  }
}
