/** Bottom left: the cube that was clicked (or is under the pointer): its id and owner. */

import { el } from "./dom.js";
import { safeColor } from "./players-panel.js";

export class InspectPanel {
  constructor(root) {
    this.swatch = el("span", { class: "swatch" });
    this.text = el("span", { class: "text" });
    this.node = el("section", { class: "panel inspect", "aria-live": "polite", hidden: true }, [this.swatch, this.text]);
    root.append(this.node);
    this.key = "";
  }

  /** info: {id, owner, nickname, color, own, x, z, pinned} or null. */
  show(info) {
    const key = info ? `${info.id}|${info.nickname}|${info.own}|${info.pinned}|${info.x.toFixed(1)}|${info.z.toFixed(1)}` : "";
    if (key === this.key) return;
    this.key = key;
    this.node.hidden = !info;
    if (!info) return;
    this.swatch.style.background = safeColor(info.color);
    const who = info.own ? `${info.nickname} (you)` : info.nickname;
    this.text.textContent = `Cube #${info.id} · owner: ${who} · (${info.x.toFixed(1)}, ${info.z.toFixed(1)})`;
    this.node.classList.toggle("pinned", !!info.pinned);
  }

  dispose() {
    this.node.remove();
  }
}
