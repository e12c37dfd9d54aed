// Browser throughput vs native: the inspector page in headless Chromium (1 worker and all
// workers) against `cflog analyze --threads 1` (and --threads N) on the same files.
//
//   make bench-web                       # 1 M real-time lines, a 100 MB+ standard .gz
//   node bench/bench.mjs --rt 200000 --std 150000 --runs 1   # quicker
//   node bench/bench.mjs --dist /tmp/old-dist                 # another build of the site
//
// Prints a markdown table (medians of --runs runs) and the memory of the browser's process
// tree sampled while the largest file streams. Figures go to bench/RESULTS.md by hand.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { cpus } from "node:os";
import { serve, launch, openPage, analyzeFiles, targetDir, ensureDir } from "../tests/helpers.mjs";

const arg = (name, def, as = Number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? as(process.argv[i + 1]) : def;
};
const RT = arg("rt", 1_000_000);
const STD = arg("std", 700_000);
const RUNS = arg("runs", 3);
const cflog = process.env.CFLOG || join(targetDir, "release/cflog");
const dir = ensureDir(join(targetDir, "bench-web"));
const allWorkers = arg("workers", cpus().length);

const files = [
  { name: `real-time, ${RT.toLocaleString("en-US")} lines (plain)`, path: join(dir, `rt-${RT}.log`), gen: ["--format", "realtime", "--lines", String(RT), "--seed", "21"] },
  { name: `standard, ${STD.toLocaleString("en-US")} lines (.gz)`, path: join(dir, `st-${STD}.log.gz`), gen: ["--format", "standard", "--lines", String(STD), "--seed", "22", "--gzip"] },
];
for (const f of files) {
  if (!existsSync(f.path)) execFileSync(cflog, ["gen", ...f.gen, "-o", f.path]);
  f.size = statSync(f.path).size;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function native(path, threads) {
  const times = [];
  let text = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const out = execFileSync(cflog, ["analyze", "--json", "--no-progress", "--threads", String(threads), path], { maxBuffer: 1 << 28 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    text = JSON.parse(out).records;
  }
  return { seconds: median(times), records: text };
}

// Resident memory of the browser and every process under it, in MB.
function treeRss(rootPid) {
  const kids = new Map();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(p));
    } catch {}
  }
  let rss = 0;
  let renderer = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop();
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) {
        rss += Number(m[1]);
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--type=renderer")) renderer = Math.max(renderer, Number(m[1]));
      }
    } catch {}
    stack.push(...(kids.get(pid) || []));
  }
  return { total: rss / 1024, renderer: renderer / 1024 };
}

const server = await serve(arg("dist", undefined, String));
const browser = await launch();
// Chromium runs as a child of this process: measure our process tree minus ourselves.
const pid = process.pid;
const browserRss = () => {
  const t = treeRss(pid);
  return { total: t.total - process.memoryUsage().rss / 1048576, renderer: t.renderer };
};
const results = [];
const memory = [];
try {
  for (const f of files) {
    const n1 = native(f.path, 1);
    const nN = native(f.path, allWorkers);
    const row = { file: f.name, size: f.size, native1: n1.seconds, nativeN: nN.seconds };
    for (const workers of [1, allWorkers]) {
      const times = [];
      let textBytes = 0;
      for (let i = 0; i < RUNS; i++) {
        const { page } = await openPage(browser, server.url);
        const samples = [];
        const base = browserRss();
        const timer = setInterval(() => samples.push({ t: performance.now(), mb: browserRss() }), 250);
        const t0 = performance.now();
        const state = await analyzeFiles(page, [f.path], { workers });
        const wall = (performance.now() - t0) / 1000;
        clearInterval(timer);
        if (state !== "done") throw new Error(`${f.name}: the page ended in state ${state}: ${await page.textContent("#error")}`);
        const stats = await page.evaluate(() => window.cflog.result.stats);
        const records = await page.evaluate(() => window.cflog.report.records);
        if (records !== n1.records) throw new Error(`${f.name}: the page counted ${records} records, the CLI ${n1.records}`);
        times.push(stats.seconds);
        console.error(`  ${f.name}, ${workers} worker(s): ${stats.seconds.toFixed(2)} s, wasm busy ${stats.busyMs.map((b) => (b / 1000).toFixed(2)).join(" + ")} s`);
        textBytes = stats.bytes;
        if (i === 0 && workers === 1 && samples.length > 4) {
          const at = (q, k) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))].mb[k];
          const after = browserRss();
          for (const k of ["renderer", "total"]) {
            memory.push({ file: f.name, what: k === "renderer" ? "the page's renderer (page + workers)" : "all browser processes", base: base[k], q25: at(0.25, k), q50: at(0.5, k), q75: at(0.75, k), peak: Math.max(...samples.map((s) => s.mb[k])), after: after[k] });
          }
        }
        await page.close();
      }
      row[`browser${workers === 1 ? 1 : "N"}`] = median(times);
      row.text = textBytes;
    }
    results.push(row);
    console.error(JSON.stringify(row));
  }
} finally {
  await browser.close();
  await server.close();
}

const mbps = (bytes, s) => (bytes / 1e6 / s).toFixed(0);
console.log(`\nChromium ${execFileSync("/usr/bin/chromium", ["--version"]).toString().trim()}, ${cpus().length} cores, medians of ${RUNS} run(s); MB/s of log text (after gunzip).\n`);
console.log(`| input | size on disk | log text | native 1 thread | browser 1 worker | ratio | native ${allWorkers} threads | browser ${allWorkers} workers | ratio |`);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  console.log(
    `| ${r.file} | ${(r.size / 1e6).toFixed(0)} MB | ${(r.text / 1e6).toFixed(0)} MB | ${mbps(r.text, r.native1)} MB/s (${r.native1.toFixed(2)} s) | ` +
      `${mbps(r.text, r.browser1)} MB/s (${r.browser1.toFixed(2)} s) | **${((r.native1 / r.browser1) * 100).toFixed(0)} %** | ` +
      `${mbps(r.text, r.nativeN)} MB/s (${r.nativeN.toFixed(2)} s) | ${mbps(r.text, r.browserN)} MB/s (${r.browserN.toFixed(2)} s) | ${((r.nativeN / r.browserN) * 100).toFixed(0)} % |`,
  );
}
console.log("\nResident memory while the file streams (1 worker, sampled every 250 ms):\n");
console.log("| input | process | before | at 25 % of the run | 50 % | 75 % | peak | after |");
console.log("|---|---|---:|---:|---:|---:|---:|---:|");
for (const m of memory) {
  console.log(`| ${m.file} | ${m.what} | ${m.base.toFixed(0)} MB | ${m.q25.toFixed(0)} MB | ${m.q50.toFixed(0)} MB | ${m.q75.toFixed(0)} MB | ${m.peak.toFixed(0)} MB | ${m.after.toFixed(0)} MB |`);
}
