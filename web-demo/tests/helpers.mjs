// Shared by the Chromium tests and the benchmark: a static file server for dist/ on
// 127.0.0.1 (free port), headless Debian Chromium through playwright-core, and the cflog
// binary built by make.
import { createServer } from "node:http";
import { createReadStream, statSync, existsSync, mkdirSync } from "node:fs";
import { extname, join, normalize, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export const here = dirname(fileURLToPath(import.meta.url));
export const webDemo = join(here, "..");
export const repo = join(webDemo, "..");
export const dist = join(webDemo, "dist");
export const targetDir = process.env.CARGO_TARGET_DIR || join(process.env.HOME, ".cache/cflog/target");
export const cflogBin = process.env.CFLOG || join(targetDir, "debug/cflog");
export const artifacts = join(targetDir, "web-screenshots");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
  ".wasm": "application/wasm", ".json": "application/json", ".log": "text/plain", ".gz": "application/gzip", ".png": "image/png",
};

export function serve(root = dist) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
    if (path.endsWith("/")) path += "index.html";
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] || "application/octet-stream", "cache-control": "no-store" });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) }));
  });
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
  });
}

// `cflog analyze --json` on files: stdout as text (exit code 3 = bad lines, still a report).
export function cliReport(files, args = []) {
  try {
    return execFileSync(cflogBin, ["analyze", "--json", "--no-progress", ...args, ...files], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    if (e.status === 3) return e.stdout;
    throw e;
  }
}

export function ensureDir(d) {
  mkdirSync(d, { recursive: true });
  return d;
}

// Opens the page with the console watched; returns { page, errors }. `options` go to
// `browser.newPage` (e.g. `timezoneId`); `init`, if given, is a script (and its argument)
// run in the page before its own scripts (`page.addInitScript`).
export async function openPage(browser, url, options = {}, init = null) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, ...options });
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  if (init) await page.addInitScript(init.script, init.arg);
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state === "ready");
  return { page, errors };
}

// Sets the worker count, picks files, waits for the run to end; returns the final state.
export async function analyzeFiles(page, files, { workers } = {}) {
  if (workers) await page.selectOption("#workers", String(workers));
  // Clear the picker first: picking the same file again fires no change event.
  await page.setInputFiles("#files", []);
  await page.evaluate(() => (document.body.dataset.state = "picking"));
  await page.setInputFiles("#files", files);
  await page.waitForFunction(() => ["done", "error"].includes(document.body.dataset.state), null, { timeout: 300_000 });
  return page.evaluate(() => document.body.dataset.state);
}

export async function kpis(page) {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll("[data-kpi]")].map((e) => [e.dataset.kpi, { value: e.dataset.value, text: e.textContent }])));
}
