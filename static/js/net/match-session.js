/**
 * One player's (or spectator's) session in a match: routes server messages to the world
 * mirror, asks for a full snap after a gap, numbers and sends commands. Talks to a
 * transport (a Connection, or the benchmark's local feed); emits events, never draws.
 *
 * Events: `state` (transport state), `welcome`, `players` {players}, `notice` {kind, code,
 * message, seq, retryMs}, `pong`, `ended` {reason}.
 */

import { RESYNC_RETRY_MS } from "../tunables.js";
import {
  CidCounter,
  SeqCounter,
  chunkIds,
  deleteCmd,
  endMsg,
  moveCmd,
  nudgeCmd,
  resyncMsg,
  spawnCmd,
} from "./protocol.js";
import { WorldMirror } from "./world-mirror.js";

export class MatchSession extends EventTarget {
  /**
   * @param {object} transport a Connection-like object (connect, dispose, send, estimateTick, rtt)
   * @param {object} [options] `mirror`, `isCreator`, `env` timers (tests)
   */
  constructor(transport, { mirror = new WorldMirror(), isCreator = false, env = {} } = {}) {
    super();
    this.transport = transport;
    this.mirror = mirror;
    this.isCreator = isCreator;
    this.env = {
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (id) => clearInterval(id),
      ...env,
    };
    this.seq = new SeqCounter();
    this.cids = new CidCounter();
    this.players = [];
    this.welcomed = false; // a welcome arrived on the current socket
    this.ended = null; // {reason} once the match is over
    this.sent = new Map(); // seq -> command, until acknowledged or refused
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
        this.mirror.applySnap(msg);
        if (!this.mirror.awaitingFull) this.stopResync();
        return this.pruneSent();
      case "players":
        return this.setPlayers(msg.players);
      case "reject":
        this.sent.delete(msg.seq);
        return this.notice("reject", msg);
      case "error":
        return this.notice("error", msg);
      case "correction":
        this.mirror.markCorrected(msg.ids ?? []);
        return this.notice("correction", { code: "correction", message: msg.reason ?? "" });
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
    this.pruneSent();
    this.setPlayers(msg.players ?? []);
    this.dispatchEvent(new CustomEvent("welcome", { detail: msg }));
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
    this.dispatchEvent(new CustomEvent("notice", { detail }));
  }

  pruneSent() {
    const ack = this.mirror.ack;
    for (const seq of this.sent.keys()) if (seq <= ack) this.sent.delete(seq);
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
    return this.sendCmd(spawnCmd(seq, this.transport.estimateTick(), x, z, cid)) ? { seq, cid } : null;
  }

  move(ids, x, z) {
    return this.sendChunked(ids, (seq, tick, chunk) => moveCmd(seq, tick, chunk, x, z));
  }

  nudge(ids, dx, dz) {
    return this.sendChunked(ids, (seq, tick, chunk) => nudgeCmd(seq, tick, chunk, dx, dz));
  }

  delete(ids) {
    return this.sendChunked(ids, (seq, tick, chunk) => deleteCmd(seq, tick, chunk));
  }

  /** The creator ends the match. */
  end() {
    if (!this.isCreator || this.ended) return false;
    return this.transport.send(endMsg());
  }

  sendChunked(ids, build) {
    if (!this.canCommand || ids.length === 0) return [];
    const seqs = [];
    const tick = this.transport.estimateTick();
    for (const chunk of chunkIds(ids)) {
      const seq = this.seq.next();
      if (this.sendCmd(build(seq, tick, chunk))) seqs.push(seq);
    }
    return seqs;
  }

  sendCmd(msg) {
    if (!this.transport.send(msg)) return false;
    this.sent.set(msg.seq, msg);
    // Bounded: the server acknowledges or refuses every command it reads.
    if (this.sent.size > 256) this.sent.delete(this.sent.keys().next().value);
    return true;
  }
}
