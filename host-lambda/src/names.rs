//! Every name the processor shares with the outside world, defined once: environment
//! variables, CloudWatch metric and dimension names, DynamoDB attribute names, the IAM
//! actions the code calls and the AWS limits it respects. Templates, dashboards, alarms
//! and IAM policies are generated from (or checked against) these lists.

/// Environment variables the function reads, with a one-line description each.
pub mod env {
    /// `kinesis` (default), `firehose`, or `notify` (the alarm notifier, `crate::notify`).
    pub const MODE: &str = "CFLOG_MODE";
    /// Comma-separated real-time log field *set* (canonical order is applied).
    pub const FIELDS: &str = "CFLOG_FIELDS";
    /// Name or ARN of the real-time log config to read at cold start.
    pub const REALTIME_LOG_CONFIG: &str = "CFLOG_REALTIME_LOG_CONFIG";
    /// Sampling rate (1–100) overriding the config's.
    pub const SAMPLING_RATE: &str = "CFLOG_SAMPLING_RATE";
    /// Metrics output: `cloudwatch` (default), `emf` or `off`.
    pub const METRICS: &str = "CFLOG_METRICS";
    /// CloudWatch namespace. The default is `CloudFront/RealTime`.
    pub const NAMESPACE: &str = "CFLOG_NAMESPACE";
    /// Extra per-dimension metrics: comma-separated subset of `edge`, `country`.
    pub const METRIC_DIMENSIONS: &str = "CFLOG_METRIC_DIMENSIONS";
    /// Values kept per extra dimension per batch (the rest are `Other`). The default is 20.
    pub const DIMENSION_CAP: &str = "CFLOG_DIMENSION_CAP";
    /// Per-cache-behavior metrics (`Requests`, `5xxErrorRate`, `Latency` with dimensions
    /// Distribution, CacheBehavior): the busiest this many path patterns per distribution
    /// per batch, the rest `Other`. The default is 0: off.
    pub const BEHAVIOR_CAP: &str = "CFLOG_BEHAVIOR_CAP";
    /// DynamoDB table for rollups and progress markers; unset: rollups off.
    pub const TABLE: &str = "CFLOG_TABLE";
    /// Rollup TTL in days. The default is 7.
    pub const TTL_DAYS: &str = "CFLOG_TTL_DAYS";
    /// Rollup window in seconds. The default is 60.
    pub const WINDOW_SECONDS: &str = "CFLOG_WINDOW_SECONDS";
    /// Output Kinesis stream (name or ARN) for enriched records; unset: off.
    pub const OUTPUT_STREAM: &str = "CFLOG_OUTPUT_STREAM";
    /// `true`: lines that do not parse go to the output stream with their reason.
    pub const FORWARD_BAD_LINES: &str = "CFLOG_FORWARD_BAD_LINES";
    /// `true`: viewer addresses in enriched records are truncated to /24 (IPv4) or /48
    /// (IPv6). The default is `false`.
    pub const ANONYMIZE_IP: &str = "CFLOG_ANONYMIZE_IP";
    /// Attempts per sink call (first try included). The default is 5.
    pub const MAX_ATTEMPTS: &str = "CFLOG_MAX_ATTEMPTS";
    /// First backoff in milliseconds (doubled per attempt, full jitter). The default is 50.
    pub const BACKOFF_MS: &str = "CFLOG_BACKOFF_MS";
    /// Endpoint override for every AWS client (local testing, e.g. moto).
    pub const ENDPOINT_URL: &str = "CFLOG_ENDPOINT_URL";
    /// Log filter (tracing `EnvFilter` syntax). The default is `info`.
    pub const LOG: &str = "CFLOG_LOG";
    /// Enrichment rules: comma-separated `rule.wasm[:config.json]` paths or directories
    /// (their `*.wasm`/`*.wat` files, each with `NAME.json` as configuration). Unset: none.
    pub const PLUGINS: &str = "CFLOG_PLUGINS";
    /// Notifier: the SNS topic (ARN) the readable alarm messages go to.
    pub const NOTIFY_TOPIC: &str = "CFLOG_NOTIFY_TOPIC";
    /// Notifier: the dashboard's URL, linked from every message.
    pub const DASHBOARD_URL: &str = "CFLOG_DASHBOARD_URL";
    /// Suspicious-client thresholds, `flood=1200,floor=60,4xx=50,404=30,threat=5,asn=20`
    /// (any subset; the rest keep these defaults): the `SuspiciousClients` metric and the
    /// notifier's list (`cflog_core::suspicious`, the same as `cflog analyze --suspect-*`).
    pub const SUSPECT: &str = "CFLOG_SUSPECT";

    /// Every variable, for templates and docs.
    pub const ALL: &[&str] = &[
        MODE,
        FIELDS,
        REALTIME_LOG_CONFIG,
        SAMPLING_RATE,
        METRICS,
        NAMESPACE,
        METRIC_DIMENSIONS,
        DIMENSION_CAP,
        BEHAVIOR_CAP,
        TABLE,
        TTL_DAYS,
        WINDOW_SECONDS,
        OUTPUT_STREAM,
        FORWARD_BAD_LINES,
        ANONYMIZE_IP,
        MAX_ATTEMPTS,
        BACKOFF_MS,
        ENDPOINT_URL,
        LOG,
        PLUGINS,
        NOTIFY_TOPIC,
        DASHBOARD_URL,
        SUSPECT,
    ];
}

/// CloudWatch metric names, dimensions and units.
pub mod metric {
    /// The default namespace.
    pub const DEFAULT_NAMESPACE: &str = "CloudFront/RealTime";
    /// Requests (Count, Sum): an estimate of all traffic, the logged records scaled by
    /// 100 / sampling rate (the raw logged counts are the rollups' `records`).
    pub const REQUESTS: &str = "Requests";
    /// Bytes sent to viewers (Bytes, Sum), scaled like [`REQUESTS`].
    pub const BYTES_DOWNLOADED: &str = "BytesDownloaded";
    /// Percent of requests with a 4xx status: published as Values [100, 0] with Counts
    /// [4xx, other], so the `Average` statistic over any period is the true rate.
    pub const ERROR_RATE_4XX: &str = "4xxErrorRate";
    /// Percent of requests with a 5xx status (as [`ERROR_RATE_4XX`]).
    pub const ERROR_RATE_5XX: &str = "5xxErrorRate";
    /// Percent of cacheable requests that missed (as [`ERROR_RATE_4XX`]).
    pub const CACHE_MISS_RATE: &str = "CacheMissRate";
    /// time-taken in milliseconds as Values/Counts from the latency sketch; CloudWatch
    /// percentiles (p50, p95, p99) over it are true percentiles.
    pub const LATENCY: &str = "Latency";
    /// Lines that did not parse (Count, Sum; no dimensions).
    pub const PARSE_ERRORS: &str = "ParseErrors";
    /// Records an enrichment rule tagged `TagKey=TagValue` (Count, Sum; dimensions
    /// Distribution, TagKey, TagValue; stamped with the processing time, like ParseErrors).
    /// Each tag key keeps at most the summary's dimension cap of values; the rest are
    /// `Other`.
    /// Scaled like [`REQUESTS`].
    pub const TAGGED_RECORDS: &str = "TaggedRecords";
    /// Logged records whose window CloudWatch would refuse (older than two weeks or more
    /// than two hours ahead): kept in the rollups, left out of the other metrics (Count,
    /// Sum; dimension Distribution; stamped with the processing time; not scaled).
    pub const LATE_RECORDS: &str = "LateRecords";
    /// Clients (addresses and ASNs) over the suspicious-client thresholds ([`super::env::SUSPECT`])
    /// in one batch's part of a window (Count; dimension Distribution; stamped with the
    /// window start). Kinesis spreads a client's requests over shards and batches, so this
    /// is a lower bound: alarm on its Maximum, and read the notifier's list, which judges
    /// the window's accumulated counters.
    pub const SUSPICIOUS_CLIENTS: &str = "SuspiciousClients";

    /// Every metric name.
    pub const ALL: &[&str] = &[
        REQUESTS,
        BYTES_DOWNLOADED,
        ERROR_RATE_4XX,
        ERROR_RATE_5XX,
        CACHE_MISS_RATE,
        LATENCY,
        PARSE_ERRORS,
        TAGGED_RECORDS,
        LATE_RECORDS,
        SUSPICIOUS_CLIENTS,
    ];

    /// Dimension: the distribution (its domain, or ID when the layout has it).
    pub const DIM_DISTRIBUTION: &str = "Distribution";
    /// Optional dimension: edge location (e.g. `IAD89-C1`).
    pub const DIM_EDGE_LOCATION: &str = "EdgeLocation";
    /// Optional dimension: viewer country.
    pub const DIM_COUNTRY: &str = "Country";
    /// Optional dimension: the cache behavior's path pattern (`CFLOG_BEHAVIOR_CAP`).
    pub const DIM_CACHE_BEHAVIOR: &str = "CacheBehavior";
    /// Dimension of `TaggedRecords`: the tag key an enrichment rule set.
    pub const DIM_TAG_KEY: &str = "TagKey";
    /// Dimension of `TaggedRecords`: the tag's value.
    pub const DIM_TAG_VALUE: &str = "TagValue";
    /// Every dimension name.
    pub const DIMENSIONS: &[&str] = &[DIM_DISTRIBUTION, DIM_EDGE_LOCATION, DIM_COUNTRY, DIM_CACHE_BEHAVIOR, DIM_TAG_KEY, DIM_TAG_VALUE];
    /// The value standing for the records beyond the dimension cap.
    pub const OTHER: &str = "Other";
}

/// The distribution of a record that carries neither `distribution-id` nor
/// `x-host-header`: its `Distribution` dimension value and its rollup key.
pub const UNKNOWN_DISTRIBUTION: &str = "unknown";

/// DynamoDB item layout: key attributes, counter attributes and the TTL attribute.
pub mod table {
    /// Partition key (S).
    pub const PK: &str = "pk";
    /// Sort key (S).
    pub const SK: &str = "sk";
    /// Partition key prefix of a rollup item: `dist#<distribution>`.
    pub const ROLLUP_PK_PREFIX: &str = "dist#";
    /// Sort key of a rollup item: `window#<start as RFC 3339>`.
    pub const ROLLUP_SK_PREFIX: &str = "window#";
    /// Partition key prefix of a shard's counters: `shard#<event source ARN>#<shard id>`.
    pub const SHARD_PK_PREFIX: &str = "shard#";
    /// Sort key of a shard's counters.
    pub const SHARD_SK: &str = "counters";
    /// Shard counters: lines of this shard that did not parse.
    pub const BAD_LINES: &str = "bad_lines";
    /// Partition key prefix of a progress marker: `mark#<event source ARN>#<shard id>`;
    /// the sort key is `<sink>#<first sequence number, zero-padded>`.
    pub const MARKER_PK_PREFIX: &str = "mark#";
    /// Marker: the last sequence number (zero-padded) of the run the sink applied.
    pub const MARKER_LAST: &str = "last_seq";
    /// Markers expire this long after they are written: longer than the event source
    /// mapping's longest finite `MaximumRecordAgeInSeconds` (7 days), after which Lambda
    /// no longer retries a batch.
    pub const MARKER_TTL_SECONDS: i64 = 8 * 86_400;
    /// Rollup: the distribution (S).
    pub const DISTRIBUTION: &str = "distribution";
    /// Rollup: the sampling rate of the last records added (N, 1–100).
    pub const SAMPLING_RATE: &str = "sampling_rate";
    /// Rollup: window start, epoch milliseconds (N).
    pub const WINDOW_START_MS: &str = "window_start_ms";
    /// Rollup counters (N, `ADD`): records logged (before scaling by the sampling rate).
    pub const RECORDS: &str = "records";
    /// Rollup: bytes sent by the logged records.
    pub const BYTES_SENT: &str = "bytes_sent";
    /// Rollup: estimated requests of all traffic (`records` × 100 / sampling rate, added
    /// per batch at the rate of its records, so a rate change applies from the records
    /// that carry it).
    pub const EST_RECORDS: &str = "est_records";
    /// Rollup: estimated bytes sent by all traffic.
    pub const EST_BYTES_SENT: &str = "est_bytes_sent";
    /// Rollup: status classes, in `cflog_core::summary::STATUS_CLASSES` order.
    pub const STATUS_CLASS: [&str; 7] = ["s000", "s1xx", "s2xx", "s3xx", "s4xx", "s5xx", "s_other"];
    /// Rollup: cache hits.
    pub const CACHE_HITS: &str = "cache_hits";
    /// Rollup: cache misses.
    pub const CACHE_MISSES: &str = "cache_misses";
    /// Rollup: sum of time-taken in microseconds.
    pub const TIME_TAKEN_US_SUM: &str = "time_taken_us_sum";
    /// Rollup: records with a time-taken.
    pub const TIME_TAKEN_COUNT: &str = "time_taken_count";
    /// TTL attribute (epoch seconds); enable TTL on this attribute.
    pub const EXPIRES_AT: &str = "expires_at";
    /// Rollup: alert-context counters (N, `ADD`) are the attributes named
    /// `ctx|<list>|<key>` and `ctx|<ip|asn>|<key>|<counter>` (see `crate::context`).
    pub const CONTEXT_PREFIX: &str = "ctx|";
}

/// The IAM actions the code calls, by feature; the least-privilege policy is their union.
pub mod iam {
    /// Always (event source mapping: the function's execution role reads the stream).
    pub const SOURCE_STREAM: &[&str] = &[
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "kinesis:SubscribeToShard",
    ];
    /// `CFLOG_REALTIME_LOG_CONFIG` set.
    pub const LAYOUT: &[&str] = &["cloudfront:GetRealtimeLogConfig"];
    /// `CFLOG_METRICS=cloudwatch`.
    pub const METRICS: &[&str] = &["cloudwatch:PutMetricData"];
    /// `CFLOG_TABLE` set. `TransactWriteItems` is not an IAM action: a transaction is
    /// authorised per item, and the code's transactions hold `Update` items only.
    pub const TABLE: &[&str] = &["dynamodb:GetItem", "dynamodb:UpdateItem"];
    /// `CFLOG_OUTPUT_STREAM` set.
    pub const OUTPUT_STREAM: &[&str] = &["kinesis:PutRecords"];
    /// `CFLOG_NOTIFY_TOPIC` set (the notifier): read a window range of rollups, publish.
    pub const NOTIFY: &[&str] = &["dynamodb:Query", "sns:Publish"];
    /// Every action the function may call.
    pub const AWS_ACTIONS: &[&[&str]] = &[SOURCE_STREAM, LAYOUT, METRICS, TABLE, OUTPUT_STREAM, NOTIFY];
}

/// AWS service limits the sinks respect.
pub mod limits {
    /// PutMetricData: metrics (datums) per call.
    pub const PUT_METRIC_DATA_MAX_DATUMS: usize = 1_000;
    /// PutMetricData: request size (we budget well under the 1 MB limit).
    pub const PUT_METRIC_DATA_MAX_BYTES: usize = 1_000_000;
    /// PutMetricData: Values/Counts pairs per datum.
    pub const METRIC_MAX_VALUES: usize = 150;
    /// Embedded metric format: values per metric (a longer array drops the document).
    pub const EMF_MAX_VALUES: usize = 100;
    /// Embedded metric format: metrics per document (cflog writes one per document).
    pub const EMF_MAX_METRICS: usize = 100;
    /// CloudWatch refuses datums older than two weeks; cflog keeps an hour's margin.
    pub const METRIC_MAX_AGE_MS: i64 = 14 * 86_400_000 - 3_600_000;
    /// CloudWatch refuses datums more than two hours ahead; cflog keeps five minutes' margin.
    pub const METRIC_MAX_AHEAD_MS: i64 = 2 * 3_600_000 - 300_000;
    /// PutMetricData: dimensions per metric.
    pub const METRIC_MAX_DIMENSIONS: usize = 30;
    /// PutRecords: records per call.
    pub const PUT_RECORDS_MAX_RECORDS: usize = 500;
    /// PutRecords: bytes per call (data plus partition keys).
    pub const PUT_RECORDS_MAX_BYTES: usize = 5 * 1024 * 1024;
    /// PutRecords: bytes per record (data plus partition key).
    pub const PUT_RECORD_MAX_BYTES: usize = 1024 * 1024;
    /// TransactWriteItems: items per transaction.
    pub const TRANSACT_MAX_ITEMS: usize = 100;
    /// Kinesis sequence numbers are decimal strings of at most this many digits; padded to
    /// it they compare correctly as strings.
    pub const SEQUENCE_DIGITS: usize = 64;
}

/// Every externally visible name, as `(kind, name)` pairs.
pub fn all_names() -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    out.extend(env::ALL.iter().map(|n| ("env", *n)));
    out.extend(metric::ALL.iter().map(|n| ("metric", *n)));
    out.extend(metric::DIMENSIONS.iter().map(|n| ("dimension", *n)));
    out.extend(iam::AWS_ACTIONS.iter().flat_map(|a| a.iter()).map(|n| ("iam", *n)));
    out
}

/// The IAM actions the code calls, deduplicated and sorted.
pub fn aws_actions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = iam::AWS_ACTIONS.iter().flat_map(|a| a.iter().copied()).collect();
    v.sort_unstable();
    v.dedup();
    v
}
