/**
 * Mouse on the arena: hover (re-picked every frame, since cubes move under a still pointer),
 * left click, left-drag box, right click on the ground. Emits `hover` {id}, `click`
 * {id, shift}, `box` {rect, shift} and `order` {x, z}; the app decides what they mean.
 */

import * as THREE from "three";
import { DRAG_THRESHOLD_PX } from "../tunables.js";
import { normalizeRect } from "./box-select.js";

const _ground = new THREE.Vector3();
const _ray = { ox: 0, oy: 0, oz: 0, dx: 0, dy: 0, dz: 0 };

export class PointerInput extends EventTarget {
  /**
   * @param {HTMLElement} element the canvas
   * @param {CameraRig} rig for rays and ground points
   * @param {(ray) => number|null} pick the cube id a ray {ox..dz} hits
   */
  constructor(element, rig, pick) {
    super();
    this.element = element;
    this.rig = rig;
    this.pick = pick;
    this.inside = false;
    this.px = 0;
    this.py = 0;
    this.press = null; // a left-button press: {x, y, pointer, dragging}
    this.rightPress = null;
    this.hovered = null;
    this.overlay = document.createElement("div");
    this.overlay.className = "select-box";
    this.overlay.hidden = true;
    this.onDown = (ev) => this.down(ev);
    this.onMove = (ev) => this.move(ev);
    this.onUp = (ev) => this.up(ev);
    this.onLeave = () => {
      this.inside = false;
    };
    this.onMenu = (ev) => ev.preventDefault();
  }

  connect() {
    const el = this.element;
    el.parentElement?.appendChild(this.overlay);
    el.addEventListener("pointerdown", this.onDown);
    el.addEventListener("pointermove", this.onMove);
    el.addEventListener("pointerup", this.onUp);
    el.addEventListener("pointercancel", this.onUp);
    el.addEventListener("pointerleave", this.onLeave);
    el.addEventListener("contextmenu", this.onMenu);
    return this;
  }

  dispose() {
    const el = this.element;
    el.removeEventListener("pointerdown", this.onDown);
    el.removeEventListener("pointermove", this.onMove);
    el.removeEventListener("pointerup", this.onUp);
    el.removeEventListener("pointercancel", this.onUp);
    el.removeEventListener("pointerleave", this.onLeave);
    el.removeEventListener("contextmenu", this.onMenu);
    this.overlay.remove();
  }

  /** Per frame: what is under the pointer now. */
  update() {
    const id = this.inside && !this.press?.dragging ? this.pickAt(this.px, this.py) : null;
    if (id !== this.hovered) {
      this.hovered = id;
      this.emit("hover", { id });
    }
  }

  pickAt(px, py) {
    const ray = this.rig.rayAt(px, py);
    _ray.ox = ray.origin.x;
    _ray.oy = ray.origin.y;
    _ray.oz = ray.origin.z;
    _ray.dx = ray.direction.x;
    _ray.dy = ray.direction.y;
    _ray.dz = ray.direction.z;
    return this.pick(_ray);
  }

  local(ev) {
    const rect = this.element.getBoundingClientRect();
    this.px = ev.clientX - rect.left;
    this.py = ev.clientY - rect.top;
    this.inside = true;
  }

  down(ev) {
    this.local(ev);
    this.element.focus?.({ preventScroll: true });
    if (ev.button === 0) {
      this.press = { x: this.px, y: this.py, pointer: ev.pointerId, dragging: false };
      this.element.setPointerCapture?.(ev.pointerId);
    } else if (ev.button === 2) {
      this.rightPress = { x: this.px, y: this.py };
    }
  }

  move(ev) {
    this.local(ev);
    const p = this.press;
    if (!p || ev.pointerId !== p.pointer) return;
    if (!p.dragging && Math.hypot(this.px - p.x, this.py - p.y) > DRAG_THRESHOLD_PX) p.dragging = true;
    if (p.dragging) this.drawBox(normalizeRect(p.x, p.y, this.px, this.py));
  }

  up(ev) {
    this.local(ev);
    if (ev.button === 0 && this.press && ev.pointerId === this.press.pointer) {
      const p = this.press;
      this.press = null;
      this.element.releasePointerCapture?.(ev.pointerId);
      this.overlay.hidden = true;
      if (ev.type === "pointercancel") return;
      if (p.dragging) {
        this.emit("box", { rect: normalizeRect(p.x, p.y, this.px, this.py), shift: ev.shiftKey });
      } else {
        this.emit("click", { id: this.pickAt(this.px, this.py), shift: ev.shiftKey });
      }
    } else if (ev.button === 2 && this.rightPress) {
      this.rightPress = null;
      if (ev.type === "pointercancel") return;
      if (this.rig.groundAt(this.px, this.py, _ground) !== null) {
        this.emit("order", { x: _ground.x, z: _ground.z });
      }
    }
  }

  drawBox(rect) {
    const s = this.overlay.style;
    const offX = this.element.offsetLeft;
    const offY = this.element.offsetTop;
    s.left = `${offX + rect.left}px`;
    s.top = `${offY + rect.top}px`;
    s.width = `${rect.width}px`;
    s.height = `${rect.height}px`;
    this.overlay.hidden = false;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
