// The session: routing messages, resync requests, seq continuity, commands and their limits.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";

import { Backoff } from "../../static/js/net/backoff.js";
import { Connection } from "../../static/js/net/connection.js";
import { MatchSession } from "../../static/js/net/match-session.js";
import { FakeSocket, FakeTimers, delta, ent, fakeEnv, record, welcome } from "./helpers.js";

let timers;
let session;
let log;

function start({ isCreator = false } = {}) {
  const conn = new Connection("ws://test/", { env: fakeEnv(timers), backoff: new Backoff({ random: () => 0 }) });
  session = new MatchSession(conn, { isCreator, env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval } }).connect();
  log = record(session, "state", "welcome", "players", "notice", "ended", "pong");
  return conn;
}

const sock = () => FakeSocket.instances.at(-1);
const cmds = () => sock().sentOfType("cmd");

beforeEach(() => {
  FakeSocket.instances = [];
  timers = new FakeTimers();
});

test("commands are refused before the welcome", () => {
  start();
  sock().open();
  assert.equal(session.spawn(1, 2), null);
  assert.deepEqual(session.move([1], 0, 0), []);
  assert.equal(cmds().length, 0);
});

test("after the welcome, seq continues from the server's ack", () => {
  start();
  sock().open();
  sock().receive(welcome({ ack: 41, ents: [ent(1, 1, 0, 0)] }));
  const spawned = session.spawn(3.5, -2);
  assert.equal(spawned.seq, 42);
  session.move([1], 10, 10);
  session.nudge([1], 1, 0);
  session.delete([1]);
  assert.deepEqual(cmds().map((c) => [c.seq, c.op]), [[42, "spawn"], [43, "move"], [44, "nudge"], [45, "delete"]]);
  assert.deepEqual(cmds()[0].at, [3.5, -2]);
  assert.equal(cmds()[0].cid, spawned.cid);
});

test("seq continues across a reconnect from max(local seq, welcome.ack)", () => {
  start();
  sock().open();
  sock().receive(welcome({ ack: 5 }));
  session.spawn(0, 0); // 6
  session.spawn(0, 0); // 7
  sock().serverClose(1006);
  timers.advance(500);
  sock().open();
  sock().receive(welcome({ ack: 6 })); // 7 was lost in flight
  assert.equal(session.spawn(0, 0).seq, 8);
  sock().serverClose(1006);
  timers.advance(1000);
  sock().open();
  sock().receive(welcome({ ack: 20 })); // e.g. another tab of ours went on
  assert.equal(session.spawn(0, 0).seq, 21);
});

test("commands carry the tick estimate", () => {
  start();
  sock().open();
  sock().receive(welcome({ tick: 30 }));
  timers.advance(350);
  session.spawn(0, 0);
  assert.equal(cmds()[0].tick, 33);
});

test("a move of many cubes is split into commands of 64 ids", () => {
  start();
  sock().open();
  sock().receive(welcome());
  const ids = Array.from({ length: 100 }, (_, i) => i + 1);
  const seqs = session.move(ids, 1, 1);
  assert.deepEqual(seqs, [1, 2]);
  assert.deepEqual(cmds().map((c) => c.ids.length), [64, 36]);
});

test("spectators send no commands", () => {
  start();
  sock().open();
  sock().receive(welcome({ you: null }));
  assert.equal(session.isPlayer, false);
  assert.equal(session.spawn(0, 0), null);
  assert.equal(cmds().length, 0);
});

test("a gap sends resync, repeats it while waiting, and stops after the full snap", () => {
  start();
  sock().open();
  sock().receive(welcome({ tick: 10 }));
  sock().receive(delta(11));
  sock().receive(delta(13));
  assert.equal(sock().sentOfType("resync").length, 1);
  sock().receive(delta(14));
  assert.equal(sock().sentOfType("resync").length, 1); // no storm per snap
  timers.advance(1000);
  assert.equal(sock().sentOfType("resync").length, 2);
  sock().receive({ type: "snap", tick: 15, t: 0, full: true, acks: {}, ents: [], gone: [] });
  timers.advance(5000);
  assert.equal(sock().sentOfType("resync").length, 2);
});

test("rejects and errors become notices", () => {
  start();
  sock().open();
  sock().receive(welcome());
  sock().receive({ type: "reject", seq: 3, code: "spawn_cooldown", message: "slow", retry_ms: 200 });
  sock().receive({ type: "error", code: "bad_json", message: "nope" });
  const notices = log.filter((e) => e.type === "notice").map((e) => e.detail);
  assert.deepEqual(notices[0], { kind: "reject", code: "spawn_cooldown", message: "slow", seq: 3, retryMs: 200 });
  assert.deepEqual(notices[1], { kind: "error", code: "bad_json", message: "nope", seq: null });
});

test("players lists are kept and announced", () => {
  start();
  sock().open();
  const players = [{ id: 1, nickname: "alice", color: "#e5533d", online: true }];
  sock().receive(welcome({ players }));
  assert.deepEqual(session.players, players);
  sock().receive({ type: "players", players: [...players, { id: 2, nickname: "bob", color: "#3d8be5", online: false }] });
  assert.equal(session.players.length, 2);
  assert.equal(log.filter((e) => e.type === "players").length, 2);
});

test("ended stops commands and the 4410 close that follows does not reconnect", () => {
  start();
  sock().open();
  sock().receive(welcome());
  sock().receive({ type: "ended", reason: "the creator ended the match" });
  assert.deepEqual(log.find((e) => e.type === "ended").detail, { reason: "the creator ended the match" });
  assert.equal(session.spawn(0, 0), null);
  sock().serverClose(4410);
  timers.advance(60000);
  assert.equal(FakeSocket.instances.length, 1);
});

test("a bare 4410 close also ends the match", () => {
  start();
  sock().open();
  sock().receive(welcome());
  sock().serverClose(4410);
  assert.equal(log.filter((e) => e.type === "ended").length, 1);
});

test("only the creator can send end", () => {
  start();
  sock().open();
  sock().receive(welcome());
  assert.equal(session.end(), false);
  FakeSocket.instances = [];
  start({ isCreator: true });
  sock().open();
  sock().receive(welcome());
  assert.equal(session.end(), true);
  assert.deepEqual(sock().sentOfType("end"), [{ type: "end" }]);
});

test("a correction makes the listed cubes jump", () => {
  start();
  sock().open();
  sock().receive(welcome({ tick: 1, ents: [ent(4, 1, 0, 0, 9, 0)] }));
  sock().receive(delta(2));
  sock().receive({ type: "correction", ids: [4], reason: "overlap" });
  sock().receive(delta(3, [ent(4, 1, -9, -9)]));
  assert.equal(session.mirror.get(4).history.count, 1);
});

test("commands stop while disconnected and resume after the next welcome", () => {
  start();
  sock().open();
  sock().receive(welcome());
  sock().serverClose(1006);
  assert.equal(session.canCommand, false);
  timers.advance(500);
  sock().open();
  assert.equal(session.canCommand, false); // open, but no welcome yet
  sock().receive(welcome());
  assert.equal(session.canCommand, true);
});
