/**
 * One match socket that keeps itself open: connects, parses frames, pings for the round
 * trip and answers the server's pings, reconnects with back-off after an ordinary close,
 * and stops for good on the final close codes. Emits `state` and `message` events; knows
 * nothing of the world or the scene.
 */

import { BYTES_RATE_WINDOW_MS, PING_INTERVAL_MS, STALL_TIMEOUT_MS } from "../tunables.js";
import { Backoff } from "./backoff.js";
import { CLOSE_REPLACED, FINAL_CLOSES, encodeFrame, frameBytes, isFinalClose, parseFrame, pingMsg, pongMsg, withEncoding } from "./protocol.js";
import { RateMeter } from "./rate-meter.js";
import { ServerClock } from "./server-clock.js";

const OPEN = 1;
/** The code the client closes a silent socket with (a browser may use 1000 or 3000-4999). */
export const CLOSE_STALLED = 4000;

function defaultEnv() {
  return {
    createSocket: (url) => new WebSocket(url),
    now: () => performance.now(),
    wallClock: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(id),
  };
}

export class Connection extends EventTarget {
  /**
   * @param {string} url absolute ws:// or wss:// URL
   * @param {object} [options] `env` replaces the browser's socket and timers (tests, the
   *   network simulation), `backoff` a Backoff, `tickRate` the match's tick rate for the tick
   *   estimate, `lagComp` false to stamp commands with the last snap's tick only, `locate` an
   *   async function asked before each reconnect where the match is now: it answers a socket
   *   URL (the server that held the socket may be gone), or null when the match is over;
   *   `encoding` "msgpack" for binary frames both ways (`enc=msgpack` on every socket URL) or
   *   "json" (the default) for text frames.
   */
  constructor(url, { env = {}, backoff = new Backoff(), tickRate = 10, lagComp = true, locate = null, encoding = "json" } = {}) {
    super();
    this.encoding = encoding === "msgpack" ? "msgpack" : "json";
    this.binary = this.encoding === "msgpack";
    this.url = withEncoding(url, this.encoding);
    this.locate = locate;
    this.env = { ...defaultEnv(), ...env };
    this.backoff = backoff;
    this.lagComp = lagComp;
    this.clock = new ServerClock(tickRate);
    this.snapBytes = new RateMeter(BYTES_RATE_WINDOW_MS);
    this.bytesIn = new RateMeter(BYTES_RATE_WINDOW_MS); // every frame received
    this.bytesOut = new RateMeter(BYTES_RATE_WINDOW_MS); // every frame sent
    this.answered = new Set(); // server ping stamps answered on this socket (each exactly once)
    this.pongsSent = 0;
    this.socket = null;
    this.state = "idle"; // idle | connecting | open | waiting | closed
    this.final = null; // {code, reason} once the connection will not come back
    this.attempts = 0; // sockets opened so far
    this.lastHeard = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.stallTimer = null;
  }

  /** Open the socket (and keep it open until dispose() or a final close). */
  connect() {
    if (this.final || this.socket) return this;
    this.clearRetry();
    this.attempts += 1;
    this.url = withEncoding(this.url, this.encoding);
    const socket = this.env.createSocket(this.url);
    if (this.binary) socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => this.onOpen(socket);
    socket.onmessage = (ev) => this.onFrame(socket, ev);
    socket.onclose = (ev) => this.onClose(socket, ev.code, ev.reason || "");
    socket.onerror = () => {}; // a close event always follows
    this.setState("connecting");
    return this;
  }

  /** Close for good; no reconnect. Safe to call more than once. */
  dispose() {
    if (!this.final) this.final = { code: 1000, reason: "closed by the page" };
    this.dropSocket(1000, "bye");
    this.clearRetry();
    this.setState("closed");
  }

  /** No reconnect after the current socket closes (the match ended). */
  markFinal(code, reason) {
    if (!this.final) this.final = { code, reason };
  }

  get isOpen() {
    return this.state === "open";
  }

  /** Send one message object; false if the socket is not open. */
  send(msg) {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    const frame = encodeFrame(msg, this.binary);
    this.socket.send(frame);
    this.bytesOut.add(this.env.now(), frameBytes(frame));
    return true;
  }

  /** The server tick a command issued now should carry (PROTOCOL.md's formula, literally). */
  estimateTick() {
    return this.clock.estimateTick(this.env.now());
  }

  /** The ticks of a command issued now: {tick} for the wire, {asOf} to draw it from. */
  stampTicks() {
    return this.clock.stamp(this.env.now(), this.lagComp);
  }

  /** The fractional server tick the client estimates is current at local time `now`. */
  presentTick(now = this.env.now()) {
    return this.clock.present(now);
  }

  get rtt() {
    return this.clock.rtt;
  }

  /** Snapshot bytes received per second, lately. */
  get snapBytesPerSec() {
    return this.snapBytes.rate(this.env.now());
  }

  /** Bytes of every frame received per second, lately. */
  get bytesInPerSec() {
    return this.bytesIn.rate(this.env.now());
  }

  /** Bytes of every frame sent per second, lately. */
  get bytesOutPerSec() {
    return this.bytesOut.rate(this.env.now());
  }

  // -- socket events -------------------------------------------------------------

  onOpen(socket) {
    if (socket !== this.socket) return;
    this.lastHeard = this.env.now();
    this.setState("open");
    this.sendPing();
    this.pingTimer = this.env.setInterval(() => this.sendPing(), PING_INTERVAL_MS);
    this.stallTimer = this.env.setInterval(() => this.checkStall(), Math.min(1000, STALL_TIMEOUT_MS));
  }

  onFrame(socket, ev) {
    if (socket !== this.socket) return;
    const now = this.env.now();
    this.lastHeard = now;
    const bytes = frameBytes(ev.data);
    this.bytesIn.add(now, bytes);
    let msg;
    try {
      msg = parseFrame(ev.data);
    } catch (error) {
      this.dispatchEvent(new CustomEvent("bad-frame", { detail: { error } }));
      return;
    }
    if (msg.type === "welcome") {
      this.backoff.reset();
      if (Number.isInteger(msg.tick_rate) && msg.tick_rate > 0 && msg.tick_rate !== this.clock.tickRate) this.clock.setTickRate(msg.tick_rate);
      this.clock.onSnap(msg.snap.tick, now);
      this.snapBytes.add(now, bytes);
    } else if (msg.type === "snap") {
      this.clock.onSnap(msg.tick, now);
      this.snapBytes.add(now, bytes);
    } else if (msg.type === "pong") {
      this.clock.onPong(msg, now);
    } else if (msg.type === "ping") {
      this.answerPing(msg.t);
    }
    this.dispatchEvent(new CustomEvent("message", { detail: msg }));
  }

  onClose(socket, code, reason) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.stopTimers();
    this.clock.forgetPings();
    this.answered.clear();
    if (isFinalClose(code) && !this.final) {
      this.final = { code, reason: FINAL_CLOSES[code] };
    }
    if (this.final) {
      this.setState("closed", { code, reason: this.final.reason, replaced: code === CLOSE_REPLACED });
      return;
    }
    this.scheduleReconnect(code, reason);
  }

  // -- internals -----------------------------------------------------------------

  scheduleReconnect(code, reason) {
    const delay = this.backoff.next();
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = null;
      if (this.locate) this.relocate();
      else this.connect();
    }, delay);
    this.setState("waiting", { code, reason, retryIn: delay });
  }

  /** Ask the API where the match is before reconnecting; if it cannot say, retry where we were. */
  async relocate() {
    let url = this.url;
    try {
      url = await this.locate();
    } catch {
      url = this.url; // the API is unreachable too: the old address is as good a guess as any
    }
    if (this.final || this.socket || this.retryTimer !== null) return; // disposed or connected meanwhile
    if (url === null) {
      this.final = { code: 4410, reason: FINAL_CLOSES[4410] ?? "match ended" };
      this.setState("closed", { code: 4410, reason: this.final.reason, replaced: false });
      return;
    }
    this.url = url;
    this.connect();
  }

  /** The server measures our round trip: answer each of its pings once, at once. */
  answerPing(t) {
    if (typeof t !== "number" || !Number.isFinite(t) || this.answered.has(t)) return;
    this.answered.add(t);
    if (this.answered.size > 32) this.answered.delete(this.answered.values().next().value);
    if (this.send(pongMsg(t))) this.pongsSent += 1;
  }

  sendPing() {
    const t = this.clock.stampPing(this.env.wallClock(), this.env.now());
    this.send(pingMsg(t));
  }

  checkStall() {
    if (this.env.now() - this.lastHeard < STALL_TIMEOUT_MS) return;
    // The close handshake may never finish on a dead link: let go of the socket now.
    this.dropSocket(CLOSE_STALLED, "stalled");
    if (!this.final) this.scheduleReconnect(CLOSE_STALLED, "no message from the server");
  }

  dropSocket(code, reason) {
    this.stopTimers();
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  stopTimers() {
    if (this.pingTimer !== null) this.env.clearInterval(this.pingTimer);
    if (this.stallTimer !== null) this.env.clearInterval(this.stallTimer);
    this.pingTimer = this.stallTimer = null;
  }

  clearRetry() {
    if (this.retryTimer !== null) this.env.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, attempt: this.attempts, ...extra } }));
  }
}
