//! [`Rules`] over the wasmtime plugin host: what the CLI, the Lambda and the benchmarks
//! run. One instance set per thread.

use cflog_core::Record;
use cflog_plugin_host::{Batch, Enriched, PluginSet, PluginStats};

use crate::worker::Rules;

/// A thread's rule instances with a reusable batch and result.
#[derive(Debug)]
pub struct WasmRules {
    set: PluginSet,
    batch: Batch,
    enriched: Enriched,
}

impl WasmRules {
    /// Rules over these instances.
    pub fn new(set: PluginSet) -> WasmRules {
        let batch = set.batch();
        WasmRules { set, batch, enriched: Enriched::default() }
    }

    /// The instances (per-rule counters, load order).
    pub fn set(&self) -> &PluginSet {
        &self.set
    }

    /// Per-rule counters: calls, failures, disabled.
    pub fn stats(&self) -> Vec<PluginStats> {
        self.set.stats()
    }

    /// The last batch's answers (labels, for hosts that write them out).
    pub fn enriched(&self) -> &Enriched {
        &self.enriched
    }
}

impl Rules for WasmRules {
    fn clear(&mut self) {
        self.batch.clear();
    }

    fn push(&mut self, record: &Record<'_>) {
        self.batch.push(record);
    }

    fn run(&mut self) {
        self.set.enrich_into(&self.batch, &mut self.enriched);
    }

    fn dropped(&self, i: usize) -> bool {
        self.enriched.dropped(i)
    }

    fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
        self.enriched.for_each_tag(i, f);
    }

    fn labels(&self, i: usize, f: &mut dyn FnMut(&str, f64)) {
        for (k, v) in self.enriched.labels(i) {
            f(k, v);
        }
    }
}

/// Adds up the per-thread counters of each rule (same load order on every thread).
pub fn sum_stats(per_thread: impl IntoIterator<Item = Vec<PluginStats>>) -> Vec<PluginStats> {
    let mut total: Vec<PluginStats> = Vec::new();
    for stats in per_thread {
        if total.is_empty() {
            total = stats;
            continue;
        }
        for (t, s) in total.iter_mut().zip(stats) {
            t.batches += s.batches;
            t.records += s.records;
            t.failures += s.failures;
            t.records_skipped += s.records_skipped;
            t.restarts += s.restarts;
            t.disabled |= s.disabled;
            for (k, n) in s.failures_by_kind {
                *t.failures_by_kind.entry(k).or_default() += n;
            }
            if s.last_error.is_some() {
                t.last_error = s.last_error;
            }
        }
    }
    total
}
