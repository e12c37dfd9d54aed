//! Inputs that are standard logging v2 in a shape cflog cannot read, recognised from their
//! first lines so that the error says what they are and what to do, instead of the parser's
//! per-line complaints or the real-time field-count message. Each shape comes from the
//! v2 destinations and output formats (CloudWatch Logs, Firehose, S3; `json`, `plain`,
//! `w3c`, `parquet`, and the `field_delimiter` option).

use std::fmt;

use cflog_core::field::{Field, Format};
use cflog_core::grammar::{parse_date_days, w3c_fields};
use cflog_core::layout::first_line;

/// What an unreadable v2 input looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// A CloudWatch Logs export: each line starts with its event time (`2025-02-02T22:30:41.041Z `).
    CloudWatchExport,
    /// CloudWatch Logs events as JSON (`{"timestamp":…,"message":"…"}`, or `{"events":[…]}`).
    CloudWatchEvents,
    /// Records with no `#Fields:` header and an epoch-second first value (the `plain` output).
    Plain {
        /// Whether the values are TAB-separated.
        tabs: bool,
    },
    /// A `#Fields:` header with v2 names, and records not separated by TABs (`field_delimiter`).
    Delimiter {
        /// Columns the header names.
        columns: usize,
    },
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::CloudWatchExport => f.write_str(
                "standard logging v2 records exported from CloudWatch Logs (each line starts with its event time). Strip \
                 the time and read the records: `sed 's/^[^ ]* //' FILE | cflog analyze -` (JSON records are then read as \
                 v2 JSON; plain ones need a #Fields: line, see the README)",
            ),
            Unreadable::CloudWatchEvents => f.write_str(
                "CloudWatch Logs events (standard logging v2 delivered to CloudWatch Logs), not the records themselves. \
                 Read the records inside `message`: `jq -r '.message' FILE | cflog analyze -` (for `aws logs \
                 filter-log-events` output: `jq -r '.events[].message'`)",
            ),
            Unreadable::Plain { tabs } => write!(
                f,
                "standard logging v2 records without a #Fields: header (the `plain` output format: an epoch-second \
                 timestamp, then a date), which do not say which fields they hold. Deliver the logs as w3c, json or \
                 parquet, or name the fields in front of the records{}: `(printf '#Fields: timestamp DistributionId \
                 date time ...\\n'; cat FILE) | cflog analyze -`",
                if *tabs { "" } else { " and put a TAB between values (`tr`)" }
            ),
            Unreadable::Delimiter { columns } => write!(
                f,
                "standard logging v2 (W3C): the #Fields: header names {columns} fields, but the records are not \
                 TAB-separated (a custom field_delimiter). cflog reads v2 W3C files with the default TAB delimiter: \
                 set the delivery's field delimiter back to the default, or convert the records' delimiter to TAB"
            ),
        }
    }
}

/// Whether `head`, the first bytes of an input, is standard logging v2 in a shape cflog
/// cannot read. `json` says whether the input is being read as JSON lines.
pub fn unreadable(head: &[u8], json: bool) -> Option<Unreadable> {
    let line = first_line(head);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if json {
        return cloudwatch_event(line).then_some(Unreadable::CloudWatchEvents);
    }
    if event_time_prefix(line) {
        return Some(Unreadable::CloudWatchExport);
    }
    if line.starts_with(b"#") {
        return delimiter(head);
    }
    plain(line)
}

/// `{"timestamp":…,"message":…}` (an exported event) or `{"events":[…` (the API's answer).
fn cloudwatch_event(line: &[u8]) -> bool {
    let Ok(serde_json::Value::Object(o)) = serde_json::from_slice::<serde_json::Value>(line) else {
        return line.starts_with(b"{\"events\"") || line.starts_with(b"{\"nextForwardToken\"");
    };
    let field = |k: &String| Field::from_name(Format::Standard, k).is_some() || Field::from_name(Format::RealTime, k).is_some();
    o.contains_key("events") || (o.get("message").is_some_and(serde_json::Value::is_string) && !o.keys().any(|k| k != "timestamp" && field(k)))
}

/// `2025-02-02T22:30:41.041Z ` at the start of a line.
fn event_time_prefix(line: &[u8]) -> bool {
    let Some(space) = memchr::memchr(b' ', line) else { return false };
    let token = &line[..space];
    token.len() >= 20 && token[10] == b'T' && parse_date_days(&token[..10]).is_some() && token.ends_with(b"Z")
}

/// A first value of 10 digits (epoch seconds, no fraction) followed, among the next few
/// values, by a `YYYY-MM-DD` date.
fn plain(line: &[u8]) -> Option<Unreadable> {
    let tabs = line.contains(&b'\t');
    let mut values = line.split(|&b| if tabs { b == b'\t' } else { b == b' ' || b == b',' || b == b'|' || b == b';' });
    let first = values.next()?;
    let epoch = first.len() == 10 && first.iter().all(u8::is_ascii_digit);
    (epoch && values.take(4).any(|v| v.len() == 10 && parse_date_days(v).is_some())).then_some(Unreadable::Plain { tabs })
}

/// The first `#Fields:` header, when it has v2 names, and the first record after it, when
/// that record has no TAB.
fn delimiter(head: &[u8]) -> Option<Unreadable> {
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let names = lines.by_ref().find_map(w3c_fields)?;
    let v2 = names.iter().any(|n| matches!(*n, "timestamp" | "DistributionId" | "timestamp(ms)"));
    let record = lines.find(|l| !l.is_empty() && !l.starts_with(b"#"))?;
    (v2 && names.len() > 1 && !record.contains(&b'\t')).then_some(Unreadable::Delimiter { columns: names.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_v2_that_cflog_cannot_read() {
        assert_eq!(unreadable(b"2025-02-02T22:30:41.041Z {\"timestamp\":\"1738535441\"}\n", false), Some(Unreadable::CloudWatchExport));
        assert_eq!(unreadable(br#"{"timestamp":1738535441041,"message":"{\"date\":\"2025-02-02\"}","ingestionTime":1}"#, true), Some(Unreadable::CloudWatchEvents));
        assert_eq!(unreadable(br#"{"events":[{"message":"x"}]}"#, true), Some(Unreadable::CloudWatchEvents));
        assert_eq!(unreadable(b"1738535441\tE1EXAMPLE\t2025-02-02\t22:30:41\tNRT57-C1\n", false), Some(Unreadable::Plain { tabs: true }));
        assert_eq!(unreadable(b"1738535441 E1EXAMPLE 2025-02-02 22:30:41 NRT57-C1\n", false), Some(Unreadable::Plain { tabs: false }));
        let custom = b"#Version: 1.0\n#Fields: timestamp DistributionId date time\n1738535441|E1|2025-02-02|22:30:41\n";
        assert_eq!(unreadable(custom, false), Some(Unreadable::Delimiter { columns: 4 }));
        // What cflog reads is not flagged.
        assert_eq!(unreadable(b"#Fields: timestamp DistributionId date time\n1738535441\tE1\t2025-02-02\t22:30:41\n", false), None);
        assert_eq!(unreadable(b"#Fields: date time\n2019-12-04 21:02:31\n", false), None);
        assert_eq!(unreadable(b"1607374321.541\t192.0.2.1\t200\n", false), None);
        assert_eq!(unreadable(br#"{"timestamp":"1738535441","date":"2025-02-02"}"#, true), None);
        assert_eq!(unreadable(br#"{"timestamp":1607374321.541,"c-ip":"1.2.3.4"}"#, true), None);
    }
}
