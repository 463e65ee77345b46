// The match chat: the draft check (as the server's), the scrollback, the session's routing,
// and the panel's keys and text-only drawing (on a minimal fake DOM).
import { beforeEach, test } from "node:test";
import assert from "node:assert/strict";

import { LocalServer } from "../../static/js/bench/local-server.js";
import { Backoff } from "../../static/js/net/backoff.js";
import { Connection } from "../../static/js/net/connection.js";
import { MatchSession } from "../../static/js/net/match-session.js";
import { chatMsg, parseFrame } from "../../static/js/net/protocol.js";
import { FakeSocket, FakeTimers, fakeEnv, record, welcome } from "./helpers.js";

test("hud/chat.js imports without a DOM", async () => {
  assert.equal(typeof globalThis.document, "undefined");
  await import("../../static/js/hud/chat.js");
});

const { CHAT_MAX_CHARS, ChatLog, chatLength, chatLine, chatRefusalText, checkDraft, cleanChat } = await import(
  "../../static/js/hud/chat.js"
);

test("a draft is cleaned as the server cleans it, then 1 to 200 characters", () => {
  assert.equal(cleanChat("  hi\tthere\n\u2028you \u0007 "), "hi there  you");
  assert.deepEqual(checkDraft(" \n\t "), { ok: false, code: "chat_empty", text: "" });
  assert.deepEqual(checkDraft("  gg  "), { ok: true, text: "gg" });
  assert.equal(checkDraft("x".repeat(CHAT_MAX_CHARS)).ok, true);
  assert.equal(checkDraft("x".repeat(CHAT_MAX_CHARS + 1)).code, "chat_too_long");
  // code points, as Python counts them: 200 emoji (400 UTF-16 units) are fine, 201 are not
  assert.equal(chatLength("😀é"), 2);
  assert.equal(checkDraft("😀".repeat(CHAT_MAX_CHARS)).ok, true);
  assert.equal(checkDraft("😀".repeat(CHAT_MAX_CHARS + 1)).code, "chat_too_long");
  assert.equal(checkDraft(null).code, "chat_empty");
});

test("each refusal reads as something a player understands", () => {
  assert.match(chatRefusalText("rate_limited", 1500), /again in 2 s/);
  assert.match(chatRefusalText("rate_limited"), /too many/);
  assert.match(chatRefusalText("chat_too_long"), /200 characters/);
  assert.match(chatRefusalText("spectator"), /Spectators/);
  for (const code of ["chat_empty", "busy", "not_connected", "what"]) assert.ok(chatRefusalText(code).length > 5);
});

test("the log keeps checked lines, marks our own, and drops the oldest past its cap", () => {
  const log = new ChatLog(3);
  assert.equal(log.add({ type: "chat", player: 2, nick: "bob", text: "hi", tick: 5 }, 1).own, false);
  assert.equal(log.add({ type: "chat", player: 1, nick: "alice", text: "yo", tick: 6 }, 1).own, true);
  assert.equal(log.add({ type: "chat", player: "1", text: "x" }), null);
  assert.equal(log.add({ type: "chat", player: 1, text: 7 }), null);
  assert.equal(log.add({ type: "snap", player: 1, text: "x" }), null);
  assert.equal(chatLine({ type: "chat", player: 3, text: "no nick" }).nick, "player 3");
  log.note("refused");
  log.add({ type: "chat", player: 2, nick: "bob", text: "last" });
  assert.deepEqual(log.lines.map((l) => [l.kind, l.text]), [["chat", "yo"], ["note", "refused"], ["chat", "last"]]);
});

test("a welcome's history adds the lines not shown yet, in order, and none twice", () => {
  const log = new ChatLog(10);
  const line = (player, text, tick) => ({ type: "chat", player, nick: `p${player}`, text, tick });
  log.add(line(2, "hi", 5), 1);
  log.note("refused");
  // A reconnect's welcome: the line already shown, then two missed while away.
  const added = log.merge([line(2, "hi", 5), line(1, "back", 9), line(2, "wb", 9), { type: "snap" }], 1);
  assert.deepEqual(added.map((l) => [l.text, l.own]), [["back", true], ["wb", false]]);
  assert.deepEqual(log.lines.map((l) => l.text), ["hi", "refused", "back", "wb"]);
  assert.deepEqual(log.merge([line(2, "wb", 9)], 1), []); // the same welcome again adds nothing
  assert.deepEqual(log.merge(undefined, 1), []); // an older server's welcome has no history
  assert.equal(log.merge([line(2, "hi", 12)], 1).length, 1); // the same words said again later
});

// -- the session -------------------------------------------------------------------------

let timers;

function session({ you = 1 } = {}) {
  const conn = new Connection("ws://test/", { env: fakeEnv(timers), backoff: new Backoff({ random: () => 0 }) });
  const s = new MatchSession(conn, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval } }).connect();
  const sock = FakeSocket.instances.at(-1);
  sock.open();
  return { s, sock, welcome: () => sock.receive(welcome({ you, players: [{ id: 1, nickname: "alice", color: "#3d8be5", online: true }] })) };
}

beforeEach(() => {
  FakeSocket.instances = [];
  timers = new FakeTimers();
});

test("the protocol knows the chat message both ways", () => {
  assert.deepEqual(chatMsg("hi"), { type: "chat", text: "hi" });
  const line = { type: "chat", player: 1, nick: "alice", text: "<b>hi</b>", tick: 3 };
  assert.deepEqual(parseFrame(JSON.stringify(line)), line);
});

test("the session sends a player's line after the welcome, never a spectator's", () => {
  const { s, sock, welcome: w } = session();
  assert.equal(s.chat("early"), false);
  w();
  assert.equal(s.chat("hello"), true);
  assert.deepEqual(sock.sentOfType("chat"), [{ type: "chat", text: "hello" }]);

  const watcher = session({ you: null });
  watcher.welcome();
  assert.equal(watcher.s.chat("let me"), false);
  assert.deepEqual(watcher.sock.sentOfType("chat"), []);
});

test("the session hands chat lines and chat refusals on, and keeps other errors as notices", () => {
  const { s, sock, welcome: w } = session();
  const log = record(s, "chat", "chat-refused", "notice");
  w();
  sock.receive({ type: "chat", player: 2, nick: "bob", text: "hi", tick: 4 });
  sock.receive({ type: "error", code: "rate_limited", message: "slow", retry_ms: 900, about: "chat" });
  sock.receive({ type: "error", code: "bad_json", message: "?" });
  assert.deepEqual(
    log.map((e) => [e.type, e.detail.code ?? e.detail.text]),
    [["chat", "hi"], ["chat-refused", "rate_limited"], ["notice", "bad_json"]],
  );
});

test("the offline bench answers a line as a server would", async () => {
  const server = new LocalServer(4, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval, now: () => timers.now } });
  const s = new MatchSession(server, { env: { setInterval: timers.setInterval, clearInterval: timers.clearInterval } }).connect();
  const log = record(s, "chat");
  assert.equal(s.chat("solo"), true);
  await Promise.resolve();
  assert.deepEqual(log.map((e) => [e.detail.player, e.detail.text]), [[1, "solo"]]);
  s.dispose();
});

// -- the panel, on a fake DOM ----------------------------------------------------------------

class FakeElement extends EventTarget {
  constructor(tag, doc) {
    super();
    this.doc = doc;
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.attributes = {};
    this.dataset = {};
    this.className = "";
    this.textContent = "";
    this.value = "";
    this.disabled = false;
    this.placeholder = "";
    this.scrollTop = 0;
    this.scrollHeight = 0;
    this.clientHeight = 0;
    this.parent = null;
  }

  set innerHTML(_) {
    throw new Error("the chat must never set innerHTML");
  }

  append(...nodes) {
    for (const n of nodes) {
      if (typeof n === "string") this.children.push({ textContent: n });
      else {
        n.parent = this;
        this.children.push(n);
      }
    }
  }

  setAttribute(name, value) {
    this.attributes[name] = value;
  }

  get childElementCount() {
    return this.children.length;
  }

  get firstElementChild() {
    return this.children[0];
  }

  remove() {
    if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this);
    this.parent = null;
  }

  focus() {
    this.doc.activeElement = this;
  }

  blur() {
    if (this.doc.activeElement === this) this.doc.activeElement = null;
  }
}

function key(k, target, extra = {}) {
  return { key: k, target, prevented: false, preventDefault() { this.prevented = true; }, ...extra };
}

async function panelFor({ you = 1, role = "player" } = {}) {
  const doc = { activeElement: null, createElement: (tag) => new FakeElement(tag, doc) };
  globalThis.document = doc;
  const { ChatPanel } = await import("../../static/js/hud/chat-panel.js");
  const root = new FakeElement("div", doc);
  const win = new EventTarget();
  win.document = doc;
  const { s, sock, welcome: w } = session({ you });
  const panel = new ChatPanel(root, { role, win }).connect(s);
  w();
  const canvas = new FakeElement("canvas", doc);
  const lines = () => panel.list.children.map((li) => li.children.map((c) => c.textContent).join(": ") || li.textContent);
  return { panel, sock, doc, canvas, lines, root };
}

test("the panel: Enter opens the box, Enter sends and leaves it, Escape leaves it with the draft", async (t) => {
  t.after(() => delete globalThis.document);
  const { panel, sock, doc, canvas, lines } = await panelFor();
  const input = panel.input;
  assert.equal(input.disabled, false);

  const open = key("Enter", canvas);
  panel.windowKey(open);
  assert.ok(open.prevented && doc.activeElement === input);
  panel.windowKey(key("Enter", input)); // typing already: the window's Enter leaves it alone
  panel.windowKey(key("Enter", canvas, { ctrlKey: true }));

  input.value = "  hello <img src=x onerror=alert(1)>  ";
  panel.inputKey(key("Enter", input));
  assert.deepEqual(sock.sentOfType("chat"), [{ type: "chat", text: "hello <img src=x onerror=alert(1)>" }]);
  assert.equal(input.value, "");
  assert.equal(doc.activeElement, null);

  panel.windowKey(key("Enter", canvas));
  input.value = "half a thought";
  panel.inputKey(key("Escape", input));
  assert.equal(doc.activeElement, null);
  assert.equal(input.value, "half a thought");

  input.value = "x".repeat(CHAT_MAX_CHARS + 1);
  panel.windowKey(key("Enter", canvas));
  panel.inputKey(key("Enter", input));
  assert.equal(sock.sentOfType("chat").length, 1); // not sent: too long, said so, the box stays
  assert.equal(doc.activeElement, input);
  assert.match(lines().at(-1), /at most 200 characters/);

  // what the server sends is drawn as text, the nick in its player's colour
  sock.receive({ type: "chat", player: 1, nick: "alice", text: "<b>bold?</b>", tick: 9 });
  const li = panel.list.children.at(-1);
  assert.equal(li.children[1].textContent, "<b>bold?</b>");
  assert.equal(li.className, "own");
  assert.match(li.children[0].attributes.style, /#3d8be5/);
  sock.receive({ type: "error", code: "rate_limited", message: "slow", retry_ms: 4000, about: "chat" });
  assert.match(lines().at(-1), /again in 4 s/);
  panel.dispose();
});

test("the panel: a spectator's box is disabled and Enter does not open it", async (t) => {
  t.after(() => delete globalThis.document);
  const { panel, sock, doc, canvas, lines } = await panelFor({ you: null, role: "spectator" });
  assert.equal(panel.input.disabled, true);
  assert.match(panel.input.placeholder, /Spectators/);
  panel.windowKey(key("Enter", canvas));
  assert.equal(doc.activeElement, null);
  sock.receive({ type: "chat", player: 1, nick: "alice", text: "hi watchers", tick: 2 });
  assert.deepEqual(lines(), ["alice: hi watchers"]); // reads, all the same
  panel.dispose();
});

test("the panel keeps at most its scrollback in the page", async (t) => {
  t.after(() => delete globalThis.document);
  const { panel, sock } = await panelFor();
  for (let i = 0; i < panel.log.max + 5; i++) sock.receive({ type: "chat", player: 2, nick: "bob", text: `n${i}`, tick: i });
  assert.equal(panel.list.childElementCount, panel.log.max);
  assert.equal(panel.list.children[0].children[1].textContent, "n5");
  panel.dispose();
});

test("the panel shows a welcome's history, and after a reconnect only the lines it missed", async (t) => {
  t.after(() => delete globalThis.document);
  const { sock, lines } = await panelFor();
  const line = (player, nick, text, tick) => ({ type: "chat", player, nick, text, tick });
  sock.receive(line(2, "bob", "hi", 12));
  assert.deepEqual(lines(), ["bob: hi"]);
  const again = { ...welcome({ tick: 30, players: [] }), chat: [line(2, "bob", "hi", 12), line(2, "bob", "<i>wb</i>", 20)] };
  sock.receive(again); // the same socket's welcome after the match moved: the history it carries
  assert.deepEqual(lines(), ["bob: hi", "bob: <i>wb</i>"]);
});
