//! The terminal dashboard: a KPI summary, per-window sparklines and side-by-side tables,
//! laid out for 100 columns, rendered from a report (so merged reports render the same).

use std::fmt::Write as _;

use serde_json::Value;

const WIDTH: usize = 100;
const HALF: usize = 49;
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path).and_then(Value::as_u64).unwrap_or(0)
}

fn f(v: &Value, path: &str) -> Option<f64> {
    v.pointer(path).and_then(Value::as_f64)
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in binary units.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[i]) }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |r| format!("{:.2}%", r * 100.0))
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x >= 10_000.0 => format!("{:.1}s", x / 1000.0),
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
    }
}

fn clip(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width { s.to_string() } else { s.chars().take(width.saturating_sub(1)).chain(['…']).collect() }
}

fn time_utc(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = cflog_core::grammar::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60)
}

fn sparkline(values: &[u64], width: usize) -> (String, u64) {
    if values.is_empty() {
        return (String::new(), 0);
    }
    let per = values.len().div_ceil(width);
    let buckets: Vec<u64> = values.chunks(per).map(|c| c.iter().sum()).collect();
    let max = buckets.iter().copied().max().unwrap_or(0);
    let line = buckets
        .iter()
        .map(|&v| if max == 0 || v == 0 { ' ' } else { SPARKS[((v * 8).div_ceil(max) - 1).min(7) as usize] })
        .collect();
    (line, max)
}

/// One value per window from the first to the last, empty windows as zeros (when that
/// is a reasonable number of windows; otherwise only the windows that have data).
fn series(windows: &[Value], window_ms: u64, path: &str) -> Vec<u64> {
    let starts: Vec<i64> = windows.iter().filter_map(|w| w.get("start_ms").and_then(Value::as_i64)).collect();
    let (Some(first), Some(last)) = (starts.first(), starts.last()) else { return Vec::new() };
    let span = ((last - first) as u64) / window_ms + 1;
    if span > 100_000 {
        return windows.iter().map(|w| u(w, path)).collect();
    }
    let mut out = vec![0; span as usize];
    for (w, start) in windows.iter().zip(&starts) {
        out[((start - first) as u64 / window_ms) as usize] = u(w, path);
    }
    out
}

type Table = (String, Vec<String>);

fn side_by_side(out: &mut String, left: &Table, right: &Table) {
    let _ = writeln!(out, "{:<HALF$}  {}", left.0, right.0);
    for i in 0..left.1.len().max(right.1.len()) {
        let l = left.1.get(i).map_or("", String::as_str);
        let r = right.1.get(i).map_or("", String::as_str);
        let _ = writeln!(out, "{:<HALF$}  {}", clip(l, HALF), clip(r, HALF));
    }
    out.push('\n');
}

fn counts_table(title: &str, map: Option<&Value>, total: u64, limit: usize) -> Table {
    let mut rows: Vec<(String, u64)> = map
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).filter(|(_, n)| *n > 0).collect())
        .unwrap_or_default();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let lines = rows
        .iter()
        .take(limit)
        .map(|(k, n)| format!(" {:<22} {:>13} {:>8}", clip(k, 22), thousands(*n), pct(Some(*n as f64 / total.max(1) as f64))))
        .collect();
    (title.to_string(), lines)
}

fn top_table(title: &str, list: Option<&Value>, total: u64, limit: usize) -> Table {
    let lines = list
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .take(limit)
                .map(|e| {
                    let mut key = e.get("key").and_then(Value::as_str).unwrap_or("").to_string();
                    if let Some(city) = e.get("city").and_then(Value::as_str) {
                        key = format!("{key} {city}");
                    }
                    let n = e.get("count").and_then(Value::as_u64).unwrap_or(0);
                    format!(" {:<32} {:>8} {:>5.1}%", clip(&key, 32), thousands(n), 100.0 * n as f64 / total.max(1) as f64)
                })
                .collect()
        })
        .unwrap_or_default();
    (title.to_string(), lines)
}

/// Renders a report as the dashboard.
pub fn render(r: &Value) -> String {
    let mut out = String::new();
    let records = u(r, "/records");
    let first = r.pointer("/time/first_ms").and_then(Value::as_i64);
    let last = r.pointer("/time/last_ms").and_then(Value::as_i64);
    let span_s = match (first, last) {
        (Some(a), Some(b)) => ((b - a) as f64 / 1000.0).max(0.0),
        _ => 0.0,
    };
    let rule = "─".repeat(WIDTH);
    let period = match (first, last) {
        (Some(a), Some(b)) => format!("{} → {} UTC", time_utc(a), time_utc(b)),
        _ => "no timestamps".into(),
    };
    let _ = writeln!(out, "cflog · {period} · {} records · {} bad lines", thousands(records), thousands(u(r, "/bad_lines")));
    if let Some(rate) = r.pointer("/sampling/rate").and_then(Value::as_u64) {
        let _ = writeln!(
            out,
            "sampled at {rate}%: about {} requests, {} sent",
            thousands(u(r, "/sampling/estimated_records")),
            bytes(u(r, "/sampling/estimated_bytes_sent"))
        );
    }
    if let Some(note) = r.pointer("/window/note").and_then(Value::as_str) {
        let _ = writeln!(out, "Note: {note}");
    }
    let _ = writeln!(out, "{rule}");
    let rps = if span_s > 0.0 { format!(" ({:.1}/s)", records as f64 / span_s) } else { String::new() };
    let _ = writeln!(
        out,
        "Requests {}{rps}   Sent {}   4xx {}   5xx {}   Cache hit {} (bytes {})   Viewers ~{}",
        thousands(records),
        bytes(u(r, "/bytes_sent")),
        pct(f(r, "/error_rate/4xx")),
        pct(f(r, "/error_rate/5xx")),
        pct(f(r, "/cache_hit_ratio")),
        pct(f(r, "/cache_hit_ratio_bytes")),
        thousands(u(r, "/unique_viewers")),
    );
    let _ = writeln!(
        out,
        "Latency ms  time-taken p50 {} p95 {} p99 {}   TTFB p50 {} p95 {} p99 {}",
        ms(f(r, "/latency_ms/time_taken/p50")),
        ms(f(r, "/latency_ms/time_taken/p95")),
        ms(f(r, "/latency_ms/time_taken/p99")),
        ms(f(r, "/latency_ms/ttfb/p50")),
        ms(f(r, "/latency_ms/ttfb/p95")),
        ms(f(r, "/latency_ms/ttfb/p99")),
    );
    let _ = writeln!(out, "{rule}");

    let windows = r.get("windows").and_then(Value::as_array).cloned().unwrap_or_default();
    // The series' own width: wider than `options.window_ms` when the run coarsened it.
    let window_ms = u(r, "/window/ms").max(1);
    let window_s = window_ms as f64 / 1000.0;
    let requests = series(&windows, window_ms, "/records");
    let errors = series(&windows, window_ms, "/status_class/5xx");
    let (line, max) = sparkline(&requests, 70);
    let _ = writeln!(out, "Requests / {:<5} {line:<70} max {}", format!("{window_s}s"), thousands(max));
    let (line, max) = sparkline(&errors, 70);
    let _ = writeln!(out, "5xx / {:<10} {line:<70} max {}", format!("{window_s}s"), thousands(max));
    out.push('\n');

    side_by_side(
        &mut out,
        &counts_table("Status class", r.get("status_class"), records, 7),
        &counts_table("Result type", r.get("result_type"), records, 7),
    );
    side_by_side(
        &mut out,
        &counts_table("Status", r.get("status"), records, 8),
        &counts_table("User agents", r.get("user_agent_class"), records, 8),
    );
    let latency_rows: Vec<String> = ["time_taken", "ttfb", "origin_fbl", "origin_lbl"]
        .iter()
        .map(|k| {
            let p = |q: &str| ms(f(r, &format!("/latency_ms/{k}/{q}")));
            format!(" {:<11}{:>7}{:>7}{:>7}{:>7}{:>8}", k, p("p50"), p("p90"), p("p95"), p("p99"), p("max"))
        })
        .collect();
    side_by_side(
        &mut out,
        &(format!("{:<12}{:>7}{:>7}{:>7}{:>7}{:>8}", "Latency (ms)", "p50", "p90", "p95", "p99", "max"), latency_rows),
        &counts_table("Edge regions", r.get("edge_region"), records, 4),
    );
    let top = |name: &str| r.pointer(&format!("/top/{name}"));
    side_by_side(&mut out, &top_table("Top URIs", top("uri"), records, 10), &top_table("Top clients", top("client_ip"), records, 10));
    side_by_side(
        &mut out,
        &top_table("Top edge locations", top("edge_location"), records, 8),
        &top_table("Top countries", top("country"), records, 8),
    );
    side_by_side(&mut out, &top_table("Top user agents", top("user_agent"), records, 6), &top_table("Top referers", top("referer"), records, 6));
    if let Some(tags) = r.get("tags").and_then(Value::as_object).filter(|t| !t.is_empty()) {
        let tables: Vec<Table> = tags.iter().map(|(k, v)| counts_table(&format!("Tag {k}"), Some(v), records, 8)).collect();
        for pair in tables.chunks(2) {
            let empty = (String::new(), Vec::new());
            side_by_side(&mut out, &pair[0], pair.get(1).unwrap_or(&empty));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_coarsened_series_is_drawn_at_its_own_width_and_says_so() {
        let note = "window widened from 1m to 5m: at 1m there would be more than 10080 windows (max_windows)";
        let r = serde_json::json!({
            "records": 10,
            "window": {"ms": 300_000, "requested_ms": 60_000, "note": note},
            "options": {"window_ms": 60_000},
            "windows": [{"start_ms": 0, "records": 4}, {"start_ms": 600_000, "records": 6}],
        });
        let screen = render(&r);
        assert!(screen.lines().any(|l| l == format!("Note: {note}")), "{screen}");
        // Three 5-minute windows, the middle one empty.
        assert!(screen.contains("Requests / 300s  ▆ █"), "{screen}");
        let plain = serde_json::json!({"records": 1, "window": {"ms": 60_000, "requested_ms": 60_000, "note": null}});
        assert!(!render(&plain).contains("Note:"));
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(time_utc(1_575_493_351_000), "2019-12-04 21:02:31");
        assert_eq!(sparkline(&[0, 4, 8], 10).0, " ▄█");
        assert_eq!(sparkline(&[1, 1, 1, 1], 2).0, "██");
    }
}
