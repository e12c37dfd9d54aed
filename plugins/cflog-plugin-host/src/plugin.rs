//! One instantiated plugin ([`Plugin`]) and the call sequence: instantiation under the
//! memory limiter, the ABI version check, `cflog_fields`, `cflog_init` with schema and
//! configuration, then per batch fuel or deadline, `cflog_alloc`, `cflog_enrich` and the
//! checks on its answer. It also applies the failure policy ([`Health`]): a failed call
//! is counted, drops the instance (restarted on the next batch) and after too many in a
//! row disables the plugin; [`PluginStats`] reports the counters.

use std::collections::BTreeMap;
use std::fmt;

use cflog_core::Field;
use cflog_plugin_abi::{self as abi, Health, unpack};
use wasmtime::{Engine, Instance, Memory, ResourceLimiter, Store, Trap, TypedFunc};

use crate::FailureKind;
use crate::batch::{BatchWriter, Decoded};
use crate::error::{PluginError, Reason};
use crate::host::{CompiledPlugin, PluginHost};
use crate::limits::{Interrupt, Limits, ticks};

/// Counters of one plugin, for reports and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginStats {
    /// The plugin's name.
    pub name: String,
    /// Batches enriched successfully.
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    /// Failed batches (their records were left un-enriched).
    pub failures: u64,
    /// Failures by kind name.
    pub failures_by_kind: BTreeMap<&'static str, u64>,
    /// Records left un-enriched by failures or because the plugin was disabled.
    pub records_skipped: u64,
    /// Instances re-created after a trap.
    pub restarts: u64,
    /// Disabled after too many failures in a row.
    pub disabled: bool,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// Store data: memory limit that remembers a refused growth.
struct Guard {
    memory_bytes: usize,
    refused: bool,
}

impl ResourceLimiter for Guard {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let ok = desired <= self.memory_bytes;
        self.refused |= !ok;
        Ok(ok)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }
}

struct Live {
    store: Store<Guard>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    enrich: TypedFunc<(i32, i32), i64>,
    last_error: Option<TypedFunc<(), i64>>,
}

/// One instantiated plugin (one per thread).
pub struct Plugin {
    compiled: CompiledPlugin,
    limits: Limits,
    engine: Engine,
    live: Option<Live>,
    /// Fields sent to the guest, in the order `cflog_fields` listed them.
    pub(crate) fields: Vec<Field>,
    health: Health,
    last_error: Option<String>,
    /// The last successful call's result (swapped out by [`crate::PluginSet`]).
    pub(crate) result: Decoded,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin").field("name", &self.compiled.name).field("health", &self.health).finish_non_exhaustive()
    }
}

fn classify(e: &wasmtime::Error, guard: &Guard) -> FailureKind {
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel | Trap::Interrupt) => FailureKind::Timeout,
        _ if guard.refused => FailureKind::OutOfMemory,
        _ => FailureKind::Trap,
    }
}

/// Reads `len` bytes at `ptr` of the guest's memory, if they are all inside it.
fn guest_bytes<'a>(memory: &Memory, store: &'a Store<Guard>, ptr: usize, len: usize) -> Option<&'a [u8]> {
    let data = memory.data(store);
    data.get(abi::region(ptr, len, data.len())?)
}

/// The guest's `cflog_last_error` message (at most 4 KiB), if it has one.
fn guest_message(last_error: Option<&TypedFunc<(), i64>>, store: &mut Store<Guard>, memory: &Memory) -> Option<String> {
    let (p, l) = unpack(last_error?.call(&mut *store, ()).ok()?);
    guest_bytes(memory, store, p, l.min(4096)).map(|b| String::from_utf8_lossy(b).into_owned())
}

impl Plugin {
    /// Instantiates `compiled`, checks the ABI version, reads the fields it wants and
    /// runs `cflog_init` with their schema and the configuration.
    pub fn new(host: &PluginHost, compiled: &CompiledPlugin) -> Result<Plugin, PluginError> {
        let mut p = Plugin {
            compiled: compiled.clone(),
            limits: host.limits,
            engine: host.engine.clone(),
            live: None,
            fields: Vec::new(),
            health: Health::new(host.limits.max_consecutive_failures),
            last_error: None,
            result: Decoded::default(),
        };
        p.start()?;
        Ok(p)
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.compiled.name
    }

    /// Its counters.
    pub fn stats(&self) -> PluginStats {
        let h = &self.health;
        PluginStats {
            name: self.compiled.name.clone(),
            batches: h.batches,
            records: h.records,
            failures: h.failures,
            failures_by_kind: h.failures_by_kind().collect(),
            records_skipped: h.records_skipped,
            restarts: h.restarts,
            disabled: h.disabled(),
            last_error: self.last_error.clone(),
        }
    }

    fn err(&self, kind: FailureKind, reason: Reason) -> PluginError {
        PluginError::new(&self.compiled.name, kind, reason)
    }

    fn start(&mut self) -> Result<(), PluginError> {
        self.live = None;
        let limits = self.limits;
        let mut store = Store::new(&self.engine, Guard { memory_bytes: limits.memory_bytes, refused: false });
        store.limiter(|g| g);
        match limits.interrupt {
            Interrupt::Fuel => {
                let reason = |e: wasmtime::Error| Reason::Wasmtime(format!("{e:#}"));
                store.set_fuel(limits.fuel_init).map_err(|e| self.err(FailureKind::BadModule, reason(e)))?
            }
            Interrupt::Deadline => store.set_epoch_deadline(ticks(limits.deadline_init)),
        }
        let instance = match Instance::new(&mut store, &self.compiled.module, &[]) {
            Ok(i) => i,
            Err(e) => {
                let kind = match classify(&e, store.data()) {
                    FailureKind::Trap => FailureKind::BadModule,
                    k => k,
                };
                return Err(self.err(kind, Reason::Call { what: "instantiation", error: format!("{e:#}") }));
            }
        };
        let missing = |export: &'static str, e: wasmtime::Error| {
            self.err(FailureKind::BadModule, Reason::Export { export, error: format!("{e:#}") })
        };
        let memory =
            instance.get_memory(&mut store, "memory").ok_or_else(|| self.err(FailureKind::BadModule, Reason::NoMemory))?;
        let version: TypedFunc<(), i32> =
            instance.get_typed_func(&mut store, "cflog_abi_version").map_err(|e| missing("cflog_abi_version", e))?;
        let call = |store: &mut Store<Guard>, e: wasmtime::Error, what: &'static str| {
            let kind = classify(&e, store.data());
            self.err(kind, Reason::Call { what, error: format!("{e:#}") })
        };
        let v = version.call(&mut store, ()).map_err(|e| call(&mut store, e, "cflog_abi_version"))?;
        if abi::check_version(v).is_err() {
            return Err(self.err(FailureKind::AbiVersion, Reason::AbiVersion { found: v }));
        }
        let fields_fn: TypedFunc<(), i64> = instance.get_typed_func(&mut store, "cflog_fields").map_err(|e| missing("cflog_fields", e))?;
        let alloc: TypedFunc<i32, i32> = instance.get_typed_func(&mut store, "cflog_alloc").map_err(|e| missing("cflog_alloc", e))?;
        let init: TypedFunc<(i32, i32, i32, i32), i32> =
            instance.get_typed_func(&mut store, "cflog_init").map_err(|e| missing("cflog_init", e))?;
        let enrich: TypedFunc<(i32, i32), i64> =
            instance.get_typed_func(&mut store, "cflog_enrich").map_err(|e| missing("cflog_enrich", e))?;
        let last_error: Option<TypedFunc<(), i64>> = instance.get_typed_func(&mut store, "cflog_last_error").ok();

        let (ptr, len) = unpack(fields_fn.call(&mut store, ()).map_err(|e| call(&mut store, e, "cflog_fields"))?);
        let text = guest_bytes(&memory, &store, ptr, len)
            .ok_or_else(|| self.err(FailureKind::BadOutput, Reason::FieldsOutside))?;
        let text = std::str::from_utf8(text).map_err(|_| self.err(FailureKind::BadOutput, Reason::FieldsNotUtf8))?;
        let fields: Vec<Field> = abi::record::rule_fields(text)
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(FailureKind::Init, Reason::Fields(e.to_string())))?;
        let mut both = Vec::new();
        abi::record::write_init_schema(&fields, &mut |b| both.extend_from_slice(b));
        let schema_len = both.len();
        let config = self.compiled.config.clone();
        both.extend_from_slice(config.as_bytes());
        let base = alloc.call(&mut store, both.len() as i32).map_err(|e| call(&mut store, e, "cflog_alloc"))? as u32 as usize;
        memory
            .write(&mut store, base, &both)
            .map_err(|_| self.err(FailureKind::BadOutput, Reason::InitBufferOutside))?;
        let rc = init
            .call(&mut store, (base as i32, schema_len as i32, (base + schema_len) as i32, config.len() as i32))
            .map_err(|e| call(&mut store, e, "cflog_init"))?;
        if rc != 0 {
            let guest = guest_message(last_error.as_ref(), &mut store, &memory);
            return Err(self.err(FailureKind::Init, Reason::InitFailed { code: rc, guest }));
        }
        self.fields = fields;
        self.live = Some(Live { store, memory, alloc, enrich, last_error });
        Ok(())
    }

    fn fail(&mut self, records: usize, e: PluginError) {
        self.health.failed(e.kind, records);
        self.last_error = Some(e.to_string());
        // After a failure the instance's state is unknown: start afresh next time.
        self.live = None;
    }

    /// Runs one encoded batch of `count` records; on success the result is in
    /// `self.result` (appended after clearing). Failures are counted, never returned.
    pub(crate) fn run(&mut self, batch: &BatchWriter) -> bool {
        let count = batch.len();
        self.result.clear();
        if self.health.disabled() {
            self.health.skipped(count);
            return false;
        }
        if self.live.is_none() {
            self.health.restarted();
            if let Err(e) = self.start() {
                self.fail(count, e);
                return false;
            }
        }
        match self.call(batch) {
            Ok(()) => {
                self.health.succeeded(count);
                true
            }
            Err(e) => {
                self.fail(count, e);
                false
            }
        }
    }

    fn call(&mut self, batch: &BatchWriter) -> Result<(), PluginError> {
        let name = self.compiled.name.clone();
        let err = |kind, reason| PluginError::new(&name, kind, reason);
        let live = self.live.as_mut().ok_or_else(|| err(FailureKind::Trap, Reason::NoInstance))?;
        let l = &self.limits;
        match l.interrupt {
            Interrupt::Fuel => {
                let fuel = l.fuel_per_batch.saturating_add(l.fuel_per_record.saturating_mul(batch.len() as u64));
                live.store.set_fuel(fuel).map_err(|e| err(FailureKind::Trap, Reason::Wasmtime(format!("{e:#}"))))?;
            }
            Interrupt::Deadline => {
                let d = l.deadline_per_batch.saturating_add(l.deadline_per_record.saturating_mul(batch.len() as u32));
                live.store.set_epoch_deadline(ticks(d));
            }
        }
        live.store.data_mut().refused = false;
        let trap = |live: &mut Live, e: wasmtime::Error, what: &'static str| {
            err(classify(&e, live.store.data()), Reason::Call { what, error: format!("{e:#}") })
        };
        let len = batch.encoded_len();
        let ptr = live.alloc.call(&mut live.store, len as i32).map_err(|e| trap(live, e, "cflog_alloc"))? as u32 as usize;
        // Encoded straight into the buffer the guest handed out (no copy in between).
        let memory = live.memory.data_mut(&mut live.store);
        let into = abi::region(ptr, len, memory.len())
            .and_then(|r| memory.get_mut(r))
            .ok_or_else(|| err(FailureKind::BadOutput, Reason::BatchBufferOutside { len, ptr }))?;
        batch.encode_into(into).map_err(|e| err(FailureKind::BadOutput, Reason::Batch(e)))?;
        let v = live.enrich.call(&mut live.store, (ptr as i32, len as i32)).map_err(|e| trap(live, e, "cflog_enrich"))?;
        let (out_ptr, out_len) = unpack(v);
        let range = match abi::check_enrich_answer(v, live.memory.data_size(&live.store), self.limits.max_output_bytes) {
            Ok(r) => r,
            Err(e) => {
                let reason = if e.kind == FailureKind::GuestError {
                    let guest = guest_message(live.last_error.as_ref(), &mut live.store, &live.memory);
                    Reason::GuestError { what: e.what, guest }
                } else {
                    Reason::Answer { what: e.what, ptr: out_ptr, len: out_len }
                };
                return Err(err(e.kind, reason));
            }
        };
        let bytes = &live.memory.data(&live.store)[range];
        self.result.decode(bytes, batch.len()).map_err(|e| err(FailureKind::BadOutput, Reason::Result(e)))
    }
}
