//! The limits every plugin call runs under ([`Limits`]) and how a call that runs too long
//! is stopped ([`Interrupt`]): fuel, or an epoch deadline driven by a ticker thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cflog_plugin_abi as abi;
use wasmtime::Engine;

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
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Resource limits for every plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel or deadline.
    pub interrupt: Interrupt,
    /// Deadline for one batch, on top of the per-record share ([`Interrupt::Deadline`]).
    pub deadline_per_batch: Duration,
    /// Deadline added per record.
    pub deadline_per_record: Duration,
    /// Deadline for instantiation and `cflog_init`.
    pub deadline_init: Duration,
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
            deadline_per_batch: Duration::from_millis(50),
            deadline_per_record: Duration::from_micros(20),
            deadline_init: Duration::from_secs(1),
            fuel_per_batch: 1_000_000,
            fuel_per_record: 200_000,
            fuel_init: 100_000_000,
            memory_bytes: abi::MAX_MEMORY_BYTES,
            max_output_bytes: abi::MAX_OUTPUT_BYTES,
            max_consecutive_failures: abi::MAX_CONSECUTIVE_FAILURES,
        }
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("cflog-plugin-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
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
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks for a deadline, rounded up, plus one for the tick in progress.
pub(crate) fn ticks(d: Duration) -> u64 {
    (d.as_nanos() / EPOCH_TICK.as_nanos()) as u64 + 2
}
