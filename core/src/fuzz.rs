//! The bodies of the fuzz targets (`parse_line`, `decode_state`), shared with the tests
//! that replay their corpora so both exercise exactly the same calls.

use alloc::vec::Vec;

use crate::summary::{Summary, seal_state};
use crate::{Field, Parser, RecordBuf, Schema};

/// Feeds `data` to a real-time parser (the 46-field layout and a small custom one) and to
/// a standard parser, line by line, and reads every typed value of every record.
/// Must never panic, whatever the bytes.
pub fn parse_everything(data: &[u8]) {
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
