// A parsing worker: one cflog Inspector (wasm) per job. Chunks arrive newline-aligned with
// their layout and first line number (from the page's Cutter); the worker aggregates them
// and, at the end, hands back its summary state for the page to merge.
// A lone worker without a rule takes the files itself ("direct"): the same work as
// `cflog analyze --threads 1`, with a reading worker of its own (reader.js) reading and
// decompressing on another thread (reading a Blob costs a browser far more than read(2)).
import init, { Inspector } from "./pkg/cflog_wasm.js";
import { Rule } from "./rules.js";
import { open, prepareAside } from "./stream.js";
import * as P from "./protocol.js";

const ready = init({ module_or_path: new URL("./pkg/cflog_wasm_bg.wasm", import.meta.url) });
if (self.name === "lone") prepareAside(); // for the first file of a `direct` job
let inspector = null;
let rule = null;
let busy = 0; // ms spent in wasm, for the benchmark
// A lone worker gets its files from its reading worker in pieces of this size (stream.js,
// `openAside`).
const DIRECT_SLICE = 8 << 20;

// Writes `bytes` straight into the inspector's input window, a window at a time: one copy
// into the wasm memory (`push` would copy them there, then again into its chunk).
function feed(insp, memory, bytes) {
  const room = insp.window_size();
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(room, bytes.length - at);
    const ptr = insp.window(); // before reading memory.buffer: it may grow the memory
    new Uint8Array(memory.buffer, ptr, n).set(bytes.subarray(at, at + n));
    insp.filled(n);
    at += n;
  }
}

function fail(id, e) {
  postMessage(P.error(id, e));
}

onmessage = async (ev) => {
  const m = ev.data;
  try {
    await ready;
    if (m.type === P.Msg.INIT) {
      inspector?.free();
      inspector = new Inspector(m.options);
      busy = 0;
      rule = m.rule ? await Rule.load(inspector, m.rule.bytes, m.rule.name || "rule.wasm", m.rule.config || "") : null;
      if (rule) postMessage(P.rule(m.id, rule.fields));
      postMessage(P.ready(m.id));
    } else if (m.type === P.Msg.CHUNK) {
      const t0 = performance.now();
      // A failing rule is contained (counted, disabled after repeated failures): the
      // chunk then goes un-enriched, and the job goes on.
      const batch = rule ? inspector.rule_batch(m.bytes, m.layout) : undefined;
      const result = batch ? await rule.enrich(batch) : undefined;
      inspector.push_chunk(m.bytes, m.file, m.firstLine, m.layout, result);
      busy += performance.now() - t0;
      postMessage(P.ack(m.id, m.bytes.length));
    } else if (m.type === P.Msg.DIRECT) {
      const wasm = await ready;
      const counters = { compressed: 0, bytes: 0 };
      let last = 0;
      for (const [i, file] of m.files.entries()) {
        inspector.begin_file(file.name);
        const s = await open(file, counters, { slices: DIRECT_SLICE, aside: true });
        prepareAside(); // for the next file, or the next job (a filter re-reads the files)
        try {
          for (;;) {
            const chunk = await s.next();
            if (!chunk) break;
            const t0 = performance.now();
            feed(inspector, wasm.memory, chunk);
            busy += performance.now() - t0;
            s.recycle(chunk); // its bytes are in the wasm memory now
            if (t0 - last > 100) {
              last = t0;
              postMessage(P.progress(m.id, counters));
            }
          }
        } finally {
          s.cancel(); // the reading worker ends with the file, also when the engine refused it
        }
        const t0 = performance.now();
        inspector.end_file();
        busy += performance.now() - t0;
        postMessage(P.progress(m.id, counters, i));
      }
      postMessage(P.directDone(m.id, counters));
    } else if (m.type === P.Msg.FINISH) {
      const state = inspector.state();
      const stats = JSON.parse(inspector.rule_stats());
      const msg = P.done(m.id, state, inspector.bad_lines(), inspector.matches(), inspector.lines(), busy, inspector.rule_dropped(), stats);
      postMessage(msg, [state.buffer]);
      inspector.free();
      inspector = null;
    }
  } catch (e) {
    fail(m.id, e);
  }
};
