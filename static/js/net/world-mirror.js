/**
 * The client's copy of the match world, kept by PROTOCOL.md "Snaps" and "Order": snaps are
 * applied in tick order, deltas list only what the step cannot predict and everything else
 * is advanced with the shared step, a gap waits for a full snap. Each entity keeps a short
 * history for interpolation. Emits events; never touches the scene. Pure (node imports it).
 *
 * Events: `reset` (a welcome was applied), `tick` {tick, full, added, removed},
 * `resync-needed` {tick, expected}, `spawned` {id, cid} for own spawns.
 */

import { GAP_FILL_MAX_TICKS } from "../tunables.js";
import { entityRecord } from "./protocol.js";
import { History } from "./history.js";
import { stepEntity, stepLength } from "../sim/step.js";

const _fill = { x: 0, z: 0, tx: 0, tz: 0 };
const _xs = new Float64Array(GAP_FILL_MAX_TICKS);
const _zs = new Float64Array(GAP_FILL_MAX_TICKS);

export class MirrorEntity {
  constructor(id, historySize) {
    this.id = id;
    this.owner = 0;
    this.x = 0;
    this.z = 0;
    this.tx = 0;
    this.tz = 0;
    this.cid = null;
    this.listedAt = -1; // the tick whose snap last listed this entity
    this.history = new History(historySize);
  }

  get moving() {
    return this.x !== this.tx || this.z !== this.tz;
  }
}

export class WorldMirror extends EventTarget {
  constructor({ historySize } = {}) {
    super();
    this.historySize = historySize;
    this.entities = new Map();
    this.tick = null; // the last applied tick; null before the first welcome
    this.awaitingFull = false;
    this.arena = [100, 100];
    this.speed = 5;
    this.tickRate = 10;
    this.stepLen = stepLength(this.speed, this.tickRate);
    this.you = null;
    this.role = "spectator";
    this.color = null;
    this.ack = 0; // the last of our commands the server processed
    this.corrected = new Set(); // ids the server moved: they jump, not glide, when next listed
    this.stats = { applied: 0, ignored: 0, gaps: 0, fulls: 0, filled: 0 };
  }

  /** A socket's first message: the match's parameters and a full snap. */
  applyWelcome(msg) {
    this.you = msg.you ?? null;
    this.role = msg.role ?? (this.you === null ? "spectator" : "player");
    this.color = msg.color ?? null;
    if (Number.isInteger(msg.ack)) this.ack = Math.max(this.ack, msg.ack);
    if (Number.isFinite(msg.tick_rate) && msg.tick_rate > 0) this.tickRate = msg.tick_rate;
    if (Number.isFinite(msg.speed) && msg.speed > 0) this.speed = msg.speed;
    if (Array.isArray(msg.arena) && msg.arena.length === 2) this.arena = [msg.arena[0], msg.arena[1]];
    this.stepLen = stepLength(this.speed, this.tickRate);
    const snap = msg.snap;
    const rewound = this.tick !== null && snap.tick <= this.tick;
    if (rewound) {
      // The server's clock went back (a restarted or adopted match): history is void.
      for (const ent of this.entities.values()) ent.history.clear();
    }
    this.awaitingFull = false;
    this.corrected.clear();
    this.applyFull(snap);
    this.dispatchEvent(new CustomEvent("reset", { detail: { tick: this.tick, rewound } }));
  }

  /**
   * One `snap` message. Returns what happened: "applied", "ignored" (not above the last
   * tick, or before welcome), "waiting" (a delta while a full snap is awaited) or "gap".
   */
  applySnap(snap) {
    if (this.tick === null || snap.tick <= this.tick) {
      this.stats.ignored += 1;
      return "ignored";
    }
    if (snap.full) {
      this.awaitingFull = false;
      this.applyFull(snap);
      return "applied";
    }
    if (this.awaitingFull) {
      this.stats.ignored += 1;
      return "waiting";
    }
    if (snap.tick !== this.tick + 1) {
      this.awaitingFull = true;
      this.stats.gaps += 1;
      this.dispatchEvent(new CustomEvent("resync-needed", { detail: { tick: snap.tick, expected: this.tick + 1 } }));
      return "gap";
    }
    this.applyDelta(snap);
    return "applied";
  }

  /** A `correction`: the listed cubes jump to where the next snap puts them. */
  markCorrected(ids) {
    for (const id of ids) this.corrected.add(id);
  }

  // -- application -----------------------------------------------------------------

  applyFull(snap) {
    const tick = snap.tick;
    const added = [];
    const removed = [];
    for (const raw of snap.ents ?? []) {
      const rec = entityRecord(raw);
      this.fillGap(rec, tick);
      this.upsert(rec, tick, added);
    }
    for (const [id, ent] of this.entities) {
      if (ent.listedAt !== tick) {
        this.entities.delete(id);
        removed.push(id);
      }
    }
    this.readAcks(snap.acks);
    this.finishTick(tick, true, added, removed);
  }

  applyDelta(snap) {
    const tick = snap.tick;
    const added = [];
    const removed = [];
    for (const id of snap.gone ?? []) {
      if (this.entities.delete(id)) removed.push(id);
      this.corrected.delete(id);
    }
    for (const rec of snap.ents ?? []) this.upsert(entityRecord(rec), tick, added);
    const s = this.stepLen;
    for (const ent of this.entities.values()) {
      if (ent.listedAt !== tick) {
        stepEntity(ent, s);
        ent.history.push(tick, ent.x, ent.z);
      }
    }
    this.readAcks(snap.acks);
    this.finishTick(tick, false, added, removed);
  }

  /**
   * A full snap after missed ticks: if the step alone leads from an entity's last known
   * state to the one the snap lists, those were its positions in between; put them in its
   * history so interpolation glides through the gap instead of cutting across it.
   */
  fillGap(rec, tick) {
    const ent = this.entities.get(rec.id);
    if (!ent || this.tick === null || ent.history.newestTick !== this.tick || this.corrected.has(rec.id)) return;
    const gap = tick - this.tick;
    if (gap < 2 || gap > GAP_FILL_MAX_TICKS) return;
    _fill.x = ent.x;
    _fill.z = ent.z;
    _fill.tx = ent.tx;
    _fill.tz = ent.tz;
    for (let i = 0; i < gap; i++) {
      stepEntity(_fill, this.stepLen);
      _xs[i] = _fill.x;
      _zs[i] = _fill.z;
    }
    if (_fill.x !== rec.x || _fill.z !== rec.z || _fill.tx !== rec.tx || _fill.tz !== rec.tz) return;
    for (let i = 0; i < gap - 1; i++) ent.history.push(this.tick + 1 + i, _xs[i], _zs[i]);
    this.stats.filled += 1;
  }

  upsert(rec, tick, added) {
    let ent = this.entities.get(rec.id);
    if (!ent) {
      ent = new MirrorEntity(rec.id, this.historySize);
      this.entities.set(rec.id, ent);
      added.push(rec.id);
    } else if (this.corrected.delete(rec.id)) {
      ent.history.clear();
    }
    ent.owner = rec.owner;
    ent.x = rec.x;
    ent.z = rec.z;
    ent.tx = rec.tx;
    ent.tz = rec.tz;
    ent.listedAt = tick;
    if (rec.cid != null) {
      ent.cid = rec.cid;
      if (this.you !== null && rec.owner === this.you) {
        this.dispatchEvent(new CustomEvent("spawned", { detail: { id: rec.id, cid: rec.cid } }));
      }
    }
    ent.history.push(tick, ent.x, ent.z);
  }

  readAcks(acks) {
    if (!acks || this.you === null) return;
    const mine = acks[String(this.you)];
    if (Number.isInteger(mine) && mine > this.ack) this.ack = mine;
  }

  finishTick(tick, full, added, removed) {
    this.tick = tick;
    this.stats.applied += 1;
    if (full) this.stats.fulls += 1;
    this.dispatchEvent(new CustomEvent("tick", { detail: { tick, full, added, removed } }));
  }

  // -- queries ------------------------------------------------------------------------

  get(id) {
    return this.entities.get(id);
  }

  isOwn(id) {
    const ent = this.entities.get(id);
    return !!ent && this.you !== null && ent.owner === this.you;
  }

  /** Cube count per owner id. */
  countByOwner() {
    const counts = new Map();
    for (const ent of this.entities.values()) counts.set(ent.owner, (counts.get(ent.owner) ?? 0) + 1);
    return counts;
  }
}
