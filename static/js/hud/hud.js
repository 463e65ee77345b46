/** The heads-up display: the panels over the arena, built into one root element. */

import { CommandBar } from "./command-bar.js";
import { FinalOverlay } from "./final-overlay.js";
import { InspectPanel } from "./inspect-panel.js";
import { KeyHelp } from "./key-help.js";
import { NetGraph } from "./net-graph.js";
import { PlayersPanel } from "./players-panel.js";
import { StatusPanel } from "./status-panel.js";
import { Toasts } from "./toasts.js";

export class Hud {
  constructor(root, config) {
    this.root = root;
    const isPlayer = config.role === "player";
    this.status = new StatusPanel(root, { matchName: config.name, nickname: config.nickname, role: config.role, shareUrl: config.shareUrl });
    this.players = new PlayersPanel(root);
    this.commands = new CommandBar(root, { isPlayer, isCreator: isPlayer && !!config.is_creator });
    this.inspect = new InspectPanel(root);
    this.toasts = new Toasts(root);
    this.overlay = new FinalOverlay(root);
    this.net = new NetGraph(root, { visible: !!config.netGraph });
    this.keys = new KeyHelp(root);
  }

  dispose() {
    for (const part of [this.status, this.players, this.commands, this.inspect, this.toasts, this.overlay, this.net, this.keys]) part.dispose();
  }
}
