/**
 * PROTOCOL.md v1 as data: builders for what the client sends, light parsers for what the
 * server sends in either encoding (JSON text frames, or msgpack binary frames with
 * `enc=msgpack`), the command sequence counter, and the close codes. Pure (node imports it;
 * the page's import map serves @msgpack/msgpack from the lock file's copy).
 */

import { Decoder, Encoder } from "@msgpack/msgpack";

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

/** A move; with `form` ("box" or "line") and `facing` (0..7) a formation move (sim/formation.js). */
export function moveCmd(seq, tick, ids, x, z, form = null, facing = 0) {
  const msg = { type: "cmd", seq, tick, op: "move", ids: ids.slice(), to: point(x, z) };
  if (form) {
    msg.form = form;
    msg.facing = facing;
  }
  return msg;
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

/** A line for the match chat (docs/protocol.md "Chat"; hud/chat.js checks it first). */
export function chatMsg(text) {
  return { type: "chat", text };
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

const SERVER_TYPES = new Set(["welcome", "snap", "players", "reject", "error", "correction", "ping", "pong", "ended", "chat"]);

/** The socket encodings the server speaks: JSON text frames, msgpack binary frames. */
export const ENCODINGS = Object.freeze(["json", "msgpack"]);

const _decoder = new Decoder();
const _encoder = new Encoder();

/**
 * Decode one frame into a message object: a string is JSON, anything else (ArrayBuffer,
 * Uint8Array) msgpack. Throws ProtocolError on nonsense.
 */
export function parseFrame(data) {
  let msg;
  if (typeof data === "string") {
    try {
      msg = JSON.parse(data);
    } catch {
      throw new ProtocolError("frame is not JSON");
    }
  } else {
    try {
      msg = _decoder.decode(data);
    } catch {
      throw new ProtocolError("frame is not msgpack");
    }
  }
  return checkMessage(msg);
}

/** A decoded frame checked for what the client relies on. */
export function checkMessage(msg) {
  if (msg === null || typeof msg !== "object" || Array.isArray(msg) || ArrayBuffer.isView(msg)) {
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

/** One message as a frame: JSON text, or msgpack bytes when `binary`. */
export function encodeFrame(msg, binary = false) {
  return binary ? _encoder.encode(msg) : JSON.stringify(msg);
}

/** The size of a frame on the wire, in bytes (UTF-8 for text). */
export function frameBytes(data) {
  if (typeof data !== "string") return data.byteLength ?? 0;
  let n = data.length;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c < 0xdc00) {
      n += 2; // a surrogate pair: 4 bytes for its 2 units
      i += 1;
    } else {
      n += 2;
    }
  }
  return n;
}

// A msgpack snap starts with a small map whose first key is "type" and value "snap".
const SNAP_BYTES = [0xa4, 0x74, 0x79, 0x70, 0x65, 0xa4, 0x73, 0x6e, 0x61, 0x70];

/** Whether a frame is a snap, without decoding it (the network simulation drops snaps). */
export function isSnapFrame(data) {
  if (typeof data === "string") return data.startsWith('{"type":"snap"');
  const bytes = data instanceof Uint8Array ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  if (bytes.length < 11 || (bytes[0] & 0xf0) !== 0x80) return false;
  for (let i = 0; i < SNAP_BYTES.length; i++) if (bytes[i + 1] !== SNAP_BYTES[i]) return false;
  return true;
}

/** A socket URL with its `enc` query parameter set (kept across relocations). */
export function withEncoding(url, encoding) {
  const u = new URL(url);
  if (encoding === "msgpack") u.searchParams.set("enc", "msgpack");
  else u.searchParams.delete("enc");
  return u.href;
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
