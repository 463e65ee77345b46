/** The screen shown when the game cannot go on: the match ended, or the socket closed for good. */

import { el } from "./dom.js";

export class FinalOverlay {
  constructor(root) {
    this.title = el("h2");
    this.text = el("p");
    this.links = el("p", { class: "links" });
    this.node = el("div", { class: "final-overlay", hidden: true, role: "dialog", "aria-modal": "true" }, [
      el("div", { class: "card" }, [this.title, this.text, this.links]),
    ]);
    root.append(this.node);
    this.kind = null;
  }

  /** The match is over: a link to its summary. */
  ended(matchId, reason) {
    this.open("ended", "Match over", reason || "The match has ended.", [
      [`/match/${encodeURIComponent(matchId)}/summary/`, "See the summary", "summary"],
      ["/", "Back to the lobby", "lobby"],
    ]);
  }

  /** The socket closed with a final code (replaced, full, kicked, ...). */
  closed(text, { reload = false } = {}) {
    if (this.kind === "ended") return; // the ended screen says more
    const links = [];
    if (reload) links.push([window.location.href, "Play here instead", "reload"]);
    links.push(["/", "Back to the lobby", "lobby"]);
    this.open("closed", "Disconnected", text, links);
  }

  open(kind, title, text, links) {
    this.kind = kind;
    this.node.dataset.kind = kind;
    this.title.textContent = title;
    this.text.textContent = text;
    this.links.replaceChildren(...links.map(([href, label, name]) => el("a", { href, class: `button ${name}`, text: label })));
    this.node.hidden = false;
  }

  get shown() {
    return !this.node.hidden;
  }

  dispose() {
    this.node.remove();
  }
}
