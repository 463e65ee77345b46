/** Top left: the match, who you are, the connection state, ping and server tick. */

import { el } from "./dom.js";
import { connectionText } from "./messages.js";

export class StatusPanel {
  constructor(root, { matchName, nickname, role, shareUrl }) {
    this.swatch = el("span", { class: "swatch" });
    this.who = el("span", { class: "who", text: role === "spectator" ? "spectating" : nickname || "you" });
    this.conn = el("span", { class: "conn", dataset: { state: "connecting" }, text: "connecting…" });
    this.ping = el("span", { class: "ping", text: "–" });
    this.tick = el("span", { class: "tick", text: "–" });
    this.node = el("section", { class: "panel status", "aria-label": "Match status" }, [
      el("div", { class: "row title" }, [el("a", { href: "/", class: "back", text: "← Lobby" }), el("strong", { text: matchName })]),
      el("div", { class: "row" }, [this.swatch, this.who]),
      el("div", { class: "row" }, [el("span", { class: "dot" }), this.conn]),
      el("div", { class: "row small" }, [el("span", { text: "ping " }), this.ping, el("span", { text: " · tick " }), this.tick]),
      shareUrl ? this.shareRow(shareUrl) : null,
    ]);
    root.append(this.node);
  }

  /** A private match's creator gets the invite link (with the code), and a copy button. */
  shareRow(shareUrl) {
    const url = new URL(shareUrl, window.location.href).href;
    const copy = el("button", { type: "button", class: "copy", text: "copy invite link", title: url });
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(url);
        copy.textContent = "copied";
      } catch {
        window.prompt("Invite link", url);
      }
    });
    return el("div", { class: "row small share" }, [copy]);
  }

  setColor(color) {
    this.swatch.style.background = color || "transparent";
    this.swatch.hidden = !color;
  }

  setConnection(detail) {
    this.conn.dataset.state = detail.state;
    this.node.dataset.state = detail.state;
    this.conn.textContent = connectionText(detail);
  }

  setPing(rtt) {
    this.ping.textContent = rtt === null || rtt === undefined ? "–" : `${Math.round(rtt)} ms`;
  }

  setTick(tick) {
    this.tick.textContent = tick === null || tick === undefined ? "–" : String(tick);
  }

  dispose() {
    this.node.remove();
  }
}
