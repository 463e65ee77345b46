/**
 * The match chat's rules and scrollback, without a DOM (node tests it): the same cleaning and
 * length check the server makes (docs/protocol.md "Chat"; game/wire/protocol.py chat_text),
 * the lines kept for the panel, and what a refusal says. The panel (chat-panel.js) draws
 * them, always as text.
 */

export const CHAT_MAX_CHARS = 200; // after cleaning, in code points (an emoji counts once)
export const CHAT_SCROLLBACK = 100; // lines the panel keeps

// Control characters and the line/paragraph separators become spaces, as on the server.
const BLANKS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A line as the server will show it: control characters made spaces, trimmed. */
export function cleanChat(raw) {
  return String(raw ?? "").replace(BLANKS, " ").trim();
}

/** Length in code points, as the server counts it (not UTF-16 units). */
export function chatLength(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/**
 * Whether a draft may be sent: {ok: true, text} with the cleaned text, or {ok: false, code,
 * text} with the code the server would answer (`chat_empty`, `chat_too_long`).
 */
export function checkDraft(raw, max = CHAT_MAX_CHARS) {
  const text = cleanChat(raw);
  if (text.length === 0) return { ok: false, code: "chat_empty", text };
  if (chatLength(text) > max) return { ok: false, code: "chat_too_long", text };
  return { ok: true, text };
}

/** What the player reads when a line was refused (by the server, or before sending). */
export function chatRefusalText(code, retryMs = null) {
  switch (code) {
    case "chat_empty":
      return "Type something first.";
    case "chat_too_long":
      return `Messages are at most ${CHAT_MAX_CHARS} characters.`;
    case "rate_limited": {
      const s = retryMs ? Math.max(1, Math.ceil(retryMs / 1000)) : null;
      return s ? `Slow down: you can chat again in ${s} s.` : "Slow down: too many messages.";
    }
    case "spectator":
      return "Spectators can read the chat but not write in it.";
    case "busy":
      return "The server is busy: the message was not sent.";
    case "not_connected":
      return "Not connected: the message was not sent.";
    default:
      return "The message was refused.";
  }
}

/** A `chat` message checked for what the panel relies on, as a line; null if unusable. */
export function chatLine(msg, you = null) {
  if (!msg || msg.type !== "chat" || typeof msg.text !== "string" || !Number.isInteger(msg.player)) return null;
  const nick = typeof msg.nick === "string" && msg.nick ? msg.nick : `player ${msg.player}`;
  return {
    kind: "chat",
    player: msg.player,
    nick,
    text: msg.text,
    tick: Number.isInteger(msg.tick) ? msg.tick : null,
    own: you !== null && msg.player === you,
  };
}

function lineKey(line) {
  return `${line.tick}|${line.player}|${line.text}`;
}

/** The scrollback: chat lines and the panel's own notes (refusals), newest last, capped. */
export class ChatLog {
  constructor(max = CHAT_SCROLLBACK) {
    this.max = max;
    this.lines = [];
  }

  /** Add a server `chat` message; the line added, or null if it was not one. */
  add(msg, you = null) {
    const line = chatLine(msg, you);
    if (line) this.push(line);
    return line;
  }

  /**
   * Add a welcome's `chat` history (oldest first) without showing a line twice: after a
   * reconnect it holds lines already shown (same tick, player and text) and the ones missed.
   * The lines added, in order.
   */
  merge(history, you = null) {
    if (!Array.isArray(history)) return [];
    const shown = new Set(this.lines.filter((l) => l.kind === "chat").map(lineKey));
    const added = [];
    for (const msg of history) {
      const line = chatLine(msg, you);
      if (!line || shown.has(lineKey(line))) continue;
      shown.add(lineKey(line));
      this.push(line);
      added.push(line);
    }
    return added;
  }

  /** Add a note only this player sees (a refusal). */
  note(text) {
    const line = { kind: "note", player: null, nick: "", text, tick: null, own: false };
    this.push(line);
    return line;
  }

  push(line) {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
}
