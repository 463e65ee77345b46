/**
 * Keyboard shortcuts, dispatched from the page's one table of bindings
 * (input/key-bindings.js: spawn, delete, clear, select-all, group-set {group},
 * group-recall {group}, formation, net-graph, key-help), plus the arrows, which nudge at
 * most 10 times a second while held (`nudge` {dx, dz}). WASD belongs to the camera. Nothing
 * fires while the focus is in a text field.
 */

import { isTyping } from "./typing.js";
import { matchKey } from "./key-bindings.js";
import { NudgeRepeater } from "./nudge.js";

export class KeyboardInput extends EventTarget {
  constructor(now = () => performance.now()) {
    super();
    this.now = now;
    this.nudges = new NudgeRepeater();
    // Held arrows repeat on a timer, not per frame: a slow frame rate must not slow nudging.
    this.repeatTimer = null;
    this.onDown = (ev) => this.down(ev);
    this.onUp = (ev) => {
      this.nudges.release(ev.key);
      if (this.nudges.held.size === 0) this.stopRepeat();
    };
    this.onBlur = () => {
      this.nudges.releaseAll();
      this.stopRepeat();
    };
  }

  connect() {
    window.addEventListener("keydown", this.onDown);
    window.addEventListener("keyup", this.onUp);
    window.addEventListener("blur", this.onBlur);
    return this;
  }

  dispose() {
    this.stopRepeat();
    window.removeEventListener("keydown", this.onDown);
    window.removeEventListener("keyup", this.onUp);
    window.removeEventListener("blur", this.onBlur);
  }

  down(ev) {
    if (isTyping(ev.target)) return;
    if (!(ev.ctrlKey || ev.metaKey || ev.altKey) && this.nudges.press(ev.key)) {
      ev.preventDefault();
      this.update(this.now()); // the first nudge goes at once
      if (this.repeatTimer === null) {
        this.repeatTimer = setInterval(() => this.update(this.now()), this.nudges.interval / 4);
      }
      return;
    }
    const hit = matchKey(ev);
    if (hit === null) return;
    if (ev.code === "Space" && ev.target?.tagName === "BUTTON") return; // the button's own click
    ev.preventDefault(); // Ctrl+A must not select the page's text, Space must not scroll
    if (ev.repeat) return; // held N or X must not spam the server
    this.emit(hit.action, hit.arg === null ? null : { group: hit.arg });
  }

  stopRepeat() {
    if (this.repeatTimer !== null) clearInterval(this.repeatTimer);
    this.repeatTimer = null;
  }

  /** Repeat the nudge of held arrows at the allowed rate. */
  update(now) {
    const dir = this.nudges.poll(now);
    if (dir) this.emit("nudge", { dx: dir[0], dz: dir[1] });
  }

  emit(type, detail = null) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
