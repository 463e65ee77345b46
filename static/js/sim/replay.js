/**
 * The arbiter's handling of one player's moves, nudges and deletes, replayed on the client
 * (Lance style: the server's state, then the commands it has not acknowledged yet).
 *
 * From the authoritative state at tick `base`, each pending command is processed in the
 * tick the arbiter is expected to process it in, exactly as game/sim/match.py does: applied
 * as of max(claimed, now - W, previous), the cube put back where the arbiter's history has
 * it at that tick (the snaps up to `base`, this replay's own ticks after it, as earlier
 * commands rewrote them), retargeted and fast-forwarded. That gives `serverAt`: what each snap will say. What the player sees is
 * `positionAt`, the path each cube follows once every pending command is in: from the tick a
 * command applies as of, not the later tick the arbiter gets to it. Pure.
 */

import { moveTargets } from "./formation.js";
import { appliedAsOf, steerEntity } from "./lag-comp.js";
import { stepEntity } from "./step.js";

const _then = { x: 0, z: 0 };
const _e = { x: 0, z: 0, tx: 0, tz: 0 };

/** The replayed ticks base..until of some entities; ticks past `until` are stepped on demand. */
export class Timeline {
  constructor(base, until, stepLen) {
    this.base = base;
    this.until = until;
    this.stepLen = stepLen;
    this.server = new Map(); // id -> Float64Array: [x, z, tx, tz] per tick, NaN where absent
    this.drawn = new Map(); // id -> Float64Array: [x, z] per tick on the eventual path
  }

  has(id) {
    return this.server.has(id);
  }

  /** The replayed server state of `id` at integer `tick` into out {x, z, tx, tz}; false if absent. */
  serverAt(id, tick, out) {
    const s = this.server.get(id);
    const i = tick - this.base;
    if (!s || i < 0 || i > this.until - this.base || Number.isNaN(s[i * 4])) return false;
    out.x = s[i * 4];
    out.z = s[i * 4 + 1];
    out.tx = s[i * 4 + 2];
    out.tz = s[i * 4 + 3];
    return true;
  }

  /** Where `id` is on its eventual path at fractional `tick` (>= base); false if deleted. */
  positionAt(id, tick, out) {
    const d = this.drawn.get(id);
    if (!d) return false;
    if (tick < this.base) tick = this.base;
    const k = Math.floor(tick);
    const f = tick - k;
    const last = this.until - this.base;
    if (k < this.until) {
      const i = k - this.base;
      const x0 = d[i * 2];
      if (Number.isNaN(x0)) return false;
      const x1 = d[i * 2 + 2];
      if (Number.isNaN(x1)) {
        out.x = x0;
        out.z = d[i * 2 + 1];
        return true;
      }
      out.x = x0 + (x1 - x0) * f;
      out.z = d[i * 2 + 1] + (d[i * 2 + 3] - d[i * 2 + 1]) * f;
      return true;
    }
    // Past the replayed ticks: every command is in, so the cube just follows the step.
    const s = this.server.get(id);
    if (Number.isNaN(d[last * 2])) return false;
    _e.x = d[last * 2];
    _e.z = d[last * 2 + 1];
    _e.tx = s[last * 4 + 2];
    _e.tz = s[last * 4 + 3];
    for (let n = k - this.until; n > 0; n--) stepEntity(_e, this.stepLen);
    const x0 = _e.x;
    const z0 = _e.z;
    if (f > 0) stepEntity(_e, this.stepLen);
    out.x = x0 + (_e.x - x0) * f;
    out.z = z0 + (_e.z - z0) * f;
    return true;
  }
}

/**
 * Replay `commands` ([{seq, op, ids, point, form, facing, asOf, proc}] in seq order: `asOf` the tick the
 * arbiter is expected to apply it as of, `proc` the tick whose snap will acknowledge it) on
 * `entities` ([{id, x, z, tx, tz}] at tick `base`). `past(id, tick, out)` gives the
 * authoritative position at a tick <= base (false if unknown); `applied` is the player's
 * last applied tick. Returns {timeline, applied, outcomes}.
 */
export function replay({ base, entities, past, commands, applied = 0, window, stepLen, width, depth, until = base, maxUntil = Infinity, historyFrom = 1 }) {
  const procs = [];
  let proc = base + 1;
  for (const c of commands) {
    proc = Math.max(proc, c.proc ?? base + 1); // one connection: processed in the order sent
    procs.push(proc);
  }
  until = Math.min(maxUntil, Math.max(until, base + 1, procs.length ? procs[procs.length - 1] : base));
  const n = until - base + 1;
  const timeline = new Timeline(base, until, stepLen);
  const states = new Map();
  for (const e of entities) {
    states.set(e.id, { x: e.x, z: e.z, tx: e.tx, tz: e.tz });
    timeline.server.set(e.id, new Float64Array(n * 4).fill(NaN));
  }
  const record = (i) => {
    for (const [id, s] of states) {
      const row = timeline.server.get(id);
      row[i * 4] = s.x;
      row[i * 4 + 1] = s.z;
      row[i * 4 + 2] = s.tx;
      row[i * 4 + 3] = s.tz;
    }
  };
  // The arbiter's history as the replayed commands rewrite it: id -> Map(tick -> [x, z]).
  const rewritten = new Map();
  const lookup = (id, tick) => {
    const again = rewritten.get(id)?.get(tick);
    if (again) {
      _then.x = again[0];
      _then.z = again[1];
      return _then;
    }
    if (tick <= base) return past(id, tick, _then) ? _then : null;
    const row = timeline.server.get(id);
    const i = tick - base;
    if (Number.isNaN(row[i * 4])) return null;
    _then.x = row[i * 4];
    _then.z = row[i * 4 + 1];
    return _then;
  };
  const paths = new Map(); // id -> [{from, x, z, tx, tz}] in processing order
  const outcomes = [];
  const process = (c, k) => {
    if (c.op === "spawn") return outcomes.push({ seq: c.seq, done: true, applied: null });
    if (!c.ids.every((id) => states.has(id))) return outcomes.push({ seq: c.seq, done: false, applied: null }); // the arbiter refuses it
    if (c.op === "delete") {
      for (const id of c.ids) states.delete(id);
      return outcomes.push({ seq: c.seq, done: true, applied: null });
    }
    const a = appliedAsOf(k, c.asOf, applied, window, historyFrom);
    applied = a;
    const slots = c.form ? moveTargets(c, width, depth) : null; // a formation: one target per id
    for (const id of c.ids) {
      const ent = states.get(id);
      const then = a < k ? lookup(id, a) : null;
      const from = then ? a : k;
      const x = then ? then.x : ent.x;
      const z = then ? then.z : ent.z;
      let mine = rewritten.get(id);
      if (then && !mine) rewritten.set(id, (mine = new Map()));
      steerEntity(ent, c.op, slots ? slots.get(id) : c.point, then, k - a, stepLen, width, depth, (i, px, pz) => mine.set(a + i, [px, pz]));
      let list = paths.get(id);
      if (!list) paths.set(id, (list = []));
      list.push({ from, x, z, tx: ent.tx, tz: ent.tz });
    }
    return outcomes.push({ seq: c.seq, done: true, applied: a });
  };

  record(0);
  let ci = 0;
  for (let k = base; k < until; k++) {
    while (ci < commands.length && procs[ci] === k + 1) process(commands[ci++], k);
    for (const s of states.values()) stepEntity(s, stepLen);
    record(k + 1 - base);
  }
  for (; ci < commands.length; ci++) outcomes.push({ seq: commands[ci].seq, done: false, applied: null, later: true });

  for (const [id, row] of timeline.server) {
    const drawn = new Float64Array(n * 2);
    const list = paths.get(id) ?? [];
    let active = -1;
    const p = { x: 0, z: 0, tx: 0, tz: 0 };
    for (let i = 0; i < n; i++) {
      const k = base + i;
      if (Number.isNaN(row[i * 4])) {
        drawn[i * 2] = drawn[i * 2 + 1] = NaN;
        continue;
      }
      // The command that decides the cube's eventual position at k: the last one processed
      // among those applying as of k or earlier.
      let best = -1;
      for (let j = list.length - 1; j >= 0; j--) {
        if (list[j].from <= k) {
          best = j;
          break;
        }
      }
      if (best < 0) {
        drawn[i * 2] = row[i * 4];
        drawn[i * 2 + 1] = row[i * 4 + 1];
        continue;
      }
      if (best !== active) {
        active = best;
        const path = list[best];
        p.x = path.x;
        p.z = path.z;
        p.tx = path.tx;
        p.tz = path.tz;
        for (let s = path.from; s < k; s++) stepEntity(p, stepLen);
      } else {
        stepEntity(p, stepLen);
      }
      drawn[i * 2] = p.x;
      drawn[i * 2 + 1] = p.z;
    }
    timeline.drawn.set(id, drawn);
  }
  return { timeline, applied, outcomes };
}
