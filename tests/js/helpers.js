// Test doubles shared by the node tests: a scripted WebSocket and manual timers.

import { decode } from "@msgpack/msgpack";

export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    this.tasks = new Map(); // id -> {at, fn, every}
  }

  setTimeout = (fn, ms) => this.add(fn, ms, null);
  setInterval = (fn, ms) => this.add(fn, ms, ms);
  clearTimeout = (id) => this.tasks.delete(id);
  clearInterval = (id) => this.tasks.delete(id);

  add(fn, ms, every) {
    const id = this.nextId++;
    this.tasks.set(id, { at: this.now + ms, fn, every });
    return id;
  }

  /** Move time forward, running what falls due in order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let next = null;
      for (const [id, t] of this.tasks) if (t.at <= end && (next === null || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      const [id, task] = next;
      this.now = task.at;
      if (task.every === null) this.tasks.delete(id);
      else task.at += task.every;
      task.fn();
    }
    this.now = end;
  }

  pending() {
    return [...this.tasks.values()].filter((t) => t.every === null).map((t) => t.at - this.now);
  }
}

export class FakeSocket {
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.rawSent = []; // the frames as sent: strings, or Uint8Array for msgpack
    this.closedWith = null;
    FakeSocket.instances.push(this);
  }

  send(frame) {
    this.rawSent.push(frame);
    this.sent.push(typeof frame === "string" ? JSON.parse(frame) : decode(frame));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // -- the server's side ---------------------------------------------------------
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(msg) {
    this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) });
  }

  serverClose(code, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  sentOfType(type) {
    return this.sent.filter((m) => m.type === type);
  }
}

export function fakeEnv(timers) {
  return {
    createSocket: (url) => new FakeSocket(url),
    now: () => timers.now,
    wallClock: () => 1_700_000_000_000 + timers.now,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    setInterval: timers.setInterval,
    clearInterval: timers.clearInterval,
  };
}

export function ent(id, owner, x, z, tx = x, tz = z, cid) {
  const e = { id, owner, x, z, tx, tz };
  if (cid) e.cid = cid;
  return e;
}

export function welcome({ tick = 10, ents = [], you = 1, ack = 0, tickRate = 10, speed = 5, players = [] } = {}) {
  return {
    type: "welcome",
    v: 1,
    match: "m",
    you,
    role: you === null ? "spectator" : "player",
    color: you === null ? null : "#e5533d",
    tick_rate: tickRate,
    arena: [100, 100],
    speed,
    ack,
    players,
    snap: { type: "snap", tick, t: 0, full: true, acks: {}, ents, gone: [] },
  };
}

export function delta(tick, ents = [], gone = [], acks = {}) {
  return { type: "snap", tick, t: 0, full: false, acks, ents, gone };
}

export function full(tick, ents = [], acks = {}) {
  return { type: "snap", tick, t: 0, full: true, acks, ents, gone: [] };
}

/** Collect the events of some types from an EventTarget. */
export function record(target, ...types) {
  const log = [];
  for (const type of types) target.addEventListener(type, (ev) => log.push({ type, detail: ev.detail }));
  return log;
}
