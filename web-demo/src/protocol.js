// The page ↔ worker protocol, in one place: every message type and its fields. The page
// (pipeline.js) and the workers (worker.js) build messages only with these functions and
// test `m.type` only against `Msg`. Tabled in web-demo/README.md ("Worker protocol").
// Every message carries the job `id`; a message of an older job is ignored.

export const Msg = Object.freeze({
  // page → worker
  INIT: "init", // options (JSON text for the Inspector), rule: {bytes, name, config} | null
  CHUNK: "chunk", // bytes (transferred), file (index), firstLine, layout (token), name
  DIRECT: "direct", // files: the worker reads them itself (one worker, no rule)
  FINISH: "finish", // hand back the state and free the Inspector
  // worker → page
  READY: "ready", // the Inspector (and the rule) started
  RULE: "rule", // fields: the rule's field names, one per line
  ACK: "ack", // bytes: a chunk was aggregated (the page's back-pressure)
  PROGRESS: "progress", // compressed, bytes (read so far); file: index, after a file ended
  DIRECT_DONE: "direct-done", // compressed, bytes: every file of a DIRECT was read
  DONE: "done", // state (transferred), bad, matches, lines, busyMs, ruleDropped, ruleStats
  ERROR: "error", // message: the job failed (file, line, field and reason when known)
});

// page → worker
export const init = (id, options, rule) => ({
  type: Msg.INIT, id, options, rule: rule ? { bytes: rule.bytes, name: rule.name, config: rule.config } : null,
});
export const chunk = (id, bytes, file, firstLine, layout, name) => ({ type: Msg.CHUNK, id, bytes, file, firstLine, layout, name });
export const direct = (id, files) => ({ type: Msg.DIRECT, id, files });
export const finish = (id) => ({ type: Msg.FINISH, id });

// worker → page
export const ready = (id) => ({ type: Msg.READY, id });
export const rule = (id, fields) => ({ type: Msg.RULE, id, fields });
export const ack = (id, bytes) => ({ type: Msg.ACK, id, bytes });
export const progress = (id, counters, file) => ({ type: Msg.PROGRESS, id, ...counters, ...(file === undefined ? {} : { file }) });
export const directDone = (id, counters) => ({ type: Msg.DIRECT_DONE, id, ...counters });
export const done = (id, state, bad, matches, lines, busyMs, ruleDropped, ruleStats) => ({
  type: Msg.DONE, id, state, bad, matches, lines, busyMs, ruleDropped, ruleStats,
});
export const error = (id, e) => ({ type: Msg.ERROR, id, message: e && e.message ? e.message : String(e) });
