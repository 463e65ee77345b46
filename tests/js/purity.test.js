// The pure modules load in node with no DOM and never import three.js, so they stay testable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const PURE = [
  "sim/step.js",
  "sim/lag-comp.js",
  "sim/replay.js",
  "sim/formation.js",
  "tunables.js",
  "config.js",
  "net/protocol.js",
  "net/backoff.js",
  "net/server-clock.js",
  "net/history.js",
  "net/world-mirror.js",
  "net/connection.js",
  "net/match-session.js",
  "net/pending.js",
  "net/rate-meter.js",
  "net/net-sim.js",
  "motion/playback-clock.js",
  "motion/own-motion.js",
  "motion/presenter.js",
  "input/selection.js",
  "input/box-select.js",
  "input/picking.js",
  "input/nudge.js",
  "input/typing.js",
  "input/key-bindings.js",
  "input/control-groups.js",
  "input/double-tap.js",
  "hud/minimap-projection.js",
  "hud/messages.js",
  "bench/local-server.js",
];

for (const path of PURE) {
  test(`${path} imports without a DOM and without three.js`, async () => {
    const url = new URL(`../../static/js/${path}`, import.meta.url);
    const source = readFileSync(fileURLToPath(url), "utf8");
    assert.doesNotMatch(source, /from\s+["']three["']/);
    assert.equal(typeof globalThis.document, "undefined");
    await import(url.href);
  });
}
