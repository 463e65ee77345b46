/** Sky/ground fill plus one sun so the cubes' faces read apart. No shadows: 500 cubes stay cheap. */

import * as THREE from "three";

export class Lights {
  constructor(scene) {
    this.scene = scene;
    this.group = new THREE.Group();
    this.group.name = "lights";
    this.group.add(new THREE.HemisphereLight("#dfe8ff", "#2a2f38", 1.6));
    const sun = new THREE.DirectionalLight("#ffffff", 2.0);
    sun.position.set(30, 60, 40);
    this.group.add(sun);
    this.group.add(sun.target);
  }

  connect() {
    this.scene.add(this.group);
    return this;
  }

  dispose() {
    this.scene.remove(this.group);
  }
}
