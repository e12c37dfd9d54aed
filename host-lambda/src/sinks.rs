//! The handler's outputs as narrow async traits, the retry policy they share and
//! in-memory implementations (for unit tests and the benchmark). AWS implementations are
//! in [`crate::aws`].

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::names::limits;
use crate::process::OutRecord;

/// Whether retrying a failed sink call can help (vector's `RetryLogic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, a 5xx, a timeout or a connection failure: retried with backoff.
    Transient,
    /// Validation, access denied, a missing resource, a request that cannot be built:
    /// the same call fails the same way, so it is not retried.
    Permanent,
}

/// A sink call that failed as a whole, and whether a retry can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    /// Retry or not.
    pub retry: Retry,
    /// What failed, with the whole source chain.
    pub message: String,
}

impl SinkError {
    /// A failure a retry may fix.
    pub fn transient(message: impl Into<String>) -> Self {
        SinkError { retry: Retry::Transient, message: message.into() }
    }

    /// A failure no retry fixes.
    pub fn permanent(message: impl Into<String>) -> Self {
        SinkError { retry: Retry::Permanent, message: message.into() }
    }

    /// Whether this call may be retried.
    pub fn is_transient(&self) -> bool {
        self.retry == Retry::Transient
    }

    /// Any error with its whole source chain in the message, classified as `retry`.
    pub fn from_err<E: std::error::Error>(retry: Retry, e: E) -> Self {
        let mut message = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            message.push_str(": ");
            message.push_str(&s.to_string());
            src = s.source();
        }
        SinkError { retry, message }
    }
}

/// CloudWatch units used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Count.
    Count,
    /// Bytes.
    Bytes,
    /// Percent.
    Percent,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    /// The CloudWatch spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Bytes => "Bytes",
            Unit::Percent => "Percent",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric datum.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDatum {
    /// Metric name (one of [`crate::names::metric::ALL`]).
    pub name: &'static str,
    /// Dimensions as (name, value).
    pub dimensions: Vec<(&'static str, String)>,
    /// Timestamp, epoch milliseconds (the window start).
    pub timestamp_ms: i64,
    /// Unit.
    pub unit: Unit,
    /// Parallel arrays: each value was observed `count` times (≤ 150 pairs).
    pub values: Vec<f64>,
    /// Counts, one per value.
    pub counts: Vec<f64>,
}

impl MetricDatum {
    /// Rough size of the datum in a PutMetricData request (query protocol), to respect
    /// the request size limit.
    pub fn approx_bytes(&self) -> usize {
        120 + self.name.len()
            + self.dimensions.iter().map(|(n, v)| 80 + n.len() + v.len()).sum::<usize>()
            + self.values.len() * 70
    }
}

/// Publishes metrics: one call with at most [`limits::PUT_METRIC_DATA_MAX_DATUMS`] datums
/// and [`limits::PUT_METRIC_DATA_MAX_BYTES`], none with more than
/// [`MetricsSink::max_values`] value/count pairs (the handler splits with [`split_values`]).
pub trait MetricsSink: Send + Sync {
    /// One PutMetricData call (all or nothing).
    fn put(&self, datums: &[MetricDatum]) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Most value/count pairs one datum may carry. The default is PutMetricData's
    /// [`limits::METRIC_MAX_VALUES`].
    fn max_values(&self) -> usize {
        limits::METRIC_MAX_VALUES
    }
}

/// Splits every datum with more than `max_values` value/count pairs into several datums
/// of the same metric, dimensions and timestamp. CloudWatch aggregates values of one
/// metric and timestamp across datums and calls, so this keeps every bucket of the
/// latency sketch (and so its 1 % accuracy) where merging buckets would lose it.
pub fn split_values(datums: Vec<MetricDatum>, max_values: usize) -> Vec<MetricDatum> {
    let max_values = max_values.max(1);
    if datums.iter().all(|d| d.values.len() <= max_values) {
        return datums;
    }
    let mut out = Vec::with_capacity(datums.len());
    for d in datums {
        if d.values.len() <= max_values {
            out.push(d);
            continue;
        }
        for (values, counts) in d.values.chunks(max_values).zip(d.counts.chunks(max_values)) {
            out.push(MetricDatum { values: values.to_vec(), counts: counts.to_vec(), dimensions: d.dimensions.clone(), ..d });
        }
    }
    out
}

/// Delivers enriched records: one PutRecords-sized call; the answer has one entry per
/// record, `None` when delivered, `Some(reason)` when that record failed.
pub trait RecordSink: Send + Sync {
    /// One PutRecords call.
    fn put(&self, records: &[&OutRecord]) -> impl Future<Output = Result<Vec<Option<String>>, SinkError>> + Send;
}

/// Which sink a progress marker belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Progress {
    /// DynamoDB rollups.
    Rollups,
    /// CloudWatch metrics.
    Metrics,
    /// Enriched records on the output stream.
    Records,
}

impl Progress {
    /// Every sink, in the order markers are read.
    pub const ALL: [Progress; 3] = [Progress::Rollups, Progress::Metrics, Progress::Records];

    /// The name in marker keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::Rollups => "rollups",
            Progress::Metrics => "metrics",
            Progress::Records => "records",
        }
    }
}

/// The counters of one (distribution, window) rollup item, added atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollup {
    /// Distribution.
    pub distribution: String,
    /// Window start, epoch milliseconds.
    pub window_start_ms: i64,
    /// Records logged (what CloudFront sent, before scaling by the sampling rate).
    pub records: u64,
    /// Bytes sent, of the logged records.
    pub bytes_sent: u64,
    /// Estimated requests of all traffic: `records` × 100 / sampling rate.
    pub est_records: f64,
    /// Estimated bytes sent by all traffic: `bytes_sent` × 100 / sampling rate.
    pub est_bytes_sent: f64,
    /// The sampling rate of these records (1–100 %), when known.
    pub sampling_rate: Option<u32>,
    /// Status classes in `STATUS_CLASSES` order.
    pub status_class: [u64; 7],
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Sum of time-taken, µs.
    pub time_taken_us_sum: u64,
    /// Records with a time-taken.
    pub time_taken_count: u64,
    /// Alert-context counters added to the item (attribute name, amount): see
    /// [`crate::context`].
    pub context: Vec<(String, u64)>,
}

/// Result of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Written.
    Yes,
    /// A marker for this first sequence number already exists: another invocation
    /// applied a range starting here.
    Conflict,
}

/// Rollups and progress markers (DynamoDB).
///
/// A *marker* records that a sink applied a contiguous run of one batch's records: it is
/// keyed by the shard, the sink and the (padded) sequence number of the run's first
/// record, and holds the sequence number of its last. A batch Lambda re-delivers (whole,
/// or from a reported failure) starts at a record that begins a run, so a chain of
/// markers from the batch's first record tells each sink exactly which records it has
/// already applied. Unlike one checkpoint per shard, this holds when batches of one shard
/// run concurrently (`ParallelizationFactor` > 1) and their sequence numbers interleave.
pub trait StateStore: Send + Sync {
    /// The last sequence number of the run `which` applied starting at `first` (strongly
    /// consistent read), if any.
    fn marker(&self, shard: &str, which: Progress, first: &str) -> impl Future<Output = Result<Option<String>, SinkError>> + Send;
    /// In one transaction: ADD every rollup's counters, ADD `bad_lines` to the shard's
    /// counters, and create the rollup marker `first → last`, on condition it does not
    /// exist yet ([`Applied::Conflict`] otherwise, and nothing is written). At most
    /// [`limits::TRANSACT_MAX_ITEMS`]` - 2` rollups.
    fn apply_rollups(
        &self,
        shard: &str,
        rollups: &[Rollup],
        bad_lines: u64,
        first: &str,
        last: &str,
    ) -> impl Future<Output = Result<Applied, SinkError>> + Send;
    /// Creates the marker `first → last` of `which`, on condition it does not exist.
    fn mark(&self, shard: &str, which: Progress, first: &str, last: &str) -> impl Future<Output = Result<Applied, SinkError>> + Send;
}

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
pub fn record_chunks(records: &[OutRecord]) -> Vec<std::ops::Range<usize>> {
    chunks_within(records, limits::PUT_RECORDS_MAX_RECORDS, limits::PUT_RECORDS_MAX_BYTES, |r| r.data.len() + r.partition_key.len())
}

/// Delivers `records`, resending only the entries that failed, with backoff. Returns the
/// indexes (into `records`) that still failed after every attempt, with the last reason.
pub async fn deliver_records<S: RecordSink>(sink: &S, records: &[OutRecord], policy: &RetryPolicy) -> Vec<(usize, String)> {
    let mut failed_for_good = Vec::new();
    for chunk in record_chunks(records) {
        let mut pending: Vec<usize> = chunk.collect();
        let mut attempt = 1;
        loop {
            let batch: Vec<&OutRecord> = pending.iter().map(|&i| &records[i]).collect();
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
        pub records: Mutex<Vec<OutRecord>>,
    }

    impl RecordSink for MemoryRecords {
        async fn put(&self, records: &[&OutRecord]) -> Result<Vec<Option<String>>, SinkError> {
            let mut all = self.records.lock().unwrap();
            all.extend(records.iter().map(|r| (*r).clone()));
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
                e.bytes_sent += r.bytes_sent;
                e.est_records += r.est_records;
                e.est_bytes_sent += r.est_bytes_sent;
                e.sampling_rate = r.sampling_rate;
                for (a, b) in e.status_class.iter_mut().zip(r.status_class) {
                    *a += b;
                }
                e.cache_hits += r.cache_hits;
                e.cache_misses += r.cache_misses;
                e.time_taken_us_sum += r.time_taken_us_sum;
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
