/**
 * Network simulation for the page (?lag=150&jitter=30&loss=0.02, read by config.js
 * netSimParams): a WebSocket stand-in
 * that delays every message both ways by `lag` ms give or take up to `jitter` (order kept,
 * as TCP keeps it) and drops incoming snaps at rate `loss`, so the gap -> resync path runs.
 * Connection takes it through its `createSocket`; nothing else knows. Pure (the socket and
 * the timers are passed in).
 */

import { mulberry32 } from "../bench/local-server.js";
import { isSnapFrame } from "./protocol.js";

const OPEN = 1;

export class SimulatedSocket {
  /**
   * @param {WebSocket} inner the real socket
   * @param {object} sim {lag, jitter, loss, seed}
   * @param {object} [env] setTimeout/clearTimeout/now/random (tests)
   */
  constructor(inner, sim, env = {}) {
    this.inner = inner;
    this.sim = sim;
    this.env = {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id),
      now: () => performance.now(),
      random: Math.random,
      ...env,
    };
    // Losses draw from their own seeded generator: which snaps go is reproducible.
    this.lossRandom = sim.seed === null || sim.seed === undefined ? this.env.random : mulberry32(sim.seed);
    this.incomingQueue = new Lane(this.env); // messages on their way in, in order
    this.outgoingQueue = new Lane(this.env);
    this.dropped = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    inner.onopen = (ev) => this.onopen?.(ev);
    inner.onerror = (ev) => this.onerror?.(ev);
    inner.onmessage = (ev) => this.incoming(ev);
    // The close comes after what is still on its way in.
    inner.onclose = (ev) => this.incomingQueue.push(this.incomingQueue.last, () => this.onclose?.(ev));
  }

  get readyState() {
    return this.inner.readyState;
  }

  get binaryType() {
    return this.inner.binaryType;
  }

  set binaryType(kind) {
    this.inner.binaryType = kind;
  }

  send(data) {
    this.outgoingQueue.push(this.delay(), () => {
      if (this.inner.readyState === OPEN) this.inner.send(data);
    });
  }

  close(code, reason) {
    this.incomingQueue.clear();
    this.outgoingQueue.clear();
    this.inner.onopen = this.inner.onmessage = this.inner.onclose = this.inner.onerror = null;
    this.inner.close(code, reason);
  }

  incoming(ev) {
    if (this.sim.loss > 0 && isSnapFrame(ev.data) && this.lossRandom() < this.sim.loss) {
      this.dropped += 1;
      return;
    }
    this.incomingQueue.push(this.delay(), () => this.onmessage?.(ev));
  }

  /** Now plus lag plus or minus jitter (ms). */
  delay() {
    const { lag, jitter } = this.sim;
    return this.env.now() + Math.max(0, lag + (this.env.random() * 2 - 1) * jitter);
  }
}

/** One direction of the link: deliveries in the order they were queued, each no earlier than its time. */
class Lane {
  constructor(env) {
    this.env = env;
    this.queue = []; // [{at, fn}], `at` never decreasing
    this.timer = null;
    this.last = 0;
  }

  push(at, fn) {
    this.last = Math.max(this.last, at);
    this.queue.push({ at: this.last, fn });
    if (this.timer === null) this.arm();
  }

  arm() {
    const head = this.queue[0];
    this.timer = this.env.setTimeout(() => this.run(), Math.max(0, head.at - this.env.now()));
  }

  run() {
    this.timer = null;
    // A timer may fire a little early or late: deliver everything due, in order.
    const now = this.env.now() + 1;
    while (this.queue.length && this.queue[0].at <= now) this.queue.shift().fn();
    if (this.queue.length && this.timer === null) this.arm();
  }

  clear() {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}
