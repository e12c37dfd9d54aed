//! Shared inputs for the benchmarks in `benches/`: generated logs, and the memchr scan
//! that every throughput target is measured against.

pub mod plugins;

use cflog_gen::{GenOptions, generate};
use cflog_core::Format;

/// `lines` generated lines of `format` (the 46-field real-time layout, or 33-column
/// standard), deterministic.
pub fn sample(format: Format, lines: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = GenOptions { format, lines, seed: 42, ..GenOptions::default() };
    generate(&opts, &mut out).expect("writing to memory");
    out
}

/// The baseline: find every line with memchr, then every TAB within it. This is the
/// least work any parser of this format must do.
pub fn memchr_scan(data: &[u8]) -> u64 {
    let mut fields = 0u64;
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', data) {
        fields += memchr::memchr_iter(b'\t', &data[start..nl]).count() as u64 + 1;
        start = nl + 1;
    }
    fields
}

/// The ten fields [`parse_typed10`] reads, for [`cflog_core::Parser::reading`] (the
/// timestamp getter reads `timestamp(ms)`, `timestamp`, or `date` and `time`).
pub const TYPED10: &[cflog_core::Field] = {
    use cflog_core::Field::*;
    &[TimestampMs, Timestamp, Date, Time, ClientIp, Status, BytesSent, Method, UriStem, EdgeLocation, TimeTaken, ResultType, UserAgent]
};

/// Parses every line and reads the ten most used fields through their typed getters:
/// timestamp, c-ip, sc-status, sc-bytes, cs-method, cs-uri-stem (path), x-edge-location,
/// time-taken, x-edge-result-type, cs-user-agent (raw). Returns a checksum. The lines are
/// found by the parser ([`cflog_core::Parser::parse_next`]: each line scanned once, for its
/// TABs and its end together), and each record read where the parser built it, as the
/// engine's walk does (moving it out of the step costs a copy the CPU cannot forward from
/// the stores that wrote it; see `parse_next`).
pub fn parse_typed10(data: &[u8], mut parser: cflog_core::Parser) -> u64 {
    use cflog_core::{Field, RecordBuf};
    let mut buf = RecordBuf::new();
    let mut acc = 0u64;
    let mut at = 0;
    loop {
        let step = parser.parse_next(data, at, &mut buf);
        let Some((result, next)) = &step else { break };
        at = *next;
        let Ok(Some(r)) = result else { continue };
        acc = acc.wrapping_add(r.timestamp_ms().ok().flatten().unwrap_or(0) as u64);
        acc = acc.wrapping_add(r.client_ip().ok().flatten().map_or(0, |ip| ip.is_ipv4() as u64));
        acc = acc.wrapping_add(u64::from(r.status().ok().flatten().unwrap_or(0)));
        acc = acc.wrapping_add(r.bytes_sent().ok().flatten().unwrap_or(0));
        acc = acc.wrapping_add(r.raw(Field::Method).map_or(0, |m| m.len() as u64));
        acc = acc.wrapping_add(r.uri_path_raw().map_or(0, |p| p.len() as u64));
        acc = acc.wrapping_add(r.edge_location().ok().flatten().map_or(0, |e| e.code().len() as u64));
        acc = acc.wrapping_add(r.time_taken_us().ok().flatten().unwrap_or(0));
        acc = acc.wrapping_add(r.result_type().ok().flatten().map_or(0, |t| t.is_cache_hit() as u64));
        acc = acc.wrapping_add(r.raw(Field::UserAgent).map_or(0, |u| u.len() as u64));
    }
    acc
}
