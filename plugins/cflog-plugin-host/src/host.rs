//! The engine ([`PluginHost`]) and compiling modules into [`CompiledPlugin`]s: from bytes,
//! from a file, or through an on-disk cache of precompiled machine code for cold starts;
//! every module is refused if it imports anything.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::{Config, Engine, Module};

use crate::error::{PluginError, Reason};
use crate::limits::{Interrupt, Limits, Ticker};
use crate::FailureKind;

/// The engine and limits; compile modules with it. Cheap to share (`Clone`).
#[derive(Clone)]
pub struct PluginHost {
    pub(crate) engine: Engine,
    pub(crate) limits: Limits,
    _ticker: Option<Arc<Ticker>>,
}

impl fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginHost").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// A compiled plugin with its configuration, ready to instantiate on any thread.
#[derive(Clone)]
pub struct CompiledPlugin {
    pub(crate) name: String,
    pub(crate) module: Module,
    pub(crate) config: Arc<str>,
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

/// The name of a plugin file: its stem (`bots.wasm` → `bots`).
pub(crate) fn plugin_name(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// A module that wasmtime refused.
fn bad_module(name: &str, e: wasmtime::Error) -> PluginError {
    PluginError::new(name, FailureKind::BadModule, Reason::Wasmtime(format!("{e:#}")))
}

/// Reads a module file; a file that cannot be read is a bad module.
fn read_module(name: &str, path: &Path) -> Result<Vec<u8>, PluginError> {
    std::fs::read(path).map_err(|e| {
        PluginError::new(name, FailureKind::BadModule, Reason::Read { path: path.to_path_buf(), error: e.to_string() })
    })
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
        let engine = Engine::new(&config)
            .map_err(|e| PluginError::new("-", FailureKind::BadModule, Reason::Engine(format!("{e:#}"))))?;
        let ticker = (limits.interrupt == Interrupt::Deadline).then(|| Arc::new(Ticker::start(&engine)));
        Ok(PluginHost { engine, limits, _ticker: ticker })
    }

    /// Compiles a module from `.wasm` bytes or `.wat` text.
    pub fn compile(&self, name: &str, bytes: &[u8], config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        let module = Module::new(&self.engine, bytes).map_err(|e| bad_module(name, e))?;
        self.checked(name, module, config)
    }

    fn checked(&self, name: &str, module: Module, config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        if let Some(i) = module.imports().next() {
            let reason = Reason::Imports { module: i.module().to_string(), name: i.name().to_string() };
            return Err(PluginError::new(name, FailureKind::BadModule, reason));
        }
        Ok(CompiledPlugin { name: name.to_string(), module, config: config.unwrap_or_default().into() })
    }

    /// Compiles a `.wasm` or `.wat` file; the plugin is named after the file's stem.
    pub fn compile_file(&self, path: &Path, config: Option<String>) -> Result<CompiledPlugin, PluginError> {
        let name = plugin_name(path);
        let bytes = read_module(&name, path)?;
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
        let bytes = read_module(&name, path)?;
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
        let code = self.engine.precompile_module(&bytes).map_err(|e| bad_module(&name, e))?;
        // A cache that cannot be written only costs the next cold start.
        let _ = std::fs::create_dir_all(cache_dir).and_then(|_| {
            let tmp = cached.with_extension("tmp");
            std::fs::write(&tmp, &code)?;
            std::fs::rename(&tmp, &cached)
        });
        // SAFETY: `code` was produced just now by this engine.
        let module = unsafe { Module::deserialize(&self.engine, &code) }.map_err(|e| bad_module(&name, e))?;
        self.checked(&name, module, config)
    }
}
