// Splices wasm/memcmp.wat's memcmp into a wasm module in place of the function its name
// section calls `memcmp` (compiler-builtins' byte loop on wasm32; see memcmp.wat):
//
//   node wasm/memcmp.mjs dist/pkg/cflog_wasm_bg.wasm     # rewrites the file
//
// Only that function's body changes (same index, same type, checked to be
// (i32, i32, i32) -> i32); a module without such a function is refused, so a toolchain
// change cannot silently skip the splice. `memcmpModule()` is the .wat compiled alone, for
// the tests.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";

const here = dirname(fileURLToPath(import.meta.url));

// The .wat compiled into a module of its own (exports `memcmp`; imports nothing).
export async function memcmpModule() {
  const wabt = await wabtInit();
  const mod = wabt.parseWat("memcmp.wat", readFileSync(join(here, "memcmp.wat"), "utf8"), { simd: true });
  try {
    return Buffer.from(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
}

// A cursor over bytes with LEB128 reads.
class Reader {
  constructor(bytes, at = 0, end = bytes.length) {
    Object.assign(this, { bytes, at, end });
  }
  byte() {
    if (this.at >= this.end) throw new Error(`unexpected end of the module at byte ${this.at}`);
    return this.bytes[this.at++];
  }
  u32() {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
  }
  name() {
    const n = this.u32();
    const s = Buffer.from(this.bytes.subarray(this.at, this.at + n)).toString("utf8");
    this.at += n;
    return s;
  }
}

function leb(v) {
  const out = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

// The module's sections: [{ id, name (custom), head (of the section), start (of the
// payload), end }].
function sections(bytes) {
  const r = new Reader(bytes, 8);
  if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) throw new Error("not a wasm module (version 1)");
  const out = [];
  while (r.at < bytes.length) {
    const head = r.at;
    const id = r.byte();
    const size = r.u32();
    const start = r.at;
    const s = { id, head, start, end: start + size };
    if (id === 0) s.name = new Reader(bytes, start, s.end).name();
    out.push(s);
    r.at = s.end;
  }
  return out;
}

function limits(r) {
  const flags = r.byte();
  r.u32();
  if (flags & 1) r.u32();
}

// Function imports (they come first in the function index space).
function importedFunctions(bytes, sec) {
  if (!sec) return 0;
  const r = new Reader(bytes, sec.start, sec.end);
  let funcs = 0;
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0) {
      r.u32();
      funcs++;
    } else if (kind === 1) {
      r.byte();
      limits(r);
    } else if (kind === 2) limits(r);
    else if (kind === 3) r.at += 2;
    else if (kind === 4) {
      r.byte();
      r.u32();
    } else throw new Error(`import kind ${kind} not understood`);
  }
  return funcs;
}

// The index of the function the name section calls `name`.
function functionNamed(bytes, sec, name) {
  if (!sec) throw new Error("the module has no name section");
  const r = new Reader(bytes, sec.start, sec.end);
  r.name();
  while (r.at < sec.end) {
    const id = r.byte();
    const end = r.u32() + r.at;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        const index = r.u32();
        if (r.name() === name) return index;
      }
    }
    r.at = end;
  }
  throw new Error(`no function named ${name} in the module`);
}

// Signature of type `t` as text, e.g. "7f7f7f>7f" (one byte per value type).
function signature(bytes, typeSec, t) {
  const r = new Reader(bytes, typeSec.start, typeSec.end);
  const n = r.u32();
  if (t >= n) throw new Error(`type ${t} out of range`);
  for (let i = 0; ; i++) {
    if (r.byte() !== 0x60) throw new Error(`type ${i} is not a function type`);
    const vals = () => {
      const k = r.u32();
      const v = Buffer.from(r.bytes.subarray(r.at, r.at + k)).toString("hex");
      r.at += k;
      return v;
    };
    const sig = `${vals()}>${vals()}`;
    if (i === t) return sig;
  }
}

// The code section's function bodies (each: locals and code).
function codeBodies(bytes, sec) {
  const r = new Reader(bytes, sec.start, sec.end);
  const bodies = [];
  for (let n = r.u32(); n > 0; n--) {
    const size = r.u32();
    bodies.push(bytes.subarray(r.at, r.at + size));
    r.at += size;
  }
  return bodies;
}

// `bytes` with the body of its `memcmp` replaced by `body` (a code section entry's bytes).
export function splice(bytes, body) {
  const secs = sections(bytes);
  const find = (id, name) => secs.find((s) => s.id === id && (name === undefined || s.name === name));
  const index = functionNamed(bytes, find(0, "name"), "memcmp") - importedFunctions(bytes, find(2));
  if (index < 0) throw new Error("memcmp is an import");
  const funcSec = new Reader(bytes, find(3).start, find(3).end);
  const count = funcSec.u32();
  let type = -1;
  for (let i = 0; i <= index && i < count; i++) type = funcSec.u32();
  const sig = signature(bytes, find(1), type);
  if (sig !== "7f7f7f>7f") throw new Error(`memcmp has type ${sig}, not (i32, i32, i32) -> i32`);
  const code = find(10);
  const bodies = codeBodies(bytes, code);
  bodies[index] = body;
  const payload = Buffer.concat([leb(bodies.length), ...bodies.flatMap((b) => [leb(b.length), b])]);
  return Buffer.concat([bytes.subarray(0, code.head), Buffer.from([10]), leb(payload.length), payload, bytes.subarray(code.end)]);
}

// The one function body of the module compiled from memcmp.wat.
export async function memcmpBody() {
  const mod = await memcmpModule();
  const code = sections(mod).find((s) => s.id === 10);
  const bodies = codeBodies(mod, code);
  if (bodies.length !== 1) throw new Error("memcmp.wat must define exactly one function");
  return bodies[0];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = process.argv[2];
  const before = readFileSync(path);
  const after = splice(before, await memcmpBody());
  if (!WebAssembly.validate(after)) throw new Error(`${path}: the module with the new memcmp does not validate`);
  writeFileSync(path, after);
  console.log(`${path}: memcmp replaced (wasm/memcmp.wat)`);
}
