/**
 * The replayed world as the replay socket streams it (game/edge/replay.py): the live snapshot
 * format, so the same rule as the live client: a full snap replaces everything, a delta lists
 * only what the shared step cannot predict, and every other cube takes one step. Pure (no DOM).
 */

import { stepEntity, stepLength } from "../sim/step.js";

export class ReplayWorld {
  constructor() {
    this.entities = new Map(); // id -> {id, owner, x, z, tx, tz}
    this.tick = null;
    this.stepLen = 0.5;
  }

  configure(speed, tickRate) {
    this.stepLen = stepLength(speed, tickRate);
  }

  /** Apply one snap; false if a delta does not follow the last tick (the next full snap fixes it). */
  apply(snap) {
    if (snap.full) {
      this.entities.clear();
    } else {
      if (this.tick === null || snap.tick !== this.tick + 1) return false;
      for (const e of this.entities.values()) stepEntity(e, this.stepLen);
      for (const id of snap.gone) this.entities.delete(id);
    }
    for (const r of snap.ents) {
      this.entities.set(r.id, { id: r.id, owner: r.owner, x: r.x, z: r.z, tx: r.tx, tz: r.tz });
    }
    this.tick = snap.tick;
    return true;
  }
}
