/**
 * Every key and mouse binding of the match page, in one table: the keyboard dispatches its
 * chords from it (matchKey), the camera takes its pan keys from it, and the `?` overlay
 * lists it, so what the overlay says and what the keys do cannot drift apart. Pure.
 *
 * An entry is {section, what, keys: [label], action?}. With an `action`, each label is a
 * chord the keyboard turns into that event: modifiers ("Ctrl+", "Shift+") then a letter,
 * a digit range "1…9" (the digit is the event's argument), a character in quotes-free form
 * such as "?" (matched by the character typed, whatever the layout needs for it), or a key
 * code ("Space", "Escape"). Entries without an action are handled elsewhere (the pointer,
 * the camera, the nudge repeater, the chat box) and are listed for the overlay only.
 */

import { ARROW_DIRS } from "./nudge.js";

/** WASD pans the camera (screen directions on the ground: "up" is -z). */
export const PAN_KEYS = Object.freeze({ KeyW: [0, -1], KeyA: [-1, 0], KeyS: [0, 1], KeyD: [1, 0] });

const ARROW_LABELS = { ArrowUp: "↑", ArrowDown: "↓", ArrowLeft: "←", ArrowRight: "→" };

export const KEY_BINDINGS = Object.freeze([
  { section: "Select", keys: ["Click"], what: "Select one of your cubes; another player's cube shows its owner" },
  { section: "Select", keys: ["Shift+Click"], what: "Add a cube to the selection, or take it out" },
  { section: "Select", keys: ["Drag"], what: "Select your cubes inside the box (Shift adds them)" },
  { section: "Select", keys: ["Double-click"], what: "On one of your cubes: select all your cubes on screen" },
  { section: "Select", keys: ["Ctrl+A", "Shift+A"], action: "select-all", what: "Select all your cubes" },
  { section: "Select", keys: ["Escape"], action: "clear", what: "Clear the selection (or close this list)" },
  {
    section: "Select",
    keys: ["Ctrl+1…9", "Shift+1…9"],
    action: "group-set",
    what: "Make the selection control group 1-9 (Shift always works; Ctrl where the browser lets the page have it)",
  },
  { section: "Select", keys: ["1…9"], action: "group-recall", what: "Select control group 1-9; twice quickly also centres the view on it" },
  { section: "Orders", keys: ["Right-click"], what: "Send the selection there (two or more cubes in formation)" },
  { section: "Orders", keys: ["F"], action: "formation", what: "Switch group orders between a box and a line" },
  { section: "Orders", keys: [Object.keys(ARROW_DIRS).map((k) => ARROW_LABELS[k] ?? k).join(" ")], what: "Nudge the selection (held: 10 a second)" },
  { section: "Orders", keys: ["N", "Space"], action: "spawn", what: "Spawn a cube at the centre of the view" },
  { section: "Orders", keys: ["Delete", "Backspace", "X"], action: "delete", what: "Delete the selected cubes" },
  { section: "Camera", keys: [Object.keys(PAN_KEYS).map((code) => code.slice(3)).join(" "), "Middle-drag"], what: "Pan" },
  { section: "Camera", keys: ["Wheel"], what: "Zoom toward the pointer" },
  { section: "Minimap", keys: ["Click"], what: "Look there (drag to keep moving the view)" },
  { section: "Minimap", keys: ["Right-click"], what: "Send the selection there (as right-click on the ground)" },
  { section: "Chat", keys: ["Enter"], what: "Type a chat line: Enter sends it, Escape leaves the box" },
  { section: "View", keys: ["G"], action: "net-graph", what: "Show or hide the net graph" },
  { section: "View", keys: ["?"], action: "key-help", what: "Show or hide this list" },
]);

/**
 * A chord label as a matcher: {ctrl, shift, code | key | digits: [lo, hi]}; `shift` is
 * true (must be held), or null when the label does not name it (held or not).
 */
export function parseChord(label) {
  const parts = label.split("+");
  const name = parts.pop();
  const chord = { ctrl: false, shift: null, code: null, key: null, digits: null };
  for (const mod of parts) {
    if (mod === "Ctrl") chord.ctrl = true;
    else if (mod === "Shift") chord.shift = true;
    else throw new Error(`unknown modifier in ${label}`);
  }
  const range = name.match(/^(\d)…(\d)$/);
  if (range) chord.digits = [Number(range[1]), Number(range[2])];
  else if (/^[A-Z]$/.test(name)) chord.code = `Key${name}`;
  else if (/^[A-Za-z]+$/.test(name) && name.length > 1) chord.code = name;
  else if (name.length === 1) chord.key = name;
  else throw new Error(`cannot read the chord ${label}`);
  return chord;
}

function compile(table) {
  const chords = [];
  for (const entry of table) {
    if (!entry.action) continue;
    for (const label of entry.keys) chords.push({ ...parseChord(label), action: entry.action, label });
  }
  // A chord that names Shift is tried before one that does not, so Shift+A is not plain A.
  chords.sort((a, b) => (b.shift === true) - (a.shift === true));
  return chords;
}

const COMPILED = new Map();

/**
 * The action a key event means in `table` ({action, arg, label}: arg is the digit of a
 * range, else null), or null. Ctrl stands for Ctrl or Cmd; Alt never matches. A chord
 * that does not name Shift matches with or without it; a typed character ("?") matches
 * whatever Shift its layout needs.
 */
export function matchKey(ev, table = KEY_BINDINGS) {
  if (ev.altKey) return null;
  let chords = COMPILED.get(table);
  if (!chords) COMPILED.set(table, (chords = compile(table)));
  const ctrl = !!(ev.ctrlKey || ev.metaKey);
  for (const c of chords) {
    if (c.ctrl !== ctrl) continue;
    if (c.key !== null) {
      if (ev.key === c.key) return { action: c.action, arg: null, label: c.label };
      continue;
    }
    if (c.shift === true && !ev.shiftKey) continue;
    if (c.code !== null && ev.code === c.code) return { action: c.action, arg: null, label: c.label };
    if (c.digits !== null) {
      const d = /^Digit(\d)$/.exec(ev.code ?? "");
      const n = d ? Number(d[1]) : NaN;
      if (n >= c.digits[0] && n <= c.digits[1]) return { action: c.action, arg: n, label: c.label };
    }
  }
  return null;
}

/** The table by section, in order, for the overlay: [{section, rows: [{keys, what}]}]. */
export function helpSections(table = KEY_BINDINGS) {
  const sections = [];
  for (const entry of table) {
    let s = sections.find((x) => x.section === entry.section);
    if (!s) sections.push((s = { section: entry.section, rows: [] }));
    s.rows.push({ keys: [...entry.keys], what: entry.what });
  }
  return sections;
}
