/**
 * A brief ring-and-pin on the ground where an order went (a move target, a spawn point);
 * it shrinks and fades over MARKER_LIFETIME_MS.
 */

import * as THREE from "three";
import { MARKER_LIFETIME_MS } from "../tunables.js";

export class MoveMarker {
  constructor(scene, color = "#ffffff") {
    this.scene = scene;
    this.group = new THREE.Group();
    this.group.name = "move-marker";
    this.group.visible = false;
    this.material = new THREE.MeshBasicMaterial({ color, transparent: true, depthWrite: false, toneMapped: false });
    this.ringGeometry = new THREE.RingGeometry(0.9, 1.2, 40).rotateX(-Math.PI / 2);
    this.pinGeometry = new THREE.CylinderGeometry(0.06, 0.06, 1.6, 8).translate(0, 0.8, 0);
    const ring = new THREE.Mesh(this.ringGeometry, this.material);
    ring.position.y = 0.04;
    this.group.add(ring, new THREE.Mesh(this.pinGeometry, this.material));
    this.shownAt = -Infinity;
  }

  connect() {
    this.scene.add(this.group);
    return this;
  }

  dispose() {
    this.scene.remove(this.group);
    this.material.dispose();
    this.ringGeometry.dispose();
    this.pinGeometry.dispose();
  }

  show(x, z, now, color = null) {
    if (color) this.material.color.set(color);
    this.group.position.set(x, 0, z);
    this.shownAt = now;
    this.group.visible = true;
  }

  /** Per frame: fade out, hide when done. */
  update(now) {
    if (!this.group.visible) return;
    const f = (now - this.shownAt) / MARKER_LIFETIME_MS;
    if (f >= 1) {
      this.group.visible = false;
      return;
    }
    this.material.opacity = 1 - f * f;
    const s = 1 - 0.5 * f;
    this.group.scale.set(s, 1, s);
  }

  get visible() {
    return this.group.visible;
  }
}
