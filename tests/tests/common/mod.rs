//! The page's side of a browser rule, with wasmtime standing in for the page's
//! `WebAssembly`: exactly the byte moving `web-demo/src/rules.js` does (instantiate,
//! `cflog_fields`, `cflog_alloc` + `cflog_init`, then per batch copy in, call
//! `cflog_enrich`, copy the answer out), every check and the failure policy left to
//! `cflog_wasm::rule::RuleHost` as in the browser. Shared by `rule_parity.rs` and
//! `parity.rs`.

use cflog_wasm::rule::{RuleHost, Verdict};
use wasmtime::{Engine, Instance, Memory, Module, Store, TypedFunc};

/// One started rule instance and its host.
pub struct Page {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    enrich: TypedFunc<(i32, i32), i64>,
    /// The browser's rule host (checks, batches, verdicts, health).
    pub host: RuleHost,
}

impl Page {
    /// Instantiates `module` and starts it as the page does.
    pub fn start(engine: &Engine, module: &Module) -> Page {
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, module, &[]).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        let mut func = |name: &str| instance.get_func(&mut store, name).unwrap();
        let (version, fields_fn, alloc, init, enrich) =
            (func("cflog_abi_version"), func("cflog_fields"), func("cflog_alloc"), func("cflog_init"), func("cflog_enrich"));
        let version: TypedFunc<(), i32> = version.typed(&store).unwrap();
        let fields_fn: TypedFunc<(), i64> = fields_fn.typed(&store).unwrap();
        let alloc: TypedFunc<i32, i32> = alloc.typed(&store).unwrap();
        let init: TypedFunc<(i32, i32, i32, i32), i32> = init.typed(&store).unwrap();
        let enrich: TypedFunc<(i32, i32), i64> = enrich.typed(&store).unwrap();
        let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();

        let mut host = RuleHost::new("rule");
        host.check_module("", &exports.join("\n")).unwrap();
        let v = version.call(&mut store, ()).unwrap();
        let (p, l) = cflog_plugin_abi::unpack(fields_fn.call(&mut store, ()).unwrap());
        let fields = memory.data(&store)[p..p + l].to_vec();
        let input = host.init_input(v, &fields, "").unwrap();
        let ptr = alloc.call(&mut store, input.len() as i32).unwrap();
        memory.write(&mut store, ptr as usize, &input).unwrap();
        let split = host.schema_len() as i32;
        let rc = init.call(&mut store, (ptr, split, ptr + split, input.len() as i32 - split)).unwrap();
        host.init_done(rc, "").unwrap();
        Page { store, memory, alloc, enrich, host }
    }

    /// Runs the rule on `batch` (from `RuleHost::batch`): the verdicts, or `None` when
    /// the answer broke the ABI (counted by the host).
    pub fn enrich(&mut self, batch: &[u8]) -> Option<Vec<Verdict>> {
        let ptr = self.alloc.call(&mut self.store, batch.len() as i32).unwrap();
        self.memory.write(&mut self.store, ptr as usize, batch).unwrap();
        let packed = self.enrich.call(&mut self.store, (ptr, batch.len() as i32)).unwrap();
        let (p, l) = self.host.output(packed, self.memory.data_size(&self.store))?;
        let result = self.memory.data(&self.store)[p as usize..(p + l) as usize].to_vec();
        self.host.verdicts(&result)
    }
}
