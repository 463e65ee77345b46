/** Top right: everyone in the match with their colour, cube count and whether they are online. */

import { el } from "./dom.js";

export class PlayersPanel {
  constructor(root) {
    this.list = el("ul", { class: "players" });
    this.node = el("section", { class: "panel players-panel", "aria-label": "Players" }, [el("h2", { text: "Players" }), this.list]);
    root.append(this.node);
    this.key = "";
  }

  /** players: [{id, nickname, color, online}]; counts: Map owner -> cubes; you: id or null. */
  render(players, counts, you) {
    const key = JSON.stringify([players, [...counts], you]);
    if (key === this.key) return; // the DOM is only touched when something changed
    this.key = key;
    const items = players.map((p) =>
      el("li", { class: p.online === false ? "offline" : "online", dataset: { player: p.id } }, [
        el("span", { class: "swatch", style: `background:${safeColor(p.color)}` }),
        el("span", { class: "name", text: p.nickname + (p.id === you ? " (you)" : "") }),
        el("span", { class: "count", title: "cubes", text: String(counts.get(p.id) ?? 0) }),
      ]),
    );
    if (items.length === 0) items.push(el("li", { class: "empty", text: "nobody yet" }));
    this.list.replaceChildren(...items);
  }

  dispose() {
    this.node.remove();
  }
}

/** Only #rrggbb reaches a style attribute. */
export function safeColor(color) {
  return typeof color === "string" && /^#[0-9a-fA-F]{6}$/.test(color) ? color : "#9aa0a6";
}
