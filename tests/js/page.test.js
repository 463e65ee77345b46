// The page configuration and the HUD's words for server codes.
import { test } from "node:test";
import assert from "node:assert/strict";

import { ConfigError, benchCount, parseConfig, socketUrl } from "../../static/js/config.js";
import { ERROR_TEXT, REJECT_TEXT, closeText, connectionText, noticeText } from "../../static/js/hud/messages.js";

const cfg = {
  match: "5f0c",
  ws: "/ws/match/5f0c/",
  player: 3,
  nickname: "alice",
  role: "player",
  tick_rate: 20,
  arena: [120, 80],
  speed: 5,
  is_creator: true,
};

test("the config is read whether embedded once or JSON-encoded twice", () => {
  const once = parseConfig(JSON.stringify(cfg));
  const twice = parseConfig(JSON.stringify(JSON.stringify(cfg)));
  assert.deepEqual(once, twice);
  assert.equal(once.tick_rate, 20);
  assert.deepEqual(once.arena, [120, 80]);
  assert.equal(once.is_creator, true);
});

test("the config gets defaults and refuses what cannot work", () => {
  const c = parseConfig(JSON.stringify({ ws: "/ws/match/x/?role=spectator", role: "spectator", player: null }));
  assert.equal(c.role, "spectator");
  assert.equal(c.player, null);
  assert.equal(c.tick_rate, 10);
  assert.deepEqual(c.arena, [100, 100]);
  assert.equal(c.is_creator, false);
  assert.throws(() => parseConfig("{"), ConfigError);
  assert.throws(() => parseConfig("{}"), ConfigError);
  assert.throws(() => parseConfig("null"), ConfigError);
});

test("the socket URL follows the page's scheme and host", () => {
  assert.equal(socketUrl("/ws/match/a/?role=spectator", { protocol: "http:", host: "127.0.0.1:8123" }), "ws://127.0.0.1:8123/ws/match/a/?role=spectator");
  assert.equal(socketUrl("/ws/match/a/", { protocol: "https:", host: "arena.example" }), "wss://arena.example/ws/match/a/");
  assert.equal(socketUrl("wss://elsewhere/ws/", { protocol: "http:", host: "x" }), "wss://elsewhere/ws/");
});

test("?bench=N asks for N dummy cubes", () => {
  assert.equal(benchCount("?bench=500"), 500);
  assert.equal(benchCount("?bench"), 500);
  assert.equal(benchCount(""), 0);
  assert.equal(benchCount("?bench=abc"), 0);
  assert.equal(benchCount("?bench=999999"), 5000);
});

test("every protocol code has friendly words", () => {
  for (const code of ["bad_message", "not_owner", "unknown_entity", "cube_cap", "spawn_cooldown", "rate_limited", "stale_seq", "spectator", "match_ended"]) {
    assert.ok(REJECT_TEXT[code], code);
  }
  for (const code of ["bad_json", "bad_message", "too_large", "unknown_type", "busy", "not_creator"]) assert.ok(ERROR_TEXT[code], code);
});

test("notices read well, with the retry time for rate codes", () => {
  assert.equal(noticeText({ kind: "reject", code: "not_owner" }), "That cube is not yours.");
  assert.equal(noticeText({ kind: "reject", code: "rate_limited", retryMs: 250 }), "Too many orders. Slow down a little. (retry in 0.3 s)");
  assert.equal(noticeText({ kind: "error", code: "new_code", message: "Something new" }), "Something new");
  assert.equal(noticeText({ kind: "error", code: "new_code" }), "Refused (new_code).");
});

test("final closes and connection states have words", () => {
  assert.match(closeText(4001), /another tab/);
  assert.match(closeText(4409), /full/);
  assert.equal(closeText(1011, "boom"), "boom");
  assert.equal(connectionText({ state: "open" }), "connected");
  assert.equal(connectionText({ state: "waiting", retryIn: 2000 }), "reconnecting in 2.0 s");
  assert.equal(connectionText({ state: "connecting", attempt: 3 }), "reconnecting…");
});

test("a correction says who made it and what it did", () => {
  assert.equal(noticeText({ kind: "correction", by: "operator", action: "moved" }), "An operator moved some cubes.");
  assert.equal(noticeText({ kind: "correction", by: "operator", action: "removed" }), "An operator removed some cubes.");
  assert.equal(noticeText({ kind: "correction", by: "server", action: "moved" }), "The server moved some cubes back into place.");
  assert.equal(noticeText({ kind: "correction" }), "The server moved some cubes back into place.");
});
