/**
 * How the player's own cubes are drawn. For now: like everyone's, interpolated along the
 * authoritative history. Client-side prediction (replaying unacknowledged commands on top
 * of the last snap, Lance style) replaces `place` here and nowhere else.
 */

export class OwnMotion {
  /** Write the drawn position of own entity `ent` at fractional `renderTick` into `out`. */
  place(ent, renderTick, out) {
    if (renderTick === null || !ent.history.sample(renderTick, out)) {
      out.x = ent.x;
      out.z = ent.z;
    }
  }
}
