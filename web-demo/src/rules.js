// Enrichment rules in the browser: the same .wasm files the CLI and the Lambda run (plugin
// ABI v1). This file only moves bytes: it instantiates the rule's module, copies bytes
// into and out of its memory and calls its exports. Every check (module shape, ABI
// version, fields, where the answer lies, the answer itself) and the failure policy
// (a failed call leaves its records un-enriched, is counted by kind, and the rule is
// disabled after repeated failures, as natively) are in Rust: the Inspector's rule_*
// methods, over the shared cflog-plugin-abi crate.
const dec = new TextDecoder();

export class Rule {
  // Compiles and starts the rule inside `inspector`; a rule that cannot start is an error.
  static async load(inspector, bytes, name, config = "") {
    let module;
    try {
      module = await WebAssembly.compile(bytes);
    } catch (e) {
      throw new Error(`not a loadable enrichment rule: ${e.message}`);
    }
    const rule = new Rule(inspector, module, name, config);
    await rule.start();
    return rule;
  }

  constructor(inspector, module, name, config) {
    this.inspector = inspector;
    this.module = module;
    this.name = name;
    this.config = config;
  }

  async start() {
    const imports = WebAssembly.Module.imports(this.module).map((i) => `${i.module}.${i.name}`).join("\n");
    const exports = WebAssembly.Module.exports(this.module).map((e) => e.name).join("\n");
    const instance = imports ? null : await WebAssembly.instantiate(this.module, {});
    const x = instance ? instance.exports : {};
    const call = (f, ...a) => (typeof f === "function" ? f(...a) : 0);
    const version = instance && "cflog_abi_version" in x ? call(x.cflog_abi_version) : 0;
    this.x = x;
    const fields = instance && "cflog_fields" in x ? this.bytes(call(x.cflog_fields)) : new Uint8Array();
    const input = this.inspector.rule_start(this.name, imports, exports, version, fields, this.config);
    const ptr = x.cflog_alloc(input.length);
    this.memory().set(input, ptr);
    const split = this.inspector.rule_schema_len();
    const rc = x.cflog_init(ptr, split, ptr + split, input.length - split);
    this.inspector.rule_init_done(rc, rc === 0 ? "" : this.lastError());
    this.fields = this.inspector.rule_fields();
  }

  memory() {
    return new Uint8Array(this.x.memory.buffer);
  }

  // The bytes at a packed (ptr << 32 | len) answer, clamped to the memory (Rust checks
  // what they say).
  bytes(packed) {
    const n = BigInt.asUintN(64, BigInt(packed));
    const mem = this.memory();
    const ptr = Math.min(Number(n >> 32n), mem.length);
    return mem.slice(ptr, Math.min(ptr + Number(n & 0xffffffffn), mem.length));
  }

  lastError() {
    try {
      return this.x.cflog_last_error ? dec.decode(this.bytes(this.x.cflog_last_error()).slice(0, 4096)) : "";
    } catch {
      return "";
    }
  }

  // Runs the rule on one chunk's batch (from inspector.rule_batch); returns the result
  // bytes for inspector.push_chunk, or undefined when the rule failed (counted in Rust,
  // the chunk then goes un-enriched).
  async enrich(batch) {
    const memLen = () => (this.x?.memory ? this.x.memory.buffer.byteLength : 0);
    try {
      if (this.inspector.rule_needs_restart()) await this.start();
      const ptr = this.x.cflog_alloc(batch.length);
      this.memory().set(batch, ptr); // a pointer outside memory throws RangeError: a trap
      const packed = this.x.cflog_enrich(ptr, batch.length);
      const range = this.inspector.rule_output(packed, memLen());
      if (range.length !== 2) {
        this.inspector.rule_detail(this.lastError());
        return undefined;
      }
      return this.memory().slice(range[0], range[0] + range[1]);
    } catch (e) {
      this.inspector.rule_failed(e?.name || "Error", e?.message || String(e), memLen());
      return undefined;
    }
  }
}

