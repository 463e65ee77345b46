/**
 * The WebGL renderer and the scene root: owns the canvas, follows its container's size,
 * and draws the scene through the camera rig's camera once per frame.
 */

import * as THREE from "three";

const BACKGROUND = "#0d1117";

export class ArenaRenderer {
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, powerPreference: "high-performance" });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    this.canvas = this.renderer.domElement;
    this.canvas.className = "arena-canvas";
    this.canvas.tabIndex = 0;
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(BACKGROUND);
    // Depth cue: the far ground fades into the background (the view sets the range per zoom).
    this.scene.fog = new THREE.Fog(BACKGROUND, 50, 150);
    this.rig = null;
    this.onResize = () => this.resize();
    this.observer = null;
  }

  connect(rig) {
    this.rig = rig;
    this.container.appendChild(this.canvas);
    window.addEventListener("resize", this.onResize);
    if (typeof ResizeObserver === "function") {
      this.observer = new ResizeObserver(this.onResize);
      this.observer.observe(this.container);
    }
    this.resize();
    return this;
  }

  dispose() {
    window.removeEventListener("resize", this.onResize);
    this.observer?.disconnect();
    this.renderer.dispose();
    this.canvas.remove();
  }

  resize() {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h, false);
    this.canvas.style.width = "100%";
    this.canvas.style.height = "100%";
    this.rig?.setViewport(w, h);
  }

  render() {
    this.renderer.render(this.scene, this.rig.camera);
  }

  /**
   * For the frame-time benchmark: draw the scene `n` times, each waited for (a one-pixel read
   * makes the GPU, or software WebGL's rasteriser, finish), and return the ms each took.
   */
  timeRenders(n) {
    const gl = this.renderer.getContext();
    const pixel = new Uint8Array(4);
    const times = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      this.render();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
      times.push(performance.now() - t);
    }
    return times;
  }
}
