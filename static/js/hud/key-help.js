/**
 * The `?` overlay: every key and mouse binding of the page, built from the one table the
 * keyboard dispatches from (input/key-bindings.js), so it lists what the keys really do.
 * `?` or its button toggles it; Escape or its close button closes it.
 */

import { helpSections, KEY_BINDINGS } from "../input/key-bindings.js";
import { el } from "./dom.js";

const PANEL_STYLE =
  "left:50%;top:50%;transform:translate(-50%,-50%);max-height:86vh;overflow:auto;width:min(920px,94vw);" +
  "box-sizing:border-box;padding:14px 20px;z-index:5;font-size:13px";
// Two columns where there is room; a section never splits.
const COLUMNS_STYLE = "columns:2 380px;column-gap:32px";
const KBD_STYLE =
  "display:inline-block;font:12px/1.4 ui-monospace,monospace;padding:0 5px;margin:1px 2px 1px 0;" +
  "border:1px solid rgba(255,255,255,.3);border-radius:4px;background:rgba(255,255,255,.06)";

export class KeyHelp {
  constructor(root, table = KEY_BINDINGS) {
    const sections = helpSections(table).map(({ section, rows }) =>
      el("div", { class: "key-help-section", style: "break-inside:avoid" }, [
        el("h2", { text: section, style: "margin:10px 0 4px" }),
        el(
          "table",
          { style: "border-collapse:collapse;width:100%" },
          rows.map(({ keys, what }) =>
            el("tr", { class: "binding" }, [
              el("td", { class: "keys", style: "width:150px;padding:2px 12px 2px 0;vertical-align:top" }, joinKeys(keys)),
              el("td", { class: "what", text: what, style: "padding:2px 0" }),
            ]),
          ),
        ),
      ]),
    );
    this.closeButton = el("button", { type: "button", class: "cmd close", text: "Close", title: "Close (Escape)" });
    this.closeButton.addEventListener("click", () => this.hide());
    this.panel = el("section", { class: "panel key-help", role: "dialog", "aria-label": "Keys and mouse", hidden: true, style: PANEL_STYLE }, [
      el("div", { class: "row", style: "justify-content:space-between" }, [
        el("strong", { text: "Keys and mouse" }),
        el("span", { class: "small", text: "? or Escape closes" }),
      ]),
      el("div", { class: "key-help-sections", style: COLUMNS_STYLE }, sections),
      el("div", { style: "text-align:right;margin-top:10px" }, [this.closeButton]),
    ]);
    // Beside the net graph's button, bottom right (its class gives the same look).
    this.button = el("button", { type: "button", class: "net-toggle keys-toggle", title: "Keys and mouse (?)", text: "?", style: "right:60px" });
    this.button.addEventListener("click", () => {
      this.button.blur();
      this.toggle();
    });
    this.node = el("div", { class: "key-help-root", style: "display:contents" }, [this.panel, this.button]);
    root.append(this.node);
    this.setVisible(false);
  }

  get visible() {
    return !this.panel.hidden;
  }

  setVisible(on) {
    this.panel.hidden = !on;
    this.panel.style.display = on ? "" : "none";
    this.button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  show() {
    this.setVisible(true);
  }

  hide() {
    this.setVisible(false);
  }

  toggle() {
    this.setVisible(!this.visible);
  }

  dispose() {
    this.node.remove();
  }
}

function joinKeys(keys) {
  const out = [];
  keys.forEach((k, i) => {
    if (i) out.push(" / ");
    out.push(el("kbd", { text: k, style: KBD_STYLE }));
  });
  return out;
}
