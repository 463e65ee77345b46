/**
 * The minimap's geometry: the arena (centred on the origin, x to the right, -z up the
 * screen, as the camera looks) scaled into a canvas whose longer side is `maxSide` pixels.
 * Pure.
 */

export class MinimapProjection {
  constructor(arenaWidth, arenaDepth, maxSide) {
    this.maxSide = maxSide;
    this.setArena(arenaWidth, arenaDepth);
  }

  setArena(arenaWidth, arenaDepth) {
    this.arenaWidth = arenaWidth;
    this.arenaDepth = arenaDepth;
    this.scale = this.maxSide / Math.max(arenaWidth, arenaDepth); // px per unit
    this.width = Math.max(1, Math.round(arenaWidth * this.scale));
    this.height = Math.max(1, Math.round(arenaDepth * this.scale));
  }

  /** Canvas pixel of ground point (x, z) into out {x, y} (outside the canvas off the arena). */
  toMap(x, z, out = { x: 0, y: 0 }) {
    out.x = ((x + this.arenaWidth / 2) / this.arenaWidth) * this.width;
    out.y = ((z + this.arenaDepth / 2) / this.arenaDepth) * this.height;
    return out;
  }

  /** The ground point {x, z} under canvas pixel (px, py), kept on the arena. */
  toArena(px, py, out = { x: 0, z: 0 }) {
    const hw = this.arenaWidth / 2;
    const hd = this.arenaDepth / 2;
    out.x = Math.min(hw, Math.max(-hw, (px / this.width) * this.arenaWidth - hw));
    out.z = Math.min(hd, Math.max(-hd, (py / this.height) * this.arenaDepth - hd));
    return out;
  }

  /** The view's ground corners [[x, z] x4] as canvas points [[px, py] x4], or null if any is missing. */
  viewOutline(corners) {
    if (!corners || corners.length !== 4 || corners.some((c) => !c)) return null;
    return corners.map(([x, z]) => {
      const p = this.toMap(x, z);
      return [p.x, p.y];
    });
  }
}
