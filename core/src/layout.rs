//! Choosing a layout from the data: format detection, real-time layout inference and
//! the legacy double encoding of standard logs. Shared by every host (the CLI, the browser
//! inspector) so they read a file the same way.

use alloc::string::String;
use alloc::vec::Vec;

use crate::field::{Field, Format, REALTIME_RELEASES};
use crate::parser::Parser;
use crate::record::RecordBuf;
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

/// How much of the start of a standard log [`sniff_double_encoding`] looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// 2021-01-01T00:00:00Z in epoch milliseconds: standard logs from then on encode once.
const SINGLE_ENCODED_FROM_MS: i64 = 1_609_459_200_000;

/// Whether a standard log whose first bytes are `head` encodes its values twice, as
/// CloudFront did before 2020 (a space in a user agent logged as `%2520`, not `%20`):
/// `Some(true)` or `Some(false)` once a record shows which, `None` while no complete
/// line within the first [`SNIFF_BYTES`] does.
///
/// The evidence is the user agent of a record dated before 2021 (viewers' user agents
/// nearly always hold a space): `%2520` means twice, `%20` once. URIs and queries cannot
/// tell, since they keep the viewer's own escapes with `%` escaped again in every era
/// (`q=a%2520b` is a modern log of `q=a%20b`). A record dated 2021 or later means once.
///
/// ```
/// use cflog_core::layout::sniff_double_encoding;
/// let head = b"#Fields: date time cs(User-Agent)\n2016-06-10\t18:41:39\tMozilla/5.0%2520(X11)\n";
/// assert_eq!(sniff_double_encoding(head), Some(true));
/// ```
pub fn sniff_double_encoding(head: &[u8]) -> Option<bool> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    let mut parser = Parser::standard();
    let mut buf = RecordBuf::new();
    let mut start = 0;
    // Complete lines only: a cut user agent could lose the `20` of `%2520`.
    for end in memchr::memchr_iter(b'\n', head) {
        let line = &head[start..end];
        start = end + 1;
        let Ok(Some(record)) = parser.parse_line(line, &mut buf) else { continue };
        match record.timestamp_ms() {
            Ok(Some(ts)) if ts >= SINGLE_ENCODED_FROM_MS => return Some(false),
            Ok(Some(_)) => {}
            _ => continue,
        }
        let Some(ua) = record.raw(Field::UserAgent) else { continue };
        if memchr::memmem::find(ua, b"%2520").is_some() {
            return Some(true);
        }
        if memchr::memmem::find(ua, b"%20").is_some() {
            return Some(false);
        }
    }
    None
}

/// [`sniff_double_encoding`], undecided taken as once (the safe choice: a second pass
/// corrupts values that hold a literal `%25xx`).
pub fn double_encoded(head: &[u8]) -> bool {
    sniff_double_encoding(head).unwrap_or(false)
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
