//! `cflog top`: a live view of a Kinesis stream (`--stream`, every shard, no Lambda) or a
//! growing file (`--follow`, rotation included, `-` for stdin), redrawn every second over a
//! sliding window. A terminal dashboard (ratatui) when stdout is a terminal, periodic plain
//! text snapshots otherwise.
//!
//! A source thread ([`follow`], [`kinesis`]) sends [`Event`]s over one channel; so does the
//! keyboard thread of the terminal view. The main thread parses and aggregates
//! ([`feed`], into the [`window`] of mergeable summaries) and draws ([`screen`], [`plain`]).

use std::process::ExitCode;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Args;

use crate::layout::LayoutChoice;

pub mod feed;
pub mod follow;
#[cfg(feature = "aws")]
pub mod kinesis;
pub mod plain;
pub mod screen;
pub mod stats;
pub mod window;

pub use feed::RecordFilter;

/// What the threads tell the main loop.
#[derive(Debug)]
pub enum Event {
    /// Bytes of the input; lines may straddle events. (Each Kinesis record is sent with
    /// its line ending.)
    Bytes(Vec<u8>),
    /// The input starts over (a rotated or truncated file), for this reason.
    Restart(String),
    /// A notice for the status line (a shard split, a throttled shard, stdin ended).
    Note(String),
    /// What the source is, now (e.g. `stream demo: 2 shards, 0 s behind`).
    Source(String),
    /// The input ended (stdin closed).
    End,
    /// The source failed for good.
    Failed(anyhow::Error),
    /// The user asked to quit (`q`, Esc, Ctrl-C).
    Quit,
    /// Draw now (the terminal was resized).
    Redraw,
}

/// Where `cflog top` reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file (or `-`, stdin), followed as it grows.
    Follow(String),
    /// A Kinesis stream.
    #[cfg(feature = "aws")]
    Stream(kinesis::StreamOptions),
}

/// `cflog top`'s own options (the layout options are `analyze`'s).
#[derive(Debug, Args)]
pub struct TopArgs {
    /// Kinesis stream (name or ARN) to read directly, every shard, following splits and
    /// merges. Region and credentials come from the usual AWS environment.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "NAME", required_unless_present = "follow", conflicts_with = "follow")]
    pub stream: Option<String>,
    /// AWS endpoint (e.g. a local moto server), with --stream.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "URL", requires = "stream")]
    pub endpoint_url: Option<String>,
    /// AWS region, with --stream (default: from the environment or profile).
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "REGION", requires = "stream")]
    pub region: Option<String>,
    /// Where to start in the stream: `latest` (new records only), `oldest` (all the stream
    /// holds), or a time back from now such as `15m` or `2h`. The default is latest.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "WHEN", requires = "stream", value_parser = kinesis::parse_start)]
    pub from: Option<kinesis::StartAt>,
    /// A log file to read and then follow as it grows (like `tail -F`: a rotated or
    /// truncated file is read again from its start); `-` reads stdin.
    #[arg(long, value_name = "FILE")]
    // Without the `aws` feature there is no --stream: a missing --follow is a usage error
    // (exit 2), as it is with the feature.
    #[cfg_attr(not(feature = "aws"), arg(required = true))]
    pub follow: Option<String>,
    /// The sliding window shown: the last WIDTH of log time (see README).
    #[arg(long, default_value = "5m", value_parser = crate::cmd_analyze::parse_window, value_name = "WIDTH")]
    pub window: u64,
    /// Entries shown in each top list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Seconds between redraws (default: 1 on a terminal, 5 for plain snapshots).
    #[arg(long, value_name = "SECONDS", value_parser = parse_interval)]
    pub interval: Option<f64>,
    /// Stop after N redraws (or snapshots), like `top -n`.
    #[arg(short = 'n', long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Plain text snapshots even when stdout is a terminal.
    #[arg(long)]
    pub plain: bool,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!("{s:?}: expected seconds between redraws, e.g. 1 or 0.5 (at most 3600)")),
    }
}

impl TopArgs {
    /// The source the options name.
    pub fn source(&self) -> Result<Source> {
        #[cfg(feature = "aws")]
        if let Some(stream) = &self.stream {
            return Ok(Source::Stream(kinesis::StreamOptions {
                stream: stream.clone(),
                endpoint_url: self.endpoint_url.clone(),
                region: self.region.clone(),
                start: self.from.clone().unwrap_or(kinesis::StartAt::Latest),
            }));
        }
        match &self.follow {
            Some(path) => Ok(Source::Follow(path.clone())),
            None => bail!("cflog top needs --follow FILE (or --stream NAME)"),
        }
    }
}

/// Everything a redraw needs to know besides the window.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// What is read (`file access.log`, `stream demo: 2 shards`).
    pub source: String,
    /// The last notice, with its wall time (epoch ms).
    pub note: Option<(i64, String)>,
    /// The input ended.
    pub ended: bool,
}

/// Runs `cflog top` until `q`, the iteration count, the end of a plain-mode stdin, or an error.
pub fn run(args: &TopArgs, layout: LayoutChoice, filter: Option<RecordFilter>) -> Result<ExitCode> {
    let source = args.source()?;
    let tty = !args.plain && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let interval = Duration::from_secs_f64(args.interval.unwrap_or(if tty { 1.0 } else { 5.0 }));
    let (tx, rx) = sync_channel::<Event>(64);
    let name = match &source {
        Source::Follow(path) => if path == "-" { "<stdin>".to_string() } else { path.clone() },
        #[cfg(feature = "aws")]
        Source::Stream(o) => o.stream.clone(),
    };
    let mut status = Status { source: describe(&source), ..Status::default() };
    spawn_source(source, tx.clone())?;
    let mut feed = feed::Feed::new(&name, layout, args.window, filter);
    let mut loop_state = Loop { rx, interval, iterations: args.iterations };
    if tty {
        let mut screen = screen::Screen::enter(tx)?;
        loop_state.run(&mut feed, &mut status, |feed, status, last| screen.draw(feed, status, last, args.top))
    } else {
        drop(tx);
        let mut out = std::io::stdout();
        loop_state.run(&mut feed, &mut status, |feed, status, last| plain::snapshot(&mut out, feed, status, last, args.top))
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Follow(p) if p == "-" => "stdin".into(),
        Source::Follow(p) => format!("file {p}"),
        #[cfg(feature = "aws")]
        Source::Stream(o) => format!("stream {}", o.stream),
    }
}

fn spawn_source(source: Source, tx: SyncSender<Event>) -> Result<()> {
    match source {
        Source::Follow(path) => follow::spawn(path, tx, follow::POLL),
        #[cfg(feature = "aws")]
        Source::Stream(options) => kinesis::spawn(options, tx),
    }
}

struct Loop {
    rx: Receiver<Event>,
    interval: Duration,
    iterations: Option<u64>,
}

impl Loop {
    /// Handles events and draws every interval; `draw` is told whether it is the last draw.
    fn run(
        &mut self,
        feed: &mut feed::Feed,
        status: &mut Status,
        mut draw: impl FnMut(&mut feed::Feed, &Status, bool) -> Result<()>,
    ) -> Result<ExitCode> {
        let mut drawn = 0u64;
        let mut next = Instant::now() + self.interval;
        loop {
            match self.rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(event) => match self.handle(event, feed, status)? {
                    Step::Go => {}
                    Step::DrawNow => draw(feed, status, false)?,
                    Step::Quit => return Ok(ExitCode::SUCCESS),
                },
                Err(RecvTimeoutError::Timeout) => {}
                // Every sender gone: the input ended and there is no keyboard (plain mode).
                Err(RecvTimeoutError::Disconnected) => {
                    status.ended = true;
                    draw(feed, status, true)?;
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if Instant::now() >= next {
                drawn += 1;
                let last = self.iterations.is_some_and(|n| drawn >= n);
                draw(feed, status, last)?;
                if last {
                    return Ok(ExitCode::SUCCESS);
                }
                next = Instant::now() + self.interval;
            }
        }
    }

    fn handle(&self, event: Event, feed: &mut feed::Feed, status: &mut Status) -> Result<Step> {
        let now = Instant::now();
        let mut note = |text: String| status.note = Some((window::wall_ms(), text));
        match event {
            Event::Bytes(bytes) => feed.push(&bytes, now)?,
            Event::Restart(reason) => {
                feed.restart(now)?;
                note(reason);
            }
            Event::Note(text) => note(text),
            Event::Source(text) => status.source = text,
            Event::End => {
                feed.restart(now)?;
                note("the input ended".into());
                status.ended = true;
            }
            Event::Failed(e) => return Err(e),
            Event::Quit => return Ok(Step::Quit),
            Event::Redraw => return Ok(Step::DrawNow),
        }
        Ok(Step::Go)
    }
}

enum Step {
    Go,
    DrawNow,
    Quit,
}
