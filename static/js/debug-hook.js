/**
 * window.__arena: a read-only view of the running client for automated browser tests and
 * the benchmark. Everything returned is a fresh plain copy; nothing here changes the game.
 */

export function installDebugHook(app, target = window) {
  const hook = {
    version: 2,
    /** The client's state now (see the report in static/js/README.md). */
    state() {
      const { mirror, session, presenter, selection, ownMotion } = app;
      const drawn = presenter.drawn;
      const entities = [];
      const timeline = ownMotion.timeline;
      const replayed = { x: 0, z: 0, tx: 0, tz: 0 };
      for (const e of mirror.entities.values()) {
        const d = drawn.get(e.id);
        // Own cubes: the target the replay of every pending command gives (what the server will say).
        const predictedTarget = timeline && timeline.serverAt(e.id, timeline.until, replayed) ? [replayed.tx, replayed.tz] : null;
        entities.push({
          id: e.id,
          owner: e.owner,
          x: e.x,
          z: e.z,
          tx: e.tx,
          tz: e.tz,
          drawnX: d ? d.x : e.x,
          drawnZ: d ? d.z : e.z,
          own: mirror.isOwn(e.id),
          predicted: !!d?.predicted,
          extrapolated: !!d?.extrapolated,
          hidden: ownMotion.hidden.has(e.id),
          predictedTarget,
        });
      }
      const provisional = [];
      for (const p of ownMotion.provisional.values()) provisional.push({ cid: p.cid, seq: p.seq, x: p.x, z: p.z });
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
        provisional,
        net: app.netStats(),
        presentTick: presenter.presentTick,
        selected: selection.list(),
        hovered: app.hovered,
        inspected: selection.inspected,
        players: session.players.map((p) => ({ ...p, cubes: counts.get(p.id) ?? 0 })),
        ended: session.ended ? session.ended.reason : null,
        closed: app.closed ? { ...app.closed } : null,
        notices: app.hud.toasts.recent.map((n) => ({ ...n })),
        camera: { x: app.view.rig.target.x, z: app.view.rig.target.z, distance: app.view.rig.distance },
        groups: app.groups.toJSON(),
        keyHelp: app.hud.keys.visible,
        frames: app.frames,
        stats: { ...mirror.stats },
        bench: app.bench,
        timing: { ...app.timing },
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
    /**
     * The viewport box {left, top, right, bottom, width, height} of a cube as drawn now (its
     * eight corners projected; a hovered cube's lift left out), or null.
     */
    cubeScreenBox(id) {
      const d = app.presenter.drawn.get(id);
      if (!d) return null;
      const size = app.view.cubes.size;
      const box = { left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
      for (const dx of [-size / 2, size / 2])
        for (const y of [0, size])
          for (const dz of [-size / 2, size / 2]) {
            const p = app.screenOf(d.x + dx, y, d.z + dz);
            box.left = Math.min(box.left, p.x);
            box.right = Math.max(box.right, p.x);
            box.top = Math.min(box.top, p.y);
            box.bottom = Math.max(box.bottom, p.y);
          }
      return { ...box, width: box.right - box.left, height: box.bottom - box.top };
    },
    /** Viewport pixel {x, y} of ground point (x, z) on the minimap. */
    minimapOf(x, z) {
      return app.minimap.pageOf(x, z);
    },
    /** The ground point {x, z} under viewport pixel (x, y), or null. */
    groundAt(x, y) {
      return app.groundAt(x, y);
    },
    /**
     * Draw the current frame `n` more times, each waited for until drawn (GPU or software
     * rasteriser included), and return the ms each took (benchmarks/frame_time.py).
     */
    renderTimes(n = 20) {
      return app.view.renderer.timeRenders(n);
    },
    /** Per-frame JS time in ms (filled with ?bench=N). */
    get frameTimes() {
      return app.frameTimes;
    },
    /**
     * Record each frame's facts from now on (for tests that need per-frame truths, which
     * polling cannot give): {t, now, tick, renderTick, present, seq, ack, corrections,
     * provisional, ents: [[id, drawnX, drawnZ, x, z, tx, tz, predicted, extrapolated,
     * listedAt]]} (listedAt: the tick of the last snap that listed it) for
     * `ids` (all when null), keeping the last `max` frames.
     */
    startFrameLog({ ids = null, max = 5000 } = {}) {
      app.frameLog = { ids: ids === null ? null : new Set(ids), max, entries: [] };
      return true;
    },
    /** The frames recorded so far (and keep recording); null if no log was started. */
    takeFrameLog() {
      if (!app.frameLog) return null;
      const entries = app.frameLog.entries;
      app.frameLog.entries = [];
      return entries;
    },
    stopFrameLog() {
      app.frameLog = null;
    },
  };
  Object.defineProperty(target, "__arena", { value: Object.freeze(hook), configurable: true });
  return hook;
}
