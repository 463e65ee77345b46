/** Entry point of the match page: read the embedded configuration, start the app. */

import { ArenaApp } from "./app.js";
import { benchCount, parseConfig } from "./config.js";
import { installDebugHook } from "./debug-hook.js";

function start() {
  const source = document.getElementById("arena-config");
  const container = document.getElementById("arena");
  const hud = document.getElementById("hud");
  let config;
  try {
    config = parseConfig(source?.textContent ?? "");
  } catch (error) {
    hud.textContent = `This page cannot start: ${error.message}.`;
    throw error;
  }
  config.name = config.name || document.body.dataset.matchName || "Match";
  config.shareUrl = document.body.dataset.shareUrl || null;
  const search = window.location.search;
  const app = new ArenaApp(config, { container, hud }, { bench: benchCount(search), search }).connect();
  installDebugHook(app);
  window.addEventListener("pagehide", () => app.dispose(), { once: true });
  // Back to a page kept in the back/forward cache: its socket is gone, start afresh.
  window.addEventListener("pageshow", (ev) => {
    if (ev.persisted) window.location.reload();
  });
}

start();
