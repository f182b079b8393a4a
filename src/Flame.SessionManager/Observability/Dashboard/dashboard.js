// The Flame dashboard: renders the views the session manager pushes (server-sent events); read-only, no framework.
"use strict";
const state = { session: null, filter: "all", source: null };
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "");
const badge = (s) => `<span class="state ${esc(s)}">${esc(s)}</span>`;

function bar(s) {
  const total = Math.max(1, s.total);
  const part = (k) => `<span class="${k}" style="width:${(100 * s[k]) / total}%"></span>`;
  const done = s.succeeded + s.failed + s.cancelled;
  return `<div style="display:flex;align-items:center"><div class="bar" data-done="${done}" data-total="${s.total}">` +
    ["succeeded", "failed", "cancelled", "running", "pending"].map(part).join("") +
    `</div><span class="pct">${done}/${s.total}</span></div>`;
}

function rows(table, items, render, onClick) {
  const body = $(table).querySelector("tbody");
  body.innerHTML = items.map(render).join("") || `<tr><td colspan="10" class="muted">none</td></tr>`;
  if (onClick) body.querySelectorAll("tr[data-id]").forEach((tr) => tr.addEventListener("click", () => onClick(tr.dataset.id)));
}

function render(view) {
  if (view.error) { $("connection").textContent = "error: " + view.error; return; }
  const c = view.cluster;
  const cards = [
    ["Nodes", `${c.nodesReady}/${c.nodes}`, "ready"], ["Executors", c.executors, `${c.executorsBound} bound`],
    ["Sessions", c.sessions, `${c.sessionsOpen} open`], ["Pending", c.pending, "tasks"], ["Running", c.running, "tasks"],
    ["Finished", c.finished, "tasks"], ["Throughput", c.tasksPerSecond ?? "…", "tasks/s"],
  ];
  $("overview").innerHTML = cards.map(([label, value, sub]) =>
    `<div class="card"><div class="label">${label}</div><div class="value" data-card="${label}">${esc(value)}</div><div class="label">${esc(sub)}</div></div>`).join("");
  rows("sessions", view.sessions, (s) =>
    `<tr class="clickable${s.id === state.session ? " selected" : ""}" data-id="${esc(s.id)}"><td>${esc(s.id)}</td><td>${esc(s.application)}</td><td>${badge(s.state)}</td>` +
    `<td>${bar(s)}</td><td>${s.pending}</td><td>${s.running}</td><td>${s.succeeded}</td><td>${s.failed}</td><td>${s.cancelled}</td><td class="muted">${esc(s.lastEvent)}</td></tr>`, select);
  rows("executors", view.executors, (e) => `<tr><td>${esc(e.id)}</td><td>${esc(e.node)}</td><td>${badge(e.state)}</td><td>${esc(e.session)}</td></tr>`);
  rows("nodes", view.nodes, (n) => `<tr><td>${esc(n.name)}</td><td>${esc(n.hostname)}</td><td>${badge(n.state)}</td><td>${n.allocatableCpu}/${n.cpu}</td><td>${Math.round(n.memory / 1048576)} MiB</td></tr>`);
  rows("applications", view.applications, (a) => `<tr><td>${esc(a.name)}</td><td>${badge(a.state)}</td><td>${esc(a.shim)}</td><td>${a.sessions}</td></tr>`);
  const d = view.session;
  $("session-detail").hidden = !d;
  if (d) {
    $("detail-id").textContent = d.session.id;
    $("detail-progress").innerHTML = bar(d.session);
    $("detail-events").innerHTML = d.events.map((e) => `<li>${time(e.creationTime)} [${e.code}] ${esc(e.message)}</li>`).join("");
    $("filters").innerHTML = ["all", "pending", "running", "succeeded", "failed", "cancelled"].map((f) =>
      `<button data-filter="${f}" class="${f === state.filter ? "active" : ""}">${f}</button>`).join("");
    $("filters").querySelectorAll("button").forEach((b) => b.addEventListener("click", () => { state.filter = b.dataset.filter; connect(); }));
    rows("tasks", d.tasks, (t) => `<tr data-task="${t.id}"><td>${t.id}</td><td>${badge(t.state)}</td><td>${time(t.creationTime)}</td><td>${time(t.completionTime)}</td>` +
      `<td class="muted">${t.events.map((e) => `${esc(e.message ?? e.code)}`).join(" → ")}</td></tr>`);
  }
  $("updated").textContent = "updated " + time(view.time);
}

function select(id) { state.session = id; state.filter = "all"; connect(); }

function connect() {
  if (state.source) state.source.close();
  const query = state.session ? `?session=${encodeURIComponent(state.session)}&state=${state.filter}` : "";
  const source = new EventSource("/api/stream" + query);
  state.source = source;
  source.onopen = () => { $("connection").textContent = "live"; $("connection").className = "connection live"; };
  source.onerror = () => { $("connection").textContent = "reconnecting…"; $("connection").className = "connection"; };
  source.onmessage = (m) => render(JSON.parse(m.data));
}

$("detail-close").addEventListener("click", (e) => { e.preventDefault(); state.session = null; connect(); });
const initial = new URLSearchParams(location.search).get("session");
if (initial) state.session = initial;
connect();
