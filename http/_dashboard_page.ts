/**
 * The dashboard's page: its HTML, CSS and JavaScript, inline. The page holds nothing a queue
 * controls: it fetches JSON and renders every value as a text node or an attribute set from
 * script, never as HTML.
 *
 * @module
 */

const CSS = String.raw`
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;
--accent:#0550ae;--warn:#b3261e;--focus:#0969da;--s:#0969da;--d:#bc4c00}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--head:#151b23;--accent:#6cb6ff;--warn:#ff8182;--focus:#58a6ff;--s:#58a6ff;--d:#ffa657}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);
color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;padding:.5rem 1rem;
border-bottom:1px solid var(--line);background:var(--head)}
header form{margin:0}
.brand{font-weight:700;color:inherit;text-decoration:none;font-size:1.05rem}
nav{overflow-wrap:anywhere}
.tools{margin-left:auto;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
main{display:block;padding:1rem;max-width:84rem;margin:0 auto}
main:focus{outline:none}
h1{font-size:1.35rem;margin:.2rem 0 .6rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
a{color:var(--accent)}
button{font:inherit;padding:.3rem .75rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);
color:inherit;cursor:pointer}
button:hover{border-color:var(--accent)}
button.danger{color:var(--warn)}
button:disabled{opacity:.55;cursor:default}
button[aria-pressed=true]{background:var(--fg);color:var(--bg)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input,textarea{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--muted);border-radius:6px;
padding:.35rem .5rem;width:100%}
textarea{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem}
label{display:block;font-weight:600;margin-bottom:.2rem}
.field{margin-bottom:.7rem}
.fields{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:0 .8rem}
.bar{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.4rem 0 .6rem}
.bar .field{margin:0;min-width:12rem;max-width:22rem;flex:1}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%}
th,td{padding:.4rem .6rem;text-align:left;border-bottom:1px solid var(--line);vertical-align:top;
white-space:nowrap}
thead th{background:var(--head);font-size:.85rem}
tbody tr:last-child>*{border-bottom:0}
tbody th{font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.id,td.hex{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.82rem}
td.body{white-space:normal;overflow-wrap:anywhere;min-width:14rem;max-width:34rem}
td.actions button+button{margin-left:.4rem}
.muted{color:var(--muted)}
.warn{color:var(--warn);font-weight:600}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:.5rem;margin:.6rem 0}
.stats div{border:1px solid var(--line);border-radius:6px;padding:.45rem .7rem}
.stats dt{font-size:.8rem;color:var(--muted)}
.stats dd{margin:0;font-size:1.3rem;font-variant-numeric:tabular-nums}
svg.spark{vertical-align:middle;margin-right:.4rem}
polyline{fill:none;stroke-width:1.6}
.s{stroke:var(--s)}
.d{stroke:var(--d);stroke-dasharray:3 2}
.key{display:inline-block;width:1.1rem;border-top:2px solid var(--s);vertical-align:middle;margin:0 .15rem}
.key.d{border-top:2px dashed var(--d)}
.status{position:fixed;right:1rem;bottom:1rem;max-width:calc(100% - 2rem);margin:0;padding:.5rem .8rem;
border-radius:6px;background:var(--fg);color:var(--bg);display:none;overflow-wrap:anywhere}
.status.on{display:block}
.status.bad{background:var(--warn)}
.skip{position:absolute;left:-9999px}
.skip:focus{left:.5rem;top:.5rem;z-index:2;background:var(--bg);padding:.3rem .6rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.login{max-width:24rem}
@media (max-width:640px){main{padding:.6rem}.tools{margin-left:0}
.scroll{overflow:visible;border:0}
.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.cards tr{display:block;border:1px solid var(--line);border-radius:6px;margin-bottom:.6rem;padding:.25rem 0}
.cards th,.cards td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.2rem .6rem;
white-space:normal;text-align:right;overflow-wrap:anywhere}
.cards [data-label]::before{content:attr(data-label);font-family:system-ui,sans-serif;font-size:.85rem;
font-weight:600;color:var(--muted);text-align:left;white-space:nowrap}
.cards td.body{min-width:0;max-width:none}
.cards td.actions{justify-content:flex-end;gap:.4rem}.cards td.actions button+button{margin:0}}
`;

const SCRIPT = String.raw`"use strict";
(() => {
const doc = document, main = doc.getElementById("main"), box = doc.getElementById("status");
const updated = doc.getElementById("updated"), pause = doc.getElementById("pause");
const crumbs = doc.getElementById("crumbs");
const csrf = doc.body.dataset.csrf, every = Number(doc.body.dataset.interval) || 1000;
const title = doc.title, onQueue = /\/queue$/.test(location.pathname);
const name = new URLSearchParams(location.search).get("name") || "";
let paused = false, timer = 0, loading = false, again = false, ov = null, qv = null;
let page = 0;
const cursors = [""];

function h(tag, props, ...kids) {
  const node = doc.createElement(tag);
  for (const key of Object.keys(props || {})) {
    const v = props[key];
    if (v == null || v === false) continue;
    if (key === "text") node.textContent = v;
    else if (key === "class") node.className = v;
    else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), v);
    else node.setAttribute(key, v === true ? "" : String(v));
  }
  for (const kid of kids) if (kid != null && kid !== false) node.append(kid);
  return node;
}
function svg(tag, attrs) {
  const node = doc.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const key of Object.keys(attrs)) node.setAttribute(key, String(attrs[key]));
  return node;
}
function put(node, value) {
  value = String(value);
  if (node.textContent !== value) node.textContent = value;
}
const numbers = new Intl.NumberFormat("en-US");
function count(n) { return numbers.format(n); }
function age(ms) {
  if (ms == null) return "\u2014";
  ms = Math.max(0, ms);
  if (ms < 1000) return Math.round(ms) + " ms";
  const s = Math.floor(ms / 1000), m = Math.floor(s / 60), hr = Math.floor(m / 60);
  if (s < 60) return s + " s";
  if (m < 60) return m + " min " + (s % 60) + " s";
  if (hr < 48) return hr + " h " + (m % 60) + " min";
  return Math.floor(hr / 24) + " d " + (hr % 24) + " h";
}
function bytes(n) {
  return n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" :
    (n / 1048576).toFixed(1) + " MiB";
}
function plural(n, word) { return count(n) + " " + word + (n === 1 ? "" : "s"); }
function say(message, bad) {
  box.textContent = message;
  box.className = "status" + (message ? " on" : "") + (bad ? " bad" : "");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { box.textContent = ""; box.className = "status"; }, bad ? 10000 : 5000);
}
function signIn() {
  location.href = "login?next=" + encodeURIComponent(location.pathname.replace(/^.*\//, "") + location.search);
}
async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (response.status === 401) { signIn(); throw new Error("sign in first"); }
  if (!response.ok) throw new Error((body && body.error) || "HTTP " + response.status);
  return body || {};
}
async function post(route, fields, done, question) {
  if (question && !confirm(question)) return false;
  const form = new URLSearchParams(fields);
  form.set("csrf", csrf);
  try {
    const result = await answer(await fetch(route, {
      method: "POST", body: form, headers: { "x-qite-csrf": csrf }, credentials: "same-origin",
    }));
    say(done(result));
  } catch (e) {
    say("Failed: " + e.message, true);
    return false;
  }
  refresh();
  return true;
}

function schedule() {
  clearTimeout(timer);
  if (!paused) timer = setTimeout(refresh, every);
}
async function refresh() {
  clearTimeout(timer);
  if (loading) { again = true; return; }
  if (doc.hidden) { schedule(); return; }
  loading = true;
  try {
    let url = "overview.json";
    if (onQueue) {
      const query = new URLSearchParams({ name });
      if (cursors[page]) query.set("cursor", cursors[page]);
      url = "queue.json?" + query;
    }
    const data = await answer(await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" }));
    (onQueue ? showQueue : showOverview)(data);
    updated.textContent = (paused ? "Paused; updated " : "Updated ") + new Date().toLocaleTimeString();
    updated.className = "muted";
  } catch (e) {
    updated.textContent = "Update failed: " + e.message;
    updated.className = "warn";
  } finally {
    loading = false;
    if (again) { again = false; refresh(); } else schedule();
  }
}
pause.addEventListener("click", () => {
  paused = !paused;
  pause.setAttribute("aria-pressed", String(paused));
  say(paused ? "Live updates paused" : "Live updates resumed");
  if (paused) {
    clearTimeout(timer);
    if (updated.className === "muted") updated.textContent = updated.textContent.replace(/^Updated /, "Paused; updated ");
  } else refresh();
});
doc.addEventListener("visibilitychange", () => { if (!doc.hidden && !paused) refresh(); });

const COLUMNS = [["total", "Total"], ["visible", "Visible"], ["inFlight", "In flight"],
  ["delayed", "Delayed"], ["dead", "Dead"]];

function buildOverview() {
  const filter = h("input", { id: "filter", type: "search", autocomplete: "off", spellcheck: "false" });
  const tbody = h("tbody");
  const sparkHead = h("th", { scope: "col" }, "Sends ", h("span", { class: "key s", "aria-hidden": "true" }),
    " / deletes ", h("span", { class: "key d", "aria-hidden": "true" }), " per s (1 min)");
  const summary = h("p", { class: "muted", id: "summary" });
  const empty = h("p", { id: "empty", hidden: true,
    text: "No queue holds a message yet: a queue appears here once a message is sent to it." });
  filter.addEventListener("input", filterRows);
  main.replaceChildren(
    h("h1", { text: "Queues" }), summary,
    h("div", { class: "bar" }, h("div", { class: "field" },
      h("label", { for: "filter", text: "Filter queues by name" }), filter)),
    h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Queues" },
      h("table", { id: "queues", class: "cards" },
        h("thead", null, h("tr", null, h("th", { scope: "col", text: "Queue" }),
          ...COLUMNS.map(([, label]) => h("th", { scope: "col", class: "num", text: label })),
          h("th", { scope: "col", class: "num", text: "Oldest visible" }), sparkHead)),
        tbody)),
    empty);
  ov = { filter, tbody, sparkHead, summary, empty, rows: new Map() };
}
function filterRows() {
  const wanted = ov.filter.value.trim().toLowerCase();
  for (const [key, row] of ov.rows) row.tr.hidden = wanted !== "" && !key.toLowerCase().includes(wanted);
}
function showOverview(data) {
  if (!ov) buildOverview();
  ov.sparkHead.hidden = !data.throughput;
  const seen = new Set();
  let total = 0, dead = 0;
  data.queues.forEach((q, i) => {
    seen.add(q.name);
    let row = ov.rows.get(q.name);
    if (!row) {
      const cells = {};
      const tr = h("tr", { "data-queue": q.name },
        h("th", { scope: "row" }, q.opens
          ? h("a", { href: "queue?name=" + encodeURIComponent(q.name), text: q.label })
          : h("span", { text: q.label + " (name too long to open here)" })));
      for (const [key, label] of COLUMNS.concat([["oldestVisibleAge", "Oldest visible"]])) {
        tr.append(cells[key] = h("td", { class: "num", "data-col": key, "data-label": label }));
      }
      tr.append(cells.spark = h("td", { "data-col": "spark", "data-label": "Sends / deletes" }));
      row = { tr, cells };
      ov.rows.set(q.name, row);
    }
    for (const [key] of COLUMNS) put(row.cells[key], count(q[key]));
    row.cells.dead.classList.toggle("warn", q.dead > 0);
    put(row.cells.oldestVisibleAge, age(q.oldestVisibleAge));
    row.cells.spark.hidden = !data.throughput;
    if (data.throughput && q.sends) spark(row.cells.spark, q.sends, q.deletes);
    if (ov.tbody.children[i] !== row.tr) ov.tbody.insertBefore(row.tr, ov.tbody.children[i] || null);
    total += q.total;
    dead += q.dead;
  });
  for (const [key, row] of ov.rows) if (!seen.has(key)) { row.tr.remove(); ov.rows.delete(key); }
  put(ov.summary, plural(data.queues.length, "queue") + ", " + plural(total, "message") + ", " +
    count(dead) + " dead" + (data.readOnly ? " \u00b7 read-only" : ""));
  ov.empty.hidden = data.queues.length > 0;
  filterRows();
}
function spark(cell, sends, deletes) {
  const w = 120, ht = 26, n = sends.length, peak = Math.max(0, ...sends, ...deletes), top = Math.max(1, peak);
  const line = (values) => values.map((v, i) =>
    (i * w / Math.max(1, n - 1)).toFixed(1) + "," + (ht - 1 - v / top * (ht - 2)).toFixed(1)).join(" ");
  const rate = (values) => values.slice(-10).reduce((a, b) => a + b, 0) / 10;
  const fixed = (v) => v >= 100 ? String(Math.round(v)) : v.toFixed(1);
  const s = rate(sends), d = rate(deletes);
  const chart = svg("svg", { class: "spark", width: w, height: ht, viewBox: "0 0 " + w + " " + ht, role: "img",
    "aria-label": "Sends " + fixed(s) + " per second, deletes " + fixed(d) +
      " per second over the last 10 seconds; peak " + peak + " per second in the last minute" });
  chart.append(svg("polyline", { class: "s", points: line(sends) }), svg("polyline", { class: "d", points: line(deletes) }));
  cell.replaceChildren(chart, h("span", { "aria-hidden": "true", text: fixed(s) + " / " + fixed(d) }));
}

const col = {
  id: { head: "ID", cls: "id", get: (m) => m.id },
  job: { head: "Job", get: (m) => m.job == null ? "\u2014" : m.job },
  priority: { head: "Priority", cls: "num", get: (m) => m.priority },
  received: { head: "Receives", cls: "num", get: (m) => String(m.received) },
  created: { head: "Created", get: (m, now) => age(now - Date.parse(m.created)) + " ago", title: (m) => m.created },
  size: { head: "Size", cls: "num", get: (m) => bytes(m.size) },
  body: { head: "Body", cls: (m) => m.binary ? "body hex" : "body",
    get: (m) => m.preview + (m.truncated ? " \u2026" : ""),
    title: (m) => m.binary ? "Not UTF-8: the first bytes in hex" : "" },
};
function until(head) {
  return { head, get: (m, now) => {
    const left = Date.parse(m.timeout) - now;
    return left > 0 ? "in " + age(left) : "now";
  }, title: (m) => m.timeout };
}
function removeAction(m) {
  post("delete", { queue: name, id: m.id }, (r) => r.deleted ? "Deleted " + m.id : m.id + " was already gone",
    "Delete message " + m.id + "? This cannot be undone.");
}
function redriveAction(m) {
  post("redrive", { queue: name, id: m.id }, (r) => r.count ? "Redrove " + m.id : m.id + " is no longer dead");
}
function section(key, heading, empty, columns, actions, extra) {
  const id = "h-" + key, tbody = h("tbody"), tally = h("span", { class: "muted" });
  const head = h("h2", { id, tabindex: "-1" }, heading + " ", tally);
  const none = h("p", { class: "muted", text: empty });
  const wrap = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-labelledby": id },
    h("table", { class: "cards" }, h("thead", null, h("tr", null,
      ...columns.map((c) => h("th", { scope: "col", class: c.cls === "num" ? "num" : null, text: c.head })),
      actions.length ? h("th", { scope: "col", text: "Actions" }) : null)), tbody));
  qv.sections[key] = { key, tbody, head, tally, none, wrap, columns, actions, rows: new Map() };
  return h("section", { id: "s-" + key, "aria-labelledby": id }, head, extra || null, none, wrap);
}
function rows(key, list, now) {
  const sec = qv.sections[key], seen = new Set();
  list.forEach((m, i) => {
    seen.add(m.id);
    let row = sec.rows.get(m.id);
    if (!row) {
      const cells = sec.columns.map((c) =>
        h("td", { class: typeof c.cls === "string" ? c.cls : null, "data-label": c.head }));
      const tr = h("tr", { "data-id": m.id }, ...cells);
      if (sec.actions.length) {
        tr.append(h("td", { class: "actions" }, ...sec.actions.map((a) => h("button", {
          type: "button", class: a.danger ? "danger" : null, text: a.label,
          "aria-label": a.label + " " + m.id, onclick: () => a.run(m),
        }))));
      }
      row = { tr, cells };
      sec.rows.set(m.id, row);
    }
    sec.columns.forEach((c, k) => {
      const td = row.cells[k];
      put(td, c.get(m, now));
      if (c.title && td.title !== c.title(m)) td.title = c.title(m);
      if (typeof c.cls === "function" && td.className !== c.cls(m)) td.className = c.cls(m);
    });
    if (sec.tbody.children[i] !== row.tr) sec.tbody.insertBefore(row.tr, sec.tbody.children[i] || null);
  });
  for (const [id, row] of sec.rows) {
    if (seen.has(id)) continue;
    const focused = row.tr.contains(doc.activeElement);
    row.tr.remove();
    sec.rows.delete(id);
    if (focused) sec.head.focus();
  }
  sec.none.hidden = list.length > 0;
  sec.wrap.hidden = list.length === 0;
}
function sendForm() {
  const body = h("textarea", { id: "send-body", name: "body", rows: "3", spellcheck: "false" });
  const delay = h("input", { id: "send-delay", name: "delay", inputmode: "numeric", pattern: "[0-9]+",
    value: "0", autocomplete: "off", title: "A whole number of milliseconds" });
  const priority = h("input", { id: "send-priority", name: "priority", inputmode: "numeric", pattern: "-?[0-9]+",
    value: "0", autocomplete: "off", title: "A whole number; higher is received first" });
  const form = h("form", { id: "send-form" },
    h("div", { class: "field" }, h("label", { for: "send-body", text: "Body (text)" }), body),
    h("div", { class: "fields" },
      h("div", { class: "field" }, h("label", { for: "send-delay", text: "Delay (ms)" }), delay),
      h("div", { class: "field" }, h("label", { for: "send-priority", text: "Priority (higher first)" }), priority)),
    h("button", { type: "submit", text: "Send message" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = { queue: name, body: body.value, delay: delay.value, priority: priority.value };
    if (await post("send", fields, (r) => "Sent " + (r.id || "the message"))) body.value = "";
  });
  return h("section", { "aria-labelledby": "h-send" }, h("h2", { id: "h-send", text: "Send a message" }), form);
}
function buildQueue(data) {
  const dl = h("dl", { class: "stats" }), stats = {};
  for (const [key, label] of COLUMNS.concat([["oldestVisibleAge", "Oldest visible"]])) {
    dl.append(h("div", null, h("dt", { text: label }), stats[key] = h("dd", { "data-stat": key })));
  }
  qv = { stats, sections: {}, settings: h("p", { class: "muted" }), cursor: null };
  crumbs.replaceChildren(h("a", { href: "./", text: "Queues" }), " \u203a ", h("span", { text: data.label }));
  const write = !data.readOnly, del = { label: "Delete", danger: true, run: removeAction };
  const acts = (...list) => write ? list : [];
  const parts = [h("h1", null, "Queue ", h("span", { text: data.label })), qv.settings, dl];
  parts.push(section("visible", "Next visible messages", "No message is visible.",
    [col.id, col.job, col.priority, col.received, col.created, col.size, col.body], acts(del)));
  parts.push(section("delayed", "Delayed messages", "No message is delayed.",
    [col.id, col.job, col.priority, col.created, until("Visible in"), col.size, col.body], acts(del)));
  parts.push(section("inFlight", "In-flight messages", "No message is in flight.",
    [col.id, col.job, col.priority, col.received, until("Lease ends"), col.size, col.body], acts(del)));
  const tools = h("div", { class: "bar" });
  if (write) {
    tools.append(
      qv.redriveAll = h("button", { type: "button", text: "Redrive all dead", onclick: () =>
        post("redrive", { queue: name }, (r) => "Redrove " + plural(r.count, "dead message"),
          "Make every dead message of this queue receivable again?") }),
      qv.purge = h("button", { type: "button", class: "danger", text: "Purge dead", onclick: () =>
        post("purge-dead", { queue: name }, (r) => "Purged " + plural(r.count, "dead message"),
          "Delete every dead message of this queue? This cannot be undone.") }));
  }
  tools.append(
    qv.previous = h("button", { type: "button", text: "Previous page", onclick: () => { page--; refresh(); } }),
    qv.next = h("button", { type: "button", text: "Next page", onclick: () => {
      cursors[page + 1] = qv.cursor;
      page++;
      refresh();
    } }),
    qv.pageLabel = h("span", { class: "muted" }));
  parts.push(section("dead", "Dead messages", "No message is dead on this page.",
    [col.id, col.job, col.priority, col.received, col.created, col.size, col.body],
    acts({ label: "Redrive", run: redriveAction }, del), tools));
  if (write) parts.push(sendForm());
  main.replaceChildren(...parts);
}
function showQueue(data) {
  if (!qv) buildQueue(data);
  qv.cursor = data.cursor;
  doc.title = data.label + " \u00b7 " + title;
  for (const [key] of COLUMNS) put(qv.stats[key], count(data.stats[key]));
  put(qv.stats.oldestVisibleAge, age(data.stats.oldestVisibleAge));
  qv.stats.dead.classList.toggle("warn", data.stats.dead > 0);
  put(qv.settings, "Lease " + age(data.timeout) + " \u00b7 dead after " + plural(data.maxReceive, "receive") +
    (data.readOnly ? " \u00b7 read-only" : ""));
  const now = Date.parse(data.now);
  for (const key of ["visible", "delayed", "inFlight", "dead"]) {
    rows(key, data[key], now);
    const shown = data[key].length, all = data.stats[key];
    put(qv.sections[key].tally, key === "dead" ? "(" + count(all) + ")" :
      "(" + (all > shown ? count(shown) + " of " + count(all) : count(all)) + ")");
  }
  if (qv.redriveAll) qv.redriveAll.disabled = qv.purge.disabled = data.stats.dead === 0;
  qv.previous.disabled = page === 0;
  qv.next.disabled = !data.cursor;
  put(qv.pageLabel, "Page " + (page + 1));
}

if (onQueue && !name) {
  main.replaceChildren(h("h1", { text: "Which queue?" }), h("p", { text: "The address names no queue." }), h("p", null, h("a", { href: "./", text: "Back to the queues" })));
} else {
  refresh();
}
})();
`;

/** What {@linkcode renderShell} needs. */
export interface ShellOptions {
  readonly nonce: string;
  readonly csrf: string;
  readonly title: string;
  readonly interval: number;
  /** Whether the visitor holds a session (then the page has a sign-out button). */
  readonly signedIn: boolean;
}

/** The page every dashboard view starts from; its script renders the rest. */
export function renderShell(options: ShellOptions): string {
  const { nonce, csrf, title, interval, signedIn } = options;
  const signOut = signedIn
    ? `<form method="post" action="logout"><input type="hidden" name="csrf" value="${
      escapeHtml(csrf)
    }"><button type="submit">Sign out</button></form>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${CSS}</style>
</head>
<body data-csrf="${escapeHtml(csrf)}" data-interval="${interval}">
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="./">${escapeHtml(title)}</a>
<nav id="crumbs" aria-label="Breadcrumb"></nav>
<div class="tools">
<span id="updated" class="muted"></span>
<button type="button" id="pause" aria-pressed="false">Pause live updates</button>
${signOut}
</div>
</header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p>
<noscript><p>The dashboard needs JavaScript.</p></noscript></main>
<p id="status" class="status" role="status" aria-live="polite"></p>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

/** What {@linkcode renderLogin} needs. */
export interface LoginOptions {
  readonly nonce: string;
  readonly csrf: string;
  readonly title: string;
  /** What went wrong with the last attempt. */
  readonly error?: string;
}

/** The sign-in form; it posts to its own URL, so `?next=` survives. */
export function renderLogin(options: LoginOptions): string {
  const { nonce, csrf, title, error } = options;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${CSS}</style>
</head>
<body>
<header><span class="brand">${escapeHtml(title)}</span></header>
<main class="login">
<h1>Sign in</h1>
${error === undefined ? "" : `<p class="warn" role="alert">${escapeHtml(error)}</p>`}
<form method="post">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<div class="field"><label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></div>
<button type="submit">Sign in</button>
</form>
<p class="muted">The token is the one the server was started with (its <code>--token</code>).</p>
</main>
</body>
</html>
`;
}

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
