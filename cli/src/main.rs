//! `cflog`: parse, analyze, generate and replay Amazon CloudFront logs.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use cflog_cli::cmd_analyze::{self, AnalyzeOptions, parse_window};
use cflog_cli::dashboard::ColorChoice;
use cflog_cli::filter_args::{self, FilterArgs};
use cflog_cli::{cmd_parse, dashboard};
use cflog_cli::sources::{self, InputArgs};
use cflog_core::agg::Rank;
use cflog_core::summary::SummaryOptions;
use cflog_cli::layout::{self, FieldsOrder, FormatArg, LayoutChoice, parse_fields_spec};

#[cfg(feature = "aws")]
use cflog_lambda::names::env as cflog_lambda_env;

const EXIT_CODES: &str = "\
Exit codes:
  0  success: every line parsed
  1  error: unreadable input, bad option value, I/O failure
  2  usage error (unknown option, missing argument)
  3  finished, but some lines were bad (each one printed on stderr as FILE:LINE: field F: reason),
     or, with --keep-going, some inputs could not be read";

/// Watch and dig into Amazon CloudFront logs: real-time (Kinesis) and standard (W3C).
#[derive(Debug, Parser)]
#[command(name = "cflog", version, after_help = EXIT_CODES, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every record as typed NDJSON, one object per line, keyed by the field names
    /// of its format. Numbers are JSON numbers, `-` is null, encoded text is decoded once
    /// (twice for a pre-2020 standard log, detected per file).
    #[command(after_help = EXIT_CODES)]
    Parse(ParseArgs),
    /// Aggregate logs into one report: traffic, errors, cache hit ratio, latency
    /// percentiles, top URIs / clients / edges, unique viewers, per time window. Shows a
    /// terminal dashboard, or the versioned JSON report (docs/report.md) with --json.
    #[command(after_help = EXIT_CODES)]
    Analyze(AnalyzeArgs),
    /// Merge JSON reports from `cflog analyze --json` (other files, shards, machines):
    /// the result equals analyzing all their inputs at once.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Write deterministic, realistic synthetic logs (edge locations, status and cache
    /// mixes, Zipf URLs, encoded user agents with bots, IPv6, lognormal latencies).
    #[command(after_help = EXIT_CODES)]
    Gen(GenArgs),
    /// Print a shell completion script: `cflog completions bash > /etc/bash_completion.d/cflog`,
    /// `cflog completions zsh > "${fpath[1]}/_cflog"`, `cflog completions fish >
    /// ~/.config/fish/completions/cflog.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// A live view, like GoAccess's terminal mode: follow a Kinesis stream (every shard,
    /// no Lambda) or a growing log file, redrawn every second over a sliding window:
    /// requests/s, 4xx/5xx, hit ratio, p50/p95/p99, top URIs, clients, edges, errors.
    /// `q` quits. Plain text snapshots when stdout is not a terminal.
    Top(TopCliArgs),
    /// Put log lines into a Kinesis stream as CloudFront does (one line per record,
    /// random partition keys), for demos and load tests. Failed entries are resent alone.
    #[cfg(feature = "aws")]
    Replay(ReplayArgs),
    /// Poll a Kinesis stream and run the Lambda processor's handler on each batch (for
    /// ECS/EC2 instead of Lambda). Configured by the same CFLOG_* variables as the Lambda
    /// (see host-lambda/README.md); the options below override them.
    #[cfg(feature = "aws")]
    Consume(ConsumeCliArgs),
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct ReplayArgs {
    /// Stream name or ARN.
    #[arg(long, value_name = "NAME")]
    stream: String,
    /// AWS endpoint (e.g. a local moto server); region and credentials come from the
    /// usual AWS environment.
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Records per second (`N` or `N/s`). The default is as fast as the stream takes them.
    #[arg(long, value_name = "N/s", value_parser = cflog_cli::cmd_stream::parse_rate)]
    rate: Option<f64>,
    /// Log file (real-time lines; `.gz` is read transparently, `-` is stdin).
    #[arg(value_name = "FILE")]
    file: String,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct ConsumeCliArgs {
    /// Stream name or ARN.
    #[arg(long, value_name = "NAME")]
    stream: String,
    /// AWS endpoint (e.g. a local moto server).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Real-time log field list (overrides CFLOG_FIELDS).
    #[arg(long, value_name = "LIST")]
    fields: Option<String>,
    /// DynamoDB table for rollups and progress markers (overrides CFLOG_TABLE).
    #[arg(long, value_name = "TABLE")]
    table: Option<String>,
    /// Output stream for enriched records (overrides CFLOG_OUTPUT_STREAM).
    #[arg(long, value_name = "NAME")]
    output_stream: Option<String>,
    /// cloudwatch, emf or off (overrides CFLOG_METRICS).
    #[arg(long, value_name = "MODE")]
    metrics: Option<String>,
    /// Start at the oldest record instead of new ones only.
    #[arg(long)]
    from_start: bool,
    /// Stop after N empty polls of every shard (default: run until killed).
    #[arg(long, value_name = "N")]
    until_idle: Option<u32>,
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Real-time (Kinesis records) or standard (W3C with headers).
    #[arg(long, value_enum)]
    format: GenFormat,
    /// Lines to write (records; standard logs add two header lines).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    lines: u64,
    /// Seed: the same seed and options always give the same bytes.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// Real-time field set (as for `parse`); default: the 46-field release.
    #[arg(long, value_name = "SPEC")]
    fields: Option<String>,
    /// Average requests per second of simulated time (spreads timestamps).
    #[arg(long, default_value_t = 200.0, value_name = "N")]
    rate: f64,
    /// First timestamp, epoch milliseconds; `now-<minutes>m` for recent data (live sinks
    /// such as CloudWatch refuse timestamps older than two weeks). The default is
    /// 2026-11-01T00:00:00Z, so output is reproducible.
    #[arg(long, value_name = "MS|now-Nm", value_parser = parse_start)]
    start: Option<i64>,
    /// Compress the output with gzip.
    #[arg(long)]
    gzip: bool,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GenFormat {
    Realtime,
    Standard,
}

/// `--start`: epoch milliseconds, or `now-<N>m`.
fn parse_start(s: &str) -> std::result::Result<i64, String> {
    if let Some(minutes) = s.strip_prefix("now-").and_then(|m| m.strip_suffix('m')) {
        let minutes: i64 = minutes.parse().map_err(|_| format!("{s:?}: expected now-<minutes>m, e.g. now-60m"))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
        return Ok(now.as_millis() as i64 - minutes * 60_000);
    }
    s.parse().map_err(|_| format!("{s:?}: expected epoch milliseconds or now-<minutes>m"))
}

fn generate(args: GenArgs) -> Result<ExitCode> {
    use std::io::Write;
    let format = match args.format {
        GenFormat::Realtime => cflog_core::Format::RealTime,
        GenFormat::Standard => cflog_core::Format::Standard,
    };
    let schema = match &args.fields {
        None => None,
        Some(_) if format == cflog_core::Format::Standard => anyhow::bail!("--fields applies to real-time logs only"),
        Some(spec) => Some(
            cflog_core::Schema::from_field_names(&parse_fields_spec(spec)?.names)
                .map_err(|e| anyhow::anyhow!("--fields: {e}"))?,
        ),
    };
    let opts = cflog_gen::GenOptions {
        format,
        schema,
        lines: args.lines,
        seed: args.seed,
        requests_per_second: args.rate,
        start_ms: args.start.unwrap_or(cflog_gen::DEFAULT_START_MS),
    };
    let sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot create {path}: {e}"))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let sink = std::io::BufWriter::with_capacity(1 << 16, sink);
    let result = if args.gzip {
        let mut gz = flate2::write::GzEncoder::new(sink, flate2::Compression::fast());
        cflog_gen::generate(&opts, &mut gz).and_then(|()| gz.finish().and_then(|mut w| w.flush()))
    } else {
        let mut sink = sink;
        cflog_gen::generate(&opts, &mut sink).and_then(|()| sink.flush())
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(anyhow::anyhow!("gen: {e}")),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

#[derive(Debug, Args)]
struct LayoutArgs {
    /// Log format. `auto` picks standard when the data starts with a W3C header
    /// (`#Version`, `#Fields`) or a `date<TAB>time` line, JSON lines when it starts with `{`
    /// (ndjson: the output of `cflog parse` or the Lambda's enriched records; v2-json:
    /// standard logging v2's JSON, told apart by its percent-encoded values), real-time
    /// otherwise. A Parquet file (standard logging v2) is read as v2-json whatever this says.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Real-time field set: `timestamp,c-ip,...` (commas or spaces), `@FILE`, or the JSON
    /// printed by `aws cloudfront get-realtime-log-config`. Without it, a real-time layout
    /// is inferred from the field count when that count is a complete AWS field list.
    #[arg(long, value_name = "SPEC")]
    fields: Option<String>,
    /// `canonical` sorts --fields into AWS's delivery order (CloudFront always sends that
    /// order, whatever the config lists); `as-given` keeps the order you wrote.
    #[arg(long, value_enum, default_value_t = FieldsOrder::Canonical)]
    fields_order: FieldsOrder,
    /// Decode percent-escapes twice in every file. Without it, a standard log is decoded
    /// twice when its first records (dated before 2021) log user agents with `%2520`.
    #[arg(long)]
    double_decode: bool,
}

impl LayoutArgs {
    fn choice(&self) -> Result<LayoutChoice> {
        let spec = self.fields.as_deref().map(parse_fields_spec).transpose()?;
        layout::choice(self.format, spec.as_ref(), self.fields_order, self.double_decode)
    }
}

#[derive(Debug, Args)]
struct ParseArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    /// Print at most N bad lines on stderr (all are counted).
    #[arg(long, value_name = "N")]
    max_errors: Option<u64>,
    /// Print viewer addresses (c-ip, x-forwarded-for) truncated to /24 (IPv4) or /48 (IPv6).
    #[arg(long)]
    anonymize_ip: bool,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    inputs: InputArgs,
}

#[derive(Debug, Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    /// Time window width: 500ms, 30s, 1m, 5m, 1h, 1d (a bare number is seconds).
    #[arg(long, default_value = "1m", value_parser = parse_window, value_name = "WIDTH")]
    window: u64,
    /// Entries shown in each top list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Order of the top lists: by requests, bytes sent, or 5xx responses (`errors`).
    #[arg(long, value_enum, default_value_t = TopBy::Requests, value_name = "BY")]
    top_by: TopBy,
    /// Print the JSON report instead of the dashboard.
    #[arg(long)]
    json: bool,
    /// Write the report as one self-contained HTML page (the browser inspector's
    /// dashboard; opening it makes no network request). The dashboard is then not printed.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// Write each top list, breakdown and the time series as CSV files into DIR
    /// (RFC 4180). The dashboard is then not printed.
    #[arg(long, value_name = "DIR")]
    csv: Option<std::path::PathBuf>,
    /// Colours on the dashboard (`auto`: when stdout is a terminal and NO_COLOR is not set).
    /// Its width is the terminal's, or COLUMNS, or 100 when stdout is not a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// Worker threads (default: every core). 1 runs on one thread.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The real-time log config's sampling rate in percent (1-100), to scale estimates.
    /// Taken from --fields when that is `get-realtime-log-config` JSON.
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u32).range(1..=100))]
    sampling_rate: Option<u32>,
    /// Entries each heavy-hitter list tracks (bounds memory; count error <= records/N).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    top_capacity: u32,
    /// Show clients by their /24 (IPv4) or /48 (IPv6) network in the top lists and every
    /// output (unique viewers are still counted from exact addresses).
    #[arg(long)]
    anonymize_ip: bool,
    /// Never draw the progress bar (it is only drawn when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// Clients (addresses, and ASNs) each window tracks for the suspicious-client table:
    /// any client with more than window records / N requests is tracked.
    #[arg(long, default_value_t = cflog_core::suspicious::DEFAULT_CLIENT_CAPACITY, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    client_capacity: u32,
    #[command(flatten)]
    suspects: cflog_cli::suspect_args::SuspectArgs,
    /// Print at most N bad lines on stderr (all are counted).
    #[arg(long, default_value_t = 20, value_name = "N")]
    max_errors: u64,
    /// Enrichment rule (a .wasm or .wat module, ABI in docs/plugin-abi.md), optionally
    /// with a JSON configuration file: `rule.wasm:config.json`. Repeatable; the report
    /// gains a breakdown (records per value) for every tag the rules add.
    #[cfg(feature = "plugins")]
    #[arg(long = "plugin", value_name = "PATH[:CONFIG]")]
    plugins: Vec<String>,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    inputs: InputArgs,
}

/// `--top-by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TopBy {
    /// Requests.
    Requests,
    /// Bytes sent.
    Bytes,
    /// 5xx responses.
    Errors,
}

impl From<TopBy> for Rank {
    fn from(by: TopBy) -> Rank {
        match by {
            TopBy::Requests => Rank::Requests,
            TopBy::Bytes => Rank::Bytes,
            TopBy::Errors => Rank::Status5xx,
        }
    }
}

#[derive(Debug, Args)]
struct TopCliArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    #[command(flatten)]
    top: cflog_cli::top::TopArgs,
    #[command(flatten)]
    filter: FilterArgs,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Entries shown in each top list (default: the first report's).
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Order of the top lists (default: the first report's).
    #[arg(long, value_enum, value_name = "BY")]
    top_by: Option<TopBy>,
    /// Print the merged JSON report instead of the dashboard.
    #[arg(long)]
    json: bool,
    /// Write the merged report as one self-contained HTML page (as `analyze --html`).
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// Write the merged report's tables as CSV files into DIR (as `analyze --csv`).
    #[arg(long, value_name = "DIR")]
    csv: Option<std::path::PathBuf>,
    #[command(flatten)]
    suspects: cflog_cli::suspect_args::SuspectArgs,
    /// Colours on the dashboard (`auto`: when stdout is a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,
    /// Reports written by `cflog analyze --json`; `-` reads stdin, which may hold several
    /// (`cat *.json | cflog merge -`). The same report given twice is refused.
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<String>,
}

/// The JSON report, or the dashboard drawn for stdout and saying what was read.
fn print_report(report: &serde_json::Value, json: bool, color: ColorChoice, source: dashboard::Source) {
    use std::io::Write as _;
    let text = if json {
        format!("{report}\n")
    } else {
        let view = dashboard::View { source: Some(source), ..dashboard::View::for_stdout(color) };
        dashboard::render_with(report, &view)
    };
    // A reader that stops early (`cflog analyze … | head`) is not an error; `print!` would panic.
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("cflog: cannot write the report: {e}");
    }
}

fn analyze(args: AnalyzeArgs) -> Result<ExitCode> {
    let spec = args.layout.fields.as_deref().map(parse_fields_spec).transpose()?;
    let layout = layout::choice(args.layout.format, spec.as_ref(), args.layout.fields_order, args.layout.double_decode)?;
    let sampling_rate = args.sampling_rate.or(spec.as_ref().and_then(|s| s.sampling_rate));
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let options = AnalyzeOptions {
        summary: SummaryOptions {
            window_ms: args.window,
            top_capacity: args.top_capacity,
            sampling_rate,
            anonymize_ip: args.anonymize_ip,
            client_capacity: args.client_capacity,
            ..SummaryOptions::default()
        },
        threads,
        progress: !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        max_errors: Some(args.max_errors),
        keep_going: args.inputs.keep_going,
        filter: args.filter.filter()?,
        #[cfg(feature = "plugins")]
        plugins: if args.plugins.is_empty() { None } else { Some(cmd_analyze::Plugins::load(&args.plugins)?) },
    };
    // s3:// inputs become local copies, removed when `_s3` drops.
    let (_s3, input_args) = sources::fetch_s3(&args.inputs, &options.filter)?;
    let mut inputs = sources::resolve(&input_args)?;
    let files = inputs.paths;
    let inputs_total = files.len() + inputs.problems.count();
    let mut analysis = cmd_analyze::analyze(&files, &layout, &options)?;
    inputs.problems.extend(std::mem::take(&mut analysis.problems));
    let problems = inputs.problems;
    #[cfg(feature = "plugins")]
    for p in analysis.plugins.iter().filter(|p| p.failures > 0) {
        let kinds: Vec<String> = p.failures_by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!(
            "cflog: plugin {}: {} failed batch(es) ({}), {} record(s) left un-enriched{}",
            p.name,
            p.failures,
            kinds.join(", "),
            p.records_skipped,
            if p.disabled { "; disabled after repeated failures" } else { "" }
        );
        if let Some(e) = &p.last_error {
            eprintln!("cflog: plugin {}: last error: {}", p.name, e.lines().next().unwrap_or(""));
        }
    }
    if analysis.dropped_by_plugins > 0 {
        eprintln!("cflog: {} record(s) dropped by plugins (not counted)", analysis.dropped_by_plugins);
    }
    for bad in &analysis.bad_lines {
        eprintln!("{}:{}: {}", sources::display_name(&files[bad.input]), bad.line, bad.message);
    }
    let s = &analysis.summary;
    if s.bad_lines > 0 {
        let shown = analysis.bad_lines.len() as u64;
        eprintln!(
            "cflog: {} bad line(s) of {} in {} file(s){}",
            s.bad_lines,
            s.bad_lines + s.records,
            files.len(),
            if shown < s.bad_lines { format!("; {} not shown (raise --max-errors)", s.bad_lines - shown) } else { String::new() }
        );
    }
    problems.print(inputs_total);
    problems.all_failed(inputs_total, s.records + s.bad_lines > 0)?;
    sources::note_no_records(s.records, s.bad_lines, &files);
    filter_args::note_kept(&options.filter, s.records, analysis.filtered_out);
    let report = s.report_with(args.top, args.top_by.into(), &args.suspects.thresholds());
    let exported = cflog_cli::export::write_requested(&report, args.html.as_deref(), args.csv.as_deref(), &files)?;
    if args.json || !exported {
        print_report(&report, args.json, args.color, dashboard::Source::analyzed(&analysis.inputs));
    }
    Ok(if s.bad_lines > 0 || problems.count() > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
}

fn merge(args: MergeArgs) -> Result<ExitCode> {
    let merged = cflog_cli::cmd_merge::merge_sources(&args.reports)?;
    let report = merged.summary.report_with(
        args.top.unwrap_or(merged.top_n),
        args.top_by.map(Rank::from).unwrap_or(merged.rank),
        &args.suspects.thresholds(),
    );
    let exported = cflog_cli::export::write_requested(&report, args.html.as_deref(), args.csv.as_deref(), &args.reports)?;
    if args.json || !exported {
        print_report(&report, args.json, args.color, dashboard::Source::merged(&args.reports));
    }
    Ok(ExitCode::SUCCESS)
}

/// `cflog analyze` or `parse` with no input on a terminal would wait for typed log lines:
/// print the command's usage instead (exit code 2).
fn usage_instead_of_waiting(inputs: &InputArgs, command: &str) -> Option<ExitCode> {
    use clap::CommandFactory;
    if !inputs.files.is_empty() || inputs.files_from.is_some() || !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return None;
    }
    let mut cli = Cli::command();
    // Built, so the usage line names `cflog analyze`, not the bare subcommand.
    cli.build();
    if let Some(sub) = cli.find_subcommand_mut(command) {
        let _ = sub.print_help();
    }
    eprintln!("\ncflog {command}: no input given and stdin is a terminal; name files or directories, or pipe logs in (use - to type them)");
    Some(ExitCode::from(2))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Parse(args) if usage_instead_of_waiting(&args.inputs, "parse").is_some() => Ok(ExitCode::from(2)),
        Command::Analyze(args) if usage_instead_of_waiting(&args.inputs, "analyze").is_some() => Ok(ExitCode::from(2)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "cflog", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Parse(args) => {
            let layout = args.layout.choice()?;
            if !args.filter.tag.is_empty() {
                anyhow::bail!("--tag: cflog parse runs no enrichment rules, so there are no tags to filter on; use it with cflog analyze");
            }
            let filter = args.filter.filter()?;
            let (_s3, input_args) = sources::fetch_s3(&args.inputs, &filter)?;
            let options = cmd_parse::ParseOptions { max_errors: args.max_errors, filter, anonymize_ip: args.anonymize_ip };
            let outcome = cmd_parse::run(sources::resolve(&input_args)?, &layout, &options)?;
            Ok(if outcome.bad_lines > 0 || outcome.bad_inputs > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
        }
        Command::Analyze(args) => analyze(args),
        Command::Merge(args) => merge(args),
        Command::Gen(args) => generate(args),
        Command::Top(args) => {
            if !args.filter.tag.is_empty() {
                anyhow::bail!("--tag: cflog top runs no enrichment rules, so there are no tags to filter on; use it with cflog analyze");
            }
            let filter = args.filter.filter()?;
            // A record the filter cannot judge (a bad value) is left out, as a bad line is.
            let keep: Option<cflog_cli::top::RecordFilter> =
                (!filter.is_empty()).then(|| std::sync::Arc::new(move |r: &cflog_core::Record<'_>| filter.keep(r).unwrap_or(false)) as _);
            cflog_cli::top::run(&args.top, args.layout.choice()?, keep)
        }
        #[cfg(feature = "aws")]
        Command::Replay(a) => {
            cflog_cli::cmd_stream::replay(&a.stream, a.endpoint_url.as_deref(), a.rate, &a.file)?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Command::Consume(a) => {
            let mut overrides = Vec::new();
            for (name, v) in [
                (cflog_lambda_env::FIELDS, a.fields),
                (cflog_lambda_env::TABLE, a.table),
                (cflog_lambda_env::OUTPUT_STREAM, a.output_stream),
                (cflog_lambda_env::METRICS, a.metrics),
            ] {
                if let Some(v) = v {
                    overrides.push((name, v));
                }
            }
            cflog_cli::cmd_stream::consume(&cflog_cli::cmd_stream::ConsumeArgs {
                stream: a.stream,
                endpoint_url: a.endpoint_url,
                overrides,
                from_start: a.from_start,
                until_idle: a.until_idle,
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // A subcommand or flag this build left out: say how to get it, not clap's tip.
            let args: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
            if let Some(message) = cflog_cli::features::missing_feature(&args, cflog_cli::features::enabled) {
                eprintln!("cflog: {message}");
                return ExitCode::from(2);
            }
            e.exit()
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cflog: {e:#}");
            ExitCode::from(1)
        }
    }
}
