//! The inspector's engine in plain Rust (no JavaScript types), so it is tested natively
//! against `cflog analyze`. The wasm-bindgen layer in `lib.rs` only converts errors.
//!
//! Everything a reader or a worker does is `cflog-engine`'s, as in the CLI and the
//! Lambda: chunks are cut by its `Chunker`, laid out by its `Cutter` (layout choice and
//! its errors, `#Fields:` tracking, line numbers, per-file double decoding), and run
//! through its `Worker` (the record loop "parse once → rules → drop → filter → aggregate +
//! count tags", bad lines kept). What is the browser's own: the layout token that carries
//! a chunk's layout from the page to a worker, the rule's answers as the loop's `Rules`,
//! and the raw-line search.
//!
//! Two ways in, sharing one code path:
//! - streaming (one thread): `begin_file`, `push` any byte chunks (or write them straight
//!   into [`Engine::window`] and call [`Engine::filled`]: no copy in wasm), `end_file`.
//! - chunked (several workers): a `cflog_engine::Cutter` on the page describes each
//!   newline-aligned chunk (see [`layout_token`]); workers `push_chunk` them into their
//!   own engine; the page merges the engines' states.

use std::collections::BTreeMap;
use std::sync::Arc;

use cflog_core::agg::Merge;
use cflog_core::summary::Summary;
use cflog_core::{Format, Parser, Record, RecordBuf, Schema};
use cflog_engine::{BadLines, ChunkBytes, ChunkLayout, ChunkStart, Cutter, InPlaceChunker, Rules, Worker, line_ends, lines};
use serde_json::{Value, json};

pub use crate::options::{Options, filter_from_json, parse_fields_spec};
use crate::error::Error;
use crate::rule::Verdict;

/// Tags of one record, from an enrichment rule: `(key, value)` pairs.
pub type Tags = Vec<(String, String)>;

/// A chunk's layout as text, to hand to a worker: `N` for cflog's NDJSON, `V` for standard
/// logging v2 JSON lines, else `R` or `S`
/// (followed by `2` when its file's values are decoded twice), then the column names, all
/// separated by tabs.
pub fn layout_token(layout: &ChunkLayout, double_decode: bool) -> String {
    let schema = match layout {
        ChunkLayout::Ndjson => return "N".to_string(),
        ChunkLayout::V2Json => return "V".to_string(),
        ChunkLayout::Log(schema) => schema,
    };
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

/// The layout of a [`layout_token`] and whether values are decoded twice.
pub fn layout_of_token(token: &str) -> Result<(ChunkLayout, bool), Error> {
    let mut parts = token.split('\t');
    let kind = parts.next().unwrap_or("");
    let names: Vec<&str> = parts.collect();
    let (format, twice) = match kind {
        "N" if names.is_empty() => return Ok((ChunkLayout::Ndjson, false)),
        "V" if names.is_empty() => return Ok((ChunkLayout::V2Json, false)),
        "R" | "R2" => (Format::RealTime, kind.len() == 2),
        "S" | "S2" => (Format::Standard, kind.len() == 2),
        _ => return Err(Error::Token(kind.to_string())),
    };
    let schema = match format {
        Format::RealTime => Schema::realtime_ordered(&names),
        Format::Standard => Schema::standard(&names),
    };
    Ok((ChunkLayout::Log(Arc::new(schema.map_err(Error::TokenColumns)?)), twice))
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

/// The rule's answers for one chunk (one [`Verdict`] per line) as the record loop's
/// [`Rules`]: the loop hands it each record, whose line number finds its verdict.
struct Verdicts<'a> {
    verdicts: &'a [Verdict],
    /// Lines of the input before the chunk.
    first_line: u64,
    /// Per record of the batch: the index of its line in the chunk.
    batch: Vec<usize>,
}

impl Rules for Verdicts<'_> {
    fn clear(&mut self) {
        self.batch.clear();
    }
    fn push(&mut self, record: &Record<'_>) {
        self.batch.push((record.line_number() - self.first_line - 1) as usize);
    }
    fn run(&mut self) {}
    fn dropped(&self, i: usize) -> bool {
        self.verdicts[self.batch[i]].drop
    }
    fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in &self.verdicts[self.batch[i]].tags {
            f(k, v);
        }
    }
}

/// The aggregating side: a summary, bad lines, search matches.
#[derive(Debug)]
pub struct Engine {
    options: Options,
    worker: Worker,
    matches: Vec<Match>,
    match_count: u64,
    cached: Option<(String, ChunkLayout, bool)>,
    // Streaming state.
    cutter: Cutter,
    chunker: InPlaceChunker,
    file: u32,
    files: u32,
}

impl Engine {
    /// An empty engine.
    pub fn new(options: Options) -> Engine {
        let worker =
            Worker::new(options.summary, options.max_errors, options.layout.double_decode).with_filter(options.filter.clone());
        Engine {
            worker,
            cutter: Cutter::new(&options.layout),
            chunker: InPlaceChunker::new(),
            options,
            matches: Vec::new(),
            match_count: 0,
            cached: None,
            file: 0,
            files: 0,
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.worker.summary
    }

    /// Lines seen so far.
    pub fn lines(&self) -> u64 {
        self.worker.lines
    }

    /// Records an enrichment rule asked to drop.
    pub fn rule_dropped(&self) -> u64 {
        self.worker.dropped
    }

    fn layout_for(&mut self, token: &str) -> Result<(ChunkLayout, bool), Error> {
        if let Some((t, l, twice)) = &self.cached
            && t == token
        {
            return Ok((l.clone(), *twice));
        }
        let (l, twice) = layout_of_token(token)?;
        self.cached = Some((token.to_string(), l.clone(), twice));
        Ok((l, twice))
    }

    /// Aggregates a newline-aligned chunk described by a `cflog_engine::Cutter` (its
    /// [`layout_token`] and the lines of its input before it), with the rule's verdicts
    /// for its lines if a rule ran.
    pub fn push_chunk(&mut self, bytes: &[u8], file: u32, first_line: u64, token: &str, verdicts: Option<&[Verdict]>) -> Result<(), Error> {
        let (layout, double_decode) = self.layout_for(token)?;
        if self.walks(verdicts) {
            // The page's cutter has counted the chunk's lines; the worker does not read
            // `lines`, and walks the chunk once.
            let start = ChunkStart { layout, first_line, lines: 0, double_decode };
            self.worker.run(file as usize, &start, bytes, None);
            return Ok(());
        }
        let found: Vec<&[u8]> = lines(bytes).collect();
        let start = ChunkStart { layout, first_line, lines: line_ends(bytes, found.len()), double_decode };
        self.run(&found, file, &start, verdicts)
    }

    /// Whether a chunk goes to the worker as bytes, for the parser to walk once
    /// ([`Worker::run`]): no search and no rule verdicts, which read its lines.
    fn walks(&self, verdicts: Option<&[Verdict]>) -> bool {
        self.options.search.is_none() && verdicts.is_none()
    }

    /// Runs a chunk's `lines` (each found once, by [`lines`]).
    fn run(&mut self, lines: &[&[u8]], file: u32, start: &ChunkStart, verdicts: Option<&[Verdict]>) -> Result<(), Error> {
        if self.options.search.is_some() {
            self.search(lines, file, start);
            return Ok(());
        }
        let mut rules = match verdicts {
            Some(v) => {
                let n = lines.len();
                if v.len() != n {
                    return Err(Error::Verdicts { answers: v.len(), lines: n });
                }
                Some(Verdicts { verdicts: v, first_line: start.first_line, batch: Vec::new() })
            }
            None => None,
        };
        self.worker.run_found(file as usize, start, lines, rules.as_mut().map(|r| r as &mut dyn Rules));
        Ok(())
    }

    /// Raw-line search: lines holding the searched text are parsed (headers too, so a
    /// standard log's layout switches) and must pass the active filters; the records come
    /// back as `cflog parse` prints them (a JSON line is shown as it is).
    fn search(&mut self, all: &[&[u8]], file: u32, start: &ChunkStart) {
        let Some(needle) = self.options.search.clone() else { return };
        self.worker.lines += all.len() as u64;
        let finder = memchr::memmem::Finder::new(&needle);
        let filtering = !self.options.filter.is_empty();
        let mut parser = match &start.layout {
            ChunkLayout::Log(schema) => Some(
                Parser::with_schema(Schema::clone(schema))
                    .double_decode(start.double_decode || self.options.layout.double_decode)
                    .after_line(start.first_line),
            ),
            ChunkLayout::Ndjson | ChunkLayout::V2Json => None,
        };
        let (mut buf, mut json) = (RecordBuf::new(), Vec::new());
        for (i, line) in all.iter().enumerate() {
            let found = finder.find(line).is_some();
            if !found && !line.starts_with(b"#") {
                continue;
            }
            let parsed = match parser.as_mut().map(|p| p.parse_line(line, &mut buf)) {
                Some(Ok(Some(record))) => {
                    let keep = !filtering
                        || (self.options.filter.keep(&record).unwrap_or(false) && self.options.filter.keep_tags(|_, _| false));
                    json.clear();
                    let text =
                        cflog_core::json::write_record(&record, &mut json).ok().map(|()| String::from_utf8_lossy(&json).into_owned());
                    keep.then_some(text)
                }
                // A JSON line (cflog's NDJSON, v2 JSON) is shown as it is.
                None => Some(serde_json::from_slice::<Value>(line).ok().filter(Value::is_object).map(|_| String::from_utf8_lossy(line).into_owned())),
                // A header, or a bad line: no record, which no filter keeps.
                Some(Ok(None) | Err(_)) => (!filtering).then_some(None),
            };
            if found && let Some(record) = parsed {
                self.match_count += 1;
                let m = Match {
                    file,
                    line: start.first_line + i as u64 + 1,
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
    }

    /// Starts streaming an input named `name` (for messages).
    pub fn begin_file(&mut self, name: &str) {
        self.cutter.begin(name);
        self.file = self.files;
        self.files += 1;
        self.chunker = InPlaceChunker::new();
    }

    fn take(&mut self, chunk: Option<ChunkBytes>) -> Result<(), Error> {
        let Some(chunk) = chunk else { return Ok(()) };
        let result = if self.walks(None) {
            // The worker walks the chunk once and counts its lines for the cutter.
            let (worker, file) = (&mut self.worker, self.file as usize);
            self.cutter.take_run(&chunk, |start| worker.run(file, start, &chunk, None)).map(drop).map_err(Error::from)
        } else {
            // The search reads lines: they are found once, for the cutter's count too.
            let found: Vec<&[u8]> = lines(&chunk).collect();
            let start = self.cutter.take_found(&chunk, &found).map_err(Error::from);
            start.and_then(|start| self.run(&found, self.file, &start, None))
        };
        self.chunker.give_back(chunk);
        result
    }

    /// Streams a chunk of the current input (any size, any boundary).
    pub fn push(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            let window = self.chunker.window();
            let n = window.len().min(data.len());
            window[..n].copy_from_slice(&data[..n]);
            data = &data[n..];
            self.filled(n)?;
        }
        Ok(())
    }

    /// Where the next bytes of the current input go ([`cflog_engine::CHUNK`] bytes): the
    /// caller writes up to that many and calls [`Engine::filled`] with the count. The same
    /// chunks as [`Engine::push`] with those bytes, without the copy.
    pub fn window(&mut self) -> &mut [u8] {
        self.chunker.window()
    }

    /// The last `n` bytes of the current input were written at the start of
    /// [`Engine::window`].
    pub fn filled(&mut self, n: usize) -> Result<(), Error> {
        let room = self.chunker.window().len();
        if n > room {
            return Err(Error::Window { n, room });
        }
        let chunk = self.chunker.filled(n);
        self.take(chunk)
    }

    /// Ends the current input.
    pub fn end_file(&mut self) -> Result<(), Error> {
        let chunk = self.chunker.finish();
        self.take(chunk)
    }

    /// The versioned report, serialized exactly as `cflog analyze --json` prints it.
    pub fn report_json(&self) -> String {
        self.worker.summary.report_ranked(self.options.top_n, self.options.top_by).to_string()
    }

    /// The summary's mergeable binary state (checksummed; bad lines and matches are not
    /// in it: see [`Engine::bad_lines_json`] and [`Engine::matches_json`]).
    pub fn state(&self) -> Vec<u8> {
        self.worker.summary.encode_state()
    }

    /// Merges another engine's summary state (from [`Engine::state`]).
    pub fn merge_state(&mut self, state: &[u8]) -> Result<(), Error> {
        let other = Summary::decode_state(state).map_err(Error::State)?;
        self.worker.summary.merge(&other).map_err(Error::Merge)
    }

    /// The kept bad lines, sorted, as `[{"file", "line", "message"}]`.
    pub fn bad_lines_json(&self) -> String {
        let bad = BadLines::clone(&self.worker.bad).into_sorted();
        Value::Array(bad.iter().map(|b| json!({"file": b.input, "line": b.line, "message": b.message})).collect()).to_string()
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
        self.worker.summary.tags.iter().map(|(k, c)| (k.clone(), c.total())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standard log and a real-time one with bad, blank, white-space, comment and CRLF
    /// lines, `#Fields:` switches and an unterminated last line.
    fn inputs() -> Vec<(&'static str, String)> {
        let standard = [
            "#Version: 1.0",
            "#Fields: date time sc-status",
            "2019-12-04\t21:02:31\t200",
            "2019-12-04\t21:02:31\tx",
            "",
            "2019-12-04\t21:02:32\t404\r",
            "#Fields: date time c-ip sc-status",
            "2019-12-04\t21:02:33\t1.2.3.4\t503",
            "2019-13-04\t21:02:33\t1.2.3.4\t503",
            "   ",
            "2019-12-04\t21:02:34\t1.2.3.4",
            "#Fields: date time sc-status",
            "2019-12-05\t21:02:35\t200",
            "2019-12-05\t21:02:35\t20",
        ]
        .join("\n");
        let realtime = [
            "1607374321.541\t192.0.2.10\t200",
            "1607374321.541\t192.0.2.10",
            "",
            "1607374321.541\t192.0.2.11\t404\r",
            "# note",
            "x\t192.0.2.10\t200",
            "\t192.0.2.10\t200",
            "1607374321.541\t192.0.2.12\t503",
        ]
        .join("\n");
        vec![
            (r#"{"format": "auto"}"#, standard),
            (r#"{"format": "auto", "fields": "timestamp,c-ip,sc-status"}"#, realtime),
        ]
    }

    /// The page's chunks pushed without verdicts (walked by the parser, `Worker::run`) and
    /// the same chunks with a verdict per line that keeps every record (their lines found
    /// first, `Worker::run_found`: the oracle), and the same input streamed (`take`), give
    /// the same state, bad lines (numbered in the whole input) and line counts.
    #[test]
    fn chunks_walked_as_their_lines_found() {
        for (options, text) in inputs() {
            let bytes = text.as_bytes();
            let ends: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'\n').map(|i| i + 1).collect();
            for step in [1, 2, 3, usize::MAX] {
                let opts = Options::from_json(options).unwrap();
                let (mut walked, mut found, mut streamed) = (Engine::new(opts.clone()), Engine::new(opts.clone()), Engine::new(opts.clone()));
                let mut cutter = Cutter::new(&opts.layout);
                cutter.begin("in");
                // Chunks of `step` lines.
                let mut bounds: Vec<usize> = ends.iter().enumerate().filter(|&(k, _)| (k + 1) % step == 0).map(|(_, &e)| e).collect();
                bounds.push(bytes.len());
                let mut at = 0;
                for end in bounds {
                    let chunk = &bytes[at..end];
                    let start = cutter.take(chunk).unwrap();
                    let token = layout_token(&start.layout, start.double_decode);
                    let keep = vec![Verdict { drop: false, tags: Vec::new() }; lines(chunk).count()];
                    walked.push_chunk(chunk, 2, start.first_line, &token, None).unwrap();
                    found.push_chunk(chunk, 2, start.first_line, &token, Some(&keep)).unwrap();
                    at = end;
                }
                // The third input (index 2), as the chunks above say.
                for name in ["a", "b", "in"] {
                    streamed.begin_file(name);
                }
                streamed.push(bytes).unwrap();
                streamed.end_file().unwrap();
                assert!(found.summary().bad_lines >= 2, "{}", found.summary().bad_lines);
                for (name, e) in [("walked", &walked), ("streamed", &streamed)] {
                    assert_eq!(e.lines(), found.lines(), "{name}, step {step}");
                    assert_eq!(e.bad_lines_json(), found.bad_lines_json(), "{name}, step {step}");
                    assert!(e.state() == found.state(), "{name}, step {step}: states differ");
                }
            }
        }
    }
}
