/**
 * The camera's first view, as plain maths (no three.js, no DOM): the rig's camera looks at a
 * ground point from `distance` along a fixed pitch, and these functions say where cubes land
 * on screen, how far back the camera may stand with every cube still readable, and how far it
 * must stand back to fit a box of ground. Pure.
 *
 * A view is {pitch (radians, between the ground and the line of sight), fov (vertical, degrees),
 * width, height (the canvas in CSS pixels)}. Screen y grows downward, as in the page.
 */

import {
  CAMERA_FOV,
  CAMERA_PITCH,
  CUBE_SIZE,
  START_CUBE_MIN_PX,
  START_CUBE_PX,
  START_FRAME_MARGIN,
  START_FRAME_PAD,
} from "../tunables.js";

/** The projection of a camera at `distance` from ground point (0, 0): project(x, y, z) -> [px, py, depth]. */
export function projector(view, distance) {
  const s = Math.sin(view.pitch);
  const c = Math.cos(view.pitch);
  // Camera at (0, d s, d c) looking at the origin; right = +x, up = (0, c, -s), forward = (0, -s, -c).
  const cy = distance * s;
  const cz = distance * c;
  const focal = view.height / 2 / Math.tan(((view.fov / 2) * Math.PI) / 180);
  const hw = view.width / 2;
  const hh = view.height / 2;
  return (x, y, z) => {
    const vy = y - cy;
    const vz = z - cz;
    const depth = -s * vy - c * vz;
    const up = c * vy - s * vz;
    return [hw + (focal * x) / depth, hh - (focal * up) / depth, depth];
  };
}

/**
 * The screen box {left, top, right, bottom, height} of a cube of side `size` standing on ground
 * point (x, z) (relative to the point the camera looks at), or null when part of it is behind
 * the camera.
 */
export function cubeScreenBox(view, distance, x, z, size = CUBE_SIZE, project = projector(view, distance)) {
  const h = size / 2;
  let left = Infinity;
  let right = -Infinity;
  let top = Infinity;
  let bottom = -Infinity;
  for (const dx of [-h, h]) {
    for (const y of [0, size]) {
      for (const dz of [-h, h]) {
        const [px, py, depth] = project(x + dx, y, z + dz);
        if (depth <= 0) return null;
        left = Math.min(left, px);
        right = Math.max(right, px);
        top = Math.min(top, py);
        bottom = Math.max(bottom, py);
      }
    }
  }
  return { left, top, right, bottom, height: bottom - top };
}

/** Height in pixels of a cube standing at (x, z) relative to the point looked at (0 if behind). */
export function cubePixelHeight(view, distance, x = 0, z = 0, size = CUBE_SIZE) {
  return cubeScreenBox(view, distance, x, z, size)?.height ?? 0;
}

/** Whether screen box `b` lies inside the view, `margin` (a fraction of the height) in from every edge. */
function inside(view, b, margin) {
  const m = margin * view.height;
  return b !== null && b.left >= m && b.right <= view.width - m && b.top >= m && b.bottom <= view.height - m;
}

/** Whether screen box `b` shows at least partly. */
function onScreen(view, b) {
  return b !== null && b.right > 0 && b.left < view.width && b.bottom > 0 && b.top < view.height;
}

/**
 * The smallest distance at which every cube at `points` ([[x, z]] relative to the point looked
 * at) is inside the view, `margin` in from its edges; `hi` when even that is not enough.
 */
export function fitDistance(view, points, { size = CUBE_SIZE, margin = START_FRAME_MARGIN, lo = 0.5, hi = 10000 } = {}) {
  const fits = (d) => {
    const project = projector(view, d);
    return points.every(([x, z]) => inside(view, cubeScreenBox(view, d, x, z, size, project), margin));
  };
  if (!fits(hi)) return hi;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi); // distances span decades: bisect the logarithm
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The largest distance at most `from` (stepping in by 2 %) at which every cube at `points`
 * that shows on screen is at least `minPx` tall; `floor` if none is.
 */
export function readableDistance(view, points, from, { size = CUBE_SIZE, minPx = START_CUBE_MIN_PX, floor = 1 } = {}) {
  for (let d = from; d > floor; d *= 0.98) {
    const project = projector(view, d);
    let ok = true;
    for (const [x, z] of points) {
      const b = cubeScreenBox(view, d, x, z, size, project);
      if (onScreen(view, b) && b.height < minPx) {
        ok = false;
        break;
      }
    }
    if (ok) return d;
  }
  return floor;
}

/** The distance at which a cube in the middle of the view is `px` tall. */
export function distanceForPixels(view, px, size = CUBE_SIZE) {
  // Height is inversely proportional to distance, near enough: two steps of Newton's method on 1/d.
  let d = 30;
  for (let i = 0; i < 4; i++) d *= cubePixelHeight(view, d, 0, 0, size) / px;
  return d;
}

/**
 * The camera's first view: {x, z, distance}.
 * - With own cubes (`points`: [[x, z]] on the ground), it frames their bounding box padded by
 *   `pad` units, looking at its middle, but stands no nearer than where a cube in the middle is
 *   `comfortPx` tall (a lone cube keeps some ground around it) ...
 * - ... and no farther than where every own cube on screen is at least `minPx` tall (a spread
 *   army shows its middle part, readable, rather than all of it as dots).
 * - With none, the same for the whole arena (`arena`: [width, depth]) and one cube in its middle,
 *   where a spawn lands: a small arena is framed whole, a large one shows its middle readable.
 * The result is kept within [minDistance, maxDistance].
 */
export function startView(
  view,
  points,
  arena,
  {
    size = CUBE_SIZE,
    minPx = START_CUBE_MIN_PX,
    comfortPx = START_CUBE_PX,
    pad = START_FRAME_PAD,
    margin = START_FRAME_MARGIN,
    minDistance = 1,
    maxDistance = Infinity,
  } = {},
) {
  let x0, x1, z0, z1;
  if (points.length) {
    x0 = Math.min(...points.map((p) => p[0])) - pad;
    x1 = Math.max(...points.map((p) => p[0])) + pad;
    z0 = Math.min(...points.map((p) => p[1])) - pad;
    z1 = Math.max(...points.map((p) => p[1])) + pad;
  } else {
    [x0, x1, z0, z1] = [-arena[0] / 2, arena[0] / 2, -arena[1] / 2, arena[1] / 2];
  }
  const cx = (x0 + x1) / 2;
  const cz = (z0 + z1) / 2;
  const corners = [
    [x0 - cx, z0 - cz],
    [x1 - cx, z0 - cz],
    [x0 - cx, z1 - cz],
    [x1 - cx, z1 - cz],
  ];
  const cubes = points.length ? points.map(([x, z]) => [x - cx, z - cz]) : [[0, 0]];
  const fit = fitDistance(view, corners, { size: 0, margin });
  const far = Math.min(maxDistance, points.length ? Math.max(fit, distanceForPixels(view, comfortPx, size)) : fit);
  const distance = Math.max(minDistance, readableDistance(view, cubes, far, { size, minPx, floor: minDistance }));
  return { x: cx, z: cz, distance };
}

/** The rig's defaults as a view of `width` x `height` pixels. */
export function rigView(width, height) {
  return { pitch: CAMERA_PITCH, fov: CAMERA_FOV, width, height };
}
