//! What the sinks receive, built from an [`Aggregate`]: CloudWatch metric datums (counts
//! and bytes scaled to estimates of all traffic, windows CloudWatch would refuse counted in
//! `LateRecords`) and DynamoDB rollup items.

use std::ops::Range;

use cflog_core::suspicious::{ClientKind, SuspectThresholds, judge_window};

use crate::names::{limits, metric};
use crate::process::Aggregate;
use crate::sinks::{MetricDatum, Rollup, Unit};

/// `100 / sampling rate`: what one logged record stands for.
fn scale_of(sampling_rate: Option<u32>) -> f64 {
    sampling_rate.map_or(1.0, |r| 100.0 / f64::from(r.clamp(1, 100)))
}

/// Rollup items of an aggregate: one per (distribution, window).
pub fn rollups_of(agg: &Aggregate) -> Vec<Rollup> {
    let scale = scale_of(agg.sampling_rate);
    let mut out = Vec::new();
    for (dist, s) in &agg.per_distribution {
        for (start, w) in &s.windows {
            out.push(Rollup {
                distribution: dist.clone(),
                window_start_ms: *start,
                records: w.records,
                bytes_sent: w.bytes_sent,
                est_records: w.records as f64 * scale,
                est_bytes_sent: w.bytes_sent as f64 * scale,
                sampling_rate: agg.sampling_rate,
                status_class: w.status_class,
                cache_hits: w.cache_hits,
                cache_misses: w.cache_misses,
                time_taken_us_sum: w.time_taken.sum() as u64,
                time_taken_count: w.time_taken.count(),
                context: crate::context::counters(agg.context.get(&(dist.clone(), *start)), w),
            });
        }
    }
    out
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
    let scale = scale_of(agg.sampling_rate);
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
            let pairs = w.time_taken.to_values_counts(usize::MAX);
            if !pairs.is_empty() {
                out.push(MetricDatum {
                    name: metric::LATENCY,
                    dimensions: dims.to_vec(),
                    timestamp_ms: ts,
                    unit: Unit::Milliseconds,
                    values: pairs.iter().map(|p| p.0 / 1000.0).collect(),
                    counts: pairs.iter().map(|p| p.1).collect(),
                });
            }
        }
        if late > 0 {
            out.push(count_datum(metric::LATE_RECORDS, Unit::Count, &dims, now_ms, late as f64));
            late_total += late;
        }
    }
    for ((dist, name, value, ts), c) in &agg.dimensions {
        if !accepted_timestamp(*ts, now_ms) {
            continue;
        }
        let dims = [(metric::DIM_DISTRIBUTION, dist.clone()), (*name, value.clone())];
        out.push(count_datum(metric::REQUESTS, Unit::Count, &dims, *ts, c.records as f64 * scale));
        out.push(count_datum(metric::BYTES_DOWNLOADED, Unit::Bytes, &dims, *ts, c.bytes_sent as f64 * scale));
        out.extend(rate_datum(metric::ERROR_RATE_4XX, &dims, *ts, c.status_4xx, c.records));
        out.extend(rate_datum(metric::ERROR_RATE_5XX, &dims, *ts, c.status_5xx, c.records));
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
