// RTS controls: the one table of bindings, the keyboard's dispatch from it, control groups,
// double taps and the minimap's geometry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { centreOf, ControlGroups } from "../../static/js/input/control-groups.js";
import { DoubleTap } from "../../static/js/input/double-tap.js";
import { helpSections, KEY_BINDINGS, matchKey, PAN_KEYS, parseChord } from "../../static/js/input/key-bindings.js";
import { KeyboardInput } from "../../static/js/input/keyboard-input.js";
import { MinimapProjection } from "../../static/js/hud/minimap-projection.js";
import { DOUBLE_TAP_MS } from "../../static/js/tunables.js";

/** A keydown as the browser sends it (code, key and modifiers), recording preventDefault. */
function key(code, { ctrl = false, shift = false, alt = false, meta = false, key: k = null, tag = "CANVAS", repeat = false } = {}) {
  const ev = { code, key: k ?? code, ctrlKey: ctrl, shiftKey: shift, altKey: alt, metaKey: meta, repeat, target: { tagName: tag }, prevented: false };
  ev.preventDefault = () => {
    ev.prevented = true;
  };
  return ev;
}

function keyboard() {
  const kb = new KeyboardInput(() => 0);
  const log = [];
  const actions = new Set(KEY_BINDINGS.filter((b) => b.action).map((b) => b.action));
  for (const type of [...actions, "nudge"]) kb.addEventListener(type, (ev) => log.push([type, ev.detail]));
  return { kb, log };
}

test("every chord of the table parses and means its own action, and no two collide", () => {
  const seen = new Map();
  for (const entry of KEY_BINDINGS) {
    assert.ok(entry.section && entry.what && entry.keys.length, JSON.stringify(entry));
    if (!entry.action) continue;
    for (const label of entry.keys) {
      const c = parseChord(label);
      const codes = c.digits ? [`Digit${c.digits[0]}`, `Digit${c.digits[1]}`] : [c.code];
      for (const code of codes) {
        const ev = key(code, { ctrl: c.ctrl, shift: c.shift === true, key: c.key ?? undefined });
        const hit = matchKey(ev);
        assert.equal(hit?.action, entry.action, label);
        const id = `${c.ctrl}|${c.shift}|${code}|${c.key}`;
        assert.ok(!seen.has(id), `${label} and ${seen.get(id)} are one chord`);
        seen.set(id, label);
      }
    }
  }
});

test("chords: Ctrl or Cmd and Shift variants, digits, layout characters, no Alt", () => {
  assert.deepEqual(matchKey(key("KeyA", { ctrl: true })), { action: "select-all", arg: null, label: "Ctrl+A" });
  assert.equal(matchKey(key("KeyA", { meta: true })).action, "select-all");
  assert.equal(matchKey(key("KeyA", { shift: true })).action, "select-all");
  assert.equal(matchKey(key("KeyA")), null, "plain A pans the camera");
  assert.equal(matchKey(key("KeyW", { shift: true })), null);
  assert.deepEqual(matchKey(key("Digit4", { ctrl: true })), { action: "group-set", arg: 4, label: "Ctrl+1…9" });
  assert.deepEqual(matchKey(key("Digit9", { shift: true, key: "(" })), { action: "group-set", arg: 9, label: "Shift+1…9" });
  assert.deepEqual(matchKey(key("Digit1", { key: "1" })), { action: "group-recall", arg: 1, label: "1…9" });
  assert.equal(matchKey(key("Digit0")), null);
  assert.equal(matchKey(key("Numpad1")), null);
  assert.equal(matchKey(key("Digit1", { alt: true })), null);
  assert.equal(matchKey(key("Slash", { shift: true, key: "?" })).action, "key-help");
  assert.equal(matchKey(key("Minus", { shift: true, key: "?" })).action, "key-help", "wherever the layout puts it");
  assert.equal(matchKey(key("KeyN", { shift: true })).action, "spawn", "Shift is free where the table does not name it");
  assert.equal(matchKey(key("KeyN", { ctrl: true })), null, "Ctrl+N stays the browser's");
  assert.throws(() => parseChord("Hyper+A"));
});

test("the keyboard emits the table's actions, with the group's digit, and nothing while typing", () => {
  const { kb, log } = keyboard();
  const presses = [
    key("KeyA", { ctrl: true }),
    key("KeyA", { shift: true }),
    key("Digit3", { ctrl: true }),
    key("Digit7", { shift: true, key: "&" }),
    key("Digit3", { key: "3" }),
    key("Slash", { shift: true, key: "?" }),
    key("Escape"),
    key("KeyN"),
    key("KeyX"),
    key("KeyG"),
    key("KeyF"),
    key("KeyA"), // the camera's
  ];
  for (const ev of presses) kb.down(ev);
  assert.deepEqual(log, [
    ["select-all", null],
    ["select-all", null],
    ["group-set", { group: 3 }],
    ["group-set", { group: 7 }],
    ["group-recall", { group: 3 }],
    ["key-help", null],
    ["clear", null],
    ["spawn", null],
    ["delete", null],
    ["net-graph", null],
    ["formation", null],
  ]);
  assert.ok(presses.slice(0, -1).every((ev) => ev.prevented), "a bound chord is the page's");
  assert.equal(presses.at(-1).prevented, false);

  log.length = 0;
  for (const tag of ["INPUT", "TEXTAREA", "SELECT"]) {
    kb.down(key("Digit1", { shift: true, tag }));
    kb.down(key("KeyA", { ctrl: true, tag }));
    kb.down(key("Slash", { shift: true, key: "?", tag }));
    kb.down(key("Digit2", { tag }));
  }
  const editable = key("KeyA", { shift: true });
  editable.target = { tagName: "DIV", isContentEditable: true };
  kb.down(editable);
  assert.deepEqual(log, []);

  const held = key("KeyN", { repeat: true });
  kb.down(held);
  assert.deepEqual(log, [], "a held key does not repeat its action");
  assert.ok(held.prevented);
  const button = key("Space", { tag: "BUTTON" });
  kb.down(button);
  assert.deepEqual(log, [], "Space on a button is the button's click");
  assert.equal(button.prevented, false);
});

test("every action the table dispatches is one the app listens for", () => {
  const app = readFileSync(new URL("../../static/js/app.js", import.meta.url), "utf8");
  for (const entry of KEY_BINDINGS) {
    if (entry.action) assert.match(app, new RegExp(`keyboard\\.addEventListener\\("${entry.action}"`), entry.action);
  }
});

test("the overlay's sections list every entry once, in the table's order, with the camera's pan keys", () => {
  const sections = helpSections();
  assert.deepEqual(
    sections.map((s) => s.section),
    ["Select", "Orders", "Camera", "Minimap", "Chat", "View"],
  );
  const rows = sections.flatMap((s) => s.rows);
  assert.equal(rows.length, KEY_BINDINGS.length);
  assert.deepEqual(rows.map((r) => r.what), KEY_BINDINGS.map((b) => b.what));
  const labels = rows.flatMap((r) => r.keys);
  for (const must of ["Ctrl+1…9", "Shift+1…9", "1…9", "Ctrl+A", "Shift+A", "Double-click", "?", "Escape", "Right-click"]) {
    assert.ok(labels.includes(must), must);
  }
  const pan = rows.find((r) => r.what === "Pan");
  assert.equal(pan.keys[0], Object.keys(PAN_KEYS).map((c) => c.slice(3)).join(" "));
  assert.equal(pan.keys[0], "W A S D");
});

test("a double tap is the same key twice within the window", () => {
  const t = new DoubleTap(350);
  assert.equal(t.tap(1, 0), false);
  assert.equal(t.tap(1, 350), true);
  assert.equal(t.tap(2, 400), false, "another key");
  assert.equal(t.tap(1, 450), false, "another key came between");
  assert.equal(t.tap(1, 801), false, "too slow");
  assert.equal(t.tap(1, 900), true);
  assert.equal(t.tap(1, 950), false, "a third tap starts afresh");
  assert.equal(t.tap(1, 1000), true);
  t.tap(3, 2000);
  t.reset();
  assert.equal(t.tap(3, 2010), false);
  assert.equal(new DoubleTap().windowMs, DOUBLE_TAP_MS);
});

test("control groups store the selection, recall the survivors and centre on a double tap", () => {
  const g = new ControlGroups({ doubleTapMs: 350 });
  assert.equal(g.set(2, [9, 4, 4, 7]), 3);
  assert.deepEqual(g.get(2), [4, 7, 9]);
  assert.equal(g.set(0, [1]), 0, "only 1-9");
  assert.equal(g.set(10, [1]), 0);
  assert.equal(g.recall(5, 0), null, "an empty group");

  const alive = new Set([4, 9]);
  assert.deepEqual(g.recall(2, 1000, (id) => alive.has(id)), { ids: [4, 9], centre: false });
  assert.deepEqual(g.get(2), [4, 9], "a deleted cube leaves the group for good");
  assert.deepEqual(g.recall(2, 1200, (id) => alive.has(id)), { ids: [4, 9], centre: true });
  assert.deepEqual(g.recall(2, 1300, (id) => alive.has(id)), { ids: [4, 9], centre: false }, "a third tap");
  assert.deepEqual(g.recall(2, 1400, (id) => alive.has(id)), { ids: [4, 9], centre: true });
  assert.deepEqual(g.recall(2, 2000, (id) => alive.has(id)), { ids: [4, 9], centre: false });

  g.set(3, [1]);
  g.recall(3, 3000);
  assert.equal(g.recall(2, 3100).centre, false, "a tap of another digit between");
  assert.deepEqual(g.toJSON(), { 2: [4, 9], 3: [1] });
  assert.equal(g.recall(3, 4000, () => false), null, "nothing of it left");
  assert.deepEqual(g.toJSON(), { 2: [4, 9] });
  g.set(2, []);
  assert.deepEqual(g.toJSON(), {}, "an empty selection clears the group");
  const copy = g.get(1);
  copy.push(5);
  assert.deepEqual(g.get(1), []);
});

test("a group's centre is the mean of the positions known", () => {
  const at = { 1: { x: 0, z: 0 }, 2: { x: 4, z: -2 } };
  assert.deepEqual(centreOf([1, 2, 3], (id) => at[id]), { x: 2, z: -1 });
  assert.equal(centreOf([3], (id) => at[id]), null);
});

test("the minimap maps the arena onto its canvas and back, up the screen is -z", () => {
  const p = new MinimapProjection(100, 100, 160);
  assert.deepEqual([p.width, p.height, p.scale], [160, 160, 1.6]);
  assert.deepEqual(p.toMap(0, 0), { x: 80, y: 80 });
  assert.deepEqual(p.toMap(-50, -50), { x: 0, y: 0 });
  assert.deepEqual(p.toMap(50, 25), { x: 160, y: 120 });
  assert.deepEqual(p.toArena(80, 80), { x: 0, z: 0 });
  assert.deepEqual(p.toArena(160, 120), { x: 50, z: 25 });
  assert.deepEqual(p.toArena(-20, 500), { x: -50, z: 50 }, "kept on the arena");
  for (const [x, z] of [[-12.5, 33], [49, -49], [0.1, 0.2]]) {
    const m = p.toMap(x, z);
    const back = p.toArena(m.x, m.y);
    assert.ok(Math.abs(back.x - x) < 1e-9 && Math.abs(back.z - z) < 1e-9, `${x}, ${z}`);
  }

  // A wide arena keeps its shape: the longer side gets the pixels.
  const wide = new MinimapProjection(200, 50, 160);
  assert.deepEqual([wide.width, wide.height], [160, 40]);
  assert.deepEqual(wide.toMap(100, 25), { x: 160, y: 40 });
  wide.setArena(50, 100);
  assert.deepEqual([wide.width, wide.height], [80, 160]);

  // The camera's view: four ground corners as a quadrilateral, off the arena where it is.
  const view = p.viewOutline([[-10, -20], [10, -20], [5, 0], [-5, 0]]);
  assert.deepEqual(view, [[64, 48], [96, 48], [88, 80], [72, 80]]);
  assert.deepEqual(p.viewOutline([[-60, -60], [60, -60], [60, 0], [-60, 0]])[0], [-16, -16]);
  assert.equal(p.viewOutline(null), null);
  assert.equal(p.viewOutline([[0, 0], null, [0, 0], [0, 0]]), null);
});
