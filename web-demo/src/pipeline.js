// Reads files (plain or gzip) as streams, cuts them into newline-aligned chunks of about
// 1 MiB, and deals the chunks to parsing workers; at the end merges the workers' summary
// states into one report. Memory stays flat: at most 3 chunks in flight per worker, and a
// file is never read whole (File.stream() piped through DecompressionStream).
//
// Filtered re-aggregation and search re-read the files: the page keeps File handles, not
// bytes, so gigabytes of logs never sit in memory.
import { Cutter, Inspector } from "./pkg/cflog_wasm.js";
import { open, isGzip, readSlice } from "./stream.js";
import * as P from "./protocol.js";

export const CHUNK = 1 << 20;
const IN_FLIGHT = 3;

export class Cancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "Cancelled";
  }
}


class Pool {
  constructor(n) {
    this.workers = [];
    for (let i = 0; i < n; i++) {
      // A lone worker will read files itself (when no rule is loaded): its name tells it
      // to have a reading worker ready.
      const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: n === 1 ? "lone" : "" });
      this.workers.push({ w, inFlight: 0, waiters: [] });
    }
  }
  terminate() {
    for (const x of this.workers) x.w.terminate();
  }
}

let pool = null;
function getPool(n) {
  if (!pool || pool.workers.length !== n) {
    pool?.terminate();
    pool = new Pool(n);
  }
  return pool;
}

// Starts `n` workers (each loads and compiles the wasm module) before any file is picked,
// so a run does not wait for that (~50–80 ms on 2 cores); a run with `n` workers then
// finds them ready.
export function warm(n) {
  getPool(n);
}

// The most parsing workers a run may use: every core the browser reports, up to 8.
export function maxWorkers() {
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8));
}

// The workers a run uses unless told: one core fewer than `maxWorkers`, leaving a core
// for reading (the page reads and deals the chunks on its own thread with several workers;
// a lone worker has a reading worker of its own). With every core parsing, the reading
// competes with the parsers: on 2 cores, 2 workers took 2.66 s where 1 took 1.70 s on the
// same file (bench/RESULTS.md, browser inspector).
export function defaultWorkers() {
  return Math.max(1, maxWorkers() - 1);
}

// files: File[]; options: the Inspector options object; hooks: { onProgress, signal, rule }.
// Returns { report (string, exactly `cflog analyze --json`), bad, matches, stats }.
// readMode "stream" (default) reads plain files with File.stream(); "slices" reads them in
// newline-aligned File.slice() pieces (no copy on the page, but one browser round trip per
// slice: slower in Chromium, measured in bench/RESULTS.md).
export async function run(files, options, { workers = defaultWorkers(), onProgress = () => {}, signal, rule, readMode = "stream" } = {}) {
  const optionsJson = JSON.stringify(options);
  const cutter = new Cutter(optionsJson); // validates the options too (clear errors early)
  const p = getPool(workers);
  let failure = null;
  let wake = null;
  const jobId = Math.random().toString(36).slice(2);
  const finishing = new Map();
  let ready = 0;
  let directDone = false;

  const settle = () => {
    const f = wake;
    wake = null;
    f?.();
  };
  for (const [i, x] of p.workers.entries()) {
    x.inFlight = 0;
    x.w.onmessage = (ev) => {
      const m = ev.data;
      if (m.id !== jobId) return;
      if (m.type === P.Msg.ACK) x.inFlight--;
      else if (m.type === P.Msg.READY) ready++;
      else if (m.type === P.Msg.ERROR) failure ??= new Error(m.message);
      else if (m.type === P.Msg.DONE) finishing.get(i)?.(m);
      else if (m.type === P.Msg.RULE) x.ruleFields = m.fields;
      else if (m.type === P.Msg.PROGRESS) {
        readCompressed = m.compressed;
        readBytes = m.bytes;
        progress();
      } else if (m.type === P.Msg.DIRECT_DONE) directDone = true;
      settle();
    };
    x.w.onerror = (e) => {
      failure ??= new Error(`worker failed: ${e.message}`);
      settle();
    };
  }
  const abort = () => {
    failure ??= new Cancelled();
    settle();
  };
  signal?.addEventListener("abort", abort);
  const check = () => {
    if (failure) throw failure;
  };
  const until = async (cond) => {
    while (!cond()) {
      check();
      await new Promise((r) => (wake = r));
    }
    check();
  };
  // Start every worker with the options (and the rule, if any) and wait for them.
  for (const x of p.workers) {
    x.w.postMessage(P.init(jobId, optionsJson, rule));
  }
  const started = performance.now();
  const total = files.reduce((s, f) => s + f.size, 0);
  let readCompressed = 0; // bytes of the files consumed
  let readBytes = 0; // bytes after decompression
  let next = 0;
  let chunks = 0;
  const progress = () =>
    onProgress({ done: readCompressed, total, bytes: readBytes, seconds: (performance.now() - started) / 1000, chunks });

  try {
    await until(() => ready === p.workers.length);
    // One worker and no rule: the worker reads the files itself.
    const direct = p.workers.length === 1 && !rule;
    if (direct) {
      p.workers[0].w.postMessage(P.direct(jobId, files));
      await until(() => directDone);
    }

    const dispatch = async (bytes, fileIndex, name) => {
      await until(() => p.workers.some((x) => x.inFlight < IN_FLIGHT));
      let layout;
      try {
        layout = cutter.take(bytes);
      } catch (e) {
        throw new Error(e.message);
      }
      const firstLine = cutter.first_line();
      // Single worker: strict order. Several: the least busy, round-robin among equals.
      let best = null;
      for (let k = 0; k < p.workers.length; k++) {
        const x = p.workers[(next + k) % p.workers.length];
        if (x.inFlight < IN_FLIGHT && (!best || x.inFlight < best.inFlight)) best = x;
      }
      next++;
      best.inFlight++;
      chunks++;
      best.w.postMessage(P.chunk(jobId, bytes, fileIndex, firstLine, layout, name), [bytes.buffer]);
    };

    // A plain file is read in newline-aligned slices straight from the File: no copies on
    // the page; the next slice is fetched while the current one waits for a worker.
    const readPlain = async (file, fileIndex) => {
      let offset = 0;
      let want = CHUNK;
      let pending = file.size ? readSlice(file, 0, want) : null;
      while (pending) {
        check();
        const buf = await pending;
        const atEnd = offset + buf.length >= file.size;
        const cut = atEnd ? buf.length : buf.lastIndexOf(10) + 1;
        if (cut === 0) {
          // A line longer than the slice: read a longer slice from the same place.
          want *= 2;
          pending = readSlice(file, offset, want);
          continue;
        }
        want = CHUNK;
        offset += cut;
        pending = offset < file.size ? readSlice(file, offset, want) : null;
        readCompressed += cut;
        readBytes += cut;
        await dispatch(cut === buf.length ? buf : buf.subarray(0, cut), fileIndex, file.name);
        progress();
      }
    };

    for (const [fileIndex, file] of direct ? [] : files.entries()) {
      cutter.begin_file(file.name);
      if (readMode === "slices" && !(await isGzip(file))) {
        await readPlain(file, fileIndex);
        progress();
        continue;
      }
      const counters = { compressed: 0, bytes: 0 };
      const baseCompressed = readCompressed;
      const baseBytes = readBytes;
      const s = await open(file, counters);
      let parts = [];
      let have = 0;
      const flush = async (all) => {
        const buf = new Uint8Array(have);
        let o = 0;
        for (const q of parts) {
          buf.set(q, o);
          o += q.length;
        }
        const cut = all ? buf.length : buf.lastIndexOf(10) + 1;
        if (cut === 0) {
          parts = [buf];
          return; // a line longer than the chunk: keep reading
        }
        const tail = buf.slice(cut);
        parts = tail.length ? [tail] : [];
        have = tail.length;
        await dispatch(cut === buf.length ? buf : buf.subarray(0, cut), fileIndex, file.name);
      };
      try {
        for (;;) {
          check();
          const chunk = await s.next().catch((e) => {
            throw failure || e;
          });
          readCompressed = baseCompressed + counters.compressed;
          readBytes = baseBytes + counters.bytes;
          if (!chunk) break;
          parts.push(chunk);
          have += chunk.length;
          if (have >= CHUNK) {
            await flush(false);
            progress();
          }
        }
        if (have > 0) await flush(true);
      } finally {
        if (failure) s.cancel();
      }
      progress();
    }
    await until(() => p.workers.every((x) => x.inFlight === 0));
    // Collect every worker's state and merge them, worker 0 first.
    const results = await Promise.all(
      p.workers.map(
        (x, i) =>
          new Promise((resolve, reject) => {
            let done = false;
            finishing.set(i, (m) => {
              done = true;
              resolve(m);
            });
            x.w.postMessage(P.finish(jobId));
            const poll = () => {
              if (done) return;
              if (failure) reject(failure);
              else setTimeout(poll, 50);
            };
            poll();
          }),
      ),
    );
    const merged = new Inspector(optionsJson);
    for (const r of results) merged.merge_state(r.state);
    const report = merged.finish();
    merged.free();
    const maxErrors = options.max_errors ?? 20;
    const bad = results
      .flatMap((r) => JSON.parse(r.bad))
      .sort((a, b) => a.file - b.file || a.line - b.line)
      .slice(0, maxErrors);
    const found = results.map((r) => JSON.parse(r.matches));
    const maxMatches = options.max_matches ?? 1000;
    const matches = {
      count: found.reduce((s, m) => s + m.count, 0),
      matches: found
        .flatMap((m) => m.matches)
        .sort((a, b) => a.file - b.file || a.line - b.line)
        .slice(0, maxMatches),
    };
    const seconds = (performance.now() - started) / 1000;
    progress();
    return {
      report,
      bad,
      matches,
      stats: {
        seconds,
        bytes: readBytes,
        compressed: readCompressed,
        lines: results.reduce((s, r) => s + r.lines, 0),
        workers: p.workers.length,
        chunks,
        busyMs: results.map((r) => r.busyMs),
        ruleDropped: results.reduce((s, r) => s + (r.ruleDropped || 0), 0),
        ruleFields: p.workers[0].ruleFields || null,
        ruleStats: sumRuleStats(results.map((r) => r.ruleStats).filter(Boolean)),
      },
    };
  } catch (e) {
    // A cancelled or failed job leaves workers mid-chunk: start fresh next time.
    pool?.terminate();
    pool = null;
    throw e;
  } finally {
    signal?.removeEventListener("abort", abort);
    cutter.free();
  }
}

// The rule's counters of every worker, added up (each worker runs its own instance and
// disables it on its own, as each thread does in `cflog analyze`).
function sumRuleStats(list) {
  if (!list.length) return null;
  const t = { name: list[0].name, batches: 0, records: 0, failures: 0, failures_by_kind: {}, records_skipped: 0, restarts: 0, disabled: false, last_error: null };
  for (const s of list) {
    for (const k of ["batches", "records", "failures", "records_skipped", "restarts"]) t[k] += s[k];
    for (const [k, n] of Object.entries(s.failures_by_kind)) t.failures_by_kind[k] = (t.failures_by_kind[k] || 0) + n;
    t.disabled ||= s.disabled;
    t.last_error ??= s.last_error;
  }
  return t;
}
