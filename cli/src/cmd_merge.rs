//! `cflog merge`: reads reports (`cflog analyze --json` output) from files or stdin and
//! merges their states. Refuses a report given twice (its records would count twice) and
//! names both values and the fix when two reports were made with different settings.

use std::collections::HashMap;
use std::io::Read;

use anyhow::{Result, anyhow, bail};
use cflog_core::agg::Merge;
use cflog_core::summary::{Summary, SummaryOptions};
use serde_json::Value;

/// The merged summary and the `top_n` of the first report.
#[derive(Debug)]
pub struct Merged {
    /// Every report's summary, merged.
    pub summary: Summary,
    /// The first report's `options.top_n`.
    pub top_n: usize,
    /// The first report's ranking of top lists (`options.top_by`).
    pub rank: cflog_core::agg::Rank,
}

/// Reads the reports in `sources` (`-` is stdin, which may hold several reports one after
/// another, as `cat a.json b.json` gives) and merges them in order.
pub fn merge_sources(sources: &[String]) -> Result<Merged> {
    let mut reports: Vec<(String, Value)> = Vec::new();
    let mut stdin_read = false;
    for source in sources {
        let (name, text) = if source == "-" {
            if stdin_read {
                bail!("- is given twice: stdin can be read once");
            }
            stdin_read = true;
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map_err(|e| anyhow!("cannot read stdin: {e}"))?;
            ("<stdin>".to_string(), text)
        } else {
            (source.clone(), std::fs::read_to_string(source).map_err(|e| anyhow!("cannot read {source}: {e}"))?)
        };
        let before = reports.len();
        for (i, value) in serde_json::Deserializer::from_str(&text).into_iter::<Value>().enumerate() {
            let value = value.map_err(|e| anyhow!("{name}: not a JSON report: {e}"))?;
            let label = if source == "-" { format!("<stdin> report {}", i + 1) } else { name.clone() };
            reports.push((label, value));
        }
        if reports.len() == before {
            bail!("{name}: empty, not a JSON report (write one with cflog analyze --json)");
        }
    }
    merge_reports(&reports)
}

/// Merges `(name, report)` pairs in order.
pub fn merge_reports(reports: &[(String, Value)]) -> Result<Merged> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    let mut merged: Option<(Summary, usize, &str)> = None;
    let rank = reports.first().map(|(_, v)| Summary::rank_of_report(v)).unwrap_or_default();
    for (name, value) in reports {
        let state = value.get("state").and_then(Value::as_str).unwrap_or("");
        if !state.is_empty() {
            if let Some(first) = seen.get(state) {
                bail!("{name} is the same report as {first}: merging it twice would count its records twice");
            }
            seen.insert(state, name);
        }
        let (summary, top) = Summary::from_report(value).map_err(|e| anyhow!("{name}: {e}"))?;
        match merged.as_mut() {
            None => merged = Some((summary, top, name)),
            Some((acc, _, first)) => {
                if let Some(why) = incompatible(acc.options(), summary.options(), first, name) {
                    bail!("{why}");
                }
                acc.merge(&summary).map_err(|e| anyhow!("{name}: cannot merge: {e}"))?;
            }
        }
    }
    let (summary, top_n, _) = merged.ok_or_else(|| anyhow!("no report to merge"))?;
    Ok(Merged { summary, top_n, rank })
}

fn width(ms: u64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// Why reports built with `a` (from `first`) and `b` (from `name`) cannot merge: both
/// values and what to run instead. `None` when the settings agree.
pub fn incompatible(a: &SummaryOptions, b: &SummaryOptions, first: &str, name: &str) -> Option<String> {
    let rate = |r: Option<u32>| r.map_or("none (unsampled)".to_string(), |r| format!("{r} %"));
    let (what, ours, theirs, fix) = if a.window_ms != b.window_ms {
        ("window", width(a.window_ms), width(b.window_ms), "run cflog analyze --json with the same --window for both".to_string())
    } else if a.top_capacity != b.top_capacity {
        (
            "top-list capacity",
            a.top_capacity.to_string(),
            b.top_capacity.to_string(),
            "run cflog analyze --json with the same --top-capacity for both".to_string(),
        )
    } else if a.sampling_rate != b.sampling_rate {
        (
            "sampling rate",
            rate(a.sampling_rate),
            rate(b.sampling_rate),
            "reports of differently sampled logs estimate different things; give --sampling-rate as each log config says, and merge only reports of one rate".to_string(),
        )
    } else if a.dimension_cap != b.dimension_cap || a.max_windows != b.max_windows || a.fixed_windows != b.fixed_windows {
        (
            "breakdown and window limits",
            format!("cap {}, max windows {}, fixed {}", a.dimension_cap, a.max_windows, a.fixed_windows),
            format!("cap {}, max windows {}, fixed {}", b.dimension_cap, b.max_windows, b.fixed_windows),
            "merge reports made by the same kind of cflog host (cflog analyze, or the Lambda)".to_string(),
        )
    } else {
        return None;
    };
    Some(format!("cannot merge {name} into {first}: their {what} differs ({first}: {ours}, {name}: {theirs}); {fix}"))
}
