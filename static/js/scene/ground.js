/**
 * The floor: a dark surround, the arena plate with a 1-unit grid (major lines every 10),
 * and a low amber rim along the arena's bounds so its edge is plain at any zoom. The fog
 * (scene/arena-renderer.js, ranged by the view) fades it all into the background far away.
 */

import * as THREE from "three";

const MINOR = 1;
const MAJOR = 10;

/**
 * Grid lines every `step` across the plate (every `skipEvery`-th left out: the major grid draws
 * it), each cut into pieces `piece` long: a line reaching far behind the camera is clipped
 * badly by some renderers (software WebGL dropped whole lines once the view came close).
 */
function gridGeometry(width, depth, step, skipEvery = 0, piece = MAJOR) {
  const hw = width / 2;
  const hd = depth / 2;
  const pts = [];
  const nx = Math.floor(width / step);
  const nz = Math.floor(depth / step);
  const cut = (length) => Math.max(1, Math.ceil(length / piece));
  for (let i = 0; i <= nx; i++) {
    if (skipEvery && i % skipEvery === 0) continue;
    const x = -hw + i * step;
    const n = cut(depth);
    for (let k = 0; k < n; k++) pts.push(x, 0, -hd + (depth * k) / n, x, 0, -hd + (depth * (k + 1)) / n);
  }
  for (let i = 0; i <= nz; i++) {
    if (skipEvery && i % skipEvery === 0) continue;
    const z = -hd + i * step;
    const n = cut(width);
    for (let k = 0; k < n; k++) pts.push(-hw + (width * k) / n, 0, z, -hw + (width * (k + 1)) / n, 0, z);
  }
  const geo = new THREE.BufferGeometry();
  geo.setAttribute("position", new THREE.Float32BufferAttribute(pts, 3));
  return geo;
}

/** The ground from -outer to outer on both axes, less the plate's width x depth in the middle. */
function frameGeometry(outer, width, depth) {
  const hw = width / 2;
  const hd = depth / 2;
  const quads = [
    [-outer, -outer, outer, -hd],
    [-outer, hd, outer, outer],
    [-outer, -hd, -hw, hd],
    [hw, -hd, outer, hd],
  ];
  const pts = [];
  for (const [x0, z0, x1, z1] of quads) pts.push(x0, 0, z0, x0, 0, z1, x1, 0, z1, x0, 0, z0, x1, 0, z1, x1, 0, z0);
  const geo = new THREE.BufferGeometry();
  geo.setAttribute("position", new THREE.Float32BufferAttribute(pts, 3));
  return geo;
}

export class Ground {
  constructor(scene, width, depth) {
    this.scene = scene;
    this.group = new THREE.Group();
    this.group.name = "ground";
    this.disposables = [];
    const side = Math.max(width, depth);

    // Unlit: a flat floor's light is the same everywhere, and these two cover the whole view
    // (the colours are what the hemisphere and sun made of #2b3440 and #151a21). The surround
    // is a frame around the plate, so no pixel is drawn twice.
    this.mesh(frameGeometry(side * 4, width, depth), new THREE.MeshBasicMaterial({ color: "#14191f" })).position.y = -0.02;
    const plate = this.mesh(new THREE.PlaneGeometry(width, depth), new THREE.MeshBasicMaterial({ color: "#283140" }));
    plate.rotation.x = -Math.PI / 2;

    // Fine lines only where they do not swamp the view.
    if (side <= 400) {
      const minor = new THREE.LineSegments(
        this.own(gridGeometry(width, depth, MINOR, MAJOR / MINOR)),
        this.own(new THREE.LineBasicMaterial({ color: "#3a4654" })),
      );
      minor.position.y = 0.005;
      this.group.add(minor);
    }
    const major = new THREE.LineSegments(
      this.own(gridGeometry(width, depth, MAJOR)),
      this.own(new THREE.LineBasicMaterial({ color: "#56657a" })),
    );
    major.position.y = 0.01;
    this.group.add(major);

    const rimMat = this.own(new THREE.MeshLambertMaterial({ color: "#e5a83d", emissive: "#5a3a08" }));
    const t = 0.3; // rim thickness
    const h = 0.35;
    const rims = [
      [width + 2 * t, t, 0, -depth / 2 - t / 2],
      [width + 2 * t, t, 0, depth / 2 + t / 2],
      [t, depth, -width / 2 - t / 2, 0],
      [t, depth, width / 2 + t / 2, 0],
    ];
    for (const [sx, sz, x, z] of rims) {
      const rim = this.mesh(new THREE.BoxGeometry(sx, h, sz), rimMat);
      rim.position.set(x, h / 2, z);
    }
  }

  own(thing) {
    this.disposables.push(thing);
    return thing;
  }

  mesh(geometry, material) {
    const m = new THREE.Mesh(this.own(geometry), this.own(material));
    this.group.add(m);
    return m;
  }

  connect() {
    this.scene.add(this.group);
    return this;
  }

  dispose() {
    this.scene.remove(this.group);
    for (const d of new Set(this.disposables)) d.dispose();
  }
}
