// A reading worker, started by a lone parsing worker (worker.js, through stream.js
// `openAside`): it reads one file as `open` does (a plain file in slices, gzip through
// DecompressionStream), gathers the bytes into buffers of `size`, and transfers each (no
// copy) to its parent, keeping at most `ahead` buffers not yet taken. Reading a Blob (and
// decompressing) costs the thread that does it about as much as the wasm engine spends on
// the bytes; on a thread of its own it overlaps the engine (bench/RESULTS.md, browser
// inspector).
//
// parent → reader: {file, size, ahead} to start; {took: true} after each buffer is taken.
// reader → parent: {buf (transferred; empty at the end), compressed (file bytes read so
// far)} or {error} (the message names the file, as `open`'s do).
import { open } from "./stream.js";

let credits = 0;
let wake = null;

async function send(buf, counters) {
  while (credits === 0) await new Promise((r) => (wake = r));
  credits--;
  postMessage({ buf, compressed: counters.compressed }, [buf.buffer]);
}

onmessage = async (ev) => {
  const m = ev.data;
  if (m.took) {
    credits++;
    wake?.();
    return;
  }
  credits = m.ahead;
  const counters = { compressed: 0, bytes: 0 };
  try {
    const s = await open(m.file, counters, { slices: m.size });
    let buf = null;
    let have = 0;
    for (;;) {
      const piece = await s.next();
      if (!piece) break;
      const whole = piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength;
      if (!buf && whole && piece.length >= m.size) {
        await send(piece, counters); // a slice of a plain file: as it is
        continue;
      }
      for (let at = 0; at < piece.length; ) {
        buf ??= new Uint8Array(m.size);
        const n = Math.min(m.size - have, piece.length - at);
        buf.set(piece.subarray(at, at + n), have);
        have += n;
        at += n;
        if (have === m.size) {
          await send(buf, counters);
          buf = null;
          have = 0;
        }
      }
    }
    if (have > 0) await send(buf.slice(0, have), counters);
    postMessage({ buf: new Uint8Array(0), compressed: counters.compressed });
  } catch (e) {
    postMessage({ error: e.message });
  }
};
