// Message builders, parsers, the sequence counter and the close codes.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  CidCounter,
  ProtocolError,
  SeqCounter,
  chunkIds,
  deleteCmd,
  endMsg,
  entityRecord,
  isFinalClose,
  moveCmd,
  nudgeCmd,
  parseFrame,
  pingMsg,
  resyncMsg,
  spawnCmd,
} from "../../static/js/net/protocol.js";

test("builders produce the exact PROTOCOL.md shapes", () => {
  assert.deepEqual(spawnCmd(1, 0, 2.5, -3, "c1"), { type: "cmd", seq: 1, tick: 0, op: "spawn", at: [2.5, -3], cid: "c1" });
  assert.deepEqual(moveCmd(2, 3, [7, 8], 4, -5), { type: "cmd", seq: 2, tick: 3, op: "move", ids: [7, 8], to: [4, -5] });
  assert.deepEqual(nudgeCmd(3, 5, [7], 1, -1), { type: "cmd", seq: 3, tick: 5, op: "nudge", ids: [7], dir: [1, -1] });
  assert.deepEqual(deleteCmd(4, 6, [7]), { type: "cmd", seq: 4, tick: 6, op: "delete", ids: [7] });
  assert.deepEqual(pingMsg(123), { type: "ping", t: 123 });
  assert.deepEqual(resyncMsg(), { type: "resync" });
  assert.deepEqual(endMsg(), { type: "end" });
});

test("a nudge direction is reduced to integer components in -1..1", () => {
  assert.deepEqual(nudgeCmd(1, 0, [1], 5, -0.2).dir, [1, -1]);
  assert.deepEqual(nudgeCmd(1, 0, [1], 0, 0).dir, [0, 0]);
});

test("builders copy the id list", () => {
  const ids = [1, 2];
  const msg = moveCmd(1, 0, ids, 0, 0);
  ids.push(3);
  assert.deepEqual(msg.ids, [1, 2]);
});

test("seq rises by one and resumes above the server's ack", () => {
  const seq = new SeqCounter();
  assert.equal(seq.next(), 1);
  assert.equal(seq.next(), 2);
  seq.resume(10);
  assert.equal(seq.next(), 11);
  seq.resume(4); // an older ack never takes it back
  assert.equal(seq.next(), 12);
  seq.resume(null);
  assert.equal(seq.next(), 13);
});

test("ids are split into commands of at most 64", () => {
  const ids = Array.from({ length: 150 }, (_, i) => i + 1);
  const chunks = chunkIds(ids);
  assert.deepEqual(chunks.map((c) => c.length), [64, 64, 22]);
  assert.deepEqual(chunks.flat(), ids);
  assert.deepEqual(chunkIds([]), []);
});

test("cids are short and distinct", () => {
  const c = new CidCounter();
  const a = c.next();
  const b = c.next();
  assert.notEqual(a, b);
  assert.ok(a.length >= 1 && a.length <= 16);
});

test("parseFrame accepts server messages and refuses nonsense", () => {
  assert.equal(parseFrame('{"type":"pong","t":1,"st":2,"tick":3}').type, "pong");
  assert.equal(parseFrame(JSON.stringify({ type: "snap", tick: 4, full: false, ents: [], gone: [] })).tick, 4);
  assert.throws(() => parseFrame("not json"), ProtocolError);
  assert.throws(() => parseFrame("[1,2]"), ProtocolError);
  assert.throws(() => parseFrame('{"type":"mystery"}'), ProtocolError);
  assert.throws(() => parseFrame('{"type":"snap"}'), ProtocolError);
  assert.throws(() => parseFrame('{"type":"welcome"}'), ProtocolError);
  assert.throws(() => parseFrame('{"type":"snap","tick":1,"ents":{}}'), ProtocolError);
});

test("final close codes are the protocol's, and only those", () => {
  for (const code of [4001, 4401, 4403, 4404, 4409, 4410, 4429, 4430]) assert.ok(isFinalClose(code), code);
  for (const code of [1000, 1001, 1006, 1011, 4000, 4500]) assert.ok(!isFinalClose(code), code);
});

test("entity records pass through as objects and arrays become objects", () => {
  const obj = { id: 1, owner: 2, x: 1, z: 2, tx: 3, tz: 4 };
  assert.equal(entityRecord(obj), obj);
  assert.deepEqual(entityRecord([1, 2, -5, 1234, 0, 1, "c2"]), { id: 1, owner: 2, x: -0.05, z: 12.34, tx: 0, tz: 0.01, cid: "c2" });
});
