// A parsing worker: one cflog Inspector (wasm) per job. Chunks arrive newline-aligned with
// their layout and first line number (from the page's Cutter); the worker aggregates them
// and, at the end, hands back its summary state for the page to merge.
import init, { Inspector } from "./pkg/cflog_wasm.js";
import { Rule } from "./rules.js";

const ready = init({ module_or_path: new URL("./pkg/cflog_wasm_bg.wasm", import.meta.url) });
let inspector = null;
let rule = null;
let busy = 0; // ms spent in wasm, for the benchmark

function fail(id, e) {
  postMessage({ type: "error", id, message: e && e.message ? e.message : String(e) });
}

onmessage = async (ev) => {
  const m = ev.data;
  try {
    await ready;
    if (m.type === "init") {
      inspector?.free();
      inspector = new Inspector(m.options);
      busy = 0;
      rule = m.rule ? await Rule.load(m.rule.bytes, m.rule.config || "") : null;
      if (rule) postMessage({ type: "rule", id: m.id, fields: rule.fields });
      postMessage({ type: "ready", id: m.id });
    } else if (m.type === "chunk") {
      const t0 = performance.now();
      const result = rule ? rule.enrich(inspector.rule_batch(m.bytes, m.layout, rule.fields)) : undefined;
      inspector.push_chunk(m.bytes, m.file, m.firstLine, m.layout, result);
      busy += performance.now() - t0;
      postMessage({ type: "ack", id: m.id, bytes: m.bytes.length });
    } else if (m.type === "finish") {
      const state = inspector.state();
      postMessage(
        {
          type: "done", id: m.id, state, bad: inspector.bad_lines(), matches: inspector.matches(),
          lines: inspector.lines(), busyMs: busy, ruleDropped: inspector.rule_dropped(),
        },
        [state.buffer],
      );
      inspector.free();
      inspector = null;
    }
  } catch (e) {
    fail(m.id, e);
  }
};
