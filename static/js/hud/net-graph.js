/**
 * The net graph (key G, or its button): round trip and jitter, the server tick the client
 * estimates, bytes per second in and out (and the snapshots' share), the socket's encoding, corrections per second, pending commands and the
 * interpolation delay, with a strip chart of the round trip and of corrections.
 */

import { el } from "./dom.js";

const HISTORY = 120; // samples in the strip chart (one per refresh)

function ms(v) {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : `${Math.round(v)} ms`;
}

function kib(bytesPerSec) {
  return Number.isFinite(bytesPerSec) ? (bytesPerSec / 1024).toFixed(1) : "–";
}

export class NetGraph {
  constructor(root, { visible = false } = {}) {
    this.rows = {};
    const row = (key, label) => {
      this.rows[key] = el("span", { class: "value", text: "–" });
      return el("div", { class: "row" }, [el("span", { class: "label", text: label }), this.rows[key]]);
    };
    this.canvas = el("canvas", { class: "chart", width: HISTORY * 2, height: 40 });
    this.panel = el("section", { class: "panel net-graph", "aria-label": "Network statistics" }, [
      el("h2", { text: "net graph · G" }),
      row("rtt", "round trip"),
      row("jitter", "jitter"),
      row("tick", "server tick"),
      row("bytes", "bytes in / out"),
      row("snaps", "snapshots"),
      row("corrections", "corrections"),
      row("pending", "pending"),
      row("interp", "interpolation"),
      row("sim", "simulated"),
      this.canvas,
    ]);
    this.button = el("button", { type: "button", class: "net-toggle", title: "Net graph (G)", text: "net" });
    this.button.addEventListener("click", () => {
      this.button.blur();
      this.toggle();
    });
    this.node = el("div", { class: "net" }, [this.panel, this.button]);
    root.append(this.node);
    this.rtts = new Float64Array(HISTORY).fill(NaN);
    this.corrections = new Float64Array(HISTORY);
    this.head = 0;
    this.lastCorrections = 0;
    this.setVisible(visible);
  }

  get visible() {
    return !this.panel.hidden;
  }

  setVisible(on) {
    this.panel.hidden = !on;
    this.button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  toggle() {
    this.setVisible(!this.visible);
  }

  /** New numbers (the app's netStats()); cheap when hidden. */
  update(s) {
    this.rtts[this.head] = s.rtt ?? NaN;
    this.corrections[this.head] = s.corrections - this.lastCorrections;
    this.lastCorrections = s.corrections;
    this.head = (this.head + 1) % HISTORY;
    if (!this.visible) return;
    const r = this.rows;
    r.rtt.textContent = `${ms(s.rtt)} ± ${ms(s.rttJitter)}`;
    r.jitter.textContent = `${ms(s.jitter)} (snap arrivals)`;
    r.tick.textContent = s.serverTick === null ? "–" : `${s.serverTick.toFixed(1)} (last snap ${s.snapTick ?? "–"})`;
    r.bytes.textContent = `${kib(s.bytesInPerSec)} / ${kib(s.bytesOutPerSec)} KiB/s · ${s.encoding}`;
    r.snaps.textContent = `${kib(s.snapBytesPerSec)} KiB/s`;
    r.corrections.textContent = `${s.correctionsPerSec.toFixed(2)}/s · ${s.corrections} · max ${s.largestCorrection.toFixed(2)}`;
    r.pending.textContent = `${s.pending} (ack in ~${s.ackDelayTicks} ticks)`;
    r.interp.textContent = `${ms(s.interpDelay)} (${s.interpDelayTicks.toFixed(2)} ticks)`;
    r.sim.textContent = s.sim ? `${s.sim.lag} ± ${s.sim.jitter} ms, loss ${(s.sim.loss * 100).toFixed(1)}% (${s.droppedSnaps} dropped)` : "no";
    if (!s.lagComp) r.sim.textContent += " · lag compensation off";
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const g = c.getContext?.("2d");
    if (!g) return;
    g.clearRect(0, 0, c.width, c.height);
    let max = 100;
    for (const v of this.rtts) if (v > max) max = v;
    g.strokeStyle = "#3dbf5a";
    g.beginPath();
    let moved = false;
    for (let i = 0; i < HISTORY; i++) {
      const v = this.rtts[(this.head + i) % HISTORY];
      if (!Number.isFinite(v)) continue;
      const x = i * 2;
      const y = c.height - 1 - (v / max) * (c.height - 2);
      if (moved) g.lineTo(x, y);
      else g.moveTo(x, y);
      moved = true;
    }
    g.stroke();
    g.fillStyle = "#e5533d";
    for (let i = 0; i < HISTORY; i++) {
      const n = this.corrections[(this.head + i) % HISTORY];
      if (n > 0) g.fillRect(i * 2, 0, 2, Math.min(c.height, 6 + n * 4));
    }
  }

  dispose() {
    this.node.remove();
  }
}
