//! Which records a run keeps: the one filter behind `cflog analyze --status 5xx`, `cflog
//! parse`, `cflog top` and the browser inspector's filter bar.
//!
//! A [`Filter`] is built once from `(option, value)` pairs ([`Filter::set`]; the option
//! names are the CLI's flags without `--`), then asked about each parsed record with
//! [`Filter::keep`], which reads fields on demand and allocates nothing. Conditions on
//! enrichment tags are separate ([`Filter::keep_tags`]) because tags only exist after the
//! rules ran, and a host asks about them after running its rules.
//!
//! Every condition given must hold. Several values of one option (`--status 404,5xx`, or
//! the flag repeated) are alternatives, except `tag`, where each condition must hold.
//! `since` is inclusive and `until` exclusive; a record without the field a condition
//! reads (no timestamp, no status, no edge location, ...) does not match that condition.
//!
//! ```
//! use cflog_core::filter::Filter;
//! use cflog_core::{Parser, RecordBuf, Schema};
//!
//! let mut filter = Filter::new();
//! filter.set("status", "5xx,404", 0).unwrap();
//! let schema = Schema::from_field_names(&["timestamp", "sc-status"]).unwrap();
//! let mut parser = Parser::realtime(schema);
//! let mut buf = RecordBuf::new();
//! let record = parser.parse_line(b"1607374321.541\t503", &mut buf).unwrap().unwrap();
//! assert!(filter.keep(&record).unwrap());
//! let record = parser.parse_line(b"1607374321.541\t200", &mut buf).unwrap().unwrap();
//! assert!(!filter.keep(&record).unwrap());
//! assert!(filter.set("status", "6xx", 0).is_err());
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::decode::hex;
use crate::enrich::ua::{UaClass, classify_user_agent};
use crate::grammar::{parse_date_days, parse_time_ms};
use crate::{Field, ParseError, Record};

/// The option names [`Filter::set`] accepts, as the CLI spells its flags.
pub const OPTIONS: [&str; 10] = ["since", "until", "status", "uri-prefix", "edge", "country", "distribution", "exclude-bots", "tag", "key"];

/// The report's top lists whose rows `key` conditions select, as the report names them.
pub const KEY_LISTS: [&str; 8] = ["uri", "client_ip", "referer", "user_agent", "edge_location", "country", "asn", "distribution"];

/// A value [`Filter::set`] refused: which option, and what it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterError {
    /// The option (`status`, `since`, ...), or the unknown name for an unknown option.
    pub option: &'static str,
    /// What a valid value looks like.
    pub expected: &'static str,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--{}: expected {}", self.option, self.expected)
    }
}

impl core::error::Error for FilterError {}

/// One alternative of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusMatch {
    /// `4xx`: 400 to 499.
    Class(u16),
    /// `404`, or `000` (no response sent).
    Code(u16),
    /// `other`: a code outside 100 to 599 that is not 000.
    Other,
}

/// A condition on an enrichment tag: `key=value`, or `key!=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCondition {
    /// The tag's key.
    pub key: String,
    /// The value compared.
    pub value: String,
    /// `key!=value`: the record must not carry this value (a record without the key
    /// matches).
    pub negated: bool,
}

/// A condition on a top-list row: the record's value for `list` (as the report keys it)
/// is, or is not, `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyCondition {
    /// Index into [`KEY_LISTS`].
    list: usize,
    value: Vec<u8>,
    negated: bool,
}

/// Which records to keep. The default keeps every record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    status: Vec<StatusMatch>,
    uri_prefixes: Vec<Vec<u8>>,
    edges: Vec<String>,
    countries: Vec<String>,
    distributions: Vec<String>,
    exclude_bots: bool,
    tags: Vec<TagCondition>,
    keys: Vec<KeyCondition>,
}

const TIME_EXPECTED: &str = "a time: 2026-11-01, 2026-11-01T12:00:00Z (RFC 3339; no offset means UTC), or a duration back from now: 90s, 15m, 2h, 1d, 1w";
const STATUS_EXPECTED: &str = "status codes (404, 000) or classes (1xx to 5xx, other), separated by commas, e.g. 5xx,404";

impl Filter {
    /// A filter that keeps every record.
    pub fn new() -> Self {
        Filter::default()
    }

    /// Whether the filter keeps every record.
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    /// Adds a condition. `option` is one of [`OPTIONS`]; `now_ms` (epoch milliseconds)
    /// anchors relative times such as `2h`. Values:
    ///
    /// * `since`, `until`: `2026-11-01` (midnight UTC), `2026-11-01T12:00:00Z` or with an
    ///   offset (`+02:00`; none means UTC), a space for `T`, optional seconds and
    ///   fraction; or `90s`, `15m`, `2h`, `1d`, `1w` back from `now_ms`.
    /// * `status`: `404`, `000`, `5xx`, `other` (outside 100 to 599), comma- or
    ///   `|`-separated.
    /// * `uri-prefix`: the start of the request path, as logged or decoded.
    /// * `edge`: an edge location (`IAD89-C1`) or its start (`IAD`), any case.
    /// * `country`: a two-letter country code, any case.
    /// * `distribution`: the distribution's domain (`d111111abcdef8.cloudfront.net`), the
    ///   domain's first label (`d111111abcdef8`), or a v2 distribution ID.
    /// * `exclude-bots`: `true` or `false`; bots as the user-agent classification
    ///   ([`crate::enrich::ua`]) sees them.
    /// * `tag`: `key=value` or `key!=value`.
    /// * `key`: `LIST=KEY` or `LIST!=KEY`, a row of a report top list ([`KEY_LISTS`]) as
    ///   the report keys it (`uri=/img/a%20b.png`, `country!=US`): the browser's clickable
    ///   rows. Several includes of one list are alternatives; every exclude must hold.
    ///
    /// Comma-separated lists are accepted by `status`, `edge`, `country` and
    /// `distribution`.
    pub fn set(&mut self, option: &str, value: &str, now_ms: i64) -> Result<(), FilterError> {
        let v = value.trim();
        let err = |option: &'static str, expected: &'static str| FilterError { option, expected };
        match option {
            "since" => self.since_ms = Some(parse_time(v, now_ms).ok_or(err("since", TIME_EXPECTED))?),
            "until" => self.until_ms = Some(parse_time(v, now_ms).ok_or(err("until", TIME_EXPECTED))?),
            "status" => {
                let before = self.status.len();
                for token in v.split([',', '|']).map(str::trim).filter(|t| !t.is_empty()) {
                    let m = parse_status_match(token).ok_or(err("status", STATUS_EXPECTED))?;
                    self.status.push(m);
                }
                if self.status.len() == before {
                    return Err(err("status", STATUS_EXPECTED));
                }
            }
            "uri-prefix" => {
                if !v.starts_with('/') {
                    return Err(err("uri-prefix", "the start of a request path, beginning with /"));
                }
                self.uri_prefixes.push(v.as_bytes().to_vec());
            }
            "edge" => push_list(&mut self.edges, v, "edge", "an edge location (IAD89-C1) or its airport code (IAD)", |t| {
                t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })?,
            "country" => push_list(&mut self.countries, v, "country", "a two-letter country code such as US", |t| {
                t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic())
            })?,
            "distribution" => push_list(
                &mut self.distributions,
                v,
                "distribution",
                "a distribution domain (d111111abcdef8.cloudfront.net), its first label, or a distribution ID",
                |t| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
            )?,
            "exclude-bots" => {
                self.exclude_bots = match v {
                    "" | "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => return Err(err("exclude-bots", "true or false")),
                }
            }
            "tag" => {
                let (key, value, negated) = match v.split_once("!=") {
                    Some((k, val)) => (k, val, true),
                    None => match v.split_once('=') {
                        Some((k, val)) => (k, val, false),
                        None => return Err(err("tag", "key=value or key!=value (a tag an enrichment rule adds)")),
                    },
                };
                if key.trim().is_empty() {
                    return Err(err("tag", "key=value or key!=value with a non-empty key"));
                }
                self.tags.push(TagCondition { key: key.trim().into(), value: value.trim().into(), negated });
            }
            "key" => {
                const KEY_EXPECTED: &str = "LIST=KEY or LIST!=KEY, LIST one of uri, client_ip, referer, user_agent, edge_location, country, asn, distribution";
                let (list, value, negated) = match v.split_once("!=") {
                    Some((l, val)) if !l.contains('=') => (l, val, true),
                    _ => match v.split_once('=') {
                        Some((l, val)) => (l, val, false),
                        None => return Err(err("key", KEY_EXPECTED)),
                    },
                };
                let list = KEY_LISTS.iter().position(|l| *l == list.trim()).ok_or(err("key", KEY_EXPECTED))?;
                self.keys.push(KeyCondition { list, value: value.as_bytes().to_vec(), negated });
            }
            _ => return Err(err("filter", "one of since, until, status, uri-prefix, edge, country, distribution, exclude-bots, tag, key")),
        }
        if let (Some(s), Some(u)) = (self.since_ms, self.until_ms)
            && s >= u
        {
            return Err(err("until", "a time after --since"));
        }
        Ok(())
    }

    /// Sets the time range directly (epoch ms; `since` inclusive, `until` exclusive), as a
    /// host with a time picker has it.
    pub fn set_range(&mut self, since_ms: Option<i64>, until_ms: Option<i64>) {
        self.since_ms = since_ms;
        self.until_ms = until_ms;
    }

    /// Earliest record time kept (epoch ms, inclusive), for hosts that can skip whole
    /// inputs (S3 keys named by date).
    pub fn since_ms(&self) -> Option<i64> {
        self.since_ms
    }

    /// Latest record time kept (epoch ms, exclusive).
    pub fn until_ms(&self) -> Option<i64> {
        self.until_ms
    }

    /// Whether [`Filter::keep_tags`] has anything to check.
    pub fn has_tag_conditions(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The tag conditions.
    pub fn tag_conditions(&self) -> &[TagCondition] {
        &self.tags
    }

    /// Whether the record passes every condition but the tag conditions. An error is the
    /// record's own: a field a condition reads does not hold a valid value (the line is
    /// bad whether or not it is kept).
    pub fn keep(&self, record: &Record<'_>) -> Result<bool, ParseError> {
        if self.since_ms.is_some() || self.until_ms.is_some() {
            let Some(ts) = record.timestamp_ms()? else { return Ok(false) };
            if self.since_ms.is_some_and(|s| ts < s) || self.until_ms.is_some_and(|u| ts >= u) {
                return Ok(false);
            }
        }
        if !self.status.is_empty() {
            let Some(status) = record.status()? else { return Ok(false) };
            let hit = self.status.iter().any(|m| match *m {
                StatusMatch::Class(c) => status / 100 == c,
                StatusMatch::Code(c) => status == c,
                StatusMatch::Other => status != 0 && !(100..=599).contains(&status),
            });
            if !hit {
                return Ok(false);
            }
        }
        if !self.uri_prefixes.is_empty() {
            let Some(path) = record.uri_path_raw() else { return Ok(false) };
            if !self.uri_prefixes.iter().any(|p| path.starts_with(p) || decoded_starts_with(path, p)) {
                return Ok(false);
            }
        }
        if !self.edges.is_empty() {
            let Some(edge) = record.text(Field::EdgeLocation)? else { return Ok(false) };
            let edge = edge.as_bytes();
            if !self.edges.iter().any(|e| edge.len() >= e.len() && edge[..e.len()].eq_ignore_ascii_case(e.as_bytes())) {
                return Ok(false);
            }
        }
        if !self.countries.is_empty() {
            let Some(country) = record.text(Field::Country)? else { return Ok(false) };
            if !self.countries.iter().any(|c| c.eq_ignore_ascii_case(country)) {
                return Ok(false);
            }
        }
        if !self.distributions.is_empty() {
            let domain = record.distribution_domain()?;
            let id = record.text(Field::DistributionId)?;
            let hit = self.distributions.iter().any(|d| {
                domain.is_some_and(|dom| dom.eq_ignore_ascii_case(d) || dom.split('.').next().is_some_and(|l| l.eq_ignore_ascii_case(d)))
                    || id.is_some_and(|i| i.eq_ignore_ascii_case(d))
            });
            if !hit {
                return Ok(false);
            }
        }
        if self.exclude_bots
            && let Some(ua) = record.raw(Field::UserAgent)
            && is_bot(ua)
        {
            return Ok(false);
        }
        if !self.keys.is_empty() && !self.keep_keys(record)? {
            return Ok(false);
        }
        Ok(true)
    }

    /// The `key` conditions: per list, one include must match (when there are any) and no
    /// exclude may.
    fn keep_keys(&self, record: &Record<'_>) -> Result<bool, ParseError> {
        for (list, _) in KEY_LISTS.iter().enumerate() {
            let mut conditions = self.keys.iter().filter(|k| k.list == list).peekable();
            if conditions.peek().is_none() {
                continue;
            }
            let value = key_value(record, list)?;
            let (mut includes, mut included) = (false, false);
            for c in conditions {
                let same = value.is_some_and(|v| v == c.value.as_slice());
                if c.negated && same {
                    return Ok(false);
                }
                if !c.negated {
                    includes = true;
                    included |= same;
                }
            }
            if includes && !included {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a record's enrichment tags pass every tag condition. `has(key, value)`
    /// says whether the record carries tag `key` with `value`.
    pub fn keep_tags(&self, has: impl Fn(&str, &str) -> bool) -> bool {
        self.tags.iter().all(|t| has(&t.key, &t.value) != t.negated)
    }
}

/// A record's value for top list `list` (an index into [`KEY_LISTS`]), exactly as
/// [`crate::summary::Summary::add`] keys that list.
fn key_value<'a>(record: &Record<'a>, list: usize) -> Result<Option<&'a [u8]>, ParseError> {
    Ok(match KEY_LISTS[list] {
        "uri" => record.uri_path_raw(),
        "client_ip" => record.raw(Field::ClientIp),
        "referer" => record.raw(Field::Referer),
        "user_agent" => record.raw(Field::UserAgent),
        "edge_location" => record.text(Field::EdgeLocation)?.map(str::as_bytes),
        "country" => record.raw(Field::Country),
        "asn" => record.integer(Field::Asn)?.and(record.raw(Field::Asn)),
        _ => record.raw(Field::DistributionDomain).or_else(|| record.raw(Field::DistributionId)),
    })
}

/// Adds each comma-separated item of `v` (upper-cased) to `list`.
fn push_list(
    list: &mut Vec<String>,
    v: &str,
    option: &'static str,
    expected: &'static str,
    valid: impl Fn(&str) -> bool,
) -> Result<(), FilterError> {
    let before = list.len();
    for item in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !valid(item) {
            return Err(FilterError { option, expected });
        }
        list.push(item.into());
    }
    if list.len() == before {
        return Err(FilterError { option, expected });
    }
    Ok(())
}

fn parse_status_match(token: &str) -> Option<StatusMatch> {
    let b = token.as_bytes();
    if token.eq_ignore_ascii_case("other") {
        return Some(StatusMatch::Other);
    }
    if b.len() != 3 {
        return None;
    }
    if b[1..].eq_ignore_ascii_case(b"xx") && (b'1'..=b'5').contains(&b[0]) {
        return Some(StatusMatch::Class(u16::from(b[0] - b'0')));
    }
    let code: u16 = token.parse().ok()?;
    (code == 0 || (100..=599).contains(&code)).then_some(StatusMatch::Code(code))
}

/// Whether the percent-decoded `path` starts with `prefix`, decoding as it goes.
fn decoded_starts_with(path: &[u8], prefix: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    while j < prefix.len() {
        let Some(&b) = path.get(i) else { return false };
        let (byte, step) = match (b, path.get(i + 1).copied().and_then(hex), path.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => (h << 4 | l, 3),
            _ => (b, 1),
        };
        if byte != prefix[j] {
            return false;
        }
        i += step;
        j += 1;
    }
    true
}

/// Whether a logged (percent-encoded) user agent is a bot's. Decodes into a stack
/// buffer; only a user agent longer than that buffer is decoded on the heap.
pub fn is_bot(raw_user_agent: &[u8]) -> bool {
    let mut buf = [0u8; 1024];
    let mut n = 0;
    let mut i = 0;
    while i < raw_user_agent.len() {
        if n == buf.len() {
            return classify_user_agent(&crate::decode::decode_str(raw_user_agent, false)).class == UaClass::Bot;
        }
        let b = raw_user_agent[i];
        match (b, raw_user_agent.get(i + 1).copied().and_then(hex), raw_user_agent.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                buf[n] = h << 4 | l;
                i += 3;
            }
            _ => {
                buf[n] = b;
                i += 1;
            }
        }
        n += 1;
    }
    match core::str::from_utf8(&buf[..n]) {
        Ok(ua) => classify_user_agent(ua).class == UaClass::Bot,
        Err(_) => classify_user_agent(&crate::decode::decode_str(raw_user_agent, false)).class == UaClass::Bot,
    }
}

const MINUTE_MS: i64 = 60_000;

/// A time for `since`/`until`: absolute (RFC 3339, or a date at midnight UTC) or a
/// duration back from `now_ms` (`90s`, `15m`, `2h`, `1d`, `1w`). Epoch milliseconds.
pub fn parse_time(text: &str, now_ms: i64) -> Option<i64> {
    let t = text.trim();
    if let Some(split) = t.find(|c: char| !c.is_ascii_digit())
        && split > 0
        && matches!(&t[split..], "s" | "m" | "h" | "d" | "w")
    {
        let n: i64 = t[..split].parse().ok()?;
        let unit = match &t[split..] {
            "s" => 1000,
            "m" => MINUTE_MS,
            "h" => 60 * MINUTE_MS,
            "d" => 1440 * MINUTE_MS,
            _ => 7 * 1440 * MINUTE_MS,
        };
        return now_ms.checked_sub(n.checked_mul(unit)?);
    }
    let b = t.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let days = parse_date_days(&b[..10])?;
    let day_ms = days.checked_mul(1440 * MINUTE_MS)?;
    if b.len() == 10 {
        return Some(day_ms);
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &b[11..];
    // The zone: `Z`, `+HH:MM` or `-HH:MM` at the end, or nothing (UTC).
    let (clock, offset_ms) = match rest.last() {
        Some(b'Z' | b'z') => (&rest[..rest.len() - 1], 0),
        _ if rest.len() >= 6 && matches!(rest[rest.len() - 6], b'+' | b'-') && rest[rest.len() - 3] == b':' => {
            let z = &rest[rest.len() - 6..];
            let hh: i64 = core::str::from_utf8(&z[1..3]).ok()?.parse().ok()?;
            let mm: i64 = core::str::from_utf8(&z[4..6]).ok()?.parse().ok()?;
            if hh > 23 || mm > 59 || !z[1..3].iter().chain(&z[4..6]).all(u8::is_ascii_digit) {
                return None;
            }
            let sign = if z[0] == b'-' { -1 } else { 1 };
            (&rest[..rest.len() - 6], sign * (hh * 60 + mm) * MINUTE_MS)
        }
        _ => (rest, 0),
    };
    let time_ms = if clock.len() == 5 {
        // HH:MM
        let mut with_seconds = [b'0'; 8];
        with_seconds[..5].copy_from_slice(clock);
        with_seconds[5] = b':';
        parse_time_ms(&with_seconds)?
    } else {
        parse_time_ms(clock)?
    };
    day_ms.checked_add(time_ms)?.checked_sub(offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Parser, RecordBuf, Schema};

    // 2026-11-01T00:00:00Z, worked out by hand: 20,758 days after 1970-01-01.
    const NOV1: i64 = 20_758 * 86_400_000;

    #[test]
    fn times() {
        assert_eq!(parse_time("2026-11-01", 0), Some(NOV1));
        assert_eq!(parse_time("2026-11-01T01:02:03Z", 0), Some(NOV1 + 3_723_000));
        assert_eq!(parse_time("2026-11-01 01:02:03.5", 0), Some(NOV1 + 3_723_500));
        assert_eq!(parse_time("2026-11-01T01:02", 0), Some(NOV1 + 3_720_000));
        assert_eq!(parse_time("2026-11-01T02:00:00+02:00", 0), Some(NOV1));
        assert_eq!(parse_time("2026-10-31T22:30:00-01:30", 0), Some(NOV1));
        assert_eq!(parse_time("2h", NOV1), Some(NOV1 - 7_200_000));
        assert_eq!(parse_time("15m", NOV1), Some(NOV1 - 900_000));
        assert_eq!(parse_time("1d", NOV1), Some(NOV1 - 86_400_000));
        assert_eq!(parse_time("1w", NOV1), Some(NOV1 - 7 * 86_400_000));
        for bad in ["", "2h ago", "yesterday", "2026-13-01", "2026-11-01T25:00:00Z", "2026-11-01X", "15", "h", "2026-11-01T01:02:03+2"] {
            assert_eq!(parse_time(bad, NOV1), None, "{bad}");
        }
    }

    #[test]
    fn bad_values_name_the_option() {
        let mut f = Filter::new();
        let e = f.set("status", "6xx", 0).unwrap_err();
        assert_eq!(e.option, "status");
        assert!(alloc::format!("{e}").starts_with("--status: expected"));
        assert_eq!(f.set("status", "", 0).unwrap_err().option, "status");
        assert_eq!(f.set("status", "40", 0).unwrap_err().option, "status");
        assert_eq!(f.set("country", "USA", 0).unwrap_err().option, "country");
        assert_eq!(f.set("tag", "novalue", 0).unwrap_err().option, "tag");
        assert_eq!(f.set("uri-prefix", "img", 0).unwrap_err().option, "uri-prefix");
        assert_eq!(f.set("since", "soon", 0).unwrap_err().option, "since");
        assert_eq!(f.set("colour", "red", 0).unwrap_err().option, "filter");
        f.set("since", "2026-11-02", 0).unwrap();
        assert_eq!(f.set("until", "2026-11-01", 0).unwrap_err().option, "until");
        assert!(Filter::new().is_empty());
    }

    fn keeps(filter: &Filter, fields: &[&str], line: &str) -> bool {
        let schema = Schema::realtime_ordered(fields).unwrap();
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        filter.keep(&record).unwrap()
    }

    #[test]
    fn conditions() {
        let fields = ["timestamp", "sc-status", "cs-uri-stem", "x-edge-location", "cs-user-agent", "x-host-header", "c-country"];
        let line = |ts: &str, status: &str, uri: &str, edge: &str, ua: &str, country: &str| {
            alloc::format!("{ts}\t{status}\t{uri}\t{edge}\t{ua}\td111111abcdef8.cloudfront.net\t{country}")
        };
        let f = |pairs: &[(&str, &str)]| {
            let mut f = Filter::new();
            for (k, v) in pairs {
                f.set(k, v, NOV1).unwrap();
            }
            f
        };
        let base = line("1793491200.000", "503", "/img/a%20b.png?x=1", "IAD89-C1", "curl/8.4.0", "US");
        assert!(keeps(&f(&[]), &fields, &base));
        assert!(keeps(&f(&[("status", "5xx")]), &fields, &base));
        assert!(keeps(&f(&[("status", "404|503")]), &fields, &base));
        assert!(!keeps(&f(&[("status", "4xx,502")]), &fields, &base));
        assert!(keeps(&f(&[("uri-prefix", "/img/a b")]), &fields, &base));
        assert!(keeps(&f(&[("uri-prefix", "/img/a%20")]), &fields, &base));
        assert!(!keeps(&f(&[("uri-prefix", "/api")]), &fields, &base));
        assert!(!keeps(&f(&[("uri-prefix", "/img/a b.png?x")]), &fields, &base));
        assert!(keeps(&f(&[("edge", "iad")]), &fields, &base));
        assert!(keeps(&f(&[("edge", "FRA,IAD89")]), &fields, &base));
        assert!(!keeps(&f(&[("edge", "IAD89-C2")]), &fields, &base));
        assert!(keeps(&f(&[("country", "us")]), &fields, &base));
        assert!(!keeps(&f(&[("country", "DE")]), &fields, &base));
        assert!(keeps(&f(&[("distribution", "d111111abcdef8")]), &fields, &base));
        assert!(keeps(&f(&[("distribution", "D111111ABCDEF8.cloudfront.net")]), &fields, &base));
        assert!(!keeps(&f(&[("distribution", "d2")]), &fields, &base));
        // 1793491200 is 2026-11-01T00:00:00Z.
        assert!(keeps(&f(&[("since", "2026-11-01")]), &fields, &base));
        assert!(!keeps(&f(&[("until", "2026-11-01")]), &fields, &base));
        assert!(keeps(&f(&[("until", "2026-11-01T00:00:01Z")]), &fields, &base));
        assert!(keeps(&f(&[("since", "1d")]), &fields, &base));
        assert!(!keeps(&f(&[("since", "2026-11-01T00:00:00.001Z")]), &fields, &base));
        assert!(keeps(&f(&[("exclude-bots", "true")]), &fields, &base));
        let bot = line("1793491200", "200", "/", "IAD89-C1", "Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)", "US");
        assert!(!keeps(&f(&[("exclude-bots", "true")]), &fields, &bot));
        assert!(keeps(&f(&[("exclude-bots", "false")]), &fields, &bot));
        let absent = line("-", "-", "/", "-", "-", "-");
        assert!(!keeps(&f(&[("status", "5xx")]), &fields, &absent));
        assert!(!keeps(&f(&[("since", "1d")]), &fields, &absent));
        assert!(!keeps(&f(&[("edge", "IAD")]), &fields, &absent));
        assert!(keeps(&f(&[("exclude-bots", "true")]), &fields, &absent));
        // Every condition must hold.
        assert!(!keeps(&f(&[("status", "5xx"), ("country", "DE")]), &fields, &base));
        // Rows of the report's top lists, as the report keys them (the path as logged,
        // without the query).
        assert!(keeps(&f(&[("key", "uri=/img/a%20b.png")]), &fields, &base));
        assert!(!keeps(&f(&[("key", "uri=/img/a b.png")]), &fields, &base));
        assert!(keeps(&f(&[("key", "uri=/x"), ("key", "uri=/img/a%20b.png")]), &fields, &base));
        assert!(!keeps(&f(&[("key", "uri!=/img/a%20b.png")]), &fields, &base));
        assert!(keeps(&f(&[("key", "country!=DE"), ("key", "edge_location=IAD89-C1")]), &fields, &base));
        assert!(!keeps(&f(&[("key", "country=US"), ("key", "country!=US")]), &fields, &base));
        assert!(!keeps(&f(&[("key", "client_ip=")]), &fields, &line("1", "200", "/", "IAD1", "-", "-")));
        assert_eq!(Filter::new().set("key", "colour=red", 0).unwrap_err().option, "key");
    }

    #[test]
    fn a_bad_value_is_the_records_error() {
        let mut f = Filter::new();
        f.set("status", "5xx", 0).unwrap();
        let schema = Schema::realtime_ordered(&["timestamp", "sc-status"]).unwrap();
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        let record = parser.parse_line(b"1793491200\tabc", &mut buf).unwrap().unwrap();
        let e = f.keep(&record).unwrap_err();
        assert_eq!(e.field, Some("sc-status"));
    }

    #[test]
    fn tags() {
        let mut f = Filter::new();
        assert!(f.keep_tags(|_, _| false));
        f.set("tag", "bot=googlebot", 0).unwrap();
        f.set("tag", "tier!=free", 0).unwrap();
        let tags = [("bot", "googlebot"), ("tier", "paid")];
        let has = |tags: &[(&str, &str)]| {
            let tags: Vec<(String, String)> = tags.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            move |k: &str, v: &str| tags.iter().any(|(tk, tv)| tk == k && tv == v)
        };
        assert!(f.keep_tags(has(&tags)));
        assert!(!f.keep_tags(has(&[("bot", "googlebot"), ("tier", "free")])));
        assert!(!f.keep_tags(has(&[("tier", "paid")])));
        assert!(f.keep_tags(has(&[("bot", "googlebot")])));
    }

    #[test]
    fn long_user_agents_fall_back_to_the_heap() {
        let mut ua = alloc::string::String::from("Mozilla/5.0%20(compatible;%20bingbot/2.0)");
        while ua.len() < 3000 {
            ua.push_str("%20x");
        }
        assert!(is_bot(ua.as_bytes()));
        assert!(!is_bot(b"curl/8.4.0"));
    }
}
