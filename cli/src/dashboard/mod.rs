//! The terminal dashboard, rendered from a report (so merged reports render the same).
//!
//! The layout follows the terminal's width ([`terminal_width`]): one column of tables below
//! [`TWO_COLUMNS_FROM`] columns, two side by side from there, the label columns growing with
//! the room. No line is wider than the width (down to [`MIN_WIDTH`]): labels are cut with
//! `…`, in the middle for URIs, user agents and referers (whose ends tell them apart),
//! never for addresses (a table of addresses leaves out its share column, or takes the whole
//! width, rather than cut one). Colour is optional and never changes the text: the screen
//! without its escapes is the same.

use std::io::IsTerminal as _;

use cflog_core::{Field, Format, Schema};
use serde_json::Value;

use crate::cmd_analyze::{InputRead, LayoutOrigin};

mod screen;
mod suspects;
mod table;
pub(crate) mod text;

use screen::*;
use table::*;
use text::*;

/// The width used when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower terminals are drawn at this width (their lines wrap).
pub const MIN_WIDTH: usize = 60;
/// From this width on, tables are drawn in pairs, side by side.
pub const TWO_COLUMNS_FROM: usize = 100;
/// Spaces between two tables side by side.
const GAP: usize = 2;
/// Rows at most in the per-hour or per-day table (wider periods beyond).
const MAX_PERIOD_ROWS: u64 = 31;
/// The most common status codes listed, besides every 4xx and 5xx code present.
const STATUS_ROWS: usize = 8;
/// The most columns one window of a short series spreads over.
const MAX_STRETCH: u64 = 8;
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `--color`: whether the dashboard uses ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

/// How to draw a report: the width, colour, and what was read.
#[derive(Debug, Clone)]
pub struct View {
    /// Columns available (at least [`MIN_WIDTH`] are used).
    pub width: usize,
    /// ANSI colours.
    pub color: bool,
    /// What was read, when the caller knows (not from a report alone).
    pub source: Option<Source>,
}

impl Default for View {
    /// [`DEFAULT_WIDTH`] columns, no colour, no source.
    fn default() -> Self {
        View { width: DEFAULT_WIDTH, color: false, source: None }
    }
}

impl View {
    /// The view for stdout: its terminal's width ([`terminal_width`]) and colour as `choice`
    /// and the environment say.
    pub fn for_stdout(choice: ColorChoice) -> View {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        View { width: terminal_width(), color, source: None }
    }
}

/// The dashboard's width: `COLUMNS` when set to a number (an override), else the width of
/// the terminal on stdout, else [`DEFAULT_WIDTH`] (stdout is a file or a pipe).
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|n| *n > 0) {
        return n;
    }
    terminal_size::terminal_size_of(std::io::stdout()).map_or(DEFAULT_WIDTH, |(w, _)| usize::from(w.0))
}

/// What a report was made from: a sentence for the screen, and the layouts read, which
/// let an empty panel say why it is empty.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// `Read x.log (1.2 MiB): standard log, #Fields header, 33 columns.`
    pub read: String,
    /// Every layout read; empty when unknown (a merged report carries no layouts).
    pub layouts: Vec<Schema>,
}

impl InputRead {
    /// `standard log`, `real-time logs`.
    fn kind(&self, plural: bool) -> String {
        let what = match self.layouts.first().map(Schema::format) {
            _ if self.origin == LayoutOrigin::Ndjson => "cflog NDJSON record file",
            _ if self.origin == LayoutOrigin::V2Json => "standard logging v2 record file (JSON or Parquet)",
            Some(Format::Standard) => "standard log",
            Some(Format::RealTime) => "real-time log",
            None => "empty input",
        };
        format!("{what}{}", if plural { "s" } else { "" })
    }

    /// `#Fields header, 33 columns`, `46 fields inferred from the field count (AWS release 2024 (s-ip))`.
    fn detail(&self) -> String {
        let mut counts: Vec<usize> = self.layouts.iter().map(Schema::len).collect();
        counts.dedup();
        let counts = match counts.as_slice() {
            [one] => one.to_string(),
            many => {
                let text: Vec<String> = many.iter().map(usize::to_string).collect();
                text.join(" then ")
            }
        };
        let layout = match self.origin {
            LayoutOrigin::Given => format!("{counts} fields from --fields"),
            LayoutOrigin::Inferred => {
                let n = self.layouts.first().map_or(0, Schema::len);
                match cflog_core::field::REALTIME_RELEASES.iter().find(|r| r.count == n) {
                    Some(r) => format!("{counts} fields, inferred from the field count: the AWS field list of {}", r.name),
                    None => format!("{counts} fields, inferred from the field count"),
                }
            }
            LayoutOrigin::Header => format!("#Fields header, {counts} columns"),
            LayoutOrigin::NoHeader => format!("no #Fields header, so {counts} columns (the default layout)"),
            LayoutOrigin::Ndjson | LayoutOrigin::V2Json => "field names from each record".into(),
            LayoutOrigin::Empty => "nothing read".into(),
        };
        if self.decodes_twice {
            format!("{layout}, values encoded twice (pre-2020), decoded twice")
        } else {
            layout
        }
    }
}

impl Source {
    /// What `cflog analyze` read.
    pub fn analyzed(inputs: &[InputRead]) -> Source {
        let total: u64 = inputs.iter().map(|i| i.bytes).sum();
        let name = |i: &InputRead| if i.name == "-" { "stdin".to_string() } else { i.name.clone() };
        let gz = |i: &InputRead| if i.gzip { ", gzip" } else { "" };
        let read = match inputs {
            [one] => format!("Read {} ({}{}): {}, {}.", name(one), bytes(one.bytes), gz(one), one.kind(false), one.detail()),
            few if few.len() <= 3 => {
                let each: Vec<String> =
                    few.iter().map(|i| format!("{} ({}{}), {}, {}", name(i), bytes(i.bytes), gz(i), i.kind(false), i.detail())).collect();
                format!("Read {} files ({}): {}.", few.len(), bytes(total), each.join("; "))
            }
            many => {
                // Grouped by description, in order of first appearance.
                let mut groups: Vec<(String, usize, &InputRead)> = Vec::new();
                for i in many {
                    let key = format!("{}|{}", i.kind(false), i.detail());
                    match groups.iter_mut().find(|g| g.0 == key) {
                        Some(g) => g.1 += 1,
                        None => groups.push((key, 1, i)),
                    }
                }
                let gzipped = many.iter().filter(|i| i.gzip).count();
                let each: Vec<String> =
                    groups.iter().map(|(_, n, i)| format!("{n} {} ({})", i.kind(*n != 1), i.detail())).collect();
                let gz = if gzipped > 0 { format!(", {gzipped} gzip") } else { String::new() };
                format!("Read {} files ({}{gz}): {}.", many.len(), bytes(total), each.join("; "))
            }
        };
        let mut layouts: Vec<Schema> = Vec::new();
        for s in inputs.iter().flat_map(|i| &i.layouts) {
            if !layouts.contains(s) {
                layouts.push(s.clone());
            }
        }
        Source { read, layouts }
    }

    /// What `cflog merge` read: reports, whose layouts are unknown.
    pub fn merged(paths: &[String]) -> Source {
        let read = match paths {
            [one] => format!("Read the report {one} (its logs' layouts are not in the report)."),
            many => format!("Merged {} reports: {} (their logs' layouts are not in the reports).", many.len(), many.join(", ")),
        };
        Source { read, layouts: Vec::new() }
    }
}

/// Renders a report at [`DEFAULT_WIDTH`] columns, without colour.
pub fn render(r: &Value) -> String {
    render_with(r, &View::default())
}

/// Renders a report as `view` says.
pub fn render_with(r: &Value, view: &View) -> String {
    let mut s = Screen { width: view.width.max(MIN_WIDTH), color: view.color, out: String::new() };
    let records = u(r, "/records");
    let reasons = Reasons { records, layouts: view.source.as_ref().filter(|src| !src.layouts.is_empty()).map(|src| src.layouts.as_slice()) };
    let first = r.pointer("/time/first_ms").and_then(Value::as_i64);
    let last = r.pointer("/time/last_ms").and_then(Value::as_i64);
    let span_s = match (first, last) {
        (Some(a), Some(b)) => ((b - a) as f64 / 1000.0).max(0.0),
        _ => 0.0,
    };
    let period = match (first, last) {
        (Some(a), Some(b)) => format!("{} → {} UTC", time_utc(a), time_utc(b)),
        _ => "no timestamps".into(),
    };
    s.flow(
        &[
            ("cflog".into(), Some(Style::Title)),
            (period, None),
            (plural(records, "record"), None),
            (plural(u(r, "/bad_lines"), "bad line"), (u(r, "/bad_lines") > 0).then_some(Style::Warn)),
        ],
        " · ",
        2,
    );
    if let Some(source) = &view.source {
        s.prose(&source.read, None);
    }
    // The estimates are floats in the report (`records × 100 / rate`).
    let sampling_rate = r.pointer("/sampling/rate").and_then(Value::as_u64);
    if let Some(rate) = sampling_rate {
        let sent = match f(r, "/sampling/estimated_bytes_sent") {
            Some(b) if u(r, "/bytes_sent") > 0 => format!("≈ {} sent", bytes(b.round() as u64)),
            _ => "sent –".into(),
        };
        s.prose(
            &format!(
                "Sampled at {rate} %: ≈ {} requests, {sent} (estimated; every count below is of the {})",
                approx(f(r, "/sampling/estimated_records").unwrap_or(0.0)),
                plural(records, "sampled record"),
            ),
            Some(("Sampled", Style::Warn)),
        );
    }
    if let Some(note) = r.pointer("/window/note").and_then(Value::as_str) {
        s.prose(&format!("Note: {note}"), Some(("Note:", Style::Warn)));
    }
    s.rule();
    let rps = rate(records, span_s);
    let sampled = if sampling_rate.is_some() { " sampled" } else { "" };
    let error_style = |path: &str, style: Style| f(r, path).filter(|v| *v > 0.0).map(|_| style);
    s.flow(
        &[
            (format!("Requests {}{sampled}{rps}", thousands(records)), None),
            (format!("Sent {}", bytes_or_none(u(r, "/bytes_sent"))), None),
            (format!("4xx {}", pct(f(r, "/error_rate/4xx"))), error_style("/error_rate/4xx", Style::Warn)),
            (format!("5xx {}", pct(f(r, "/error_rate/5xx"))), error_style("/error_rate/5xx", Style::Bad)),
            (format!("Cache hit {} (bytes {})", pct(f(r, "/cache_hit_ratio")), pct(f(r, "/cache_hit_ratio_bytes"))), None),
            (format!("Viewers ~{}", thousands(u(r, "/unique_viewers"))), None),
        ],
        "   ",
        0,
    );
    let p = |k: &str, q: &str| ms(f(r, &format!("/latency_ms/{k}/{q}")));
    s.flow(
        &[
            (format!("Latency  time-taken p50 {} p95 {} p99 {}", p("time_taken", "p50"), p("time_taken", "p95"), p("time_taken", "p99")), None),
            (format!("TTFB p50 {} p95 {} p99 {}", p("ttfb", "p50"), p("ttfb", "p95"), p("ttfb", "p99")), None),
        ],
        "   ",
        9,
    );
    s.rule();
    sparklines(&mut s, r, &reasons);
    s.blank();
    periods(&mut s, r);

    let why = |t: &mut Table, fields: &[Field]| {
        if t.rows.is_empty() {
            t.empty = Some(reasons.why(fields));
        }
    };
    let mut class = counts_table("Status class", &counts_rows(r.get("status_class")), records);
    why(&mut class, &[Field::Status]);
    let mut result = counts_table("Result type", &counts_rows(r.get("result_type")), records);
    why(&mut result, &[Field::ResultType]);
    s.pair(&class, &result);

    // The most common codes, and every 4xx and 5xx code present however rare.
    let codes = counts_rows(r.get("status"));
    let shown: Vec<(String, u64)> =
        codes.iter().enumerate().filter(|(i, (k, _))| *i < STATUS_ROWS || k.starts_with('4') || k.starts_with('5')).map(|(_, c)| c.clone()).collect();
    let mut status = counts_table("Status", &shown, records);
    for row in &mut status.rows {
        row.style = match row.label.as_bytes().first() {
            Some(b'4') => Some(Style::Warn),
            Some(b'5') => Some(Style::Bad),
            _ => None,
        };
    }
    if codes.len() > shown.len() {
        status.more = Some(format!("… {} other codes (none 4xx or 5xx)", codes.len() - shown.len()));
    }
    why(&mut status, &[Field::Status]);
    let mut agents = counts_table("User agents", &counts_rows(r.get("user_agent_class")), records);
    why(&mut agents, &[Field::UserAgent]);
    s.pair(&status, &agents);

    // Cells at least 5 wide, so values of different units line up.
    let latency_columns = vec![column("p50", 0, 5), column("p90", 4, 5), column("p95", 0, 5), column("p99", 0, 5), column("max", 3, 5)];
    let mut latency = Table::new("Latency", Clip::Never, latency_columns);
    let sketches = ["time_taken", "ttfb", "origin_fbl", "origin_lbl"];
    if sketches.iter().any(|k| u(r, &format!("/latency_ms/{k}/count")) > 0 || f(r, &format!("/latency_ms/{k}/p50")).is_some()) {
        latency.rows = sketches
            .iter()
            .map(|k| Row { label: k.to_string(), cells: ["p50", "p90", "p95", "p99", "max"].iter().map(|q| p(k, q)).collect(), style: None })
            .collect();
    } else {
        latency.empty = Some(reasons.why(&[Field::TimeTaken, Field::TimeToFirstByte, Field::OriginFirstByteLatency, Field::OriginLastByteLatency]));
    }
    let mut regions = counts_table("Edge regions", &counts_rows(r.get("edge_region")), records);
    why(&mut regions, &[Field::EdgeLocation]);
    s.pair(&latency, &regions);

    // `--top-by`: the lists' order, said in each title.
    let by = match r.pointer("/options/top_by").and_then(Value::as_str) {
        Some("bytes") => " by bytes",
        Some("errors") => " by 5xx",
        _ => "",
    };
    let no_5xx = by == " by 5xx" && u(r, "/status_class/5xx") == 0;
    let top = |title: &str, name: &str, clip: Clip, fields: &[Field]| {
        let mut t = top_table(&format!("{title}{by}"), r.pointer(&format!("/top/{name}")), records, clip);
        why(&mut t, fields);
        // Ranked by 5xx, a list lists only keys that had one (unless the layout lacks the field).
        if t.rows.is_empty() && by == " by 5xx" && records > 0 && !t.empty.as_deref().is_some_and(|e| e.contains(" field in ")) {
            t.empty = Some(if no_5xx { "no 5xx responses".into() } else { format!("no 5xx among the {} tracked", name.replace('_', " ")) });
        }
        t
    };
    let uris = top("Top URIs", "uri", Clip::Middle, &[Field::UriStem]);
    let clients = top("Top clients", "client_ip", Clip::Never, &[Field::ClientIp]);
    s.pair(&uris, &clients);
    let edges = top("Top edge locations", "edge_location", Clip::End, &[Field::EdgeLocation]);
    let countries = top("Top countries", "country", Clip::Never, &[Field::Country]);
    s.pair(&edges, &countries);
    let user_agents = top("Top user agents", "user_agent", Clip::Middle, &[Field::UserAgent]);
    let referers = top("Top referers", "referer", Clip::Middle, &[Field::Referer]);
    s.pair(&user_agents, &referers);

    if let Some(tags) = r.get("tags").and_then(Value::as_object).filter(|t| !t.is_empty()) {
        let top_n = r.pointer("/options/top_n").and_then(Value::as_u64).unwrap_or(10) as usize;
        let mut tables: Vec<Table> = tags
            .iter()
            .map(|(k, v)| {
                let rows = counts_rows(Some(v));
                let mut t = counts_table(&format!("Tag {k}"), &rows[..rows.len().min(top_n)], records);
                if rows.len() > top_n {
                    t.more = Some(format!("… {} more values (--top)", rows.len() - top_n));
                }
                t
            })
            .collect();
        while !tables.is_empty() {
            let left = tables.remove(0);
            match (tables.is_empty(), s.width >= TWO_COLUMNS_FROM) {
                (false, true) => {
                    let right = tables.remove(0);
                    s.pair(&left, &right);
                }
                _ => s.table(&left),
            }
        }
    }
    if let Some(t) = suspects::suspects_table(r, r.pointer("/options/top_n").and_then(Value::as_u64).unwrap_or(10) as usize) {
        s.table(&t);
    }
    while s.out.ends_with("\n\n") {
        s.out.pop();
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line_with<'a>(screen: &'a str, start: &str) -> &'a str {
        screen.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line starting {start:?} in\n{screen}"))
    }

    fn at(width: usize) -> View {
        View { width, ..View::default() }
    }

    /// The screen without its colour escapes.
    fn plain(screen: &str) -> String {
        let mut out = String::new();
        let mut chars = screen.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// 3,000 generated real-time records over about 42 hours (two UTC days), aggregated,
    /// plus a few keys that are hard to draw.
    fn rich_report() -> Value {
        let mut data = Vec::new();
        let opts = cflog_gen::GenOptions { lines: 3000, seed: 7, requests_per_second: 0.02, ..cflog_gen::GenOptions::default() };
        cflog_gen::generate(&opts, &mut data).unwrap();
        let mut parser = cflog_core::Parser::realtime(Schema::realtime_release(46).unwrap());
        let mut summary = cflog_core::summary::Summary::new(cflog_core::summary::SummaryOptions::default());
        let mut buf = cflog_core::RecordBuf::new();
        for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            summary.add(&parser.parse_line(line, &mut buf).unwrap().unwrap()).unwrap();
        }
        let mut r = summary.report(10);
        let uris = r["top"]["uri"].as_array_mut().unwrap();
        uris[8]["key"] = "/ダウンロード/ファイル/とても長いファイル名のドキュメント/版/最終版/最新.pdf".into();
        uris[9]["key"] = "/line\nbreak\tand tab".into();
        r
    }

    #[test]
    fn no_line_is_wider_than_the_screen() {
        let r = rich_report();
        for w in (MIN_WIDTH..=200).step_by(7).chain([80, 99, 100, 160]) {
            for color in [false, true] {
                let screen = render_with(&r, &View { width: w, color, source: None });
                let text = plain(&screen);
                for line in text.lines() {
                    assert!(width(line) <= w, "{} columns at width {w}: {line:?}", width(line));
                    assert!(!line.contains(['\t', '\r']), "{line:?}");
                }
                if color {
                    assert_eq!(text, render_with(&r, &at(w)), "colour changes only the escapes");
                    assert!(screen.contains("\x1b["));
                } else {
                    assert!(!screen.contains('\x1b'));
                }
            }
        }
        // Narrower than MIN_WIDTH is drawn at MIN_WIDTH.
        assert_eq!(render_with(&r, &at(20)), render_with(&r, &at(MIN_WIDTH)));
    }

    #[test]
    fn one_column_below_100_two_above_with_wider_labels() {
        let r = rich_report();
        let narrow = render_with(&r, &at(99));
        assert_eq!(line_with(&narrow, "Status class"), "Status class");
        assert!(narrow.lines().any(|l| l == "Result type"), "{narrow}");
        let wide = render_with(&r, &at(100));
        assert!(line_with(&wide, "Status class").ends_with("Result type"), "{wide}");
        // Wider screens give the labels the room.
        let label_of_first_user_agent = |screen: &str| {
            let row = screen.lines().skip_while(|l| !l.starts_with("Top user agents")).nth(1).unwrap();
            // The row is ` LABEL COUNT SHARE`, maybe with another table's row after it.
            let count = thousands(r["top"]["user_agent"][0]["count"].as_u64().unwrap());
            row.split(&format!(" {count} ")).next().unwrap().trim().to_string()
        };
        let ua = r["top"]["user_agent"][0]["key"].as_str().unwrap();
        let (at_80, at_100, at_160) = (
            label_of_first_user_agent(&render_with(&r, &at(80))),
            label_of_first_user_agent(&wide),
            label_of_first_user_agent(&render_with(&r, &at(160))),
        );
        assert!(width(ua) > 100, "{ua}");
        assert!(width(&at_80) > width(&at_100) && width(&at_160) > width(&at_100) + 25, "{at_80}\n{at_100}\n{at_160}");
        // (Each top list also has its bytes and 5xx columns at 160.)
        assert!(at_160.starts_with("Mozilla/5.0 (Windows") && at_160.ends_with("42.0.0.0 Safari/537.36"), "{at_160}");
    }

    #[test]
    fn addresses_are_never_cut() {
        let r = rich_report();
        let ips: Vec<&str> = r["top"]["client_ip"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
        assert!(ips.iter().any(|ip| ip.len() == 39), "a full-length IPv6 address: {ips:?}");
        for w in [MIN_WIDTH, 80, 100, 120, 160] {
            let screen = render_with(&r, &at(w));
            for ip in &ips {
                assert!(screen.contains(&format!(" {ip} ")), "{ip} cut at width {w}:\n{screen}");
            }
        }
    }

    #[test]
    fn long_labels_keep_both_ends() {
        assert_eq!(clip_middle("/michaelw/real-time-logs-all_fields.log", 32), "/michaelw/real-…s-all_fields.log");
        assert_eq!(clip_middle("/michaelw/real-time-logs-all_fields_2.log", 32), "/michaelw/real-…all_fields_2.log");
        assert_eq!(clip_middle("short", 32), "short");
        assert_eq!(clip_end("abcdef", 4), "abc…");
        // Wide characters count two columns.
        assert!((11..=12).contains(&width(&clip_middle("日本語のとても長いファイル名.pdf", 12))));
        // Two URIs alike but for their ends stay apart on an 80-column screen.
        let mut r = json!({"records": 10, "top": {"uri": [
            {"key": "/michaelw/real-time-logs-all_fields/2024/11/01/distribution-a.log", "count": 6},
            {"key": "/michaelw/real-time-logs-all_fields/2024/11/01/distribution-b.log", "count": 4},
        ]}});
        let screen = render_with(&r, &at(MIN_WIDTH));
        let rows: Vec<&str> = screen.lines().skip_while(|l| *l != "Top URIs").skip(1).take(2).collect();
        assert!(rows[0].contains("…") && rows[0].contains("distribution-a.log"), "{screen}");
        assert!(rows[1].contains("distribution-b.log"), "{screen}");
        r["top"]["user_agent"] = json!([{"key": "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0 (a very long tail)", "count": 1}]);
        assert!(render_with(&r, &at(MIN_WIDTH)).contains("(a very long tail)"));
    }

    #[test]
    fn every_top_entry_in_the_report_is_shown() {
        // `--top` sets how many entries the report keeps; the dashboard shows them all.
        let entries: Vec<Value> = (0..25).map(|i| json!({"key": format!("/page/{i}"), "count": 100 - i, "overcount_max": 0})).collect();
        let r = json!({"records": 2000, "options": {"top_n": 25}, "top": {"uri": entries, "referer": entries[..3]}});
        let screen = render(&r);
        for i in 0..25 {
            assert!(screen.contains(&format!(" /page/{i} ")), "/page/{i} missing:\n{screen}");
        }
    }

    #[test]
    fn every_4xx_and_5xx_code_present_is_listed() {
        let mut status = serde_json::Map::new();
        for (code, n) in [("200", 90_000), ("304", 5000), ("301", 3000), ("302", 2000), ("206", 1500), ("204", 1200), ("201", 1100), ("307", 1000), ("308", 900)] {
            status.insert(code.into(), n.into());
        }
        status.insert("503".into(), 2029.into());
        status.insert("404".into(), 3.into());
        status.insert("100".into(), 1.into());
        let r = json!({"records": 107_733, "status": status});
        let screen = render(&r);
        for code in ["200", "503", "404"] {
            assert!(screen.lines().any(|l| l.starts_with(&format!(" {code} "))), "{code} missing:\n{screen}");
        }
        // The eighth most common code is there; the ninth and the 100 are not, and the
        // table says so.
        assert!(screen.contains("\n 201 ") && !screen.contains("\n 307 ") && !screen.contains("\n 100 "), "{screen}");
        assert!(screen.contains("… 3 other codes (none 4xx or 5xx)"), "{screen}");
    }

    fn minute_windows(counts: &[u64]) -> Value {
        let windows: Vec<Value> = counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| json!({"start_ms": 1_700_000_040_000i64 + i as i64 * 60_000, "records": n, "status_class": {"5xx": n / 10}}))
            .collect();
        let total: u64 = counts.iter().sum();
        json!({"records": total, "status": {"200": total}, "status_class": {"5xx": total / 10}, "window": {"ms": 60_000, "requested_ms": 60_000}, "windows": windows})
    }

    #[test]
    fn sparkline_columns_say_their_span_and_the_max_is_a_column_sum() {
        // 84 one-minute windows, more than the ~77 columns at 100: two windows a column.
        let counts: Vec<u64> = (0..84).map(|i| if i == 41 { 281 } else if i == 42 { 234 } else { 10 + i % 7 }).collect();
        let screen = render(&minute_windows(&counts));
        let line = line_with(&screen, "Requests / ");
        assert!(line.starts_with("Requests / 2m  "), "{screen}");
        // 1_700_000_040_000 is 22:14 UTC, an even minute: columns pair windows (40, 41)
        // and (42, 43) (1-based 41st and 42nd), so the largest column is 281 + 10 + 41 % 7.
        assert!(line.ends_with(&format!(" max {}", 281 + 10 + 40 % 7)), "{line}");
        assert_eq!(line.chars().filter(|c| SPARKS.contains(c)).count(), 42, "{line}");
        // The axis: the chart's first and last minute under its ends.
        let axis = screen.lines().skip_while(|l| !l.starts_with("5xx / ")).nth(1).unwrap();
        assert_eq!(axis.trim_start(), format!("2023-11-14 22:14{}2023-11-14 23:38 UTC", " ".repeat(42 - 16 - 20)), "{screen}");
        let chart_start = line.find('▁').map_or(0, |_| line.chars().position(|c| SPARKS.contains(&c)).unwrap());
        assert_eq!(axis.len() - axis.trim_start().len(), chart_start, "{screen}");

        // Fewer windows than columns: each spreads over several columns, labelled per window.
        let screen = render(&minute_windows(&[4, 0, 6]));
        assert!(line_with(&screen, "Requests / 1m  ").ends_with(&format!("{}{}{} max 6", "▆".repeat(8), " ".repeat(8), "█".repeat(8))), "{screen}");
    }

    #[test]
    fn columns_pick_a_span_that_divides_a_day() {
        let day = 86_400_000;
        // 2,508 minutes in 78 columns: 33 minutes would do, 36 divides a day.
        let c = columns(60_000, 2_508 * 60_000, 60_000, 78);
        assert_eq!((c.span_ms, c.origin, c.used), (36 * 60_000, 0, 70));
        // One window a column when they fit.
        assert_eq!(columns(0, 9 * 60_000, 60_000, 20), Columns { origin: 0, span_ms: 60_000, used: 10, stretch: 2 });
        assert_eq!(columns(0, 0, 60_000, 70).stretch, MAX_STRETCH);
        // Windows a day wide, for a year: whole days a column.
        let c = columns(0, 364 * day as i64, day, 70);
        assert_eq!((c.span_ms, c.used), (6 * day, 61));
        // Seven-minute windows: no nice span near, the narrowest that fits.
        let c = columns(0, 99 * 420_000, 420_000, 30);
        assert_eq!((c.span_ms, c.used), (4 * 420_000, 25));
    }

    #[test]
    fn a_coarsened_series_is_drawn_at_its_own_width_and_says_so() {
        let note = "window widened from 1m to 5m: at 1m there would be more than 10080 windows (max_windows)";
        let r = json!({
            "records": 10,
            "window": {"ms": 300_000, "requested_ms": 60_000, "note": note},
            "options": {"window_ms": 60_000},
            "windows": [{"start_ms": 0, "records": 4}, {"start_ms": 600_000, "records": 6}],
        });
        let screen = render(&r);
        assert!(screen.lines().any(|l| l == format!("Note: {note}")), "{screen}");
        // Three 5-minute windows, the middle one empty.
        assert!(screen.contains(&format!("Requests / 5m   {}{}{} max 6", "▆".repeat(8), " ".repeat(8), "█".repeat(8))), "{screen}");
        let plain = json!({"records": 1, "window": {"ms": 60_000, "requested_ms": 60_000, "note": null}});
        assert!(!render(&plain).contains("Note:"));
        // At 80 columns the note wraps.
        assert!(render_with(&r, &at(80)).contains("\nNote: window widened from 1m to 5m: at 1m there would be more than 10080 windows\n  (max_windows)\n"));
    }

    #[test]
    fn runs_over_several_days_get_a_table_per_day_or_per_hour() {
        let day = 86_400_000i64;
        let report = |windows: Value| json!({"records": 9, "bytes_sent": 9000, "window": {"ms": 3_600_000}, "windows": windows});
        let w = |start: i64, n: u64, c5: u64| {
            json!({"start_ms": start, "records": n, "bytes_sent": n * 1000, "status_class": {"4xx": 1, "5xx": c5}, "cache_hits": c5 * 3, "cache_misses": 1})
        };
        // 20:00 to 03:00 the next day: per hour, a single empty hour as zeros, a run of
        // them as one line.
        let screen = render(&report(json!([w(day + 20 * 3_600_000, 4, 1), w(day + 22 * 3_600_000, 1, 0), w(2 * day + 2 * 3_600_000, 4, 0)])));
        let rows: Vec<&str> = screen.lines().skip_while(|l| !l.starts_with("Per hour (UTC)")).take_while(|l| !l.is_empty()).collect();
        assert_eq!(
            rows,
            [
                "Per hour (UTC)     Requests      Sent  4xx  5xx   5xx %   Hit %",
                " 1970-01-02 20:00         4   3.9 KiB    1    1  25.00%   75.0%",
                " 1970-01-02 21:00         0       0 B    0    0       –       –",
                " 1970-01-02 22:00         1    1000 B    1    0   0.00%    0.0%",
                " (no records from 1970-01-02 23:00 to 1970-01-03 02:00)",
                " 1970-01-03 02:00         4   3.9 KiB    1    0   0.00%    0.0%",
            ],
            "{screen}"
        );
        // Three days: per day.
        let screen = render(&report(json!([w(day, 4, 1), w(3 * day + 5 * 3_600_000, 5, 0)])));
        assert!(screen.contains("\nPer day (UTC)  Requests      Sent  4xx  5xx   5xx %   Hit %\n 1970-01-02           4   3.9 KiB    1    1  25.00%   75.0%\n 1970-01-03           0"), "{screen}");
        // Within one day: no table.
        assert!(!render(&report(json!([w(day, 4, 1), w(day + 5 * 3_600_000, 5, 0)]))).contains("Per "));
        // Empty days between: one line for the run.
        let screen = render(&report(json!([w(day, 4, 1), w(2 * day, 1, 0), w(100 * day, 5, 0)])));
        let rows: Vec<&str> = screen.lines().skip_while(|l| !l.starts_with("Per day (UTC)")).skip(1).take_while(|l| !l.is_empty()).collect();
        assert_eq!(rows.len(), 4, "{screen}");
        assert_eq!(rows[2], " (no records from 1970-01-04 to 1970-04-11)", "{screen}");
        // A year of days: at most 31 rows, of whole days.
        let windows: Vec<Value> = (0..365).map(|d| w(d * day, 1, 0)).collect();
        let mut r = report(Value::Array(windows));
        r["window"]["ms"] = day.into();
        let screen = render(&r);
        let rows: Vec<&str> = screen.lines().skip_while(|l| !l.starts_with("Per 16d (UTC)")).skip(1).take_while(|l| !l.is_empty()).collect();
        assert_eq!((rows.len(), rows[0].split_whitespace().nth(1)), (23, Some("16")), "{screen}");
    }

    fn standard_source() -> Source {
        let schema = Schema::from_w3c_fields(b"#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent)").unwrap().unwrap();
        Source::analyzed(&[InputRead { name: "access.log".into(), bytes: 2_048, gzip: false, origin: LayoutOrigin::Header, layouts: vec![schema], decodes_twice: false }])
    }

    #[test]
    fn empty_panels_say_why() {
        let r = json!({"records": 3, "status": {"200": 3}, "status_class": {"2xx": 3}, "top": {"uri": [{"key": "/", "count": 3}]}});
        let screen = render_with(&r, &View { width: 80, source: Some(standard_source()), ..View::default() });
        assert!(screen.contains("Top countries\n (no c-country field in this layout)\n"), "{screen}");
        assert!(screen.contains("Top referers\n (cs(Referer) is - on every record)\n"), "{screen}");
        assert!(screen.contains("Result type\n (no x-edge-result-type field in this layout)\n"), "{screen}");
        assert!(screen.contains("Latency\n (no time-taken field in this layout)\n"), "{screen}");
        assert!(line_with(&screen, "Requests over time").ends_with(": date is - on every record"), "{screen}");
        // Without the layouts (a merged report), no guess about the cause.
        assert!(render_with(&r, &at(80)).contains("Top countries\n (no record has a value for c-country)\n"));
        let none = render_with(&json!({"records": 0}), &at(80));
        assert!(none.contains("Top URIs\n (no records)\n"), "{none}");
        // No 5xx is not no data.
        let r = minute_windows(&[3, 4]);
        let mut r2 = r.clone();
        r2["status_class"]["5xx"] = 0.into();
        assert!(line_with(&render(&r2), "5xx / 1m").ends_with("(no 5xx responses)"));
    }

    #[test]
    fn the_screen_says_what_was_read() {
        let screen = render_with(&json!({"records": 1}), &View { source: Some(standard_source()), ..View::default() });
        assert_eq!(screen.lines().nth(1), Some("Read access.log (2.0 KiB): standard log, #Fields header, 11 columns."));
        let rt = |name: &str, origin, n| InputRead {
            name: name.into(),
            bytes: 1 << 20,
            gzip: name.ends_with(".gz"),
            origin,
            layouts: vec![Schema::realtime_release(n).unwrap()],
            decodes_twice: false,
        };
        assert_eq!(
            Source::analyzed(&[rt("-", LayoutOrigin::Inferred, 46)]).read,
            "Read stdin (1.0 MiB): real-time log, 46 fields, inferred from the field count: the AWS field list of 2024 (s-ip)."
        );
        assert_eq!(
            Source::analyzed(&[rt("a.log", LayoutOrigin::Given, 40), rt("b.log.gz", LayoutOrigin::Given, 40)]).read,
            "Read 2 files (2.0 MiB): a.log (1.0 MiB), real-time log, 40 fields from --fields; b.log.gz (1.0 MiB, gzip), real-time log, 40 fields from --fields."
        );
        let mut many: Vec<InputRead> = (0..5).map(|i| rt(&format!("{i}.gz"), LayoutOrigin::Inferred, 46)).collect();
        many.push(InputRead { name: "std.log".into(), bytes: 0, gzip: false, origin: LayoutOrigin::NoHeader, layouts: vec![Schema::standard_default()], decodes_twice: false });
        assert_eq!(
            Source::analyzed(&many).read,
            "Read 6 files (5.0 MiB, 5 gzip): 5 real-time logs (46 fields, inferred from the field count: the AWS field list of 2024 (s-ip)); 1 standard log (no #Fields header, so 33 columns (the default layout))."
        );
        let legacy = InputRead { name: "2016.log".into(), bytes: 727, gzip: false, origin: LayoutOrigin::Header, layouts: vec![Schema::standard_default()], decodes_twice: true };
        assert_eq!(
            Source::analyzed(&[legacy]).read,
            "Read 2016.log (727 B): standard log, #Fields header, 33 columns, values encoded twice (pre-2020), decoded twice."
        );
        assert_eq!(Source::merged(&["a.json".into(), "b.json".into()]).read, "Merged 2 reports: a.json, b.json (their logs' layouts are not in the reports).");
    }

    #[test]
    fn sampled_logs_show_the_estimates_marked_as_such() {
        // 123,456 records at 10 %: the report's estimates are floats.
        let r = json!({
            "records": 123_456, "bytes_sent": 5_000_000_000u64,
            "sampling": {"rate": 10, "scale": 10.0, "estimated_records": 1_234_560.0, "estimated_bytes_sent": 50_000_000_000.0},
        });
        let screen = render_with(&r, &at(160));
        assert_eq!(
            line_with(&screen, "Sampled"),
            "Sampled at 10 %: ≈ 1.23 million requests, ≈ 46.6 GiB sent (estimated; every count below is of the 123,456 sampled records)"
        );
        // At 100 columns the sentence wraps.
        assert!(render(&r).contains("\nSampled at 10 %: ≈ 1.23 million requests, ≈ 46.6 GiB sent (estimated; every count below is of the\n  123,456 sampled records)\n"));
        assert!(line_with(&screen, "Requests ").starts_with("Requests 123,456 sampled   Sent 4.7 GiB"), "{screen}");
        // Small counts, and no sc-bytes in the field set.
        let r = json!({
            "records": 2, "bytes_sent": 0,
            "sampling": {"rate": 25, "scale": 4.0, "estimated_records": 8.0, "estimated_bytes_sent": 0.0},
        });
        assert_eq!(
            line_with(&render(&r), "Sampled"),
            "Sampled at 25 %: ≈ 8 requests, sent – (estimated; every count below is of the 2 sampled records)"
        );
        let unsampled = json!({"records": 2, "sampling": {"rate": null, "scale": 1.0, "estimated_records": 2.0}});
        assert!(!render(&unsampled).contains("ampled"));
    }

    #[test]
    fn no_sc_bytes_is_no_data_not_zero_bytes() {
        let r = json!({"records": 5, "bytes_sent": 0});
        assert!(line_with(&render(&r), "Requests ").contains("   Sent –   "));
        let r = json!({"records": 5, "bytes_sent": 784});
        assert!(line_with(&render(&r), "Requests ").contains("   Sent 784 B   "));
    }

    #[test]
    fn latencies_carry_their_unit() {
        let r = json!({"records": 3, "latency_ms": {
            "time_taken": {"p50": 1.0, "p90": 120.0, "p95": 1250.0, "p99": 12_500.0, "max": 3_663_400.0},
            "ttfb": {"p50": 0.4, "p90": null, "p95": 99.96, "p99": 99.94, "max": 99.96},
        }});
        let screen = render(&r);
        assert!(line_with(&screen, "Latency  ").starts_with("Latency  time-taken p50 1.0ms p95 1.25s p99 12.5s   TTFB p50 0.4ms"), "{screen}");
        let header = line_with(&screen, "Latency   ").to_string();
        assert!(header.starts_with("Latency        p50    p90    p95     p99    max") && !header.contains("(ms)"), "{screen}");
        assert!(line_with(&screen, " time_taken").starts_with(" time_taken  1.0ms  120ms  1.25s   12.5s  3663s"), "{screen}");
        assert!(line_with(&screen, " ttfb").starts_with(" ttfb        0.4ms      –  100ms  99.9ms  100ms"), "{screen}");
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
        let r = json!({"records": 2, "time": {"first_ms": 0, "last_ms": 60_000}});
        assert!(line_with(&render(&r), "Requests ").starts_with("Requests 2 (2.0/min)   "));
    }

    #[test]
    fn one_record_one_bad_line() {
        let r = json!({"records": 1, "bad_lines": 1});
        assert!(render(&r).starts_with("cflog · no timestamps · 1 record · 1 bad line\n"));
        let r = json!({"records": 0, "bad_lines": 2});
        assert!(render(&r).starts_with("cflog · no timestamps · 0 records · 2 bad lines\n"));
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aa bb cc", 5, 2), ["aa bb", "  cc"]);
        assert_eq!(wrap("", 5, 2), [""]);
        assert_eq!(wrap("abcdefghij", 5, 0), ["ab…ij"]);
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
        assert_eq!((duration(500), duration(30_000), duration(120_000), duration(86_400_000)), ("500ms".into(), "30s".into(), "2m".into(), "1d".into()));
    }
}
