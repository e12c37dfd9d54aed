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
//!
//! Where things are: `limits` (limits and interrupts), `host` (engine,
//! compiling, the code cache), `spec` (naming plugins and their configuration), `plugin`
//! (one instance, the call sequence and the failure policy), `set` (the plugins of one
//! thread), `batch` (records in, verdicts out), `error` (what can go wrong).

mod batch;
mod error;
mod host;
mod limits;
mod plugin;
mod set;
mod spec;

pub use batch::{Batch, Enriched};
pub use cflog_plugin_abi::{ABI_VERSION, FailureKind};
pub use error::{PluginError, Reason};
pub use host::{CompiledPlugin, PluginHost};
pub use limits::{EPOCH_TICK, Interrupt, Limits};
pub use plugin::{Plugin, PluginStats};
pub use set::PluginSet;
pub use spec::PluginSpec;
