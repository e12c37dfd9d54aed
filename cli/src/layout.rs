//! Choosing a layout: `--format`, `--fields` (a list, `@file`, or the JSON of
//! `aws cloudfront get-realtime-log-config`), and inference from the data.

use anyhow::{Context, Result, bail};
use cflog_core::{Format, Parser, Schema};
use clap::ValueEnum;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Standard if the data starts with a W3C header or a `date<TAB>time` line, else real-time.
    Auto,
    /// Real-time logs (Kinesis records, no header).
    Realtime,
    /// Standard (access) logs, W3C with a `#Fields:` header.
    Standard,
    /// cflog's own NDJSON: `cflog parse` output, or the Lambda's enriched records.
    Ndjson,
}

/// `--fields-order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldsOrder {
    /// Sort the field set into AWS's canonical delivery order (what CloudFront sends).
    Canonical,
    /// Keep the order given.
    AsGiven,
}

/// A parsed `--fields` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsSpec {
    /// The field names, in the order given.
    pub names: Vec<String>,
    /// The sampling rate, when the spec was a real-time log config.
    pub sampling_rate: Option<u32>,
}

/// Reads a `--fields` value: `a,b c`, `@path` (a file holding either form), or JSON:
/// `get-realtime-log-config` output, a `RealtimeLogConfig` object, `{"Fields": [...]}`, or
/// a plain array of names.
pub fn parse_fields_spec(spec: &str) -> Result<FieldsSpec> {
    let text = match spec.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read --fields file {path}"))?,
        None => spec.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let json: serde_json::Value = serde_json::from_str(trimmed).context("--fields looks like JSON but does not parse")?;
        let config = json.get("RealtimeLogConfig").unwrap_or(&json);
        let fields = if config.is_array() { Some(config) } else { config.get("Fields") };
        let Some(fields) = fields.and_then(|f| f.as_array()) else {
            bail!("--fields JSON has no \"Fields\" list (expected the output of `aws cloudfront get-realtime-log-config`)");
        };
        let names = fields
            .iter()
            .map(|v| v.as_str().map(str::to_string).context("--fields JSON: every field name must be a string"))
            .collect::<Result<Vec<_>>>()?;
        let sampling_rate = config.get("SamplingRate").and_then(|v| v.as_u64()).map(|n| n as u32);
        return Ok(FieldsSpec { names, sampling_rate });
    }
    let names: Vec<String> =
        trimmed.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if names.is_empty() {
        bail!("--fields is empty");
    }
    Ok(FieldsSpec { names, sampling_rate: None })
}

/// How to lay out every input of one command.
#[derive(Debug, Clone)]
pub struct LayoutChoice {
    /// `--format`.
    pub format: FormatArg,
    /// The real-time schema from `--fields`, if given.
    pub realtime: Option<Schema>,
    /// `--double-decode`.
    pub double_decode: bool,
}

impl LayoutChoice {
    /// Builds the choice from the command-line options.
    pub fn new(format: FormatArg, fields: Option<&FieldsSpec>, order: FieldsOrder, double_decode: bool) -> Result<Self> {
        let realtime = match fields {
            None => None,
            Some(spec) => Some(match order {
                FieldsOrder::Canonical => Schema::from_field_names(&spec.names),
                FieldsOrder::AsGiven => Schema::realtime_ordered(&spec.names),
            }
            .map_err(|e| anyhow::anyhow!("--fields: {e}"))?),
        };
        if format == FormatArg::Standard && realtime.is_some() {
            bail!("--fields describes real-time logs; standard logs carry their layout in the #Fields: header");
        }
        if format == FormatArg::Ndjson && realtime.is_some() {
            bail!("--fields describes real-time logs; NDJSON records carry their field names");
        }
        Ok(LayoutChoice { format, realtime, double_decode })
    }

    /// Whether an input whose first bytes are `head` is cflog's NDJSON (`--format ndjson`,
    /// or `auto` and the data starts with `{`, which no CloudFront log line does). Its
    /// records carry their field names, so `--fields` does not apply to it.
    pub fn is_ndjson(&self, head: &[u8]) -> bool {
        match self.format {
            FormatArg::Ndjson => true,
            FormatArg::Auto => cflog_core::layout::first_line(head).starts_with(b"{"),
            FormatArg::Realtime | FormatArg::Standard => false,
        }
    }

    /// A parser for an input whose first bytes are `head` (a CloudFront log, not NDJSON:
    /// see [`LayoutChoice::is_ndjson`]).
    pub fn parser_for(&self, name: &str, head: &[u8]) -> Result<Parser> {
        let format = match self.format {
            FormatArg::Realtime => Format::RealTime,
            FormatArg::Standard => Format::Standard,
            FormatArg::Ndjson => bail!("{name}: NDJSON records are read by the NDJSON decoder, not a log parser"),
            FormatArg::Auto if self.realtime.is_some() => Format::RealTime,
            FormatArg::Auto => detect(head),
        };
        let parser = match format {
            Format::Standard => Parser::standard(),
            Format::RealTime => match &self.realtime {
                Some(schema) => Parser::realtime(schema.clone()),
                None => Parser::realtime(infer_realtime(name, head)?),
            },
        };
        Ok(parser.double_decode(self.double_decode))
    }
}

/// Standard logs start with a W3C header or, headerless, with `YYYY-MM-DD<TAB>`.
pub fn detect(head: &[u8]) -> Format {
    cflog_core::layout::detect(head)
}

/// A real-time layout from the first record's field count, when that count is the complete
/// field list of a known AWS release.
pub fn infer_realtime(name: &str, head: &[u8]) -> Result<Schema> {
    cflog_core::layout::infer_realtime(head).map_err(|e| {
        anyhow::anyhow!(
            "{name}: real-time records carry no header, and the first record has {} fields, which is not the \
             complete field list of any AWS release ({}). Pass the layout with --fields: the configured field names \
             (\"timestamp,c-ip,sc-status,...\"), @FILE, or the JSON printed by `aws cloudfront get-realtime-log-config \
             --name NAME`. For a standard log, pass --format standard.",
            e.found,
            cflog_core::layout::InferError::known_counts()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_forms() {
        assert_eq!(parse_fields_spec("timestamp, c-ip sc-status").unwrap().names, ["timestamp", "c-ip", "sc-status"]);
        let json = r#"{"RealtimeLogConfig":{"ARN":"arn:aws:cloudfront::1:realtime-log-config/x","Name":"x","SamplingRate":5,"EndPoints":[],"Fields":["sc-status","timestamp"]}}"#;
        let spec = parse_fields_spec(json).unwrap();
        assert_eq!(spec.names, ["sc-status", "timestamp"]);
        assert_eq!(spec.sampling_rate, Some(5));
        assert_eq!(parse_fields_spec(r#"["c-ip"]"#).unwrap().names, ["c-ip"]);
        assert!(parse_fields_spec(r#"{"Name":"x"}"#).is_err());
        assert!(parse_fields_spec("  ").is_err());
    }

    #[test]
    fn detection() {
        assert_eq!(detect(b"#Version: 1.0\n"), Format::Standard);
        assert_eq!(detect(b"2019-12-04\t21:02:31\tLAX1"), Format::Standard);
        assert_eq!(detect(b"1607374321.541\t127.0.0.1"), Format::RealTime);
        let line = vec!["-"; 46].join("\t");
        assert_eq!(infer_realtime("x", line.as_bytes()).unwrap().len(), 46);
        let err = infer_realtime("f.log", b"a\tb\tc").unwrap_err().to_string();
        assert!(err.contains("has 3 fields") && err.contains("--fields"), "{err}");
    }
}
