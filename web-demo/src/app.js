// The page: file intake, options, progress, dashboard, filters, search, exports.
import init, { check_field_set, realtime_releases } from "./pkg/cflog_wasm.js";
import { run, warm, defaultWorkers, maxWorkers, Cancelled } from "./pipeline.js";
import uPlot from "./vendor/uPlot.esm.js";
import { fmtInt, fmtPct, fmtBytes, plural, samplingRate, topListRows, kpiTiles, kpiMarkup, TOP_TABLES, BREAKDOWN_TABLES, fmtSpan, chartPoints, fmtShare5xx } from "./format.js";

const $ = (id) => document.getElementById(id);
const CLASSES = ["000", "1xx", "2xx", "3xx", "4xx", "5xx", "other"];
const CLASS_COLORS = { "2xx": "#3fb950", "3xx": "#4ea1ff", "4xx": "#e3b341", "5xx": "#f85149", "000": "#a371f7", "1xx": "#8b97a6", other: "#6e7681" };

const state = {
  files: [],
  rule: null, // { bytes, name, config }
  result: null, // last full (unfiltered or filtered) result
  report: null,
  filter: {},
  range: null,
  keys: [], // clicked top-list rows: "uri=/a" (include) or "uri!=/a" (exclude)
  search: null, // { matches, page }
  controller: null,
  charts: [],
  busy: false,
};
window.cflog = state; // for tests and the curious

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function showError(msg) {
  const e = $("error");
  if (!msg) {
    e.hidden = true;
    e.textContent = "";
    return;
  }
  e.hidden = false;
  e.textContent = msg;
}

function options(extra = {}) {
  // now_ms: relative filter times count back from this page's clock.
  const o = { format: $("format").value, window_ms: Number($("window").value), top_n: 10, top_by: $("top-by").value, now_ms: Date.now() };
  const fields = $("fields").value.trim() || $("fieldset").value;
  if (fields) o.fields = fields;
  return { ...o, ...extra };
}

function setBusy(b) {
  state.busy = b;
  $("progress").hidden = !b;
  for (const id of ["sample", "apply", "reset", "export-json"]) $(id).disabled = b || (id === "export-json" && !state.report);
}

async function analyze(files, extra = {}, { keepView = false } = {}) {
  if (!files.length) return null;
  if (state.busy) state.controller?.abort();
  showError("");
  state.controller = new AbortController();
  setBusy(true);
  $("bar-fill").style.width = "0%";
  const workers = Number($("workers").value) || defaultWorkers();
  try {
    const res = await run(files, options(extra), {
      workers,
      signal: state.controller.signal,
      rule: state.rule && !extra.search ? state.rule : null,
      readMode: new URLSearchParams(location.search).get("read") || "stream",
      onProgress: (p) => {
        const frac = p.total ? p.done / p.total : 0;
        $("bar-fill").style.width = (frac * 100).toFixed(1) + "%";
        const mibps = p.seconds > 0 ? p.bytes / 2 ** 20 / p.seconds : 0;
        $("progress-text").textContent = `${fmtBytes(p.done)} of ${fmtBytes(p.total)} · ${fmtBytes(p.bytes)} of log text · ${mibps.toFixed(0)} MiB/s`;
      },
    });
    return res;
  } catch (e) {
    if (e instanceof Cancelled) showError("Cancelled. The dashboard shows the last complete run.");
    else {
      showError(e.message || String(e));
      // A new load that failed: the dashboard of the files before would be read as theirs.
      if (!keepView) clearDashboard();
    }
    document.body.dataset.state = "error";
    return null;
  } finally {
    setBusy(false);
  }
}

function clearDashboard() {
  state.result = null;
  state.report = null;
  state.search = null;
  $("dashboard").hidden = true;
  $("export-json").disabled = true;
  $("files-info").textContent = "";
  $("search-results").innerHTML = "";
  $("search-info").textContent = "";
  $("search-pages").hidden = true;
}

async function analyzeAll() {
  state.filter = {};
  state.range = null;
  state.keys = [];
  syncFilterInputs();
  document.body.dataset.state = "running";
  const res = await analyze(state.files);
  if (!res) return;
  state.full = res;
  show(res);
}

function show(res) {
  state.result = res;
  state.report = JSON.parse(res.report);
  $("export-json").disabled = false;
  $("dashboard").hidden = false;
  renderKpis(state.report, res);
  renderCharts(state.report);
  renderTables(state.report);
  renderTags(state.report, res);
  renderBad(res);
  const s = res.stats;
  $("files-info").textContent =
    `${state.files.map((f) => f.name).join(", ")}: ${fmtBytes(s.bytes)} of log text in ${s.seconds.toFixed(2)} s ` +
    `(${(s.bytes / 2 ** 20 / Math.max(s.seconds, 1e-3)).toFixed(0)} MiB/s, ${plural(s.workers, "worker")}, ${plural(s.lines, "line")})` +
    (samplingRate(state.report) == null ? "" : ` · sampled at ${samplingRate(state.report)} %: charts and tables count the sampled records`);
  document.body.dataset.state = "done";
}

function kpi(name, value, text, sub, cls) {
  const el = document.querySelector(`[data-kpi="${name}"]`);
  el.textContent = text;
  el.dataset.value = value == null ? "null" : String(value);
  el.parentElement.className = "kpi" + (cls ? " " + cls : "");
  const s = document.querySelector(`[data-kpi-sub="${name}"]`);
  if (s && sub != null) s.textContent = sub;
}

function renderKpis(r) {
  const span = fmtSpan(r.time.first_ms, r.time.last_ms);
  for (const tile of kpiTiles(r, span)) kpi(...tile);
}

let xRange = null;
let fewPoints = false;

// Every time on the page is UTC, as in the CLI and the report: chart axes and legends too,
// whatever the browser's time zone.
const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
const utcStamp = uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}:{ss} UTC");
// Time-axis labels in 24-hour ISO form (uPlot's default is US 12-hour): per tick spacing
// (seconds), the label and what a tick adds when the year, the day or the minute changes.
const DAY = 86400;
const TIME_TICKS = [
  [365 * DAY, "{YYYY}", null, null, null, null, null, null, 1],
  [28 * DAY, "{YYYY}-{MM}", null, null, null, null, null, null, 1],
  [DAY, "{MM}-{DD}", "\n{YYYY}", null, null, null, null, null, 1],
  [3600, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
  [60, "{HH}:{mm}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
  [1, "{HH}:{mm}:{ss}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
  [0.001, "{HH}:{mm}:{ss}.{fff}", "\n{YYYY}-{MM}-{DD}", null, "\n{MM}-{DD}", null, null, null, 1],
];

function chartOpts(width, height, series, extra = {}) {
  const axis = { stroke: "#8b97a6", grid: { stroke: "#2a333e", width: 1 }, ticks: { stroke: "#2a333e" } };
  return {
    width, height,
    tzDate: utcDate,
    series: [{ label: "UTC", value: (u, v) => (v == null ? "–" : utcStamp(utcDate(v))) }, ...series.map((x) => ({ points: { show: fewPoints, size: 6 }, ...x }))],
    axes: [{ ...axis, values: TIME_TICKS, label: "UTC", labelSize: 18 }, { ...axis, size: 70, ...(extra.yAxis || {}) }],
    scales: { x: { time: true, range: () => xRange }, ...(extra.scales || {}) },
    legend: { live: true },
    cursor: { drag: { x: true, y: false, setScale: false } },
    hooks: extra.hooks || {},
  };
}

function renderCharts(r) {
  for (const c of state.charts) c.destroy();
  state.charts = [];
  // The series' own width: wider than the one asked for when the engine coarsened it.
  const window_ms = r.window.ms;
  // Stretches without records are drawn as such (zero requests, no latency), not bridged.
  const { xs, rows } = chartPoints(r.windows, window_ms);
  const gaps = rows.filter((x) => x === null).length;
  // Half a window of margin each side, so one window still draws as a point mid-chart.
  const half_w = window_ms / 2000;
  xRange = xs.length ? [xs[0] - half_w, xs[xs.length - 1] + half_w] : [0, 1];
  fewPoints = r.windows.length <= 40;
  $("window-note").textContent =
    (r.windows.length === 1
      ? `All records fall in one ${window_ms / 1000} s window: pick a shorter window above for a finer series.`
      : `${plural(r.windows.length, "window")} of ${window_ms / 1000} s with records${gaps ? " (stretches without records show as zero requests and gaps)" : ""}; times in UTC`) +
    (r.window.note ? ` (${r.window.note})` : "");
  const el = $("chart-requests");
  const wide = Math.max(300, el.clientWidth || 900);
  const half = Math.max(300, $("chart-latency").clientWidth || 440);
  const shown = ["2xx", "3xx", "4xx", "5xx"];
  const count = (f) => rows.map((x) => (x ? f(x) : 0));
  const rest = count((x) => x.status_class["000"] + x.status_class["1xx"] + x.status_class.other);
  const reqSeries = shown.map((c) => ({ label: c, stroke: CLASS_COLORS[c], fill: c === "2xx" ? "rgba(63,185,80,.12)" : undefined, width: 1.6 }));
  const reqData = [xs, ...shown.map((c) => count((x) => x.status_class[c])), rest];
  reqSeries.push({ label: "000/1xx/other", stroke: CLASS_COLORS["000"], width: 1 });
  const brush = {
    setSelect: [
      (u) => {
        if (u.select.width < 3) return;
        const from = Math.floor(u.posToVal(u.select.left, "x") * 1000);
        const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x") * 1000);
        u.setSelect({ left: 0, width: 0 }, false);
        state.range = { from_ms: from, to_ms: to };
        syncFilterInputs();
        applyFilters();
      },
    ],
  };
  state.charts.push(new uPlot(chartOpts(wide - 10, 240, reqSeries, { hooks: brush }), reqData, el));
  const lat = (q) => rows.map((x) => (x ? x.latency_ms.time_taken[q] : null));
  state.charts.push(
    new uPlot(
      chartOpts(half - 10, 200, [
        { label: "p50", stroke: "#4ea1ff", width: 1.6 },
        { label: "p95", stroke: "#e3b341", width: 1.6 },
        { label: "p99", stroke: "#f85149", width: 1.6 },
      ], { scales: { y: { distr: 3 } }, yAxis: { values: (u, v) => v.map((x) => (x == null ? "" : x >= 1000 ? x / 1000 + " s" : x + " ms")) } }),
      [xs, lat("p50"), lat("p95"), lat("p99")],
      $("chart-latency"),
    ),
  );
  state.charts.push(
    new uPlot(
      chartOpts(half - 10, 200, [{ label: "hit ratio", stroke: "#a371f7", fill: "rgba(163,113,247,.15)", width: 1.6, value: (u, v) => (v == null ? "–" : v.toFixed(1) + " %") }], {
        scales: { y: { range: [0, 100] } },
        yAxis: { values: (u, v) => v.map((x) => x + " %") },
      }),
      [xs, rows.map((x) => (x?.cache_hit_ratio == null ? null : x.cache_hit_ratio * 100))],
      $("chart-hit"),
    ),
  );
}

function csv(rows) {
  return rows.map((r) => r.map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : c)).join(",")).join("\n") + "\n";
}

function download(name, text, type) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

function tableRows(r, key) {
  const list = r.top[key] || [];
  return list.map((e) => {
    // Keys arrive decoded by the engine (once, or twice for a pre-2020 file), exactly as the CLI shows them.
    const row = { key: e.key, label: e.key, count: e.count, overcount_max: e.overcount_max, bytes: e.bytes, status_5xx: e.status_5xx };
    if (key === "edge_location") row.extra = [e.city, e.country, e.region].filter(Boolean).join(", ");
    return row;
  });
}

function renderTables(r) {
  const box = $("tables");
  box.innerHTML = "";
  const by = { bytes: " by bytes sent", errors: " by 5xx responses" }[r.options?.top_by] || "";
  for (const [key, title] of TOP_TABLES) {
    const rows = tableRows(r, key);
    if (!rows.length) continue;
    const max = Math.max(1, ...rows.map((x) => x.count));
    // Report schema 4 entries carry their bytes and 5xx (null after merging an older report).
    const sums = rows.every((x) => x.bytes != null);
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.table = key;
    const extraHead = key === "edge_location" ? '<th style="width:32%">city, country, region</th>' : "";
    card.innerHTML =
      `<h3>${title}${by}<button class="small ghost" data-csv="${key}">CSV</button></h3>` +
      `<table><thead><tr><th>${key.replace("_", " ")}</th>${extraHead}<th class="n">requests</th><th class="s">share</th>` +
      (sums ? '<th class="n">bytes</th><th class="n">5xx</th>' : "") +
      "</tr></thead><tbody>" +
      rows
        .map(
          (x) =>
            `<tr class="click" data-key="${esc(x.key)}" title="${esc(x.label)}: click to keep only this, ✕ to leave it out"><td><button class="small ghost x" data-exclude title="leave this out">✕</button>${esc(x.label)}</td>` +
            (key === "edge_location" ? `<td>${esc(x.extra || "unknown")}</td>` : "") +
            `<td class="n">${fmtInt(x.count)}</td><td class="s"><span class="share" style="width:${Math.max(1, Math.round((x.count / max) * 34))}px"></span>${fmtPct(x.count / Math.max(r.records, 1), 1)}</td>` +
            (sums ? `<td class="n" data-bytes="${x.bytes}">${fmtBytes(x.bytes)}</td><td class="n" data-status-5xx="${x.status_5xx}">${fmtShare5xx(x)}</td>` : "") +
            "</tr>",
        )
        .join("") +
      "</tbody></table>";
    box.appendChild(card);
    card.querySelector("[data-csv]").onclick = () => {
      download(`cflog-top-${key}.csv`, csv(topListRows(r, key)), "text/csv");
    };
    // Every row filters: the row to include it, its ✕ to exclude it (the core's `key`
    // condition, matching the report's key exactly).
    for (const tr of card.querySelectorAll("tr[data-key]")) {
      tr.onclick = (ev) => {
        const exclude = ev.target.closest("[data-exclude]") != null;
        const cond = `${key}${exclude ? "!=" : "="}${tr.dataset.key}`;
        if (!state.keys.includes(cond)) state.keys.push(cond);
        applyFilters();
      };
    }
  }
  // Breakdowns worth a glance.
  for (const [key, title] of BREAKDOWN_TABLES) {
    const entries = Object.entries(r[key] || {}).sort((a, b) => b[1] - a[1]);
    if (!entries.length) continue;
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.table = key;
    card.innerHTML =
      `<h3>${title}<button class="small ghost" data-csv="${key}">CSV</button></h3><table><tbody>` +
      entries.map(([k, v]) => `<tr><td>${esc(k)}</td><td class="n">${fmtInt(v)}</td><td class="n">${fmtPct(v / Math.max(r.records, 1), 1)}</td></tr>`).join("") +
      "</tbody></table>";
    card.querySelector("[data-csv]").onclick = () => download(`cflog-${key}.csv`, csv([["key", "count"], ...entries]), "text/csv");
    box.appendChild(card);
  }
}

function renderTags(r, res) {
  const keys = Object.keys(r.tags || {});
  $("tags-card").hidden = !state.rule;
  if (!state.rule) return;
  $("rule-info").textContent = `${state.rule.name} reads ${(res.stats.ruleFields || "").trim().split(/\s+/).join(", ")}` + (res.stats.ruleDropped ? ` · dropped ${fmtInt(res.stats.ruleDropped)} records` : "");
  renderRuleStatus(res.stats.ruleStats);
  const sel = $("f-tag");
  const current = sel.value;
  sel.innerHTML = '<option value="">any tag</option>';
  let html = "";
  for (const k of keys) {
    const entries = Object.entries(r.tags[k]).sort((a, b) => b[1] - a[1]);
    html += `<div class="card" data-tag="${esc(k)}"><h3>${esc(k)}</h3><table><tbody>` + entries.map(([v, n]) => `<tr data-tag-value="${esc(v)}"><td>${esc(v)}</td><td class="n">${fmtInt(n)}</td><td class="n">${fmtPct(n / Math.max(r.records, 1), 1)}</td></tr>`).join("") + "</tbody></table></div>";
    for (const [v] of entries) {
      const o = document.createElement("option");
      o.value = `${k}=${v}`;
      o.textContent = `${k} = ${v}`;
      sel.appendChild(o);
    }
  }
  sel.value = current;
  $("tags").innerHTML = html ? `<div class="tables">${html}</div>` : '<p class="muted">The rule tagged no record.</p>';
}

// A failing rule does not fail the job (as in `cflog analyze`): its failures by kind, the
// records it left un-enriched and whether it was disabled are shown here.
function renderRuleStatus(s) {
  const el = $("rule-status");
  el.hidden = !s || !s.failures;
  if (!s || !s.failures) return (el.textContent = "");
  const kinds = Object.entries(s.failures_by_kind).map(([k, n]) => `${fmtInt(n)} ${k}`).join(", ");
  el.textContent = `rule ${s.name}: ${fmtInt(s.failures)} failed batches (${kinds}); ${fmtInt(s.records_skipped)} records not enriched` +
    (s.disabled ? "; disabled after repeated failures" : "") + (s.last_error ? ` — last error: ${s.last_error}` : "");
}

function renderBad(res) {
  $("bad-card").hidden = !res.bad.length;
  $("bad").innerHTML =
    '<table class="results"><tbody>' +
    res.bad.map((b) => `<tr><td class="loc">${esc(state.files[b.file]?.name ?? b.file)}:${b.line}</td><td>${esc(b.message)}</td></tr>`).join("") +
    "</tbody></table>";
  if (res.bad.length && state.report.records === 0) {
    const first = res.bad[0];
    showError(
      `No line of ${state.files[first.file]?.name} is a record. First error, line ${first.line}: ${first.message}.\n` +
        `If these are real-time logs, pick the field set of your real-time log config (or paste its JSON); if they are standard logs, choose the standard format.`,
    );
  }
}

function syncFilterInputs() {
  $("f-keys").innerHTML = state.keys.map((k, i) => `<span class="chip" data-chip="${i}" title="remove">${esc(k.replace("!=", " ≠ ").replace("=", " = "))} ✕</span>`).join(" ");
  for (const chip of $("f-keys").querySelectorAll("[data-chip]")) {
    chip.onclick = () => {
      state.keys.splice(Number(chip.dataset.chip), 1);
      applyFilters();
    };
  }
  $("f-range").hidden = !state.range;
  if (state.range) {
    const f = (ms) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
    $("f-range").textContent = `${f(state.range.from_ms)} – ${f(state.range.to_ms)} UTC ✕`;
  }
}

function currentFilter() {
  const f = {};
  const classes = CLASSES.filter((c) => $("fc-" + c)?.checked);
  if (classes.length && classes.length < CLASSES.length) f.status_classes = classes;
  if ($("f-edge").value.trim()) f.edge = $("f-edge").value.trim();
  if ($("f-country").value.trim()) f.country = $("f-country").value.trim().toUpperCase();
  if ($("f-uri").value.trim()) f.uri_prefix = $("f-uri").value.trim();
  if ($("f-tag").value) f.tag = $("f-tag").value;
  if ($("f-nobots").checked) f.exclude_bots = true;
  if (state.keys.length) f.keys = [...state.keys];
  if (state.range) Object.assign(f, state.range);
  return f;
}

async function applyFilters() {
  syncFilterInputs();
  const filter = currentFilter();
  const parts = Object.entries(filter).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : v}`);
  document.body.dataset.state = "running";
  const res = await analyze(state.files, Object.keys(filter).length ? { filter } : {}, { keepView: true });
  if (!res) return;
  show(res);
  $("filter-state").textContent = parts.length ? `filtered: ${parts.join(", ")} (re-read in wasm)` : "";
}

async function search(ev) {
  ev.preventDefault();
  const text = $("search").value;
  if (!text || !state.files.length) return;
  // The active filters apply to the search too: only matching lines whose records pass.
  const filter = currentFilter();
  const res = await analyze(state.files, { search: text, max_matches: 1000, ...(Object.keys(filter).length ? { filter } : {}) }, { keepView: true });
  if (!res) return;
  const m = res.matches;
  state.search = { matches: m.matches, page: 0 };
  const filtered = Object.keys(filter).length ? " passing the filters" : "";
  $("search-info").textContent = `${fmtInt(m.count)} matching line${m.count === 1 ? "" : "s"}${filtered}${m.count > m.matches.length ? `, first ${fmtInt(m.matches.length)} kept` : ""}`;
  renderSearchPage();
  document.body.dataset.state = "done";
}

const SEARCH_PAGE = 50;
// The columns of the parsed table: the first of each group a record has.
const SEARCH_COLUMNS = [
  ["time", (r) => (r.timestamp != null ? new Date(r.timestamp * 1000).toISOString().replace("T", " ").slice(0, 23) : r.date != null ? `${r.date} ${r.time}` : "")],
  ["status", (r) => r["sc-status"]],
  ["method", (r) => r["cs-method"]],
  ["uri", (r) => r["cs-uri-stem"]],
  ["edge", (r) => r["x-edge-location"]],
  ["client", (r) => r["c-ip"]],
  ["result", (r) => r["x-edge-result-type"]],
  ["time-taken", (r) => r["time-taken"]],
];

function renderSearchPage() {
  const s = state.search;
  const pages = Math.max(1, Math.ceil(s.matches.length / SEARCH_PAGE));
  s.page = Math.min(Math.max(0, s.page), pages - 1);
  const rows = s.matches.slice(s.page * SEARCH_PAGE, (s.page + 1) * SEARCH_PAGE);
  $("search-results").innerHTML =
    `<table class="results parsed"><thead><tr><th class="loc">line</th>${SEARCH_COLUMNS.map(([h]) => `<th>${h}</th>`).join("")}</tr></thead><tbody>` +
    rows
      .map((x) => {
        const cells = x.record ? SEARCH_COLUMNS.map(([, get]) => `<td>${esc(get(x.record) ?? "")}</td>`).join("") : `<td colspan="${SEARCH_COLUMNS.length}"><pre class="line">${esc(x.text)}</pre></td>`;
        return `<tr data-line="${x.line}" title="${esc(x.text)}"><td class="loc">${esc(state.files[x.file]?.name ?? x.file)}:${x.line}</td>${cells}</tr>`;
      })
      .join("") +
    "</tbody></table>";
  $("search-pages").hidden = pages <= 1;
  $("search-page").textContent = `page ${s.page + 1} of ${pages}`;
  $("search-prev").disabled = s.page === 0;
  $("search-next").disabled = s.page >= pages - 1;
}

async function setFiles(files) {
  state.files = [...files];
  if (state.files.length) await analyzeAll();
}

async function main() {
  $("kpis").innerHTML = kpiMarkup();
  await init({ module_or_path: new URL("./pkg/cflog_wasm_bg.wasm", import.meta.url) });
  for (const r of JSON.parse(realtime_releases())) {
    const o = document.createElement("option");
    o.value = r.fields.join(",");
    o.textContent = `complete list, ${r.count} fields`;
    $("fieldset").appendChild(o);
  }
  const n = defaultWorkers();
  const all = maxWorkers();
  for (let i = 1; i <= all; i++) {
    const o = document.createElement("option");
    o.value = i;
    o.textContent = i === all ? `${i} (all)` : String(i);
    $("workers").appendChild(o);
  }
  $("workers").value = String(n);
  warm(n);
  $("workers").addEventListener("change", () => state.busy || warm(Number($("workers").value) || n));
  $("f-classes").innerHTML = CLASSES.map((c) => `<label><input type="checkbox" id="fc-${c}" checked> ${c}</label>`).join("");

  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    setFiles(e.dataTransfer.files);
  });
  $("files").addEventListener("change", (e) => {
    const picked = [...e.target.files];
    if (!picked.length) return;
    e.target.value = ""; // so picking the same file again runs again
    setFiles(picked);
  });
  $("cancel").onclick = () => state.controller?.abort();
  $("sample").onclick = async () => {
    const resp = await fetch("sample.log.gz");
    if (!resp.ok) return showError(`sample.log is missing from this site (HTTP ${resp.status}); build it with make site`);
    const blob = await resp.blob();
    await setFiles([new File([blob], "sample.log.gz")]);
  };
  $("export-json").onclick = () => state.result && download("cflog-report.json", state.result.report + "\n", "application/json");
  $("apply").onclick = applyFilters;
  $("reset").onclick = () => {
    for (const id of ["f-edge", "f-country", "f-uri"]) $(id).value = "";
    $("f-tag").value = "";
    $("f-nobots").checked = false;
    state.keys = [];
    for (const c of CLASSES) $("fc-" + c).checked = true;
    state.range = null;
    syncFilterInputs();
    applyFilters();
  };
  $("f-range").onclick = () => {
    state.range = null;
    syncFilterInputs();
    applyFilters();
  };
  $("search-form").addEventListener("submit", search);
  $("search-prev").onclick = () => (state.search.page--, renderSearchPage());
  $("search-next").onclick = () => (state.search.page++, renderSearchPage());
  $("fields").addEventListener("input", () => {
    const t = $("fields").value.trim();
    if (!t) return ($("fields-check").textContent = "");
    try {
      const r = JSON.parse(check_field_set(t));
      $("fields-check").textContent = `${r.fields.length} fields, in delivery order: ${r.fields.join(" ")}` + (r.sampling_rate ? ` · sampling ${r.sampling_rate} %` : "");
    } catch (e) {
      $("fields-check").textContent = e.message;
    }
  });
  $("rule").addEventListener("change", async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    state.rule = { bytes: await f.arrayBuffer(), name: f.name, config: $("rule-config").value };
    $("rule-name").textContent = f.name;
    if (state.files.length) await analyzeAll();
  });
  $("example-rule").onclick = async () => {
    const resp = await fetch("rules/status_class.wasm");
    if (!resp.ok) return showError(`rules/status_class.wasm is missing from this site (HTTP ${resp.status})`);
    state.rule = { bytes: await resp.arrayBuffer(), name: "status_class.wasm", config: $("rule-config").value };
    $("rule-name").textContent = "status_class.wasm (example: tags each record with its status class)";
    if (state.files.length) await analyzeAll();
  };
  $("rule-config").addEventListener("change", () => {
    if (state.rule) state.rule.config = $("rule-config").value;
  });
  for (const id of ["format", "window", "fieldset", "top-by"]) $(id).addEventListener("change", () => state.files.length && analyzeAll());
  window.addEventListener("resize", () => state.report && renderCharts(state.report));
  document.body.dataset.state = "ready";
}

main().catch((e) => showError(`The inspector could not start: ${e.message}`));
