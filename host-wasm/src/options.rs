//! The inspector's options, read from the page's JSON: the layout choice (format and
//! field set, as `cflog analyze`'s `--format`/`--fields`/`--fields-order`/`--double-decode`
//! build it, through `cflog-engine`), the summary options, top lists, bad lines kept, the
//! core's filter and the raw-line search.

use cflog_core::agg::Rank;
use cflog_core::filter::Filter;
use cflog_core::summary::SummaryOptions;
use cflog_engine::{FieldsOrder, FieldsSpec, FormatChoice, LayoutChoice};
use serde_json::{Value, json};

use crate::error::Error;

/// Everything the inspector is configured with.
#[derive(Debug, Clone)]
pub struct Options {
    /// How inputs are laid out: the format, a given real-time field set, and whether every
    /// file is decoded twice (otherwise decided per file: pre-2020 standard logs encode
    /// twice).
    pub layout: LayoutChoice,
    /// How records aggregate.
    pub summary: SummaryOptions,
    /// Entries in each top list of the report.
    pub top_n: usize,
    /// What the top lists rank by.
    pub top_by: Rank,
    /// Bad lines kept with their messages (all are counted).
    pub max_errors: usize,
    /// Records kept by a filtered re-aggregation (the core's filter, as the CLI's
    /// `--status`, `--edge`, ... flags build it).
    pub filter: Filter,
    /// Raw-line search: the text to find.
    pub search: Option<Vec<u8>>,
    /// Matches kept.
    pub max_matches: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            layout: LayoutChoice::default(),
            summary: SummaryOptions::default(),
            top_n: 10,
            top_by: Rank::Requests,
            max_errors: 20,
            filter: Filter::default(),
            search: None,
            max_matches: 1000,
        }
    }
}

/// Reads a field set: `a,b c`, or JSON (`get-realtime-log-config` output, a
/// `RealtimeLogConfig` object, `{"Fields": [...]}`, or an array of names). Returns the
/// names and the sampling rate when the config carried one.
pub fn parse_fields_spec(text: &str) -> Result<(Vec<String>, Option<u32>), Error> {
    let spec = cflog_engine::parse_fields_spec(text)?;
    Ok((spec.names, spec.sampling_rate))
}

fn bad(option: &str, problem: impl Into<String>) -> Error {
    Error::Option { option: option.to_string(), problem: problem.into() }
}

fn opt_str(v: &Value, key: &str) -> Result<Option<String>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(key, format!("expected a string, got {other}"))),
    }
}

fn opt_u64(v: &Value, key: &str) -> Result<Option<u64>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n.as_u64().map(Some).ok_or_else(|| bad(key, format!("expected a non-negative integer, got {n}"))),
    }
}

fn opt_i64(v: &Value, key: &str) -> Result<Option<i64>, Error> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n.as_i64().map(Some).ok_or_else(|| bad(key, format!("expected an integer, got {n}"))),
    }
}

impl Options {
    /// Options from JSON: `{"format": "auto"|"realtime"|"standard"|"ndjson", "fields": "a,b"
    /// | [..] | config JSON text, "fields_order": "canonical"|"as-given", "double_decode":
    /// bool, "window_ms", "top_capacity", "top_n", "top_by": "requests"|"bytes"|"errors",
    /// "sampling_rate", "max_errors", "max_matches", "search": "text", "filter": {...} (as
    /// [`filter_from_json`] reads it), "now_ms": the page's clock, for relative filter
    /// times}`. Absent keys take the defaults of `cflog analyze`.
    pub fn from_json(text: &str) -> Result<Options, Error> {
        let v: Value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(text).map_err(Error::OptionsJson)?
        };
        let format = match opt_str(&v, "format")?.as_deref() {
            None | Some("auto") => FormatChoice::Auto,
            Some("realtime") | Some("real-time") => FormatChoice::Realtime,
            Some("standard") => FormatChoice::Standard,
            Some("ndjson") => FormatChoice::Ndjson,
            Some(other) => return Err(bad("format", format!("{other:?} is not auto, realtime, standard or ndjson"))),
        };
        let spec = match v.get("fields") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => Some(cflog_engine::parse_fields_spec(s)?),
            Some(arr @ Value::Array(_)) => Some(cflog_engine::parse_fields_spec(&arr.to_string())?),
            Some(other) => return Err(bad("fields", format!("expected a string or a list, got {other}"))),
        };
        let order = match opt_str(&v, "fields_order")?.as_deref() {
            Some("as-given") => FieldsOrder::AsGiven,
            _ => FieldsOrder::Canonical,
        };
        let double_decode = v.get("double_decode").and_then(Value::as_bool).unwrap_or(false);
        // The layout choice and its errors are cflog-engine's, the CLI's.
        let layout = LayoutChoice::new(format, spec.as_ref(), order, double_decode)?;
        let mut o = Options { layout, ..Options::default() };
        if let Some(w) = opt_u64(&v, "window_ms")? {
            if w == 0 {
                return Err(bad("window_ms", "the window must be longer than 0"));
            }
            o.summary.window_ms = w;
        }
        if let Some(c) = opt_u64(&v, "top_capacity")? {
            o.summary.top_capacity = u32::try_from(c).map_err(|_| bad("top_capacity", "too large"))?.max(1);
        }
        o.summary.sampling_rate = match opt_u64(&v, "sampling_rate")? {
            Some(r) if (1..=100).contains(&r) => Some(r as u32),
            Some(r) => return Err(bad("sampling_rate", format!("{r} is not a percentage from 1 to 100"))),
            None => spec.as_ref().and_then(|s: &FieldsSpec| s.sampling_rate),
        };
        if let Some(n) = opt_u64(&v, "top_n")? {
            o.top_n = n as usize;
        }
        if let Some(by) = opt_str(&v, "top_by")? {
            o.top_by = Rank::from_name(&by).ok_or_else(|| bad("top_by", format!("{by:?} is not requests, bytes or errors")))?;
        }
        if let Some(n) = opt_u64(&v, "max_errors")? {
            o.max_errors = n.min(10_000) as usize;
        }
        if let Some(n) = opt_u64(&v, "max_matches")? {
            o.max_matches = n.min(100_000) as usize;
        }
        o.search = opt_str(&v, "search")?.map(String::into_bytes);
        if let Some(f) = v.get("filter").filter(|f| !f.is_null()) {
            // Relative filter times (`"since": "2h"`) count back from the page's clock.
            o.filter = filter_from_json(f, opt_i64(&v, "now_ms")?.unwrap_or(0))?;
        }
        Ok(o)
    }
}

/// The core's [`Filter`] from the page's JSON: the CLI's flags as keys (`"status": "5xx,404"`,
/// `"since"`, `"until"`, `"uri_prefix"`, `"edge"`, `"country"`, `"distribution"`,
/// `"exclude_bots": true`, `"tag": "k=v"` or `"tags": ["k=v", "k!=v"]`, `"keys": ["uri=/a",
/// "country!=US"]` for clicked top-list rows), plus what a page
/// has that a command line has not: `"status_classes": ["4xx", "other", ...]` (ticked
/// boxes), `"from_ms"`/`"to_ms"` (a dragged time range, epoch ms). Values are read by
/// [`Filter::set`], so a value the CLI refuses is refused here with the same words.
pub fn filter_from_json(f: &Value, now_ms: i64) -> Result<Filter, Error> {
    let mut filter = Filter::new();
    let mut set = |option: &str, value: &str| filter.set(option, value, now_ms).map_err(Error::Filter);
    if let Some(list) = f.get("status_classes").and_then(Value::as_array).filter(|l| !l.is_empty()) {
        let names: Vec<&str> = list.iter().map(|c| c.as_str().unwrap_or("?")).collect();
        set("status", &names.join(","))?;
    }
    for (key, option) in [
        ("status", "status"),
        ("since", "since"),
        ("until", "until"),
        ("uri_prefix", "uri-prefix"),
        ("edge", "edge"),
        ("country", "country"),
        ("distribution", "distribution"),
        ("tag", "tag"),
    ] {
        if let Some(value) = opt_str(f, key)? {
            set(option, &value)?;
        }
    }
    for (list, option) in [("tags", "tag"), ("keys", "key")] {
        for t in f.get(list).and_then(Value::as_array).into_iter().flatten() {
            set(option, t.as_str().ok_or_else(|| bad(&format!("filter {list}"), "expected a list of strings"))?)?;
        }
    }
    if f.get("exclude_bots").and_then(Value::as_bool) == Some(true) {
        set("exclude-bots", "true")?;
    }
    let (from, to) = (opt_i64(f, "from_ms")?, opt_i64(f, "to_ms")?);
    if from.is_some() || to.is_some() {
        filter.set_range(from.or(filter.since_ms()), to.or(filter.until_ms()));
    }
    Ok(filter)
}

