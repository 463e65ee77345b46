/**
 * Which cube a ray hits: a slab test against each cube's axis-aligned box at its drawn
 * position. Cheaper than three's per-triangle instanced raycast and allocation free. Pure.
 */

/**
 * Distance along the ray (origin o, direction d) to the box [minX..maxX] x [minY..maxY] x
 * [minZ..maxZ], or Infinity if it misses.
 */
export function rayBox(ox, oy, oz, dx, dy, dz, minX, minY, minZ, maxX, maxY, maxZ) {
  let tmin = 0;
  let tmax = Infinity;
  // x slab
  if (dx === 0) {
    if (ox < minX || ox > maxX) return Infinity;
  } else {
    let t1 = (minX - ox) / dx;
    let t2 = (maxX - ox) / dx;
    if (t1 > t2) [t1, t2] = [t2, t1];
    if (t1 > tmin) tmin = t1;
    if (t2 < tmax) tmax = t2;
    if (tmin > tmax) return Infinity;
  }
  if (dy === 0) {
    if (oy < minY || oy > maxY) return Infinity;
  } else {
    let t1 = (minY - oy) / dy;
    let t2 = (maxY - oy) / dy;
    if (t1 > t2) [t1, t2] = [t2, t1];
    if (t1 > tmin) tmin = t1;
    if (t2 < tmax) tmax = t2;
    if (tmin > tmax) return Infinity;
  }
  if (dz === 0) {
    if (oz < minZ || oz > maxZ) return Infinity;
  } else {
    let t1 = (minZ - oz) / dz;
    let t2 = (maxZ - oz) / dz;
    if (t1 > t2) [t1, t2] = [t2, t1];
    if (t1 > tmin) tmin = t1;
    if (t2 < tmax) tmax = t2;
    if (tmin > tmax) return Infinity;
  }
  return tmin;
}

/**
 * The id of the nearest cube (items with id, x, z; cubes of side `size` standing on the
 * ground) that the ray hits, or null.
 */
export function pickCube(ray, items, size = 1) {
  const h = size / 2;
  let best = null;
  let bestT = Infinity;
  const { ox, oy, oz, dx, dy, dz } = ray;
  for (const item of items) {
    const t = rayBox(ox, oy, oz, dx, dy, dz, item.x - h, 0, item.z - h, item.x + h, size, item.z + h);
    if (t < bestT) {
      bestT = t;
      best = item.id;
    }
  }
  return best;
}
