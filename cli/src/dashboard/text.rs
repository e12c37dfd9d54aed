//! Text helpers of the dashboard: numbers, units, times, display widths, clipping.

use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

pub(super) fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path).and_then(Value::as_u64).unwrap_or(0)
}

pub(super) fn f(v: &Value, path: &str) -> Option<f64> {
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
pub(crate) fn plural(n: u64, one: &str) -> String {
    format!("{} {one}{}", thousands(n), if n == 1 { "" } else { "s" })
}

/// An estimate to three significant digits: `40`, `12,300`, `1.23 million` (the digits
/// of an estimate from sampled logs beyond the third are noise).
pub(super) fn approx(n: f64) -> String {
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
pub(super) fn bytes_or_none(n: u64) -> String {
    if n == 0 { "–".into() } else { bytes(n) }
}

/// `n` records over `span_s` seconds, in the first unit of s, min, h, day that gives at
/// least one: `(2.5/s)`, `(3.0/min)`, `(< 1/day)`; nothing when the span is 0.
pub(super) fn rate(n: u64, span_s: f64) -> String {
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

pub(crate) fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |r| format!("{:.2}%", r * 100.0))
}

/// Milliseconds with their unit on every value (as the browser, less the space, so a
/// value fits its 7-column cell): `1.0ms`, `120ms`, `1.25s`, `12.5s`, `3663s`.
pub(crate) fn ms(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x < 99.95 => format!("{x:.1}ms"),
        Some(x) if x < 999.5 => format!("{x:.0}ms"),
        Some(x) if x < 9_995.0 => format!("{:.2}s", x / 1000.0),
        Some(x) if x < 99_950.0 => format!("{:.1}s", x / 1000.0),
        Some(x) => format!("{:.0}s", x / 1000.0),
    }
}

/// A duration as the report's notes write it: `500ms`, `30s`, `2m`, `6h`, `1d`.
pub(crate) fn duration(ms: u64) -> String {
    match ms {
        0 => "0ms".into(),
        _ if ms.is_multiple_of(86_400_000) => format!("{}d", ms / 86_400_000),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), cut to `len` characters (10: the date, 16: to the minute).
pub(crate) fn time_utc_to(epoch_ms: i64, len: usize) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = cflog_core::grammar::civil_from_days(days);
    let mut text = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60);
    text.truncate(len);
    text
}

pub(super) fn time_utc(epoch_ms: i64) -> String {
    time_utc_to(epoch_ms, 19)
}

/// How many characters of a time to show for times `step_ms` apart.
pub(super) fn time_len(step_ms: u64) -> usize {
    if step_ms.is_multiple_of(86_400_000) {
        10
    } else if step_ms.is_multiple_of(60_000) {
        16
    } else {
        19
    }
}

// ---- Text that fits: display widths, cuts, colour ----

pub(super) fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

pub(super) fn char_width(c: char) -> usize {
    UnicodeWidthChar::width(c).unwrap_or(0)
}

/// Control characters (a decoded `%0A`, a tab) would break the screen's lines.
pub(super) fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}

/// At most `w` columns, ending in `…` when cut.
pub(super) fn clip_end(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = char_width(c);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// At most `w` columns, keeping the start and the end: `/michaelw/real-ti…all_fields.log`
/// (two long URIs or user agents usually differ at the end).
pub(super) fn clip_middle(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w < 5 {
        return clip_end(s, w);
    }
    let room = w - 1;
    let (head_w, tail_w) = (room / 2, room - room / 2);
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + char_width(c) > head_w {
            break;
        }
        used += char_width(c);
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        if used + char_width(c) > tail_w {
            break;
        }
        used += char_width(c);
        tail.push(c);
    }
    head.push('…');
    head.extend(tail.into_iter().rev());
    head
}

/// Words of `text` in lines of at most `w` columns, the lines after the first indented by
/// `indent`; a word longer than a line is cut.
pub(super) fn wrap(text: &str, w: usize, indent: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|s| !s.is_empty()) {
        let room = if lines.is_empty() { w } else { w - indent };
        let sep = usize::from(!line.is_empty());
        if !line.is_empty() && width(&line) + sep + width(word) > room {
            lines.push(std::mem::take(&mut line));
        }
        let room = if lines.is_empty() { w } else { w - indent };
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&clip_middle(word, room));
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    for l in lines.iter_mut().skip(1) {
        l.insert_str(0, &" ".repeat(indent));
    }
    lines
}
