/** Friendly text for the server's stable codes (PROTOCOL.md "Codes"). Pure. */

import { FINAL_CLOSES } from "../net/protocol.js";

export const REJECT_TEXT = Object.freeze({
  bad_message: "The server could not read that command.",
  not_owner: "That cube is not yours.",
  unknown_entity: "That cube is gone.",
  cube_cap: "You have reached the cube limit.",
  spawn_cooldown: "Spawning too fast. Wait a moment.",
  rate_limited: "Too many orders. Slow down a little.",
  stale_seq: "An old command was skipped.",
  spectator: "Spectators cannot give orders.",
  match_ended: "The match is over.",
});

export const ERROR_TEXT = Object.freeze({
  bad_json: "The server could not read a message.",
  bad_message: "The server refused a malformed message.",
  too_large: "That order was too large.",
  unknown_type: "The server did not recognise a message.",
  busy: "The server is busy. Try again in a moment.",
  not_creator: "Only the match's creator can end it.",
});

/** What a correction did, in words: who did it (an operator, or the server's rules) and how. */
function correctionText(by, action) {
  if (by === "operator") return action === "removed" ? "An operator removed some cubes." : "An operator moved some cubes.";
  return action === "removed" ? "The server removed some cubes (a rule was broken)." : "The server moved some cubes back into place.";
}

/** One line for a `reject`, `error` or `correction` notice ({kind, code, message, retryMs, by, action}). */
export function noticeText({ kind, code, message, retryMs, by, action }) {
  let text;
  if (kind === "correction") text = correctionText(by, action);
  else if (kind === "reject") text = REJECT_TEXT[code];
  else text = ERROR_TEXT[code];
  if (!text) text = message ? `${message}` : `Refused (${code || "unknown"}).`;
  if (Number.isFinite(retryMs) && retryMs > 0) text += ` (retry in ${(retryMs / 1000).toFixed(1)} s)`;
  return text;
}

/** What to tell the player when the socket closed for good. */
export function closeText(code, reason = "") {
  return FINAL_CLOSES[code] ?? (reason || `The connection closed (${code}).`);
}

/** The connection line of the status panel. */
export function connectionText({ state, retryIn, attempt }) {
  switch (state) {
    case "idle":
    case "connecting":
      return attempt > 1 ? "reconnecting…" : "connecting…";
    case "open":
      return "connected";
    case "waiting":
      return `reconnecting in ${Math.max(0.1, (retryIn ?? 0) / 1000).toFixed(1)} s`;
    case "closed":
      return "disconnected";
    case "local":
      return "benchmark (offline)";
    default:
      return state;
  }
}
