/**
 * Everything drawn: renderer, camera rig, ground, lights, the cube field and the order
 * markers. draw() turns the presenter's positions and the selection into one frame.
 * It reads state handed to it; nothing from the network reaches in here.
 *
 * Cubes read apart by more than colour: own cubes carry a white square on top, the hovered
 * one is lifted with a pulsing glow, selected ones stand in a white ring, the inspected
 * (another player's) in an amber one; every cube has a contact shadow, and fog fades the far
 * ground so depth reads on the bare grid.
 */

import * as THREE from "three";
import { FOG_FAR, FOG_NEAR, HOVER_LIFT, HOVER_LIGHTEN, HOVER_LIGHTEN_LOW, HOVER_PULSE_MS, SELECTED_LIGHTEN } from "../tunables.js";
import { ArenaRenderer } from "./arena-renderer.js";
import { CameraRig } from "./camera-rig.js";
import { CubeField, MARK_OWN } from "./cube-field.js";
import { Ground } from "./ground.js";
import { Lights } from "./lights.js";
import { MoveMarker } from "./move-marker.js";
import { OwnerColors } from "./owner-colors.js";

const WHITE = new THREE.Color(1, 1, 1);
/** Provisional cubes (a spawn the server has not confirmed) are drawn paler. */
const PROVISIONAL_LIGHTEN = 0.5;
const INSPECT_RING = new THREE.Color("#ffd24a");
const SELECT_RING = new THREE.Color("#ffffff");
const _c = new THREE.Color();

export class ArenaView {
  constructor(container, arenaWidth, arenaDepth) {
    this.container = container;
    this.arena = [arenaWidth, arenaDepth];
    this.renderer = new ArenaRenderer(container);
    this.scene = this.renderer.scene;
    this.rig = new CameraRig(arenaWidth, arenaDepth);
    this.lights = new Lights(this.scene);
    this.ground = new Ground(this.scene, arenaWidth, arenaDepth);
    this.cubes = new CubeField(this.scene);
    this.moveMarker = new MoveMarker(this.scene, "#ffffff");
    this.spawnMarker = new MoveMarker(this.scene, "#ffffff");
    this.colors = new OwnerColors();
    this.framed = false; // the first view waits for the first welcome (setArena)
    this.frameDue = false;
  }

  get canvas() {
    return this.renderer.canvas;
  }

  connect() {
    this.renderer.connect(this.rig);
    this.rig.connect(this.canvas);
    this.lights.connect();
    this.ground.connect();
    this.cubes.connect();
    this.moveMarker.connect();
    this.spawnMarker.connect();
    return this;
  }

  dispose() {
    this.spawnMarker.dispose();
    this.moveMarker.dispose();
    this.cubes.dispose();
    this.ground.dispose();
    this.lights.dispose();
    this.rig.dispose();
    this.renderer.dispose();
  }

  /**
   * Every welcome names the arena: another size than the page's rebuilds floor and limits.
   * The first one also asks for the first view: the next frame frames the player's cubes,
   * unless the player has moved the view by then (a minimap click in the first frames).
   */
  setArena(width, depth) {
    if (!this.framed) this.frameDue = this.framed = true;
    if (width === this.arena[0] && depth === this.arena[1]) return;
    this.arena = [width, depth];
    this.ground.dispose();
    this.ground = new Ground(this.scene, width, depth).connect();
    this.rig.setBounds(width, depth);
  }

  /**
   * One frame. `drawn`: iterable of {id, x, z, owner, own}; `selection`: Selection; `hovered`: id;
   * `provisional`: iterable of {x, z, owner} drawn paler (spawns not confirmed yet). `now` is
   * performance.now() (key pans and the hover pulse follow it); `dt` is not used any more.
   */
  draw(now, dt, drawn, count, selection, hovered, provisional = []) {
    // A view the player moved before this first frame (a minimap click) is theirs: kept.
    if (this.frameDue && !this.rig.steered) {
      drawn = [...drawn]; // may be an iterator: it is read twice this frame
      const own = [];
      for (const d of drawn) if (d.own) own.push([d.x, d.z]);
      this.rig.frameStart(own, this.arena[0], this.arena[1]);
    }
    this.frameDue = false;
    this.rig.update(now);
    const fog = this.scene.fog;
    fog.near = this.rig.distance * FOG_NEAR;
    fog.far = this.rig.distance * FOG_FAR;
    const cubes = this.cubes;
    cubes.begin(count);
    for (const p of provisional) {
      _c.copy(this.colors.get(p.owner)).lerp(WHITE, PROVISIONAL_LIGHTEN);
      cubes.cube(p.x, p.z, _c.r, _c.g, _c.b, MARK_OWN);
    }
    const inspected = selection.inspected;
    const pulse = HOVER_LIGHTEN_LOW + (HOVER_LIGHTEN - HOVER_LIGHTEN_LOW) * (0.5 + 0.5 * Math.cos((2 * Math.PI * now) / HOVER_PULSE_MS));
    for (const d of drawn) {
      const selected = selection.has(d.id);
      const isHovered = d.id === hovered;
      const lighten = isHovered ? pulse : selected ? SELECTED_LIGHTEN : 0;
      _c.copy(this.colors.get(d.owner));
      if (lighten) _c.lerp(WHITE, lighten);
      cubes.cube(d.x, d.z, _c.r, _c.g, _c.b, d.own ? MARK_OWN : 0, isHovered ? HOVER_LIFT : 0);
      if (selected) cubes.ring(d.x, d.z, SELECT_RING.r, SELECT_RING.g, SELECT_RING.b);
      else if (d.id === inspected) cubes.ring(d.x, d.z, INSPECT_RING.r, INSPECT_RING.g, INSPECT_RING.b);
    }
    cubes.end();
    this.moveMarker.update(now);
    this.spawnMarker.update(now);
    this.renderer.render();
  }
}
