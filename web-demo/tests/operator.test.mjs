// The inspector's filters, search and tables for an operator (issue 16), in real headless
// Chromium: the core's filter behind every control (the same values the CLI refuses are
// refused), include and exclude on every top list, a search that honours the filters in a
// paged, parsed table, a failed load that clears the old dashboard, a 390-px screen.
// Expected numbers come from the CLI's unfiltered report or from the generated lines.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve, launch, openPage, analyzeFiles, kpis, cliReport, cflogBin, targetDir, ensureDir, artifacts } from "./helpers.mjs";

const fx = ensureDir(join(targetDir, "web-fixtures", "operator"));
ensureDir(artifacts);
const F = { rt: join(fx, "rt-6000.log"), bad: join(fx, "three-fields.log") };
let server, browser;

before(async () => {
  execFileSync(cflogBin, ["gen", "--format", "realtime", "--lines", "6000", "--seed", "41", "-o", F.rt]);
  writeFileSync(F.bad, "a\tb\tc\nd\te\tf\n");
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function settle(page, action) {
  await page.evaluate(() => (document.body.dataset.state = "filtering"));
  await action();
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state));
  return page.evaluate(() => document.body.dataset.state);
}
const records = async (page) => Number((await kpis(page)).records.value);

test("every top list filters in and out; bots and bad values go through the core filter", async () => {
  const r = JSON.parse(cliReport([F.rt], ["--threads", "1", "--top-capacity", "100000"]));
  const { page, errors } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  assert.equal(await records(page), r.records);
  // The report keeps every country and edge exactly (far fewer than the capacity).
  for (const list of ["country", "edge_location", "client_ip"]) {
    const row = await page.$(`[data-table="${list}"] tbody tr:first-child`);
    const key = await row.getAttribute("data-key");
    const entry = r.top[list].find((e) => e.key === key);
    assert.ok(entry, `${list} ${key}`);
    assert.equal(await settle(page, () => row.click()), "done");
    assert.equal(await records(page), entry.count, `${list} = ${key}`);
    assert.match(await page.textContent("#f-keys"), new RegExp(`${list} = `));
    // Remove the condition (its chip), then exclude the same row with its ✕.
    assert.equal(await settle(page, () => page.click("#f-keys [data-chip]")), "done");
    assert.equal(await records(page), r.records);
    const again = await page.$(`[data-table="${list}"] tbody tr[data-key="${key}"]`);
    await again.hover();
    assert.equal(await settle(page, () => again.$eval("[data-exclude]", (b) => b.click())), "done");
    assert.equal(await records(page), r.records - entry.count, `${list} != ${key}`);
    assert.equal(await settle(page, () => page.click("#reset")), "done");
  }
  // No bots: the report's bot count leaves.
  await page.check("#f-nobots");
  assert.equal(await settle(page, () => page.click("#apply")), "done");
  assert.equal(await records(page), r.records - r.user_agent_class.bot);
  await page.uncheck("#f-nobots");
  // A value the core refuses: its words, and the dashboard stays.
  await page.fill("#f-country", "USA");
  assert.equal(await settle(page, () => page.click("#apply")), "error");
  assert.match(await page.textContent("#error"), /--country: expected a two-letter country code/);
  assert.equal(await page.isHidden("#dashboard"), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test("search honours the filters and pages through parsed records", async () => {
  const { page } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  for (const c of ["000", "1xx", "2xx", "3xx", "other"]) await page.uncheck(`#fc-${c}`);
  assert.equal(await settle(page, () => page.click("#apply")), "done");
  // Lines holding "HTTP/" whose sc-status (5th field of the 46-field release) is 4xx or 5xx.
  const lines = readFileSync(F.rt, "utf8").split("\n");
  const expected = lines.flatMap((l, i) => (l.includes("HTTP/") && /^[45]/.test(l.split("\t")[4] ?? "") ? [i + 1] : []));
  assert.ok(expected.length > 60, "more than one page");
  await page.fill("#search", "HTTP/");
  await page.evaluate(() => (document.body.dataset.state = "searching"));
  await page.click("#search-form button");
  await page.waitForFunction(() => document.body.dataset.state === "done" && document.querySelector("#search-results tbody tr"));
  assert.match(await page.textContent("#search-info"), new RegExp(`^${expected.length.toLocaleString("en-US")} matching lines passing the filters`));
  const seen = [];
  for (;;) {
    const rows = await page.$$eval("#search-results tbody tr", (trs) => trs.map((t) => ({ line: Number(t.dataset.line), status: t.children[2].textContent })));
    assert.ok(rows.length <= 50);
    for (const row of rows) assert.match(row.status, /^[45]\d\d$/);
    seen.push(...rows.map((x) => x.line));
    if (await page.isDisabled("#search-next")) break;
    await page.click("#search-next");
  }
  assert.deepEqual(seen, expected.slice(0, 1000));
  const header = await page.$$eval("#search-results thead th", (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(header.slice(0, 4), ["line", "time", "status", "method"]);
  await page.close();
});

test("a failed load clears the dashboard of the files before", async () => {
  const { page } = await openPage(browser, server.url);
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  assert.equal(await page.isHidden("#dashboard"), false);
  assert.equal(await analyzeFiles(page, [F.bad]), "error");
  assert.equal(await page.isHidden("#dashboard"), true);
  assert.equal(await page.isDisabled("#export-json"), true);
  assert.equal(await page.textContent("#files-info"), "");
  await page.close();
});

test("the tables fit a 390-px screen", async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === "ready");
  assert.equal(await analyzeFiles(page, [F.rt]), "done");
  await page.fill("#search", "GET");
  await page.evaluate(() => (document.body.dataset.state = "searching"));
  await page.click("#search-form button");
  await page.waitForFunction(() => document.body.dataset.state === "done" && document.querySelector("#search-results tbody tr"));
  const overflow = await page.evaluate(() => {
    const out = [];
    if (document.documentElement.scrollWidth > 390) out.push(`page ${document.documentElement.scrollWidth}`);
    for (const t of document.querySelectorAll("#tables table")) {
      const box = t.getBoundingClientRect();
      if (box.right > 390 || box.left < 0) out.push(`${t.closest("[data-table]").dataset.table} ${box.left}-${box.right}`);
    }
    return out;
  });
  assert.deepEqual(overflow, []);
  await page.screenshot({ path: join(artifacts, "dashboard-390px.png"), fullPage: true });
  await page.close();
});
