// The client's replay of its own commands agrees bit for bit with the arbiter's lag
// compensation (tests/vectors/prediction.json, written by tests/vectors/generate.py from MatchState).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { appliedAsOf, lagWindow } from "../../static/js/sim/lag-comp.js";
import { replay } from "../../static/js/sim/replay.js";
import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { PendingCommands } from "../../static/js/net/pending.js";
import { OwnMotion } from "../../static/js/motion/own-motion.js";
import { stepLength } from "../../static/js/sim/step.js";

const vectors = JSON.parse(readFileSync(fileURLToPath(new URL("../vectors/prediction.json", import.meta.url)), "utf8"));

/** The authoritative state of every tick, by tick then id: {x, z, tx, tz, owner}. */
function states(c) {
  return c.snaps.map((s) => new Map(s.state.map(([id, owner, x, z, tx, tz]) => [id, { id, owner, x, z, tx, tz }])));
}

function same(a, b) {
  return Object.is(a, b);
}

function entry(c) {
  return { seq: c.seq, op: c.op, ids: c.ids, point: c.point, form: c.form ?? null, facing: c.facing ?? 0, asOf: c.claimed, claim: c.claimed, proc: c.proc, cid: c.cid };
}

test("the vector file has the cases the generator promises", () => {
  assert.ok(vectors.cases.length >= 4);
  const codes = new Set(vectors.cases.flatMap((c) => c.commands.map((x) => x.reject)));
  for (const code of ["not_owner", "unknown_entity", "cube_cap", "spawn_cooldown", "stale_seq"]) assert.ok(codes.has(code), code);
  const backdated = vectors.cases.flatMap((c) => c.commands.filter((x) => x.applied !== null && x.applied < x.at));
  assert.ok(backdated.length > 100);
  assert.ok(vectors.cases.flatMap((c) => c.snaps.flatMap((s) => s.rewritten)).length > 20);
  const formations = vectors.cases.flatMap((c) => c.commands.filter((x) => x.form && x.applied !== null));
  assert.ok(formations.length > 30 && formations.some((x) => x.applied < x.at), "formation moves, backdated too");
});

for (const c of vectors.cases) {
  const ticks = states(c);
  const W = lagWindow(c.tick_rate);
  const s = stepLength(c.speed, c.tick_rate);
  const [width, depth] = c.arena;

  test(`${c.name}: the window and every applied tick match the arbiter's`, () => {
    assert.equal(W, c.window);
    for (const p of c.players) {
      let previous = 0;
      for (const cmd of c.commands.filter((x) => x.player === p && x.applied !== null)) {
        const a = appliedAsOf(cmd.proc - 1, cmd.claimed, previous, W);
        assert.equal(a, cmd.applied, `player ${p} seq ${cmd.seq}`);
        previous = a;
      }
    }
  });

  test(`${c.name}: the mirror rebuilds every tick's state from the deltas`, () => {
    const m = new WorldMirror();
    m.applyWelcome({ type: "welcome", you: 1, role: "player", tick_rate: c.tick_rate, speed: c.speed, arena: c.arena, ack: 0, snap: { tick: 0, full: true, ents: [], acks: {} } });
    for (const snap of c.snaps.slice(1)) {
      const ents = snap.ents.map(([id, owner, x, z, tx, tz, cid]) => ({ id, owner, x, z, tx, tz, cid }));
      assert.equal(m.applySnap({ type: "snap", tick: snap.tick, full: false, acks: snap.acks, ents, gone: snap.gone }), "applied");
      const want = ticks[snap.tick];
      assert.equal(m.entities.size, want.size);
      for (const [id, e] of want) {
        const got = m.get(id);
        for (const f of ["x", "z", "tx", "tz"]) assert.ok(same(got[f], e[f]), `tick ${snap.tick} entity ${id} ${f}`);
      }
    }
  });

  test(`${c.name}: from every snap, replaying the unacknowledged commands gives the snaps to come`, () => {
    const last = ticks.length - 1;
    let checked = 0;
    for (const p of c.players) {
      const mine = c.commands.filter((x) => x.player === p);
      for (let T = 0; T < last; T++) {
        const view = mine.filter((x) => x.client && x.issued <= T && (x.proc === null || x.proc > T) && x.reject !== "stale_seq");
        // Commands the client had not sent yet (or never would) decide the future from their tick on.
        let horizon = Math.min(last, T + 40);
        for (const x of mine) if (!view.includes(x) && x.proc !== null && x.proc > T) horizon = Math.min(horizon, x.proc - 1);
        if (horizon <= T) continue;
        const own = [...ticks[T].values()].filter((e) => e.owner === p);
        let previous = 0;
        for (const x of mine) if (x.applied !== null && x.proc <= T) previous = x.applied;
        // What the client knows at T: the snaps, and the history the arbiter rewrote by then.
        const again = new Map(c.snaps[T].rewritten.map(([t, id, x, z]) => [`${t}:${id}`, [x, z]]));
        const past = (id, tick, out) => {
          const r = again.get(`${tick}:${id}`);
          if (r) {
            [out.x, out.z] = r;
            return true;
          }
          const e = ticks[tick]?.get(id);
          if (!e) return false;
          out.x = e.x;
          out.z = e.z;
          return true;
        };
        const { timeline } = replay({ base: T, entities: own, past, commands: view.map(entry), applied: previous, window: W, stepLen: s, width, depth, until: horizon });
        const maxProc = Math.max(T, ...view.map((x) => x.proc));
        const got = { x: 0, z: 0, tx: 0, tz: 0 };
        for (let k = T + 1; k <= horizon; k++) {
          for (const e of own) {
            const want = ticks[k].get(e.id);
            const present = timeline.serverAt(e.id, k, got);
            assert.equal(present, !!want, `${p}@${T}: entity ${e.id} at ${k} exists`);
            if (!want) continue;
            for (const f of ["x", "z", "tx", "tz"]) assert.ok(same(got[f], want[f]), `${p}@${T}: entity ${e.id} ${f} at ${k}: ${got[f]} != ${want[f]}`);
            if (k >= maxProc) {
              // Once every pending command is in, what was drawn is what the snaps say.
              assert.ok(timeline.positionAt(e.id, k, got));
              assert.ok(same(got.x, want.x) && same(got.z, want.z), `${p}@${T}: drawn ${e.id} at ${k}`);
            }
            checked += 1;
          }
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} comparisons`);
  });

  test(`${c.name}: a client fed the snaps in order reconciles without a single correction`, () => {
    let rewrites = 0;
    for (const p of c.players) {
      const mine = c.commands.filter((x) => x.player === p && x.client && x.reject !== "stale_seq");
      if (c.commands.some((x) => x.player === p && !x.client && x.applied !== null)) continue; // a hostile client surprises itself
      const mirror = new WorldMirror();
      mirror.applyWelcome({ type: "welcome", you: p, role: "player", tick_rate: c.tick_rate, speed: c.speed, arena: c.arena, ack: 0, snap: { tick: 0, full: true, ents: [], acks: {} } });
      const pending = new PendingCommands({ window: W });
      let present = 0;
      const motion = new OwnMotion(mirror, pending, { present: () => present, procOf: (e) => e.trueProc });
      motion.reset();
      const out = { x: 0, z: 0 };
      for (const snap of c.snaps.slice(1)) {
        const T = snap.tick;
        present = T - 1 + 0.5;
        for (const x of mine.filter((y) => y.issued === T - 1)) {
          pending.add({ ...entry(x), trueProc: x.proc, sentAt: 0 });
          motion.commandSent(pending.list.at(-1));
        }
        for (const x of mine.filter((y) => y.reject && y.rejected_at !== null && (y.rejected_at === T - 1 || (y.rejected_at === T && y.at === T - 1)))) {
          const gone = pending.remove(x.seq);
          if (gone) motion.rejected(gone);
        }
        const ents = snap.ents.map(([id, owner, x, z, tx, tz, cid]) => ({ id, owner, x, z, tx, tz, cid }));
        mirror.applySnap({ type: "snap", tick: T, full: false, acks: snap.acks, ents, gone: snap.gone });
        motion.reconcile(pending.acknowledge(mirror.ack, T, true));
        assert.equal(motion.stats.corrections, 0, `player ${p} tick ${T}: corrected by ${motion.stats.largest}`);
        // The mirror's history of own cubes is the arbiter's, rewritten where it rewrote it.
        for (const [t, id, x, z] of snap.rewritten) {
          if (ticks[T].get(id)?.owner !== p) continue;
          assert.ok(mirror.get(id).history.at(t, out), `player ${p} tick ${T}: history of ${id} at ${t}`);
          assert.ok(same(out.x, x) && same(out.z, z), `player ${p} tick ${T}: ${id} at ${t} is ${out.x},${out.z} not ${x},${z}`);
          rewrites += 1;
        }
        // The cubes are drawn where the arbiter will have them, as far as the script is known.
        for (const e of ticks[T].values()) {
          if (e.owner !== p || motion.hidden.has(e.id)) continue;
          assert.ok(motion.timeline.positionAt(e.id, T, out));
        }
      }
      assert.equal(pending.size, 0);
      assert.equal(pending.applied, Math.max(0, ...mine.filter((x) => x.applied !== null).map((x) => x.applied)));
      // At rest at the end: drawn exactly where the server has them.
      for (const e of ticks.at(-1).values()) {
        if (e.owner !== p) continue;
        assert.ok(motion.timeline.positionAt(e.id, present, out));
        assert.ok(same(out.x, e.x) && same(out.z, e.z), `player ${p} cube ${e.id} ends at ${out.x},${out.z} not ${e.x},${e.z}`);
      }
    }
    if (c.name === "backdating-10hz") assert.ok(rewrites > 0, "no rewritten history checked");
  });
}
