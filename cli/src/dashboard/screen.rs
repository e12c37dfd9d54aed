//! The dashboard's screen: the lines it is made of, why panels are empty, the
//! sparklines and the per-hour or per-day table.

use cflog_core::{Field, Format, Schema};
use serde_json::Value;

use super::table::*;
use super::text::*;
use super::*;

/// Why panels are empty.
pub(super) struct Reasons<'a> {
    pub(super) records: u64,
    /// `None` when the layouts are unknown.
    pub(super) layouts: Option<&'a [Schema]>,
}

impl Reasons<'_> {
    /// The first of `fields` that the layouts read name (or real-time logs do).
    pub(super) fn name(&self, fields: &[Field]) -> &'static str {
        let format = self.layouts.and_then(|l| l.first()).map_or(Format::RealTime, Schema::format);
        fields
            .iter()
            .find_map(|f| f.name(format))
            .or_else(|| fields.iter().find_map(|f| f.name(Format::RealTime).or(f.name(Format::Standard))))
            .unwrap_or("the")
    }

    /// Why no record gave a value for any of `fields`.
    pub(super) fn why(&self, fields: &[Field]) -> String {
        if self.records == 0 {
            return "no records".into();
        }
        let name = self.name(fields);
        match self.layouts {
            Some(layouts) if !layouts.iter().any(|s| fields.iter().any(|f| s.has(*f))) => {
                format!("no {name} field in {}", if layouts.len() == 1 { "this layout" } else { "these layouts" })
            }
            Some(_) => format!("{name} is - on every record"),
            None => format!("no record has a value for {name}"),
        }
    }
}

/// The screen being written.
pub(super) struct Screen {
    pub(super) width: usize,
    pub(super) color: bool,
    pub(super) out: String,
}

impl Screen {
    pub(super) fn line(&mut self, line: &Line) {
        self.out.push_str(line.text.trim_end_matches(' '));
        self.out.push('\n');
    }

    pub(super) fn text(&mut self, text: &str, style: Option<Style>) {
        let mut line = Line::default();
        line.push(text, style, self.color);
        self.line(&line);
    }

    pub(super) fn blank(&mut self) {
        self.out.push('\n');
    }

    pub(super) fn rule(&mut self) {
        self.text(&"─".repeat(self.width), Some(Style::Dim));
    }

    /// Prose, wrapped to the width; its `lead` words in their style.
    pub(super) fn prose(&mut self, text: &str, lead: Option<(&str, Style)>) {
        for (i, l) in wrap(text, self.width, 2).into_iter().enumerate() {
            let mut line = Line::default();
            match lead {
                Some((lead, style)) if i == 0 && l.starts_with(lead) => {
                    line.push(lead, Some(style), self.color);
                    line.push(&l[lead.len()..], None, self.color);
                }
                _ => line.push(&l, None, self.color),
            }
            self.line(&line);
        }
    }

    /// Items separated by `sep`, as many on a line as fit; the lines after the first
    /// indented by `indent`.
    pub(super) fn flow(&mut self, items: &[(String, Option<Style>)], sep: &str, indent: usize) {
        let mut line = Line::default();
        for (text, style) in items {
            let first = line.cols == 0;
            if !first && line.cols + width(sep) + width(text) > self.width {
                self.line(&line);
                line = Line::default();
                line.push(&" ".repeat(indent), None, self.color);
            } else if !first {
                line.push(sep, None, self.color);
            }
            let room = self.width - line.cols;
            line.push(&clip_end(text, room), *style, self.color);
        }
        self.line(&line);
    }

    /// One table across the width.
    pub(super) fn table(&mut self, t: &Table) {
        let lines = t.render(self.width, self.color).unwrap_or_else(|| t.render(usize::MAX / 2, self.color).unwrap_or_default());
        for l in &lines {
            self.line(l);
        }
        self.blank();
    }

    /// Two tables side by side when the screen is wide enough and both fit their half;
    /// one after the other otherwise.
    pub(super) fn pair(&mut self, left: &Table, right: &Table) {
        if self.width >= TWO_COLUMNS_FROM {
            let lw = (self.width - GAP) / 2;
            let rw = self.width - GAP - lw;
            if let (Some(l), Some(r)) = (left.render(lw, self.color), right.render(rw, self.color)) {
                for i in 0..l.len().max(r.len()) {
                    let mut line = l.get(i).cloned().unwrap_or_default();
                    if let Some(right) = r.get(i) {
                        line.pad_to(lw + GAP);
                        line.text.push_str(&right.text);
                        line.cols += right.cols;
                    }
                    self.line(&line);
                }
                self.blank();
                return;
            }
        }
        self.table(left);
        self.table(right);
    }
}

/// How the series is laid out in columns: `used` columns of `span_ms` each from `origin`
/// (a multiple of the span, so no window straddles two columns), each value drawn
/// `stretch` columns wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Columns {
    pub(super) origin: i64,
    pub(super) span_ms: u64,
    pub(super) used: u64,
    pub(super) stretch: u64,
}

/// The layout of windows `first..=last` (starts, `window_ms` apart) in at most `cols`
/// columns: one window a column when they fit (spread over up to [`MAX_STRETCH`] columns
/// when they are few); else the narrowest span that fits, or a wider one up to twice that which divides a
/// day or is whole days, so the label reads `/ 36m` or `/ 1h` rather than `/ 47m`.
pub(super) fn columns(first: i64, last: i64, window_ms: u64, cols: u64) -> Columns {
    let cols = cols.max(1);
    let n = ((last - first) as u64) / window_ms + 1;
    if n <= cols {
        return Columns { origin: first, span_ms: window_ms, used: n, stretch: (cols / n).min(MAX_STRETCH) };
    }
    let fit = |span: u64| {
        let origin = first - first.rem_euclid(span as i64);
        let used = ((last - origin) as u64) / span + 1;
        (used <= cols).then_some(Columns { origin, span_ms: span, used, stretch: 1 })
    };
    let plain = (n.div_ceil(cols)..).find_map(|per| fit(per * window_ms)).expect("a span as wide as the run fits");
    let nice = |span: u64| 86_400_000 % span == 0 || span.is_multiple_of(86_400_000);
    let per = plain.span_ms / window_ms;
    (per..=2 * per).map(|p| p * window_ms).filter(|&span| nice(span)).find_map(fit).unwrap_or(plain)
}

/// The request and 5xx series as sparklines: each column sums the windows of its span
/// (the label says which), the max is the largest column, and the time axis below gives
/// the chart's start and end.
pub(super) fn sparklines(s: &mut Screen, r: &Value, reasons: &Reasons) {
    let windows = r.get("windows").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    // The series' own width: wider than `options.window_ms` when the run coarsened it.
    let window_ms = u(r, "/window/ms").max(1);
    let points: Vec<(i64, u64, u64)> = windows
        .iter()
        .filter_map(|w| Some((w.get("start_ms")?.as_i64()?, u(w, "/records"), u(w, "/status_class/5xx"))))
        .collect();
    let (Some(first), Some(last)) = (points.iter().map(|p| p.0).min(), points.iter().map(|p| p.0).max()) else {
        s.text(&format!("Requests over time: {}", reasons.why(&[Field::Date, Field::Timestamp, Field::TimestampMs])), None);
        return;
    };
    let total: u64 = points.iter().map(|p| p.1).sum();
    let max_text_w = " max ".len() + thousands(total).len();
    let labels = |span: u64| (format!("Requests / {}", duration(span)), format!("5xx / {}", duration(span)));
    // The label's width depends on the span, which depends on the columns left.
    let mut label_w = 16;
    let mut layout = columns(first, last, window_ms, s.width.saturating_sub(label_w + max_text_w) as u64);
    loop {
        let (a, b) = labels(layout.span_ms);
        let wanted = width(&a).max(width(&b)) + 2;
        if wanted <= label_w {
            break;
        }
        label_w = wanted;
        layout = columns(first, last, window_ms, s.width.saturating_sub(label_w + max_text_w) as u64);
    }
    let mut requests = vec![0u64; layout.used as usize];
    let mut errors = vec![0u64; layout.used as usize];
    for &(start, req, err) in &points {
        let c = ((start - layout.origin) as u64 / layout.span_ms) as usize;
        requests[c] += req;
        errors[c] += err;
    }
    let draw = |values: &[u64]| -> (String, u64) {
        let max = values.iter().copied().max().unwrap_or(0);
        let line = values
            .iter()
            .flat_map(|&v| {
                let c = if max == 0 || v == 0 { ' ' } else { SPARKS[((v * 8).div_ceil(max) - 1).min(7) as usize] };
                std::iter::repeat_n(c, layout.stretch as usize)
            })
            .collect();
        (line, max)
    };
    let chart_w = (layout.used * layout.stretch) as usize;
    let (label_req, label_5xx) = labels(layout.span_ms);
    let (line, max) = draw(&requests);
    let mut l = Line::default();
    l.push(&label_req, None, s.color);
    l.pad_to(label_w);
    l.push(&line, Some(Style::Accent), s.color);
    l.push(&format!(" max {}", thousands(max)), None, s.color);
    s.line(&l);
    let mut l = Line::default();
    l.push(&label_5xx, None, s.color);
    l.pad_to(label_w);
    if u(r, "/status_class/5xx") == 0 {
        let status_known = r.get("status").and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        let why = if status_known { "no 5xx responses".to_string() } else { reasons.why(&[Field::Status]) };
        l.push(&clip_end(&format!("({why})"), s.width - label_w), Some(Style::Dim), s.color);
    } else {
        let (line, max) = draw(&errors);
        l.push(&line, Some(Style::Bad), s.color);
        l.push(&format!(" max {}", thousands(max)), None, s.color);
    }
    s.line(&l);
    // The time axis: the chart's start under its left end, its end under its right end.
    let len = time_len(layout.span_ms);
    let from = time_utc_to(layout.origin, len);
    let to = format!("{} UTC", time_utc_to(layout.origin + (layout.used * layout.span_ms) as i64, len));
    let mut l = Line::default();
    l.pad_to(label_w);
    if label_w + width(&from) + 2 + width(&to) <= s.width {
        l.push(&from, Some(Style::Dim), s.color);
        l.pad_to((label_w + chart_w).max(label_w + width(&from) + 2 + width(&to)) - width(&to));
        l.push(&to, Some(Style::Dim), s.color);
        s.line(&l);
    } else {
        l.push(&format!("{from} →"), Some(Style::Dim), s.color);
        s.line(&l);
        let mut l = Line::default();
        l.pad_to(label_w);
        l.push(&to, Some(Style::Dim), s.color);
        s.line(&l);
    }
}

/// Requests, bytes, errors and the cache hit ratio (report schema 4 windows carry their
/// hits and misses) per hour or per day, when the run spans more than one UTC
/// day: per hour up to 36 hours, per day beyond. A run of empty periods is one line; past
/// [`MAX_PERIOD_ROWS`] lines the periods double (2 days, 4 days, …).
pub(super) fn periods(s: &mut Screen, r: &Value) {
    let windows = r.get("windows").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let window_ms = u(r, "/window/ms").max(1);
    let points: Vec<(i64, &Value)> = windows.iter().filter_map(|w| Some((w.get("start_ms")?.as_i64()?, w))).collect();
    let (Some(first), Some(last)) = (points.iter().map(|p| p.0).min(), points.iter().map(|p| p.0).max()) else { return };
    let end = last + window_ms as i64 - 1;
    if first.div_euclid(86_400_000) == end.div_euclid(86_400_000) {
        return;
    }
    let hour_or_day: u64 = if end - first <= 36 * 3_600_000 { 3_600_000 } else { 86_400_000 };
    // Whole windows in every period.
    let mut bucket = hour_or_day.div_ceil(window_ms) * window_ms;
    enum Entry {
        Period(i64, [u64; 6]),
        Gap(i64, i64),
    }
    let entries = loop {
        let mut sums = std::collections::BTreeMap::<i64, [u64; 6]>::new();
        for (start, w) in &points {
            let sum = sums.entry(start - start.rem_euclid(bucket as i64)).or_default();
            let paths = ["/records", "/bytes_sent", "/status_class/4xx", "/status_class/5xx", "/cache_hits", "/cache_misses"];
            for (i, path) in paths.iter().enumerate() {
                sum[i] += u(w, path);
            }
        }
        let mut entries = Vec::new();
        let mut next: Option<i64> = None;
        for (start, sum) in sums {
            match next {
                Some(n) if start - n == bucket as i64 => entries.push(Entry::Period(n, [0; 6])),
                Some(n) if start > n => entries.push(Entry::Gap(n, start)),
                _ => {}
            }
            entries.push(Entry::Period(start, sum));
            next = Some(start + bucket as i64);
        }
        if entries.len() as u64 <= MAX_PERIOD_ROWS || bucket > i64::MAX as u64 / 4 {
            break entries;
        }
        bucket *= 2;
    };
    let title = format!("Per {} (UTC)", match duration(bucket).as_str() {
        "1h" => "hour".to_string(),
        "1d" => "day".to_string(),
        d => d.to_string(),
    });
    let no_bytes = u(r, "/bytes_sent") == 0;
    let columns = vec![
        column("Requests", 0, 0),
        column("Sent", 2, 8),
        column("4xx", 3, 0),
        column("5xx", 0, 0),
        column("5xx %", 1, 6),
        column("Hit %", 4, 6),
    ];
    let mut t = Table::new(title, Clip::Never, columns);
    let len = time_len(bucket);
    for entry in entries {
        t.rows.push(match entry {
            Entry::Period(start, [req, sent, c4, c5, hits, misses]) => {
                let share = if req == 0 { "–".to_string() } else { format!("{:.2}%", 100.0 * c5 as f64 / req as f64) };
                let hit = if hits + misses == 0 { "–".to_string() } else { format!("{:.1}%", 100.0 * hits as f64 / (hits + misses) as f64) };
                Row {
                    label: time_utc_to(start, len),
                    cells: vec![thousands(req), if no_bytes { "–".into() } else { bytes(sent) }, thousands(c4), thousands(c5), share, hit],
                    style: (c5 > 0).then_some(Style::Bad),
                }
            }
            Entry::Gap(from, to) => Row {
                label: format!("(no records from {} to {})", time_utc_to(from, len), time_utc_to(to, len)),
                cells: Vec::new(),
                style: Some(Style::Dim),
            },
        });
    }
    s.table(&t);
}
