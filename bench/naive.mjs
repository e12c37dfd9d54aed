// The naive per-line approach of the AWS real-time-logs recipe, for `bench/compare.py`:
// read line by line, split on TAB, build one object per record keyed by field name and
// serialise it as JSON (what the recipe's Lambda forwards), then count in plain Maps.
// Exact counts and a sorted array for the quantiles: no sketches, memory grows with the
// input. Usage: node naive.mjs FILE FIELD,NAMES,...  Prints a small JSON report.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

const [path, namesArg] = process.argv.slice(2);
let names = namesArg.split(",");
const counters = {};
const count = (dim, key) => {
  if (key === null || key === undefined) return;
  const m = (counters[dim] ??= new Map());
  m.set(key, (m.get(key) ?? 0) + 1);
};
const pick = (rec, ...keys) => {
  for (const k of keys) if (k in rec) return rec[k];
  return null;
};
let records = 0, bytes = 0, jsonBytes = 0, hits = 0, cacheable = 0;
const timeTaken = [], ttfb = [];

const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
for await (const line of lines) {
  if (line === "") continue;
  if (line.startsWith("#")) {
    if (line.startsWith("#Fields:")) names = line.slice(8).trim().split(/\s+/);
    continue;
  }
  const values = line.split("\t");
  const rec = {};
  for (let i = 0; i < names.length; i++) rec[names[i]] = values[i] === "-" ? null : values[i];
  jsonBytes += JSON.stringify(rec).length;
  records++;
  const status = rec["sc-status"];
  bytes += Number(rec["sc-bytes"] ?? 0);
  count("status", status);
  if (status !== null) count("status_class", status === "000" ? "000" : status[0] + "xx");
  count("method", rec["cs-method"]);
  count("protocol", rec["cs-protocol"]);
  const result = rec["x-edge-result-type"];
  count("result", result);
  if (result === "Hit" || result === "RefreshHit") hits++, cacheable++;
  else if (result === "Miss") cacheable++;
  if (rec["time-taken"] !== null) timeTaken.push(Number(rec["time-taken"]));
  if (rec["time-to-first-byte"] !== null) ttfb.push(Number(rec["time-to-first-byte"]));
  count("uri", rec["cs-uri-stem"]);
  count("ip", rec["c-ip"]);
  count("referer", pick(rec, "cs-referer", "cs(Referer)"));
  count("ua", pick(rec, "cs-user-agent", "cs(User-Agent)"));
  count("edge", rec["x-edge-location"]);
  count("country", pick(rec, "c-country"));
  count("host", pick(rec, "cs-host", "x-host-header", "cs(Host)"));
  const minute = "timestamp" in rec
    ? Math.floor(Number(rec.timestamp) / 60)
    : `${rec.date} ${String(rec.time).slice(0, 5)}`;
  count("minute", minute);
  if (status !== null && status[0] === "5") count("minute_5xx", minute);
}
const quantiles = (xs) => {
  xs.sort((a, b) => a - b);
  return [0.5, 0.9, 0.99, 0.999].map((q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]);
};
const top = (dim) => [...(counters[dim] ?? new Map())].sort((a, b) => b[1] - a[1]).slice(0, 10);
const report = {
  records, bytes, json_bytes: jsonBytes,
  cache_hit_ratio: cacheable ? hits / cacheable : null,
  time_taken: quantiles(timeTaken), ttfb: quantiles(ttfb),
  unique_viewers: counters.ip?.size ?? 0,
  per_minute: counters.minute?.size ?? 0,
};
for (const dim of ["status", "status_class", "method", "protocol", "result"]) report[dim] = Object.fromEntries(counters[dim] ?? []);
for (const dim of ["uri", "ip", "referer", "ua", "edge", "country", "host"]) report["top_" + dim] = top(dim);
console.log(JSON.stringify(report));
