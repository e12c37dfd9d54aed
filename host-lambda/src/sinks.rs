//! The handler's outputs as narrow async traits, the retry policy they share and
//! in-memory implementations (for unit tests and the benchmark). AWS implementations are
//! in [`crate::aws`].

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use crate::names::limits;
use crate::process::OutRecord;

/// A sink call that failed as a whole (connection refused, throttled, 5xx, …).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

impl SinkError {
    /// Wraps any error, keeping its whole source chain in the message.
    pub fn from_err<E: std::error::Error>(e: E) -> Self {
        let mut msg = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        SinkError(msg)
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
/// and [`limits::PUT_METRIC_DATA_MAX_BYTES`].
pub trait MetricsSink: Send + Sync {
    /// One PutMetricData call (all or nothing).
    fn put(&self, datums: &[MetricDatum]) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Delivers enriched records: one PutRecords-sized call; the answer has one entry per
/// record, `None` when delivered, `Some(reason)` when that record failed.
pub trait RecordSink: Send + Sync {
    /// One PutRecords call.
    fn put(&self, records: &[&OutRecord]) -> impl Future<Output = Result<Vec<Option<String>>, SinkError>> + Send;
}

/// Per-shard progress of each sink: the last sequence number (padded to
/// [`limits::SEQUENCE_DIGITS`]) whose effect is durable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Rollups applied through this sequence number.
    pub rollup: Option<String>,
    /// Metrics published through this sequence number.
    pub metrics: Option<String>,
    /// Records delivered through this sequence number.
    pub records: Option<String>,
}

/// Which checkpoint attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// [`Checkpoint::metrics`].
    Metrics,
    /// [`Checkpoint::records`].
    Records,
}

/// The counters of one (distribution, window) rollup item, added atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    /// Distribution.
    pub distribution: String,
    /// Window start, epoch milliseconds.
    pub window_start_ms: i64,
    /// Records.
    pub records: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
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
}

/// Result of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Written, checkpoint advanced.
    Yes,
    /// The checkpoint was not what we read: someone else advanced it; re-read.
    Conflict,
}

/// Rollups and checkpoints (DynamoDB).
pub trait StateStore: Send + Sync {
    /// The shard's checkpoint (strongly consistent read).
    fn checkpoint(&self, shard: &str) -> impl Future<Output = Result<Checkpoint, SinkError>> + Send;
    /// In one transaction: ADD every rollup's counters, ADD `bad_lines` to the shard, and
    /// move the rollup checkpoint from `prev` to `last_seq`, on condition that it is
    /// still `prev`. At most [`limits::TRANSACT_MAX_ITEMS`]` - 1` rollups.
    fn apply_rollups(
        &self,
        shard: &str,
        rollups: &[Rollup],
        bad_lines: u64,
        prev: Option<&str>,
        last_seq: &str,
    ) -> impl Future<Output = Result<Applied, SinkError>> + Send;
    /// Moves another checkpoint from `prev` to `seq`, on condition it is still `prev`.
    fn advance(
        &self,
        shard: &str,
        which: Progress,
        prev: Option<&str>,
        seq: &str,
    ) -> impl Future<Output = Result<Applied, SinkError>> + Send;
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

    /// Runs `f` until it succeeds or attempts run out; returns the last error.
    pub async fn run<T, F, Fut>(&self, what: &str, mut f: F) -> Result<T, SinkError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SinkError>>,
    {
        let mut attempt = 1;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) if attempt >= self.max_attempts => return Err(e),
                Err(e) => {
                    tracing::warn!(sink = what, attempt, error = %e, "sink call failed; retrying");
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
}

/// Splits `records` into PutRecords calls within the limits.
pub fn record_chunks(records: &[OutRecord]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, r) in records.iter().enumerate() {
        let size = r.data.len() + r.partition_key.len();
        if i > start && (i - start >= limits::PUT_RECORDS_MAX_RECORDS || bytes + size > limits::PUT_RECORDS_MAX_BYTES) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < records.len() {
        out.push(start..records.len());
    }
    out
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
                Err(e) => pending.iter().map(|&i| (i, e.0.clone())).collect(),
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
            {
                let mut f = self.fail_next.lock().unwrap();
                if *f > 0 {
                    *f -= 1;
                    return Err(SinkError("injected failure".into()));
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

    /// Rollups and checkpoints in maps, with the same conditional semantics as DynamoDB.
    #[derive(Debug, Default)]
    pub struct MemoryState {
        /// (distribution, window start) → summed rollup.
        pub rollups: Mutex<BTreeMap<(String, i64), Rollup>>,
        /// shard → (checkpoint, bad lines).
        pub checkpoints: Mutex<BTreeMap<String, (Checkpoint, u64)>>,
    }

    impl StateStore for MemoryState {
        async fn checkpoint(&self, shard: &str) -> Result<Checkpoint, SinkError> {
            Ok(self.checkpoints.lock().unwrap().get(shard).map(|c| c.0.clone()).unwrap_or_default())
        }

        async fn apply_rollups(
            &self,
            shard: &str,
            rollups: &[Rollup],
            bad_lines: u64,
            prev: Option<&str>,
            last_seq: &str,
        ) -> Result<Applied, SinkError> {
            let mut cps = self.checkpoints.lock().unwrap();
            let cp = cps.entry(shard.to_string()).or_default();
            if cp.0.rollup.as_deref() != prev {
                return Ok(Applied::Conflict);
            }
            cp.0.rollup = Some(last_seq.to_string());
            cp.1 += bad_lines;
            let mut all = self.rollups.lock().unwrap();
            for r in rollups {
                let e = all.entry((r.distribution.clone(), r.window_start_ms)).or_insert_with(|| Rollup {
                    distribution: r.distribution.clone(),
                    window_start_ms: r.window_start_ms,
                    ..Rollup::default()
                });
                e.records += r.records;
                e.bytes_sent += r.bytes_sent;
                for (a, b) in e.status_class.iter_mut().zip(r.status_class) {
                    *a += b;
                }
                e.cache_hits += r.cache_hits;
                e.cache_misses += r.cache_misses;
                e.time_taken_us_sum += r.time_taken_us_sum;
                e.time_taken_count += r.time_taken_count;
            }
            Ok(Applied::Yes)
        }

        async fn advance(&self, shard: &str, which: Progress, prev: Option<&str>, seq: &str) -> Result<Applied, SinkError> {
            let mut cps = self.checkpoints.lock().unwrap();
            let cp = cps.entry(shard.to_string()).or_default();
            let slot = match which {
                Progress::Metrics => &mut cp.0.metrics,
                Progress::Records => &mut cp.0.records,
            };
            if slot.as_deref() != prev {
                return Ok(Applied::Conflict);
            }
            *slot = Some(seq.to_string());
            Ok(Applied::Yes)
        }
    }
}
