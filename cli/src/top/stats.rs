//! One redraw's numbers, read from the merged window's JSON report (the same report
//! `analyze --json` prints, so keys are decoded and rounded the one way) plus the feed's
//! counts. Both views, terminal and plain, draw a [`Snapshot`].

use std::time::Instant;

use serde_json::Value;

use super::feed::{Feed, RecentError, Totals};
use super::window::wall_ms;

/// What one redraw shows.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Wall clock (epoch ms).
    pub now_ms: i64,
    /// The window: its start and end (the log clock), epoch ms, and width.
    pub start_ms: i64,
    /// The log clock.
    pub end_ms: i64,
    /// The window's width.
    pub span_ms: u64,
    /// Width of one bucket of [`Snapshot::series`].
    pub bucket_ms: u64,
    /// Records in the window.
    pub records: u64,
    /// Records per second over the window (from its first record on, when that is later).
    pub rate: f64,
    /// Records per second in the last whole bucket.
    pub rate_now: f64,
    /// Shares of 4xx and 5xx responses.
    pub error_4xx: Option<f64>,
    /// Share of 5xx responses.
    pub error_5xx: Option<f64>,
    /// Cache hit ratio (hits / (hits + misses)).
    pub hit_ratio: Option<f64>,
    /// `time-taken` percentiles in milliseconds: p50, p95, p99.
    pub latency_ms: [Option<f64>; 3],
    /// Bytes sent to viewers in the window.
    pub bytes_sent: u64,
    /// Distinct viewer addresses in the window (an estimate).
    pub viewers: u64,
    /// Records per bucket, oldest first, covering the window.
    pub series: Vec<u64>,
    /// Top URIs, clients and edge locations: (key, count).
    pub uris: Vec<(String, u64)>,
    /// Top client addresses.
    pub clients: Vec<(String, u64)>,
    /// Top edge locations.
    pub edges: Vec<(String, u64)>,
    /// Status codes 400 and above in the window, most frequent first.
    pub error_codes: Vec<(String, u64)>,
    /// The last error responses, newest last.
    pub recent_errors: Vec<RecentError>,
    /// Counts since the start.
    pub totals: Totals,
    /// Records that arrived older than the window.
    pub too_old: u64,
    /// The last bad line.
    pub last_bad: Option<String>,
}

fn top_list(report: &Value, name: &str) -> Vec<(String, u64)> {
    report
        .pointer(&format!("/top/{name}"))
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| Some((e.get("key")?.as_str()?.to_string(), e.get("count")?.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

impl Snapshot {
    /// The feed's window as of `now`, with `top_n` entries per list.
    pub fn take(feed: &mut Feed, now: Instant, top_n: usize) -> Snapshot {
        let tally = &mut feed.tally;
        let view = tally.window.view(now);
        let report = view.summary.report(top_n);
        let f = |path: &str| report.pointer(path).and_then(Value::as_f64);
        let u = |path: &str| report.pointer(path).and_then(Value::as_u64).unwrap_or(0);
        let width = view.bucket_ms as i64;
        let first_bucket = view.start_ms - view.start_ms.rem_euclid(width);
        let buckets = ((view.end_ms - first_bucket) / width + 1).max(1) as usize;
        let mut series = vec![0u64; buckets];
        for (start, w) in &view.summary.windows {
            let i = (start - first_bucket) / width;
            if (0..buckets as i64).contains(&i) {
                series[i as usize] += w.records;
            }
        }
        // The bucket before the one the clock is in: the last whole one.
        let rate_now = series.len().checked_sub(2).map_or(0.0, |i| series[i] as f64 * 1000.0 / view.bucket_ms as f64);
        let mut error_codes: Vec<(String, u64)> = report
            .get("status")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(code, _)| code.parse::<u16>().is_ok_and(|c| c >= 400))
                    .filter_map(|(code, n)| Some((code.clone(), n.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default();
        error_codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Snapshot {
            now_ms: wall_ms(),
            start_ms: view.start_ms,
            end_ms: view.end_ms,
            span_ms: tally.window.span_ms(),
            bucket_ms: view.bucket_ms,
            records: view.summary.records,
            rate: view.summary.records as f64 / view.covered_s,
            rate_now,
            error_4xx: f("/error_rate/4xx"),
            error_5xx: f("/error_rate/5xx"),
            hit_ratio: f("/cache_hit_ratio"),
            latency_ms: [f("/latency_ms/time_taken/p50"), f("/latency_ms/time_taken/p95"), f("/latency_ms/time_taken/p99")],
            bytes_sent: u("/bytes_sent"),
            viewers: u("/unique_viewers"),
            series,
            uris: top_list(&report, "uri"),
            clients: top_list(&report, "client_ip"),
            edges: top_list(&report, "edge_location"),
            error_codes,
            recent_errors: tally.recent_errors.iter().cloned().collect(),
            totals: tally.totals,
            too_old: tally.window.too_old,
            last_bad: tally.last_bad.clone(),
        }
    }
}
