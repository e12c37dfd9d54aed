// Interleaved A/B of two site builds against native, one worker, one file: per round
// `cflog analyze --json --threads 1`, then the page from each build (order alternating).
//   CFLOG=…/release/cflog node bench/ab.mjs --a DIST_A --b DIST_B --file F --rounds 5
import { execFileSync } from "node:child_process";
import { serve, launch, openPage, analyzeFiles } from "../tests/helpers.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const cflog = process.env.CFLOG;
const file = arg("file");
const rounds = Number(arg("rounds", 5));
const builds = { a: arg("a"), b: arg("b") };
const servers = { a: await serve(builds.a), b: await serve(builds.b) };
const browser = await launch();
const seen = { native: [], a: [], b: [] };
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
try {
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const records = JSON.parse(execFileSync(cflog, ["analyze", "--json", "--no-progress", "--threads", "1", file], { maxBuffer: 1 << 28 })).records;
    seen.native.push(Number(process.hrtime.bigint() - t0) / 1e9);
    for (const k of r % 2 ? ["b", "a"] : ["a", "b"]) {
      const { page } = await openPage(browser, servers[k].url);
      const state = await analyzeFiles(page, [file], { workers: 1 });
      if (state !== "done") throw new Error(`${k}: state ${state}`);
      const stats = await page.evaluate(() => window.cflog.result.stats);
      const got = await page.evaluate(() => window.cflog.report.records);
      if (got !== records) throw new Error(`${k}: ${got} records, the CLI ${records}`);
      seen[k].push(stats.seconds);
      console.error(`round ${r} ${k}: ${stats.seconds.toFixed(2)} s, wasm busy ${stats.busyMs.map((b) => (b / 1000).toFixed(2)).join(" + ")} s`);
      await page.close();
    }
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) s.close();
}
const n = median(seen.native);
for (const k of ["native", "a", "b"]) {
  console.log(`${k}: ${seen[k].map((x) => x.toFixed(2)).join(" ")} median ${median(seen[k]).toFixed(2)} s${k === "native" ? "" : ` ratio ${Math.round((100 * n) / median(seen[k]))} %`}`);
}
