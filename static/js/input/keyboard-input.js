/**
 * Keyboard shortcuts: N or Space spawn, Delete/Backspace/X delete, Escape clears the
 * selection, Ctrl/Cmd+A selects all own cubes, arrows nudge (at most 10 a second while held),
 * G toggles the net graph. Emits `spawn`, `delete`, `clear`, `select-all`, `nudge` {dx, dz}
 * and `net-graph`. WASD belongs to the camera.
 */

import { isTyping } from "./typing.js";
import { NudgeRepeater } from "./nudge.js";

const SPAWN_KEYS = new Set(["KeyN", "Space"]);
const DELETE_KEYS = new Set(["Delete", "Backspace", "KeyX"]);

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
    if ((ev.ctrlKey || ev.metaKey) && ev.code === "KeyA") {
      ev.preventDefault();
      this.emit("select-all");
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (this.nudges.press(ev.key)) {
      ev.preventDefault();
      this.update(this.now()); // the first nudge goes at once
      if (this.repeatTimer === null) {
        this.repeatTimer = setInterval(() => this.update(this.now()), this.nudges.interval / 4);
      }
      return;
    }
    if (ev.repeat) return; // held N or X must not spam the server
    if (ev.code === "Space" && ev.target?.tagName === "BUTTON") return; // the button's own click
    if (SPAWN_KEYS.has(ev.code)) {
      ev.preventDefault();
      this.emit("spawn");
    } else if (DELETE_KEYS.has(ev.code)) {
      ev.preventDefault();
      this.emit("delete");
    } else if (ev.code === "Escape") {
      this.emit("clear");
    } else if (ev.code === "KeyG") {
      this.emit("net-graph");
    } else if (ev.code === "KeyF") {
      this.emit("formation");
    }
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
