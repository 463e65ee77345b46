/**
 * Bottom left: the match chat, a scrollback and a one-line box. Enter (outside any text field)
 * goes to the box, Enter in it sends and goes back to the arena, Escape leaves it (the draft
 * stays). While the box has the focus the game's shortcuts stay out of the way (they check
 * input/typing.js). Spectators read; their box is disabled. Every line is drawn as text.
 *
 * It follows the session itself: `chat` lines, `chat-refused` answers, `welcome` (role),
 * `state` and `ended`; it sends with session.chat(text).
 */

import { isTyping } from "../input/typing.js";
import { CHAT_MAX_CHARS, ChatLog, chatRefusalText, checkDraft } from "./chat.js";
import { el } from "./dom.js";
import { safeColor } from "./players-panel.js";

export class ChatPanel {
  /**
   * @param {HTMLElement} root the HUD's root
   * @param {object} options `role` ("player" or "spectator", from the page until a welcome
   *   says), `win` the window whose keys it listens to
   */
  constructor(root, { role = "player", win = window } = {}) {
    this.win = win;
    this.log = new ChatLog();
    this.session = null;
    this.list = el("ol", { class: "chat-lines", "aria-live": "polite", "aria-label": "Chat messages" });
    this.input = el("input", {
      type: "text",
      class: "chat-input",
      maxlength: CHAT_MAX_CHARS * 2, // UTF-16 units; the check counts characters (chat.js)
      autocomplete: "off",
      spellcheck: "false",
      "aria-label": "Chat message",
    });
    this.node = el("section", { class: "panel chat", "aria-label": "Chat" }, [this.list, this.input]);
    root.append(this.node);
    this.setRole(role);
    this.onWindowKey = (ev) => this.windowKey(ev);
    this.onInputKey = (ev) => this.inputKey(ev);
    this.input.addEventListener("keydown", this.onInputKey);
    win.addEventListener("keydown", this.onWindowKey);
    this.listeners = [];
  }

  /** Follow a MatchSession: its lines, its refusals, its role and connection. */
  connect(session) {
    this.session = session;
    const on = (type, fn) => {
      session.addEventListener(type, fn);
      this.listeners.push([type, fn]);
    };
    on("chat", (ev) => this.show(this.log.add(ev.detail, session.you ?? null)));
    on("chat-refused", (ev) => this.refused(ev.detail.code, ev.detail.retry_ms ?? null));
    on("welcome", (ev) => {
      this.setRole(session.isPlayer ? "player" : "spectator");
      for (const line of this.log.merge(ev.detail.chat, session.you ?? null)) this.show(line);
    });
    on("state", () => this.refresh());
    on("ended", () => this.refresh());
    return this;
  }

  dispose() {
    this.win.removeEventListener("keydown", this.onWindowKey);
    this.input.removeEventListener("keydown", this.onInputKey);
    for (const [type, fn] of this.listeners) this.session?.removeEventListener(type, fn);
    this.listeners = [];
    this.node.remove();
  }

  setRole(role) {
    this.role = role;
    this.refresh();
  }

  /** The box is open to a player whose match is on; a spectator's stays disabled. */
  refresh() {
    const spectator = this.role !== "player";
    const over = !!this.session?.ended;
    this.input.disabled = spectator || over;
    this.input.placeholder = spectator
      ? "Spectators can read the chat"
      : over
        ? "The match is over"
        : "Enter to chat";
    this.node.dataset.role = spectator ? "spectator" : "player";
    if (this.input.disabled && this.win.document?.activeElement === this.input) this.input.blur();
  }

  windowKey(ev) {
    if (ev.key !== "Enter" || ev.ctrlKey || ev.metaKey || ev.altKey || ev.repeat) return;
    if (isTyping(ev.target) || ev.target?.tagName === "BUTTON" || this.input.disabled) return;
    ev.preventDefault();
    this.input.focus();
  }

  inputKey(ev) {
    if (ev.key === "Escape") {
      ev.preventDefault();
      this.input.blur();
    } else if (ev.key === "Enter" && !ev.isComposing) {
      ev.preventDefault();
      if (this.send()) this.input.blur();
    }
  }

  /** Send the draft; true if it went (the box is then emptied). */
  send() {
    const draft = checkDraft(this.input.value);
    if (!draft.ok) {
      if (draft.code === "chat_empty") {
        this.input.value = "";
        return true; // Enter on an empty box just leaves it
      }
      this.refused(draft.code);
      return false;
    }
    if (!this.session || !this.session.chat(draft.text)) {
      this.refused(this.role === "player" ? "not_connected" : "spectator");
      return false;
    }
    this.input.value = "";
    return true;
  }

  refused(code, retryMs = null) {
    this.show(this.log.note(chatRefusalText(code, retryMs)));
  }

  /** Append a line (and drop the oldest past the cap), keeping the view at the bottom if it was. */
  show(line) {
    if (!line) return;
    const list = this.list;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    const item =
      line.kind === "note"
        ? el("li", { class: "note", text: line.text })
        : el("li", { class: line.own ? "own" : "", dataset: { player: line.player } }, [
            el("span", { class: "nick", style: `color:${safeColor(this.colorOf(line.player))}`, text: line.nick }),
            el("span", { class: "text", text: line.text }),
          ]);
    list.append(item);
    while (list.childElementCount > this.log.max) list.firstElementChild.remove();
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  colorOf(player) {
    return this.session?.players?.find((p) => p.id === player)?.color;
  }

  /** The lines as shown, for the debug hook and tests: [{kind, player, nick, text, own}]. */
  lines() {
    return this.log.lines.map((l) => ({ ...l }));
  }
}
