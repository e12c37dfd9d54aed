// The dashboard of `cflog analyze --html` (cli/src/export/): the report embedded in the
// page drawn as the browser inspector draws it (same tiles, tables and number formats, the
// formats from web-demo/src/format.js, inlined before this file), with inline SVG charts
// instead of uPlot so the file needs nothing from the network.

const report = JSON.parse(document.getElementById("cflog-report").textContent);
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const decodeKey = (k) => {
  try {
    return decodeURIComponent(k);
  } catch {
    return k;
  }
};
const utc = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

function kpi(name, value, text, sub, cls) {
  const el = document.querySelector(`[data-kpi="${name}"]`);
  el.textContent = text;
  el.dataset.value = value == null ? "null" : String(value);
  if (cls) el.parentElement.classList.add(cls);
  const s = document.querySelector(`[data-kpi-sub="${name}"]`);
  if (s && sub != null) s.textContent = sub;
}

function renderKpis(r) {
  const span = r.time.first_ms != null ? `${utc(r.time.first_ms)} → ${utc(r.time.last_ms).slice(11)} UTC` : "no timestamps";
  for (const tile of kpiTiles(r, span, "lines that were not records")) kpi(...tile);
}

// A line chart as SVG: `series` is [{label, color, values}], `xs` epoch ms.
function lineChart(xs, series, { height = 200, yMax, yFormat = (v) => fmtInt(v) } = {}) {
  const W = 900, H = height, L = 64, R = 10, T = 10, B = 24;
  const all = series.flatMap((s) => s.values).filter((v) => v != null);
  const top = yMax ?? Math.max(1, ...all);
  const x0 = xs[0] ?? 0, x1 = xs[xs.length - 1] ?? 1;
  const px = (x) => L + (x1 === x0 ? (W - L - R) / 2 : ((x - x0) / (x1 - x0)) * (W - L - R));
  const py = (v) => T + (1 - v / top) * (H - T - B);
  let svg = `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img">`;
  for (const f of [0, 0.5, 1]) {
    const y = py(top * f);
    svg += `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#2a333e"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${esc(yFormat(top * f))}</text>`;
  }
  if (xs.length) {
    svg += `<text x="${L}" y="${H - 6}">${esc(utc(x0))} UTC</text><text x="${W - R}" y="${H - 6}" text-anchor="end">${esc(utc(x1))} UTC</text>`;
  }
  for (const s of series) {
    // A gap (null) breaks the line.
    let d = "";
    let pen = false;
    s.values.forEach((v, i) => {
      if (v == null) return (pen = false);
      d += `${pen ? "L" : "M"}${px(xs[i]).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
    });
    svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`;
    if (xs.length <= 40) s.values.forEach((v, i) => v != null && (svg += `<circle cx="${px(xs[i]).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${s.color}"/>`));
  }
  svg += "</svg>";
  const legend = `<div class="legend">${series.map((s) => `<span><i style="background:${s.color}"></i>${esc(s.label)}</span>`).join("")}</div>`;
  return legend + svg;
}

function renderCharts(r) {
  const w = r.windows;
  const xs = w.map((x) => x.start_ms);
  $("window-note").textContent = `${w.length} window${w.length === 1 ? "" : "s"} of ${r.window.ms / 1000} s` + (r.window.note ? ` (${r.window.note})` : "");
  const colors = { "2xx": "#3fb950", "3xx": "#4ea1ff", "4xx": "#e3b341", "5xx": "#f85149" };
  $("chart-requests").innerHTML = lineChart(
    xs,
    Object.entries(colors).map(([c, color]) => ({ label: c, color, values: w.map((x) => x.status_class[c]) })),
    { height: 240 },
  );
  const lat = (q) => w.map((x) => x.latency_ms.time_taken[q] ?? null);
  $("chart-latency").innerHTML = lineChart(
    xs,
    [
      { label: "p50", color: "#4ea1ff", values: lat("p50") },
      { label: "p95", color: "#e3b341", values: lat("p95") },
      { label: "p99", color: "#f85149", values: lat("p99") },
    ],
    { yFormat: fmtMs },
  );
  $("chart-hit").innerHTML = lineChart(xs, [{ label: "hit ratio", color: "#a371f7", values: w.map((x) => (x.cache_hit_ratio == null ? null : x.cache_hit_ratio * 100)) }], {
    yMax: 100,
    yFormat: (v) => v.toFixed(0) + " %",
  });
}

function renderTables(r) {
  let html = "";
  for (const [key, title] of TOP_TABLES) {
    const list = r.top[key] || [];
    if (!list.length) continue;
    const max = list[0].count || 1;
    const decoded = key === "uri" || key === "referer" || key === "user_agent";
    const geo = key === "edge_location";
    html +=
      `<div class="card" data-table="${key}"><h3>${title}</h3><table><thead><tr><th>${key.replace("_", " ")}</th>` +
      (geo ? '<th style="width:32%">city, country, region</th>' : "") +
      '<th class="n">requests</th><th class="s">share</th></tr></thead><tbody>' +
      list
        .map((e) => {
          const label = decoded ? decodeKey(e.key) : e.key;
          const extra = geo ? `<td>${esc([e.city, e.country, e.region].filter(Boolean).join(", ") || "unknown")}</td>` : "";
          return `<tr data-key="${esc(e.key)}" title="${esc(label)}"><td>${esc(label)}</td>${extra}<td class="n">${fmtInt(e.count)}</td><td class="s"><span class="share" style="width:${Math.max(1, Math.round((e.count / max) * 34))}px"></span>${fmtPct(e.count / Math.max(r.records, 1), 1)}</td></tr>`;
        })
        .join("") +
      "</tbody></table></div>";
  }
  const breakdowns = [...BREAKDOWN_TABLES, ...Object.keys(r.tags || {}).map((k) => [`tag:${k}`, `Tag ${k}`])];
  for (const [key, title] of breakdowns) {
    const obj = key.startsWith("tag:") ? r.tags[key.slice(4)] : r[key];
    const entries = Object.entries(obj || {}).sort((a, b) => b[1] - a[1]);
    if (!entries.length) continue;
    html +=
      `<div class="card" data-table="${esc(key)}"><h3>${esc(title)}</h3><table><tbody>` +
      entries.map(([k, v]) => `<tr data-key="${esc(k)}"><td>${esc(k)}</td><td class="n">${fmtInt(v)}</td><td class="n">${fmtPct(v / Math.max(r.records, 1), 1)}</td></tr>`).join("") +
      "</tbody></table></div>";
  }
  $("tables").innerHTML = html;
}

$("kpis").innerHTML = kpiMarkup();
$("subtitle").textContent =
  (report.time.first_ms != null ? `${utc(report.time.first_ms)} → ${utc(report.time.last_ms)} UTC · ` : "") + plural(report.records, "record");
renderKpis(report);
renderCharts(report);
renderTables(report);
document.body.dataset.state = "done";
