/**
 * PROTOCOL.md v1 as data: builders for what the client sends, light parsers for what the
 * server sends, the command sequence counter, and the close codes. Pure (node imports it).
 */

import { MAX_IDS_PER_COMMAND } from "../tunables.js";

export const PROTOCOL_VERSION = 1;

/** Close codes after which the client must not reconnect, with what to tell the player. */
export const FINAL_CLOSES = Object.freeze({
  4001: "This match was opened in another tab.",
  4401: "No player session: join from the lobby first.",
  4403: "The private match code was refused.",
  4404: "There is no such match.",
  4409: "The match is full.",
  4410: "The match has ended.",
  4429: "You were disconnected for sending too many messages.",
  4430: "You were removed from the match by an operator.",
});

export const CLOSE_REPLACED = 4001;
export const CLOSE_ENDED = 4410;

export function isFinalClose(code) {
  return Object.prototype.hasOwnProperty.call(FINAL_CLOSES, code);
}

/** The next command number; continues across reconnects from max(local, welcome.ack). */
export class SeqCounter {
  constructor(start = 0) {
    this.last = start;
  }

  next() {
    this.last += 1;
    return this.last;
  }

  /** After a welcome: never reuse a number the server has processed. */
  resume(ack) {
    if (Number.isInteger(ack) && ack > this.last) this.last = ack;
    return this.last;
  }
}

function point(x, z) {
  return [x, z];
}

export function spawnCmd(seq, tick, x, z, cid) {
  return { type: "cmd", seq, tick, op: "spawn", at: point(x, z), cid };
}

export function moveCmd(seq, tick, ids, x, z) {
  return { type: "cmd", seq, tick, op: "move", ids: ids.slice(), to: point(x, z) };
}

export function nudgeCmd(seq, tick, ids, dx, dz) {
  return { type: "cmd", seq, tick, op: "nudge", ids: ids.slice(), dir: [sign(dx), sign(dz)] };
}

export function deleteCmd(seq, tick, ids) {
  return { type: "cmd", seq, tick, op: "delete", ids: ids.slice() };
}

export function pingMsg(t) {
  return { type: "ping", t };
}

/** The answer to a server ping: the same `t` back. */
export function pongMsg(t) {
  return { type: "pong", t };
}

export function resyncMsg() {
  return { type: "resync" };
}

export function endMsg() {
  return { type: "end" };
}

function sign(v) {
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/** Split ids into lists the server accepts in one command. */
export function chunkIds(ids, size = MAX_IDS_PER_COMMAND) {
  const out = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** The provisional ids of spawns: "c1", "c2", ... (1-16 chars). */
export class CidCounter {
  constructor(prefix = "c") {
    this.prefix = prefix;
    this.n = 0;
  }

  next() {
    this.n = (this.n % 999999999) + 1;
    return `${this.prefix}${this.n}`;
  }
}

// -- parsing ---------------------------------------------------------------------

export class ProtocolError extends Error {}

const SERVER_TYPES = new Set(["welcome", "snap", "players", "reject", "error", "correction", "ping", "pong", "ended"]);

/** Decode one text frame into a message object; throws ProtocolError on nonsense. */
export function parseFrame(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new ProtocolError("frame is not JSON");
  }
  if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
    throw new ProtocolError("frame is not an object");
  }
  if (!SERVER_TYPES.has(msg.type)) throw new ProtocolError(`unknown message type ${msg.type}`);
  if (msg.type === "snap") checkSnap(msg);
  if (msg.type === "welcome") {
    if (!msg.snap || typeof msg.snap !== "object") throw new ProtocolError("welcome without snap");
    checkSnap(msg.snap);
  }
  return msg;
}

function checkSnap(snap) {
  if (!Number.isInteger(snap.tick)) throw new ProtocolError("snap without tick");
  if (snap.ents !== undefined && !Array.isArray(snap.ents)) throw new ProtocolError("snap.ents is not a list");
  if (snap.gone !== undefined && !Array.isArray(snap.gone)) throw new ProtocolError("snap.gone is not a list");
}

/** An entity record in either encoding (object, or the msgpack array form) as an object. */
export function entityRecord(rec) {
  if (Array.isArray(rec)) {
    const [id, owner, x, z, tx, tz, cid] = rec;
    return { id, owner, x: x / 100, z: z / 100, tx: tx / 100, tz: tz / 100, cid: cid ?? null };
  }
  return rec;
}
