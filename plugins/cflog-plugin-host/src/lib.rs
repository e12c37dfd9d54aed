//! `cflog-plugin-host`: runs cflog enrichment rules (core wasm modules speaking ABI
//! version 1, `docs/plugin-abi.md`) under wasmtime, contained.
//!
//! One [`PluginHost`] per process holds the engine; modules are compiled once
//! ([`PluginHost::compile_file`], optionally through an on-disk cache of precompiled
//! code for cold starts) and instantiated per thread into a [`PluginSet`]. A batch is
//! built from parsed records ([`Batch::push`]), enriched with one call per plugin, and
//! read back per record ([`Enriched::tags`]).
//!
//! Containment: no imports are offered (no WASI, no host functions); every call runs
//! under a fuel budget and a linear-memory limit; all guest offsets and lengths are
//! checked. A trap, timeout, memory exhaustion, wrong ABI version or malformed output
//! leaves that batch's records un-enriched by that plugin, is counted in
//! [`PluginStats`] with the plugin's name, and after
//! [`Limits::max_consecutive_failures`] failures in a row the plugin is disabled. A
//! plugin never fails a batch.
//!
//! ```no_run
//! use cflog_core::{Parser, RecordBuf, Schema};
//! use cflog_plugin_host::{Limits, PluginHost, PluginSet};
//!
//! let host = PluginHost::new(Limits::default()).unwrap();
//! let bots = host.compile_file("bots.wasm".as_ref(), Some(r#"{"generic": true}"#.into())).unwrap();
//! let mut set = PluginSet::instantiate(&host, &[bots]).unwrap();
//! let mut parser = Parser::realtime(Schema::realtime_release(46).unwrap());
//! let mut buf = RecordBuf::new();
//! let mut batch = set.batch();
//! # let line = b"";
//! if let Ok(Some(record)) = parser.parse_line(line, &mut buf) {
//!     batch.push(&record);
//! }
//! let enriched = set.enrich(&batch);
//! for (key, value) in enriched.tags(0) {
//!     println!("{key}={value}");
//! }
//! ```
//!
//! The types are `Send`: an async host (the Lambda) keeps a `PluginSet` in its state
//! (behind a mutex, or one per task) and calls [`PluginSet::enrich`] directly; a call
//! is CPU-bound and bounded by its fuel.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cflog_core::{Field, Record, Schema};
use cflog_plugin_abi::{self as abi, Health, unpack};
use wasmtime::{Config, Engine, Instance, Memory, Module, ResourceLimiter, Store, Trap, TypedFunc};

pub use cflog_plugin_abi::{ABI_VERSION, FailureKind};

/// A batch builder over vectors.
type BatchWriter = abi::BatchWriter<Vec<u8>, Vec<u32>>;

/// How a call that runs too long is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interrupt {
    /// Count wasm instructions ([`Limits::fuel_per_batch`] and friends): deterministic,
    /// the same input always stops at the same point. The default.
    Fuel,
    /// A wall-clock deadline checked at loop back-edges and calls (wasmtime epochs,
    /// ticked every [`EPOCH_TICK`] by a background thread): bounds wall time rather
    /// than work, not deterministic. Measured no faster than fuel on the example rules
    /// (`bench/RESULTS.md`). The deadline is [`Limits::deadline_per_batch`] plus
    /// [`Limits::deadline_per_record`] per record (and [`Limits::deadline_init`] for init).
    Deadline,
}

/// The epoch tick of [`Interrupt::Deadline`].
pub const EPOCH_TICK: std::time::Duration = std::time::Duration::from_millis(2);

/// Resource limits for every plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel or deadline.
    pub interrupt: Interrupt,
    /// Deadline for one batch, on top of the per-record share ([`Interrupt::Deadline`]).
    pub deadline_per_batch: std::time::Duration,
    /// Deadline added per record.
    pub deadline_per_record: std::time::Duration,
    /// Deadline for instantiation and `cflog_init`.
    pub deadline_init: std::time::Duration,
    /// Fuel (roughly, wasm instructions) for one batch, on top of the per-record share.
    pub fuel_per_batch: u64,
    /// Fuel added per record of a batch.
    pub fuel_per_record: u64,
    /// Fuel for instantiation and `cflog_init` (configuration parsing).
    pub fuel_init: u64,
    /// Largest linear memory a plugin instance may have, in bytes.
    pub memory_bytes: usize,
    /// Largest result a plugin may return for one batch, in bytes.
    pub max_output_bytes: usize,
    /// Failures in a row after which a plugin is disabled for the rest of the run.
    pub max_consecutive_failures: u32,
}

impl Default for Limits {
    /// The default is fuel ([`Interrupt::Fuel`]): 1 M per batch plus 200 k per record (a
    /// rule that parses every field of a 1 KB line uses about 20 k) and 100 M for init;
    /// for [`Interrupt::Deadline`], 50 ms per batch plus 20 µs per record and 1 s for
    /// init; 64 MiB of memory, 16 MiB of output and 3 failures in a row.
    fn default() -> Self {
        Limits {
            interrupt: Interrupt::Fuel,
            deadline_per_batch: std::time::Duration::from_millis(50),
            deadline_per_record: std::time::Duration::from_micros(20),
            deadline_init: std::time::Duration::from_secs(1),
            fuel_per_batch: 1_000_000,
            fuel_per_record: 200_000,
            fuel_init: 100_000_000,
            memory_bytes: abi::MAX_MEMORY_BYTES,
            max_output_bytes: abi::MAX_OUTPUT_BYTES,
            max_consecutive_failures: abi::MAX_CONSECUTIVE_FAILURES,
        }
    }
}

/// A plugin failure: which plugin, what kind, and the details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin}: {kind}: {message}")]
pub struct PluginError {
    /// The plugin's name (its file stem).
    pub plugin: String,
    /// What went wrong.
    pub kind: FailureKind,
    /// Details.
    pub message: String,
}

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

/// The engine and limits; compile modules with it. Cheap to share (`Clone`).
#[derive(Clone)]
pub struct PluginHost {
    engine: Engine,
    limits: Limits,
    _ticker: Option<Arc<Ticker>>,
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("cflog-plugin-epoch".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Epoch ticks for a deadline, rounded up, plus one for the tick in progress.
fn ticks(d: std::time::Duration) -> u64 {
    (d.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 2
}

impl fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginHost").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// A compiled plugin with its configuration, ready to instantiate on any thread.
#[derive(Clone)]
pub struct CompiledPlugin {
    name: String,
    module: Module,
    config: Arc<str>,
}

impl fmt::Debug for CompiledPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledPlugin").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CompiledPlugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn bad(plugin: &str, kind: FailureKind, message: impl Into<String>) -> PluginError {
    PluginError { plugin: plugin.to_string(), kind, message: message.into() }
}

/// The name of a plugin file: its stem (`bots.wasm` → `bots`).
pub fn plugin_name(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

impl PluginHost {
    /// An engine with fuel metering or epoch deadlines (see [`Interrupt`]; deadlines
    /// start a ticker thread that lives as long as the host), a 512 KiB wasm stack and
    /// no WASI. Precompiled code is only valid for the same `interrupt` mode.
    pub fn new(limits: Limits) -> Result<PluginHost, PluginError> {
        let mut config = Config::new();
        config.consume_fuel(limits.interrupt == Interrupt::Fuel);
        config.epoch_interruption(limits.interrupt == Interrupt::Deadline);
        config.max_wasm_stack(512 << 10);
        let engine = Engine::new(&config).map_err(|e| bad("-", FailureKind::BadModule, format!("engine: {e:#}")))?;
        let ticker = (limits.interrupt == Interrupt::Deadline).then(|| Arc::new(Ticker::start(&engine)));
        Ok(PluginHost { engine, limits, _ticker: ticker })
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Compiles a module from `.wasm` bytes or `.wat` text.
    pub fn compile(&self, name: &str, bytes: &[u8], config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        let module = Module::new(&self.engine, bytes).map_err(|e| bad(name, FailureKind::BadModule, format!("{e:#}")))?;
        self.checked(name, module, config)
    }

    fn checked(&self, name: &str, module: Module, config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        if let Some(i) = module.imports().next() {
            return Err(bad(
                name,
                FailureKind::BadModule,
                format!("imports {}.{}; plugins may not import anything", i.module(), i.name()),
            ));
        }
        Ok(CompiledPlugin { name: name.to_string(), module, config: config.unwrap_or_default().into() })
    }

    /// Compiles a `.wasm` or `.wat` file; the plugin is named after the file's stem.
    pub fn compile_file(&self, path: &Path, config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        let name = plugin_name(path);
        let bytes = std::fs::read(path).map_err(|e| bad(&name, FailureKind::BadModule, format!("{}: {e}", path.display())))?;
        self.compile(&name, &bytes, config)
    }

    /// Like [`compile_file`](Self::compile_file), but keeps the machine code in
    /// `cache_dir` (file `<name>-<hash>.cwasm`, the hash covering the module bytes and
    /// this engine's configuration and version) and loads it from there next time,
    /// which skips Cranelift on a cold start.
    ///
    /// Safety of the cache: loading machine code runs it without validation, so only
    /// files this function wrote may be in `cache_dir`; keep the directory private to
    /// the process's user (in the Lambda, a directory under `/tmp`).
    /// Wasmtime itself also refuses code from another wasmtime version or engine
    /// configuration; such a file is recompiled and replaced.
    pub fn compile_file_cached(
        &self,
        path: &Path,
        config: Option<String>,
        cache_dir: &Path,
    ) -> Result<CompiledPlugin, PluginError> {
        let name = plugin_name(path);
        let bytes = std::fs::read(path).map_err(|e| bad(&name, FailureKind::BadModule, format!("{}: {e}", path.display())))?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        let key = format!("{name}-{:016x}{:032x}.cwasm", h.finish(), xxhash_rust::xxh3::xxh3_128(&bytes));
        let cached: PathBuf = cache_dir.join(key);
        if cached.is_file() {
            // SAFETY: the file was written by this function (see the doc above) with an
            // engine of the same configuration; wasmtime checks version and settings.
            if let Ok(module) = unsafe { Module::deserialize_file(&self.engine, &cached) } {
                return self.checked(&name, module, config);
            }
        }
        let code = self.engine.precompile_module(&bytes).map_err(|e| bad(&name, FailureKind::BadModule, format!("{e:#}")))?;
        // A cache that cannot be written only costs the next cold start.
        let _ = std::fs::create_dir_all(cache_dir).and_then(|_| {
            let tmp = cached.with_extension("tmp");
            std::fs::write(&tmp, &code)?;
            std::fs::rename(&tmp, &cached)
        });
        // SAFETY: `code` was produced just now by this engine.
        let module = unsafe { Module::deserialize(&self.engine, &code) }
            .map_err(|e| bad(&name, FailureKind::BadModule, format!("{e:#}")))?;
        self.checked(&name, module, config)
    }

    /// Instantiates and initializes one plugin (compile + [`Plugin::new`]).
    pub fn load(&self, path: &Path, config: Option<String>) -> Result<Plugin, PluginError> {
        Plugin::new(self, &self.compile_file(path, config)?)
    }
}

/// What a plugin path on the command line or in configuration names: the module and
/// optionally a JSON configuration file (`rule.wasm:config.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The `.wasm` or `.wat` file.
    pub module: PathBuf,
    /// The configuration file, if any.
    pub config: Option<PathBuf>,
}

impl PluginSpec {
    /// Parses `PATH[:CONFIG]`: the split is at the last `:` that follows a `.wasm`,
    /// `.wat` or `.cwasm` file name.
    pub fn parse(spec: &str) -> PluginSpec {
        for ext in [".wasm:", ".wat:"] {
            if let Some(i) = spec.rfind(ext) {
                let cut = i + ext.len() - 1;
                return PluginSpec { module: spec[..cut].into(), config: Some(spec[cut + 1..].into()) };
            }
        }
        PluginSpec { module: spec.into(), config: None }
    }

    /// Expands a comma-separated list (the Lambda's `CFLOG_PLUGINS`): each item is a
    /// `PATH[:CONFIG]` or a directory, whose `*.wasm` and `*.wat` files are taken in
    /// name order, each with `NAME.json` beside it as configuration when present.
    pub fn list(text: &str) -> std::io::Result<Vec<PluginSpec>> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let p = Path::new(item);
            if p.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(p)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| matches!(f.extension().and_then(|x| x.to_str()), Some("wasm" | "wat")))
                    .collect();
                files.sort();
                for f in files {
                    let cfg = f.with_extension("json");
                    out.push(PluginSpec { config: cfg.is_file().then_some(cfg), module: f });
                }
            } else {
                out.push(PluginSpec::parse(item));
            }
        }
        Ok(out)
    }

    /// Reads the configuration file (if any) and compiles the module.
    pub fn compile(&self, host: &PluginHost, cache_dir: Option<&Path>) -> Result<CompiledPlugin, PluginError> {
        let name = plugin_name(&self.module);
        let config = match &self.config {
            Some(c) => Some(std::fs::read_to_string(c).map_err(|e| bad(&name, FailureKind::Init, format!("{}: {e}", c.display())))?),
            None => None,
        };
        match cache_dir {
            Some(dir) => host.compile_file_cached(&self.module, config, dir),
            None => host.compile_file(&self.module, config),
        }
    }
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
    fields: Vec<Field>,
    health: Health,
    last_error: Option<String>,
    input: Vec<u8>,
    result: Decoded,
}

/// A plugin's validated result for one batch: its bytes and where each record starts.
#[derive(Debug, Default, Clone)]
struct Decoded {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

impl Decoded {
    fn clear(&mut self) {
        self.bytes.clear();
        self.offsets.clear();
    }

    /// Validates `bytes` as the result for `count` records and keeps them.
    fn decode(&mut self, bytes: &[u8], count: usize) -> Result<(), abi::WireError> {
        let r = abi::ResultReader::new(bytes, count as u32)?;
        self.offsets.clear();
        self.offsets.extend(r.records().map(|v| v.offset()));
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn record(&self, i: usize) -> Option<abi::RecordView<'_>> {
        abi::result::record_at(&self.bytes, *self.offsets.get(i)?)
    }
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
            input: Vec::new(),
            result: Decoded::default(),
        };
        p.start()?;
        Ok(p)
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.compiled.name
    }

    /// The real-time fields the plugin reads, in the order it listed them.
    pub fn fields(&self) -> &[Field] {
        &self.fields
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

    fn err(&self, kind: FailureKind, message: impl Into<String>) -> PluginError {
        bad(&self.compiled.name, kind, message)
    }

    fn start(&mut self) -> Result<(), PluginError> {
        self.live = None;
        let limits = self.limits;
        let mut store = Store::new(&self.engine, Guard { memory_bytes: limits.memory_bytes, refused: false });
        store.limiter(|g| g);
        match limits.interrupt {
            Interrupt::Fuel => {
                store.set_fuel(limits.fuel_init).map_err(|e| self.err(FailureKind::BadModule, format!("{e:#}")))?
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
                return Err(self.err(kind, format!("instantiation: {e:#}")));
            }
        };
        let missing = |what: &str, e: wasmtime::Error| bad(&self.compiled.name, FailureKind::BadModule, format!("export {what}: {e:#}"));
        let memory =
            instance.get_memory(&mut store, "memory").ok_or_else(|| self.err(FailureKind::BadModule, "no exported memory \"memory\""))?;
        let version: TypedFunc<(), i32> =
            instance.get_typed_func(&mut store, "cflog_abi_version").map_err(|e| missing("cflog_abi_version", e))?;
        let call = |store: &mut Store<Guard>, e: wasmtime::Error, what: &str| {
            let kind = classify(&e, store.data());
            bad(&self.compiled.name, kind, format!("{what}: {e:#}"))
        };
        let v = version.call(&mut store, ()).map_err(|e| call(&mut store, e, "cflog_abi_version"))?;
        if abi::check_version(v).is_err() {
            return Err(self.err(FailureKind::AbiVersion, format!("module speaks ABI version {v}, this host speaks {ABI_VERSION}")));
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
            .ok_or_else(|| self.err(FailureKind::BadOutput, "cflog_fields: pointer outside memory"))?;
        let text = std::str::from_utf8(text).map_err(|_| self.err(FailureKind::BadOutput, "cflog_fields: not UTF-8"))?;
        let fields: Vec<Field> =
            abi::record::rule_fields(text).collect::<Result<_, _>>().map_err(|e| self.err(FailureKind::Init, e.to_string()))?;
        let mut both = Vec::new();
        abi::record::write_init_schema(&fields, &mut |b| both.extend_from_slice(b));
        let schema_len = both.len();
        let config = self.compiled.config.clone();
        both.extend_from_slice(config.as_bytes());
        let base = alloc.call(&mut store, both.len() as i32).map_err(|e| call(&mut store, e, "cflog_alloc"))? as u32 as usize;
        memory
            .write(&mut store, base, &both)
            .map_err(|_| self.err(FailureKind::BadOutput, "cflog_alloc returned a buffer outside memory"))?;
        let rc = init
            .call(&mut store, (base as i32, schema_len as i32, (base + schema_len) as i32, config.len() as i32))
            .map_err(|e| call(&mut store, e, "cflog_init"))?;
        if rc != 0 {
            let mut msg = format!("cflog_init returned {rc}");
            if let Some(m) = guest_message(last_error.as_ref(), &mut store, &memory) {
                msg = format!("{msg}: {m}");
            }
            return Err(self.err(FailureKind::Init, msg));
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
    fn run(&mut self, batch: &BatchWriter) -> bool {
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
        let err = |kind, msg: String| bad(&name, kind, msg);
        let live = self.live.as_mut().ok_or_else(|| err(FailureKind::Trap, "no instance".into()))?;
        let l = &self.limits;
        match l.interrupt {
            Interrupt::Fuel => {
                let fuel = l.fuel_per_batch.saturating_add(l.fuel_per_record.saturating_mul(batch.len() as u64));
                live.store.set_fuel(fuel).map_err(|e| err(FailureKind::Trap, format!("{e:#}")))?;
            }
            Interrupt::Deadline => {
                let d = l.deadline_per_batch.saturating_add(l.deadline_per_record.saturating_mul(batch.len() as u32));
                live.store.set_epoch_deadline(ticks(d));
            }
        }
        live.store.data_mut().refused = false;
        let trap = |live: &mut Live, e: wasmtime::Error, what: &str| err(classify(&e, live.store.data()), format!("{what}: {e:#}"));
        let len = batch.encoded_len();
        self.input.resize(len, 0);
        batch.encode_into(&mut self.input).map_err(|e| err(FailureKind::BadOutput, format!("batch: {e}")))?;
        let ptr = live.alloc.call(&mut live.store, len as i32).map_err(|e| trap(live, e, "cflog_alloc"))? as u32 as usize;
        live.memory
            .write(&mut live.store, ptr, &self.input)
            .map_err(|_| err(FailureKind::BadOutput, format!("cflog_alloc({len}) returned {ptr:#x}, outside memory")))?;
        let v = live.enrich.call(&mut live.store, (ptr as i32, len as i32)).map_err(|e| trap(live, e, "cflog_enrich"))?;
        let (out_ptr, out_len) = unpack(v);
        let range = match abi::check_enrich_answer(v, live.memory.data_size(&live.store), self.limits.max_output_bytes) {
            Ok(r) => r,
            Err(e) => {
                let mut msg = format!("{} ({out_ptr:#x}+{out_len})", e.what);
                if e.kind == FailureKind::GuestError {
                    msg = String::from(e.what);
                    if let Some(m) = guest_message(live.last_error.as_ref(), &mut live.store, &live.memory) {
                        msg = format!("{msg}: {m}");
                    }
                }
                return Err(err(e.kind, msg));
            }
        };
        let bytes = &live.memory.data(&live.store)[range];
        self.result.decode(bytes, batch.len()).map_err(|e| err(FailureKind::BadOutput, format!("result: {e}")))
    }
}

/// The plugins of one thread, run in order on each batch.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Plugin>,
}

impl PluginSet {
    /// Instantiates every compiled plugin. A plugin that cannot start is an error here
    /// (a configuration mistake the user should see at startup).
    pub fn instantiate(host: &PluginHost, compiled: &[CompiledPlugin]) -> Result<PluginSet, PluginError> {
        Ok(PluginSet { plugins: compiled.iter().map(|c| Plugin::new(host, c)).collect::<Result<_, _>>()? })
    }

    /// A set of already instantiated plugins.
    pub fn from_plugins(plugins: Vec<Plugin>) -> PluginSet {
        PluginSet { plugins }
    }

    /// Whether the set holds no plugin.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// The plugins.
    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    /// Counters of every plugin, in load order.
    pub fn stats(&self) -> Vec<PluginStats> {
        self.plugins.iter().map(Plugin::stats).collect()
    }

    /// An empty batch shaped for these plugins (reuse it with [`Batch::clear`]).
    pub fn batch(&self) -> Batch {
        let mut projections: Vec<Vec<Field>> = Vec::new();
        let mut of_plugin = Vec::new();
        for p in &self.plugins {
            let i = projections.iter().position(|f| *f == p.fields).unwrap_or_else(|| {
                projections.push(p.fields.clone());
                projections.len() - 1
            });
            of_plugin.push(i);
        }
        Batch { writers: projections.iter().map(|_| BatchWriter::default()).collect(), projections, of_plugin }
    }

    /// Enriches `batch` with every plugin.
    pub fn enrich(&mut self, batch: &Batch) -> Enriched {
        let mut out = Enriched::default();
        self.enrich_into(batch, &mut out);
        out
    }

    /// Enriches `batch` with every plugin into `out` (buffers reused).
    pub fn enrich_into(&mut self, batch: &Batch, out: &mut Enriched) {
        out.len = batch.len();
        out.results.resize_with(self.plugins.len(), Decoded::default);
        out.ok.resize(self.plugins.len(), false);
        for (i, p) in self.plugins.iter_mut().enumerate() {
            let writer = &batch.writers[batch.of_plugin[i]];
            out.ok[i] = p.run(writer);
            std::mem::swap(&mut out.results[i], &mut p.result);
        }
    }

    /// Convenience: parses `lines` with `schema` and enriches them; a line that does
    /// not parse is sent with every field `-`.
    pub fn enrich_lines(&mut self, schema: &Schema, lines: &[&[u8]]) -> Enriched {
        let mut parser = cflog_core::Parser::with_schema(schema.clone());
        let mut buf = cflog_core::RecordBuf::new();
        let mut batch = self.batch();
        for line in lines {
            match parser.parse_line(line, &mut buf) {
                Ok(Some(r)) => batch.push(&r),
                _ => batch.push_empty(),
            }
        }
        self.enrich(&batch)
    }
}

/// Records to enrich, already projected onto the fields each plugin reads.
#[derive(Debug, Clone)]
pub struct Batch {
    projections: Vec<Vec<Field>>,
    writers: Vec<BatchWriter>,
    of_plugin: Vec<usize>,
}

impl Batch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.writers.first().map_or(0, BatchWriter::len)
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        for w in &mut self.writers {
            w.clear_with(|d, e| {
                d.clear();
                e.clear();
            });
        }
    }

    /// Adds a record (of any format: standard-log timestamps are sent in the real-time
    /// form, seconds with milliseconds). Its index is the previous [`len`](Self::len).
    pub fn push(&mut self, record: &Record<'_>) {
        for (fields, w) in self.projections.iter().zip(&mut self.writers) {
            w.push_record(record, fields);
        }
    }

    /// Adds a record with every field `-` (a line that did not parse).
    pub fn push_empty(&mut self) {
        for (fields, w) in self.projections.iter().zip(&mut self.writers) {
            w.push_absent(fields);
        }
    }
}

/// The tags, labels and drop decisions of a batch, per record, from every plugin that
/// succeeded.
#[derive(Debug, Default, Clone)]
pub struct Enriched {
    len: usize,
    results: Vec<Decoded>,
    ok: Vec<bool>,
}

impl Enriched {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether plugin `i` (load order) enriched this batch.
    pub fn plugin_ok(&self, i: usize) -> bool {
        self.ok.get(i).copied().unwrap_or(false)
    }

    fn records(&self, record: usize) -> impl Iterator<Item = abi::RecordView<'_>> {
        self.results.iter().zip(&self.ok).filter(|(_, ok)| **ok).filter_map(move |(r, _)| r.record(record))
    }

    /// The tags of record `record`, plugin by plugin, each in the order the rule added them.
    pub fn tags(&self, record: usize) -> impl Iterator<Item = (&str, &str)> {
        self.records(record).flat_map(|d| d.tags())
    }

    /// The numeric labels of record `record`.
    pub fn labels(&self, record: usize) -> impl Iterator<Item = (&str, f64)> {
        self.records(record).flat_map(|d| d.labels())
    }

    /// Whether any plugin asked to drop record `record`.
    pub fn dropped(&self, record: usize) -> bool {
        self.records(record).any(|d| d.drop)
    }
}
