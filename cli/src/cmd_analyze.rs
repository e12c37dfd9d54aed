//! `cflog analyze`: aggregate inputs into one report, on every core.
//!
//! A reader thread cuts each input into newline-aligned chunks of about 1 MiB and tags
//! each with what a parser needs to start mid-input: the layout in force (standard logs
//! can switch layout at any `#Fields:` line) and the number of lines before it. Workers
//! parse and aggregate chunks into their own [`Summary`]; the summaries are merged at the
//! end. Memory is bounded by the chunks in flight (2 per worker) plus one summary per
//! worker, whatever the input size.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cflog_core::agg::Merge;
use cflog_core::filter::Filter;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{Format, ParseError, Parser, RecordBuf, Schema};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::{self, Input};
use crate::layout::LayoutChoice;
use crate::ndjson::{Decoded, NdjsonDecoder};
use crate::sources::Problems;

pub use crate::window_arg::parse_window;

/// Options of one `cflog analyze` run.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// How records aggregate.
    pub summary: SummaryOptions,
    /// Worker threads; 1 runs everything on the calling thread.
    pub threads: usize,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Print at most this many bad lines (all are counted).
    pub max_errors: Option<u64>,
    /// `--keep-going`: an input that cannot be read is recorded in [`Analysis::problems`]
    /// and the run goes on; otherwise it ends the run.
    pub keep_going: bool,
    /// Records kept (`--status`, `--since`, ...); tag conditions apply after the rules.
    pub filter: Filter,
    /// Enrichment rules: each worker thread instantiates its own copy.
    #[cfg(feature = "plugins")]
    pub plugins: Option<Plugins>,
}

impl Default for AnalyzeOptions {
    /// Default summary options, one thread, no progress bar, 20 bad lines printed, stop at
    /// the first unreadable input, no rules.
    fn default() -> Self {
        AnalyzeOptions {
            summary: SummaryOptions::default(),
            threads: 1,
            progress: false,
            max_errors: Some(20),
            keep_going: false,
            filter: Filter::new(),
            #[cfg(feature = "plugins")]
            plugins: None,
        }
    }
}

/// Compiled enrichment rules and the host that runs them.
#[cfg(feature = "plugins")]
#[derive(Debug, Clone)]
pub struct Plugins {
    /// The engine and limits.
    pub host: cflog_plugin_host::PluginHost,
    /// The rules, in the order given.
    pub compiled: Vec<cflog_plugin_host::CompiledPlugin>,
}

#[cfg(feature = "plugins")]
impl Plugins {
    /// Compiles `PATH[:CONFIG]` specs (CONFIG is a JSON file).
    pub fn load(specs: &[String]) -> Result<Plugins> {
        let host = cflog_plugin_host::PluginHost::new(cflog_plugin_host::Limits::default())?;
        let compiled = specs
            .iter()
            .map(|s| cflog_plugin_host::PluginSpec::parse(s).compile(&host, None))
            .collect::<Result<Vec<_>, _>>()?;
        // Instantiate once here so a bad module or configuration stops the run at once.
        cflog_plugin_host::PluginSet::instantiate(&host, &compiled)?;
        Ok(Plugins { host, compiled })
    }
}

/// Per-thread plugin state: the instances, a reusable batch and result.
#[cfg(feature = "plugins")]
struct WorkerPlugins {
    set: cflog_plugin_host::PluginSet,
    batch: cflog_plugin_host::Batch,
    enriched: cflog_plugin_host::Enriched,
    /// One span buffer per record of a batch, reused from chunk to chunk.
    bufs: Vec<RecordBuf>,
}

#[cfg(feature = "plugins")]
impl WorkerPlugins {
    fn new(p: &Plugins) -> Result<WorkerPlugins> {
        let set = cflog_plugin_host::PluginSet::instantiate(&p.host, &p.compiled)?;
        let batch = set.batch();
        Ok(WorkerPlugins { set, batch, enriched: Default::default(), bufs: Vec::new() })
    }
}

/// A bad line, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadLine {
    /// Index of the input in the argument list.
    pub input: usize,
    /// 1-based line number in that input.
    pub line: u64,
    /// `field F: reason`.
    pub message: String,
}

/// How the layout of one input was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutOrigin {
    /// Real-time, from `--fields`.
    Given,
    /// Real-time, inferred from the first record's field count.
    Inferred,
    /// Standard, from the `#Fields:` header.
    Header,
    /// Standard without a header: the 33-column default.
    NoHeader,
    /// cflog's NDJSON records (each carries its field names).
    Ndjson,
    /// Nothing was read (an empty input).
    Empty,
}

/// What one input was, for the dashboard's "Read ..." line and its empty panels.
#[derive(Debug, Clone)]
pub struct InputRead {
    /// As given on the command line (`-` is stdin).
    pub name: String,
    /// Bytes read (compressed bytes for gzip).
    pub bytes: u64,
    /// Whether it was gzip.
    pub gzip: bool,
    /// How its first layout was chosen.
    pub origin: LayoutOrigin,
    /// Every layout met, in order, each once (standard logs switch at each `#Fields:` line).
    pub layouts: Vec<Schema>,
}

impl InputRead {
    fn add_layout(&mut self, schema: &Schema) {
        if !self.layouts.contains(schema) {
            self.layouts.push(schema.clone());
        }
    }
}

/// The result of a run: the merged summary and the first bad lines.
#[derive(Debug)]
pub struct Analysis {
    /// Everything aggregated.
    pub summary: Summary,
    /// The first bad lines (by input, then line), up to the requested limit.
    pub bad_lines: Vec<BadLine>,
    /// Per enrichment rule: calls, failures, disabled (summed over worker threads).
    #[cfg(feature = "plugins")]
    pub plugins: Vec<cflog_plugin_host::PluginStats>,
    /// Records a rule asked to drop: parsed, not counted in the summary.
    pub dropped_by_plugins: u64,
    /// Records the filter left out (parsed, valid, not counted).
    pub filtered_out: u64,
    /// Inputs that could not be read, or not to the end (with `--keep-going`).
    pub problems: Problems,
    /// Each input read, in the order given: its size and layouts.
    pub inputs: Vec<InputRead>,
}

/// How a chunk's lines are read.
#[derive(Clone)]
enum ChunkLayout {
    /// Log lines in this layout (at the chunk's start: a standard log can switch).
    Log(Arc<Schema>),
    /// cflog's NDJSON records (each carries its field names).
    Ndjson,
}

struct Chunk {
    input: usize,
    layout: ChunkLayout,
    first_line: u64,
    lines: u64,
    bytes: Vec<u8>,
}

/// The lines of a chunk (the last one may lack its `\n`).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    std::iter::from_fn(move || {
        let end = ends.next()?;
        if start >= bytes.len() && end == bytes.len() {
            return None;
        }
        let line = &bytes[start..end];
        start = end + 1;
        Some(line)
    })
}

/// `_cflog.tags` of each line of a run of NDJSON records (empty for log lines).
type LineTags = [Vec<(String, String)>];

struct Worker {
    summary: Summary,
    bad: Vec<BadLine>,
    keep: usize,
    buf: RecordBuf,
    dropped: u64,
    filter: Filter,
    filtered_out: u64,
    ndjson: NdjsonDecoder,
    #[cfg(feature = "plugins")]
    plugins: Option<WorkerPlugins>,
}

impl Worker {
    fn new(options: SummaryOptions, keep: usize, filter: Filter) -> Self {
        Worker {
            summary: Summary::new(options),
            bad: Vec::new(),
            keep,
            buf: RecordBuf::new(),
            dropped: 0,
            filter,
            filtered_out: 0,
            ndjson: NdjsonDecoder::new(),
            #[cfg(feature = "plugins")]
            plugins: None,
        }
    }

    fn bad_line(&mut self, input: usize, e: &ParseError) {
        self.bad_message(input, e.line, e.reason().to_string());
    }

    fn bad_message(&mut self, input: usize, line: u64, message: String) {
        self.summary.add_bad_line();
        // Keep the lowest-numbered lines: chunks arrive roughly in order, so once the
        // list is full a later line rarely displaces one.
        let entry = BadLine { input, line, message };
        if self.bad.len() < self.keep {
            self.bad.push(entry);
        } else if let Some(max) = self.bad.iter_mut().max().filter(|m| **m > entry) {
            *max = entry;
        }
    }

    fn run(&mut self, chunk: &Chunk, double_decode: bool) {
        match &chunk.layout {
            ChunkLayout::Log(schema) => {
                self.run_lines(chunk.input, schema, chunk.first_line, &chunk.bytes, double_decode, &[]);
            }
            ChunkLayout::Ndjson => self.run_ndjson(chunk),
        }
    }

    /// Parses and aggregates `bytes`, lines `first_line + 1 ...` of input `input`; `tags`
    /// holds each line's `_cflog.tags`, when the lines were rebuilt from NDJSON records.
    fn run_lines(&mut self, input: usize, schema: &Schema, first_line: u64, bytes: &[u8], double_decode: bool, tags: &LineTags) {
        #[cfg(feature = "plugins")]
        if self.plugins.is_some() {
            return self.run_with_plugins(input, schema, first_line, bytes, double_decode, tags);
        }
        let mut parser = Parser::with_schema(schema.clone()).double_decode(double_decode).after_line(first_line);
        for (index, line) in lines(bytes).enumerate() {
            match parser.parse_line(line, &mut self.buf) {
                Ok(Some(record)) => {
                    let line_tags = tags.get(index).map_or(&[][..], Vec::as_slice);
                    let kept = admit(&self.filter, &mut self.filtered_out, &record, |k, v| has_tag(line_tags, k, v));
                    match kept.and_then(|keep| if keep { self.summary.add(&record).map(|()| true) } else { Ok(false) }) {
                        Ok(true) => {
                            for (k, v) in line_tags {
                                self.summary.add_tag(k, v.as_bytes());
                            }
                        }
                        Ok(false) => {}
                        Err(e) => self.bad_line(input, &e),
                    }
                }
                Ok(None) => {}
                Err(e) => self.bad_line(input, &e),
            }
        }
    }

    /// Rebuilds each NDJSON record as a log line (see [`crate::ndjson`]) and aggregates
    /// each run of lines with one layout. Line k of a run is line `first + k` of the input
    /// (a line that is not a record leaves an empty line), so errors keep their numbers.
    fn run_ndjson(&mut self, chunk: &Chunk) {
        let mut decoder = std::mem::take(&mut self.ndjson);
        let mut rebuilt = Vec::new();
        let mut run_bytes: Vec<u8> = Vec::with_capacity(chunk.bytes.len());
        let mut run_tags: Vec<Vec<(String, String)>> = Vec::new();
        // The layout of the current run and the number of lines before it.
        let mut run: Option<(Arc<Schema>, u64)> = None;
        let mut line_no = chunk.first_line;
        for line in lines(&chunk.bytes) {
            line_no += 1;
            match decoder.decode(line, &mut rebuilt) {
                Ok(Decoded::Record { schema, tags }) => {
                    if !run.as_ref().is_some_and(|(s, _)| Arc::ptr_eq(s, &schema)) {
                        if let Some((s, first)) = run.take() {
                            self.run_lines(chunk.input, &s, first, &run_bytes, false, &run_tags);
                        }
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
                        self.bad_message(chunk.input, line_no, reason);
                    }
                    if run.is_some() {
                        run_bytes.push(b'\n');
                        run_tags.push(Vec::new());
                    }
                }
            }
        }
        if let Some((s, first)) = run {
            self.run_lines(chunk.input, &s, first, &run_bytes, false, &run_tags);
        }
        self.ndjson = decoder;
    }
}

#[cfg(feature = "plugins")]
impl Worker {
    /// Parses the chunk once, line by line, into one span buffer per record; sends the
    /// records to the rules as one batch; then aggregates each record (rebuilt from its
    /// spans, not parsed again) with its tags, unless a rule dropped it. A standard
    /// log's `#Fields:` line ends the batch, since it changes the layout.
    fn run_with_plugins(&mut self, input: usize, schema: &Schema, first_line: u64, bytes: &[u8], double_decode: bool, tags: &LineTags) {
        let Some(mut p) = self.plugins.take() else { return };
        let mut parser = Parser::with_schema(schema.clone()).double_decode(double_decode).after_line(first_line);
        let lines: Vec<&[u8]> = lines(bytes).collect();
        // (index into `lines`, line number) of each record in the batch; record k's
        // spans are in p.bufs[k].
        let mut pending: Vec<(usize, u64)> = Vec::new();
        p.batch.clear();
        for (li, line) in lines.iter().enumerate() {
            if line.first() == Some(&b'#') && !pending.is_empty() {
                self.flush_batch(&mut p, &parser, &lines, &mut pending, input, tags);
            }
            let k = pending.len();
            if k == p.bufs.len() {
                p.bufs.push(RecordBuf::new());
            }
            match parser.parse_line(line, &mut p.bufs[k]) {
                Ok(Some(record)) => {
                    p.batch.push(&record);
                    pending.push((li, record.line_number()));
                }
                Ok(None) => {}
                Err(e) => self.bad_line(input, &e),
            }
        }
        self.flush_batch(&mut p, &parser, &lines, &mut pending, input, tags);
        self.plugins = Some(p);
    }

    fn flush_batch(
        &mut self,
        p: &mut WorkerPlugins,
        parser: &Parser,
        lines: &[&[u8]],
        pending: &mut Vec<(usize, u64)>,
        input: usize,
        tags: &LineTags,
    ) {
        if pending.is_empty() {
            return;
        }
        p.set.enrich_into(&p.batch, &mut p.enriched);
        for (i, &(li, line_no)) in pending.iter().enumerate() {
            if p.enriched.dropped(i) {
                self.dropped += 1;
                continue;
            }
            let record = parser.view(lines[li], &p.bufs[i], line_no);
            let line_tags = tags.get(li).map_or(&[][..], Vec::as_slice);
            let enriched = &p.enriched;
            let kept = admit(&self.filter, &mut self.filtered_out, &record, |k, v| {
                enriched.tags(i).any(|(tk, tv)| tk == k && tv == v) || has_tag(line_tags, k, v)
            });
            match kept.and_then(|keep| if keep { self.summary.add(&record).map(|()| true) } else { Ok(false) }) {
                Ok(false) => {}
                Err(e) => self.bad_line(input, &e),
                Ok(true) => {
                    for (k, v) in p.enriched.tags(i) {
                        self.summary.add_tag(k, v.as_bytes());
                    }
                    for (k, v) in tags.get(li).into_iter().flatten() {
                        self.summary.add_tag(k, v.as_bytes());
                    }
                }
            }
        }
        pending.clear();
        p.batch.clear();
    }
}

/// Whether `filter` keeps `record` (tags looked up with `has`), counting what it leaves out.
fn admit(filter: &Filter, filtered_out: &mut u64, record: &cflog_core::Record<'_>, has: impl Fn(&str, &str) -> bool) -> Result<bool, ParseError> {
    let keep = filter.keep(record)? && filter.keep_tags(has);
    if !keep {
        // Bad lines are bad whatever the filter: the values the summary reads are checked.
        Summary::check(record)?;
        *filtered_out += 1;
    }
    Ok(keep)
}

fn has_tag(tags: &[(String, String)], key: &str, value: &str) -> bool {
    tags.iter().any(|(k, v)| k == key && v == value)
}

/// Cuts one input into chunks and hands them to `send`.
fn read_chunks(
    index: usize,
    input: &mut Input,
    layout: &LayoutChoice,
    read: &mut InputRead,
    mut send: impl FnMut(Chunk) -> bool,
) -> Result<()> {
    let name = input.name.clone();
    let mut pending: Vec<u8> = Vec::with_capacity(input::CHUNK * 2);
    let mut schema: Option<ChunkLayout> = None;
    let mut lines_before = 0u64;
    let mut stopped = false;
    let mut flush = |pending: &mut Vec<u8>, upto: usize, schema: &mut Option<ChunkLayout>, lines: &mut u64| -> Result<bool> {
        // The tail (a partial line) starts the next chunk, in a buffer sized so that
        // filling it never reallocates.
        let mut rest = Vec::with_capacity(input::CHUNK * 2);
        rest.extend_from_slice(&pending[upto..]);
        pending.truncate(upto);
        let bytes = std::mem::replace(pending, rest);
        let current = match schema {
            Some(s) => s.clone(),
            None => {
                let s = if layout.is_ndjson(&bytes) {
                    read.origin = LayoutOrigin::Ndjson;
                    ChunkLayout::Ndjson
                } else {
                    let s = Arc::new(layout.parser_for(&name, &bytes)?.schema().clone());
                    read.origin = match s.format() {
                        Format::RealTime if layout.realtime.is_some() => LayoutOrigin::Given,
                        Format::RealTime => LayoutOrigin::Inferred,
                        _ if cflog_core::layout::first_line(&bytes).starts_with(b"#") => LayoutOrigin::Header,
                        _ => LayoutOrigin::NoHeader,
                    };
                    if read.origin != LayoutOrigin::Header {
                        read.add_layout(&s);
                    }
                    ChunkLayout::Log(s)
                };
                *schema = Some(s.clone());
                s
            }
        };
        if let ChunkLayout::Log(s) = &current
            && s.format() == Format::Standard
        {
            // Every `#Fields:` header, for the dashboard (the parser switches at each).
            for pos in memchr::memmem::find_iter(&bytes, b"#Fields:").filter(|&p| p == 0 || bytes[p - 1] == b'\n') {
                let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |e| pos + e);
                let line = bytes[pos..end].strip_suffix(b"\r").unwrap_or(&bytes[pos..end]);
                if let Some(Ok(s)) = Schema::from_w3c_fields(line) {
                    read.add_layout(&s);
                }
            }
        }
        let newlines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
        // The layout for the next chunk: the last `#Fields:` line in this one, if any.
        if let ChunkLayout::Log(s) = &current
            && s.format() == Format::Standard
            && let Some(pos) = memchr::memmem::rfind(&bytes, b"#Fields:") {
                let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |e| pos + e);
                let line = bytes[pos..end].strip_suffix(b"\r").unwrap_or(&bytes[pos..end]);
                if let Some(Ok(next)) = Schema::from_w3c_fields(line) {
                    *schema = Some(ChunkLayout::Log(Arc::new(next)));
                }
            }
        let chunk = Chunk { input: index, layout: current, first_line: *lines, lines: newlines, bytes };
        *lines += newlines;
        Ok(send(chunk))
    };
    let mut failure: Option<anyhow::Error> = None;
    input::for_each_chunk(input, |data| {
        if stopped {
            return;
        }
        pending.extend_from_slice(data);
        if pending.len() >= input::CHUNK
            && let Some(last_nl) = memchr::memrchr(b'\n', &pending) {
                match flush(&mut pending, last_nl + 1, &mut schema, &mut lines_before) {
                    Ok(true) => {}
                    Ok(false) => stopped = true,
                    Err(e) => {
                        stopped = true;
                        failure = Some(e);
                    }
                }
            }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if !pending.is_empty() && !stopped {
        let len = pending.len();
        flush(&mut pending, len, &mut schema, &mut lines_before)?;
    }
    Ok(())
}

fn progress_bar(total: Option<u64>, enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Aggregates `paths` into one summary.
pub fn analyze(paths: &[String], layout: &LayoutChoice, options: &AnalyzeOptions) -> Result<Analysis> {
    let keep = options.max_errors.unwrap_or(u64::MAX).min(10_000) as usize;
    let mut problems = Problems::new(options.keep_going);
    // Inputs are opened one at a time (a directory can hold more files than a process may
    // have open), so the progress total comes from their sizes on disk.
    let total: Option<u64> =
        paths.iter().map(|p| if p == "-" { None } else { std::fs::metadata(p).ok().map(|m| m.len()) }).sum();
    let bar = progress_bar(total, options.progress);
    let consumed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let open = |path: &str| input::open_counted(path, consumed.clone());
    let lines_done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let tick = |bar: &ProgressBar| {
        bar.set_position(consumed.load(std::sync::atomic::Ordering::Relaxed));
        let lines = lines_done.load(std::sync::atomic::Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!("{:.0}k lines/s", lines as f64 / secs / 1000.0));
    };

    let double = layout.double_decode;
    let new_worker = || -> Result<Worker> {
        #[allow(unused_mut)]
        let mut w = Worker::new(options.summary, keep, options.filter.clone());
        #[cfg(feature = "plugins")]
        if let Some(p) = &options.plugins {
            w.plugins = Some(WorkerPlugins::new(p)?);
        }
        Ok(w)
    };
    let mut reads: Vec<InputRead> = Vec::with_capacity(paths.len());
    // Opens `path` and notes it in `reads`, with the bytes it took once read.
    let mut read_input = |i: usize, path: &str, send: &mut dyn FnMut(Chunk) -> bool| -> Result<()> {
        let before = consumed.load(std::sync::atomic::Ordering::Relaxed);
        let result = open(path).and_then(|mut input| {
            reads.push(InputRead { name: input.name.clone(), bytes: 0, gzip: input.gzip, origin: LayoutOrigin::Empty, layouts: Vec::new() });
            let read = reads.last_mut().expect("just pushed");
            read_chunks(i, &mut input, layout, read, send)
        });
        if let Some(read) = reads.last_mut().filter(|r| r.name == *path || path == "-") {
            read.bytes = consumed.load(std::sync::atomic::Ordering::Relaxed) - before;
        }
        result
    };
    let mut workers: Vec<Worker> = Vec::new();
    if options.threads <= 1 {
        let mut worker = new_worker()?;
        for (i, path) in paths.iter().enumerate() {
            let read = read_input(i, path, &mut |chunk| {
                worker.run(&chunk, double);
                lines_done.fetch_add(chunk.lines, std::sync::atomic::Ordering::Relaxed);
                tick(&bar);
                true
            });
            if let Err(e) = read {
                problems.input_failed(e)?;
            }
        }
        workers.push(worker);
    } else {
        let (tx, rx): (SyncSender<Chunk>, Receiver<Chunk>) = sync_channel(options.threads * 2);
        let rx = Arc::new(Mutex::new(rx));
        let result = std::thread::scope(|scope| -> Result<()> {
            let ready = (0..options.threads).map(|_| new_worker()).collect::<Result<Vec<_>>>()?;
            let handles: Vec<_> = ready
                .into_iter()
                .map(|mut worker| {
                    let rx = rx.clone();
                    let lines_done = lines_done.clone();
                    scope.spawn(move || {
                        loop {
                            let next = rx.lock().map(|r| r.recv());
                            let Ok(Ok(chunk)) = next else { break };
                            worker.run(&chunk, double);
                            lines_done.fetch_add(chunk.lines, std::sync::atomic::Ordering::Relaxed);
                        }
                        worker
                    })
                })
                .collect();
            let mut last_tick = Instant::now();
            let mut read_result = Ok(());
            for (i, path) in paths.iter().enumerate() {
                let read = read_input(i, path, &mut |chunk| {
                    if last_tick.elapsed() > Duration::from_millis(250) {
                        tick(&bar);
                        last_tick = Instant::now();
                    }
                    tx.send(chunk).is_ok()
                });
                if let Err(e) = read.or_else(|e| problems.input_failed(e)) {
                    read_result = Err(e);
                    break;
                }
            }
            drop(tx);
            for h in handles {
                workers.push(h.join().map_err(|_| anyhow::anyhow!("a worker thread panicked"))?);
            }
            read_result
        });
        result?;
    }
    tick(&bar);
    bar.finish_and_clear();

    let mut bad: Vec<BadLine> = workers.iter_mut().flat_map(|w| std::mem::take(&mut w.bad)).collect();
    bad.sort();
    bad.truncate(keep);
    let dropped = workers.iter().map(|w| w.dropped).sum();
    let filtered_out = workers.iter().map(|w| w.filtered_out).sum();
    #[cfg(feature = "plugins")]
    let plugin_stats = sum_plugin_stats(workers.iter().filter_map(|w| w.plugins.as_ref()).map(|p| p.set.stats()));
    let mut iter = workers.into_iter();
    let mut summary = iter.next().map(|w| w.summary).unwrap_or_else(|| Summary::new(options.summary));
    for w in iter {
        summary.merge(&w.summary).context("merging worker summaries")?;
    }
    Ok(Analysis {
        summary,
        bad_lines: bad,
        #[cfg(feature = "plugins")]
        plugins: plugin_stats,
        dropped_by_plugins: dropped,
        filtered_out,
        problems,
        inputs: reads,
    })
}

/// Adds up the per-thread counters of each plugin (same load order on every thread).
#[cfg(feature = "plugins")]
fn sum_plugin_stats(per_thread: impl Iterator<Item = Vec<cflog_plugin_host::PluginStats>>) -> Vec<cflog_plugin_host::PluginStats> {
    let mut total: Vec<cflog_plugin_host::PluginStats> = Vec::new();
    for stats in per_thread {
        if total.is_empty() {
            total = stats;
            continue;
        }
        for (t, s) in total.iter_mut().zip(stats) {
            t.batches += s.batches;
            t.records += s.records;
            t.failures += s.failures;
            t.records_skipped += s.records_skipped;
            t.restarts += s.restarts;
            t.disabled |= s.disabled;
            for (k, n) in s.failures_by_kind {
                *t.failures_by_kind.entry(k).or_default() += n;
            }
            if s.last_error.is_some() {
                t.last_error = s.last_error;
            }
        }
    }
    total
}
