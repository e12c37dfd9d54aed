// The page's number formatting (src/format.js), without a browser: `node --test tests/format.test.mjs`.
// The expected texts are the terminal dashboard's for the same values (cli/src/dashboard.rs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { fmtBytes, fmtMs, fmtApprox, plural, kpiTexts, bytesOrNone, topListRows, fmtSpan, chartPoints, fmtShare5xx } from "../src/format.js";

const unsampled = {
  records: 4, bytes_sent: 2_391_248, bytes_received: 46,
  time: { first_ms: 1_400_807_591_000, last_ms: 1_575_493_351_000 },
  sampling: { rate: null, scale: 1.0, estimated_records: 4.0, estimated_bytes_sent: 2_391_248.0 },
};

test("bytes are in binary IEC units, as in the CLI", () => {
  assert.equal(fmtBytes(0), "0 B");
  assert.equal(fmtBytes(1023), "1023 B");
  assert.equal(fmtBytes(1536), "1.5 KiB");
  assert.equal(fmtBytes(2_391_248), "2.3 MiB");
  assert.equal(fmtBytes(5 * 2 ** 30), "5.0 GiB");
  assert.equal(fmtBytes(null), "–");
});

test("latencies carry their unit on every value", () => {
  assert.equal(fmtMs(1), "1.0 ms");
  assert.equal(fmtMs(99.94), "99.9 ms");
  assert.equal(fmtMs(99.96), "100 ms");
  assert.equal(fmtMs(120), "120 ms");
  assert.equal(fmtMs(1250), "1.25 s");
  assert.equal(fmtMs(12_500), "12.5 s");
  assert.equal(fmtMs(3_663_400), "3663 s");
  assert.equal(fmtMs(null), "–");
});

test("one record, two records", () => {
  assert.equal(plural(1, "record"), "1 record");
  assert.equal(plural(0, "record"), "0 records");
  assert.equal(plural(1234, "line"), "1,234 lines");
});

test("estimates have three significant digits", () => {
  assert.equal(fmtApprox(40), "40");
  assert.equal(fmtApprox(12_345), "12,300");
  assert.equal(fmtApprox(1_234_567), "1.23 million");
  assert.equal(fmtApprox(999_999), "1 million");
  assert.equal(fmtApprox(45_600_000_000), "45.6 billion");
});

test("no sc-bytes is no data, not 0 B", () => {
  assert.equal(bytesOrNone(0), null);
  assert.equal(bytesOrNone(392), 392);
  const t = kpiTexts({ ...unsampled, bytes_sent: 0, bytes_received: 0 }, "span");
  assert.equal(t.bytes_sent.text, "–");
  assert.equal(t.bytes_sent.sub, "– received");
});

test("unsampled tiles show the raw counts", () => {
  const t = kpiTexts(unsampled, "span");
  assert.deepEqual(t.records, { text: "4", sub: "span" });
  assert.deepEqual(t.bytes_sent, { text: "2.3 MiB", sub: "46 B received" });
});

test("sampled tiles show the estimates, marked, and the sampled counts", () => {
  const r = {
    ...unsampled, records: 123_456, bytes_sent: 1000,
    sampling: { rate: 10, scale: 10.0, estimated_records: 1_234_560.0, estimated_bytes_sent: 10_000.0 },
  };
  const t = kpiTexts(r, "span");
  assert.equal(t.records.text, "≈ 1.23 million");
  assert.equal(t.records.sub, "estimated, 10 % sampled: 123,456 sampled records · span");
  assert.equal(t.bytes_sent.text, "≈ 9.8 KiB");
  assert.equal(t.bytes_sent.sub, "estimated, 10 % sampled: 1000 B sampled, 46 B received");
  const one = kpiTexts({ ...r, records: 1 }, "span");
  assert.match(one.records.sub, /: 1 sampled record · /);
});

test("top-list exports carry the count bound as overcount_max (report schema 3)", () => {
  const r = { top: {
    uri: [{ key: "/a", count: 8, overcount_max: 6 }],
    edge_location: [{ key: "LAX1", count: 4, overcount_max: 3, city: "Los Angeles", country: "US", region: "North America" }],
  } };
  assert.deepEqual(topListRows(r, "uri"), [["key", "count", "overcount_max"], ["/a", 8, 6]]);
  assert.deepEqual(topListRows(r, "edge_location"), [
    ["key", "city", "country", "region", "count", "overcount_max"],
    ["LAX1", "Los Angeles", "US", "North America", 4, 3],
  ]);
  assert.deepEqual(topListRows(r, "asn"), [["key", "count", "overcount_max"]]);
});

test("schema 4 top lists carry each entry's bytes and 5xx; the 5xx share is marked when the count is a bound", () => {
  const r = { top: { uri: [{ key: "/a", count: 8, overcount_max: 0, bytes: 4096, status_5xx: 2 }, { key: "/b", count: 4, overcount_max: 1, bytes: 10, status_5xx: 1 }] } };
  assert.deepEqual(topListRows(r, "uri"), [["key", "count", "overcount_max", "bytes", "status_5xx"], ["/a", 8, 0, 4096, 2], ["/b", 4, 1, 10, 1]]);
  assert.equal(fmtShare5xx(r.top.uri[0]), "25.0 %");
  assert.equal(fmtShare5xx(r.top.uri[1]), "≈ 25.0 %");
  // Merged with a report made before schema 4: the sums are unknown.
  assert.equal(fmtShare5xx({ count: 3, overcount_max: 0, bytes: null, status_5xx: null }), "–");
});

test("the time range shows both dates, in UTC", () => {
  // The AWS doc examples: 2014-05-23 01:13:11 to 2019-12-04 21:02:31 (epoch ms worked out by hand).
  assert.equal(fmtSpan(1_400_807_591_000, 1_575_493_351_000), "2014-05-23 01:13 → 2019-12-04 21:02 UTC");
  assert.equal(fmtSpan(1_400_807_591_000, 1_400_807_592_000), "2014-05-23 01:13 → 2014-05-23 01:13 UTC");
  assert.equal(fmtSpan(null, null), "no timestamps");
});

test("stretches without records are drawn as such, never bridged", () => {
  const w = (min) => ({ start_ms: min * 60_000 });
  // Consecutive windows: drawn as they are.
  assert.deepEqual(chartPoints([w(0), w(1), w(2)], 60_000).xs, [0, 60, 120]);
  // One empty window between: one point with no window.
  let p = chartPoints([w(0), w(2)], 60_000);
  assert.deepEqual(p.xs, [0, 60, 120]);
  assert.deepEqual(p.rows.map((r) => r && r.start_ms), [0, null, 120_000]);
  // A day without records: a point at each end of the stretch.
  p = chartPoints([w(0), w(1440)], 60_000);
  assert.deepEqual(p.xs, [0, 60, 1439 * 60, 1440 * 60]);
  assert.deepEqual(p.rows.map((r) => r && r.start_ms), [0, null, null, 1440 * 60_000]);
  assert.deepEqual(chartPoints([], 60_000), { xs: [], rows: [] });
});
