//! Shared inputs for the benchmarks in `benches/`: generated logs, and the memchr scan
//! that every throughput target is measured against.

use cflog_cli::{GenOptions, generate};
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
