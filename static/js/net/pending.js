/**
 * The player's commands the server has not acknowledged yet, by sequence number (Lance's
 * input buffer), and what the acknowledgements teach: the tick the server applied each move
 * or nudge as of (the lower bound for the next), and how long a command takes to reach the
 * server, in ticks of its clock (so the replay processes pending ones in the right tick:
 * where a later command rewinds to depends on it). Pure.
 */

import { ACK_DELAY_MIN_SAMPLES, ACK_DELAY_SAMPLES } from "../tunables.js";
import { appliedAsOf } from "../sim/lag-comp.js";

export class PendingCommands {
  constructor({ window = 2, samples = ACK_DELAY_SAMPLES, minSamples = ACK_DELAY_MIN_SAMPLES } = {}) {
    this.window = window;
    this.samples = samples;
    this.minSamples = minSamples;
    this.list = []; // entries in seq order: {seq, op, ids, point, cid, claim, asOf, present, sentAt}
    this.applied = 0; // the server's last applied tick for our moves and nudges, as far as known
    this.delays = []; // recent (acknowledging tick - asOf) in ticks
    this.ups = []; // recent ways up: server tick on arrival - present at sending (midpoints)
    this.acked = 0; // commands acknowledged so far
    this.recent = []; // the last acknowledged: {seq, op, asOf, claim, tick, expected, range, applied}
  }

  get size() {
    return this.list.length;
  }

  add(entry) {
    this.list.push(entry);
    // Bounded: the server acknowledges or refuses every command it reads.
    if (this.list.length > 256) this.list.shift();
    return entry;
  }

  get(seq) {
    return this.list.find((e) => e.seq === seq) ?? null;
  }

  /** A `reject`: the command changed nothing; returns its entry (or null if unknown). */
  remove(seq) {
    const i = this.list.findIndex((e) => e.seq === seq);
    return i < 0 ? null : this.list.splice(i, 1)[0];
  }

  /**
   * The snap of `tick` says the server has processed everything up to `ack`. `exact`: the
   * previous snap was tick - 1, so what it newly covers was processed in this very tick.
   * Returns the entries acknowledged, in order.
   */
  acknowledge(ack, tick, exact) {
    let n = 0;
    while (n < this.list.length && this.list[n].seq <= ack) n += 1;
    if (n === 0) return [];
    const done = this.list.splice(0, n);
    for (const e of done) {
      if (exact) {
        this.delays.push(tick - e.asOf);
        if (this.delays.length > this.samples) this.delays.shift();
        if (Number.isFinite(e.present)) {
          // Processed in this tick: the server's world was at tick - 1 when it arrived, so the
          // way up was between tick - 1 - present and tick - present ticks; keep the middle.
          this.ups.push(tick - 0.5 - e.present);
          if (this.ups.length > this.samples) this.ups.shift();
        }
      }
      let applied = null;
      if (e.op === "move" || e.op === "nudge") {
        // Processed while the server was at tick - 1 (or earlier, if snaps were missed).
        const now = exact ? tick - 1 : Math.min(tick - 1, this.expectedProc(e, 0) - 1);
        applied = this.applied = appliedAsOf(now, e.claim, this.applied, this.window);
        e.applied = applied; // the arbiter rewrote its history of applied+1..now (sim/lag-comp.js)
        e.at = now;
      }
      const expected = e.expected ?? null;
      const range = [e.expectedLow ?? expected, e.expectedHigh ?? expected];
      this.recent.push({ seq: e.seq, op: e.op, asOf: e.asOf, claim: e.claim, tick: exact ? tick : null, expected, range, applied });
      if (this.recent.length > 20) this.recent.shift();
    }
    this.acked += done.length;
    return done;
  }

  /** Forget everything in flight (a new socket: what the welcome's ack does not cover is lost). */
  clear() {
    return this.list.splice(0);
  }

  /** Ticks from a command's asOf to the snap acknowledging it: the median of recent ones. */
  ackDelay(fallback = 3) {
    return this.delays.length < this.minSamples ? fallback : median(this.delays);
  }

  /** A command's way to the server in ticks (fractional): the median of recent ones. */
  upTicks(fallback = 1) {
    return this.ups.length < this.minSamples ? fallback : median(this.ups);
  }

  /**
   * The tick whose snap is expected to acknowledge `entry` (never before base + 1): the
   * server tick it arrives in, plus one. `fallbackUp`: the way up before any was measured.
   */
  expectedProc(entry, base, fallbackUp = 1) {
    const proc = Number.isFinite(entry.present)
      ? Math.floor(entry.present + this.upTicks(fallbackUp)) + 1
      : entry.asOf + this.ackDelay(1 + Math.ceil(fallbackUp));
    return Math.max(base + 1, proc);
  }

  /** Ids of own cubes a pending delete hides. */
  hiddenIds(out = new Set()) {
    out.clear();
    for (const e of this.list) if (e.op === "delete") for (const id of e.ids) out.add(id);
    return out;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}
