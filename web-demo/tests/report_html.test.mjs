// `cflog analyze --html`: the one-file report opened from disk in real headless Chromium.
// Every request the page makes is recorded: only the file itself may be loaded. The tiles
// and tables must show the report `cflog analyze --json` prints for the same input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { launch, cflogBin, targetDir, ensureDir } from "./helpers.mjs";

const dir = ensureDir(join(targetDir, "web-fixtures", "report-html"));
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the --html report opens offline and shows the report's numbers", async () => {
  const log = join(dir, "rt.log");
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "4000", "--seed", "31", "-o", log]);
  // A URI that would end the embedded JSON's <script> element if it were not escaped.
  const evil = "/</script><script>window.pwned=1</script>";
  let text = readFileSync(log, "utf8");
  const first = text.split("\n")[0].split("\t");
  for (let i = 0; i < 3; i++) {
    const row = [...first];
    row[9] = evil; // cs-uri-stem in the 46-field release (after s-ip)
    text += row.join("\t") + "\n";
  }
  writeFileSync(log, text);
  const page_path = join(dir, "report.html");
  // Every URI in the top list, so the awkward one is in it.
  execFileSync(cflogBin, ["analyze", "--no-progress", "--top", "5000", "--html", page_path, log]);
  const r = JSON.parse(execFileSync(cflogBin, ["analyze", "--no-progress", "--top", "5000", "--json", log], { encoding: "utf8", maxBuffer: 1 << 26 }));

  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  const errors = [];
  page.on("request", (req) => requests.push(req.url()));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  const url = pathToFileURL(page_path).href;
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === "done");
  assert.deepEqual(requests, [url], "the page loads nothing but itself");
  assert.deepEqual(errors, []);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  const k = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-kpi]")].map((e) => [e.dataset.kpi, { value: e.dataset.value, text: e.textContent }])));
  assert.equal(k.records.value, String(r.records));
  assert.equal(k.records.text, r.records.toLocaleString("en-US"));
  assert.equal(k.unique_viewers.value, String(r.unique_viewers));
  assert.equal(k.rate_5xx.value, String(r.error_rate["5xx"]));
  assert.equal(k.cache_hit_ratio.value, String(r.cache_hit_ratio));
  for (const q of ["p50", "p95", "p99"]) assert.equal(k[q].value, String(r.latency_ms.time_taken[q]), q);
  const uriKeys = await page.$$eval('[data-table="uri"] tbody tr', (trs) => trs.map((t) => t.dataset.key));
  assert.deepEqual(uriKeys, r.top.uri.map((e) => e.key));
  assert.ok(uriKeys.includes(evil), "the awkward URI is shown as text");
  const statusRows = await page.$$eval('[data-table="status"] tbody tr', (trs) => trs.length);
  assert.equal(statusRows, Object.keys(r.status).length);
  assert.equal(await page.locator("#chart-requests svg path").count(), 4);
  await page.screenshot({ path: join(dir, "report-html.png"), fullPage: true });
  await page.close();
});
