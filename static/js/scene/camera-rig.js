/**
 * A top-down-ish RTS camera: looks at a ground point from a fixed pitch; pans with WASD (by
 * the time a key is held, at a speed that follows the zoom: scene/pan.js) and a middle-button
 * drag (the grabbed ground point stays under the pointer), zooms with the wheel toward the
 * pointer. Target and distance are clamped so the arena stays in view. Its first view frames
 * the player's cubes with every one readable (frameStart, scene/framing.js).
 */

import * as THREE from "three";
import {
  CAMERA_FOV,
  CAMERA_MAX_DISTANCE_FACTOR,
  CAMERA_MIN_DISTANCE,
  CAMERA_PAN_SPEED,
  CAMERA_PITCH,
  CAMERA_START_DISTANCE_FACTOR,
  CAMERA_ZOOM_STEP,
} from "../tunables.js";
import { matchKey, PAN_KEYS } from "../input/key-bindings.js";
import { isTyping } from "../input/typing.js";
import { rigView, startView } from "./framing.js";
import { PanKeys, panSpeed } from "./pan.js";

const GROUND = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
const _ndc = new THREE.Vector2();
const _hit = new THREE.Vector3();
const _before = new THREE.Vector3();
const _after = new THREE.Vector3();
const _v = new THREE.Vector3();

export class CameraRig {
  constructor(arenaWidth, arenaDepth) {
    this.target = new THREE.Vector3(0, 0, 0);
    // Near plane well in front of the nearest zoom: depth precision for the flat layers on the
    // ground (grid, contact shadows, rings).
    this.camera = new THREE.PerspectiveCamera(CAMERA_FOV, 1, 0.5, 1000);
    this.minDistance = CAMERA_MIN_DISTANCE;
    this.viewWidth = 1;
    this.viewHeight = 1;
    this.setBounds(arenaWidth, arenaDepth, true);
    this.raycaster = new THREE.Raycaster();
    this.element = null;
    this.keys = new PanKeys(PAN_KEYS);
    this.grab = null; // the ground point held by a middle-button drag
    this.steered = false; // the player moved the view: the first framing must not take it back
    this.onWheel = (ev) => this.wheel(ev);
    this.onPointerDown = (ev) => this.pointerDown(ev);
    this.onPointerMove = (ev) => this.pointerMove(ev);
    this.onPointerUp = (ev) => this.pointerUp(ev);
    this.onKeyDown = (ev) => this.keyDown(ev);
    this.onKeyUp = (ev) => this.keys.release(ev.code, ev.timeStamp);
    this.onBlur = () => this.keys.clear();
    // A middle press must not start the browser's autoscroll or paste.
    this.onMouseDown = (ev) => {
      if (ev.button === 1) ev.preventDefault();
    };
    this.apply();
  }

  connect(element) {
    this.element = element;
    element.addEventListener("wheel", this.onWheel, { passive: false });
    element.addEventListener("pointerdown", this.onPointerDown);
    element.addEventListener("pointermove", this.onPointerMove);
    element.addEventListener("pointerup", this.onPointerUp);
    element.addEventListener("pointercancel", this.onPointerUp);
    element.addEventListener("mousedown", this.onMouseDown);
    element.addEventListener("auxclick", this.onMouseDown);
    window.addEventListener("keydown", this.onKeyDown);
    window.addEventListener("keyup", this.onKeyUp);
    window.addEventListener("blur", this.onBlur);
    return this;
  }

  dispose() {
    const el = this.element;
    if (el) {
      el.removeEventListener("wheel", this.onWheel);
      el.removeEventListener("pointerdown", this.onPointerDown);
      el.removeEventListener("pointermove", this.onPointerMove);
      el.removeEventListener("pointerup", this.onPointerUp);
      el.removeEventListener("pointercancel", this.onPointerUp);
      el.removeEventListener("mousedown", this.onMouseDown);
      el.removeEventListener("auxclick", this.onMouseDown);
    }
    window.removeEventListener("keydown", this.onKeyDown);
    window.removeEventListener("keyup", this.onKeyUp);
    window.removeEventListener("blur", this.onBlur);
    this.element = null;
  }

  /** The arena's size: limits for the target and the zoom (and the first view when `initial`). */
  setBounds(arenaWidth, arenaDepth, initial = false) {
    this.halfW = arenaWidth / 2;
    this.halfD = arenaDepth / 2;
    const side = Math.max(arenaWidth, arenaDepth);
    this.maxDistance = Math.max(this.minDistance * 2, side * CAMERA_MAX_DISTANCE_FACTOR);
    if (initial) this.distance = side * CAMERA_START_DISTANCE_FACTOR;
    this.camera.far = Math.max(1000, side * 10);
    this.camera.updateProjectionMatrix();
    if (!initial) this.apply();
  }

  setAspect(aspect) {
    this.camera.aspect = aspect;
    this.camera.updateProjectionMatrix();
  }

  /** The canvas's size in CSS pixels (the first view is framed for it). */
  setViewport(width, height) {
    this.viewWidth = width;
    this.viewHeight = height;
    this.setAspect(width / height);
  }

  /**
   * The first view: frame own cubes `points` ([[x, z]]), or the arena when there are none,
   * with every own cube on screen readable (scene/framing.js startView).
   */
  frameStart(points, arenaWidth, arenaDepth) {
    const view = rigView(this.viewWidth, this.viewHeight);
    const start = startView(view, points, [arenaWidth, arenaDepth], { minDistance: this.minDistance, maxDistance: this.maxDistance });
    this.target.set(start.x, 0, start.z);
    this.distance = start.distance;
    this.apply();
    return start;
  }

  /** Per frame: WASD panning for the time each key was held until `now` (ms, performance.now()). */
  update(now) {
    if (this.keys.size === 0) return;
    const [dx, dz] = this.keys.take(now);
    if (dx === 0 && dz === 0) return;
    const speed = panSpeed(this.distance, CAMERA_PAN_SPEED);
    this.moveTarget(dx * speed, dz * speed);
  }

  moveTarget(dx, dz) {
    this.steered = true;
    this.target.x += dx;
    this.target.z += dz;
    this.apply();
  }

  /** Look at ground point (x, z): it comes to the middle of the view (the minimap, a group). */
  lookAt(x, z) {
    this.moveTarget(x - this.target.x, z - this.target.z);
  }

  /** The ground under the view's corners, [[x, z] x4] from the top left clockwise, or null. */
  viewCorners() {
    if (!this.element) return null;
    const rect = this.element.getBoundingClientRect();
    const corners = [];
    for (const [px, py] of [[0, 0], [rect.width, 0], [rect.width, rect.height], [0, rect.height]]) {
      if (this.groundAt(px, py, _hit) === null) return null;
      corners.push([_hit.x, _hit.z]);
    }
    return corners;
  }

  /** Place the camera from target, distance and pitch, inside the limits. */
  apply() {
    this.distance = Math.min(this.maxDistance, Math.max(this.minDistance, this.distance));
    this.target.x = Math.min(this.halfW, Math.max(-this.halfW, this.target.x));
    this.target.z = Math.min(this.halfD, Math.max(-this.halfD, this.target.z));
    const cam = this.camera;
    cam.position.set(
      this.target.x,
      this.distance * Math.sin(CAMERA_PITCH),
      this.target.z + this.distance * Math.cos(CAMERA_PITCH),
    );
    cam.lookAt(this.target);
    cam.updateMatrixWorld();
  }

  // -- picking helpers ------------------------------------------------------------------

  /** Point the raycaster through element-relative pixel (px, py). */
  rayAt(px, py) {
    const rect = this.element.getBoundingClientRect();
    _ndc.set((px / rect.width) * 2 - 1, -(py / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(_ndc, this.camera);
    return this.raycaster.ray;
  }

  /** The ground point under element pixel (px, py) into `out`; null if the ray misses it. */
  groundAt(px, py, out) {
    const ray = this.rayAt(px, py);
    return ray.intersectPlane(GROUND, out);
  }

  /** The ground point under the screen centre (the spawn point), into `out`. */
  groundAtCentre(out) {
    return out.set(this.target.x, 0, this.target.z);
  }

  /** Element pixel of world point (x, y, z) into out {x, y, visible}. */
  project(x, y, z, out) {
    const rect = this.element.getBoundingClientRect();
    _v.set(x, y, z).project(this.camera);
    out.x = ((_v.x + 1) / 2) * rect.width;
    out.y = ((1 - _v.y) / 2) * rect.height;
    out.visible = _v.z > -1 && _v.z < 1;
    return out;
  }

  // -- input ----------------------------------------------------------------------------

  wheel(ev) {
    ev.preventDefault();
    const rect = this.element.getBoundingClientRect();
    const px = ev.clientX - rect.left;
    const py = ev.clientY - rect.top;
    const hadPoint = this.groundAt(px, py, _before) !== null;
    const step = ev.deltaY > 0 ? CAMERA_ZOOM_STEP : 1 / CAMERA_ZOOM_STEP;
    this.steered = true;
    this.distance *= step;
    this.apply();
    // Zoom toward the pointer: keep the ground point under it where it was.
    if (hadPoint && this.groundAt(px, py, _after) !== null) {
      this.moveTarget(_before.x - _after.x, _before.z - _after.z);
    }
  }

  pointerDown(ev) {
    if (ev.button !== 1) return;
    ev.preventDefault();
    const rect = this.element.getBoundingClientRect();
    if (this.groundAt(ev.clientX - rect.left, ev.clientY - rect.top, _hit) === null) return;
    this.grab = { x: _hit.x, z: _hit.z, pointer: ev.pointerId };
    this.element.setPointerCapture?.(ev.pointerId);
  }

  pointerMove(ev) {
    if (!this.grab || ev.pointerId !== this.grab.pointer) return;
    const rect = this.element.getBoundingClientRect();
    if (this.groundAt(ev.clientX - rect.left, ev.clientY - rect.top, _hit) === null) return;
    this.moveTarget(this.grab.x - _hit.x, this.grab.z - _hit.z);
  }

  pointerUp(ev) {
    if (!this.grab || ev.pointerId !== this.grab.pointer) return;
    this.grab = null;
    this.element.releasePointerCapture?.(ev.pointerId);
  }

  keyDown(ev) {
    // A chord the keyboard binds (Shift+A selects all) is not a pan.
    if (ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target) || matchKey(ev) !== null) return;
    this.keys.press(ev.code, ev.timeStamp);
  }
}
