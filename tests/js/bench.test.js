// The offline benchmark server speaks the protocol well enough that the mirror, stepping
// the cubes it does not list, stays identical to the server's own world.
import { test } from "node:test";
import assert from "node:assert/strict";

import { LocalServer } from "../../static/js/bench/local-server.js";
import { formationSlots } from "../../static/js/sim/formation.js";
import { MatchSession } from "../../static/js/net/match-session.js";
import { FakeTimers } from "./helpers.js";

function run(count, ticks, act = () => {}) {
  const timers = new FakeTimers();
  const server = new LocalServer(count, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval, now: () => timers.now } });
  const session = new MatchSession(server, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval } }).connect();
  for (let t = 0; t < ticks; t++) {
    act(session, t);
    timers.advance(100);
  }
  return { server, session };
}

function assertSame(server, mirror) {
  assert.equal(mirror.tick, server.tick);
  assert.equal(mirror.entities.size, server.entities.size);
  for (const e of server.entities.values()) {
    const m = mirror.get(e.id);
    assert.deepEqual([m.owner, m.x, m.z, m.tx, m.tz], [e.owner, e.x, e.z, e.tx, e.tz], `entity ${e.id}`);
  }
}

test("500 wandering cubes: the mirror matches the server after 200 ticks of deltas", () => {
  const { server, session } = run(500, 200);
  assert.equal(session.mirror.stats.gaps, 0);
  assertSame(server, session.mirror);
});

test("the benchmark server obeys spawn, move, nudge and delete", () => {
  const { server, session } = run(30, 60, (s, t) => {
    const own = [...s.mirror.entities.values()].filter((e) => e.owner === 1).map((e) => e.id);
    if (t === 2) s.spawn(1, 1);
    if (t === 5) s.move(own.slice(0, 3), 10, 10);
    if (t === 8) s.nudge(own.slice(3, 4), 1, 0);
    if (t === 10) s.delete(own.slice(4, 6));
  });
  assert.equal(server.entities.size, 30 + 1 - 2);
  assert.equal(session.mirror.ack, 4);
  assertSame(server, session.mirror);
});

test("the benchmark server sends a formation move's cubes to their slots, as the server does", () => {
  let ids = null;
  const { server, session } = run(30, 6, (s, t) => {
    if (t === 3) {
      ids = [...s.mirror.entities.values()].filter((e) => e.owner === 1).map((e) => e.id).slice(0, 5).reverse();
      s.move(ids, -20, 15, "line", 6);
    }
  });
  const slots = formationSlots("line", 6, [-20, 15], ids.length, server.arena[0], server.arena[1]);
  assert.deepEqual(
    ids.map((id) => [server.entities.get(id).tx, server.entities.get(id).tz]),
    slots,
  );
  assertSame(server, session.mirror);
});
