/**
 * Box selection math: a rectangle from two screen corners, and which items project inside
 * it. Pure: the projection is passed in, so node tests need no camera.
 */

/** The rectangle spanned by two corners, as {left, top, right, bottom, width, height}. */
export function normalizeRect(x0, y0, x1, y1) {
  const left = Math.min(x0, x1);
  const top = Math.min(y0, y1);
  const right = Math.max(x0, x1);
  const bottom = Math.max(y0, y1);
  return { left, top, right, bottom, width: right - left, height: bottom - top };
}

export function rectContains(rect, x, y) {
  return x >= rect.left && x <= rect.right && y >= rect.top && y <= rect.bottom;
}

const scratch = { x: 0, y: 0, visible: true };

/**
 * Ids of the items (with id, x, z) that `accept` lets through and whose ground position
 * `project(x, z, out)` puts inside `rect` (out.visible false means behind the camera).
 */
export function idsInBox(rect, items, project, accept = () => true) {
  const ids = [];
  for (const item of items) {
    if (!accept(item)) continue;
    scratch.visible = true;
    project(item.x, item.z, scratch);
    if (scratch.visible && rectContains(rect, scratch.x, scratch.y)) ids.push(item.id);
  }
  return ids;
}
