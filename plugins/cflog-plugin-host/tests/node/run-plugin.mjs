// A second, independent host for cflog plugins (ABI version 1) in plain JavaScript,
// using only the WebAssembly API a browser has: no imports, no WASI.
//
// usage: node run-plugin.mjs MODULE.wasm CONFIG_JSON_OR_EMPTY FIELDS_FILE LOG_FILE
// Prints one JSON array: per log line {tags: [[k, v]...], labels: [[k, v]...], drop}.
import { readFileSync } from "node:fs";

const [wasmPath, configText, fieldsPath, logPath] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;
if (x.cflog_abi_version() !== 1) throw new Error(`ABI version ${x.cflog_abi_version()}`);
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const mem = () => new Uint8Array(x.memory.buffer);
const unpack = (v) => [Number(BigInt.asUintN(64, v) >> 32n), Number(BigInt.asUintN(64, v) & 0xffffffffn)];

// The fields the rule reads, in its order; project the source lines onto them.
const [fp, fl] = unpack(x.cflog_fields());
const wanted = dec.decode(mem().slice(fp, fp + fl)).split("\n").filter((s) => s.length);
const source = readFileSync(fieldsPath, "utf8").split("\n").filter((s) => s.length);
const columns = wanted.map((w) => source.indexOf(w));
const schema = enc.encode(["realtime", ...wanted].join("\n"));
const config = enc.encode(configText);
let p = x.cflog_alloc(schema.length + config.length);
mem().set(schema, p);
mem().set(config, p + schema.length);
if (x.cflog_init(p, schema.length, p + schema.length, config.length) !== 0) throw new Error("cflog_init failed");

const lines = readFileSync(logPath, "utf8").split("\n").filter((l) => l.length);
const projected = lines.map((l) => {
  const cols = l.split("\t");
  return enc.encode(columns.map((c) => (c < 0 ? "-" : cols[c])).join("\t"));
});
const dataLen = projected.reduce((n, b) => n + b.length, 0);
const batch = new Uint8Array(4 + 4 * projected.length + dataLen);
const view = new DataView(batch.buffer);
view.setUint32(0, projected.length, true);
let end = 0, at = 4 + 4 * projected.length;
projected.forEach((b, i) => {
  end += b.length;
  view.setUint32(4 + 4 * i, end, true);
  batch.set(b, at);
  at += b.length;
});
p = x.cflog_alloc(batch.length);
mem().set(batch, p);
const [op, ol] = unpack(x.cflog_enrich(p, batch.length));
const out = new DataView(x.memory.buffer, op, ol);
let o = 4;
const count = out.getUint32(0, true);
if (count !== lines.length) throw new Error(`${count} results for ${lines.length} lines`);
const bytes = new Uint8Array(x.memory.buffer, op, ol);
const text = (n) => { const s = dec.decode(bytes.slice(o, o + n)); o += n; return s; };
const results = [];
for (let i = 0; i < count; i++) {
  const flags = out.getUint8(o), nt = out.getUint8(o + 1), nl = out.getUint8(o + 2);
  o += 3;
  const r = { tags: [], labels: [], drop: (flags & 1) === 1 };
  for (let t = 0; t < nt; t++) {
    const k = text(out.getUint8(o++));
    const vl = out.getUint16(o, true); o += 2;
    r.tags.push([k, text(vl)]);
  }
  for (let t = 0; t < nl; t++) {
    const k = text(out.getUint8(o++));
    r.labels.push([k, out.getFloat64(o, true)]); o += 8;
  }
  results.push(r);
}
if (o !== ol) throw new Error("trailing bytes in the result");
console.log(JSON.stringify(results));
