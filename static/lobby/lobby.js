// Lobby page: keeps the match list and who is online live through /ws/lobby/ and shows the
// tick-rate slider's value. The server renders the first lists; this re-renders them from every
// {"type": "matches", "matches": [...], "online": {count, players}} message (text as text only).
(() => {
  "use strict";

  // Reconnect back-off: doubles from MIN to MAX, with jitter so a restarted server is not stampeded.
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 30000;

  const rows = document.getElementById("match-rows");
  const live = document.getElementById("live");

  function setLive(state, text) {
    if (!live) return;
    live.dataset.state = state;
    live.textContent = text;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function playUrl(match, query) {
    const base = "/match/" + encodeURIComponent(match.id) + "/";
    return query ? base + "?" + new URLSearchParams(query).toString() : base;
  }

  // Mirrors templates/lobby/_match_row.html.
  function row(match) {
    const full = match.players >= match.max_players;
    const name = el("td", { class: "name" }, el("span", { class: "match-name", text: match.name }));
    if (match.private) name.append(" ", el("span", { class: "badge badge-private", text: "private" }));
    if (match.code) {
      name.append(el("div", { class: "code" },
        "code ", el("code", { text: match.code }), " \u00b7 ",
        el("a", { href: playUrl(match, { code: match.code }), text: "share link" })));
    }
    const count = el("td", { class: "num", text: match.players + "/" + match.max_players });
    if (full) count.append(" ", el("span", { class: "badge badge-full", text: "full" }));
    const tr = el("tr", { "data-id": match.id },
      name,
      el("td", {}, el("span", { class: "status status-" + match.status, text: match.status })),
      count,
      el("td", { class: "num", text: match.tick_rate + " Hz" }),
      el("td", { class: "actions" },
        el("a", { class: "btn btn-primary btn-sm", href: playUrl(match), text: "Join" }), " ",
        el("a", { class: "btn btn-sm", href: playUrl(match, { role: "spectator" }), text: "Watch" })));
    if (full) tr.className = "is-full";
    return tr;
  }

  function render(matches) {
    if (!matches.length) {
      rows.replaceChildren(el("tr", { class: "empty" },
        el("td", { colspan: "5", text: "No open matches yet. Create one!" })));
      return;
    }
    rows.replaceChildren(...matches.map(row));
  }

  const onlineList = document.getElementById("online-list");
  const onlineCount = document.getElementById("online-count");

  // Mirrors templates/lobby/_online_row.html.
  function onlineRow(p) {
    const where = el("span", { class: "where muted small" });
    if (p.status === "playing") {
      where.append("playing");
      if (p.match) where.append(" ", el("a", { href: playUrl(p.match, { role: "spectator" }), text: p.match.name }));
    } else {
      where.append("in the lobby");
    }
    return el("li", { "data-player": String(p.id), "data-status": p.status }, el("span", { class: "nick", text: p.nickname }), " ", where);
  }

  function renderOnline(online) {
    if (!onlineList || !online || !Array.isArray(online.players)) return;
    if (onlineCount) onlineCount.textContent = String(online.count ?? online.players.length);
    onlineList.replaceChildren(...(online.players.length
      ? online.players.map(onlineRow)
      : [el("li", { class: "empty muted", text: "nobody right now" })]));
  }

  let socket = null;
  let delay = RECONNECT_MIN_MS;
  let timer = null;

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + rows.dataset.ws);
    setLive("connecting", "connecting\u2026");
    socket.addEventListener("open", () => {
      delay = RECONNECT_MIN_MS;
      setLive("live", "live");
    });
    socket.addEventListener("message", (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      if (message.type === "matches" && Array.isArray(message.matches)) {
        render(message.matches);
        renderOnline(message.online);
      }
    });
    socket.addEventListener("close", () => {
      socket = null;
      const wait = delay * (0.75 + Math.random() * 0.5);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      setLive("offline", "reconnecting\u2026");
      timer = setTimeout(connect, wait);
    });
  }

  function dispose() {
    clearTimeout(timer);
    if (socket) socket.close();
  }

  // The slider's number beside its label.
  const tick = document.querySelector("#create-form input[name=tick_rate]");
  const tickOut = document.getElementById("tick-out");
  if (tick && tickOut) tick.addEventListener("input", () => { tickOut.value = tick.value; });

  if (rows && "WebSocket" in window) {
    connect();
    window.addEventListener("pagehide", dispose);
  }
})();
