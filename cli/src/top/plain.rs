//! `cflog top` when stdout is not a terminal (or with `--plain`): a plain text snapshot every
//! interval, each opened by a `=== cflog top` line, for logs, pipes and `watch`-style use.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;

use super::Status;
use super::feed::Feed;
use super::stats::Snapshot;
use crate::dashboard::text::{bytes, duration, ms, pct, plural, thousands, time_utc_to};

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Bars for `series`, scaled to its largest value (a space for 0).
pub fn sparkline(series: &[u64]) -> String {
    let max = series.iter().copied().max().unwrap_or(0);
    series
        .iter()
        .map(|&n| if n == 0 || max == 0 { ' ' } else { SPARKS[((n * 8 - 1) / max).min(7) as usize] })
        .collect()
}

/// `12.34/s`.
pub fn per_second(v: f64) -> String {
    if v >= 100.0 { format!("{v:.0}/s") } else { format!("{v:.1}/s") }
}

/// Writes one snapshot of `feed` (`last`: the final one, after the input ended or the
/// iteration count was reached).
pub fn snapshot(out: &mut impl Write, feed: &mut Feed, status: &Status, last: bool, top_n: usize) -> Result<()> {
    let s = Snapshot::take(feed, Instant::now(), top_n);
    let text = render(&s, status, last);
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that went away (`| head`) ends the run quietly.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        other => Ok(other?),
    }
}

/// The text of one snapshot.
pub fn render(s: &Snapshot, status: &Status, last: bool) -> String {
    let mut o = String::new();
    let mut line = |text: String| {
        o.push_str(&text);
        o.push('\n');
    };
    line(format!(
        "=== cflog top · {} · {} UTC{} ===",
        status.source,
        time_utc_to(s.now_ms, 19),
        if last { " · final" } else { "" }
    ));
    line(format!(
        "window {}: {} – {} UTC (log time)",
        duration(s.span_ms),
        time_utc_to(s.start_ms, 19),
        &time_utc_to(s.end_ms, 19)[11..]
    ));
    let t = s.totals;
    line(format!(
        "since start: {}, {}, {} filtered out, {} older than the window",
        plural(t.records, "record"),
        plural(t.bad_lines, "bad line"),
        thousands(t.filtered),
        thousands(s.too_old)
    ));
    line(format!(
        "in window: {} · {} (last {}: {}) · 4xx {} · 5xx {} · hit ratio {} · p50 {} p95 {} p99 {} · {} sent · {} viewers",
        plural(s.records, "record"),
        per_second(s.rate),
        duration(s.bucket_ms),
        per_second(s.rate_now),
        pct(s.error_4xx),
        pct(s.error_5xx),
        pct(s.hit_ratio),
        ms(s.latency_ms[0]),
        ms(s.latency_ms[1]),
        ms(s.latency_ms[2]),
        bytes(s.bytes_sent),
        thousands(s.viewers)
    ));
    line(format!("requests per {}: [{}]", duration(s.bucket_ms), sparkline(&s.series)));
    for (title, list) in [("top URIs", &s.uris), ("top clients", &s.clients), ("top edges", &s.edges)] {
        line(format!("{title}:"));
        for (key, n) in list {
            line(format!("  {:>10}  {:>6}  {key}", thousands(*n), share(*n, s.records)));
        }
    }
    let codes: Vec<String> = s.error_codes.iter().map(|(c, n)| format!("{c} ×{}", thousands(*n))).collect();
    line(format!("errors: {}", if codes.is_empty() { "none".into() } else { codes.join(", ") }));
    for e in s.recent_errors.iter().rev() {
        let at = e.ts_ms.map_or_else(|| "-".into(), |t| time_utc_to(t, 19)[11..].to_string());
        line(format!("  {at}  {}  {:<8}  {}", e.status, e.edge, e.uri));
    }
    if let Some(bad) = &s.last_bad {
        line(format!("last bad line: {bad}"));
    }
    if let Some((at, note)) = &status.note {
        line(format!("note: {} {note}", &time_utc_to(*at, 19)[11..]));
    }
    o
}

/// `12.3%` of the window's records.
pub fn share(n: u64, of: u64) -> String {
    if of == 0 { "–".into() } else { format!("{:.1}%", n as f64 * 100.0 / of as f64) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_largest() {
        assert_eq!(sparkline(&[0, 1, 4, 8]), " ▁▄█");
        assert_eq!(sparkline(&[0, 0]), "  ");
        assert_eq!(sparkline(&[]), "");
    }
}
