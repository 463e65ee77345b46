/**
 * Client-side prediction of the player's own cubes (Lance style). The cubes are drawn at
 * the client's estimate of the server's present tick, on the path the replay gives: the
 * server's last state plus the commands it has not acknowledged, applied as of the ticks
 * they are stamped with, so a right-click moves a cube in the very next frame.
 *
 * Reconciliation: on every snap the replay starts again from the new server state; a
 * divergence between the old and the new prediction is a correction, counted with its size,
 * and its visual error is bent away over a few frames (or snapped when large). Spawns show a
 * provisional cube (by cid) until the server's arrives; deletes hide cubes at once; a reject
 * undoes what its command predicted. Pure: the presenter asks, nothing here draws.
 */

import {
  CORRECTION_EPSILON,
  CORRECTION_SMOOTH_MS,
  CORRECTION_SNAP_DISTANCE,
  CORRECTION_RATE_WINDOW_MS,
  MAX_REPLAY_TICKS,
  REPLAY_LOOKAHEAD_TICKS,
} from "../tunables.js";
import { RateMeter } from "../net/rate-meter.js";
import { lagWindow, rewriteHistory } from "../sim/lag-comp.js";
import { replay } from "../sim/replay.js";

const _p = { x: 0, z: 0 };

export class OwnMotion {
  /**
   * @param {WorldMirror} mirror the authoritative state and its history
   * @param {PendingCommands} pending the unacknowledged commands
   * @param {object} [options] `present(now)`: the fractional server tick being drawn (null if
   *   unknown); `now()`: local ms; `fallbackUp()`: a command's way to the server in ticks
   *   before any was measured; `procOf(entry)`: the acknowledging tick (tests)
   */
  constructor(mirror, pending, { present = () => null, now = () => performance.now(), fallbackUp = () => 1, procOf = null } = {}) {
    this.mirror = mirror;
    this.pending = pending;
    this.present = present;
    this.now = now;
    this.fallbackUp = fallbackUp;
    this.procOf = procOf;
    this.timeline = null;
    this.applied = 0;
    this.offsets = new Map(); // id -> {x, z}: drawn minus predicted, bent away over time
    this.hidden = new Set(); // own cubes a pending delete hides
    this.provisional = new Map(); // cid -> {cid, seq, x, z}: spawns the server has not shown yet
    this.snapIds = new Set(); // cubes the server moved on its own: they jump
    this.tick = null; // the present drawn this frame, clamped to the replay
    this.lastFrame = null;
    // corrections: cubes moved by a re-prediction; events: re-predictions that moved any.
    this.stats = { corrections: 0, events: 0, largest: 0, last: 0, total: 0, snapped: 0, reconciles: 0, replays: 0, recent: [] };
    this.rate = new RateMeter(CORRECTION_RATE_WINDOW_MS, 20);
  }

  // -- events (the app forwards the session's) ----------------------------------------

  /** A welcome: start again from its state. */
  reset() {
    this.offsets.clear();
    this.snapIds.clear();
    this.rebuild();
  }

  /**
   * A snap was applied and its acks taken (`acked`: the pending entries they covered):
   * rewrite the history as the arbiter did for backdated ones, replay on top, count what moved.
   */
  reconcile(acked = []) {
    this.stats.reconciles += 1;
    const m = this.mirror;
    for (const e of acked) rewriteHistory(e, (id) => m.get(id)?.history ?? null, m.stepLen, m.arena[0], m.arena[1]);
    this.rebase(true);
    this.snapIds.clear(); // a correction's cubes are listed by the snap that follows it
  }

  /** A command was sent: predict it now. Not a correction: the player asked for it. */
  commandSent() {
    this.rebase(false);
  }

  /** A command was refused: take its prediction back (a correction if a cube moved). */
  rejected() {
    this.rebase(true);
  }

  /** A `correction`: these cubes jump to where the server put them. */
  corrected(ids) {
    for (const id of ids) this.snapIds.add(id);
  }

  get correctionsPerSec() {
    return this.rate.rate(this.now());
  }

  // -- per frame --------------------------------------------------------------------

  /** Fix the present for this frame and bend the visual errors; returns the tick drawn. */
  beginFrame(now) {
    const dt = this.lastFrame === null ? 0 : Math.max(0, now - this.lastFrame);
    this.lastFrame = now;
    this.tick = this.clampedPresent(now);
    if (dt > 0 && this.offsets.size) {
      const keep = Math.exp(-dt / CORRECTION_SMOOTH_MS);
      for (const [id, o] of this.offsets) {
        o.x *= keep;
        o.z *= keep;
        if (Math.abs(o.x) < 1e-4 && Math.abs(o.z) < 1e-4) this.offsets.delete(id);
      }
    }
    return this.tick;
  }

  /** Write where own entity `ent` is drawn into out; true when the prediction placed it. */
  place(ent, out) {
    const t = this.timeline;
    if (t === null || this.tick === null || !t.positionAt(ent.id, this.tick, out)) {
      out.x = ent.x;
      out.z = ent.z;
      return false;
    }
    const o = this.offsets.get(ent.id);
    if (o) {
      out.x += o.x;
      out.z += o.z;
    }
    return true;
  }

  // -- internals ----------------------------------------------------------------------

  clampedPresent(now) {
    const base = this.mirror.tick;
    if (base === null) return null;
    const p = this.present(now);
    if (p === null || !Number.isFinite(p)) return base;
    return Math.min(base + MAX_REPLAY_TICKS, Math.max(base, p));
  }

  /** Replay again; if `count`, what the change moves at the present tick is a correction. */
  rebase(count) {
    const now = this.now();
    const tick = this.clampedPresent(now);
    const before = new Map();
    const old = this.timeline;
    if (old !== null && tick !== null) {
      for (const id of old.drawn.keys()) {
        if (!this.hidden.has(id) && old.positionAt(id, tick, _p)) before.set(id, [_p.x, _p.z]);
      }
    }
    this.rebuild(tick);
    const fresh = this.timeline;
    if (fresh === null) return;
    const counted = this.stats.corrections;
    for (const [id, [x, z]] of before) {
      if (!fresh.positionAt(id, tick, _p)) continue; // gone: nothing to bend
      const dx = x - _p.x;
      const dz = z - _p.z;
      const size = Math.hypot(dx, dz);
      const forced = this.snapIds.delete(id);
      if (size > CORRECTION_EPSILON && count) this.count(id, size, now);
      if (forced || size > CORRECTION_SNAP_DISTANCE) {
        // The server moved it on its own, or the prediction was far off: jump.
        this.offsets.delete(id);
        if (size > CORRECTION_EPSILON) this.stats.snapped += 1;
        continue;
      }
      if (size <= CORRECTION_EPSILON) continue;
      let o = this.offsets.get(id);
      if (!o) this.offsets.set(id, (o = { x: 0, z: 0 }));
      o.x += dx;
      o.z += dz;
    }
    if (this.stats.corrections > counted) this.stats.events += 1;
  }

  count(id, size, now) {
    const s = this.stats;
    s.corrections += 1;
    s.last = size;
    s.total += size;
    if (size > s.largest) s.largest = size;
    s.recent.push({ id, size, tick: this.mirror.tick });
    if (s.recent.length > 20) s.recent.shift();
    this.rate.add(now, 1);
  }

  rebuild(tick = this.clampedPresent(this.now())) {
    const m = this.mirror;
    this.pending.hiddenIds(this.hidden);
    this.provisional.clear();
    for (const e of this.pending.list) {
      if (e.op === "spawn" && e.seq > m.ack) this.provisional.set(e.cid, { cid: e.cid, seq: e.seq, x: e.point[0], z: e.point[1] });
    }
    if (m.tick === null || m.you === null) {
      this.timeline = null;
      return;
    }
    const base = m.tick;
    const own = [];
    for (const ent of m.entities.values()) if (ent.owner === m.you) own.push(ent);
    const commands = [];
    const fallback = this.fallbackUp();
    for (const e of this.pending.list) {
      if (e.seq <= m.ack || e.op === "spawn") continue;
      const proc = this.procOf ? this.procOf(e) : this.pending.expectedProc(e, base, fallback);
      e.expected = proc; // what the replay assumed (the net graph compares it with the ack)
      e.expectedLow = Math.min(e.expectedLow ?? proc, proc); // and how far that moved while in flight
      e.expectedHigh = Math.max(e.expectedHigh ?? proc, proc);
      commands.push({ seq: e.seq, op: e.op, ids: e.ids, point: e.point, form: e.form ?? null, facing: e.facing ?? 0, asOf: e.asOf, proc });
    }
    const until = Math.ceil(tick ?? base) + REPLAY_LOOKAHEAD_TICKS;
    const result = replay({
      base,
      entities: own,
      past: (id, t, out) => m.get(id)?.history.at(t, out) ?? false,
      commands,
      applied: this.pending.applied,
      window: lagWindow(m.tickRate),
      stepLen: m.stepLen,
      width: m.arena[0],
      depth: m.arena[1],
      until,
      maxUntil: base + MAX_REPLAY_TICKS,
    });
    this.timeline = result.timeline;
    this.applied = result.applied;
    this.stats.replays += 1;
  }
}
