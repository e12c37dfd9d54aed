// The site's wasm engine alone, in Node: loads a site build's pkg/ (wasm-bindgen --target web,
// memcmp spliced) and feeds FILE in 8 MiB pieces through window()/filled(n), exactly as
// worker.js `feed` does, then ends the file and builds the report. For instruction counts
// (load-independent) and profiles of the engine without a browser:
//   valgrind --tool=callgrind --smc-check=all node --no-liftoff --single-threaded bench/node-engine.mjs DIST/pkg FILE
//   REPEAT=10 node --cpu-prof bench/node-engine.mjs DIST/pkg FILE     # the file fed 10 times
// REPORT=1 prints the report JSON (compare two builds with cmp). Subtract a run on an empty
// file (start-up, compiling the module) from a count.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const [pkg, file] = process.argv.slice(2);
const mod = await import(`${resolve(pkg)}/cflog_wasm.js`);
const wasm = mod.initSync({ module: readFileSync(`${resolve(pkg)}/cflog_wasm_bg.wasm`) });
const insp = new mod.Inspector(JSON.stringify({}));
const one = readFileSync(file);
const repeat = Number(process.env.REPEAT || 1);
const t0 = performance.now();
insp.begin_file(file);
const room = insp.window_size();
// The file fed `repeat` times over (as one file: no copy of the repeats is made).
for (let r = 0, data = one; r < repeat; r++)
for (let p = 0; p < data.length; p += 8 << 20) {
  const piece = data.subarray(p, Math.min(data.length, p + (8 << 20)));
  for (let at = 0; at < piece.length; ) {
    const n = Math.min(room, piece.length - at);
    const ptr = insp.window(); // before reading memory.buffer: it may grow the memory
    new Uint8Array(wasm.memory.buffer, ptr, n).set(piece.subarray(at, at + n));
    insp.filled(n);
    at += n;
  }
}
insp.end_file();
const ms = performance.now() - t0;
const report = insp.finish();
console.error(`records ${insp.records()} lines ${insp.lines()} ${ms.toFixed(0)} ms`);
if (process.env.REPORT) process.stdout.write(report);
