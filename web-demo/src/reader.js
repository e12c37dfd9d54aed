// A reading worker, started by a lone parsing worker (worker.js, through stream.js
// `openAside`): it reads one file as `open` does (a plain file as a byte stream, gzip
// through DecompressionStream), gathers the bytes into buffers of `size`, and transfers
// each (no copy) to its parent, keeping at most `ahead` buffers not yet taken. Reading a
// Blob (and decompressing) costs the thread that does it about as much as the wasm engine
// spends on the bytes; on a thread of its own it overlaps the engine (bench/RESULTS.md,
// browser inspector).
//
// The parent hands every buffer back once its bytes are in the wasm memory, and the next
// bytes are read into it: a plain file is read with a BYOB reader straight into those
// buffers. A fresh 8 MiB ArrayBuffer per piece (`slice().arrayBuffer()`) costs Chromium
// about a third more CPU per GB (allocation, first-touch page faults, freeing), and on a
// 2-core machine that CPU is taken from the engine (bench/RESULTS.md, i15w).
//
// parent → reader: {file, size, ahead} to start; {took: true} after each buffer is taken;
// {back: ArrayBuffer (transferred)} when a buffer's bytes are no longer needed.
// reader → parent: {buf (transferred; empty at the end), compressed (file bytes read so
// far)} or {error} (the message names the file, as `open`'s do).
import { open, isGzip, plainBytes } from "./stream.js";

let credits = 0;
let wake = null;
const spare = []; // buffers handed back, of `size` bytes
const FIRST = 1 << 20; // the first piece of a plain file (the engine's input window)

async function send(buf, counters) {
  while (credits === 0) await new Promise((r) => (wake = r));
  credits--;
  postMessage({ buf, compressed: counters.compressed }, [buf.buffer]);
}

// A buffer of `size` bytes to fill: one handed back, else a new one.
const fresh = (size) => {
  const b = spare.pop();
  return b && b.byteLength === size ? new Uint8Array(b) : new Uint8Array(size);
};

onmessage = async (ev) => {
  const m = ev.data;
  if (m.back) {
    spare.push(m.back);
    return;
  }
  if (m.took) {
    credits++;
    wake?.();
    return;
  }
  credits = m.ahead;
  const counters = { compressed: 0, bytes: 0 };
  try {
    // While the engine has a piece queued (not yet taken), a short read is followed by a
    // millisecond's wait: fewer, larger reads (stream.js, `plainBytes`).
    const pause = () => (credits < m.ahead ? new Promise((r) => setTimeout(r, 1)) : null);
    const plain = !(await isGzip(m.file)) && plainBytes(m.file, counters, pause);
    if (plain) {
      // Filled in place: each read lands in the buffer after the bytes already there. The
      // first piece is only FIRST bytes, so the engine starts sooner.
      for (let want = Math.min(FIRST, m.size); ; want = m.size) {
        const buf = await plain.fill(fresh(m.size).subarray(0, want));
        const full = buf.length === want; // (sending detaches `buf`)
        if (buf.length > 0) await send(buf, counters);
        if (!full) break;
      }
    } else {
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
          buf ??= fresh(m.size);
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
      if (have > 0) await send(buf.subarray(0, have), counters);
    }
    postMessage({ buf: new Uint8Array(0), compressed: counters.compressed });
  } catch (e) {
    postMessage({ error: e.message });
  }
};
