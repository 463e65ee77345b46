/**
 * The page's configuration: the JSON the match view embeds (possibly JSON-encoded twice when
 * it went through json_script as a string), checked and given defaults; and the debugging
 * options its URL may carry. Pure.
 */

import { NET_SIM_MAX_LAG_MS } from "./tunables.js";

export class ConfigError extends Error {}

export function parseConfig(text) {
  let cfg;
  try {
    cfg = JSON.parse(text);
    if (typeof cfg === "string") cfg = JSON.parse(cfg);
  } catch {
    throw new ConfigError("the arena configuration is not JSON");
  }
  if (!cfg || typeof cfg !== "object") throw new ConfigError("the arena configuration is not an object");
  if (typeof cfg.ws !== "string" || !cfg.ws) throw new ConfigError("the arena configuration has no websocket path");
  const arena = Array.isArray(cfg.arena) && cfg.arena.length === 2 && cfg.arena.every((n) => n > 0) ? cfg.arena : [100, 100];
  return {
    match: String(cfg.match ?? ""),
    ws: cfg.ws,
    player: Number.isInteger(cfg.player) ? cfg.player : null,
    nickname: typeof cfg.nickname === "string" ? cfg.nickname : "",
    role: cfg.role === "player" ? "player" : "spectator",
    tick_rate: Number.isFinite(cfg.tick_rate) && cfg.tick_rate > 0 ? cfg.tick_rate : 10,
    arena: [Number(arena[0]), Number(arena[1])],
    speed: Number.isFinite(cfg.speed) && cfg.speed > 0 ? cfg.speed : 5,
    is_creator: cfg.is_creator === true,
    name: typeof cfg.name === "string" ? cfg.name : "",
    build: typeof cfg.build === "string" ? cfg.build : "",
  };
}

/** An absolute ws:// or wss:// URL for a path on the page's own origin. */
export function socketUrl(path, location) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path.startsWith("/") ? "" : "/"}${path}`;
}

/** ?bench=N: how many dummy cubes the offline benchmark runs (0: no benchmark). */
export function benchCount(search) {
  const raw = new URLSearchParams(search).get("bench");
  if (raw === null) return 0;
  const n = Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n <= 0) return raw === "" ? 500 : 0;
  return Math.min(n, 5000);
}

/**
 * ?lag=150&jitter=30&loss=0.02[&seed=N]: simulate a slow network on the client (ms each
 * way, +- ms, share of incoming snaps dropped). Null when none is asked for.
 */
export function netSimParams(search) {
  const q = new URLSearchParams(search);
  const num = (name, lo, hi) => {
    const v = Number.parseFloat(q.get(name) ?? "");
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : 0;
  };
  const lag = num("lag", 0, NET_SIM_MAX_LAG_MS);
  const jitter = num("jitter", 0, NET_SIM_MAX_LAG_MS);
  const loss = num("loss", 0, 0.9);
  if (lag === 0 && jitter === 0 && loss === 0) return null;
  const seed = Number.parseInt(q.get("seed") ?? "", 10);
  return { lag, jitter, loss, seed: Number.isFinite(seed) ? seed : null };
}

/** ?lagcomp=0: stamp commands with the last snap's tick only (to compare without lag compensation). */
export function lagCompEnabled(search) {
  const v = new URLSearchParams(search).get("lagcomp");
  return !(v === "0" || v === "off" || v === "false");
}

/** ?netgraph=1: open the net graph at start (G toggles it). */
export function netGraphWanted(search) {
  const v = new URLSearchParams(search).get("netgraph");
  return v !== null && v !== "0" && v !== "off";
}

/** ?enc=json: JSON text frames (readable in the browser's network panel); msgpack otherwise. */
export function wireEncoding(search) {
  const v = new URLSearchParams(search).get("enc");
  return v === "json" ? "json" : "msgpack";
}
