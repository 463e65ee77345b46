/**
 * The page's configuration: the JSON the match view embeds (possibly JSON-encoded twice when
 * it went through json_script as a string), checked and given defaults. Pure.
 */

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
