//! The inspector's engine in plain Rust (no JavaScript types), so it is tested natively
//! against `cflog analyze`. The wasm-bindgen layer in `lib.rs` only converts errors.
//!
//! Two ways in, sharing one code path:
//! - streaming (one thread): `begin_file`, `push` any byte chunks, `end_file`. The engine
//!   cuts newline-aligned chunks of about 1 MiB exactly as `cflog analyze` does.
//! - chunked (several workers): a [`Cutter`] on the page cuts each file into
//!   newline-aligned chunks and tells each chunk its layout and first line number; workers
//!   `push_chunk` them into their own engine; the page merges the engines' states.

use std::collections::BTreeMap;

use cflog_core::agg::{Merge, Rank};
use cflog_core::layout::double_encoded;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::filter::Filter;
use cflog_core::{Format, ParseError, Parser, RecordBuf, Schema};
use serde_json::{Value, json};

use crate::rule::Verdict;

/// Bytes per chunk, as `cflog analyze` reads them (`cflog_cli::input::CHUNK`).
pub const CHUNK: usize = 1 << 20;

/// `format` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    /// Detect per file from its first line.
    Auto,
    /// Real-time records.
    Realtime,
    /// Standard logs.
    Standard,
}

/// Everything the inspector is configured with.
#[derive(Debug, Clone)]
pub struct Options {
    /// Format choice.
    pub format: FormatChoice,
    /// Real-time layout given by the user (field set), if any.
    pub realtime: Option<Schema>,
    /// Decode percent-escapes twice in every file (otherwise decided per file: pre-2020
    /// standard logs encode twice).
    pub double_decode: bool,
    /// How records aggregate.
    pub summary: SummaryOptions,
    /// Entries in each top list of the report.
    pub top_n: usize,
    /// What the top lists rank by.
    pub top_by: Rank,
    /// Bad lines kept with their messages (all are counted).
    pub max_errors: usize,
    /// Records kept by a filtered re-aggregation (the core's filter, as the CLI's
    /// `--status`, `--edge`, ... flags build it).
    pub filter: Filter,
    /// Raw-line search: the text to find, and how many matches to keep.
    pub search: Option<Vec<u8>>,
    /// Matches kept.
    pub max_matches: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: FormatChoice::Auto,
            realtime: None,
            double_decode: false,
            summary: SummaryOptions::default(),
            top_n: 10,
            top_by: Rank::Requests,
            max_errors: 20,
            filter: Filter::default(),
            search: None,
            max_matches: 1000,
        }
    }
}

/// Reads a field set: `a,b c`, or JSON (`get-realtime-log-config` output, a
/// `RealtimeLogConfig` object, `{"Fields": [...]}`, or an array of names). Returns the
/// names and the sampling rate when the config carried one.
pub fn parse_fields_spec(text: &str) -> Result<(Vec<String>, Option<u32>), String> {
    let spec = cflog_engine::parse_fields_spec(text).map_err(|e| e.to_string())?;
    Ok((spec.names, spec.sampling_rate))
}

fn opt_str(v: &Value, key: &str) -> Result<Option<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("option {key}: expected a string, got {other}")),
    }
}

fn opt_u64(v: &Value, key: &str) -> Result<Option<u64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n.as_u64().map(Some).ok_or_else(|| format!("option {key}: expected a non-negative integer, got {n}")),
    }
}

fn opt_i64(v: &Value, key: &str) -> Result<Option<i64>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n.as_i64().map(Some).ok_or_else(|| format!("option {key}: expected an integer, got {n}")),
    }
}

impl Options {
    /// Options from JSON: `{"format": "auto"|"realtime"|"standard", "fields": "a,b" | [..] |
    /// config JSON text, "fields_order": "canonical"|"as-given", "double_decode": bool,
    /// "window_ms", "top_capacity", "top_n", "top_by": "requests"|"bytes"|"errors", "sampling_rate", "max_errors", "max_matches",
    /// "search": "text", "filter": {...} (as [`filter_from_json`] reads it), "now_ms": the
    /// page's clock, for relative filter times}`.
    /// Absent keys take the defaults of `cflog analyze`.
    pub fn from_json(text: &str) -> Result<Options, String> {
        let v: Value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(text).map_err(|e| format!("options are not JSON: {e}"))?
        };
        let format = match opt_str(&v, "format")?.as_deref() {
            None | Some("auto") => FormatChoice::Auto,
            Some("realtime") | Some("real-time") => FormatChoice::Realtime,
            Some("standard") => FormatChoice::Standard,
            Some(other) => return Err(format!("option format: {other:?} is not auto, realtime or standard")),
        };
        let mut o = Options { format, ..Options::default() };
        let mut spec_rate = None;
        let names = match v.get("fields") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => {
                let (names, rate) = parse_fields_spec(s)?;
                spec_rate = rate;
                Some(names)
            }
            Some(arr @ Value::Array(_)) => Some(parse_fields_spec(&arr.to_string())?.0),
            Some(other) => return Err(format!("option fields: expected a string or a list, got {other}")),
        };
        if let Some(names) = names {
            let as_given = opt_str(&v, "fields_order")?.as_deref() == Some("as-given");
            let schema = if as_given { Schema::realtime_ordered(&names) } else { Schema::from_field_names(&names) };
            o.realtime = Some(schema.map_err(|e| format!("field set: {e}"))?);
            if o.format == FormatChoice::Standard {
                return Err("a field set describes real-time logs; standard logs carry their layout in the #Fields: header".into());
            }
        }
        o.double_decode = v.get("double_decode").and_then(Value::as_bool).unwrap_or(false);
        if let Some(w) = opt_u64(&v, "window_ms")? {
            if w == 0 {
                return Err("option window_ms: the window must be longer than 0".into());
            }
            o.summary.window_ms = w;
        }
        if let Some(c) = opt_u64(&v, "top_capacity")? {
            o.summary.top_capacity = u32::try_from(c).map_err(|_| "option top_capacity: too large".to_string())?.max(1);
        }
        let rate = match opt_u64(&v, "sampling_rate")? {
            Some(r) if (1..=100).contains(&r) => Some(r as u32),
            Some(r) => return Err(format!("option sampling_rate: {r} is not a percentage from 1 to 100")),
            None => spec_rate,
        };
        o.summary.sampling_rate = rate;
        if let Some(n) = opt_u64(&v, "top_n")? {
            o.top_n = n as usize;
        }
        if let Some(by) = opt_str(&v, "top_by")? {
            o.top_by = Rank::from_name(&by).ok_or_else(|| format!("option top_by: {by:?} is not requests, bytes or errors"))?;
        }
        if let Some(n) = opt_u64(&v, "max_errors")? {
            o.max_errors = n.min(10_000) as usize;
        }
        if let Some(n) = opt_u64(&v, "max_matches")? {
            o.max_matches = n.min(100_000) as usize;
        }
        o.search = opt_str(&v, "search")?.map(String::into_bytes);
        if let Some(f) = v.get("filter").filter(|f| !f.is_null()) {
            // Relative filter times (`"since": "2h"`) count back from the page's clock.
            o.filter = filter_from_json(f, opt_i64(&v, "now_ms")?.unwrap_or(0))?;
        }
        Ok(o)
    }
}

/// The core's [`Filter`] from the page's JSON: the CLI's flags as keys (`"status": "5xx,404"`,
/// `"since"`, `"until"`, `"uri_prefix"`, `"edge"`, `"country"`, `"distribution"`,
/// `"exclude_bots": true`, `"tag": "k=v"` or `"tags": ["k=v", "k!=v"]`, `"keys": ["uri=/a",
/// "country!=US"]` for clicked top-list rows), plus what a page
/// has that a command line has not: `"status_classes": ["4xx", "other", ...]` (ticked
/// boxes), `"from_ms"`/`"to_ms"` (a dragged time range, epoch ms). Values are read by
/// [`Filter::set`], so a value the CLI refuses is refused here with the same words.
pub fn filter_from_json(f: &Value, now_ms: i64) -> Result<Filter, String> {
    let mut filter = Filter::new();
    let mut set = |option: &str, value: &str| filter.set(option, value, now_ms).map_err(|e| format!("filter: {e}"));
    if let Some(list) = f.get("status_classes").and_then(Value::as_array).filter(|l| !l.is_empty()) {
        let names: Vec<&str> = list.iter().map(|c| c.as_str().unwrap_or("?")).collect();
        set("status", &names.join(","))?;
    }
    for (key, option) in [
        ("status", "status"),
        ("since", "since"),
        ("until", "until"),
        ("uri_prefix", "uri-prefix"),
        ("edge", "edge"),
        ("country", "country"),
        ("distribution", "distribution"),
        ("tag", "tag"),
    ] {
        if let Some(value) = opt_str(f, key)? {
            set(option, &value)?;
        }
    }
    for (list, option) in [("tags", "tag"), ("keys", "key")] {
        for t in f.get(list).and_then(Value::as_array).into_iter().flatten() {
            set(option, t.as_str().ok_or_else(|| format!("filter {list}: expected a list of strings"))?)?;
        }
    }
    if f.get("exclude_bots").and_then(Value::as_bool) == Some(true) {
        set("exclude-bots", "true")?;
    }
    let (from, to) = (opt_i64(f, "from_ms")?, opt_i64(f, "to_ms")?);
    if from.is_some() || to.is_some() {
        filter.set_range(from.or(filter.since_ms()), to.or(filter.until_ms()));
    }
    Ok(filter)
}

/// A chunk's layout as text, to hand to a worker: `R` or `S` (followed by `2` when its
/// file's values are decoded twice), then the column names, all separated by tabs.
pub fn layout_token(schema: &Schema, double_decode: bool) -> String {
    let mut s = String::from(if schema.format() == Format::Standard { "S" } else { "R" });
    if double_decode {
        s.push('2');
    }
    for n in schema.names() {
        s.push('\t');
        s.push_str(n);
    }
    s
}

/// The schema of a [`layout_token`] and whether values are decoded twice.
pub fn layout_of_token(token: &str) -> Result<(Schema, bool), String> {
    let mut parts = token.split('\t');
    let kind = parts.next().unwrap_or("");
    let names: Vec<&str> = parts.collect();
    let (format, twice) = match kind {
        "R" | "R2" => (Format::RealTime, kind.len() == 2),
        "S" | "S2" => (Format::Standard, kind.len() == 2),
        _ => return Err(format!("layout token {kind:?} is not R, R2, S or S2")),
    };
    let schema = match format {
        Format::RealTime => Schema::realtime_ordered(&names),
        Format::Standard => Schema::standard(&names),
    };
    Ok((schema.map_err(|e| format!("layout: {e}"))?, twice))
}

/// Layout and line numbering of one input as it is cut into chunks (the reader side of
/// `cflog analyze`).
#[derive(Debug, Clone)]
pub struct Cutter {
    format: FormatChoice,
    realtime: Option<Schema>,
    force_double_decode: bool,
    name: String,
    schema: Option<Schema>,
    double_decode: bool,
    lines_before: u64,
}

/// Where a chunk starts: its layout and the lines of its input before it.
#[derive(Debug, Clone)]
pub struct ChunkStart {
    /// Layout in force at the chunk's first line.
    pub schema: Schema,
    /// Lines of the input before the chunk.
    pub first_line: u64,
    /// Whether its input's values are decoded twice (decided at the input's first chunk).
    pub double_decode: bool,
}

impl Cutter {
    /// A cutter for inputs laid out by `options`.
    pub fn new(options: &Options) -> Cutter {
        Cutter {
            format: options.format,
            realtime: options.realtime.clone(),
            force_double_decode: options.double_decode,
            name: String::new(),
            schema: None,
            double_decode: false,
            lines_before: 0,
        }
    }

    /// Starts a new input.
    pub fn begin_file(&mut self, name: &str) {
        self.name = name.to_string();
        self.schema = None;
        self.lines_before = 0;
    }

    fn first_schema(&self, head: &[u8]) -> Result<Schema, String> {
        // The layout choice (and its error text) is cflog-engine's, the CLI's.
        let format = match self.format {
            FormatChoice::Realtime => cflog_engine::FormatChoice::Realtime,
            FormatChoice::Standard => cflog_engine::FormatChoice::Standard,
            FormatChoice::Auto => cflog_engine::FormatChoice::Auto,
        };
        let choice = cflog_engine::LayoutChoice { format, realtime: self.realtime.clone(), double_decode: false };
        choice.first_schema(&self.name, head).map_err(|e| e.to_string())
    }

    /// Describes the next newline-aligned chunk of the current input (`bytes` ends at a
    /// line end, or at the end of the input) and advances past it.
    pub fn take(&mut self, bytes: &[u8]) -> Result<ChunkStart, String> {
        let current = match &self.schema {
            Some(s) => s.clone(),
            None => {
                let s = self.first_schema(bytes)?;
                // Pre-2020 standard logs encode twice; each file is judged by its first records.
                self.double_decode =
                    self.force_double_decode || (s.format() == Format::Standard && double_encoded(bytes));
                self.schema = Some(s.clone());
                s
            }
        };
        let newlines = memchr::memchr_iter(b'\n', bytes).count() as u64;
        if current.format() == Format::Standard
            && let Some(pos) = memchr::memmem::rfind(bytes, b"#Fields:")
        {
            let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |e| pos + e);
            let line = bytes[pos..end].strip_suffix(b"\r").unwrap_or(&bytes[pos..end]);
            if let Some(Ok(next)) = Schema::from_w3c_fields(line) {
                self.schema = Some(next);
            }
        }
        let start = ChunkStart { schema: current, first_line: self.lines_before, double_decode: self.double_decode };
        self.lines_before += newlines;
        Ok(start)
    }
}

/// A bad line, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadLine {
    /// Index of the input.
    pub file: u32,
    /// 1-based line number.
    pub line: u64,
    /// `field F: reason`.
    pub message: String,
}

/// A raw line that contains the searched text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    /// Index of the input.
    pub file: u32,
    /// 1-based line number.
    pub line: u64,
    /// The line (lossy UTF-8, cut at 4,000 bytes).
    pub text: String,
    /// The record as `cflog parse` prints it (a JSON object), when the line is one.
    pub record: Option<String>,
}

/// Tags of one record, from an enrichment rule: `(key, value)` pairs.
pub type Tags = Vec<(String, String)>;


/// The aggregating side: a summary, bad lines, search matches.
#[derive(Debug)]
pub struct Engine {
    options: Options,
    summary: Summary,
    buf: RecordBuf,
    bad: Vec<BadLine>,
    matches: Vec<Match>,
    match_count: u64,
    rule_dropped: u64,
    lines: u64,
    cached: Option<(String, Schema, bool)>,
    // Streaming state.
    cutter: Cutter,
    file: u32,
    files: u32,
    pending: Vec<u8>,
}

impl Engine {
    /// An empty engine.
    pub fn new(options: Options) -> Engine {
        Engine {
            summary: Summary::new(options.summary),
            cutter: Cutter::new(&options),
            options,
            buf: RecordBuf::new(),
            bad: Vec::new(),
            matches: Vec::new(),
            match_count: 0,
            rule_dropped: 0,
            lines: 0,
            cached: None,
            file: 0,
            files: 0,
            pending: Vec::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Lines seen so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Records an enrichment rule asked to drop.
    pub fn rule_dropped(&self) -> u64 {
        self.rule_dropped
    }

    fn bad_line(&mut self, file: u32, e: &ParseError) {
        self.summary.add_bad_line();
        let entry = BadLine { file, line: e.line, message: e.reason().to_string() };
        if self.bad.len() < self.options.max_errors {
            self.bad.push(entry);
        } else if let Some(max) = self.bad.iter_mut().max().filter(|m| **m > entry) {
            *max = entry;
        }
    }

    fn keep(filter: &Filter, record: &cflog_core::Record<'_>, tags: Option<&Tags>) -> Result<bool, ParseError> {
        let keep = filter.keep(record)? && filter.keep_tags(|k, v| tags.is_some_and(|t| t.iter().any(|(tk, tv)| tk == k && tv == v)));
        if !keep {
            // Bad lines are bad whatever the filter, as in `cflog analyze`.
            Summary::check(record)?;
        }
        Ok(keep)
    }

    fn layout_for(&mut self, token: &str) -> Result<(Schema, bool), String> {
        if let Some((t, s, twice)) = &self.cached
            && t == token
        {
            return Ok((s.clone(), *twice));
        }
        let (s, twice) = layout_of_token(token)?;
        self.cached = Some((token.to_string(), s.clone(), twice));
        Ok((s, twice))
    }

    /// Aggregates a newline-aligned chunk described by a [`Cutter`] (its layout token and
    /// the lines of its input before it).
    pub fn push_chunk(&mut self, bytes: &[u8], file: u32, first_line: u64, token: &str, verdicts: Option<&[Verdict]>) -> Result<(), String> {
        let (schema, double_decode) = self.layout_for(token)?;
        self.run(bytes, file, first_line, schema, double_decode, verdicts)
    }

    fn run(
        &mut self,
        bytes: &[u8],
        file: u32,
        first_line: u64,
        schema: Schema,
        double_decode: bool,
        verdicts: Option<&[Verdict]>,
    ) -> Result<(), String> {
        let mut lines: Vec<&[u8]> = Vec::new();
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            lines.push(&bytes[start..nl]);
            start = nl + 1;
        }
        if start < bytes.len() {
            lines.push(&bytes[start..]);
        }
        self.lines += lines.len() as u64;
        if let Some(needle) = self.options.search.clone() {
            // Matching lines are parsed (headers too, so a standard log's layout switches)
            // and must pass the active filters; the records come back as `cflog parse`
            // prints them.
            let finder = memchr::memmem::Finder::new(&needle);
            let filtering = !self.options.filter.is_empty();
            let mut parser = Parser::with_schema(schema).double_decode(self.options.double_decode).after_line(first_line);
            let mut json = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let found = finder.find(line).is_some();
                if !found && !line.starts_with(b"#") {
                    continue;
                }
                let parsed = match parser.parse_line(line, &mut self.buf) {
                    Ok(Some(record)) => {
                        let keep = !filtering || Self::keep(&self.options.filter, &record, None).unwrap_or(false);
                        json.clear();
                        let text = cflog_core::json::write_record(&record, &mut json).ok().map(|()| String::from_utf8_lossy(&json).into_owned());
                        keep.then_some(text)
                    }
                    // A header, or a bad line: no record, which no filter keeps.
                    Ok(None) | Err(_) => (!filtering).then_some(None),
                };
                if found && let Some(record) = parsed {
                    self.match_count += 1;
                    let m = Match {
                        file,
                        line: first_line + i as u64 + 1,
                        text: String::from_utf8_lossy(&line[..line.len().min(4000)]).trim_end_matches('\r').to_string(),
                        record,
                    };
                    if self.matches.len() < self.options.max_matches {
                        self.matches.push(m);
                    } else if let Some(max) = self.matches.iter_mut().max().filter(|x| **x > m) {
                        *max = m;
                    }
                }
            }
            return Ok(());
        }
        if let Some(v) = verdicts
            && v.len() != lines.len()
        {
            return Err(format!("the enrichment rule returned {} results for {} lines", v.len(), lines.len()));
        }
        let filtering = !self.options.filter.is_empty();
        let mut parser = Parser::with_schema(schema).double_decode(double_decode).after_line(first_line);
        for (i, line) in lines.iter().enumerate() {
            let verdict = verdicts.map(|v| &v[i]);
            if verdict.is_some_and(|v| v.drop) {
                // Parsed anyway, so a bad line is still reported as bad.
                match parser.parse_line(line, &mut self.buf) {
                    Ok(Some(_)) => self.rule_dropped += 1,
                    Ok(None) => {}
                    Err(e) => self.bad_line(file, &e),
                }
                continue;
            }
            let record_tags = verdict.map(|v| &v.tags);
            let outcome = match parser.parse_line(line, &mut self.buf) {
                Ok(Some(record)) => {
                    let keep = if filtering { Self::keep(&self.options.filter, &record, record_tags) } else { Ok(true) };
                    match keep {
                        Ok(false) => Ok(()),
                        Ok(true) => match self.summary.add(&record) {
                            Ok(()) => {
                                if let Some(t) = record_tags {
                                    for (k, v) in t {
                                        self.summary.add_tag(k, v.as_bytes());
                                    }
                                }
                                Ok(())
                            }
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    }
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                self.bad_line(file, &e);
            }
        }
        Ok(())
    }

    /// Starts streaming an input named `name` (for messages).
    pub fn begin_file(&mut self, name: &str) {
        self.cutter.begin_file(name);
        self.file = self.files;
        self.files += 1;
        self.pending.clear();
    }

    /// Streams a chunk of the current input (any size, any boundary).
    pub fn push(&mut self, data: &[u8]) -> Result<(), String> {
        self.pending.extend_from_slice(data);
        if self.pending.len() >= CHUNK
            && let Some(last_nl) = memchr::memrchr(b'\n', &self.pending)
        {
            let rest = self.pending.split_off(last_nl + 1);
            let chunk = std::mem::replace(&mut self.pending, rest);
            let start = self.cutter.take(&chunk)?;
            self.run(&chunk, self.file, start.first_line, start.schema, start.double_decode, None)?;
        }
        Ok(())
    }

    /// Ends the current input.
    pub fn end_file(&mut self) -> Result<(), String> {
        if !self.pending.is_empty() {
            let chunk = std::mem::take(&mut self.pending);
            let start = self.cutter.take(&chunk)?;
            self.run(&chunk, self.file, start.first_line, start.schema, start.double_decode, None)?;
        }
        Ok(())
    }

    /// The versioned report, serialized exactly as `cflog analyze --json` prints it.
    pub fn report_json(&self) -> String {
        self.summary.report_ranked(self.options.top_n, self.options.top_by).to_string()
    }

    /// The summary's mergeable binary state (checksummed; bad lines and matches are not
    /// in it: see [`Engine::bad_lines_json`] and [`Engine::matches_json`]).
    pub fn state(&self) -> Vec<u8> {
        self.summary.encode_state()
    }

    /// Merges another engine's summary state (from [`Engine::state`]).
    pub fn merge_state(&mut self, state: &[u8]) -> Result<(), String> {
        let other = Summary::decode_state(state).map_err(|e| format!("cannot read a worker's state: {e}"))?;
        self.summary.merge(&other).map_err(|e| format!("cannot merge a worker's state: {e}"))
    }

    /// The kept bad lines, sorted, as `[{"file", "line", "message"}]`.
    pub fn bad_lines_json(&self) -> String {
        let mut bad = self.bad.clone();
        bad.sort();
        Value::Array(bad.iter().map(|b| json!({"file": b.file, "line": b.line, "message": b.message})).collect()).to_string()
    }

    /// The kept matches, sorted, as `{"count": total, "matches": [{"file", "line", "text",
    /// "record"}]}`; `record` is the line as `cflog parse` prints it, or null for a line
    /// that is not a record. With a filter, only matching records that pass it count.
    pub fn matches_json(&self) -> String {
        let mut m = self.matches.clone();
        m.sort();
        let list: Vec<Value> = m
            .iter()
            .map(|x| {
                let record = x.record.as_deref().and_then(|r| serde_json::from_str::<Value>(r).ok()).unwrap_or(Value::Null);
                json!({"file": x.file, "line": x.line, "text": x.text, "record": record})
            })
            .collect();
        json!({"count": self.match_count, "matches": list}).to_string()
    }

    /// Tag counts of the summary (for a quick look without a full report).
    pub fn tag_counts(&self) -> BTreeMap<String, u64> {
        self.summary.tags.iter().map(|(k, c)| (k.clone(), c.total())).collect()
    }
}
