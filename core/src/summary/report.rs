//! The versioned JSON report of a [`Summary`] (documented in `docs/report.md`).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::dims::Keys;
use super::{STATUS_CLASSES, Summary, ratio, share};
use crate::agg::codec::{base64_decode, base64_encode};
use crate::agg::{CounterMap, LatencySketch, MergeError, Rank, TopK};
use crate::enrich::geo::edge_geo;

/// The report format's version; bumped on any incompatible change (see `docs/report.md`).
/// 2: windows coarsen instead of dropping records (`window`, no `windows_dropped`).
/// 3: a top-list entry's count bound is `overcount_max` (was `error`, read as HTTP errors).
/// 4: top-list entries carry `bytes` and `status_5xx` and rank by `options.top_by`;
/// windows carry `cache_hits` and `cache_misses`.
/// 5: `suspicious_clients` (per-window client tables judged by `crate::suspicious`) and
/// `options.client_capacity`.
pub const SCHEMA_VERSION: u64 = 5;

impl Summary {
    /// The versioned JSON report (documented in `docs/report.md`), with the `top_n` largest
    /// entries of each heavy-hitter list and the merge state. Deterministic: the same
    /// summary gives the same bytes on every platform.
    pub fn report(&self, top_n: usize) -> Value {
        self.report_ranked(top_n, Rank::Requests)
    }

    /// [`Summary::report`] with the top lists ranked by `rank` (`--top-by`).
    pub fn report_ranked(&self, top_n: usize, rank: Rank) -> Value {
        self.report_with(top_n, rank, &crate::suspicious::SuspectThresholds::default())
    }

    /// [`Summary::report_ranked`] with the suspicious-client table judged by `thresholds`.
    pub fn report_with(&self, top_n: usize, rank: Rank, thresholds: &crate::suspicious::SuspectThresholds) -> Value {
        let mut m = Map::new();
        m.insert("schema_version".into(), json!(SCHEMA_VERSION));
        m.insert("records".into(), json!(self.records));
        m.insert("bad_lines".into(), json!(self.bad_lines));
        m.insert("bytes_sent".into(), json!(self.bytes_sent));
        m.insert("bytes_received".into(), json!(self.bytes_received));
        m.insert("time".into(), json!({ "first_ms": self.first_ms, "last_ms": self.last_ms }));
        let scale = self.options.sampling_rate.map_or(1.0, |r| 100.0 / f64::from(r.clamp(1, 100)));
        m.insert(
            "sampling".into(),
            json!({
                "rate": self.options.sampling_rate,
                "scale": scale,
                "estimated_records": round_to(self.records as f64 * scale, 0),
                "estimated_bytes_sent": round_to(self.bytes_sent as f64 * scale, 0),
            }),
        );
        m.insert("status_class".into(), status_classes(&self.status_class));
        let total = self.records;
        m.insert(
            "error_rate".into(),
            json!({
                "4xx": ratio(self.status_class[4], total).map(|r| round_to(r, 6)),
                "5xx": ratio(self.status_class[5], total).map(|r| round_to(r, 6)),
            }),
        );
        // A windows-only summary has no whole-run aggregates: their keys are left out
        // rather than shown empty (`options.windows_only` says why).
        let whole_run = !self.options.windows_only;
        for (name, keys, counter) in self.breakdowns.all().into_iter().filter(|_| whole_run) {
            m.insert(name.into(), counter_json(counter, keys == Keys::Decoded));
        }
        m.insert("cache_hit_ratio".into(), json!(self.cache_hit_ratio().map(|r| round_to(r, 6))));
        m.insert("cache_hit_ratio_bytes".into(), json!(self.cache_hit_ratio_bytes().map(|r| round_to(r, 6))));
        m.insert(
            "cache".into(),
            json!({
                "hits": self.cache_hits, "misses": self.cache_misses,
                "hit_bytes": self.cache_hit_bytes, "miss_bytes": self.cache_miss_bytes,
            }),
        );
        if whole_run {
            m.insert(
                "latency_ms".into(),
                json!({
                    "time_taken": latency_json(&self.latency.time_taken),
                    "ttfb": latency_json(&self.latency.ttfb),
                    "origin_fbl": latency_json(&self.latency.origin_fbl),
                    "origin_lbl": latency_json(&self.latency.origin_lbl),
                }),
            );
            let mut top = Map::new();
            for (name, keys, t) in self.top.all() {
                top.insert(name.into(), top_json(keys, t, top_n, rank));
            }
            m.insert("top".into(), Value::Object(top));
            m.insert("unique_viewers".into(), json!(self.unique_viewers.estimate()));
        }
        let windows: Vec<Value> = self
            .windows
            .iter()
            .map(|(start, w)| {
                json!({
                    "start_ms": start,
                    "records": w.records,
                    "bytes_sent": w.bytes_sent,
                    "status_class": status_classes(&w.status_class),
                    "cache_hits": w.cache_hits,
                    "cache_misses": w.cache_misses,
                    "cache_hit_ratio": share(w.cache_hits, w.cache_misses).map(|r| round_to(r, 6)),
                    "latency_ms": { "time_taken": {
                        "p50": quantile_ms(&w.time_taken, 0.50),
                        "p95": quantile_ms(&w.time_taken, 0.95),
                        "p99": quantile_ms(&w.time_taken, 0.99),
                    }},
                })
            })
            .collect();
        m.insert("windows".into(), Value::Array(windows));
        m.insert(
            "window".into(),
            json!({ "ms": self.window_ms, "requested_ms": self.options.window_ms, "note": self.window_note() }),
        );
        let mut tags = Map::new();
        for (k, c) in &self.tags {
            tags.insert(k.clone(), counter_json(c, false));
        }
        m.insert("tags".into(), Value::Object(tags));
        m.insert("suspicious_clients".into(), crate::suspicious::report_json(self, thresholds, top_n.max(100)));
        let mut options = json!({
            "window_ms": self.options.window_ms,
            "top_capacity": self.options.top_capacity,
            "dimension_cap": self.options.dimension_cap,
            "max_windows": self.options.max_windows,
            "fixed_windows": self.options.fixed_windows,
            "client_capacity": self.options.client_capacity,
            "top_n": top_n,
            "top_by": rank.name(),
        });
        if !whole_run {
            options["windows_only"] = json!(true);
        }
        m.insert("options".into(), options);
        m.insert("state".into(), json!(base64_encode(&self.encode_state())));
        Value::Object(m)
    }

    /// What a report's top lists were ranked by (`options.top_by`; requests before schema 4).
    pub fn rank_of_report(report: &Value) -> Rank {
        report.pointer("/options/top_by").and_then(Value::as_str).and_then(Rank::from_name).unwrap_or_default()
    }

    /// Reads the summary back from a report's `state`, and the report's `top_n`.
    pub fn from_report(report: &Value) -> Result<(Summary, usize), MergeError> {
        let state = report.get("state").and_then(Value::as_str).ok_or(MergeError::Corrupt { what: "report has no state" })?;
        let top_n = report.pointer("/options/top_n").and_then(Value::as_u64).unwrap_or(10) as usize;
        Ok((Summary::decode_state(&base64_decode(state)?)?, top_n))
    }
}


/// Rounds to `digits` decimals so reports stay short and identical across platforms.
fn round_to(v: f64, digits: i32) -> f64 {
    let p = libm::pow(10.0, f64::from(digits));
    libm::round(v * p) / p
}

fn status_classes(counts: &[u64; 7]) -> Value {
    let mut m = Map::new();
    for (name, n) in STATUS_CLASSES.iter().zip(counts) {
        m.insert((*name).into(), json!(n));
    }
    Value::Object(m)
}

fn decoded(key: &[u8], decode: bool) -> String {
    if decode {
        crate::decode::decode_str(key, false).into_owned()
    } else {
        String::from_utf8_lossy(key).into_owned()
    }
}

fn counter_json(c: &CounterMap, decode: bool) -> Value {
    let mut m = Map::new();
    for (k, n) in c.iter() {
        m.insert(decoded(k, decode), json!(n));
    }
    if c.other() > 0 {
        m.insert("(other)".into(), json!(c.other()));
    }
    Value::Object(m)
}

fn quantile_ms(s: &LatencySketch, q: f64) -> Option<f64> {
    s.quantile(q).map(|us| round_to(us as f64 / 1000.0, 3))
}

fn latency_json(s: &LatencySketch) -> Value {
    json!({
        "count": s.count(),
        "p50": quantile_ms(s, 0.50),
        "p90": quantile_ms(s, 0.90),
        "p95": quantile_ms(s, 0.95),
        "p99": quantile_ms(s, 0.99),
        "min": s.min().map(|us| round_to(us as f64 / 1000.0, 3)),
        "max": s.max().map(|us| round_to(us as f64 / 1000.0, 3)),
        "mean": s.mean().map(|us| round_to(us / 1000.0, 3)),
    })
}

fn top_json(keys: Keys, t: &TopK, n: usize, rank: Rank) -> Value {
    let decode = keys == Keys::Decoded;
    let sums = t.sums_known();
    let entries: Vec<Value> = t
        .top_by(n, rank)
        .into_iter()
        .map(|e| {
            let key: Cow<'_, str> = Cow::Owned(decoded(e.key, decode));
            let mut m = Map::new();
            m.insert("key".into(), json!(key));
            m.insert("count".into(), json!(e.count));
            m.insert("overcount_max".into(), json!(e.error));
            m.insert("bytes".into(), if sums { json!(e.bytes) } else { Value::Null });
            m.insert("status_5xx".into(), if sums { json!(e.status_5xx) } else { Value::Null });
            if keys == Keys::EdgeLocation
                && let Some(a) = edge_geo(&key) {
                    m.insert("city".into(), json!(a.city));
                    m.insert("country".into(), json!(a.country));
                    m.insert("region".into(), json!(a.region.name()));
                }
            Value::Object(m)
        })
        .collect();
    Value::Array(entries)
}
