/**
 * All cubes as one InstancedMesh (one draw call for hundreds), plus one instanced ring mesh
 * marking the selected and inspected cubes. Each frame the caller writes positions and
 * colours between begin() and end(); nothing is allocated unless the capacity grows.
 */

import * as THREE from "three";
import { CUBE_CAPACITY_STEP, CUBE_SIZE } from "../tunables.js";

function identityMatrices(array, from, to) {
  for (let i = from; i < to; i++) {
    const o = i * 16;
    array[o] = array[o + 5] = array[o + 10] = array[o + 15] = 1;
  }
}

/** An InstancedMesh with dynamic, directly writable matrix and colour buffers. */
function makeInstanced(geometry, material, capacity) {
  const mesh = new THREE.InstancedMesh(geometry, material, capacity);
  mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
  identityMatrices(mesh.instanceMatrix.array, 0, capacity);
  mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
  mesh.instanceColor.setUsage(THREE.DynamicDrawUsage);
  mesh.count = 0;
  mesh.frustumCulled = false; // instances spread over the arena; culling the whole is pointless
  return mesh;
}

export class CubeField {
  constructor(scene, capacity = CUBE_CAPACITY_STEP) {
    this.scene = scene;
    this.size = CUBE_SIZE;
    this.cubeGeometry = new THREE.BoxGeometry(CUBE_SIZE, CUBE_SIZE, CUBE_SIZE);
    this.cubeMaterial = new THREE.MeshLambertMaterial({ color: "#ffffff" });
    this.ringGeometry = new THREE.RingGeometry(CUBE_SIZE * 0.8, CUBE_SIZE * 1.0, 32).rotateX(-Math.PI / 2);
    this.ringMaterial = new THREE.MeshBasicMaterial({ color: "#ffffff", toneMapped: false });
    this.capacity = 0;
    this.cubes = null;
    this.rings = null;
    this.n = 0;
    this.nRings = 0;
    this.grow(capacity);
  }

  connect() {
    this.scene.add(this.cubes, this.rings);
    return this;
  }

  dispose() {
    this.scene.remove(this.cubes, this.rings);
    this.cubes.dispose();
    this.rings.dispose();
    this.cubeGeometry.dispose();
    this.cubeMaterial.dispose();
    this.ringGeometry.dispose();
    this.ringMaterial.dispose();
  }

  /** Rebuild the meshes with room for at least `needed` instances. */
  grow(needed) {
    const capacity = Math.ceil(needed / CUBE_CAPACITY_STEP) * CUBE_CAPACITY_STEP;
    if (capacity <= this.capacity) return;
    const attached = this.cubes?.parent === this.scene;
    if (this.cubes) {
      this.scene.remove(this.cubes, this.rings);
      this.cubes.dispose();
      this.rings.dispose();
    }
    this.capacity = capacity;
    this.cubes = makeInstanced(this.cubeGeometry, this.cubeMaterial, capacity);
    this.cubes.name = "cubes";
    this.rings = makeInstanced(this.ringGeometry, this.ringMaterial, capacity);
    this.rings.name = "selection-rings";
    if (attached) this.scene.add(this.cubes, this.rings);
  }

  /** Start a frame that will write up to `expected` cubes. */
  begin(expected) {
    if (expected > this.capacity) this.grow(expected);
    this.n = 0;
    this.nRings = 0;
  }

  /** One cube standing on the ground at (x, z), colour in linear RGB. */
  cube(x, z, r, g, b) {
    if (this.n >= this.capacity) return;
    const i = this.n++;
    const m = this.cubes.instanceMatrix.array;
    m[i * 16 + 12] = x;
    m[i * 16 + 13] = this.size / 2;
    m[i * 16 + 14] = z;
    const c = this.cubes.instanceColor.array;
    c[i * 3] = r;
    c[i * 3 + 1] = g;
    c[i * 3 + 2] = b;
  }

  /** A ring on the ground around the cube at (x, z). */
  ring(x, z, r, g, b) {
    if (this.nRings >= this.capacity) return;
    const i = this.nRings++;
    const m = this.rings.instanceMatrix.array;
    m[i * 16 + 12] = x;
    m[i * 16 + 13] = 0.03;
    m[i * 16 + 14] = z;
    const c = this.rings.instanceColor.array;
    c[i * 3] = r;
    c[i * 3 + 1] = g;
    c[i * 3 + 2] = b;
  }

  end() {
    this.flush(this.cubes, this.n);
    this.flush(this.rings, this.nRings);
  }

  flush(mesh, count) {
    mesh.count = count;
    if (count === 0) return;
    // Upload only the part in use.
    mesh.instanceMatrix.clearUpdateRanges();
    mesh.instanceMatrix.addUpdateRange(0, count * 16);
    mesh.instanceMatrix.needsUpdate = true;
    mesh.instanceColor.clearUpdateRanges();
    mesh.instanceColor.addUpdateRange(0, count * 3);
    mesh.instanceColor.needsUpdate = true;
  }
}
