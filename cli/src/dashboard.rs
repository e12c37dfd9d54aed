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

/// `1 record`, `2 records`.
fn plural(n: u64, one: &str) -> String {
    format!("{} {one}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// An estimate to three significant digits: `40`, `12,300`, `1.23 million` (the digits
/// of an estimate from sampled logs beyond the third are noise).
fn approx(n: f64) -> String {
    if !n.is_finite() || n < 1.0 {
        return format!("{}", n.max(0.0).round());
    }
    let digits = n.log10().floor() as i32 + 1;
    let unit = 10f64.powi((digits - 3).max(0));
    let rounded = (n / unit).round() * unit;
    let significant = |v: f64| {
        let decimals = 2usize.saturating_sub(v.log10().floor().max(0.0) as usize);
        let text = format!("{v:.decimals$}");
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
    };
    if rounded >= 1e9 {
        format!("{} billion", significant(rounded / 1e9))
    } else if rounded >= 1e6 {
        format!("{} million", significant(rounded / 1e6))
    } else {
        thousands(rounded as u64)
    }
}

/// A byte total, or `–` when it is 0: the report cannot tell a log without `sc-bytes` (or
/// `cs-bytes`) from one whose every response was empty, and no CloudFront response with
/// headers is 0 bytes, so a zero total reads as "the field is absent".
fn bytes_or_none(n: u64) -> String {
    if n == 0 { "–".into() } else { bytes(n) }
}

/// `n` records over `span_s` seconds, in the first unit of s, min, h, day that gives at
/// least one: `(2.5/s)`, `(3.0/min)`, `(< 1/day)`; nothing when the span is 0.
fn rate(n: u64, span_s: f64) -> String {
    if span_s <= 0.0 {
        return String::new();
    }
    let per_s = n as f64 / span_s;
    for (unit, secs) in [("s", 1.0), ("min", 60.0), ("h", 3600.0), ("day", 86_400.0)] {
        let v = per_s * secs;
        if v >= 0.95 {
            return if v >= 99.5 { format!(" ({v:.0}/{unit})") } else { format!(" ({v:.1}/{unit})") };
        }
    }
    " (< 1/day)".into()
}

/// Bytes in binary (IEC) units, like the browser: `1.5 KiB`.
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

/// Milliseconds with their unit on every value (as the browser, less the space, so a
/// value fits its 7-column cell): `1.0ms`, `120ms`, `1.25s`, `12.5s`, `3663s`.
fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x < 99.95 => format!("{x:.1}ms"),
        Some(x) if x < 999.5 => format!("{x:.0}ms"),
        Some(x) if x < 9_995.0 => format!("{:.2}s", x / 1000.0),
        Some(x) if x < 99_950.0 => format!("{:.1}s", x / 1000.0),
        Some(x) => format!("{:.0}s", x / 1000.0),
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
    let _ = writeln!(out, "cflog · {period} · {} · {}", plural(records, "record"), plural(u(r, "/bad_lines"), "bad line"));
    // The estimates are floats in the report (`records × 100 / rate`).
    let sampling_rate = r.pointer("/sampling/rate").and_then(Value::as_u64);
    if let Some(rate) = sampling_rate {
        let sent = match f(r, "/sampling/estimated_bytes_sent") {
            Some(b) if u(r, "/bytes_sent") > 0 => format!("≈ {} sent", bytes(b.round() as u64)),
            _ => "sent –".into(),
        };
        let _ = writeln!(
            out,
            "Sampled at {rate} %: ≈ {} requests, {sent} (estimated; every count below is of the {})",
            approx(f(r, "/sampling/estimated_records").unwrap_or(0.0)),
            plural(records, "sampled record"),
        );
    }
    if let Some(note) = r.pointer("/window/note").and_then(Value::as_str) {
        let _ = writeln!(out, "Note: {note}");
    }
    let _ = writeln!(out, "{rule}");
    let rps = rate(records, span_s);
    let sampled = if sampling_rate.is_some() { " sampled" } else { "" };
    let _ = writeln!(
        out,
        "Requests {}{sampled}{rps}   Sent {}   4xx {}   5xx {}   Cache hit {} (bytes {})   Viewers ~{}",
        thousands(records),
        bytes_or_none(u(r, "/bytes_sent")),
        pct(f(r, "/error_rate/4xx")),
        pct(f(r, "/error_rate/5xx")),
        pct(f(r, "/cache_hit_ratio")),
        pct(f(r, "/cache_hit_ratio_bytes")),
        thousands(u(r, "/unique_viewers")),
    );
    let _ = writeln!(
        out,
        "Latency  time-taken p50 {} p95 {} p99 {}   TTFB p50 {} p95 {} p99 {}",
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
        &(format!("{:<12}{:>7}{:>7}{:>7}{:>7}{:>8}", "Latency", "p50", "p90", "p95", "p99", "max"), latency_rows),
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

    fn line_with<'a>(screen: &'a str, start: &str) -> &'a str {
        screen.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line starting {start:?} in\n{screen}"))
    }

    #[test]
    fn sampled_logs_show_the_estimates_marked_as_such() {
        // 123,456 records at 10 %: the report's estimates are floats.
        let r = serde_json::json!({
            "records": 123_456, "bytes_sent": 5_000_000_000u64,
            "sampling": {"rate": 10, "scale": 10.0, "estimated_records": 1_234_560.0, "estimated_bytes_sent": 50_000_000_000.0},
        });
        let screen = render(&r);
        assert_eq!(
            line_with(&screen, "Sampled"),
            "Sampled at 10 %: ≈ 1.23 million requests, ≈ 46.6 GiB sent (estimated; every count below is of the 123,456 sampled records)"
        );
        assert!(line_with(&screen, "Requests ").starts_with("Requests 123,456 sampled   Sent 4.7 GiB"), "{screen}");
        // Small counts, and no sc-bytes in the field set.
        let r = serde_json::json!({
            "records": 2, "bytes_sent": 0,
            "sampling": {"rate": 25, "scale": 4.0, "estimated_records": 8.0, "estimated_bytes_sent": 0.0},
        });
        assert_eq!(
            line_with(&render(&r), "Sampled"),
            "Sampled at 25 %: ≈ 8 requests, sent – (estimated; every count below is of the 2 sampled records)"
        );
        let unsampled = serde_json::json!({"records": 2, "sampling": {"rate": null, "scale": 1.0, "estimated_records": 2.0}});
        assert!(!render(&unsampled).contains("ampled"));
    }

    #[test]
    fn no_sc_bytes_is_no_data_not_zero_bytes() {
        let r = serde_json::json!({"records": 5, "bytes_sent": 0});
        assert!(line_with(&render(&r), "Requests ").contains("   Sent –   "));
        let r = serde_json::json!({"records": 5, "bytes_sent": 784});
        assert!(line_with(&render(&r), "Requests ").contains("   Sent 784 B   "));
    }

    #[test]
    fn latencies_carry_their_unit() {
        let r = serde_json::json!({"records": 3, "latency_ms": {
            "time_taken": {"p50": 1.0, "p90": 120.0, "p95": 1250.0, "p99": 12_500.0, "max": 3_663_400.0},
            "ttfb": {"p50": 0.4, "p90": null, "p95": 99.96, "p99": 99.94, "max": 99.96},
        }});
        let screen = render(&r);
        assert!(line_with(&screen, "Latency  ").starts_with("Latency  time-taken p50 1.0ms p95 1.25s p99 12.5s   TTFB p50 0.4ms"), "{screen}");
        let header = line_with(&screen, "Latency   ").to_string();
        assert!(header.starts_with("Latency   ") && !header.contains("(ms)"), "{screen}");
        assert!(line_with(&screen, " time_taken").starts_with(" time_taken   1.0ms  120ms  1.25s  12.5s   3663s"), "{screen}");
        assert!(line_with(&screen, " ttfb").starts_with(" ttfb         0.4ms      –  100ms 99.9ms   100ms"), "{screen}");
    }

    #[test]
    fn rates_use_a_unit_that_shows_them() {
        assert_eq!(rate(5_000, 2.0), " (2500/s)");
        assert_eq!(rate(3, 2.0), " (1.5/s)");
        assert_eq!(rate(2, 60.0), " (2.0/min)");
        assert_eq!(rate(3, 3600.0), " (3.0/h)");
        assert_eq!(rate(4, 86_400.0 * 2.0), " (2.0/day)");
        assert_eq!(rate(4, 86_400.0 * 2000.0), " (< 1/day)");
        assert_eq!(rate(1, 0.0), "");
        // Two records a minute apart.
        let r = serde_json::json!({"records": 2, "time": {"first_ms": 0, "last_ms": 60_000}});
        assert!(line_with(&render(&r), "Requests ").starts_with("Requests 2 (2.0/min)   "));
    }

    #[test]
    fn one_record_one_bad_line() {
        let r = serde_json::json!({"records": 1, "bad_lines": 1});
        assert!(render(&r).starts_with("cflog · no timestamps · 1 record · 1 bad line\n"));
        let r = serde_json::json!({"records": 0, "bad_lines": 2});
        assert!(render(&r).starts_with("cflog · no timestamps · 0 records · 2 bad lines\n"));
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        // The browser's web-demo/tests/format.test.mjs expects the same texts.
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(2_391_248), "2.3 MiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
        assert_eq!(approx(40.0), "40");
        assert_eq!(approx(12_345.0), "12,300");
        assert_eq!(approx(1_234_567.0), "1.23 million");
        assert_eq!(approx(999_999.0), "1 million");
        assert_eq!(approx(45_600_000_000.0), "45.6 billion");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(time_utc(1_575_493_351_000), "2019-12-04 21:02:31");
        assert_eq!(sparkline(&[0, 4, 8], 10).0, " ▄█");
        assert_eq!(sparkline(&[1, 1, 1, 1], 2).0, "██");
    }
}
