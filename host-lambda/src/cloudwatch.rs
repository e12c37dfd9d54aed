//! The CloudWatch side of the handler: the metric datums an aggregate publishes (every
//! metric and dimension name, from [`crate::names::metric`], is given here), how they are
//! cut to the API's limits, and the sinks that send them: `PutMetricData`
//! ([`CloudWatchSink`]) or the embedded metric format on stdout ([`EmfSink`]).
//!
//! Counts and bytes are estimates of all traffic (scaled by 100 / sampling rate); rates and
//! latency are not scaled. Windows CloudWatch would refuse are counted in `LateRecords`.

use std::io::Write as _;
use std::ops::Range;

use aws_sdk_cloudwatch::types::{Dimension as CwDimension, MetricDatum as CwDatum, StandardUnit};
use cflog_core::agg::LatencySketch;
use cflog_core::suspicious::{ClientKind, SuspectThresholds, judge_window};

use crate::aggregate::{Aggregate, DimValue, Dimension};
use crate::aws::classify;
use crate::names::{limits, metric};
use crate::ports::{MetricDatum, MetricsSink, Retry, SinkError, Unit};

/// The CloudWatch dimension name of an extra dimension.
pub fn dimension_name(d: Dimension) -> &'static str {
    match d {
        Dimension::EdgeLocation => metric::DIM_EDGE_LOCATION,
        Dimension::Country => metric::DIM_COUNTRY,
        Dimension::CacheBehavior => metric::DIM_CACHE_BEHAVIOR,
    }
}

/// The CloudWatch dimension value of an extra dimension's value.
pub fn dimension_value(v: &DimValue) -> String {
    match v {
        DimValue::Value(s) => s.clone(),
        DimValue::Other => metric::OTHER.to_string(),
    }
}

fn rate_datum(name: &'static str, dims: &[(&'static str, String)], ts: i64, hits: u64, total: u64) -> Option<MetricDatum> {
    if total == 0 {
        return None;
    }
    let mut values = Vec::new();
    let mut counts = Vec::new();
    for (v, c) in [(100.0, hits), (0.0, total - hits)] {
        if c > 0 {
            values.push(v);
            counts.push(c as f64);
        }
    }
    Some(MetricDatum { name, dimensions: dims.to_vec(), timestamp_ms: ts, unit: Unit::Percent, values, counts })
}

fn count_datum(name: &'static str, unit: Unit, dims: &[(&'static str, String)], ts: i64, n: f64) -> MetricDatum {
    MetricDatum { name, dimensions: dims.to_vec(), timestamp_ms: ts, unit, values: vec![n], counts: vec![1.0] }
}

/// time-taken in milliseconds as Values/Counts, every bucket of the sketch (split to a
/// sink's limit by [`split_values`]); `None` without a time-taken.
fn latency_datum(sketch: &LatencySketch, dims: &[(&'static str, String)], ts: i64) -> Option<MetricDatum> {
    let pairs = sketch.to_values_counts(usize::MAX);
    (!pairs.is_empty()).then(|| MetricDatum {
        name: metric::LATENCY,
        dimensions: dims.to_vec(),
        timestamp_ms: ts,
        unit: Unit::Milliseconds,
        values: pairs.iter().map(|p| p.0 / 1000.0).collect(),
        counts: pairs.iter().map(|p| p.1).collect(),
    })
}

/// What [`metrics_of`] gives.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// The datums, latency with every sketch bucket (see [`split_values`]).
    pub datums: Vec<MetricDatum>,
    /// Logged records in windows CloudWatch would refuse, left out of `datums` except
    /// for the `LateRecords` count.
    pub late_records: u64,
}

/// Whether CloudWatch accepts a datum stamped `ts` at `now_ms`.
pub fn accepted_timestamp(ts: i64, now_ms: i64) -> bool {
    ts >= now_ms - limits::METRIC_MAX_AGE_MS && ts <= now_ms + limits::METRIC_MAX_AHEAD_MS
}

/// The metric datums of an aggregate (see [`crate::names::metric`]). Counts and bytes are
/// estimates of all traffic (scaled by 100 / sampling rate); rates and latency are not
/// scaled. Windows CloudWatch would refuse at `now_ms` are counted in `LateRecords`
/// instead, which, like `ParseErrors` and `TaggedRecords`, is stamped `now_ms`.
pub fn metrics_of(agg: &Aggregate, now_ms: i64) -> Metrics {
    metrics_with(agg, now_ms, &SuspectThresholds::default())
}

/// [`metrics_of`] with these suspicious-client thresholds.
pub fn metrics_with(agg: &Aggregate, now_ms: i64, thresholds: &SuspectThresholds) -> Metrics {
    let thresholds = *thresholds;
    let scale = agg.scale();
    let mut out = Vec::new();
    let mut late_total = 0;
    for (dist, s) in &agg.per_distribution {
        let dims = [(metric::DIM_DISTRIBUTION, dist.clone())];
        let mut late = 0;
        for (&ts, w) in &s.windows {
            if !accepted_timestamp(ts, now_ms) {
                late += w.records;
                continue;
            }
            out.push(count_datum(metric::REQUESTS, Unit::Count, &dims, ts, w.records as f64 * scale));
            // Judged on this batch's part of the window (see names::metric::SUSPICIOUS_CLIENTS).
            let mut suspects = Vec::new();
            let tables = [(ClientKind::Ip, &w.clients.ip), (ClientKind::Asn, &w.clients.asn)];
            judge_window(&thresholds, ts, s.window_ms(), tables, &mut suspects);
            out.push(count_datum(metric::SUSPICIOUS_CLIENTS, Unit::Count, &dims, ts, suspects.len() as f64));
            out.push(count_datum(metric::BYTES_DOWNLOADED, Unit::Bytes, &dims, ts, w.bytes_sent as f64 * scale));
            out.extend(rate_datum(metric::ERROR_RATE_4XX, &dims, ts, w.status_class[4], w.records));
            out.extend(rate_datum(metric::ERROR_RATE_5XX, &dims, ts, w.status_class[5], w.records));
            out.extend(rate_datum(metric::CACHE_MISS_RATE, &dims, ts, w.cache_misses, w.cache_hits + w.cache_misses));
            out.extend(latency_datum(&w.time_taken, &dims, ts));
        }
        if late > 0 {
            out.push(count_datum(metric::LATE_RECORDS, Unit::Count, &dims, now_ms, late as f64));
            late_total += late;
        }
    }
    for (k, c) in &agg.dimensions {
        let ts = k.window_start_ms;
        if !accepted_timestamp(ts, now_ms) {
            continue;
        }
        let dims = [(metric::DIM_DISTRIBUTION, k.distribution.clone()), (dimension_name(k.dimension), dimension_value(&k.value))];
        out.push(count_datum(metric::REQUESTS, Unit::Count, &dims, ts, c.records as f64 * scale));
        if k.dimension == Dimension::CacheBehavior {
            // Requests, 5xx rate and latency only: three metrics per pattern (see
            // deploy/README.md for what they cost).
            out.extend(rate_datum(metric::ERROR_RATE_5XX, &dims, ts, c.status_5xx, c.records));
            if let Some(datum) = c.time_taken.as_ref().and_then(|s| latency_datum(s, &dims, ts)) {
                out.push(datum);
            }
            continue;
        }
        out.push(count_datum(metric::BYTES_DOWNLOADED, Unit::Bytes, &dims, ts, c.bytes_sent as f64 * scale));
        out.extend(rate_datum(metric::ERROR_RATE_4XX, &dims, ts, c.status_4xx, c.records));
        out.extend(rate_datum(metric::ERROR_RATE_5XX, &dims, ts, c.status_5xx, c.records));
    }
    for (dist, s) in &agg.per_distribution {
        for (key, counter) in &s.tags {
            let other = (counter.other() > 0).then_some((metric::OTHER.as_bytes(), counter.other()));
            for (value, n) in counter.iter().chain(other) {
                let dims = [
                    (metric::DIM_DISTRIBUTION, dist.clone()),
                    (metric::DIM_TAG_KEY, key.clone()),
                    (metric::DIM_TAG_VALUE, String::from_utf8_lossy(value).into_owned()),
                ];
                out.push(count_datum(metric::TAGGED_RECORDS, Unit::Count, &dims, now_ms, n as f64 * scale));
            }
        }
    }
    if agg.source_records > 0 {
        out.push(count_datum(metric::PARSE_ERRORS, Unit::Count, &[], now_ms, agg.bad_lines as f64));
    }
    Metrics { datums: out, late_records: late_total }
}

/// Splits datums into calls within the PutMetricData limits.
pub fn chunk_datums(datums: &[MetricDatum]) -> Vec<Range<usize>> {
    crate::sinks::chunks_within(datums, limits::PUT_METRIC_DATA_MAX_DATUMS, limits::PUT_METRIC_DATA_MAX_BYTES, MetricDatum::approx_bytes)
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

/// CloudWatch `PutMetricData`.
#[derive(Debug, Clone)]
pub struct CloudWatchSink {
    /// The client.
    pub client: aws_sdk_cloudwatch::Client,
    /// Namespace. The default is [`crate::names::metric::DEFAULT_NAMESPACE`].
    pub namespace: String,
}

fn cw_unit(u: Unit) -> StandardUnit {
    match u {
        Unit::Count => StandardUnit::Count,
        Unit::Bytes => StandardUnit::Bytes,
        Unit::Percent => StandardUnit::Percent,
        Unit::Milliseconds => StandardUnit::Milliseconds,
    }
}

impl MetricsSink for CloudWatchSink {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        let data: Vec<CwDatum> = datums
            .iter()
            .map(|d| {
                let mut b = CwDatum::builder()
                    .metric_name(d.name)
                    .unit(cw_unit(d.unit))
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(d.timestamp_ms));
                for (n, v) in &d.dimensions {
                    b = b.dimensions(CwDimension::builder().name(*n).value(v).build());
                }
                if d.values.len() == 1 && d.counts[0] == 1.0 {
                    b = b.value(d.values[0]);
                } else {
                    b = b.set_values(Some(d.values.clone())).set_counts(Some(d.counts.clone()));
                }
                b.build()
            })
            .collect();
        self.client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

/// Embedded metric format: one JSON document per datum on stdout, which Lambda ships to
/// CloudWatch Logs and CloudWatch turns into metrics (no API calls, no IAM action).
#[derive(Debug, Clone)]
pub struct EmfSink {
    /// Namespace.
    pub namespace: String,
}

impl EmfSink {
    /// The EMF document of one datum.
    pub fn document(&self, d: &MetricDatum) -> serde_json::Value {
        let dims: Vec<&str> = d.dimensions.iter().map(|(n, _)| *n).collect();
        let mut doc = serde_json::json!({
            "_aws": {
                "Timestamp": d.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dims],
                    "Metrics": [{ "Name": d.name, "Unit": d.unit.as_str() }],
                }],
            },
        });
        for (n, v) in &d.dimensions {
            doc[*n] = serde_json::json!(v);
        }
        let count: f64 = d.counts.iter().sum();
        let sum: f64 = d.values.iter().zip(&d.counts).map(|(v, c)| v * c).sum();
        doc[d.name] = if d.values.len() == 1 && d.counts[0] == 1.0 {
            serde_json::json!(d.values[0])
        } else {
            serde_json::json!({
                "Values": d.values, "Counts": d.counts,
                "Min": d.values.iter().copied().fold(f64::INFINITY, f64::min),
                "Max": d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "Count": count, "Sum": sum,
            })
        };
        doc
    }
}

impl MetricsSink for EmfSink {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        let mut out = Vec::new();
        for d in datums {
            // The handler splits datums to max_values(); a longer one would make
            // CloudWatch drop the whole document, silently.
            if d.values.len() > limits::EMF_MAX_VALUES || d.values.len() != d.counts.len() {
                return Err(SinkError::permanent(format!(
                    "EMF: {} has {} values and {} counts (at most {} of each, as many counts as values)",
                    d.name,
                    d.values.len(),
                    d.counts.len(),
                    limits::EMF_MAX_VALUES
                )));
            }
            serde_json::to_writer(&mut out, &self.document(d)).map_err(|e| SinkError::from_err(Retry::Permanent, e))?;
            out.push(b'\n');
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&out).and_then(|()| stdout.flush()).map_err(|e| SinkError::from_err(Retry::Transient, e))
    }

    fn max_values(&self) -> usize {
        limits::EMF_MAX_VALUES
    }
}

/// CloudWatch or EMF, chosen at cold start.
#[derive(Debug, Clone)]
pub enum AnyMetrics {
    /// PutMetricData.
    CloudWatch(CloudWatchSink),
    /// stdout.
    Emf(EmfSink),
}

impl MetricsSink for AnyMetrics {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        match self {
            AnyMetrics::CloudWatch(s) => s.put(datums).await,
            AnyMetrics::Emf(s) => s.put(datums).await,
        }
    }

    fn max_values(&self) -> usize {
        match self {
            AnyMetrics::CloudWatch(s) => s.max_values(),
            AnyMetrics::Emf(s) => s.max_values(),
        }
    }
}


#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cflog_core::Schema;
    use cflog_core::summary::SummaryOptions;

    use super::*;
    use crate::process::{ExtraDimensions, InRecord, Processor};

    /// (pattern, status, time-taken in seconds) of one request.
    const REQUESTS: &[(&str, u16, &str)] = &[
        ("/api/*", 200, "0.120"),
        ("/api/*", 503, "1.500"),
        ("/api/*", 200, "0.080"),
        ("/api/*", 500, "2.000"),
        ("/api/*", 200, "0.100"),
        ("/images/*", 200, "0.010"),
        ("/images/*", 200, "0.012"),
        ("/images/*", 404, "0.005"),
        ("/old/*", 502, "0.300"),
        ("*", 200, "0.050"),
    ];

    /// Two busy behaviors and two beyond a cap of 2: each busy one gets its own requests,
    /// 5xx rate and latency, the other two are `Other`; nothing else is published per
    /// behavior. Expected values are counted from the request table above.
    #[test]
    fn two_behaviors_and_the_rest_as_other() {
        let base_s = 1_793_491_200; // 2026-11-01T00:00:00Z, one window.
        // A field set: the columns come in the real-time log's canonical order.
        let schema = Schema::from_field_names(&["timestamp", "sc-status", "time-taken", "x-host-header", "cache-behavior-path-pattern"]).unwrap();
        let records: Vec<InRecord> = REQUESTS
            .iter()
            .enumerate()
            .map(|(i, (pattern, status, tt))| {
                let value = |name: &str| match name {
                    "timestamp" => format!("{base_s}.{i:03}"),
                    "sc-status" => status.to_string(),
                    "time-taken" => tt.to_string(),
                    "x-host-header" => "d1.cloudfront.net".to_string(),
                    _ => pattern.to_string(),
                };
                let line: Vec<String> = schema.names().map(value).collect();
                InRecord { seq: i.to_string(), data: Ok(format!("{}\n", line.join("\t")).into_bytes()) }
            })
            .collect();
        let options = SummaryOptions { fixed_windows: true, ..SummaryOptions::default() };
        let dims = ExtraDimensions { behaviors: 2, ..ExtraDimensions::default() };
        let agg = Processor::new(schema, options, dims).run("s", &records, None, false, &mut Vec::new());
        let datums = metrics_of(&agg, base_s * 1000 + 60_000).datums;

        // The oracle: per pattern (requests, 5xx), the two busiest kept, the rest Other.
        let mut per: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for (pattern, status, _) in REQUESTS {
            let e = per.entry(pattern).or_default();
            e.0 += 1;
            e.1 += u64::from(status / 100 == 5);
        }
        let mut ranked: Vec<(&str, (u64, u64))> = per.into_iter().collect();
        ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        let mut expected: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (i, (pattern, counts)) in ranked.into_iter().enumerate() {
            let key = if i < 2 { pattern.to_string() } else { "Other".to_string() };
            let e = expected.entry(key).or_default();
            e.0 += counts.0;
            e.1 += counts.1;
        }
        assert_eq!(expected.len(), 3);

        let of = |name: &str, behavior: &str| -> Vec<&MetricDatum> {
            datums
                .iter()
                .filter(|d| d.name == name && d.dimensions.iter().any(|(n, v)| *n == "CacheBehavior" && v == behavior))
                .collect()
        };
        for (behavior, (requests, n5xx)) in &expected {
            let r = of("Requests", behavior);
            assert_eq!(r.len(), 1, "{behavior}");
            assert_eq!(r[0].values, [*requests as f64], "{behavior}");
            assert_eq!(r[0].dimensions[0], ("Distribution", "d1.cloudfront.net".to_string()));
            let rate = of("5xxErrorRate", behavior);
            let weighted_5xx: f64 = rate[0].values.iter().zip(&rate[0].counts).map(|(v, c)| v * c / 100.0).sum();
            let base: f64 = rate[0].counts.iter().sum();
            assert_eq!((weighted_5xx, base), (*n5xx as f64, *requests as f64), "{behavior}");
            let latency = of("Latency", behavior);
            assert_eq!(latency[0].counts.iter().sum::<f64>(), *requests as f64, "{behavior}");
            assert!(of("BytesDownloaded", behavior).is_empty() && of("4xxErrorRate", behavior).is_empty(), "three metrics per behavior");
        }
        // The slowest /api/* request (2 s) bounds its latency values (1 % sketch accuracy).
        let api_max = of("Latency", "/api/*")[0].values.iter().copied().fold(0.0, f64::max);
        assert!((api_max - 2000.0).abs() <= 20.0, "{api_max}");
        let behavior_datums = datums.iter().filter(|d| d.dimensions.iter().any(|(n, _)| *n == "CacheBehavior")).count();
        assert_eq!(behavior_datums, 3 * 3);
    }
}
