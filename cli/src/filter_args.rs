//! The record filter flags shared by `cflog analyze`, `cflog parse` and `cflog top`
//! (`--since`, `--status`, `--edge`, ...). The flags only collect text: the values are
//! read and checked by [`cflog_core::filter::Filter`], the implementation the browser
//! inspector uses too, so both accept and refuse the same values.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Result, bail};
use cflog_core::filter::Filter;
use clap::Args;

/// Which records to keep. Every condition given must hold; the values of one flag (comma
/// lists, or the flag repeated) are alternatives, except `--tag`, where each must hold.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// Keep records at or after this time: 2026-11-01, 2026-11-01T12:00:00Z (RFC 3339;
    /// no offset means UTC), or a duration back from now: 90s, 15m, 2h, 1d, 1w.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Keep records before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Keep these statuses: codes and classes, e.g. 5xx, 404, 4xx,503 (000: no response).
    #[arg(long, value_name = "LIST")]
    pub status: Vec<String>,
    /// Keep request paths starting with this (as logged or decoded), e.g. /api/.
    #[arg(long, value_name = "PATH")]
    pub uri_prefix: Vec<String>,
    /// Keep these edge locations: a code (IAD89-C1) or its start (IAD), any case.
    #[arg(long, value_name = "LIST")]
    pub edge: Vec<String>,
    /// Keep these viewer countries (two-letter codes, any case), e.g. US,DE.
    #[arg(long, value_name = "LIST")]
    pub country: Vec<String>,
    /// Keep these distributions: domain (d111111abcdef8.cloudfront.net), its first label,
    /// or a distribution ID (standard logging v2).
    #[arg(long, value_name = "LIST")]
    pub distribution: Vec<String>,
    /// Drop requests whose user agent is a bot's (crawlers, monitors, link previews; the
    /// same classification as the report's user_agent_class).
    #[arg(long)]
    pub exclude_bots: bool,
    /// Keep records an enrichment rule tagged key=value, or not key!=value. Repeatable
    /// (each must hold). Applies after the rules (--plugin) and to the tags of cflog's
    /// enriched NDJSON records.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Vec<String>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl FilterArgs {
    /// The filter these flags describe, relative times measured from `now_ms`. A bad value
    /// is an error naming the flag, the value and what it expects.
    pub fn filter_at(&self, now_ms: i64) -> Result<Filter> {
        let mut filter = Filter::new();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        pairs.extend(self.since.as_deref().map(|v| ("since", v)));
        pairs.extend(self.until.as_deref().map(|v| ("until", v)));
        pairs.extend(self.status.iter().map(|v| ("status", v.as_str())));
        pairs.extend(self.uri_prefix.iter().map(|v| ("uri-prefix", v.as_str())));
        pairs.extend(self.edge.iter().map(|v| ("edge", v.as_str())));
        pairs.extend(self.country.iter().map(|v| ("country", v.as_str())));
        pairs.extend(self.distribution.iter().map(|v| ("distribution", v.as_str())));
        if self.exclude_bots {
            pairs.push(("exclude-bots", "true"));
        }
        pairs.extend(self.tag.iter().map(|v| ("tag", v.as_str())));
        for (option, value) in pairs {
            if let Err(e) = filter.set(option, value, now_ms) {
                bail!("--{option} {value:?}: expected {}", e.expected);
            }
        }
        Ok(filter)
    }

    /// The filter, relative times measured from now.
    pub fn filter(&self) -> Result<Filter> {
        self.filter_at(now_ms())
    }
}

/// Says on stderr how many records the filter kept, when one was given.
pub fn note_kept(filter: &Filter, kept: u64, filtered_out: u64) {
    if !filter.is_empty() {
        let total = kept + filtered_out;
        eprintln!("cflog: the filters kept {kept} of {total} record(s)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_flag_and_value() {
        let args = FilterArgs { status: vec!["5xx".into(), "6xx".into()], ..FilterArgs::default() };
        let e = args.filter_at(0).unwrap_err().to_string();
        assert!(e.starts_with("--status \"6xx\": expected status codes"), "{e}");
        let args = FilterArgs { since: Some("yesterday".into()), ..FilterArgs::default() };
        assert!(args.filter_at(0).unwrap_err().to_string().starts_with("--since \"yesterday\": expected a time"));
        assert!(FilterArgs::default().filter_at(0).unwrap().is_empty());
    }
}
