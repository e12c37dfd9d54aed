//! What every sink shares beyond its port ([`crate::ports`]): the retry policy, cutting
//! items into calls within an API's limits, and the delivery of enriched records (only
//! failed entries resent, with backoff). Plus in-memory sinks for unit tests and the
//! benchmark. AWS sinks are in [`crate::aws`] and [`crate::cloudwatch`].

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::names::limits;
use crate::ports::{RecordSink, SinkError};
use crate::process::{OutBatch, OutRecord};

/// Attempts and backoff for every sink call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Base delay; attempt `n` sleeps a uniformly random time in `[0, base·2ⁿ]` (full jitter).
    pub base_delay: Duration,
    /// Cap of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(50), max_delay: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.max_delay);
        let ms = cap.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { fastrand::u64(0..=ms) })
    }

    /// Runs `f` until it succeeds, fails permanently or attempts run out; returns the
    /// last error.
    pub async fn run<T, F, Fut>(&self, what: &str, mut f: F) -> Result<T, SinkError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SinkError>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt >= self.max_attempts || !e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::warn!(sink = what, attempt, error = %e, "sink call failed; retrying");
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// Cuts `items` into consecutive ranges of at most `max_items` items and `max_bytes` bytes
/// (`size` of each item); an item larger than `max_bytes` gets a range of its own.
pub fn chunks_within<T>(items: &[T], max_items: usize, max_bytes: usize, size: impl Fn(&T) -> usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (i - start >= max_items || bytes + n > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(start..items.len());
    }
    out
}

/// Splits `records` into PutRecords calls within the limits.
pub fn record_chunks(records: &[OutRecord<'_>]) -> Vec<std::ops::Range<usize>> {
    chunks_within(records, limits::PUT_RECORDS_MAX_RECORDS, limits::PUT_RECORDS_MAX_BYTES, |r| r.data.len() + r.partition_key.len())
}

/// Delivers `records`, resending only the entries that failed, with backoff. Returns the
/// indexes (into `records`) that still failed after every attempt, with the last reason.
pub async fn deliver_records<S: RecordSink>(sink: &S, records: &[OutRecord<'_>], policy: &RetryPolicy) -> Vec<(usize, String)> {
    let mut failed_for_good = Vec::new();
    for chunk in record_chunks(records) {
        let mut pending: Vec<usize> = chunk.collect();
        let mut attempt = 1;
        loop {
            let batch: Vec<OutRecord<'_>> = pending.iter().map(|&i| records[i]).collect();
            let outcome = sink.put(&batch).await;
            let mut still: Vec<(usize, String)> = match outcome {
                Ok(per_item) => pending
                    .iter()
                    .zip(per_item.iter().map(Some).chain(std::iter::repeat(None)))
                    .filter_map(|(&i, r)| match r {
                        Some(None) => None,
                        Some(Some(reason)) => Some((i, reason.clone())),
                        None => Some((i, "no result for this entry".to_string())),
                    })
                    .collect(),
                Err(e) if !e.is_transient() => {
                    failed_for_good.extend(pending.iter().map(|&i| (i, e.message.clone())));
                    break;
                }
                Err(e) => pending.iter().map(|&i| (i, e.message.clone())).collect(),
            };
            if still.is_empty() {
                break;
            }
            if attempt >= policy.max_attempts {
                failed_for_good.append(&mut still);
                break;
            }
            tracing::warn!(sink = "records", attempt, failed = still.len(), of = pending.len(), first_error = %still[0].1, "retrying failed entries");
            tokio::time::sleep(policy.delay(attempt)).await;
            attempt += 1;
            pending = still.into_iter().map(|(i, _)| i).collect();
        }
    }
    failed_for_good
}

/// In-memory sinks: record what they receive; optionally fail on demand.
pub mod memory {
    use super::*;
    use std::collections::BTreeMap;

    use crate::ports::{Applied, MetricDatum, MetricsSink, Progress, Rollup, StateStore};

    /// Collects metric datums.
    #[derive(Debug, Default)]
    pub struct MemoryMetrics {
        /// Every datum received, in order.
        pub datums: Mutex<Vec<MetricDatum>>,
        /// Calls to fail before succeeding.
        pub fail_next: Mutex<u32>,
    }

    impl MetricsSink for MemoryMetrics {
        async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
            // Yield like a network call, so concurrent invocations interleave in tests.
            tokio::task::yield_now().await;
            {
                let mut f = self.fail_next.lock().unwrap();
                if *f > 0 {
                    *f -= 1;
                    return Err(SinkError::transient("injected failure"));
                }
            }
            self.datums.lock().unwrap().extend_from_slice(datums);
            Ok(())
        }
    }

    /// Collects records.
    #[derive(Debug, Default)]
    pub struct MemoryRecords {
        /// Every record delivered.
        pub records: Mutex<Delivered>,
    }

    /// What a [`MemoryRecords`] received: each record's data, source index and partition
    /// key, kept per call in buffers of the call's size (no allocation per record).
    #[derive(Debug, Default)]
    pub struct Delivered {
        calls: Vec<DeliveredCall>,
        len: usize,
    }

    #[derive(Debug, Default)]
    struct DeliveredCall {
        lines: OutBatch,
        keys: String,
        key_ends: Vec<usize>,
    }

    impl Delivered {
        /// Records received.
        pub fn len(&self) -> usize {
            self.len
        }

        /// Whether none was.
        pub fn is_empty(&self) -> bool {
            self.len == 0
        }

        /// Record `i` (in the order received) as it was delivered.
        pub fn get(&self, mut i: usize) -> Option<OutRecord<'_>> {
            for call in &self.calls {
                if i < call.lines.len() {
                    let line = call.lines.get(i)?;
                    let start = if i == 0 { 0 } else { call.key_ends[i - 1] };
                    return Some(OutRecord { source_index: line.source_index, partition_key: &call.keys[start..call.key_ends[i]], data: line.data });
                }
                i -= call.lines.len();
            }
            None
        }

        /// Every record in the order received.
        pub fn iter(&self) -> impl Iterator<Item = OutRecord<'_>> + '_ {
            (0..self.len).filter_map(|i| self.get(i))
        }
    }

    impl RecordSink for MemoryRecords {
        async fn put(&self, records: &[OutRecord<'_>]) -> Result<Vec<Option<String>>, SinkError> {
            let mut call = DeliveredCall::default();
            call.lines.push_exact(records.iter().map(|r| (r.source_index, r.data)));
            call.keys.reserve_exact(records.iter().map(|r| r.partition_key.len()).sum());
            call.key_ends.reserve_exact(records.len());
            for r in records {
                call.keys.push_str(r.partition_key);
                call.key_ends.push(call.keys.len());
            }
            let mut all = self.records.lock().unwrap();
            all.len += records.len();
            all.calls.push(call);
            Ok(vec![None; records.len()])
        }
    }

    /// Rollups and markers in maps, with the same conditional semantics as DynamoDB.
    #[derive(Debug, Default)]
    pub struct MemoryState {
        /// (distribution, window start) → summed rollup.
        pub rollups: Mutex<BTreeMap<(String, i64), Rollup>>,
        /// shard → bad lines.
        pub bad_lines: Mutex<BTreeMap<String, u64>>,
        /// (shard, sink, first) → last.
        pub markers: Mutex<BTreeMap<(String, Progress, String), String>>,
        /// Calls to fail (transiently) before succeeding, for every method.
        pub fail_next: Mutex<u32>,
    }

    impl MemoryState {
        /// Yields like a network call (so concurrent invocations interleave in tests),
        /// then fails if a failure is pending.
        async fn injected(&self) -> Result<(), SinkError> {
            tokio::task::yield_now().await;
            let mut f = self.fail_next.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(SinkError::transient("injected failure"));
            }
            Ok(())
        }

        /// Every rollup summed over windows: (records, bytes sent, estimated records).
        pub fn totals(&self) -> (u64, u64, f64) {
            let all = self.rollups.lock().unwrap();
            all.values().fold((0, 0, 0.0), |t, r| (t.0 + r.records, t.1 + r.bytes_sent, t.2 + r.est_records))
        }
    }

    impl StateStore for MemoryState {
        async fn marker(&self, shard: &str, which: Progress, first: &str) -> Result<Option<String>, SinkError> {
            self.injected().await?;
            Ok(self.markers.lock().unwrap().get(&(shard.to_string(), which, first.to_string())).cloned())
        }

        async fn apply_rollups(
            &self,
            shard: &str,
            rollups: &[Rollup],
            bad_lines: u64,
            first: &str,
            last: &str,
        ) -> Result<Applied, SinkError> {
            self.injected().await?;
            {
                let mut markers = self.markers.lock().unwrap();
                let key = (shard.to_string(), Progress::Rollups, first.to_string());
                if markers.contains_key(&key) {
                    return Ok(Applied::Conflict);
                }
                markers.insert(key, last.to_string());
            }
            *self.bad_lines.lock().unwrap().entry(shard.to_string()).or_default() += bad_lines;
            let mut all = self.rollups.lock().unwrap();
            for r in rollups {
                let e = all.entry((r.distribution.clone(), r.window_start_ms)).or_insert_with(|| Rollup {
                    distribution: r.distribution.clone(),
                    window_start_ms: r.window_start_ms,
                    ..Rollup::default()
                });
                e.records += r.records;
                e.bytes_sent = e.bytes_sent.saturating_add(r.bytes_sent);
                e.est_records += r.est_records;
                e.est_bytes_sent += r.est_bytes_sent;
                e.sampling_rate = r.sampling_rate;
                for (a, b) in e.status_class.iter_mut().zip(r.status_class) {
                    *a += b;
                }
                e.cache_hits += r.cache_hits;
                e.cache_misses += r.cache_misses;
                e.time_taken_us_sum = e.time_taken_us_sum.saturating_add(r.time_taken_us_sum);
                e.time_taken_count += r.time_taken_count;
                for (name, n) in &r.context {
                    match e.context.iter_mut().find(|(k, _)| k == name) {
                        Some((_, mine)) => *mine += n,
                        None => e.context.push((name.clone(), *n)),
                    }
                }
            }
            Ok(Applied::Yes)
        }

        async fn mark(&self, shard: &str, which: Progress, first: &str, last: &str) -> Result<Applied, SinkError> {
            self.injected().await?;
            let mut markers = self.markers.lock().unwrap();
            let key = (shard.to_string(), which, first.to_string());
            if markers.contains_key(&key) {
                return Ok(Applied::Conflict);
            }
            markers.insert(key, last.to_string());
            Ok(Applied::Yes)
        }
    }
}
