// Where the browser's CPU goes while one worker analyzes one file: per run, the CPU seconds
// (user + system, from /proc/<pid>/task/<tid>/stat) of every thread of the headless
// Chromium's process tree, grouped by thread name, for two site builds in alternation.
// CPU time is less disturbed by other load on the machine than the wall clock.
//   node bench/cpu.mjs --a DIST_A --b DIST_B --file F --rounds 3
import { readFileSync, readdirSync } from "node:fs";
import { serve, launch, openPage, analyzeFiles } from "../tests/helpers.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const file = arg("file");
const rounds = Number(arg("rounds", 3));
const builds = { a: arg("a"), b: arg("b") };
const tick = 100; // USER_HZ

// CPU seconds by "process kind/thread name" for every process under `root`.
function threads(root) {
  const kids = new Map();
  const procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  const comm = new Map();
  for (const p of procs) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(p));
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8");
      comm.set(Number(p), cmd.includes("chrom") ? (cmd.match(/--type=([a-z-]+)/)?.[1] ?? "browser") : "other");
    } catch {}
  }
  const out = new Map();
  const walk = (pid) => {
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) {
        const s = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
        const name = s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"));
        const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
        const key = `${comm.get(pid)}/${name}`;
        out.set(`${pid}/${t}`, { key, cpu: (Number(f[11]) + Number(f[12])) / tick });
      }
    } catch {}
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  for (const k of kids.get(root) ?? []) walk(k); // the browser and its children, not this script
  return out;
}

// CPU seconds by thread name between two snapshots; of the workers' threads
// ("DedicatedWorker"), the busiest is the engine's and the rest are the reading worker's.
function diff(before, after) {
  const by = new Map();
  let engine = null;
  const rows = [];
  for (const [id, { key, cpu }] of after) {
    const d = cpu - (before.get(id)?.cpu ?? 0);
    if (d <= 0 || key.startsWith("other/")) continue;
    rows.push({ key, d });
    if (key.endsWith("/DedicatedWorker") && (!engine || d > engine.d)) engine = rows.at(-1);
  }
  if (engine) engine.key += " (engine)";
  for (const { key, d } of rows) by.set(key, (by.get(key) ?? 0) + d);
  return by;
}

const servers = { a: await serve(builds.a), b: await serve(builds.b) };
const browser = await launch();
const root = process.pid; // Playwright starts the browser as a child of this process
const sums = { a: new Map(), b: new Map() };
const walls = { a: [], b: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 ? ["b", "a"] : ["a", "b"]) {
      const { page } = await openPage(browser, servers[k].url);
      const t0 = threads(root);
      // Threads that end during the run (the reading worker's) are seen by sampling.
      const t1 = new Map();
      const sample = () => {
        for (const [id, v] of threads(root)) t1.set(id, v);
      };
      const timer = setInterval(sample, 50);
      const state = await analyzeFiles(page, [file], { workers: 1 });
      clearInterval(timer);
      sample();
      if (state !== "done") throw new Error(`${k}: state ${state}`);
      const stats = await page.evaluate(() => window.cflog.result.stats);
      const d = diff(t0, t1);
      const total = [...d.values()].reduce((x, y) => x + y, 0);
      walls[k].push(stats.seconds);
      console.error(`round ${r} ${k}: ${stats.seconds.toFixed(2)} s, wasm busy ${(stats.busyMs[0] / 1000).toFixed(2)} s, CPU ${total.toFixed(2)} s`);
      for (const [key, v] of d) sums[k].set(key, (sums[k].get(key) ?? 0) + v);
      await page.close();
    }
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) s.close();
}
const keys = [...new Set([...sums.a.keys(), ...sums.b.keys()])].sort((x, y) => (sums.a.get(y) ?? 0) - (sums.a.get(x) ?? 0));
console.log(`| thread | a (CPU s per run) | b |\n|---|---:|---:|`);
for (const key of keys) {
  const a = (sums.a.get(key) ?? 0) / rounds;
  const b = (sums.b.get(key) ?? 0) / rounds;
  if (a > 0.02 || b > 0.02) console.log(`| ${key} | ${a.toFixed(2)} | ${b.toFixed(2)} |`);
}
const tot = (m) => [...m.values()].reduce((x, y) => x + y, 0) / rounds;
console.log(`| total | ${tot(sums.a).toFixed(2)} | ${tot(sums.b).toFixed(2)} |`);
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`wall medians: a ${med(walls.a).toFixed(2)} s, b ${med(walls.b).toFixed(2)} s`);
