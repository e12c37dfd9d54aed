//! `cflog`: parse, analyze, generate and replay Amazon CloudFront logs.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use cflog_cli::cmd_parse;
use cflog_cli::layout::{FieldsOrder, FormatArg, LayoutChoice, parse_fields_spec};

const EXIT_CODES: &str = "\
Exit codes:
  0  success: every line parsed
  1  error: unreadable input, bad option value, I/O failure
  2  usage error (unknown option, missing argument)
  3  finished, but some lines were bad (each one printed on stderr as FILE:LINE: field F: reason)";

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
    /// of its format. Numbers are JSON numbers, `-` is null, encoded text is decoded once.
    #[command(after_help = EXIT_CODES)]
    Parse(ParseArgs),
}

#[derive(Debug, Args)]
struct LayoutArgs {
    /// Log format. `auto` picks standard when the data starts with a W3C header
    /// (`#Version`, `#Fields`) or a `date<TAB>time` line, real-time otherwise.
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
    /// Decode percent-escapes twice, for standard logs written before 2020 (`%2520`).
    #[arg(long)]
    double_decode: bool,
}

impl LayoutArgs {
    fn choice(&self) -> Result<LayoutChoice> {
        let spec = self.fields.as_deref().map(parse_fields_spec).transpose()?;
        LayoutChoice::new(self.format, spec.as_ref(), self.fields_order, self.double_decode)
    }
}

#[derive(Debug, Args)]
struct ParseArgs {
    #[command(flatten)]
    layout: LayoutArgs,
    /// Print at most N bad lines on stderr (all are counted).
    #[arg(long, value_name = "N")]
    max_errors: Option<u64>,
    /// Log files (plain or .gz, multi-member too); `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
}

fn files_or_stdin(files: &[String]) -> Vec<String> {
    if files.is_empty() { vec!["-".to_string()] } else { files.to_vec() }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Parse(args) => {
            let bad = cmd_parse::run(&files_or_stdin(&args.files), &args.layout.choice()?, args.max_errors)?;
            Ok(if bad > 0 { ExitCode::from(3) } else { ExitCode::SUCCESS })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("cflog: {e:#}");
            ExitCode::from(1)
        }
    }
}
