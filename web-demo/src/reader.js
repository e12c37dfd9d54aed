// A reading worker, started by a lone parsing worker (worker.js) for a plain file: it reads
// the file in slices and transfers each (no copy) to its parent, keeping at most `ahead`
// slices not yet taken. Reading a Blob in Chromium costs the reading thread about as much
// as parsing what it read costs the wasm engine; on its own thread it overlaps the engine
// (bench/RESULTS.md, browser inspector).
//
// parent → reader: {file, size, ahead} to start; {took: true} after each slice is taken.
// reader → parent: {buf} (transferred; an empty one at the end) or {error}.
import { readSlice } from "./stream.js";

let credits = 0;
let wake = null;

onmessage = async (ev) => {
  const m = ev.data;
  if (m.took) {
    credits++;
    wake?.();
    return;
  }
  credits = m.ahead;
  try {
    for (let at = 0; at < m.file.size; ) {
      while (credits === 0) await new Promise((r) => (wake = r));
      credits--;
      const buf = await readSlice(m.file, at, m.size);
      at += buf.length;
      postMessage({ buf }, [buf.buffer]);
    }
    postMessage({ buf: new Uint8Array(0) });
  } catch (e) {
    postMessage({ error: e.message });
  }
};
