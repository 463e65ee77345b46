/**
 * The minimap (bottom left): every cube as a dot in its owner's colour (your own larger
 * and ringed in white, so they stand out whatever the colours), and the camera's view as an
 * outline on the arena. Left click (or drag) looks there; right click orders the selection
 * there. Emits `look` {x, z} and `order` {x, z}; the app decides what they mean.
 */

import { MINIMAP_SIZE_PX, UNKNOWN_OWNER_COLOR } from "../tunables.js";
import { el } from "./dom.js";
import { MinimapProjection } from "./minimap-projection.js";
import { safeColor } from "./players-panel.js";

const BACKGROUND = "#1b222c";
const BORDER = "rgba(255, 255, 255, 0.35)";
const VIEW = "rgba(255, 255, 255, 0.85)";
const OWN_RING = "#ffffff";
const _p = { x: 0, y: 0 };

export class Minimap extends EventTarget {
  constructor(root, [arenaWidth, arenaDepth], { maxSide = MINIMAP_SIZE_PX } = {}) {
    super();
    this.root = root;
    this.projection = new MinimapProjection(arenaWidth, arenaDepth, maxSide);
    this.canvas = el("canvas", { class: "minimap-canvas", style: "display:block;cursor:crosshair;touch-action:none" });
    this.node = el(
      "section",
      {
        class: "panel minimap",
        "aria-label": "Minimap: click to look there, right-click to send the selection there",
        title: "Minimap: click to look there, right-click to send the selection there",
        style: "left:12px;bottom:64px;padding:4px;line-height:0",
      },
      [this.canvas],
    );
    this.colors = new Map(); // owner -> CSS colour
    this.mine = []; // own cubes of the frame being drawn
    this.dragging = null; // pointer id of a left drag
    this.onDown = (ev) => this.down(ev);
    this.onMove = (ev) => this.move(ev);
    this.onUp = (ev) => this.up(ev);
    this.onMenu = (ev) => ev.preventDefault();
    this.resize();
  }

  connect() {
    const c = this.canvas;
    this.root.append(this.node);
    c.addEventListener("pointerdown", this.onDown);
    c.addEventListener("pointermove", this.onMove);
    c.addEventListener("pointerup", this.onUp);
    c.addEventListener("pointercancel", this.onUp);
    c.addEventListener("contextmenu", this.onMenu);
    return this;
  }

  dispose() {
    const c = this.canvas;
    c.removeEventListener("pointerdown", this.onDown);
    c.removeEventListener("pointermove", this.onMove);
    c.removeEventListener("pointerup", this.onUp);
    c.removeEventListener("pointercancel", this.onUp);
    c.removeEventListener("contextmenu", this.onMenu);
    this.node.remove();
  }

  setArena(width, depth) {
    this.projection.setArena(width, depth);
    this.resize();
  }

  resize() {
    const { width, height } = this.projection;
    this.canvas.width = width;
    this.canvas.height = height;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  /** players: [{id, color}] */
  setPlayers(players) {
    this.colors.clear();
    for (const p of players) this.colors.set(p.id, safeColor(p.color));
  }

  /** Viewport pixel {x, y} of ground point (x, z) on the minimap (the debug hook's minimapOf). */
  pageOf(x, z) {
    const rect = this.canvas.getBoundingClientRect();
    const p = this.projection.toMap(x, z);
    return { x: rect.left + (p.x * rect.width) / this.projection.width, y: rect.top + (p.y * rect.height) / this.projection.height };
  }

  /** The ground point under a pointer event. */
  arenaAt(ev) {
    const rect = this.canvas.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) * this.projection.width) / (rect.width || 1);
    const py = ((ev.clientY - rect.top) * this.projection.height) / (rect.height || 1);
    return this.projection.toArena(px, py);
  }

  down(ev) {
    if (ev.button === 0) {
      ev.preventDefault();
      this.dragging = ev.pointerId;
      this.canvas.setPointerCapture?.(ev.pointerId);
      this.emit("look", this.arenaAt(ev));
    } else if (ev.button === 2) {
      ev.preventDefault();
      this.emit("order", this.arenaAt(ev));
    }
  }

  move(ev) {
    if (this.dragging === ev.pointerId) this.emit("look", this.arenaAt(ev));
  }

  up(ev) {
    if (this.dragging !== ev.pointerId) return;
    this.dragging = null;
    this.canvas.releasePointerCapture?.(ev.pointerId);
  }

  /**
   * Draw: `cubes` iterable of {x, z, owner, own}; `view` the ground corners of the screen
   * [[x, z] x4] (top left, top right, bottom right, bottom left) or null.
   */
  draw(cubes, view) {
    const g = this.canvas.getContext?.("2d");
    if (!g) return;
    const proj = this.projection;
    const { width, height } = proj;
    g.fillStyle = BACKGROUND;
    g.fillRect(0, 0, width, height);
    g.strokeStyle = BORDER;
    g.lineWidth = 1;
    g.strokeRect(0.5, 0.5, width - 1, height - 1);
    // Other players' cubes first, small; your own on top, larger, ringed in white. `cubes`
    // may be a one-pass iterator: own ones wait in a reused list.
    const mine = this.mine;
    mine.length = 0;
    for (const c of cubes) {
      if (c.own) {
        mine.push(c);
        continue;
      }
      proj.toMap(c.x, c.z, _p);
      g.fillStyle = this.colors.get(c.owner) ?? UNKNOWN_OWNER_COLOR;
      g.fillRect(Math.round(_p.x) - 1, Math.round(_p.y) - 1, 3, 3);
    }
    for (const c of mine) {
      proj.toMap(c.x, c.z, _p);
      const x = Math.round(_p.x);
      const y = Math.round(_p.y);
      g.fillStyle = OWN_RING;
      g.fillRect(x - 3, y - 3, 6, 6);
      g.fillStyle = this.colors.get(c.owner) ?? UNKNOWN_OWNER_COLOR;
      g.fillRect(x - 2, y - 2, 4, 4);
    }
    mine.length = 0;
    const outline = proj.viewOutline(view);
    if (outline) {
      g.strokeStyle = VIEW;
      g.lineWidth = 1.5;
      g.beginPath();
      outline.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
      g.closePath();
      g.stroke();
    }
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
