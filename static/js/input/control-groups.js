/**
 * Control groups 1-9: Ctrl or Shift plus a digit stores the selection, the digit alone
 * selects what of it is still there, and a double tap of the digit also asks for the view
 * to be centred on the group. Pure: which ids are still commandable and the time come from
 * the caller.
 */

import { DoubleTap } from "./double-tap.js";

export const GROUP_COUNT = 9;

export class ControlGroups {
  constructor({ doubleTapMs } = {}) {
    this.groups = new Map(); // digit -> sorted ids
    this.taps = new DoubleTap(doubleTapMs);
  }

  static valid(n) {
    return Number.isInteger(n) && n >= 1 && n <= GROUP_COUNT;
  }

  /** Store `ids` as group `n` (an empty list clears it); returns how many it holds. */
  set(n, ids) {
    if (!ControlGroups.valid(n)) return 0;
    const list = [...new Set(ids)].sort((a, b) => a - b);
    if (list.length) this.groups.set(n, list);
    else this.groups.delete(n);
    return list.length;
  }

  get(n) {
    return [...(this.groups.get(n) ?? [])];
  }

  /**
   * Recall group `n` at `now`: {ids, centre} with the ids for which `alive(id)` holds (the
   * others leave the group for good), `centre` true on a double tap of the same digit; null
   * when nothing of the group is left.
   */
  recall(n, now, alive = () => true) {
    const double = this.taps.tap(n, now);
    const ids = this.groups.get(n);
    if (!ids) return null;
    const left = ids.filter((id) => alive(id));
    if (left.length === 0) {
      this.groups.delete(n);
      return null;
    }
    if (left.length !== ids.length) this.groups.set(n, left);
    return { ids: [...left], centre: double };
  }

  /** Every group as {n: ids}, for the debug hook. */
  toJSON() {
    const out = {};
    for (const [n, ids] of [...this.groups].sort((a, b) => a[0] - b[0])) out[n] = [...ids];
    return out;
  }
}

/** The mean ground position {x, z} of `ids` (positionOf(id) gives {x, z} or nothing), or null. */
export function centreOf(ids, positionOf) {
  let x = 0;
  let z = 0;
  let n = 0;
  for (const id of ids) {
    const p = positionOf(id);
    if (!p) continue;
    x += p.x;
    z += p.z;
    n += 1;
  }
  return n ? { x: x / n, z: z / n } : null;
}
