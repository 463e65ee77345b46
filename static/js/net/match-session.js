/**
 * One player's (or spectator's) session in a match: routes server messages to the world
 * mirror, asks for a full snap after a gap, numbers, stamps and sends commands and keeps
 * them until the server acknowledges or refuses them. Talks to a transport (a Connection,
 * or the benchmark's local feed); emits events, never draws.
 *
 * Events: `state` (transport state), `welcome` (the welcome message, with `dropped`: the
 * commands lost with the old socket), `snap` {tick, exact, acked} after a snap was applied
 * and its acks taken, `command` {entry} when one is sent, `rejected` {entry, code},
 * `correction` {ids, reason}, `players` {players}, `notice` {kind, code, message, seq,
 * retryMs}, `pong`, `ended` {reason}, `chat` (a chat line, as the server sent it) and
 * `chat-refused` (an `error` about chat: {code, message, retry_ms}).
 */

import { RESYNC_RETRY_MS } from "../tunables.js";
import { lagWindow } from "../sim/lag-comp.js";
import {
  CidCounter,
  SeqCounter,
  chatMsg,
  chunkIds,
  deleteCmd,
  endMsg,
  moveCmd,
  nudgeCmd,
  resyncMsg,
  spawnCmd,
} from "./protocol.js";
import { PendingCommands } from "./pending.js";
import { WorldMirror } from "./world-mirror.js";

export class MatchSession extends EventTarget {
  /**
   * @param {object} transport a Connection-like object (connect, dispose, send, stampTicks or
   *   estimateTick, rtt)
   * @param {object} [options] `mirror`, `isCreator`, `env` timers and clock (tests)
   */
  constructor(transport, { mirror = new WorldMirror(), isCreator = false, env = {} } = {}) {
    super();
    this.transport = transport;
    this.mirror = mirror;
    this.isCreator = isCreator;
    this.env = {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (id) => clearInterval(id),
      now: () => (typeof performance === "undefined" ? Date.now() : performance.now()),
      ...env,
    };
    this.seq = new SeqCounter();
    this.cids = new CidCounter();
    this.players = [];
    this.welcomed = false; // a welcome arrived on the current socket
    this.ended = null; // {reason} once the match is over
    this.pending = new PendingCommands({ window: lagWindow(mirror.tickRate) });
    this.resyncTimer = null;
    this.onMessage = (ev) => this.handle(ev.detail);
    this.onState = (ev) => this.transportState(ev.detail);
    this.onResyncNeeded = () => this.requestResync();
  }

  connect() {
    this.transport.addEventListener("message", this.onMessage);
    this.transport.addEventListener("state", this.onState);
    this.mirror.addEventListener("resync-needed", this.onResyncNeeded);
    this.transport.connect();
    return this;
  }

  dispose() {
    this.stopResync();
    this.transport.removeEventListener("message", this.onMessage);
    this.transport.removeEventListener("state", this.onState);
    this.mirror.removeEventListener("resync-needed", this.onResyncNeeded);
    this.transport.dispose();
  }

  get you() {
    return this.mirror.you;
  }

  get isPlayer() {
    return this.mirror.role === "player" && this.mirror.you !== null;
  }

  /** Commands may be sent: a player, welcomed on an open socket, match not over. */
  get canCommand() {
    return this.isPlayer && this.welcomed && this.transport.isOpen && !this.ended;
  }

  // -- inbound ---------------------------------------------------------------------

  handle(msg) {
    switch (msg.type) {
      case "welcome":
        return this.onWelcome(msg);
      case "snap":
        return this.onSnap(msg);
      case "players":
        return this.setPlayers(msg.players);
      case "reject":
        return this.onReject(msg);
      case "error":
        if (msg.about === "chat") return this.dispatchEvent(new CustomEvent("chat-refused", { detail: msg }));
        return this.notice("error", msg);
      case "chat":
        return this.dispatchEvent(new CustomEvent("chat", { detail: msg }));
      case "correction": {
        const ids = Array.isArray(msg.ids) ? msg.ids : [];
        this.mirror.markCorrected(ids);
        this.dispatchEvent(new CustomEvent("correction", { detail: { ids, reason: msg.reason ?? "" } }));
        return this.notice("correction", { code: "correction", message: msg.reason ?? "", by: msg.by, action: msg.action });
      }
      case "pong":
        return this.dispatchEvent(new CustomEvent("pong", { detail: msg }));
      case "ended":
        return this.onEnded(msg.reason ?? "");
      default:
        return undefined;
    }
  }

  onWelcome(msg) {
    this.mirror.applyWelcome(msg);
    this.seq.resume(msg.ack);
    this.welcomed = true;
    this.stopResync();
    this.pending.window = lagWindow(this.mirror.tickRate);
    // What the welcome's ack covers is in its state; anything later was lost with the socket.
    const dropped = this.pending.clear().filter((e) => e.seq > this.mirror.ack);
    this.setPlayers(msg.players ?? []);
    this.dispatchEvent(new CustomEvent("welcome", { detail: { ...msg, dropped } }));
  }

  onSnap(msg) {
    const before = this.mirror.tick;
    const result = this.mirror.applySnap(msg);
    if (!this.mirror.awaitingFull) this.stopResync();
    if (result !== "applied") return;
    const tick = this.mirror.tick;
    const exact = before !== null && tick === before + 1;
    const acked = this.pending.acknowledge(this.mirror.ack, tick, exact);
    this.dispatchEvent(new CustomEvent("snap", { detail: { tick, exact, acked } }));
  }

  onReject(msg) {
    const entry = this.pending.remove(msg.seq);
    this.notice("reject", msg);
    if (entry) this.dispatchEvent(new CustomEvent("rejected", { detail: { entry, code: msg.code ?? "" } }));
  }

  onEnded(reason) {
    if (this.ended) return;
    this.ended = { reason };
    this.transport.markFinal?.(4410, reason || "The match has ended.");
    this.dispatchEvent(new CustomEvent("ended", { detail: this.ended }));
  }

  transportState(detail) {
    if (detail.state !== "open") this.welcomed = false;
    if (detail.state === "closed") {
      this.stopResync();
      if (detail.code === 4410) this.onEnded(detail.reason);
    }
    this.dispatchEvent(new CustomEvent("state", { detail }));
  }

  setPlayers(players) {
    this.players = Array.isArray(players) ? players : [];
    this.dispatchEvent(new CustomEvent("players", { detail: { players: this.players } }));
  }

  notice(kind, msg) {
    const detail = { kind, code: msg.code ?? "", message: msg.message ?? "", seq: msg.seq ?? null };
    if (msg.retry_ms !== undefined) detail.retryMs = msg.retry_ms;
    if (msg.by !== undefined) detail.by = msg.by;
    if (msg.action !== undefined) detail.action = msg.action;
    this.dispatchEvent(new CustomEvent("notice", { detail }));
  }

  // -- resync ---------------------------------------------------------------------------

  requestResync() {
    this.transport.send(resyncMsg());
    if (this.resyncTimer === null) {
      this.resyncTimer = this.env.setInterval(() => {
        if (this.mirror.awaitingFull) this.transport.send(resyncMsg());
        else this.stopResync();
      }, RESYNC_RETRY_MS);
    }
  }

  stopResync() {
    if (this.resyncTimer !== null) this.env.clearInterval(this.resyncTimer);
    this.resyncTimer = null;
  }

  // -- commands -------------------------------------------------------------------------

  /** Spawn a cube at (x, z); returns {seq, cid} or null when commands cannot be sent. */
  spawn(x, z) {
    if (!this.canCommand) return null;
    const seq = this.seq.next();
    const cid = this.cids.next();
    const stamp = this.stamp();
    return this.sendCmd(spawnCmd(seq, stamp.tick, x, z, cid), stamp) ? { seq, cid } : null;
  }

  /** A move; with `form` and `facing` each chunk of ids takes its formation's slots (sim/formation.js). */
  move(ids, x, z, form = null, facing = 0) {
    return this.sendChunked(ids, (seq, tick, chunk) => moveCmd(seq, tick, chunk, x, z, form, facing));
  }

  nudge(ids, dx, dz) {
    return this.sendChunked(ids, (seq, tick, chunk) => nudgeCmd(seq, tick, chunk, dx, dz));
  }

  delete(ids) {
    return this.sendChunked(ids, (seq, tick, chunk) => deleteCmd(seq, tick, chunk));
  }

  /** Send a chat line (already checked, hud/chat.js); false when it cannot go now. */
  chat(text) {
    if (!this.canCommand) return false;
    return this.transport.send(chatMsg(text));
  }

  /** The creator ends the match. */
  end() {
    if (!this.isCreator || this.ended) return false;
    return this.transport.send(endMsg());
  }

  sendChunked(ids, build) {
    if (!this.canCommand || ids.length === 0) return [];
    const seqs = [];
    const stamp = this.stamp();
    for (const chunk of chunkIds(ids)) {
      const seq = this.seq.next();
      if (this.sendCmd(build(seq, stamp.tick, chunk), stamp)) seqs.push(seq);
    }
    return seqs;
  }

  /**
   * {tick} for the wire (the server's tick estimate), {asOf} the tick it is drawn from and
   * {present} the fractional server tick now (null if unknown).
   */
  stamp() {
    if (this.transport.stampTicks) return this.transport.stampTicks();
    const tick = this.transport.estimateTick();
    return { tick, asOf: tick, present: null };
  }

  sendCmd(msg, { asOf, present }) {
    if (!this.transport.send(msg)) return false;
    const point = msg.op === "spawn" ? msg.at : msg.op === "move" ? msg.to : msg.op === "nudge" ? msg.dir : null;
    const entry = this.pending.add({
      seq: msg.seq,
      op: msg.op,
      ids: msg.ids ?? [],
      point,
      form: msg.form ?? null,
      facing: msg.facing ?? 0,
      cid: msg.cid ?? null,
      claim: msg.tick,
      asOf,
      present,
      sentAt: this.env.now(),
    });
    this.dispatchEvent(new CustomEvent("command", { detail: { entry } }));
    return true;
  }
}
