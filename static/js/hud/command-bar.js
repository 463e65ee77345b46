/**
 * Bottom: Spawn and Delete for players, End match for the creator (a second click within a
 * few seconds confirms), the selection count, and a line of control hints.
 * Emits `spawn`, `delete` and `end`.
 */

import { END_CONFIRM_MS } from "../tunables.js";
import { el } from "./dom.js";

export class CommandBar extends EventTarget {
  constructor(root, { isPlayer, isCreator }) {
    super();
    this.spawnButton = el("button", { type: "button", class: "cmd spawn", title: "Spawn a cube at the centre of the view (N or Space)", text: "Spawn" });
    this.deleteButton = el("button", { type: "button", class: "cmd delete", title: "Delete the selected cubes (Delete, Backspace or X)", text: "Delete", disabled: true });
    this.endButton = el("button", { type: "button", class: "cmd end", title: "End the match for everyone", text: "End match" });
    this.count = el("span", { class: "selcount", text: "" });
    this.confirmTimer = null;
    const buttons = [];
    if (isPlayer) buttons.push(this.spawnButton, this.deleteButton, this.count);
    if (isCreator) buttons.push(this.endButton);
    const hints = isPlayer
      ? "click: select · shift: add · drag: box · right-click: move · F: formation · arrows: nudge · WASD / middle-drag: pan · wheel: zoom · 1-9: groups · ?: all keys"
      : "spectating · click a cube to see its owner · WASD / middle-drag: pan · wheel: zoom · ?: all keys";
    this.node = el("section", { class: "panel commands", "aria-label": "Commands" }, [
      buttons.length ? el("div", { class: "buttons" }, buttons) : null,
      el("div", { class: "hints", text: hints }),
    ]);
    // Each button gives the focus back, so Space and the shortcuts keep meaning the arena
    // (a focused End match button must never be pressed again by Space).
    this.spawnButton.addEventListener("click", () => {
      this.spawnButton.blur();
      this.emit("spawn");
    });
    this.deleteButton.addEventListener("click", () => {
      this.deleteButton.blur();
      this.emit("delete");
    });
    this.endButton.addEventListener("click", () => {
      this.endButton.blur();
      this.endClicked();
    });
    root.append(this.node);
  }

  setSelection(n) {
    this.deleteButton.disabled = n === 0;
    this.count.textContent = n ? `${n} selected` : "";
  }

  setEnabled(enabled) {
    this.spawnButton.disabled = !enabled;
    this.endButton.disabled = !enabled;
    if (!enabled) this.deleteButton.disabled = true;
  }

  endClicked() {
    if (this.confirmTimer !== null) {
      this.resetEnd();
      this.emit("end");
      return;
    }
    this.endButton.textContent = "Click again to end";
    this.endButton.classList.add("confirm");
    this.confirmTimer = setTimeout(() => this.resetEnd(), END_CONFIRM_MS);
  }

  resetEnd() {
    clearTimeout(this.confirmTimer);
    this.confirmTimer = null;
    this.endButton.textContent = "End match";
    this.endButton.classList.remove("confirm");
  }

  emit(type) {
    this.dispatchEvent(new CustomEvent(type));
  }

  dispose() {
    this.resetEnd();
    this.node.remove();
  }
}
