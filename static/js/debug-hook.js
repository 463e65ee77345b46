/**
 * window.__arena: a read-only view of the running client for automated browser tests and
 * the benchmark. Everything returned is a fresh plain copy; nothing here changes the game.
 */

export function installDebugHook(app, target = window) {
  const hook = {
    version: 1,
    /** The client's state now (see the report in static/js/README.md). */
    state() {
      const { mirror, session, presenter, selection } = app;
      const drawn = presenter.drawn;
      const entities = [];
      for (const e of mirror.entities.values()) {
        const d = drawn.get(e.id);
        entities.push({ id: e.id, owner: e.owner, x: e.x, z: e.z, tx: e.tx, tz: e.tz, drawnX: d ? d.x : e.x, drawnZ: d ? d.z : e.z, own: mirror.isOwn(e.id) });
      }
      entities.sort((a, b) => a.id - b.id);
      const counts = mirror.countByOwner();
      return {
        tick: mirror.tick,
        renderTick: presenter.renderTick,
        connected: app.transport.isOpen && session.welcomed,
        connection: app.connState.state,
        welcomed: session.welcomed,
        awaitingFull: mirror.awaitingFull,
        you: mirror.you,
        role: mirror.role,
        color: mirror.color,
        isCreator: session.isCreator,
        canCommand: session.canCommand,
        seq: session.seq.last,
        ack: mirror.ack,
        rtt: app.transport.rtt ?? null,
        entities,
        selected: selection.list(),
        hovered: app.hovered,
        inspected: selection.inspected,
        players: session.players.map((p) => ({ ...p, cubes: counts.get(p.id) ?? 0 })),
        ended: session.ended ? session.ended.reason : null,
        closed: app.closed ? { ...app.closed } : null,
        notices: app.hud.toasts.recent.map((n) => ({ ...n })),
        camera: { x: app.view.rig.target.x, z: app.view.rig.target.z, distance: app.view.rig.distance },
        frames: app.frames,
        stats: { ...mirror.stats },
        bench: app.bench,
      };
    },
    /** Viewport pixel {x, y, visible} of ground point (x, z). */
    screenOf(x, z) {
      return app.screenOf(x, 0, z);
    },
    /** Viewport pixel {x, y, visible} of the middle of a cube's drawn position, or null. */
    screenOfEntity(id) {
      const d = app.presenter.drawn.get(id);
      if (!d) return null;
      return app.screenOf(d.x, app.view.cubes.size / 2, d.z);
    },
    /** The ground point {x, z} under viewport pixel (x, y), or null. */
    groundAt(x, y) {
      return app.groundAt(x, y);
    },
    /** Per-frame JS time in ms (filled with ?bench=N). */
    get frameTimes() {
      return app.frameTimes;
    },
  };
  Object.defineProperty(target, "__arena", { value: Object.freeze(hook), configurable: true });
  return hook;
}
