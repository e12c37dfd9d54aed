//! The record loop every host runs: parse each line once → enrichment rules over the
//! batch → drop what a rule dropped → hand each record, with its tags, to the host (which
//! aggregates it, writes it out, …). And a [`Worker`]: the loop over chunks into one
//! [`Summary`], with bad lines kept, as `cflog analyze` and the browser run it.
//!
//! With rules, a chunk's records are parsed once into one span buffer each, sent to the
//! rules as one batch, and viewed again from their spans (not parsed again) afterwards. A
//! standard log's `#Fields:` line ends the batch, since it changes the layout. Outcomes
//! reach the host in line order, bad lines included.

use std::sync::Arc;

use cflog_core::filter::Filter;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{ParseError, Parser, Record, RecordBuf, Schema};

use crate::bad::{BadLine, BadLines};
use crate::cut::{ChunkLayout, ChunkStart, line_ends, lines};
use crate::ndjson::{Decoded, Dialect, NdjsonDecoder};

/// Enrichment rules as the record loop sees them: a batch of records goes in, a verdict
/// per record (drop, tags) comes out. Implemented over the wasmtime host
/// (`wasmtime_rules`, feature `wasmtime-rules`) and by the browser over its rules' answers.
pub trait Rules {
    /// Starts a new batch.
    fn clear(&mut self);
    /// Appends the next record to the batch.
    fn push(&mut self, record: &Record<'_>);
    /// Runs the rules over the batch.
    fn run(&mut self);
    /// Whether a rule asked to drop record `i` of the batch.
    fn dropped(&self, i: usize) -> bool;
    /// Calls `f` with each tag (key, value) of record `i` of the batch.
    fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str));
    /// Calls `f` with each numeric label (key, value) of record `i` of the batch (rules
    /// that give none need not implement it).
    fn labels(&self, _i: usize, _f: &mut dyn FnMut(&str, f64)) {}
}

/// The rules' tags of one record (none without rules).
#[derive(Clone, Copy)]
pub struct Tags<'a> {
    of: Option<(&'a dyn Rules, usize)>,
}

impl Tags<'_> {
    /// No tags.
    pub const NONE: Tags<'static> = Tags { of: None };

    /// Calls `f` with each tag.
    pub fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        if let Some((rules, i)) = self.of {
            rules.tags(i, &mut f);
        }
    }

    /// Calls `f` with each numeric label.
    pub fn for_each_label(&self, mut f: impl FnMut(&str, f64)) {
        if let Some((rules, i)) = self.of {
            rules.labels(i, &mut f);
        }
    }

    /// Whether the record carries `key` = `value`.
    pub fn contains(&self, key: &str, value: &str) -> bool {
        let mut found = false;
        self.for_each(|k, v| found |= k == key && v == value);
        found
    }
}

impl std::fmt::Debug for Tags<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        self.for_each(|k, v| {
            list.entry(&(k, v));
        });
        list.finish()
    }
}

/// What became of one line.
#[derive(Debug)]
pub enum Outcome<'r, 'l> {
    /// A record a rule did not drop, with its rules' tags.
    Record(&'r Record<'l>, Tags<'r>),
    /// A record a rule dropped (parsed, so a bad line is still reported as bad).
    Dropped,
    /// A line that did not parse.
    Bad(ParseError),
}

/// One line of a batch: its index and either the record's line number and span buffer,
/// or why it did not parse.
type Pending = (usize, Result<(u64, usize), ParseError>);

/// The reusable buffers of the record loop.
#[derive(Debug, Default)]
pub struct RecordLoop {
    buf: RecordBuf,
    /// One span buffer per record of a batch, reused from batch to batch.
    bufs: Vec<RecordBuf>,
    /// Per line of a batch, in order: the line index and either the record's line number
    /// and buffer, or why it did not parse.
    pending: Vec<Pending>,
}

impl RecordLoop {
    /// Empty buffers.
    pub fn new() -> RecordLoop {
        RecordLoop::default()
    }

    /// Parses each of `lines` once with `parser` and calls `on(line index, outcome)` for
    /// each line that is a record or bad, in line order (comment and blank lines are
    /// skipped). With `rules`, the records are enriched first, in batches.
    pub fn run(&mut self, parser: &mut Parser, lines: &[&[u8]], rules: Option<&mut (dyn Rules + '_)>, on: &mut dyn FnMut(usize, Outcome<'_, '_>)) {
        let Some(rules) = rules else {
            for (li, line) in lines.iter().enumerate() {
                hand_on(li, &parser.parse_line(line, &mut self.buf), on);
            }
            return;
        };
        rules.clear();
        let mut records = 0usize;
        for (li, line) in lines.iter().enumerate() {
            if line.first() == Some(&b'#') && records > 0 {
                self.flush(parser, lines, rules, on);
                records = 0;
            }
            if records == self.bufs.len() {
                // A copy of the last buffer starts with room for a line's spans, so the
                // first batch does not grow each buffer step by step (a realloc chain
                // per record that cost as much as the rules' own work in short runs).
                let fresh = self.bufs.last().cloned().unwrap_or_default();
                self.bufs.push(fresh);
            }
            match parser.parse_line(line, &mut self.bufs[records]) {
                Ok(Some(record)) => {
                    rules.push(&record);
                    self.pending.push((li, Ok((record.line_number(), records))));
                    records += 1;
                }
                Ok(None) => {}
                Err(e) => self.pending.push((li, Err(e))),
            }
        }
        self.flush(parser, lines, rules, on);
    }

    /// [`run`](Self::run) without rules over the lines of `bytes` (cut at `\n`, as
    /// [`lines`] cuts them; the last one may lack its `\n`), each parsed where it lies by
    /// [`Parser::parse_next`], which finds a line's end in the same scan as its fields
    /// (`run` needs the lines found first). Returns the number of lines.
    pub fn run_bytes(&mut self, parser: &mut Parser, bytes: &[u8], on: &mut impl FnMut(usize, Outcome<'_, '_>)) -> usize {
        let (mut at, mut li) = (0, 0);
        loop {
            // The step is matched where `parse_next` built it (see `hand_on`).
            let step = parser.parse_next(bytes, at, &mut self.buf);
            let Some((result, next)) = &step else { break };
            hand_on(li, result, on);
            at = *next;
            li += 1;
        }
        li
    }

    fn flush(&mut self, parser: &Parser, lines: &[&[u8]], rules: &mut dyn Rules, on: &mut dyn FnMut(usize, Outcome<'_, '_>)) {
        if self.pending.iter().any(|(_, r)| r.is_ok()) {
            rules.run();
        }
        for (li, entry) in self.pending.drain(..) {
            match entry {
                Ok((_, k)) if rules.dropped(k) => on(li, Outcome::Dropped),
                Ok((line_no, k)) => {
                    let record = parser.view(lines[li], &self.bufs[k], line_no);
                    on(li, Outcome::Record(&record, Tags { of: Some((&*rules, k)) }));
                }
                Err(e) => on(li, Outcome::Bad(e)),
            }
        }
        rules.clear();
    }
}

/// Hands line `li`'s parse result to `on` as an outcome without rules (a comment or blank
/// line is skipped).
///
/// The result is borrowed, and the record lent from where the parser built it. Moving it
/// out (`let Some((result, next)) = step`, then `Ok(Some(record)) => ..(&record)`) makes
/// the compiler copy it with 16-byte loads over the 8-byte stores that have just written
/// it, which the CPU cannot forward from its store buffer: a stall on every line, ~8 % of
/// parsing with ten typed reads (bench/RESULTS.md). The error, rare, is cloned (without
/// an allocation, except a bad `#Fields` header's field name).
#[inline]
fn hand_on(li: usize, result: &Result<Option<Record<'_>>, ParseError>, on: &mut (impl FnMut(usize, Outcome<'_, '_>) + ?Sized)) {
    match result {
        Ok(Some(record)) => on(li, Outcome::Record(record, Tags::NONE)),
        Ok(None) => {}
        Err(e) => on(li, Outcome::Bad(e.clone())),
    }
}

/// A chunk's lines as a worker gets them: found already ([`lines`]), or still in the
/// chunk's bytes, for the parser to walk ([`RecordLoop::run_bytes`]).
#[derive(Clone, Copy)]
enum Lines<'a> {
    Found(&'a [&'a [u8]]),
    Bytes(&'a [u8]),
}

impl Lines<'_> {
    /// Calls `f` with the lines, found now if they are still bytes; returns their number.
    fn found(self, f: impl FnOnce(&[&[u8]])) -> usize {
        match self {
            Lines::Found(lines) => {
                f(lines);
                lines.len()
            }
            Lines::Bytes(bytes) => {
                let found: Vec<&[u8]> = lines(bytes).collect();
                f(&found);
                found.len()
            }
        }
    }
}

/// The record loop over chunks into one summary: what one `cflog analyze` thread or one
/// browser worker holds.
#[derive(Debug)]
pub struct Worker {
    /// Everything aggregated so far.
    pub summary: Summary,
    /// The first bad lines (all are counted in the summary).
    pub bad: BadLines,
    /// Records a rule dropped: parsed, not aggregated.
    pub dropped: u64,
    /// Records the filter left out (parsed, valid, not counted).
    pub filtered_out: u64,
    /// Lines seen (records, bad, blank and comment lines).
    pub lines: u64,
    filter: Filter,
    /// `!filter.is_empty()`, known once: `Filter::is_empty` builds a default filter and
    /// compares with it, 0.3 % of the wasm engine's profile when asked per record.
    filtering: bool,
    double_decode: bool,
    records: RecordLoop,
    ndjson: NdjsonDecoder,
    v2json: NdjsonDecoder,
}

impl Worker {
    /// An empty worker keeping the first `keep_bad` bad lines; `double_decode` as
    /// [`crate::LayoutChoice::double_decode`].
    pub fn new(options: SummaryOptions, keep_bad: usize, double_decode: bool) -> Worker {
        Worker {
            summary: Summary::new(options),
            bad: BadLines::new(keep_bad),
            dropped: 0,
            filtered_out: 0,
            lines: 0,
            filter: Filter::new(),
            filtering: false,
            double_decode,
            records: RecordLoop::new(),
            ndjson: NdjsonDecoder::new(),
            v2json: NdjsonDecoder::with_dialect(Dialect::V2),
        }
    }

    /// Keeps only the records `filter` keeps (its tag conditions apply after the rules, to
    /// the rules' tags and an enriched record's own).
    pub fn with_filter(mut self, filter: Filter) -> Worker {
        self.filtering = !filter.is_empty();
        self.filter = filter;
        self
    }

    fn bad_line(&mut self, input: usize, line: u64, message: String) {
        self.summary.add_bad_line();
        self.bad.add(BadLine { input, line, message });
    }

    /// Aggregates one chunk of input `input` that starts as `start` says (see
    /// [`crate::Cutter`]; its `lines` is not read), through `rules` if any. Returns the
    /// chunk's line ends (its `\n`s), counted on the way (see [`crate::Cutter::take_run`]).
    ///
    /// A log chunk without rules is walked once by the parser ([`RecordLoop::run_bytes`]);
    /// otherwise its [`lines`] are found first, as [`run_found`](Self::run_found) takes
    /// them.
    pub fn run(&mut self, input: usize, start: &ChunkStart, bytes: &[u8], rules: Option<&mut (dyn Rules + '_)>) -> u64 {
        let n = self.run_chunk(input, start, Lines::Bytes(bytes), rules);
        line_ends(bytes, n)
    }

    /// [`run`](Self::run) of a chunk whose [`lines`] the caller has already found (see
    /// [`crate::Cutter::take_found`]).
    pub fn run_found(&mut self, input: usize, start: &ChunkStart, lines: &[&[u8]], rules: Option<&mut (dyn Rules + '_)>) {
        self.run_chunk(input, start, Lines::Found(lines), rules);
    }

    /// Aggregates a chunk's `lines`; returns their number.
    fn run_chunk(&mut self, input: usize, start: &ChunkStart, lines: Lines<'_>, rules: Option<&mut (dyn Rules + '_)>) -> usize {
        let n = match &start.layout {
            ChunkLayout::Log(schema) => {
                // The cutter decided per input (it also honours a forced double decoding).
                let twice = start.double_decode || self.double_decode;
                self.run_lines(input, schema, start.first_line, lines, twice, rules, &[])
            }
            ChunkLayout::Ndjson => lines.found(|l| self.run_ndjson(input, start.first_line, l, rules, Dialect::Cflog)),
            ChunkLayout::V2Json => lines.found(|l| self.run_ndjson(input, start.first_line, l, rules, Dialect::V2)),
        };
        self.lines += n as u64;
        n
    }

    /// Parses and aggregates `lines`, lines `first_line + 1 ...` of input `input`;
    /// `line_tags` holds each line's `_cflog.tags` when the lines were rebuilt from NDJSON.
    /// Returns the number of lines.
    #[allow(clippy::too_many_arguments)]
    fn run_lines(
        &mut self,
        input: usize,
        schema: &Schema,
        first_line: u64,
        lines: Lines<'_>,
        double_decode: bool,
        rules: Option<&mut (dyn Rules + '_)>,
        line_tags: &[Vec<(String, String)>],
    ) -> usize {
        let mut parser = Parser::with_schema(schema.clone()).double_decode(double_decode).after_line(first_line);
        let mut records = std::mem::take(&mut self.records);
        let mut on = |li: usize, outcome: Outcome<'_, '_>| {
            let result = match outcome {
                Outcome::Record(record, tags) => match self.admit(record, tags, line_tags.get(li).map_or(&[][..], Vec::as_slice)) {
                    Ok(false) => Ok(()),
                    Ok(true) => self.summary.add(record).map(|()| {
                        tags.for_each(|k, v| self.summary.add_tag(k, v.as_bytes()));
                        for (k, v) in line_tags.get(li).into_iter().flatten() {
                            self.summary.add_tag(k, v.as_bytes());
                        }
                    }),
                    Err(e) => Err(e),
                },
                Outcome::Dropped => {
                    self.dropped += 1;
                    Ok(())
                }
                Outcome::Bad(e) => Err(e),
            };
            if let Err(e) = result {
                self.bad_line(input, e.line, e.reason().to_string());
            }
        };
        let n = match (lines, rules) {
            (Lines::Bytes(bytes), None) => records.run_bytes(&mut parser, bytes, &mut on),
            (lines, rules) => lines.found(|l| records.run(&mut parser, l, rules, &mut on)),
        };
        self.records = records;
        n
    }

    /// Whether the filter keeps `record` (with the rules' `tags` and an enriched record's
    /// `line_tags`), counting what it leaves out. A record it leaves out is still checked,
    /// so a bad line is bad whatever the filter.
    fn admit(&mut self, record: &Record<'_>, tags: Tags<'_>, line_tags: &[(String, String)]) -> Result<bool, ParseError> {
        if !self.filtering {
            return Ok(true);
        }
        let keep = self.filter.keep(record)?
            && self.filter.keep_tags(|k, v| tags.contains(k, v) || line_tags.iter().any(|(lk, lv)| lk == k && lv == v));
        if !keep {
            Summary::check(record)?;
            self.filtered_out += 1;
        }
        Ok(keep)
    }

    /// Rebuilds each NDJSON record as a log line (see [`crate::ndjson`]) and aggregates
    /// each run of lines with one layout. Line k of a run is line `first + k` of the input
    /// (a line that is not a record leaves an empty line), so errors keep their numbers.
    fn run_ndjson(&mut self, input: usize, first_line: u64, lines: &[&[u8]], mut rules: Option<&mut (dyn Rules + '_)>, dialect: Dialect) {
        fn slot(w: &mut Worker, dialect: Dialect) -> &mut NdjsonDecoder {
            match dialect {
                Dialect::Cflog => &mut w.ndjson,
                Dialect::V2 => &mut w.v2json,
            }
        }
        let mut decoder = std::mem::replace(slot(self, dialect), NdjsonDecoder::with_dialect(dialect));
        let mut rebuilt = Vec::new();
        let mut run_bytes: Vec<u8> = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        let mut run_tags: Vec<Vec<(String, String)>> = Vec::new();
        // The layout of the current run and the number of lines before it.
        let mut run: Option<(Arc<Schema>, u64)> = None;
        let mut line_no = first_line;
        for line in lines {
            line_no += 1;
            match decoder.decode(line, &mut rebuilt) {
                Ok(Decoded::Record { schema, tags }) => {
                    if !run.as_ref().is_some_and(|(s, _)| Arc::ptr_eq(s, &schema)) {
                        self.ndjson_run(input, run.take(), &run_bytes, &run_tags, rules.as_deref_mut());
                        run_bytes.clear();
                        run_tags.clear();
                        run = Some((schema, line_no - 1));
                    }
                    run_bytes.extend_from_slice(&rebuilt);
                    run_bytes.push(b'\n');
                    run_tags.push(tags);
                }
                other => {
                    if let Err(reason) = other {
                        self.bad_line(input, line_no, reason.to_string());
                    }
                    if run.is_some() {
                        run_bytes.push(b'\n');
                        run_tags.push(Vec::new());
                    }
                }
            }
        }
        self.ndjson_run(input, run, &run_bytes, &run_tags, rules);
        *slot(self, dialect) = decoder;
    }

    /// Aggregates one run of rebuilt NDJSON lines (one layout).
    fn ndjson_run(
        &mut self,
        input: usize,
        run: Option<(Arc<Schema>, u64)>,
        run_bytes: &[u8],
        run_tags: &[Vec<(String, String)>],
        rules: Option<&mut (dyn Rules + '_)>,
    ) {
        if let Some((s, first)) = run {
            let lines: Vec<&[u8]> = lines(run_bytes).collect();
            self.run_lines(input, &s, first, Lines::Found(&lines), false, rules, run_tags);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_core::Field;
    use proptest::strategy::Strategy as _;

    /// Rules that drop records whose status is 404 and tag the rest `class=<status/100>xx`:
    /// a fake with an obvious oracle.
    #[derive(Default)]
    struct StatusRules {
        batch: Vec<Option<u16>>,
        runs: usize,
    }

    impl Rules for StatusRules {
        fn clear(&mut self) {
            self.batch.clear();
        }
        fn push(&mut self, record: &Record<'_>) {
            self.batch.push(record.status().ok().flatten());
        }
        fn run(&mut self) {
            self.runs += 1;
        }
        fn dropped(&self, i: usize) -> bool {
            self.batch[i] == Some(404)
        }
        fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
            if let Some(s) = self.batch[i] {
                f("class", &format!("{}xx", s / 100));
            }
        }
    }

    fn realtime() -> Schema {
        Schema::from_field_names(&["timestamp", "sc-status"]).unwrap()
    }

    #[test]
    fn outcomes_arrive_in_line_order_with_and_without_rules() {
        let lines: [&[u8]; 5] = [b"1607374321.541\t200", b"1607374321.541", b"1607374321.541\t404", b"", b"1607374321.541\t503"];
        for with_rules in [false, true] {
            let mut rules = StatusRules::default();
            let mut seen = Vec::new();
            let mut parser = Parser::realtime(realtime());
            RecordLoop::new().run(&mut parser, &lines, with_rules.then_some(&mut rules as &mut dyn Rules), &mut |li, o| {
                let what = match o {
                    Outcome::Record(r, tags) => {
                        let mut t = String::new();
                        tags.for_each(|k, v| t = format!("{k}={v}"));
                        format!("{}{t}", r.raw(Field::Status).map(|s| String::from_utf8_lossy(s).into_owned()).unwrap_or_default())
                    }
                    Outcome::Dropped => "dropped".into(),
                    Outcome::Bad(e) => format!("bad line {}", e.line),
                };
                seen.push((li, what));
            });
            let want: Vec<(usize, String)> = if with_rules {
                vec![(0, "200class=2xx".into()), (1, "bad line 2".into()), (2, "dropped".into()), (4, "503class=5xx".into())]
            } else {
                vec![(0, "200".into()), (1, "bad line 2".into()), (2, "404".into()), (4, "503".into())]
            };
            assert_eq!(seen, want, "with rules: {with_rules}");
            if with_rules {
                assert_eq!(rules.runs, 1, "one batch per chunk");
            }
        }
    }

    #[test]
    fn a_fields_line_ends_the_batch() {
        let lines: [&[u8]; 4] = [b"#Fields: date time sc-status", b"2019-12-04\t21:02:31\t200", b"#Fields: date time sc-status c-ip", b"2019-12-04\t21:02:31\t404\t1.2.3.4"];
        let mut rules = StatusRules::default();
        let mut parser = Parser::standard();
        let mut statuses = Vec::new();
        RecordLoop::new().run(&mut parser, &lines, Some(&mut rules), &mut |_, o| {
            statuses.push(match o {
                Outcome::Record(r, _) => r.status().unwrap(),
                Outcome::Dropped => Some(0),
                Outcome::Bad(e) => panic!("{e}"),
            })
        });
        assert_eq!(statuses, [Some(200), Some(0)]);
        assert_eq!(rules.runs, 2);
    }

    /// Inputs of each kind the worker reads, with bad, blank and comment lines, `\r\n`
    /// ends, a standard log's layout switch and an unterminated last line.
    fn inputs() -> Vec<(crate::LayoutChoice, Vec<u8>)> {
        let given = crate::LayoutChoice { realtime: Some(realtime()), ..Default::default() };
        let rt = b"1607374321.541\t200\n1607374321.541\n\n1607374321.541\t404\r\n# note\n1607374321.541\t503\n1607374321.541\t200".to_vec();
        let st = b"#Version: 1.0\n#Fields: date time sc-status\n2019-12-04\t21:02:31\t200\n2019-12-04\t21:02:31\tx\n\n#Fields: date time c-ip sc-status\n2019-12-04\t21:02:33\t1.2.3.4\t503\n2019-12-04\t21:02:34\t5.6.7.8\t200\n".to_vec();
        let nd = [
            r#"{"timestamp":1607374321.541,"sc-status":200}"#,
            r#"{"timestamp":1607374321.541,"sc-status":"x"}"#,
            "",
            r#"{"date":"2019-12-04","time":"21:02:31","sc-status":404,"_cflog":{"tags":{"bot":"yes"}}}"#,
            "not json",
            r#"{"timestamp":1607374322.5,"sc-status":503}"#,
        ]
        .join("\n")
        .into_bytes();
        vec![(given.clone(), rt), (crate::LayoutChoice::default(), st), (crate::LayoutChoice::default(), nd)]
    }

    /// Cutting with the lines found once (`Cutter::take_found`, `Worker::run_found`, as the
    /// browser's engine does) describes and aggregates every chunk exactly as `take` and
    /// `run` (the CLI's and the Lambda's path), wherever the chunks end; the counts are
    /// checked against the bytes' own newlines.
    #[test]
    fn lines_found_once_cut_and_run_as_take_and_run() {
        for (choice, input) in inputs() {
            let ends: Vec<usize> = input.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect();
            let total_lines = ends.len() + usize::from(!input.ends_with(b"\n"));
            // Chunk boundaries: after each line end in turn, and after every third one.
            let mut cuts: Vec<Vec<usize>> = ends.iter().map(|&e| vec![e]).collect();
            cuts.push(ends.iter().copied().step_by(3).collect());
            cuts.push(Vec::new());
            for cut in cuts {
                let (mut a, mut b) = (crate::Cutter::new(&choice), crate::Cutter::new(&choice));
                a.begin("in");
                b.begin("in");
                let (mut wa, mut wb) = (Worker::new(SummaryOptions::default(), 100, false), Worker::new(SummaryOptions::default(), 100, false));
                let mut bounds: Vec<usize> = cut.iter().copied().filter(|&e| e < input.len()).collect();
                bounds.push(input.len());
                let mut at = 0;
                for end in bounds {
                    let bytes = &input[at..end];
                    let found: Vec<&[u8]> = lines(bytes).collect();
                    let (sa, sb) = (a.take(bytes).unwrap(), b.take_found(bytes, &found).unwrap());
                    assert_eq!(sa, sb, "chunk {at}..{end}");
                    assert_eq!(sb.lines, bytes.iter().filter(|&&c| c == b'\n').count() as u64, "chunk {at}..{end}");
                    wa.run(0, &sa, bytes, None);
                    wb.run_found(0, &sb, &found, None);
                    at = end;
                }
                assert_eq!((a.origin(), a.layouts()), (b.origin(), b.layouts()));
                assert_eq!(wb.lines, total_lines as u64, "cut {cut:?}");
                assert_eq!((wa.lines, wa.summary.records, wa.summary.bad_lines), (wb.lines, wb.summary.records, wb.summary.bad_lines));
                assert!(wb.summary.records >= 3 && wb.summary.bad_lines >= 1, "{} records", wb.summary.records);
                assert!(wa.summary == wb.summary, "summaries differ, cut {cut:?}");
                assert_eq!(std::mem::take(&mut wa.bad).into_sorted(), std::mem::take(&mut wb.bad).into_sorted());
            }
        }
    }

    /// Lines of every kind a chunk can hold: real-time and standard records, good and bad,
    /// `#Fields:` lines that switch the standard layout (or are not valid), other headers,
    /// blank and white-space lines, a first field that is empty.
    const KINDS: &[&str] = &[
        "1607374321.541\t192.0.2.10\t200",
        "1607374321.541\t192.0.2.11\t404",
        "1607374321.541\t192.0.2.10",
        "1607374321.541\t192.0.2.10\t503\textra",
        "16073x4321.541\t192.0.2.10\t200",
        "1607374321.541\t192.0.2.10\tabc",
        "\t192.0.2.10\t200",
        "#Version: 1.0",
        "#Fields: date time sc-status",
        "#Fields: date time c-ip sc-status",
        "#Fields: date time c-ip sc-status cs-uri-stem",
        "#Fields: not fields at all",
        "# a comment",
        "2019-12-04\t21:02:31\t200",
        "2019-12-04\t21:02:32\t1.2.3.4\t503",
        "2019-12-05\t21:02:33\t1.2.3.4\t404\t/a%20b",
        "2019-13-04\t21:02:31\t200",
        "2019-12-04\t21:02:31\tx",
        "2019-12-04",
        "",
        "   ",
        "\t\t",
        " 2019-12-04\t21:02:31\t200",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// Chunks walked by the parser (`Cutter::take_run` + `Worker::run`) give what the
        /// lines found first give (`take_found` + `run_found`), whatever the lines (some
        /// random, with lone `\r`s), their ends (LF or CRLF), the last line's `\n` and
        /// where the chunks end.
        #[test]
        fn walking_a_chunk_is_finding_its_lines(
            kind in 0u8..4,
            lines in proptest::collection::vec(
                (proptest::prop_oneof![
                    4 => (0..KINDS.len()).prop_map(|k| KINDS[k].to_string()),
                    1 => "[a-c0-9 \t#.\r]{0,30}",
                ], proptest::prelude::any::<bool>()),
                0..40,
            ),
            last_newline in proptest::prelude::any::<bool>(),
            cuts in proptest::collection::vec(0usize..45, 0..6),
        ) {
            let (choice, head) = crate::fuzz::preamble(kind);
            let mut input = head.as_bytes().to_vec();
            for (line, crlf) in &lines {
                input.extend_from_slice(line.as_bytes());
                input.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            }
            if !last_newline && input.last() == Some(&b'\n') {
                input.pop();
            }
            crate::fuzz::walked_as_found(&choice, &input, &cuts);
        }
    }

    /// The edges: an empty input, lines longer than the limit (with and without their
    /// `\r`, followed by a good line or ending the input), a chunk made of one huge line,
    /// a last line without `\n`.
    #[test]
    fn walking_a_chunk_is_finding_its_lines_at_the_edges() {
        let max = cflog_core::parser::MAX_LINE_LEN;
        let long = |n: usize| "1607374321.541\t192.0.2.10\t".bytes().chain(std::iter::repeat(b'7')).take(n).collect::<Vec<u8>>();
        let good = b"1607374321.541\t192.0.2.10\t200".to_vec();
        let join = |parts: &[&[u8]]| parts.join(&b'\n');
        let inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\n".to_vec(),
            b"\r\n\r\n".to_vec(),
            good.clone(),
            join(&[&long(max + 1), &good]),
            join(&[&long(max), &good, b""]),
            [long(max), b"\r\n".to_vec(), good.clone()].concat(),
            [long(max + 1), b"\r\n".to_vec(), good.clone()].concat(),
            long(max + 1),
            long(3 * max / 2),
            join(&[&good, &long(3 * max / 2)]),
            join(&[&good, &long(3 * max / 2), b""]),
        ];
        for kind in [0, 2] {
            let (choice, _) = crate::fuzz::preamble(kind);
            for input in &inputs {
                for cuts in [vec![], vec![0], vec![0, 1, 2]] {
                    crate::fuzz::walked_as_found(&choice, input, &cuts);
                }
            }
        }
    }

    #[test]
    fn line_ends_count_the_newlines() {
        for bytes in [&b""[..], b"a", b"a\n", b"\n", b"a\n\nb", b"\n\n", b"a\r\nb\r\n"] {
            let found: Vec<&[u8]> = lines(bytes).collect();
            assert_eq!(crate::line_ends(bytes, found.len()), bytes.iter().filter(|&&c| c == b'\n').count() as u64, "{bytes:?}");
        }
    }

    #[test]
    fn worker_counts_drops_tags_filters_and_bad_lines() {
        let bytes = b"1607374321.541\t200\n1607374321.541\tx\n1607374321.541\t404\n1607374321.541\t503\n1607374321.541\t200\n";
        let start = ChunkStart { layout: ChunkLayout::Log(Arc::new(realtime())), first_line: 10, lines: 5, double_decode: false };
        let w = Worker::new(SummaryOptions::default(), 5, false);
        let mut rules = StatusRules::default();
        let mut filter = Filter::new();
        filter.set("status", "2xx,4xx", 0).unwrap();
        let mut w = w.with_filter(filter);
        w.run(0, &start, bytes, Some(&mut rules));
        assert_eq!((w.summary.records, w.summary.bad_lines, w.dropped, w.filtered_out, w.lines), (2, 1, 1, 1, 5));
        assert_eq!(w.summary.tags["class"].iter().collect::<Vec<_>>(), [(b"2xx".as_slice(), 2)]);
        let bad = std::mem::take(&mut w.bad).into_sorted();
        assert_eq!((bad[0].input, bad[0].line), (0, 12));
    }
}
