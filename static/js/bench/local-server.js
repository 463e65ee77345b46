/**
 * An offline stand-in for the match server (?bench=N): N dummy cubes wandering the arena,
 * fed to the client as a welcome and one delta snap per tick, exactly as the real server
 * would send them (only retargeted or spawned cubes listed; the rest follow the step).
 * It also obeys spawn, move, nudge and delete, so the page is usable without a server.
 * Implements the transport interface MatchSession expects. Pure (no DOM, no three).
 */

import { moveTargets } from "../sim/formation.js";
import { steerEntity } from "../sim/lag-comp.js";
import { clampPoint, stepEntity, stepLength } from "../sim/step.js";
import { BENCH_TICK_RATE } from "../tunables.js";

const _t = { x: 0, z: 0, tx: 0, tz: 0 };

export const BENCH_PLAYERS = [
  { id: 1, nickname: "bench-player", color: "#e5533d", online: true },
  { id: 2, nickname: "bot-blue", color: "#3d8be5", online: true },
  { id: 3, nickname: "bot-green", color: "#3dbf5a", online: true },
  { id: 4, nickname: "bot-amber", color: "#e5b83d", online: true },
  { id: 5, nickname: "bot-violet", color: "#9b5de5", online: true },
];

/** A small deterministic generator, so two runs of the benchmark do the same work. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class LocalServer extends EventTarget {
  constructor(count, { tickRate = BENCH_TICK_RATE, arena = [100, 100], speed = 5, seed = 1, ownCubes = 20, env = {} } = {}) {
    super();
    this.count = count;
    this.tickRate = tickRate;
    this.arena = arena;
    this.speed = speed;
    this.stepLen = stepLength(speed, tickRate);
    this.random = mulberry32(seed);
    this.ownCubes = Math.min(ownCubes, count);
    this.env = { setInterval: (f, ms) => setInterval(f, ms), clearInterval: (id) => clearInterval(id), now: () => performance.now(), ...env };
    this.entities = new Map();
    this.nextId = 1;
    this.tick = 0;
    this.timer = null;
    this.lastStepAt = null;
    this.isOpen = false;
    this.rtt = 0;
    this.pending = []; // commands, applied at the next tick like the server's queue
    this.ack = 0;
    this.touched = new Map(); // id -> cid or null
    this.gone = [];
  }

  // -- transport interface -----------------------------------------------------------

  connect() {
    for (let i = 0; i < this.count; i++) {
      const owner = i < this.ownCubes ? 1 : 2 + (i % (BENCH_PLAYERS.length - 1));
      const [x, z] = this.randomPoint(0.95);
      const ent = this.add(owner, x, z);
      this.retarget(ent);
    }
    this.touched.clear();
    this.isOpen = true;
    this.emit("state", { state: "local", attempt: 1 });
    this.emit("message", {
      type: "welcome",
      v: 1,
      match: "bench",
      you: 1,
      role: "player",
      color: BENCH_PLAYERS[0].color,
      tick_rate: this.tickRate,
      arena: this.arena,
      speed: this.speed,
      ack: 0,
      players: BENCH_PLAYERS,
      snap: this.snap(true),
    });
    this.timer = this.env.setInterval(() => this.step(), 1000 / this.tickRate);
    return this;
  }

  dispose() {
    if (this.timer !== null) this.env.clearInterval(this.timer);
    this.timer = null;
    this.lastStepAt = null;
    this.isOpen = false;
  }

  markFinal() {}

  estimateTick() {
    return this.tick;
  }

  /** Commands apply at the next step, from where the cubes are now: no lag to compensate. */
  stampTicks() {
    return { tick: this.tick, asOf: this.tick, present: this.presentTick() };
  }

  /** The tick being built: the last one plus the part of an interval since it was sent. */
  presentTick(now = this.env.now()) {
    if (this.lastStepAt === null) return this.tick;
    return this.tick + Math.min(1, Math.max(0, (now - this.lastStepAt) * this.tickRate) / 1000);
  }

  send(msg) {
    if (!this.isOpen) return false;
    if (msg.type === "cmd") this.pending.push(msg);
    else if (msg.type === "ping") queueMicrotask(() => this.emit("message", { type: "pong", t: msg.t, st: Date.now(), tick: this.tick }));
    else if (msg.type === "end") queueMicrotask(() => this.emit("message", { type: "ended", reason: "The benchmark was ended." }));
    else if (msg.type === "chat") queueMicrotask(() => this.emit("message", { type: "chat", player: 1, nick: BENCH_PLAYERS[0].nickname, text: msg.text, tick: this.tick }));
    return true;
  }

  // -- the world -------------------------------------------------------------------------

  /** One tick: queued commands, wandering bots, the step, and the delta for it. */
  step() {
    for (const cmd of this.pending.splice(0)) this.apply(cmd);
    for (const ent of this.entities.values()) {
      if (ent.owner !== 1 && (!moving(ent) || this.random() < 0.01)) this.retarget(ent);
    }
    for (const ent of this.entities.values()) stepEntity(ent, this.stepLen);
    this.tick += 1;
    this.lastStepAt = this.env.now();
    this.emit("message", this.snap(false));
    this.touched.clear();
    this.gone = [];
  }

  apply(cmd) {
    this.ack = Math.max(this.ack, cmd.seq);
    const own = (id) => {
      const ent = this.entities.get(id);
      return ent && ent.owner === 1 ? ent : null;
    };
    if (cmd.op === "spawn") {
      const [x, z] = clampPoint(cmd.at[0], cmd.at[1], this.arena[0], this.arena[1]);
      this.add(1, x, z, cmd.cid);
    } else if (cmd.op === "move") {
      // Each id to its formation slot, or all to the point, as the server does it.
      const targets = moveTargets({ op: "move", ids: cmd.ids, point: cmd.to, form: cmd.form ?? null, facing: cmd.facing ?? 0 }, this.arena[0], this.arena[1]);
      for (const id of cmd.ids) {
        const [tx, tz] = clampPoint(targets.get(id)[0], targets.get(id)[1], this.arena[0], this.arena[1]);
        this.setTarget(own(id), tx, tz);
      }
    } else if (cmd.op === "nudge") {
      for (const id of cmd.ids) {
        const ent = own(id);
        if (!ent) continue;
        // One unit along the direction, diagonals included, as the server does it.
        _t.x = ent.x;
        _t.z = ent.z;
        steerEntity(_t, "nudge", cmd.dir, null, 0, this.stepLen, this.arena[0], this.arena[1]);
        this.setTarget(ent, _t.tx, _t.tz);
      }
    } else if (cmd.op === "delete") {
      for (const id of cmd.ids) {
        if (own(id)) {
          this.entities.delete(id);
          this.touched.delete(id);
          this.gone.push(id);
        }
      }
    }
  }

  add(owner, x, z, cid = null) {
    const ent = { id: this.nextId++, owner, x, z, tx: x, tz: z };
    this.entities.set(ent.id, ent);
    this.touched.set(ent.id, cid);
    return ent;
  }

  retarget(ent) {
    const [tx, tz] = this.randomPoint(1);
    this.setTarget(ent, tx, tz);
  }

  setTarget(ent, tx, tz) {
    if (!ent) return;
    ent.tx = tx;
    ent.tz = tz;
    if (!this.touched.has(ent.id)) this.touched.set(ent.id, null);
  }

  randomPoint(extent) {
    const [w, d] = this.arena;
    return clampPoint((this.random() - 0.5) * w * extent, (this.random() - 0.5) * d * extent, w, d);
  }

  snap(full) {
    const ents = [];
    const list = full ? this.entities.keys() : this.touched.keys();
    for (const id of list) {
      const e = this.entities.get(id);
      if (!e) continue;
      const rec = { id: e.id, owner: e.owner, x: e.x, z: e.z, tx: e.tx, tz: e.tz };
      const cid = this.touched.get(id);
      if (cid) rec.cid = cid;
      ents.push(rec);
    }
    return { type: "snap", tick: this.tick, t: Date.now(), full, acks: { 1: this.ack }, ents, gone: full ? [] : this.gone };
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function moving(ent) {
  return ent.x !== ent.tx || ent.z !== ent.tz;
}
