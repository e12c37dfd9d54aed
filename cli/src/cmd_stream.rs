//! `cflog replay` and `cflog consume` (feature `aws`): Kinesis in and out, with the same
//! handler code as the Lambda (`cflog-lambda`).

use std::io::{BufRead, BufReader};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::input;

/// Parses `--rate`: `N` or `N/s` records per second.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let n = s.trim().trim_end_matches("/s");
    match n.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("{s:?}: expected records per second, e.g. 500 or 500/s")),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

/// Puts every line of `path` into `stream`, one record per line.
pub fn replay(stream: &str, endpoint_url: Option<&str>, rate: Option<f64>, path: &str) -> Result<()> {
    crate::aws_env::check()?;
    let input = input::open(path)?;
    let name = input.name.clone();
    let mut lines = Vec::new();
    for line in BufReader::with_capacity(1 << 16, input.reader).split(b'\n') {
        let mut line = line.with_context(|| format!("cannot read {name}"))?;
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        line.push(b'\n');
        lines.push(line);
    }
    let rt = runtime()?;
    let stats = rt.block_on(async {
        let sdk = cflog_lambda::runtime::sdk_config(endpoint_url).await;
        let sink = cflog_lambda::aws::KinesisSink { client: aws_kinesis_client(&sdk), stream: stream.to_string() };
        crate::kinesis::replay(&sink, lines, rate, &cflog_lambda::sinks::RetryPolicy::default()).await
    });
    eprintln!("cflog replay: {} records put into {stream} in {} calls, {} failed", stats.records, stats.calls, stats.failed);
    if stats.failed > 0 {
        bail!("{} records could not be put into {stream}", stats.failed);
    }
    Ok(())
}

fn aws_kinesis_client(sdk: &cflog_lambda::runtime::SdkConfig) -> cflog_lambda::runtime::KinesisClient {
    cflog_lambda::runtime::KinesisClient::new(sdk)
}

/// Options of `cflog consume` beyond the environment (`CFLOG_*`, see `cflog-lambda`).
#[derive(Debug, Clone, Default)]
pub struct ConsumeArgs {
    /// The source stream.
    pub stream: String,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
    /// Overrides of CFLOG_* variables, e.g. ("CFLOG_TABLE", "x").
    pub overrides: Vec<(&'static str, String)>,
    /// Read from the oldest record.
    pub from_start: bool,
    /// Stop after this many empty polls of every shard.
    pub until_idle: Option<u32>,
}

/// Polls `stream` and runs the Lambda handler on each batch.
pub fn consume(args: &ConsumeArgs) -> Result<()> {
    crate::aws_env::check()?;
    let lookup = |k: &str| {
        args.overrides.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone()).or_else(|| std::env::var(k).ok())
    };
    let mut config = cflog_lambda::config::Config::from_lookup(lookup).map_err(anyhow::Error::msg)?;
    if args.endpoint_url.is_some() {
        config.endpoint_url = args.endpoint_url.clone();
    }
    cflog_lambda::runtime::init_logging();
    let rt = runtime()?;
    let stats = rt.block_on(async {
        let sdk = cflog_lambda::runtime::sdk_config(config.endpoint_url.as_deref()).await;
        let handler = cflog_lambda::runtime::build(&config, &sdk).await.map_err(anyhow::Error::msg)?;
        let options = crate::kinesis::ConsumeOptions {
            from_start: args.from_start,
            stop_when_idle: args.until_idle,
            poll_interval: Duration::from_millis(500),
            ..Default::default()
        };
        crate::kinesis::consume(&aws_kinesis_client(&sdk), &args.stream, &handler, options).await.map_err(anyhow::Error::msg)
    })?;
    eprintln!("cflog consume: {} records in {} batches, {} batches retried", stats.records, stats.batches, stats.retries);
    Ok(())
}
