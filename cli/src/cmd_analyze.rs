//! `cflog analyze`: aggregate inputs into one report, on every core.
//!
//! A reader thread reads each input straight into newline-aligned chunks of about 1 MiB
//! with `cflog_engine`'s [`InPlaceChunker`] and [`Cutter`] (which tag each chunk with the
//! layout in force and the lines before it); `cflog_engine` [`Worker`]s parse and aggregate
//! chunks into their own summary and hand each chunk's buffer back to the reader; the
//! summaries are merged at the end. This file holds only the threads, the progress bar and
//! the options. Memory is bounded by the chunks in flight (2 per worker) and a few spare
//! buffers, plus one summary per worker, whatever the input size.

use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cflog_core::agg::Merge;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::Schema;
use cflog_engine::bad::BadLines;
use cflog_engine::cut::{ChunkBytes, ChunkStart, Cutter, InPlaceChunker};
use cflog_engine::worker::{Rules, Worker};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::input::{self, Input};
use crate::layout::LayoutChoice;
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
    pub filter: cflog_core::filter::Filter,
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
            filter: cflog_core::filter::Filter::new(),
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

pub use cflog_engine::bad::BadLine;
pub use cflog_engine::cut::LayoutOrigin;

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
    /// Whether its values were decoded twice: a pre-2020 standard log (detected from its
    /// first records, see `cflog_core::layout::sniff_double_encoding`), or `--double-decode`.
    pub decodes_twice: bool,
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

/// A chunk of one input and where it starts.
struct Chunk {
    input: usize,
    start: ChunkStart,
    bytes: ChunkBytes,
}

/// One thread's worker and its rules.
struct ThreadWorker {
    worker: Worker,
    #[cfg(feature = "plugins")]
    rules: Option<cflog_engine::wasmtime_rules::WasmRules>,
}

impl ThreadWorker {
    /// The worker and its rules, borrowed apart.
    fn parts(&mut self) -> (&mut Worker, Option<&mut dyn Rules>) {
        #[cfg(feature = "plugins")]
        return (&mut self.worker, self.rules.as_mut().map(|r| r as &mut dyn Rules));
        #[cfg(not(feature = "plugins"))]
        (&mut self.worker, None)
    }

    fn run(&mut self, chunk: &Chunk) {
        let (worker, rules) = self.parts();
        worker.run(chunk.input, &chunk.start, &chunk.bytes, rules);
    }

    /// Cuts and runs a chunk on this thread (`Cutter::take_run`, as the browser engine
    /// does): the worker's walk over the chunk counts its lines for the cutter, instead
    /// of a pass of the cutter's own.
    fn cut_and_run(&mut self, cutter: &mut Cutter, input: usize, bytes: &[u8]) -> Result<u64> {
        let (worker, rules) = self.parts();
        let start = cutter.take_run(bytes, |start| worker.run(input, start, bytes, rules))?;
        Ok(start.lines)
    }
}

/// What the reader does with each chunk it cut from an input: with one thread, cut and run
/// it there; with more, describe it and send it to the workers. `Ok(false)` stops reading.
type Deliver<'a> = dyn FnMut(&mut Cutter, usize, ChunkBytes) -> Result<bool> + 'a;

/// Cuts one input into chunks and hands each to `deliver` with the cutter.
/// Reads go straight into the chunks' buffers; workers send each chunk's buffer back
/// through `spent` once done, to be read into again.
fn read_chunks(
    index: usize,
    input: &mut Input,
    layout: &LayoutChoice,
    read: &mut InputRead,
    spent: &Receiver<ChunkBytes>,
    deliver: &mut Deliver<'_>,
) -> Result<()> {
    let mut cutter = Cutter::new(&input.layout(layout));
    cutter.begin(&input.name);
    let mut chunker = InPlaceChunker::new();
    let mut failure: Option<anyhow::Error> = None;
    let mut emit = |bytes: ChunkBytes, cutter: &mut Cutter| -> Result<bool> { deliver(cutter, index, bytes) };
    let mut stopped = false;
    input::read_in_place(input, &mut chunker, |bytes, chunker| {
        for done in spent.try_iter() {
            chunker.give_back(done);
        }
        match emit(bytes, &mut cutter) {
            Ok(true) => true,
            Ok(false) => {
                stopped = true;
                false
            }
            Err(e) => {
                stopped = true;
                failure = Some(e);
                false
            }
        }
    })?;
    let result = match failure {
        Some(e) => Err(e),
        None if stopped => Ok(()),
        None => chunker.finish().map_or(Ok(()), |bytes| emit(bytes, &mut cutter).map(|_| ())),
    };
    read.origin = cutter.origin();
    read.layouts = cutter.layouts().to_vec();
    read.decodes_twice = cutter.decodes_twice();
    result
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

    let new_worker = || -> Result<ThreadWorker> {
        Ok(ThreadWorker {
            worker: Worker::new(options.summary, keep, layout.double_decode).with_filter(options.filter.clone()),
            #[cfg(feature = "plugins")]
            rules: match &options.plugins {
                Some(p) => Some(cflog_engine::wasmtime_rules::WasmRules::new(cflog_plugin_host::PluginSet::instantiate(&p.host, &p.compiled)?)),
                None => None,
            },
        })
    };
    let mut reads: Vec<InputRead> = Vec::with_capacity(paths.len());
    // Chunk buffers the workers are done with, back to the reader.
    let (spent_tx, spent): (Sender<ChunkBytes>, Receiver<ChunkBytes>) = channel();
    // Opens `path` and notes it in `reads`, with the bytes it took once read.
    let mut read_input = |i: usize, path: &str, deliver: &mut Deliver<'_>| -> Result<()> {
        let before = consumed.load(std::sync::atomic::Ordering::Relaxed);
        let result = open(path).and_then(|mut input| {
            reads.push(InputRead { name: input.name.clone(), bytes: 0, gzip: input.gzip, origin: LayoutOrigin::Empty, layouts: Vec::new(), decodes_twice: false });
            let read = reads.last_mut().expect("just pushed");
            read_chunks(i, &mut input, layout, read, &spent, deliver)
        });
        if let Some(read) = reads.last_mut().filter(|r| r.name == *path || path == "-") {
            read.bytes = consumed.load(std::sync::atomic::Ordering::Relaxed) - before;
        }
        result
    };
    let mut workers: Vec<ThreadWorker> = Vec::new();
    if options.threads <= 1 {
        let mut worker = new_worker()?;
        for (i, path) in paths.iter().enumerate() {
            let read = read_input(i, path, &mut |cutter, input, bytes| {
                let lines = worker.cut_and_run(cutter, input, &bytes)?;
                lines_done.fetch_add(lines, std::sync::atomic::Ordering::Relaxed);
                tick(&bar);
                let _ = spent_tx.send(bytes);
                Ok(true)
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
                    let spent_tx = spent_tx.clone();
                    scope.spawn(move || {
                        loop {
                            let next = rx.lock().map(|r| r.recv());
                            let Ok(Ok(chunk)) = next else { break };
                            worker.run(&chunk);
                            lines_done.fetch_add(chunk.start.lines, std::sync::atomic::Ordering::Relaxed);
                            // The reader may be done: then the buffer is simply dropped.
                            let _ = spent_tx.send(chunk.bytes);
                        }
                        worker
                    })
                })
                .collect();
            let mut last_tick = Instant::now();
            let mut read_result = Ok(());
            for (i, path) in paths.iter().enumerate() {
                let read = read_input(i, path, &mut |cutter, input, bytes| {
                    let start = cutter.take(&bytes)?;
                    if last_tick.elapsed() > Duration::from_millis(250) {
                        tick(&bar);
                        last_tick = Instant::now();
                    }
                    Ok(tx.send(Chunk { input, start, bytes }).is_ok())
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

    let mut bad = BadLines::new(keep);
    for w in &mut workers {
        bad.merge(std::mem::take(&mut w.worker.bad));
    }
    let dropped = workers.iter().map(|w| w.worker.dropped).sum();
    let filtered_out = workers.iter().map(|w| w.worker.filtered_out).sum();
    #[cfg(feature = "plugins")]
    let plugin_stats = cflog_engine::wasmtime_rules::sum_stats(workers.iter().filter_map(|w| w.rules.as_ref()).map(|r| r.stats()));
    let mut iter = workers.into_iter();
    let mut summary = iter.next().map(|w| w.worker.summary).unwrap_or_else(|| Summary::new(options.summary));
    for w in iter {
        summary.merge(&w.worker.summary).context("merging worker summaries")?;
    }
    Ok(Analysis {
        summary,
        bad_lines: bad.into_sorted(),
        #[cfg(feature = "plugins")]
        plugins: plugin_stats,
        dropped_by_plugins: dropped,
        filtered_out,
        problems,
        inputs: reads,
    })
}
