// Opening a log file as a stream of bytes: gzip (by its magic bytes) is decompressed with
// DecompressionStream; never is a whole file read into memory.
import { fmtBytes } from "./format.js";

export async function isGzip(file) {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

// Returns { gz, next() -> Uint8Array | null, cancel() }; `counters.compressed` counts the
// file's bytes consumed, `counters.bytes` the bytes handed out. Read errors name the file
// and, for gzip, how far decompression got. With `slices` (a byte count), a plain file is
// read in slices of that size instead of File.stream()'s pieces (see `openSlices`). With
// `aside`, a reading worker does all that on its own thread and hands over pieces of
// `slices` bytes (see `openAside`); `gz` is then unknown (null), and `recycle(piece)`
// gives a piece's buffer back to be read into again.
export async function open(file, counters = { compressed: 0, bytes: 0 }, { slices = 0, aside = false } = {}) {
  if (aside) return openAside(file, counters, slices || 8 << 20);
  const gz = await isGzip(file);
  if (slices > 0 && !gz) return openSlices(file, counters, slices);
  let fileRead = 0;
  let out = 0;
  const counted = file.stream().pipeThrough(
    new TransformStream({
      transform(c, ctl) {
        fileRead += c.length;
        counters.compressed += c.length;
        ctl.enqueue(c);
      },
    }),
  );
  const reader = (gz ? counted.pipeThrough(new DecompressionStream("gzip")) : counted).getReader();
  return {
    gz,
    async next() {
      let r;
      try {
        r = await reader.read();
      } catch (e) {
        const what = gz
          ? `${file.name}: the gzip data is truncated or corrupt (after ${fmtBytes(fileRead)} of ${fmtBytes(file.size)} compressed, ${fmtBytes(out)} decompressed)`
          : `${file.name}: cannot read the file`;
        throw new Error(`${what}: ${e.message}`);
      }
      if (r.done) return null;
      out += r.value.length;
      counters.bytes += r.value.length;
      return r.value;
    },
    cancel() {
      reader.cancel().catch(() => {});
    },
  };
}

// A plain file read in `size`-byte slices, the next one read while the caller works on this
// one. For a lone worker, File.stream()'s 64 KiB pieces cost an await each: ~1.7 s per GB
// outside the wasm engine (bench/RESULTS.md, browser inspector, 2026-12-03).
function openSlices(file, counters, size) {
  let at = 0;
  const read = (from) => (from >= file.size ? Promise.resolve(null) : readSlice(file, from, size));
  let pending = read(0);
  return {
    gz: false,
    async next() {
      const buf = await pending;
      if (!buf || buf.length === 0) return null;
      at += buf.length;
      pending = read(at);
      pending.catch(() => {}); // a failed read surfaces at the next call
      counters.compressed += buf.length;
      counters.bytes += buf.length;
      return buf;
    },
    cancel() {
      at = file.size;
      pending = Promise.resolve(null);
    },
  };
}

const newReader = () => {
  const w = new Worker(new URL("./reader.js", import.meta.url), { type: "module" });
  w.onerror = (ev) => (w.failed = ev.message || "the reading worker failed"); // until openAside listens
  return w;
};
let spareReader = null;

// Starts the reading worker the next `open(…, { aside: true })` will use, so that file
// does not wait for a worker to start (~20–30 ms).
export function prepareAside() {
  spareReader ??= newReader();
}

// The file read (and decompressed) by a reading worker (reader.js) on its own thread, in
// pieces of `size` bytes, at most 2 of them ahead of the caller; `recycle(piece)` hands a
// piece's buffer back to be read into again.
function openAside(file, counters, size) {
  const reader = spareReader ?? newReader();
  spareReader = null;
  const queue = [];
  let waiter = null;
  const arrived = (m) => {
    queue.push(m);
    waiter?.();
  };
  reader.onmessage = (ev) => arrived(ev.data);
  reader.onerror = (ev) => arrived({ error: `${file.name}: cannot read the file: ${ev.message || "the reading worker failed"}` });
  if (reader.failed) arrived({ error: `${file.name}: cannot read the file: ${reader.failed}` });
  reader.postMessage({ file, size, ahead: 2 });
  const base = counters.compressed;
  let done = false;
  const stop = () => {
    done = true;
    reader.terminate();
  };
  return {
    gz: null,
    async next() {
      if (done) return null;
      while (queue.length === 0) await new Promise((r) => (waiter = r));
      waiter = null;
      const m = queue.shift();
      if (m.error) {
        stop();
        throw new Error(m.error);
      }
      counters.compressed = base + m.compressed;
      if (m.buf.length === 0) {
        stop();
        return null;
      }
      reader.postMessage({ took: true });
      counters.bytes += m.buf.length;
      return m.buf;
    },
    // The bytes of a buffer `next` returned are no longer needed: the reading worker
    // reads the next ones into it (its memory is detached here).
    recycle(buf) {
      if (!done && buf.buffer.byteLength > 0) reader.postMessage({ back: buf.buffer }, [buf.buffer]);
    },
    cancel: stop,
  };
}

// A plain file read into buffers the caller gives (a BYOB reader of File.stream()), or
// null when the browser's Blob stream has no BYOB reader. `fill(buf)` reads until `buf`
// is full or the file ends and returns the bytes read: a view of `buf`'s memory (the
// reader moves it to a new ArrayBuffer; `buf` itself is detached), shorter than `buf` only
// at the end of the file. A read error names the file.
//
// A read returns what the browser has put in the stream's pipe (in Chromium at most
// 2 MiB), and every read costs the browser about the same whatever its size: read as soon
// as bytes arrive, a file comes in ~64 KiB reads (~15,000 per GB, ~2 CPU-seconds). After
// a short read, `fill` awaits `pause()` when it returns a promise (the caller's: a
// millisecond's wait while the engine has bytes queued), so the pipe fills and the next
// read takes more.
const SHORT_READ = 1 << 20;

export function plainBytes(file, counters, pause = () => null) {
  let reader;
  try {
    reader = file.stream().getReader({ mode: "byob" });
  } catch {
    return null;
  }
  let ended = false;
  return {
    async fill(buf) {
      // `buf` reads as empty once the first read has detached it.
      const { byteOffset: at, length: want } = buf;
      let memory = buf.buffer;
      let have = 0;
      while (!ended && have < want) {
        let r;
        try {
          r = await reader.read(new Uint8Array(memory, at + have, want - have));
        } catch (e) {
          throw new Error(`${file.name}: cannot read the file: ${e.message}`);
        }
        if (r.done) {
          ended = true;
          if (r.value) memory = r.value.buffer;
          break;
        }
        memory = r.value.buffer;
        have += r.value.length;
        counters.compressed += r.value.length;
        counters.bytes += r.value.length;
        if (r.value.length < SHORT_READ && have < want) await pause();
      }
      return new Uint8Array(memory, at, have);
    },
  };
}

// `want` bytes of `file` from `from` (fewer at its end); a read error names the file.
export async function readSlice(file, from, want) {
  try {
    return new Uint8Array(await file.slice(from, Math.min(file.size, from + want)).arrayBuffer());
  } catch (e) {
    throw new Error(`${file.name}: cannot read the file: ${e.message}`);
  }
}
