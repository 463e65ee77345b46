// The decoding path for both encodings: server frames as game.wire encodes them
// (tests/vectors/frames.json) decode to the same messages and the same doubles, a binary
// socket sends msgpack and reads it, and the network simulation recognises binary snaps.
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { decode, encode } from "@msgpack/msgpack";

import { wireEncoding } from "../../static/js/config.js";
import { Backoff } from "../../static/js/net/backoff.js";
import { Connection } from "../../static/js/net/connection.js";
import { MatchSession } from "../../static/js/net/match-session.js";
import { SimulatedSocket } from "../../static/js/net/net-sim.js";
import { ProtocolError, encodeFrame, entityRecord, frameBytes, isSnapFrame, parseFrame, withEncoding } from "../../static/js/net/protocol.js";
import { WorldMirror } from "../../static/js/net/world-mirror.js";
import { FakeSocket, FakeTimers, fakeEnv } from "./helpers.js";

const { frames } = JSON.parse(readFileSync(new URL("../vectors/frames.json", import.meta.url), "utf8"));
const binary = (f) => Uint8Array.from(Buffer.from(f.msgpack, "base64"));

function sameDoubles(a, b, path) {
  if (typeof a === "number") {
    assert.ok(Object.is(a, b), `${path}: ${a} !== ${b}`);
  } else if (Array.isArray(a)) {
    assert.equal(a.length, b.length, path);
    a.forEach((v, i) => sameDoubles(v, b[i], `${path}[${i}]`));
  } else if (a && typeof a === "object") {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), path);
    for (const k of Object.keys(a)) sameDoubles(a[k], b[k], `${path}.${k}`);
  } else {
    assert.equal(a, b, path);
  }
}

/** A message with its entity records as objects (the form the mirror reads). */
function normal(msg) {
  const snap = (s) => ({ ...s, ents: (s.ents ?? []).map((r) => ({ cid: null, ...entityRecord(r) })) });
  if (msg.type === "snap") return snap(msg);
  if (msg.type === "welcome") return { ...msg, snap: snap(msg.snap) };
  return msg;
}

test("the vectors cover welcome, full and delta snaps and the other messages", () => {
  assert.deepEqual(
    frames.map((f) => f.name),
    ["welcome", "delta", "full", "players", "pong", "ping", "reject", "correction", "ended"],
  );
});

for (const f of frames) {
  test(`${f.name}: the msgpack frame decodes to what the JSON frame says, bit for bit`, () => {
    const fromJson = parseFrame(f.json);
    const fromBin = parseFrame(binary(f));
    assert.equal(fromBin.type, fromJson.type);
    sameDoubles(normal(fromBin), normal(fromJson), f.name);
    // An ArrayBuffer (what a socket with binaryType "arraybuffer" hands over) decodes the same.
    const bytes = binary(f);
    sameDoubles(normal(parseFrame(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))), normal(fromJson), f.name);
    assert.equal(isSnapFrame(bytes), f.name === "delta" || f.name === "full");
    assert.equal(isSnapFrame(f.json), f.name === "delta" || f.name === "full");
  });
}

test("binary entity records are arrays of hundredths; the snap is smaller than its JSON", () => {
  const delta = frames.find((f) => f.name === "delta");
  const raw = decode(binary(delta));
  assert.ok(raw.ents.length > 0 && raw.ents.every((r) => Array.isArray(r) && r.slice(2, 6).every(Number.isInteger)));
  assert.ok(raw.gone.length === 1);
  const full = frames.find((f) => f.name === "full");
  assert.ok(binary(full).byteLength < frameBytes(full.json) * 0.75, `${binary(full).byteLength} vs ${frameBytes(full.json)}`);
});

test("a mirror fed the msgpack frames holds exactly what the JSON frames give it", () => {
  const states = ["json", "msgpack"].map((enc) => {
    const mirror = new WorldMirror();
    for (const name of ["welcome", "delta"]) {
      const f = frames.find((v) => v.name === name);
      const msg = parseFrame(enc === "json" ? f.json : binary(f));
      if (name === "welcome") mirror.applyWelcome(msg);
      else assert.equal(mirror.applySnap(msg), "applied");
    }
    return [...mirror.entities.values()].map((e) => [e.id, e.owner, e.x, e.z, e.tx, e.tz]).sort((a, b) => a[0] - b[0]);
  });
  assert.ok(states[0].length >= 9);
  sameDoubles(states[1], states[0], "mirror");
});

test("nonsense in a binary frame is a ProtocolError, as it is in a text frame", () => {
  assert.throws(() => parseFrame(new Uint8Array([0xc1])), ProtocolError); // never used in msgpack
  assert.throws(() => parseFrame(encode([1, 2])), ProtocolError);
  assert.throws(() => parseFrame(encode({ type: "mystery" })), ProtocolError);
  assert.throws(() => parseFrame(encode({ type: "snap", tick: 1, ents: {} })), ProtocolError);
  assert.throws(() => parseFrame(encode(new Uint8Array([1, 2]))), ProtocolError);
});

test("frames are counted in bytes on the wire (UTF-8 for text)", () => {
  assert.equal(frameBytes('{"a":1}'), 7);
  assert.equal(frameBytes("å☃🧊"), 2 + 3 + 4);
  assert.equal(frameBytes(new Uint8Array(5)), 5);
  assert.equal(frameBytes(new ArrayBuffer(6)), 6);
  const cmd = { type: "cmd", seq: 1, tick: 2, op: "move", ids: [7, 8], to: [1.25, -3] };
  assert.deepEqual(decode(encodeFrame(cmd, true)), cmd);
  assert.equal(encodeFrame(cmd, false), JSON.stringify(cmd));
});

test("msgpack is the page's default; ?enc=json keeps JSON", () => {
  assert.equal(wireEncoding(""), "msgpack");
  assert.equal(wireEncoding("?enc=msgpack"), "msgpack");
  assert.equal(wireEncoding("?lag=100&enc=json"), "json");
  assert.equal(withEncoding("ws://h/ws/match/x/", "msgpack"), "ws://h/ws/match/x/?enc=msgpack");
  assert.equal(withEncoding("ws://h/ws/match/x/?code=AB&enc=msgpack", "msgpack"), "ws://h/ws/match/x/?code=AB&enc=msgpack");
  assert.equal(withEncoding("ws://h/ws/match/x/?role=spectator&enc=msgpack", "json"), "ws://h/ws/match/x/?role=spectator");
});

let timers;
beforeEach(() => {
  FakeSocket.instances = [];
  timers = new FakeTimers();
});

test("a msgpack connection asks for enc=msgpack, sends binary frames and reads them", () => {
  const conn = new Connection("ws://test/ws/match/x/?code=Q", { env: fakeEnv(timers), backoff: new Backoff({ random: () => 0 }), encoding: "msgpack" });
  new MatchSession(conn, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval, now: () => timers.now } }).connect();
  const sock = FakeSocket.instances.at(-1);
  assert.equal(new URL(sock.url).searchParams.get("enc"), "msgpack");
  assert.equal(new URL(sock.url).searchParams.get("code"), "Q");
  assert.equal(sock.binaryType, "arraybuffer");
  sock.open();
  assert.ok(sock.rawSent.length > 0 && sock.rawSent.every((f) => f instanceof Uint8Array), "pings go out as msgpack");
  const welcome = frames.find((f) => f.name === "welcome");
  const got = [];
  conn.addEventListener("message", (ev) => got.push(ev.detail.type));
  const bytes = binary(welcome);
  sock.onmessage({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  sock.onmessage({ data: binary(frames.find((f) => f.name === "ping")).buffer });
  assert.deepEqual(got, ["welcome", "ping"]);
  assert.deepEqual(sock.sentOfType("pong"), [{ type: "pong", t: 1764400000123 }]);
  timers.advance(100);
  assert.ok(conn.snapBytesPerSec > 0 && conn.bytesInPerSec >= conn.snapBytesPerSec && conn.bytesOutPerSec > 0);
  // After a reconnect the new socket asks for msgpack too.
  sock.serverClose(1006);
  timers.advance(2000);
  assert.equal(new URL(FakeSocket.instances.at(-1).url).searchParams.get("enc"), "msgpack");
});

test("the network simulation drops binary snaps at its loss rate and passes the rest", () => {
  const inner = { readyState: 1, binaryType: "blob", send() {}, close() {} };
  const got = [];
  const sim = new SimulatedSocket(inner, { lag: 0, jitter: 0, loss: 0.5, seed: 1 }, { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, now: () => timers.now, random: () => 0 });
  sim.binaryType = "arraybuffer";
  assert.equal(inner.binaryType, "arraybuffer");
  sim.onmessage = (ev) => got.push(ev.data);
  const snap = binary(frames.find((f) => f.name === "delta"));
  const pong = binary(frames.find((f) => f.name === "pong"));
  for (let i = 0; i < 40; i++) inner.onmessage({ data: snap.buffer });
  for (let i = 0; i < 10; i++) inner.onmessage({ data: pong.buffer });
  timers.advance(10);
  assert.ok(sim.dropped > 5 && sim.dropped < 35, `dropped ${sim.dropped}`);
  assert.equal(got.length, 50 - sim.dropped);
});
