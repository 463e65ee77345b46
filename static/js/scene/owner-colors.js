/** Each player's colour as a three.js Color (linear), from the `players` list. */

import * as THREE from "three";
import { UNKNOWN_OWNER_COLOR } from "../tunables.js";

const HEX = /^#[0-9a-fA-F]{6}$/;

export class OwnerColors {
  constructor() {
    this.colors = new Map();
    this.unknown = new THREE.Color(UNKNOWN_OWNER_COLOR);
  }

  /** players: [{id, color}] */
  set(players) {
    this.colors.clear();
    for (const p of players) {
      if (HEX.test(p.color ?? "")) this.colors.set(p.id, new THREE.Color(p.color));
    }
  }

  get(owner) {
    return this.colors.get(owner) ?? this.unknown;
  }
}
