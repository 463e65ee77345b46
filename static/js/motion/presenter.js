/**
 * Where each cube is drawn this frame. Listens to the world mirror's events, runs the
 * playback clock, and keeps one Drawn record per entity (no allocation per frame).
 * Other players' cubes are interpolated; own cubes go through OwnMotion. Pure (no three).
 */

import { OwnMotion } from "./own-motion.js";
import { PlaybackClock } from "./playback-clock.js";

export class Drawn {
  constructor(id) {
    this.id = id;
    this.x = 0;
    this.z = 0;
    this.owner = 0;
    this.own = false;
  }
}

export class Presenter {
  constructor(mirror, { clock = new PlaybackClock(mirror.tickRate), ownMotion = new OwnMotion(), now = () => performance.now() } = {}) {
    this.mirror = mirror;
    this.clock = clock;
    this.ownMotion = ownMotion;
    this.now = now;
    this.drawn = new Map();
    this.tickRate = mirror.tickRate;
    this.renderTick = null;
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
    for (const id of added) {
      const ent = this.mirror.get(id);
      if (!ent) continue;
      const d = new Drawn(id);
      d.x = ent.x;
      d.z = ent.z;
      this.drawn.set(id, d);
    }
  }

  reset({ rewound }) {
    if (rewound) this.clock.reset();
  }

  /** Recompute every drawn position for local time `now`; returns the tick drawn. */
  update(now) {
    const renderTick = this.clock.renderTick(now);
    this.renderTick = renderTick;
    const you = this.mirror.you;
    for (const ent of this.mirror.entities.values()) {
      let d = this.drawn.get(ent.id);
      if (!d) {
        d = new Drawn(ent.id);
        this.drawn.set(ent.id, d);
      }
      d.owner = ent.owner;
      d.own = you !== null && ent.owner === you;
      if (d.own) this.ownMotion.place(ent, renderTick, d);
      else if (renderTick === null || !ent.history.sample(renderTick, d)) {
        d.x = ent.x;
        d.z = ent.z;
      }
    }
    return renderTick;
  }
}
