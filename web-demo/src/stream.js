// Opening a log file as a stream of bytes: gzip (by its magic bytes) is decompressed with
// DecompressionStream; never is a whole file read into memory.
import { fmtBytes } from "./format.js";

export async function isGzip(file) {
  const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  return head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

// Returns { gz, next() -> Uint8Array | null, cancel() }; `counters.compressed` counts the
// file's bytes consumed, `counters.bytes` the bytes handed out. Read errors name the file
// and, for gzip, how far decompression got.
export async function open(file, counters = { compressed: 0, bytes: 0 }) {
  const gz = await isGzip(file);
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
