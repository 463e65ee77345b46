/**
 * The match page: wires the session (network), prediction and the presenter (motion), the
 * view (three.js), input and HUD together and runs the frame loop. connect() starts it all,
 * dispose() ends it.
 */

import * as THREE from "three";
import { LocalServer } from "./bench/local-server.js";
import { lagCompEnabled, netGraphWanted, netSimParams, socketUrl, wireEncoding } from "./config.js";
import { HUD_REFRESH_MS, MINIMAP_REFRESH_MS, NET_GRAPH_REFRESH_MS, SPAWN_SCATTER, BENCH_MAX_FRAMES } from "./tunables.js";
import { closeText, connectionText, noticeText } from "./hud/messages.js";
import { ChatPanel } from "./hud/chat-panel.js";
import { Hud } from "./hud/hud.js";
import { Minimap } from "./hud/minimap.js";
import { idsInBox } from "./input/box-select.js";
import { centreOf, ControlGroups } from "./input/control-groups.js";
import { DoubleTap } from "./input/double-tap.js";
import { KeyboardInput } from "./input/keyboard-input.js";
import { pickCube } from "./input/picking.js";
import { PointerInput } from "./input/pointer-input.js";
import { Selection } from "./input/selection.js";
import { OwnMotion } from "./motion/own-motion.js";
import { Presenter } from "./motion/presenter.js";
import { Connection } from "./net/connection.js";
import { MatchSession } from "./net/match-session.js";
import { SimulatedSocket } from "./net/net-sim.js";
import { WorldMirror } from "./net/world-mirror.js";
import { ArenaView } from "./scene/arena-view.js";
import { facingToward, orderForSlots } from "./sim/formation.js";
import { clampPoint } from "./sim/step.js";

const _centre = new THREE.Vector3();
const _ground = new THREE.Vector3();
const _point = [0, 0];
const _screen = { x: 0, y: 0, visible: true };

export class ArenaApp {
  /**
   * @param {object} config parsed page configuration (config.js)
   * @param {object} dom {container, hud} elements
   * @param {object} [options] `bench`: dummy cube count for the offline benchmark; `search`:
   *   the page's query string (network simulation, lag compensation, net graph)
   */
  constructor(config, dom, { bench = 0, search = "" } = {}) {
    this.config = config;
    this.dom = dom;
    this.bench = bench;
    this.netSim = bench ? null : netSimParams(search);
    this.lagComp = lagCompEnabled(search);
    this.showNetGraph = netGraphWanted(search);
    this.encoding = wireEncoding(search);
    this.form = "box"; // group orders go in this formation (F switches box and line)
    // How long joining took, in ms since the page's navigation began (benchmarks/join_time.py).
    this.timing = { appStart: performance.now(), viewReady: null, started: null, socketOpen: null, welcome: null, firstFrame: null };
    this.simSockets = [];
    this.frameLog = null; // {ids, max, entries} while a test records frames
    this.frameTimes = [];
    this.frames = 0;
    this.connState = { state: "idle", attempt: 0 };
    this.closed = null;
    this.hovered = null;
    this.raf = null;
    this.lastFrame = null;
    this.lastHud = 0;
    this.lastNet = 0;
    this.lastMinimap = 0;
    this.groups = new ControlGroups(); // 1-9: Ctrl/Shift+digit sets, the digit recalls
    this.cubeTaps = new DoubleTap(); // a double click on an own cube selects those on screen
  }

  connect() {
    const cfg = this.config;
    const env = {};
    if (this.netSim) {
      env.createSocket = (url) => {
        const socket = new SimulatedSocket(new WebSocket(url), this.netSim);
        this.simSockets.push(socket);
        if (this.simSockets.length > 50) this.simSockets.shift();
        return socket;
      };
    }
    this.transport = this.bench
      ? new LocalServer(this.bench, { arena: cfg.arena, speed: cfg.speed })
      : new Connection(socketUrl(cfg.ws, window.location), {
          tickRate: cfg.tick_rate,
          lagComp: this.lagComp,
          encoding: this.encoding,
          env,
          locate: () => locateMatch(cfg.match, this.transport.url),
        });
    this.mirror = new WorldMirror();
    this.mirror.tickRate = cfg.tick_rate;
    this.session = new MatchSession(this.transport, { mirror: this.mirror, isCreator: cfg.is_creator });
    const transport = this.transport;
    this.ownMotion = new OwnMotion(this.mirror, this.session.pending, {
      present: (now) => transport.presentTick(now),
      // Before any command's way up was timed: half the round trip.
      fallbackUp: () => (transport.clock ? transport.clock.halfRttTicks : 0),
    });
    this.presenter = new Presenter(this.mirror, { ownMotion: this.ownMotion }).connect();
    // The socket's handshake and the welcome run while WebGL and the HUD start (the slowest
    // part of a join): a real socket's messages are tasks, so none can arrive before the
    // listeners below are in place. The offline feed answers at once, so it starts last.
    const early = !this.bench;
    if (early) this.session.connect();
    this.view = new ArenaView(this.dom.container, cfg.arena[0], cfg.arena[1]).connect();
    this.timing.viewReady = performance.now();
    this.selection = new Selection();
    this.hud = new Hud(this.dom.hud, { ...cfg, role: this.bench ? "player" : cfg.role, netGraph: this.showNetGraph });
    this.chat = new ChatPanel(this.dom.hud, { role: this.bench ? "player" : cfg.role }).connect(this.session);
    this.pointer = new PointerInput(this.view.canvas, this.view.rig, (ray) => pickCube(ray, this.presenter.drawn.values(), this.view.cubes.size)).connect();
    this.keyboard = new KeyboardInput().connect();
    this.minimap = new Minimap(this.dom.hud, cfg.arena).connect();
    this.wire();
    if (early) this.onConnection({ state: this.transport.state, attempt: this.transport.attempts });
    else this.session.connect();
    this.timing.started = performance.now();
    this.raf = requestAnimationFrame(this.frame);
    return this;
  }

  dispose() {
    if (this.raf !== null) cancelAnimationFrame(this.raf);
    this.raf = null;
    this.session.dispose();
    this.presenter.dispose();
    this.pointer.dispose();
    this.keyboard.dispose();
    this.minimap.dispose();
    this.view.dispose();
    this.chat.dispose();
    this.hud.dispose();
  }

  // -- wiring -------------------------------------------------------------------------------

  wire() {
    const { session, mirror, selection, pointer, keyboard, hud } = this;
    const own = this.ownMotion;
    session.addEventListener("state", (ev) => this.onConnection(ev.detail));
    session.addEventListener("welcome", (ev) => this.onWelcome(ev.detail));
    session.addEventListener("snap", (ev) => own.reconcile(ev.detail.acked));
    session.addEventListener("command", () => own.commandSent());
    session.addEventListener("rejected", () => own.rejected());
    session.addEventListener("correction", (ev) => own.corrected(ev.detail.ids));
    session.addEventListener("players", (ev) => {
      this.view.colors.set(ev.detail.players);
      this.minimap.setPlayers(ev.detail.players);
    });
    session.addEventListener("notice", (ev) => hud.toasts.show(noticeText(ev.detail), ev.detail.kind));
    session.addEventListener("ended", (ev) => this.onEnded(ev.detail.reason));
    mirror.addEventListener("tick", (ev) => {
      if (ev.detail.removed.length) selection.prune((id) => mirror.entities.has(id));
    });
    mirror.addEventListener("reset", () => selection.prune((id) => mirror.isOwn(id) || (id === selection.inspected && mirror.entities.has(id))));
    selection.addEventListener("change", () => hud.commands.setSelection(this.ownSelected().length));

    pointer.addEventListener("hover", (ev) => {
      this.hovered = ev.detail.id;
      this.view.canvas.style.cursor = this.hovered === null ? "" : "pointer";
    });
    pointer.addEventListener("click", (ev) => this.onClick(ev.detail.id, ev.detail.shift));
    pointer.addEventListener("box", (ev) => this.onBox(ev.detail.rect, ev.detail.shift));
    pointer.addEventListener("order", (ev) => this.moveSelection(ev.detail.x, ev.detail.z));

    keyboard.addEventListener("spawn", () => this.spawn());
    keyboard.addEventListener("delete", () => this.deleteSelection());
    keyboard.addEventListener("clear", () => {
      if (hud.keys.visible) hud.keys.hide(); // Escape closes the key list first
      else selection.clear();
    });
    keyboard.addEventListener("select-all", () => selection.select(this.ownIds()));
    keyboard.addEventListener("group-set", (ev) => this.setGroup(ev.detail.group));
    keyboard.addEventListener("group-recall", (ev) => this.recallGroup(ev.detail.group));
    keyboard.addEventListener("key-help", () => hud.keys.toggle());
    keyboard.addEventListener("nudge", (ev) => this.nudgeSelection(ev.detail.dx, ev.detail.dz));
    keyboard.addEventListener("formation", () => {
      this.form = this.form === "box" ? "line" : "box";
      this.hud.toasts.show(`Group orders: ${this.form === "box" ? "a box" : "a line"} formation (F to change).`, "info");
    });
    keyboard.addEventListener("net-graph", () => {
      hud.net.toggle();
      this.lastNet = 0;
    });

    this.minimap.addEventListener("look", (ev) => this.view.rig.lookAt(ev.detail.x, ev.detail.z));
    this.minimap.addEventListener("order", (ev) => this.moveSelection(ev.detail.x, ev.detail.z));

    hud.commands.addEventListener("spawn", () => this.spawn());
    hud.commands.addEventListener("delete", () => this.deleteSelection());
    hud.commands.addEventListener("end", () => {
      if (!session.end()) hud.toasts.show("The match could not be ended now.", "error");
    });
  }

  onConnection(detail) {
    if (detail.state === "open" && this.timing.socketOpen === null) this.timing.socketOpen = performance.now();
    this.connState = { ...detail, since: performance.now() };
    this.hud.status.setConnection(detail);
    document.body.dataset.connection = detail.state;
    if (detail.state === "closed" && detail.code !== undefined && detail.code !== 4410 && !this.session.ended) {
      this.closed = { code: detail.code, reason: detail.reason ?? "" };
      this.hud.overlay.closed(closeText(detail.code, detail.reason), { reload: !!detail.replaced });
    }
    this.refreshCommands();
  }

  onWelcome(detail) {
    if (this.timing.welcome === null) this.timing.welcome = performance.now();
    const m = this.mirror;
    if (detail.build && this.config.build && detail.build !== this.config.build && !this.staleShown) {
      this.staleShown = true; // the match moved to a server running newer code than this page
      this.hud.toasts.show("CubeArena was updated: reload the page to keep up.", "info");
    }
    this.ownMotion.reset();
    if (detail.dropped?.length) this.hud.toasts.show(`${detail.dropped.length} order(s) were lost while reconnecting.`, "info");
    this.view.setArena(m.arena[0], m.arena[1]);
    this.minimap.setArena(m.arena[0], m.arena[1]);
    this.hud.status.setColor(m.color);
    this.refreshCommands();
  }

  onEnded(reason) {
    this.hud.overlay.ended(this.config.match, reason);
    this.selection.clear();
    this.refreshCommands();
  }

  refreshCommands() {
    this.hud.commands.setEnabled(this.session.canCommand);
    this.hud.commands.setSelection(this.ownSelected().length);
  }

  // -- orders -------------------------------------------------------------------------------

  /** Own cubes that can take orders (not those a pending delete already hides). */
  ownIds() {
    const ids = [];
    for (const ent of this.mirror.entities.values()) if (this.commandable(ent.id)) ids.push(ent.id);
    return ids;
  }

  ownSelected() {
    return this.selection.list().filter((id) => this.commandable(id));
  }

  commandable(id) {
    return this.mirror.isOwn(id) && !this.ownMotion.hidden.has(id);
  }

  onClick(id, shift) {
    const sel = this.selection;
    if (id === null) {
      if (!shift) sel.clear();
    } else if (this.mirror.isOwn(id)) {
      if (this.cubeTaps.tap(id, performance.now())) sel.select(this.ownIdsOnScreen(), shift); // a double click
      else if (shift) sel.toggle(id);
      else sel.select([id]);
      sel.inspect(null);
    } else {
      sel.inspect(id); // someone else's cube: show its owner, keep the selection
    }
  }

  onBox(rect, shift) {
    this.selection.select(this.ownIdsIn(rect), shift);
  }

  /** Own cubes drawn inside `rect` (canvas pixels). */
  ownIdsIn(rect) {
    const rig = this.view.rig;
    const project = (x, z, out) => rig.project(x, this.view.cubes.size / 2, z, out);
    return idsInBox(rect, this.presenter.drawn.values(), project, (d) => d.own);
  }

  /** Own cubes drawn anywhere on screen. */
  ownIdsOnScreen() {
    const { width, height } = this.view.canvas.getBoundingClientRect();
    return this.ownIdsIn({ left: 0, top: 0, right: width, bottom: height, width, height });
  }

  /** Ctrl/Shift + digit: the selection becomes control group `n` (none: the group is cleared). */
  setGroup(n) {
    const count = this.groups.set(n, this.ownSelected());
    this.hud.toasts.show(count ? `Group ${n}: ${count} cube${count === 1 ? "" : "s"} (press ${n} to select them).` : `Group ${n} cleared.`, "info");
  }

  /** A digit: select what is left of group `n`; a double tap also centres the view on it. */
  recallGroup(n) {
    const got = this.groups.recall(n, performance.now(), (id) => this.commandable(id));
    if (!got) return;
    this.selection.select(got.ids);
    if (!got.centre) return;
    const c = centreOf(got.ids, (id) => this.presenter.drawn.get(id) ?? this.mirror.get(id));
    if (c) this.view.rig.lookAt(c.x, c.z);
  }

  /** A refusal the player should hear about before anything is sent. */
  cannot() {
    if (!this.session.isPlayer && this.session.welcomed) this.hud.toasts.show("Spectators cannot give orders.", "info");
    else if (this.session.ended) this.hud.toasts.show("The match is over.", "info");
    else if (!this.session.canCommand) this.hud.toasts.show("Not connected: the order was not sent.", "error");
    else return false;
    return true;
  }

  spawn() {
    if (this.cannot()) return;
    const c = this.view.rig.groundAtCentre(_centre);
    const a = Math.random() * Math.PI * 2;
    const r = Math.sqrt(Math.random()) * SPAWN_SCATTER;
    const [x, z] = clampPoint(c.x + Math.cos(a) * r, c.z + Math.sin(a) * r, this.mirror.arena[0], this.mirror.arena[1], _point);
    if (this.session.spawn(x, z)) this.view.spawnMarker.show(x, z, performance.now(), this.mirror.color);
  }

  moveSelection(gx, gz) {
    const ids = this.ownSelected();
    if (ids.length === 0) {
      if (this.session.isPlayer) this.hud.toasts.show("Select your cubes first: click one or drag a box.", "info");
      return;
    }
    if (this.cannot()) return;
    const [x, z] = clampPoint(gx, gz, this.mirror.arena[0], this.mirror.arena[1], _point);
    const order = this.formationOrder(ids, x, z);
    if (this.session.move(order.ids, x, z, order.form, order.facing).length) this.view.moveMarker.show(x, z, performance.now());
  }

  /**
   * A group order goes in formation: facing the way the group travels, the ids ordered so
   * each cube takes a nearby slot. The slots follow from the command alone (sim/formation.js).
   */
  formationOrder(ids, x, z) {
    if (ids.length < 2) return { ids, form: null, facing: 0 };
    const cubes = [];
    let cx = 0;
    let cz = 0;
    for (const id of ids) {
      const e = this.presenter.drawn.get(id) ?? this.mirror.get(id);
      const at = e ? { id, x: e.x, z: e.z } : { id, x, z };
      cubes.push(at);
      cx += at.x / ids.length;
      cz += at.z / ids.length;
    }
    const facing = facingToward([cx, cz], [x, z]);
    return { ids: orderForSlots(cubes, this.form, facing), form: this.form, facing };
  }

  nudgeSelection(dx, dz) {
    const ids = this.ownSelected();
    if (ids.length === 0 || !this.session.canCommand) return;
    this.session.nudge(ids, dx, dz);
  }

  deleteSelection() {
    const ids = this.ownSelected();
    if (ids.length === 0) return;
    if (this.cannot()) return;
    if (this.session.delete(ids).length) this.selection.prune((id) => !ids.includes(id)); // hidden at once
  }

  // -- frame ------------------------------------------------------------------------------------

  frame = (t) => {
    const start = performance.now();
    const dt = this.lastFrame === null ? 0 : Math.min(0.25, (t - this.lastFrame) / 1000);
    this.lastFrame = t;
    this.presenter.update(start);
    this.pointer.update();
    const p = this.presenter;
    this.view.draw(start, dt, p.drawn.values(), p.drawn.size + p.provisional.size, this.selection, this.hovered, p.provisional.values());
    if (this.frameLog) this.logFrame(t, start);
    if (start - this.lastHud >= HUD_REFRESH_MS) {
      this.lastHud = start;
      this.refreshHud();
    }
    if (start - this.lastMinimap >= MINIMAP_REFRESH_MS) {
      this.lastMinimap = start;
      this.minimap.draw(p.drawn.values(), this.view.rig.viewCorners());
    }
    if (start - this.lastNet >= NET_GRAPH_REFRESH_MS) {
      this.lastNet = start;
      this.hud.net.update(this.netStats());
    }
    this.frames += 1;
    if (this.timing.firstFrame === null && this.timing.welcome !== null) this.timing.firstFrame = performance.now();
    if (this.bench) {
      this.frameTimes.push(performance.now() - start);
      if (this.frameTimes.length > BENCH_MAX_FRAMES) this.frameTimes.splice(0, this.frameTimes.length - BENCH_MAX_FRAMES);
    }
    this.raf = requestAnimationFrame(this.frame);
  };

  refreshHud() {
    const { hud, mirror, session } = this;
    hud.status.setTick(mirror.tick);
    hud.status.setPing(this.transport.rtt);
    const cs = this.connState;
    if (cs.state === "waiting") hud.status.setConnection({ ...cs, retryIn: Math.max(0, cs.retryIn - (performance.now() - cs.since)) });
    hud.players.render(session.players, mirror.countByOwner(), mirror.you);
    const id = this.selection.inspected ?? this.hovered;
    const d = id === null ? undefined : this.presenter.drawn.get(id);
    if (!d) {
      hud.inspect.show(null);
    } else {
      const p = session.players.find((pl) => pl.id === d.owner);
      hud.inspect.show({ id, owner: d.owner, nickname: p?.nickname ?? `player ${d.owner}`, color: p?.color, own: d.own, x: d.x, z: d.z, pinned: id === this.selection.inspected });
    }
    document.body.dataset.connectionText = connectionText(this.connState);
  }

  // -- the debug hook's view ----------------------------------------------------------------------

  /** The net graph's numbers (and the debug hook's `net`). */
  netStats() {
    const t = this.transport;
    const clock = this.presenter.clock;
    const own = this.ownMotion.stats;
    const pending = this.session.pending;
    return {
      rtt: t.rtt ?? null,
      rttJitter: t.clock ? t.clock.rttJitter : 0,
      jitter: clock.jitter,
      interpDelay: clock.delayMs,
      interpDelayTicks: clock.delayTicks,
      serverTick: this.presenter.presentTick,
      snapTick: this.mirror.tick,
      snapBytesPerSec: t.snapBytesPerSec ?? 0,
      bytesInPerSec: t.bytesInPerSec ?? 0,
      bytesOutPerSec: t.bytesOutPerSec ?? 0,
      encoding: this.bench ? "local" : this.encoding,
      pending: pending.size,
      ackDelayTicks: pending.ackDelay(1 + Math.ceil(this.ownMotion.fallbackUp())),
      upTicks: pending.upTicks(this.ownMotion.fallbackUp()),
      appliedTick: pending.applied,
      recentAcks: pending.recent.map((a) => ({ ...a })),
      corrections: own.corrections,
      correctionEvents: own.events,
      correctionsPerSec: this.ownMotion.correctionsPerSec,
      largestCorrection: own.largest,
      lastCorrection: own.last,
      totalCorrection: own.total,
      recentCorrections: own.recent.map((c) => ({ ...c })),
      snappedCorrections: own.snapped,
      reconciles: own.reconciles,
      extrapolatedFrames: this.presenter.stats.extrapolatedFrames,
      blended: this.presenter.stats.blended,
      lagComp: this.lagComp,
      sim: this.netSim ? { ...this.netSim } : null,
      droppedSnaps: this.simSockets.reduce((n, s) => n + s.dropped, 0),
      pongsSent: t.pongsSent ?? 0,
      graph: this.hud.net.visible,
    };
  }

  /** Record this frame's facts for a test (started through the debug hook). */
  logFrame(t, now) {
    const log = this.frameLog;
    const ents = [];
    const p = this.presenter;
    for (const e of this.mirror.entities.values()) {
      if (log.ids !== null && !log.ids.has(e.id)) continue;
      const d = p.drawn.get(e.id);
      ents.push([e.id, d ? d.x : null, d ? d.z : null, e.x, e.z, e.tx, e.tz, d?.predicted ? 1 : 0, d?.extrapolated ? 1 : 0, e.listedAt]);
    }
    log.entries.push({
      t,
      now,
      tick: this.mirror.tick,
      renderTick: p.renderTick,
      present: p.presentTick,
      seq: this.session.seq.last,
      ack: this.mirror.ack,
      corrections: this.ownMotion.stats.corrections,
      provisional: p.provisional.size,
      ents,
    });
    if (log.entries.length > log.max) log.entries.shift();
  }

  /** The ground point under viewport pixel (x, y) as {x, z}, or null. */
  groundAt(x, y) {
    const rect = this.view.canvas.getBoundingClientRect();
    return this.view.rig.groundAt(x - rect.left, y - rect.top, _ground) ? { x: _ground.x, z: _ground.z } : null;
  }

  /** Viewport pixel of world point (x, y, z): {x, y, visible}. */
  screenOf(x, y, z) {
    const rect = this.view.canvas.getBoundingClientRect();
    this.view.rig.project(x, y, z, _screen);
    return { x: rect.left + _screen.x, y: rect.top + _screen.y, visible: _screen.visible && _screen.x >= 0 && _screen.y >= 0 && _screen.x <= rect.width && _screen.y <= rect.height };
  }
}

/**
 * Where the match is now (its socket path may name another server), or null once it is over.
 * The current socket URL's query (encoding, role, join code) carries over.
 */
async function locateMatch(id, current) {
  const query = new URL(current).search;
  const resp = await fetch(`/api/matches/${encodeURIComponent(id)}${query}`, { credentials: "same-origin" });
  if (!resp.ok) throw new Error(`GET match: ${resp.status}`); // unknown: retry where we were
  const match = await resp.json();
  if (match.status === "finished" || match.status === "abandoned") return null;
  const url = socketUrl(match.ws, window.location);
  return url.includes("?") ? url : url + query;
}
