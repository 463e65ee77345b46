/**
 * The selected cubes (own ones, commands act on them) and the inspected one (any cube
 * clicked to see its owner). Emits `change` whenever either changes. Pure.
 */

export class Selection extends EventTarget {
  constructor() {
    super();
    this.ids = new Set();
    this.inspected = null;
  }

  has(id) {
    return this.ids.has(id);
  }

  get size() {
    return this.ids.size;
  }

  list() {
    return Array.from(this.ids).sort((a, b) => a - b);
  }

  /** Select `ids`, replacing the selection unless `additive`. */
  select(ids, additive = false) {
    if (!additive) this.ids.clear();
    for (const id of ids) this.ids.add(id);
    this.changed();
  }

  /** Shift-click: add the id, or take it out if it was selected. */
  toggle(id) {
    if (this.ids.has(id)) this.ids.delete(id);
    else this.ids.add(id);
    this.changed();
  }

  clear() {
    if (this.ids.size === 0 && this.inspected === null) return;
    this.ids.clear();
    this.inspected = null;
    this.changed();
  }

  inspect(id) {
    if (this.inspected === id) return;
    this.inspected = id;
    this.changed();
  }

  /** Drop ids for which `exists(id)` is false (deleted cubes, a new world after a welcome). */
  prune(exists) {
    let dirty = false;
    for (const id of this.ids) {
      if (!exists(id)) {
        this.ids.delete(id);
        dirty = true;
      }
    }
    if (this.inspected !== null && !exists(this.inspected)) {
      this.inspected = null;
      dirty = true;
    }
    if (dirty) this.changed();
  }

  changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }
}
