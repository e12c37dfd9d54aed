// The inspector page in real headless Chromium: what it shows and exports must equal
// `cflog analyze --json` on the same files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { serve, launch, openPage, analyzeFiles, kpis, cliReport, cflogBin, targetDir, repo, dist, artifacts, ensureDir } from "./helpers.mjs";

const fx = ensureDir(join(targetDir, "web-fixtures"));
ensureDir(artifacts);
const F = {
  doc: join(repo, "tests/fixtures/standard/aws-doc-2019-33col.log"),
  rt: join(fx, "rt-3000.log"),
  stgz: join(fx, "st-5000.log.gz"),
  big: join(fx, "rt-20000.log"),
  biggz: join(fx, "rt-20000.log.gz"),
  bad: join(fx, "three-fields.log"),
  trunc: join(fx, "truncated.log.gz"),
};
let server, browser;

before(async () => {
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "3000", "--seed", "11", "-o", F.rt]);
  execFileSync(cflogBin, ["gen", "--format", "standard", "--lines", "5000", "--seed", "12", "--gzip", "-o", F.stgz]);
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "20000", "--seed", "13", "--rate", "20", "-o", F.big]);
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "20000", "--seed", "13", "--rate", "20", "--gzip", "-o", F.biggz]);
  writeFileSync(F.bad, "a\tb\tc\nd\te\tf\n");
  const gz = readFileSync(F.stgz);
  writeFileSync(F.trunc, gz.subarray(0, Math.floor(gz.length / 2)));
  server = await serve();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// The KPI tiles against a CLI report: raw values (data-value) and the shown text.
function assertKpis(k, r) {
  assert.equal(k.records.value, String(r.records));
  assert.equal(k.records.text, r.records.toLocaleString("en-US"));
  assert.equal(k.bytes_sent.value, String(r.bytes_sent));
  assert.equal(k.rate_4xx.value, String(r.error_rate["4xx"]));
  assert.equal(k.rate_5xx.value, String(r.error_rate["5xx"]));
  assert.equal(k.cache_hit_ratio.value, String(r.cache_hit_ratio));
  for (const q of ["p50", "p95", "p99"]) assert.equal(k[q].value, String(r.latency_ms.time_taken[q]), q);
  assert.equal(k.unique_viewers.value, String(r.unique_viewers));
  assert.equal(k.unique_viewers.text, r.unique_viewers.toLocaleString("en-US"));
  assert.equal(k.bad_lines.value, String(r.bad_lines));
}

async function exportedReport(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
  return readFileSync(await download.path(), "utf8");
}

test("one worker: the exported report is byte for byte `cflog analyze --json --threads 1`, the KPIs equal it", async () => {
  // F.big and F.biggz span several of the reading worker's 8 MiB pieces (read into the
  // buffers the engine hands back) and of the engine's windows.
  const files = [F.doc, F.rt, F.stgz, F.big, F.biggz];
  const expected = cliReport(files, ["--threads", "1"]);
  const { page, errors } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, files, { workers: 1 }), "done");
  const exported = await exportedReport(page);
  assert.equal(exported, expected);
  const r = JSON.parse(expected);
  // 3000 + 5000 + 2 × 20000 generated records plus the AWS documentation example's records.
  const docRecords = readFileSync(F.doc, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).length;
  assert.equal(r.records, 3000 + 5000 + 2 * 20000 + docRecords);
  assertKpis(await kpis(page), r);
  // The top-URI table shows the report's first entry.
  const firstUri = await page.getAttribute('[data-table="uri"] tbody tr:first-child', "data-key");
  assert.equal(firstUri, r.top.uri[0].key);
  await page.screenshot({ path: join(artifacts, "dashboard-one-worker.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("all workers: every exact aggregate equals the CLI's", async () => {
  const files = [F.big, F.stgz];
  const r = JSON.parse(cliReport(files, ["--threads", "1"]));
  const { page, errors } = await openPage(browser, server.url);
  const options = await page.$$eval("#workers option", (os) => os.map((o) => Number(o.value)));
  const workers = Math.max(2, ...options);
  if (!options.includes(workers)) {
    await page.evaluate((n) => {
      const o = document.createElement("option");
      o.value = String(n);
      o.textContent = String(n);
      document.getElementById("workers").appendChild(o);
    }, workers);
  }
  assert.equal(await analyzeFiles(page, files, { workers }), "done");
  assertKpis(await kpis(page), r);
  const shown = JSON.parse(await exportedReport(page));
  for (const key of ["records", "bytes_sent", "bytes_received", "status_class", "status", "cache", "latency_ms", "unique_viewers", "windows", "time", "edge_region"]) {
    assert.deepEqual(shown[key], r[key], key);
  }
  const info = await page.textContent("#files-info");
  assert.match(info, new RegExp(`${workers} workers`));
  assert.deepEqual(errors, []);
  await page.close();
});

test("the worker count defaults to one fewer than the cores (a core left for reading); every count up to the cores, at most 8, can be picked", async () => {
  // [cores the browser reports, the default, the largest choice]
  // The page as a browser reporting `n` cores shows it.
  const withCores = (n) => ({ script: (c) => Object.defineProperty(Navigator.prototype, "hardwareConcurrency", { get: () => c }), arg: n });
  for (const [cores, want, all] of [[1, 1, 1], [2, 1, 2], [4, 3, 4], [8, 7, 8], [16, 7, 8]]) {
    const { page } = await openPage(browser, server.url, {}, withCores(cores));
    const options = await page.$$eval("#workers option", (os) => os.map((o) => [Number(o.value), o.textContent]));
    assert.deepEqual(options.map(([v]) => v), Array.from({ length: all }, (_, i) => i + 1), `${cores} cores`);
    assert.equal(options.at(-1)[1], `${all} (all)`, `${cores} cores`);
    assert.equal(Number(await page.inputValue("#workers")), want, `${cores} cores`);
    await page.close();
  }
  // A run with the default uses it.
  const { page } = await openPage(browser, server.url, {}, withCores(3));
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  assert.match(await page.textContent("#files-info"), /2 workers/);
  await page.close();
});

test("filters re-aggregate in wasm; raw-line search finds every matching line", async () => {
  const r = JSON.parse(cliReport([F.big], ["--threads", "1"]));
  const { page } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.big]), "done");
  // Status class 5xx only.
  for (const c of ["000", "1xx", "2xx", "3xx", "4xx", "other"]) await page.uncheck(`#fc-${c}`);
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await page.click("#apply");
  await page.waitForFunction(() => document.body.dataset.state === "done");
  assert.equal((await kpis(page)).records.value, String(r.status_class["5xx"]));
  assert.match(await page.textContent("#filter-state"), /status_classes=5xx/);
  // Reset, then one country (top countries are exact: far fewer than 1000 of them).
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await page.click("#reset");
  await page.waitForFunction(() => document.body.dataset.state === "done");
  assert.equal((await kpis(page)).records.value, String(r.records));
  const top = r.top.country[1];
  await page.fill("#f-country", top.key);
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await page.click("#apply");
  await page.waitForFunction(() => document.body.dataset.state === "done");
  assert.equal((await kpis(page)).records.value, String(top.count));

  // Search (no filter now: a search honours the active filters, operator.test.mjs): line
  // numbers of every line holding the text, as counted here.
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await page.click("#reset");
  await page.waitForFunction(() => document.body.dataset.state === "done");
  const needle = "/api/v1/session";
  const lines = readFileSync(F.big, "utf8").split("\n");
  const expected = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  assert.ok(expected.length > 10);
  await page.fill("#search", needle);
  await page.evaluate(() => (document.body.dataset.state = "searching"));
  await page.click("#search-form button");
  await page.waitForFunction(() => document.body.dataset.state === "done" && document.querySelector("#search-results tbody tr"));
  // The first page of the parsed table (operator.test.mjs pages through the rest).
  const got = await page.$$eval("#search-results tbody tr", (trs) => trs.map((t) => Number(t.dataset.line)));
  assert.deepEqual(got, expected.slice(0, 50));
  assert.match(await page.textContent("#search-info"), new RegExp(`^${expected.length.toLocaleString("en-US")} matching lines`));
  await page.close();
});

test("clear errors: wrong format, truncated gzip, wrong field set", async () => {
  const { page } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.bad]), "error");
  const e1 = await page.textContent("#error");
  assert.match(e1, /three-fields\.log: real-time records carry no header, and the first record has 3 fields/);

  assert.equal(await analyzeFiles(page, [F.trunc]), "error");
  const e2 = await page.textContent("#error");
  assert.match(e2, /truncated\.log\.gz: the gzip data is truncated or corrupt/);
  await page.screenshot({ path: join(artifacts, "error-truncated-gzip.png") });
  // The same errors when a lone worker reads the files itself.
  assert.equal(await analyzeFiles(page, [F.trunc], { workers: 1 }), "error");
  assert.match(await page.textContent("#error"), /truncated\.log\.gz: the gzip data is truncated or corrupt \(after [\d.]+ (?:B|KiB|MiB) of [\d.]+ (?:B|KiB|MiB) compressed/);
  assert.equal(await analyzeFiles(page, [F.bad], { workers: 1 }), "error");
  assert.match(await page.textContent("#error"), /three-fields\.log: real-time records carry no header, and the first record has 3 fields/);

  // A real-time file read with a 5-field set: every line is bad, and the page says why.
  await page.click("#fields-details summary");
  await page.fill("#fields", "timestamp c-ip sc-status cs-uri-stem x-edge-location");
  assert.match(await page.textContent("#fields-check"), /5 fields, in delivery order: timestamp c-ip/);
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  const k = await kpis(page);
  assert.equal(k.records.value, "0");
  assert.equal(k.bad_lines.value, "3000");
  const e3 = await page.textContent("#error");
  assert.match(e3, /No line of rt-3000\.log is a record\. First error, line 1: 46 fields, but the layout has 5/);
  const firstBad = await page.textContent("#bad tr:first-child");
  assert.match(firstBad, /rt-3000\.log:1/);
  // An unknown field name is named.
  await page.fill("#fields", "timestamp c-ipp");
  assert.match(await page.textContent("#fields-check"), /c-ipp/);
  await page.close();
});

test("an enrichment rule (.wasm, plugin ABI v1) tags records; its tags filter", async () => {
  const r = JSON.parse(cliReport([F.big], ["--threads", "1"]));
  const { page, errors } = await openPage(browser, server.url);
  await page.setInputFiles("#rule", join(dist, "rules/status_class.wasm"));
  assert.equal(await analyzeFiles(page, [F.big]), "done");
  const tags = await page.$$eval('[data-tag="status_class"] tr', (trs) => Object.fromEntries(trs.map((t) => [t.dataset.tagValue, Number(t.querySelector(".n").textContent.replace(/,/g, ""))])));
  const expected = Object.fromEntries(["1xx", "2xx", "3xx", "4xx", "5xx"].filter((c) => r.status_class[c] > 0).map((c) => [c, r.status_class[c]]));
  assert.deepEqual(tags, expected);
  const report = JSON.parse(await exportedReport(page));
  assert.deepEqual(report.tags.status_class, expected);
  assert.match(await page.textContent("#rule-info"), /status_class\.wasm reads sc-status/);
  await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true });
  await page.selectOption("#f-tag", "status_class=4xx");
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await page.click("#apply");
  await page.waitForFunction(() => document.body.dataset.state === "done");
  assert.equal((await kpis(page)).records.value, String(r.status_class["4xx"]));
  assert.deepEqual(errors, []);
  await page.close();
});

test("the sample button loads the generated sample", async () => {
  const { page } = await openPage(browser, server.url);
  await page.evaluate(() => (document.body.dataset.state = "picking"));
  await page.click("#sample");
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 120_000 });
  const sample = join(dist, "sample.log.gz");
  const lines = gunzipSync(readFileSync(sample)).toString("utf8").split("\n").filter(Boolean).length;
  assert.equal((await kpis(page)).records.value, String(lines));
  await page.screenshot({ path: join(artifacts, "dashboard-sample.png"), fullPage: false });
  await page.close();
});

test("pasted `get-realtime-log-config` JSON: the same report as `cflog analyze --fields` (sampling rate included)", async () => {
  const { page, errors } = await openPage(browser, server.url);
  const names = await page.$$eval("#fieldset option", (os) => os.find((o) => o.textContent.includes("46 fields")).value.split(","));
  assert.equal(names.length, 46);
  const config = JSON.stringify({ RealtimeLogConfig: { ARN: "arn:aws:cloudfront::123456789012:realtime-log-config/x", Name: "x", SamplingRate: 25, EndPoints: [], Fields: [...names].reverse() } });
  const configFile = join(fx, "realtime-config.json");
  writeFileSync(configFile, config);
  const expected = cliReport([F.rt], ["--threads", "1", "--fields", `@${configFile}`]);
  assert.equal(JSON.parse(expected).sampling.rate, 25);
  await page.click("#fields-details summary");
  await page.fill("#fields", config);
  assert.match(await page.textContent("#fields-check"), /46 fields, in delivery order: timestamp c-ip .* sampling 25 %/);
  assert.equal(await analyzeFiles(page, [F.rt], { workers: 1 }), "done");
  assert.equal(await exportedReport(page), expected);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a Rust rule from `make plugins` gives the report `cflog analyze --plugin` gives", async () => {
  const rule = join(dist, "rules/cflog_rule_bots.wasm");
  const expected = cliReport([F.rt], ["--threads", "1", "--plugin", rule]);
  const r = JSON.parse(expected);
  assert.ok(r.tags.bot && r.tags.network, "the bots rule tags bots and networks");
  const { page, errors } = await openPage(browser, server.url);
  await page.setInputFiles("#rule", rule);
  assert.equal(await analyzeFiles(page, [F.rt], { workers: 1 }), "done");
  assert.equal(await exportedReport(page), expected);
  const shown = await page.$$eval('[data-tag="bot"] tr', (trs) => Object.fromEntries(trs.map((t) => [t.dataset.tagValue, Number(t.querySelector(".n").textContent.replace(/,/g, ""))])));
  assert.deepEqual(shown, r.tags.bot);
  assert.deepEqual(errors, []);
  await page.close();
});

// The table's first column as shown, per row.
async function shownKeys(page, table) {
  // The cell's own text: its ✕ (leave this row out) button is not part of the key.
  return page.$$eval(`[data-table="${table}"] tbody tr td:first-child`, (tds) =>
    tds.map((td) => [...td.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("")),
  );
}

test("user agents read as the engine decodes them, the CLI's way: pre-2020 double encoding per file, a literal + kept", async () => {
  const legacy = join(repo, "tests/fixtures/standard/legacy-2016-23col-double-encoded.log");
  const files = [legacy, F.doc];
  const r = JSON.parse(cliReport(files, ["--threads", "1"]));
  const { page, errors } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, files, { workers: 1 }), "done");
  const shown = await shownKeys(page, "user_agent");
  assert.deepEqual(shown, r.top.user_agent.map((e) => e.key));
  // From the lines themselves (format reference §2): the 2016 file logs a space as %2520,
  // the 2019 AWS example as %20; each reads with plain spaces.
  assert.deepEqual(new Set(shown), new Set([
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36",
  ]));

  // Percent-decoding only: bingbot's `+http://…` stays a `+` (format reference §6.6).
  const fields = readFileSync(join(repo, "tests/fixtures/realtime/gotchas.fields"), "utf8");
  const gotchas = join(repo, "tests/fixtures/realtime/gotchas.log");
  await page.click("#fields-details summary");
  await page.fill("#fields", fields);
  assert.equal(await analyzeFiles(page, [gotchas], { workers: 1 }), "done");
  const rt = JSON.parse(cliReport([gotchas], ["--threads", "1", "--fields", fields.trim()]));
  assert.deepEqual(await shownKeys(page, "user_agent"), rt.top.user_agent.map((e) => e.key));
  assert.ok((await shownKeys(page, "user_agent")).includes("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"));
  assert.deepEqual(errors, []);
  await page.close();
});

test("a failing rule is contained as in `cflog analyze`: the job completes, failures are counted and shown", async () => {
  // faulty.wat traps on every batch (plugins/examples/wat). Natively and in the page alike,
  // its records go un-enriched and it is disabled after 3 failures in a row.
  const rule = join(repo, "plugins/examples/wat/faulty.wat");
  const expected = JSON.parse(cliReport([F.big], ["--threads", "1", "--plugin", rule]));
  const plain = JSON.parse(cliReport([F.big], ["--threads", "1"]));
  assert.equal(expected.records, plain.records);
  const { page, errors } = await openPage(browser, server.url);
  await page.setInputFiles("#rule", join(dist, "rules/faulty.wasm"));
  assert.equal(await analyzeFiles(page, [F.big], { workers: 1 }), "done");
  const report = JSON.parse(await exportedReport(page));
  assert.equal(report.records, plain.records);
  assert.deepEqual(report.tags || {}, {});
  assert.equal((await kpis(page)).records.value, String(plain.records));
  const status = await page.textContent("#rule-status");
  assert.match(status, /rule faulty\.wasm: 3 failed batches \(3 trap\)/);
  assert.match(status, /records not enriched; disabled after repeated failures/);
  assert.ok(await page.isVisible("#rule-status"));
  assert.deepEqual(errors, []);
  await page.close();
});

test("times: both ends of the range with their dates, UTC on the charts whatever the browser's zone, days without records not bridged", async () => {
  // Two bursts of about 10 minutes, two days apart (gen: about 1 record a second from --start).
  const a = join(fx, "burst-a.log"), b = join(fx, "burst-b.log");
  const startA = Date.UTC(2026, 0, 1, 0, 0, 0), startB = Date.UTC(2026, 0, 3, 6, 30, 0);
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "600", "--seed", "31", "--rate", "1", "--start", String(startA), "-o", a]);
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "600", "--seed", "32", "--rate", "1", "--start", String(startB), "-o", b]);
  const r = JSON.parse(cliReport([a, b], ["--threads", "1"]));
  // India is UTC+05:30: local clock times would differ from UTC in hour and minute.
  const { page, errors } = await openPage(browser, server.url, { timezoneId: "Asia/Kolkata" });
  assert.equal(await analyzeFiles(page, [a, b], { workers: 1 }), "done");
  const iso = (ms) => new Date(ms).toISOString();
  const minute = (ms) => iso(ms).slice(0, 16).replace("T", " ");
  assert.ok(minute(r.time.first_ms).startsWith("2026-01-01") && minute(r.time.last_ms).startsWith("2026-01-03"));
  assert.equal(await page.textContent('[data-kpi-sub="records"]'), `${minute(r.time.first_ms)} → ${minute(r.time.last_ms)} UTC`);

  const chart = await page.evaluate(() => {
    const [req, lat, hit] = window.cflog.charts;
    return { xs: req.data[0], twoxx: req.data[1], p50: lat.data[1], hit: hit.data[1], splits: req.axes[0]._splits, labels: req.axes[0]._values };
  });
  // Every tick is labelled with its own UTC time (24-hour, ISO dates).
  assert.ok(chart.splits.length >= 2);
  chart.splits.forEach((s, i) => {
    const t = iso(s * 1000);
    const forms = [t.slice(11, 16), t.slice(11, 19), t.slice(5, 10), t.slice(0, 7), t.slice(0, 4)];
    assert.ok(forms.includes(chart.labels[i].split("\n")[0]), `tick ${t} labelled ${JSON.stringify(chart.labels[i])}`);
  });
  // The stretch between the bursts: requests drop to zero at both ends, latency and hit
  // ratio have no value there, and nothing is drawn across it.
  const w = r.windows, width = r.window.ms;
  const gapAt = w.findIndex((x, i) => i > 0 && x.start_ms - w[i - 1].start_ms > width);
  assert.ok(gapAt > 0, "the report has a gap");
  for (const edge of [w[gapAt - 1].start_ms + width, w[gapAt].start_ms - width]) {
    const i = chart.xs.indexOf(edge / 1000);
    assert.ok(i >= 0, `a point at ${iso(edge)}`);
    assert.equal(chart.twoxx[i], 0);
    assert.equal(chart.p50[i], null);
    assert.equal(chart.hit[i], null);
  }
  // Every window of the report is drawn, with its own values.
  for (const x of w) {
    const i = chart.xs.indexOf(x.start_ms / 1000);
    assert.equal(chart.twoxx[i], x.status_class["2xx"]);
  }
  assert.match(await page.textContent("#window-note"), /times in UTC/);
  await page.screenshot({ path: join(artifacts, "times-utc-gaps.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("top lists ranked by bytes and by 5xx, with each entry's bytes and 5xx, as `cflog analyze --top-by`", async () => {
  // Per path, from `cflog parse` (an oracle apart from the aggregates): bytes and 5xx.
  const truth = new Map();
  for (const line of execFileSync(cflogBin, ["parse", F.rt], { encoding: "utf8", maxBuffer: 1 << 28 }).split("\n").filter(Boolean)) {
    const rec = JSON.parse(line);
    const path = rec["cs-uri-stem"].split("?")[0];
    const t = truth.get(path) ?? { bytes: 0, fives: 0 };
    t.bytes += rec["sc-bytes"] ?? 0;
    t.fives += rec["sc-status"] >= 500 && rec["sc-status"] <= 599 ? 1 : 0;
    truth.set(path, t);
  }
  const { page, errors } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.rt], { workers: 1 }), "done");
  for (const by of ["bytes", "errors"]) {
    const r = JSON.parse(cliReport([F.rt], ["--threads", "1", "--top-by", by]));
    assert.equal(r.options.top_by, by);
    await page.evaluate(() => (document.body.dataset.state = "picking"));
    await page.selectOption("#top-by", by);
    await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state));
    assert.equal(await page.textContent('[data-table="uri"] h3'), `Top URIs ${by === "bytes" ? "by bytes sent" : "by 5xx responses"}CSV`);
    const rows = await page.$$eval('[data-table="uri"] tbody tr', (trs) =>
      trs.map((tr) => ({
        key: tr.dataset.key,
        bytes: Number(tr.querySelector("[data-bytes]").getAttribute("data-bytes")),
        fives: Number(tr.querySelector("[data-status-5xx]").getAttribute("data-status-5xx")),
      })),
    );
    assert.deepEqual(rows, r.top.uri.map((e) => ({ key: e.key, bytes: e.bytes, fives: e.status_5xx })));
    // In the order asked for, and (the generated log has fewer URIs than the list keeps)
    // exact: the sums equal the requests' own bytes and 5xx.
    const values = rows.map((x) => (by === "bytes" ? x.bytes : x.fives));
    assert.deepEqual(values, [...values].sort((a, b) => b - a));
    assert.ok(rows.length > 0 && r.top.uri.every((e) => e.overcount_max === 0));
    for (const x of rows) assert.deepEqual({ bytes: x.bytes, fives: x.fives }, truth.get(x.key), x.key);
  }
  assert.deepEqual(errors, []);
  await page.close();
});
