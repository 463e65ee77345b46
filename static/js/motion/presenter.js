/**
 * Where each cube is drawn this frame. Listens to the world mirror's events, runs the
 * playback clock, and keeps one Drawn record per entity (no allocation per frame).
 *
 * Other players' cubes are interpolated between the two snapshots around the render tick
 * (now minus the interpolation delay); past the newest snapshot (a late or lost one) they
 * go on along the step toward their known target for a bounded time, then hold, and when
 * the snapshots come back what the guess got wrong is bent away at a bounded speed. Own
 * cubes are placed by OwnMotion (prediction); provisional cubes stand where a spawn was
 * asked for until the server's cube arrives. Pure (no three).
 */

import { EXTRAPOLATE_MAX_TICKS, REMOTE_CATCHUP, REMOTE_SNAP_DISTANCE } from "../tunables.js";
import { PendingCommands } from "../net/pending.js";
import { stepEntity } from "../sim/step.js";
import { OwnMotion } from "./own-motion.js";
import { PlaybackClock } from "./playback-clock.js";

const _e = { x: 0, z: 0, tx: 0, tz: 0 };
const _s = { x: 0, z: 0 };

export class Drawn {
  constructor(id) {
    this.id = id;
    this.x = 0;
    this.z = 0;
    this.owner = 0;
    this.own = false;
    this.predicted = false; // placed by the prediction (own cubes)
    this.provisional = false; // a spawn the server has not confirmed yet
    // Remote cubes: the sample drawn, the tick it was taken at, whether it was a guess past
    // the newest snapshot, and the visual offset still being bent away.
    this.rawX = 0;
    this.rawZ = 0;
    this.sampledAt = null;
    this.extrapolated = false;
    this.ox = 0;
    this.oz = 0;
    this.seen = 0;
  }
}

export class Presenter {
  constructor(mirror, { clock = new PlaybackClock(mirror.tickRate), ownMotion = null, now = () => performance.now() } = {}) {
    this.mirror = mirror;
    this.clock = clock;
    this.ownMotion = ownMotion ?? new OwnMotion(mirror, new PendingCommands(), { now });
    this.now = now;
    this.drawn = new Map();
    this.provisional = new Map(); // cid -> Drawn
    this.tickRate = mirror.tickRate;
    this.renderTick = null;
    this.presentTick = null;
    this.frame = 0;
    this.lastUpdate = null;
    this.stats = { extrapolatedFrames: 0, blended: 0, snapped: 0 };
    this.onTick = (ev) => this.tick(ev.detail);
    this.onReset = (ev) => this.reset(ev.detail);
  }

  connect() {
    this.mirror.addEventListener("tick", this.onTick);
    this.mirror.addEventListener("reset", this.onReset);
    return this;
  }

  dispose() {
    this.mirror.removeEventListener("tick", this.onTick);
    this.mirror.removeEventListener("reset", this.onReset);
    this.drawn.clear();
    this.provisional.clear();
  }

  tick({ tick, added, removed }) {
    if (this.mirror.tickRate !== this.tickRate) {
      // The welcome named another tick rate than the page did: the old timeline is void.
      this.tickRate = this.mirror.tickRate;
      this.clock.setTickRate(this.tickRate);
      this.clock.reset();
    }
    this.clock.onTick(tick, this.now());
    for (const id of removed) this.drawn.delete(id);
    // New cubes are drawn where they spawned until the next frame places them.
    for (const id of added) {
      const ent = this.mirror.get(id);
      if (!ent || this.drawn.has(id)) continue;
      const d = new Drawn(id);
      d.x = d.rawX = ent.x;
      d.z = d.rawZ = ent.z;
      d.owner = ent.owner;
      d.own = this.mirror.you !== null && ent.owner === this.mirror.you;
      d.seen = this.frame;
      this.drawn.set(id, d);
    }
    // Remote cubes drawn past their newest snapshot have new samples now: keep them where
    // they were drawn and bend the guess's error away.
    for (const d of this.drawn.values()) {
      if (d.own || !d.extrapolated) continue;
      const ent = this.mirror.get(d.id);
      if (!ent) continue;
      d.extrapolated = this.sampleRemote(ent, d.sampledAt, _s);
      const dx = d.rawX - _s.x;
      const dz = d.rawZ - _s.z;
      d.rawX = _s.x;
      d.rawZ = _s.z;
      if (dx === 0 && dz === 0) continue;
      if (Math.hypot(d.ox + dx, d.oz + dz) > REMOTE_SNAP_DISTANCE) {
        d.ox = d.oz = 0;
        this.stats.snapped += 1;
      } else {
        d.ox += dx;
        d.oz += dz;
        this.stats.blended += 1;
      }
    }
  }

  reset({ rewound }) {
    if (rewound) this.clock.reset();
  }

  /** Recompute every drawn position for local time `now`; returns the render tick. */
  update(now) {
    const renderTick = this.clock.renderTick(now);
    this.renderTick = renderTick;
    const own = this.ownMotion;
    this.presentTick = own.beginFrame(now);
    const dt = this.lastUpdate === null ? 0 : Math.max(0, now - this.lastUpdate);
    this.lastUpdate = now;
    const catchUp = (REMOTE_CATCHUP * this.mirror.speed * dt) / 1000;
    const frame = ++this.frame;
    const you = this.mirror.you;
    for (const ent of this.mirror.entities.values()) {
      const mine = you !== null && ent.owner === you;
      if (mine && own.hidden.has(ent.id)) continue; // a delete on its way
      let d = this.drawn.get(ent.id);
      if (!d) {
        d = new Drawn(ent.id);
        this.drawn.set(ent.id, d);
      }
      d.seen = frame;
      d.owner = ent.owner;
      d.own = mine;
      if (mine) {
        d.predicted = own.place(ent, d);
        d.extrapolated = false;
        d.ox = d.oz = 0;
        continue;
      }
      d.predicted = false;
      d.extrapolated = this.sampleRemote(ent, renderTick, _s);
      if (d.extrapolated) this.stats.extrapolatedFrames += 1;
      d.rawX = _s.x;
      d.rawZ = _s.z;
      d.sampledAt = renderTick;
      if (d.ox !== 0 || d.oz !== 0) {
        const len = Math.hypot(d.ox, d.oz);
        const keep = len <= catchUp ? 0 : (len - catchUp) / len;
        d.ox *= keep;
        d.oz *= keep;
      }
      d.x = d.rawX + d.ox;
      d.z = d.rawZ + d.oz;
    }
    for (const [id, d] of this.drawn) if (d.seen !== frame) this.drawn.delete(id);
    this.syncProvisional(you);
    return renderTick;
  }

  /**
   * A remote entity at fractional tick `r` into out: between its samples, or past the newest
   * one along the step toward its target (at most EXTRAPOLATE_MAX_TICKS, then held).
   * Returns true when that was a guess past the newest sample.
   */
  sampleRemote(ent, r, out) {
    const h = ent.history;
    if (r === null || h.count === 0) {
      out.x = ent.x;
      out.z = ent.z;
      return false;
    }
    const newest = h.newestTick;
    if (r <= newest) {
      h.sample(r, out);
      return false;
    }
    if (newest !== this.mirror.tick) {
      h.sample(newest, out); // no current state to go on from: hold
      return true;
    }
    const ahead = Math.min(r - newest, EXTRAPOLATE_MAX_TICKS);
    const s = this.mirror.stepLen;
    _e.x = ent.x;
    _e.z = ent.z;
    _e.tx = ent.tx;
    _e.tz = ent.tz;
    const n = Math.floor(ahead);
    for (let i = 0; i < n; i++) stepEntity(_e, s);
    const f = ahead - n;
    const x0 = _e.x;
    const z0 = _e.z;
    if (f > 0) stepEntity(_e, s);
    out.x = x0 + (_e.x - x0) * f;
    out.z = z0 + (_e.z - z0) * f;
    return true;
  }

  syncProvisional(you) {
    const wanted = this.ownMotion.provisional;
    for (const cid of this.provisional.keys()) if (!wanted.has(cid)) this.provisional.delete(cid);
    for (const [cid, p] of wanted) {
      let d = this.provisional.get(cid);
      if (!d) {
        d = new Drawn(cid);
        d.provisional = d.own = d.predicted = true;
        this.provisional.set(cid, d);
      }
      d.owner = you ?? 0;
      d.x = p.x;
      d.z = p.z;
    }
  }
}
