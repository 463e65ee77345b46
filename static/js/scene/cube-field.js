/**
 * All cubes as one InstancedMesh (one draw call for hundreds), their contact shadows as a
 * second (one more draw call, and no upload of its own: it reads the cubes' instance
 * matrices), plus one instanced ring mesh marking the selected and inspected cubes. Each
 * frame the caller writes positions and colours between begin() and end(); nothing is
 * allocated unless the capacity grows.
 *
 * What tells cubes apart beyond their colour, in the cubes' own shader (no extra geometry):
 * darkened edges on every face (touching cubes stay apart), and a white square on the top of
 * the player's own cubes (a per-instance mark, uploaded only when it changes). A hovered cube
 * is drawn lifted (`lift`): its shadow spreads and fades under it.
 */

import * as THREE from "three";
import {
  CUBE_CAPACITY_STEP,
  CUBE_EDGE_DARKEN,
  CUBE_SIZE,
  OWN_MARK_SIZE,
  SHADOW_OFFSET,
  SHADOW_OPACITY,
  SHADOW_SPREAD,
} from "../tunables.js";

/** Instance marks (a float per cube). */
export const MARK_OWN = 1;

function identityMatrices(array, from, to) {
  for (let i = from; i < to; i++) {
    const o = i * 16;
    array[o] = array[o + 5] = array[o + 10] = array[o + 15] = 1;
  }
}

/** An InstancedMesh with dynamic, directly writable matrix and (optionally) colour buffers. */
function makeInstanced(geometry, material, capacity, colors = true) {
  const mesh = new THREE.InstancedMesh(geometry, material, capacity);
  mesh.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
  identityMatrices(mesh.instanceMatrix.array, 0, capacity);
  if (colors) {
    mesh.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(capacity * 3), 3);
    mesh.instanceColor.setUsage(THREE.DynamicDrawUsage);
  }
  mesh.count = 0;
  mesh.frustumCulled = false; // instances spread over the arena; culling the whole is pointless
  return mesh;
}

/** The cubes' Lambert material with edges and the own mark drawn from the box's own coordinates. */
function cubeMaterial() {
  const material = new THREE.MeshLambertMaterial({ color: "#ffffff" });
  const half = (CUBE_SIZE / 2).toFixed(4);
  material.onBeforeCompile = (shader) => {
    shader.vertexShader = shader.vertexShader
      .replace("#include <common>", "#include <common>\nattribute float instanceMark;\nvarying vec3 vBox;\nvarying float vMark;")
      .replace("#include <begin_vertex>", `#include <begin_vertex>\nvBox = position / ${half};\nvMark = instanceMark;`);
    shader.fragmentShader = shader.fragmentShader
      .replace("#include <common>", "#include <common>\nvarying vec3 vBox;\nvarying float vMark;")
      .replace(
        "#include <color_fragment>",
        `#include <color_fragment>
        {
          vec3 a = abs(vBox);
          bool top = vBox.y > 0.0 && a.y >= max(a.x, a.z);
          // Across the face this fragment is on: 0 in its middle, 1 at its edges.
          float e = top || a.y >= max(a.x, a.z) ? max(a.x, a.z) : (a.x >= a.z ? max(a.y, a.z) : max(a.x, a.y));
          float w = fwidth(e);
          diffuseColor.rgb *= 1.0 - ${CUBE_EDGE_DARKEN.toFixed(3)} * smoothstep(0.86 - w, 0.86 + w, e);
          if (top && vMark > 0.5) {
            float mark = 1.0 - smoothstep(${OWN_MARK_SIZE.toFixed(3)} - w, ${OWN_MARK_SIZE.toFixed(3)} + w, e);
            diffuseColor.rgb = mix(diffuseColor.rgb, vec3(1.0), 0.85 * mark);
          }
        }`,
      );
  };
  material.customProgramCacheKey = () => "cubearena-cube-v1";
  return material;
}

/**
 * The contact shadows: a soft rounded square on the ground around each cube, read straight
 * from the cube's instance matrix (its translation). A lifted cube's shadow spreads and fades.
 */
function shadowMaterial() {
  const half = CUBE_SIZE / 2;
  return new THREE.ShaderMaterial({
    transparent: true,
    depthWrite: false,
    uniforms: {
      opacity: { value: SHADOW_OPACITY },
      offset: { value: new THREE.Vector2(SHADOW_OFFSET[0], SHADOW_OFFSET[1]) },
    },
    vertexShader: `
      uniform vec2 offset;
      varying vec2 vAt;
      varying float vFade;
      void main() {
        vec3 c = instanceMatrix[3].xyz;
        float lift = max(0.0, c.y - ${half.toFixed(4)});
        vec2 at = position.xz;
        // The frame's hole is the footprint, hidden by a cube on the ground; under a lifted
        // one part of it shows, so the hole closes.
        if (max(abs(at.x), abs(at.y)) < ${(half + 0.001).toFixed(4)}) at *= max(0.0, 1.0 - 2.5 * lift);
        vAt = at;
        vFade = 1.0 / (1.0 + 3.0 * lift);
        at *= 1.0 + 1.2 * lift;
        float top = c.y + ${half.toFixed(4)};
        vec3 p = vec3(c.x + offset.x * top + at.x, 0.02, c.z + offset.y * top + at.y);
        gl_Position = projectionMatrix * viewMatrix * vec4(p, 1.0);
      }`,
    fragmentShader: `
      uniform float opacity;
      varying vec2 vAt;
      varying float vFade;
      void main() {
        // Distance outside the cube's footprint, 0..1 across the spread.
        vec2 q = max(abs(vAt) - ${half.toFixed(4)}, 0.0);
        float d = length(q) / ${SHADOW_SPREAD.toFixed(4)};
        float a = (1.0 - smoothstep(0.0, 1.0, d)) * opacity * vFade;
        gl_FragColor = vec4(0.0, 0.0, 0.0, a);
      }`,
  });
}

/**
 * A flat square frame on the ground, from `inner` to `outer` (half sides): a contact shadow
 * only shows around the cube (its footprint is always behind the cube), so only that is drawn.
 */
function squareFrame(inner, outer) {
  const pts = [];
  const quad = (x0, z0, x1, z1) => pts.push(x0, 0, z0, x0, 0, z1, x1, 0, z1, x0, 0, z0, x1, 0, z1, x1, 0, z0);
  quad(-outer, -outer, outer, -inner);
  quad(-outer, inner, outer, outer);
  quad(-outer, -inner, -inner, inner);
  quad(inner, -inner, outer, inner);
  const geo = new THREE.BufferGeometry();
  geo.setAttribute("position", new THREE.Float32BufferAttribute(pts, 3));
  return geo;
}

export class CubeField {
  constructor(scene, capacity = CUBE_CAPACITY_STEP) {
    this.scene = scene;
    this.size = CUBE_SIZE;
    this.cubeGeometry = new THREE.BoxGeometry(CUBE_SIZE, CUBE_SIZE, CUBE_SIZE);
    this.cubeMaterial = cubeMaterial();
    this.shadowGeometry = squareFrame(CUBE_SIZE / 2, CUBE_SIZE / 2 + SHADOW_SPREAD);
    this.shadowMaterial = shadowMaterial();
    this.ringGeometry = new THREE.RingGeometry(CUBE_SIZE * 0.8, CUBE_SIZE * 1.0, 32).rotateX(-Math.PI / 2);
    this.ringMaterial = new THREE.MeshBasicMaterial({ color: "#ffffff", toneMapped: false });
    this.capacity = 0;
    this.cubes = null;
    this.shadows = null;
    this.rings = null;
    this.marks = null; // Float32Array: the per-instance mark
    this.marksDirty = false;
    this.n = 0;
    this.nRings = 0;
    this.grow(capacity);
  }

  connect() {
    this.scene.add(this.shadows, this.cubes, this.rings);
    return this;
  }

  dispose() {
    this.scene.remove(this.shadows, this.cubes, this.rings);
    this.disposeMeshes();
    this.cubeGeometry.dispose();
    this.cubeMaterial.dispose();
    this.shadowGeometry.dispose();
    this.shadowMaterial.dispose();
    this.ringGeometry.dispose();
    this.ringMaterial.dispose();
  }

  disposeMeshes() {
    this.cubes.dispose();
    this.rings.dispose();
    // The shadows share the cubes' matrices (already released): do not release them twice.
    this.shadows.instanceMatrix = new THREE.InstancedBufferAttribute(new Float32Array(16), 16);
    this.shadows.dispose();
  }

  /** Rebuild the meshes with room for at least `needed` instances. */
  grow(needed) {
    const capacity = Math.ceil(needed / CUBE_CAPACITY_STEP) * CUBE_CAPACITY_STEP;
    if (capacity <= this.capacity) return;
    const attached = this.cubes?.parent === this.scene;
    if (this.cubes) {
      this.scene.remove(this.shadows, this.cubes, this.rings);
      this.disposeMeshes();
    }
    this.capacity = capacity;
    this.cubeGeometry.dispose(); // frees the old marks' buffer (the geometry uploads again on use)
    this.marks = new Float32Array(capacity);
    const marks = new THREE.InstancedBufferAttribute(this.marks, 1);
    marks.setUsage(THREE.DynamicDrawUsage);
    this.cubeGeometry.setAttribute("instanceMark", marks);
    this.cubes = makeInstanced(this.cubeGeometry, this.cubeMaterial, capacity);
    this.cubes.name = "cubes";
    this.shadows = makeInstanced(this.shadowGeometry, this.shadowMaterial, capacity, false);
    this.shadows.instanceMatrix = this.cubes.instanceMatrix; // one upload serves both
    this.shadows.name = "contact-shadows";
    this.shadows.renderOrder = -1; // before the other see-through things (markers)
    this.rings = makeInstanced(this.ringGeometry, this.ringMaterial, capacity);
    this.rings.name = "selection-rings";
    if (attached) this.scene.add(this.shadows, this.cubes, this.rings);
  }

  /** Start a frame that will write up to `expected` cubes. */
  begin(expected) {
    if (expected > this.capacity) this.grow(expected);
    this.n = 0;
    this.nRings = 0;
  }

  /**
   * One cube standing on the ground at (x, z) (or `lift` units above it), colour in linear
   * RGB, `mark` MARK_OWN for the player's own.
   */
  cube(x, z, r, g, b, mark = 0, lift = 0) {
    if (this.n >= this.capacity) return;
    const i = this.n++;
    const m = this.cubes.instanceMatrix.array;
    m[i * 16 + 12] = x;
    m[i * 16 + 13] = this.size / 2 + lift;
    m[i * 16 + 14] = z;
    const c = this.cubes.instanceColor.array;
    c[i * 3] = r;
    c[i * 3 + 1] = g;
    c[i * 3 + 2] = b;
    if (this.marks[i] !== mark) {
      this.marks[i] = mark;
      this.marksDirty = true;
    }
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
    this.shadows.count = this.n;
    this.flush(this.rings, this.nRings);
    if (this.marksDirty) {
      // The marks change when a cube is added, removed or changes hands: rarely, so whole.
      this.cubeGeometry.getAttribute("instanceMark").needsUpdate = true;
      this.marksDirty = false;
    }
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
