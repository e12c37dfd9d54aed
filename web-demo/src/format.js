// How the page writes numbers and exports: pure functions (no DOM), so `node --test` checks them
// (tests/format.test.mjs). The conventions match the terminal dashboard (cli/src/dashboard.rs):
// bytes in binary IEC units (1 KiB = 1024 B), latencies with their unit on every value,
// estimates from sampled logs marked with "≈", times in UTC with their date.

const nf = new Intl.NumberFormat("en-US");

export const fmtInt = (n) => (n == null ? "–" : nf.format(n));

export const fmtPct = (r, d = 2) => (r == null ? "–" : (r * 100).toFixed(d) + " %");

// `1 record`, `2 records`.
export const plural = (n, one, many = one + "s") => `${fmtInt(n)} ${n === 1 ? one : many}`;

// Milliseconds, always with a unit: 1.0 ms, 120 ms, 1.25 s, 12.5 s, 3663 s.
export function fmtMs(ms) {
  if (ms == null) return "–";
  // Thresholds on the rounded value, so 99.96 ms is "100 ms", not "100.0 ms".
  if (ms < 99.95) return ms.toFixed(1) + " ms";
  if (ms < 999.5) return ms.toFixed(0) + " ms";
  const s = ms / 1000;
  return s.toFixed(s < 9.995 ? 2 : s < 99.95 ? 1 : 0) + " s";
}

// Bytes in binary units (the CLI's): 1023 B, 1.5 KiB, 2.3 MiB.
export function fmtBytes(b) {
  if (b == null) return "–";
  const u = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = b;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return i ? `${v.toFixed(1)} ${u[i]}` : `${Math.round(b)} B`;
}

// An estimate to three significant digits: 40, 12,300, 1.23 million.
export function fmtApprox(n) {
  if (n == null) return "–";
  if (n < 1) return String(Math.round(n));
  const digits = Math.floor(Math.log10(n)) + 1;
  const rounded = Math.round(n / 10 ** Math.max(0, digits - 3)) * 10 ** Math.max(0, digits - 3);
  if (rounded >= 1e9) return `${+(rounded / 1e9).toPrecision(3)} billion`;
  if (rounded >= 1e6) return `${+(rounded / 1e6).toPrecision(3)} million`;
  return nf.format(rounded);
}

// A total of bytes, or null for "no data": the report cannot tell a log without
// `sc-bytes` (or `cs-bytes`) from one whose every response was empty, and no CloudFront
// response with headers is 0 bytes, so a total of 0 is read as "the field is absent".
export const bytesOrNone = (total) => (total > 0 ? total : null);

// The sampling rate (percent) when the report comes from sampled real-time logs.
export const samplingRate = (r) => r.sampling?.rate ?? null;

// The texts of the Requests and Data sent tiles (`span`: the time range, shown under the
// requests). Sampled logs show the estimates of all traffic, marked as such, with the raw
// counts (which every table and chart shows) below.
export function kpiTexts(r, span) {
  const sent = bytesOrNone(r.bytes_sent);
  const received = bytesOrNone(r.bytes_received);
  const rate = samplingRate(r);
  if (rate == null) {
    return {
      records: { text: fmtInt(r.records), sub: span },
      bytes_sent: { text: fmtBytes(sent), sub: `${fmtBytes(received)} received` },
    };
  }
  const note = `estimated, ${rate} % sampled`;
  return {
    records: { text: "≈ " + fmtApprox(r.sampling.estimated_records), sub: `${note}: ${plural(r.records, "sampled record")} · ${span}` },
    bytes_sent: {
      text: sent == null ? "–" : "≈ " + fmtBytes(r.sampling.estimated_bytes_sent),
      sub: sent == null ? `${fmtBytes(received)} received (sampled)` : `${note}: ${fmtBytes(sent)} sampled, ${fmtBytes(received)} received`,
    },
  };
}

// The report's top lists and the breakdowns the dashboards show, with their titles: the
// inspector (app.js) and the page `cflog analyze --html` writes (cli/src/export/) both
// draw these.
export const TOP_TABLES = [
  ["uri", "Top URIs"],
  ["client_ip", "Top client IPs"],
  ["edge_location", "Top edge locations"],
  ["country", "Top viewer countries"],
  ["referer", "Top referers"],
  ["user_agent", "Top user agents"],
  ["asn", "Top viewer ASNs"],
  ["distribution", "Distributions"],
];
export const BREAKDOWN_TABLES = [
  ["status", "Status codes"],
  ["result_type", "Edge result types"],
  ["edge_region", "Edge regions"],
  ["user_agent_class", "Viewer kinds"],
];

// The KPI tiles, in order: [name, title, fixed line below (null: set per report)].
export const KPI_TILES = [
  ["records", "Requests", null],
  ["bytes_sent", "Data sent", null],
  ["rate_4xx", "4xx rate", null],
  ["rate_5xx", "5xx rate", null],
  ["cache_hit_ratio", "Cache hit ratio", null],
  ["p50", "Latency p50", "time-taken"],
  ["p95", "p95", "time-taken"],
  ["p99", "p99", "time-taken"],
  ["unique_viewers", "Unique viewers", "HyperLogLog estimate"],
  ["bad_lines", "Bad lines", null],
];

// The tiles' empty markup (filled by `kpiTiles` values through data-kpi / data-kpi-sub).
export const kpiMarkup = () =>
  KPI_TILES.map(([name, title, fixed]) => `<div class="kpi"><span>${title}</span><b data-kpi="${name}"></b>` + (fixed ? `<small>${fixed}</small>` : `<small data-kpi-sub="${name}"></small>`) + "</div>").join("");

// Every KPI tile of a report: [name, raw report value, text, line below (or null), class].
// The raw value goes to data-value; the text is what a reader needs (estimates when
// sampled). Both dashboards (app.js, cli/src/export/render.js) draw these.
export function kpiTiles(r, span, badLinesSub = "see the list below") {
  const tt = r.latency_ms.time_taken;
  const t = kpiTexts(r, span);
  const e4 = r.error_rate["4xx"], e5 = r.error_rate["5xx"];
  const requests = samplingRate(r) == null ? "request" : "sampled request";
  return [
    ["records", r.records, t.records.text, t.records.sub, ""],
    ["bytes_sent", r.bytes_sent, t.bytes_sent.text, t.bytes_sent.sub, ""],
    ["rate_4xx", e4, fmtPct(e4), plural(r.status_class["4xx"], requests), e4 > 0.05 ? "warn" : ""],
    ["rate_5xx", e5, fmtPct(e5), plural(r.status_class["5xx"], requests), e5 > 0.01 ? "bad" : e5 != null ? "good" : ""],
    ["cache_hit_ratio", r.cache_hit_ratio, fmtPct(r.cache_hit_ratio, 1), r.cache_hit_ratio_bytes != null ? `${fmtPct(r.cache_hit_ratio_bytes, 1)} of bytes` : "no cacheable results", ""],
    ["p50", tt.p50 ?? null, fmtMs(tt.p50), null, ""],
    ["p95", tt.p95 ?? null, fmtMs(tt.p95), null, ""],
    ["p99", tt.p99 ?? null, fmtMs(tt.p99), null, tt.p99 > 1000 ? "warn" : ""],
    ["unique_viewers", r.unique_viewers, fmtInt(r.unique_viewers), null, ""],
    ["bad_lines", r.bad_lines, fmtInt(r.bad_lines), r.bad_lines ? badLinesSub : "every line parsed", r.bad_lines ? "bad" : "good"],
  ];
}

// A top list as CSV rows (header first). `overcount_max` is the report's bound on how far
// `count` may exceed the true count (schema 3; not HTTP errors); `bytes` and `status_5xx`
// (schema 4) sum the entry's counted requests.
export function topListRows(r, key) {
  const geo = key === "edge_location";
  const list = r.top[key] || [];
  const sums = list.length > 0 && list.every((e) => e.bytes != null);
  const head = [...(geo ? ["key", "city", "country", "region"] : ["key"]), "count", "overcount_max", ...(sums ? ["bytes", "status_5xx"] : [])];
  const body = list.map((e) => [
    ...(geo ? [e.key, e.city ?? "", e.country ?? "", e.region ?? ""] : [e.key]),
    e.count,
    e.overcount_max,
    ...(sums ? [e.bytes, e.status_5xx] : []),
  ]);
  return [head, ...body];
}

// A top-list entry's 5xx share of its requests, as the terminal dashboard writes it: `12.5 %`,
// marked `≈` when the count is a bound (`overcount_max` above 0).
export function fmtShare5xx(e) {
  if (e.status_5xx == null) return "–";
  return (e.overcount_max > 0 ? "≈ " : "") + fmtPct(e.status_5xx / Math.max(e.count, 1), 1);
}

// A time in UTC to the minute, date first: `2014-05-23 01:13`.
export const fmtUtcMinute = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

// The time range of a report, both ends with their date, as the terminal dashboard's header
// shows it: `2014-05-23 01:13 → 2014-06-09 01:06 UTC`.
export function fmtSpan(first_ms, last_ms) {
  if (first_ms == null) return "no timestamps";
  return `${fmtUtcMinute(first_ms)} → ${fmtUtcMinute(last_ms)} UTC`;
}

// The points a chart draws for a report's windows (`windows`, ascending, each `start_ms`),
// in seconds for uPlot. Absent windows had no records, so a stretch without records gets a
// point at each of its ends with no window (`null`): counts drop to zero across it and
// per-window measures (latency, hit ratio) leave a gap, instead of a line drawn across
// days. `rows[i]` is the window drawn at `xs[i]`, or null.
export function chartPoints(windows, window_ms) {
  const xs = [];
  const rows = [];
  let prev = null;
  for (const w of windows) {
    if (prev != null && w.start_ms - prev > window_ms) {
      xs.push((prev + window_ms) / 1000);
      rows.push(null);
      if (w.start_ms - window_ms > prev + window_ms) {
        xs.push((w.start_ms - window_ms) / 1000);
        rows.push(null);
      }
    }
    xs.push(w.start_ms / 1000);
    rows.push(w);
    prev = w.start_ms;
  }
  return { xs, rows };
}
