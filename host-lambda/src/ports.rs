//! The ports: every trait the orchestrators ([`crate::handler`], [`crate::notify`]) talk
//! to, and the values that cross them. The handler's outputs (metrics, enriched records,
//! rollups and progress markers), its layout source and its clock; the notifier's rollup
//! reader and publisher; and the error every port returns. Adapters implement these: AWS
//! in [`crate::aws`], [`crate::cloudwatch`] and [`crate::notify_aws`], in memory in
//! [`crate::sinks::memory`] (tests, benchmark). No port names an AWS type.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use cflog_core::Schema;

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
/// [`MetricsSink::max_values`] value/count pairs (the handler splits with [`crate::cloudwatch::split_values`]).
pub trait MetricsSink: Send + Sync {
    /// One PutMetricData call (all or nothing).
    fn put(&self, datums: &[MetricDatum]) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Most value/count pairs one datum may carry. The default is PutMetricData's
    /// [`limits::METRIC_MAX_VALUES`].
    fn max_values(&self) -> usize {
        limits::METRIC_MAX_VALUES
    }
}

/// Delivers enriched records: one PutRecords-sized call; the answer has one entry per
/// record, `None` when delivered, `Some(reason)` when that record failed.
pub trait RecordSink: Send + Sync {
    /// One PutRecords call.
    fn put(&self, records: &[OutRecord<'_>]) -> impl Future<Output = Result<Vec<Option<String>>, SinkError>> + Send;
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

/// A layout and its sampling rate, as the real-time log config gives them.
pub type Layout = (Schema, Option<u32>);

/// A boxed future of a [`LayoutSource`] fetch.
pub type LayoutFuture<'a> = Pin<Box<dyn Future<Output = Result<Layout, SinkError>> + Send + 'a>>;

/// Fetches the current layout (the real-time log config) when records stop matching.
pub trait LayoutSource: Send + Sync {
    /// The config's schema and sampling rate.
    fn fetch(&self) -> LayoutFuture<'_>;
}

/// The wall clock the handler stamps and judges metric windows by (CloudWatch refuses
/// datums too old or too far ahead of *its* now). The default is [`SystemClock`].
pub trait Clock: Send + Sync {
    /// Now, epoch milliseconds.
    fn now_ms(&self) -> i64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// One rollup item read back by the notifier: its window and numeric attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowItem {
    /// Window start, epoch milliseconds.
    pub window_start_ms: i64,
    /// Every numeric attribute (counters and context).
    pub numbers: BTreeMap<String, u64>,
}

/// The notifier's input: reads the rollup items of `distribution` with window starts in
/// `from_ms..=to_ms`.
pub trait ContextStore: Send + Sync {
    /// All items of the range (every page).
    fn windows(&self, distribution: &str, from_ms: i64, to_ms: i64) -> impl Future<Output = Result<Vec<WindowItem>, SinkError>> + Send;
}

/// The notifier's output: publishes one message, `text` to e-mail and the default, `json`
/// to everything else.
pub trait Publisher: Send + Sync {
    /// One SNS publish.
    fn publish(&self, subject: &str, text: &str, json: &str) -> impl Future<Output = Result<(), SinkError>> + Send;
}
