//! Choosing a layout from the data: format detection and real-time layout inference.
//! Shared by every host (the CLI, the browser inspector) so they read a file the same way.

use alloc::string::String;
use alloc::vec::Vec;

use crate::field::{Format, REALTIME_RELEASES};
use crate::schema::Schema;

/// The first non-blank line of `head` (without its `\n`).
pub fn first_line(head: &[u8]) -> &[u8] {
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    let rest = &head[start..];
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    &rest[..end]
}

/// Standard logs start with a W3C header or, headerless, with `YYYY-MM-DD<TAB>`; anything
/// else is taken for real-time records.
pub fn detect(head: &[u8]) -> Format {
    let line = first_line(head);
    let dated = line.len() > 11
        && line[..10].iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() })
        && line[10] == b'\t';
    if line.starts_with(b"#") || dated { Format::Standard } else { Format::RealTime }
}

/// Why a real-time layout could not be inferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InferError {
    /// Fields in the first record.
    pub found: usize,
}

impl InferError {
    /// The field counts of the complete lists of every AWS release, e.g. `40, 43, 45`.
    pub fn known_counts() -> String {
        let counts: Vec<String> = REALTIME_RELEASES.iter().map(|r| alloc::format!("{}", r.count)).collect();
        counts.join(", ")
    }
}

/// A real-time layout from the first record's field count, when that count is the complete
/// field list of a known AWS release. An empty input gets the first release's layout.
pub fn infer_realtime(head: &[u8]) -> Result<Schema, InferError> {
    let line = first_line(head);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() {
        return Ok(Schema::realtime_release(REALTIME_RELEASES[0].count).expect("known release"));
    }
    let count = memchr::memchr_iter(b'\t', line).count() + 1;
    Schema::realtime_release(count).ok_or(InferError { found: count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_and_inference() {
        assert_eq!(detect(b"#Version: 1.0\n"), Format::Standard);
        assert_eq!(detect(b"\n\n2019-12-04\t21:02:31\tLAX1"), Format::Standard);
        assert_eq!(detect(b"1607374321.541\t127.0.0.1"), Format::RealTime);
        let line = alloc::vec!["-"; 46].join("\t");
        assert_eq!(infer_realtime(line.as_bytes()).unwrap().len(), 46);
        assert_eq!(infer_realtime(b"a\tb\tc\r\n"), Err(InferError { found: 3 }));
        assert!(InferError::known_counts().starts_with("40, 43"));
    }
}
