// Enrichment rules in the browser: the same .wasm files the Lambda runs (plugin ABI v1:
// exports cflog_abi_version, cflog_fields, cflog_alloc, cflog_init, cflog_enrich,
// cflog_last_error, memory; no imports). The inspector builds each batch and reads each
// result in Rust (Inspector.rule_batch / push_chunk); this file only moves bytes.
import { rule_init_schema } from "./pkg/cflog_wasm.js";

const dec = new TextDecoder();
const enc = new TextEncoder();

function unpack(v) {
  const n = BigInt.asUintN(64, BigInt(v));
  return [Number(n >> 32n), Number(n & 0xffffffffn)];
}

export class Rule {
  static async load(bytes, config = "") {
    let instance;
    try {
      ({ instance } = await WebAssembly.instantiate(bytes, {}));
    } catch (e) {
      throw new Error(`not a loadable enrichment rule: ${e.message} (a rule has no imports)`);
    }
    const x = instance.exports;
    for (const name of ["memory", "cflog_abi_version", "cflog_fields", "cflog_alloc", "cflog_init", "cflog_enrich"]) {
      if (!(name in x)) throw new Error(`not an enrichment rule: it does not export ${name}`);
    }
    const version = x.cflog_abi_version();
    if (version !== 1) throw new Error(`rule speaks ABI version ${version}; this inspector speaks 1`);
    const rule = new Rule(x);
    rule.fields = rule.read(x.cflog_fields());
    const schema = enc.encode(rule_init_schema(rule.fields));
    const cfg = enc.encode(config);
    const ptr = rule.alloc(schema.length + cfg.length);
    new Uint8Array(x.memory.buffer, ptr, schema.length).set(schema);
    new Uint8Array(x.memory.buffer, ptr + schema.length, cfg.length).set(cfg);
    const rc = x.cflog_init(ptr, schema.length, ptr + schema.length, cfg.length);
    if (rc !== 0) throw new Error(`the rule refused to start: ${rule.lastError() || "code " + rc}`);
    return rule;
  }

  constructor(exports) {
    this.x = exports;
  }

  read(packed) {
    const [ptr, len] = unpack(packed);
    return dec.decode(new Uint8Array(this.x.memory.buffer, ptr, len));
  }

  lastError() {
    return this.x.cflog_last_error ? this.read(this.x.cflog_last_error()) : "";
  }

  alloc(len) {
    const ptr = this.x.cflog_alloc(len);
    if (ptr === 0 && len > 0) throw new Error(`the rule could not allocate ${len} bytes`);
    return ptr;
  }

  // Runs one batch (bytes from Inspector.rule_batch); returns a copy of the result.
  enrich(batch) {
    const ptr = this.alloc(batch.length);
    new Uint8Array(this.x.memory.buffer, ptr, batch.length).set(batch);
    const packed = this.x.cflog_enrich(ptr, batch.length);
    if (BigInt(packed) === -1n) throw new Error(`the rule failed: ${this.lastError()}`);
    const [rp, rl] = unpack(packed);
    return new Uint8Array(this.x.memory.buffer, rp, rl).slice();
  }
}
