//! The bodies of the fuzz targets (`parse_line`, `decode_state`), shared with the tests
//! that replay their corpora so both exercise exactly the same calls.

use alloc::vec::Vec;

use crate::summary::{Summary, seal_state};
use crate::{Field, Parser, RecordBuf, Schema};

/// Feeds `data` to a real-time parser (the 46-field layout and a small custom one) and to
/// a standard parser, line by line, and reads every typed value of every record.
/// Must never panic, whatever the bytes. Then checks [`parse_next_agrees`].
pub fn parse_everything(data: &[u8]) {
    parse_next_agrees(data);
    let schemas = [
        Schema::realtime_release(46),
        Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "cs-uri-stem", "cs-headers"]).ok(),
        Some(Schema::standard_default()),
    ];
    let mut json = Vec::new();
    for schema in schemas.into_iter().flatten() {
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        for line in data.split(|&b| b == b'\n') {
            let Ok(Some(r)) = parser.parse_line(line, &mut buf) else { continue };
            let _ = r.validate();
            text_is_from_utf8(&r);
            let _ = r.timestamp_ms();
            let _ = (r.status(), r.bytes_sent(), r.time_taken_us(), r.client_ip(), r.edge_location());
            let _ = (r.result_type(), r.detailed_result_type(), r.uri_path(), r.uri_query_raw());
            let _ = r.decoded_str(Field::UserAgent);
            let _ = r.headers().count() + r.header_names().count() + r.forwarded_for().count();
            json.clear();
            let _ = crate::json::write_record(&r, &mut json);
        }
    }
}

/// Panics unless every column's [`Record::text`](crate::Record::text) is
/// `core::str::from_utf8` of its raw value: the oracle of `cflog_simd::ascii`, which takes
/// short ASCII values as text after one word test.
fn text_is_from_utf8(r: &crate::Record<'_>) {
    for field in r.schema().columns().iter().filter_map(|c| c.field) {
        let want = r.raw(field).map(|raw| core::str::from_utf8(raw).ok());
        match (r.text(field), want) {
            (Ok(None), None) | (Err(_), Some(None)) => {}
            (Ok(Some(got)), Some(Some(want))) if got == want => {}
            (got, want) => panic!("line {}: {field:?} as text is {got:?}, from_utf8 of its raw value {want:?}", r.line_number()),
        }
    }
}

/// Parses `data` as one buffer with [`Parser::parse_next`] and line by line with
/// [`Parser::parse_line`] (for each of `parse_everything`'s layouts, every column split and
/// only the first few), and panics where they differ: a record's line, number, column
/// count and columns, an error's line and text, blank and header lines, where the next
/// line starts, and the stats at the end.
pub fn parse_next_agrees(data: &[u8]) {
    use alloc::format;
    use alloc::string::String;
    let schemas = [
        Schema::realtime_release(46),
        Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "cs-uri-stem", "cs-headers"]).ok(),
        Some(Schema::standard_default()),
    ];
    fn outcome(result: Result<Option<crate::Record<'_>>, crate::ParseError>) -> String {
        match result {
            Err(e) => format!("{e}"),
            Ok(None) => String::from("none"),
            Ok(Some(r)) => {
                let columns: Vec<_> = (0..r.column_count() + 1).map(|i| r.column(i)).collect();
                format!("{} {:?} {} {:?}", r.line_number(), r.line(), r.column_count(), columns)
            }
        }
    }
    // The lines `parse_next` sees: cut at `\n`, no empty line after a last `\n`.
    let lines: Vec<&[u8]> = match data.strip_suffix(b"\n").unwrap_or(data) {
        _ if data.is_empty() => Vec::new(),
        body => body.split(|&b| b == b'\n').collect(),
    };
    for schema in schemas.into_iter().flatten() {
        for reading in [None, Some(&[Field::Status, Field::Date][..])] {
            let make = || {
                let p = Parser::realtime(schema.clone());
                match reading {
                    Some(fields) => p.reading(fields),
                    None => p,
                }
            };
            let (mut by_line, mut by_next) = (make(), make());
            let (mut a, mut b) = (RecordBuf::new(), RecordBuf::new());
            let mut at = 0;
            for line in &lines {
                let want = outcome(by_line.parse_line(line, &mut a));
                let (got, next) = by_next.parse_next(data, at, &mut b).expect("a line left");
                let got = outcome(got);
                assert!(got == want, "parse_next {got:?}, parse_line {want:?}, at {at}");
                let want_next = data.len().min(at + line.len() + 1);
                assert!(next == want_next, "next line at {next}, not {want_next}");
                at = next;
            }
            assert!(by_next.parse_next(data, at, &mut b).is_none(), "a line past the end, at {at}");
            assert!(by_line.stats() == by_next.stats(), "stats {:?} against {:?}", by_next.stats(), by_line.stats());
        }
    }
}

/// Feeds `data` to the summary state decoder twice: as it is, and with its last 8 bytes
/// replaced by the checksum of the rest, so that mutated states get past the checksum and
/// reach the decoding of every aggregate. Must never panic, whatever the bytes (decoding,
/// merging with itself, reporting); a state that decodes must encode to one that decodes to
/// an equal summary.
pub fn decode_state(data: &[u8]) {
    let resealed = data.len().checked_sub(8).map(|body| seal_state(data[..body].to_vec()));
    for bytes in core::iter::once(data).chain(resealed.as_deref()) {
        if let Ok(summary) = Summary::decode_state(bytes) {
            let again = Summary::decode_state(&summary.encode_state()).expect("an encoded state decodes");
            assert!(again == summary, "a decoded state changes when encoded and decoded again");
            // What `cflog merge` does with it: merge (an overflow is refused) and report.
            let mut twice = summary.clone();
            let _ = crate::agg::Merge::merge(&mut twice, &summary);
            let _ = twice.report(10);
        }
    }
}
