/**
 * The replay viewer: a finished match played back by the server (/ws/replay/<id>/) and drawn
 * by the arena renderer. Play and pause, speed 0.25x-8x, a seek bar with the match's events
 * marked on it, and the players panel as it was. Keys: Space play/pause, Left/Right a second
 * back/forward, Home/End. `window.__replay.state()` is what the browser tests read.
 */

import { ArenaView } from "../scene/arena-view.js";
import { ReplayWorld } from "./replay-world.js";

const cfg = JSON.parse(document.getElementById("replay-config").textContent);
const $ = (sel) => document.querySelector(sel);
const dom = {
  arena: $("#arena"),
  play: $("#play"),
  speed: $("#speed"),
  seek: $("#seek"),
  marks: $("#marks"),
  time: $("#time"),
  players: $("#players"),
  status: $("#status"),
};
const NO_SELECTION = { has: () => false, inspected: null };

const world = new ReplayWorld();
let view = null;
let info = null;
let state = { tick: 0, playing: false, speed: 1 };
let players = [];
let seeking = false;

function clock(tick) {
  if (!info) return "0:00";
  const s = Math.floor((tick - info.first) / info.tick_rate);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function showTime() {
  const tick = world.tick ?? 0;
  dom.time.textContent = `${clock(tick)} / ${clock(info ? info.last : 0)} · tick ${tick}`;
  if (!seeking) dom.seek.value = String(tick);
}

function showPlayers() {
  dom.players.replaceChildren(
    ...players.map((p) => {
      const li = document.createElement("li");
      li.className = p.online ? "online" : "offline";
      li.dataset.id = String(p.id);
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = p.color;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = p.nickname;
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = String(p.cubes);
      li.append(swatch, name, count);
      return li;
    }),
  );
}

function showMarks() {
  const span = Math.max(1, info.last - info.first);
  const byName = new Map(players.map((p) => [p.id, p.nickname]));
  dom.marks.replaceChildren(
    ...info.marks.map(([tick, kind, player]) => {
      const m = document.createElement("span");
      m.className = `mark mark-${kind}`;
      m.style.left = `${((tick - info.first) / span) * 100}%`;
      m.title = `${clock(tick)} ${kind}${player !== null && player !== undefined ? ` (player ${byName.get(player) ?? player})` : ""}`;
      m.addEventListener("click", () => send({ type: "seek", tick }));
      return m;
    }),
  );
}

const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${cfg.ws}`);
function send(msg) {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(msg));
}

socket.addEventListener("message", (ev) => {
  const msg = JSON.parse(ev.data);
  switch (msg.type) {
    case "replay.preparing": {
      // A long match's log is played through once before the first frame (up to a minute).
      const span = Math.max(1, msg.last - msg.first);
      const pct = Math.min(100, Math.max(0, Math.round((100 * (msg.tick - msg.first)) / span)));
      dom.status.textContent = `preparing the replay: ${pct} %`;
      break;
    }
    case "replay":
      info = msg;
      world.configure(msg.speed, msg.tick_rate);
      view = new ArenaView(dom.arena, msg.arena[0], msg.arena[1]).connect();
      dom.seek.min = String(msg.first);
      dom.seek.max = String(msg.last);
      showMarks();
      dom.status.textContent = "ready";
      break;
    case "snap":
      if (!world.apply(msg)) dom.status.textContent = "out of step; waiting for a full snap";
      showTime();
      break;
    case "players":
      players = msg.players;
      view?.colors.set(players);
      showPlayers();
      break;
    case "replay.state":
      state = msg;
      dom.play.textContent = msg.playing ? "Pause" : "Play";
      dom.play.setAttribute("aria-pressed", String(msg.playing));
      dom.speed.value = String(msg.speed);
      if (info && !msg.playing && msg.tick >= info.last) dom.status.textContent = "the end";
      else dom.status.textContent = msg.playing ? "playing" : "paused";
      break;
    case "error":
      dom.status.textContent = msg.message;
      break;
  }
});
socket.addEventListener("close", (ev) => {
  dom.status.textContent = ev.code === 4403 ? "This match is private." : ev.reason || "disconnected";
  dom.status.dataset.closed = String(ev.code);
});

dom.play.addEventListener("click", () => send({ type: state.playing ? "pause" : "play" }));
dom.speed.addEventListener("change", () => send({ type: "speed", speed: Number(dom.speed.value) }));
dom.seek.addEventListener("input", () => {
  seeking = true;
});
dom.seek.addEventListener("change", () => {
  seeking = false;
  send({ type: "seek", tick: Number(dom.seek.value) });
});
addEventListener("keydown", (ev) => {
  if (!info || ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement) return;
  const tick = world.tick ?? 0;
  if (ev.key === " ") send({ type: state.playing ? "pause" : "play" });
  else if (ev.key === "ArrowLeft") send({ type: "seek", tick: Math.max(info.first, tick - info.tick_rate) });
  else if (ev.key === "ArrowRight") send({ type: "seek", tick: Math.min(info.last, tick + info.tick_rate) });
  else if (ev.key === "Home") send({ type: "seek", tick: info.first });
  else if (ev.key === "End") send({ type: "seek", tick: info.last });
  else return;
  ev.preventDefault();
});

let last = performance.now();
function frame(now) {
  const dt = Math.min(0.1, (now - last) / 1000);
  last = now;
  if (view) view.draw(now, dt, world.entities.values(), world.entities.size, NO_SELECTION, null);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

window.__replay = {
  state: () => ({
    ready: info !== null,
    tick: world.tick,
    first: info?.first ?? null,
    last: info?.last ?? null,
    playing: state.playing,
    speed: state.speed,
    marks: info?.marks ?? [],
    players,
    ents: [...world.entities.values()].map((e) => [e.id, e.owner, e.x, e.z, e.tx, e.tz]),
    status: dom.status.textContent,
  }),
};
