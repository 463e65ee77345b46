/** Short readable notes (refused commands, server errors) that fade on their own. */

import { TOAST_MS } from "../tunables.js";
import { el } from "./dom.js";

export class Toasts {
  constructor(root, { max = 4 } = {}) {
    this.max = max;
    this.node = el("div", { class: "toasts", role: "status", "aria-live": "polite" });
    root.append(this.node);
    this.timers = new Set();
    this.recent = []; // the last notes shown, newest last (the debug hook reads it)
  }

  show(text, kind = "info") {
    const last = this.node.lastElementChild;
    if (last && last.dataset.text === text) {
      // The same note again: bump its counter instead of stacking copies.
      const n = Number(last.dataset.repeat || 1) + 1;
      last.dataset.repeat = String(n);
      last.textContent = `${text} ×${n}`;
    } else {
      const toast = el("div", { class: `toast ${kind}`, dataset: { text }, text });
      this.node.append(toast);
      while (this.node.childElementCount > this.max) this.node.firstElementChild.remove();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        toast.classList.add("fade");
        setTimeout(() => toast.remove(), 400);
      }, TOAST_MS);
      this.timers.add(timer);
    }
    this.recent.push({ text, kind, at: Date.now() });
    if (this.recent.length > 20) this.recent.shift();
  }

  dispose() {
    for (const t of this.timers) clearTimeout(t);
    this.node.remove();
  }
}
