//! Borrowed record views with typed getters that parse on demand.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::net::IpAddr;

use crate::decode;
use crate::error::{ParseError, ParseErrorKind};
use crate::field::{Field, Format, Kind};
use crate::grammar;
use crate::schema::Schema;
use crate::types::{DetailedResultType, EdgeLocation, FleStatus, ResultType};

/// Where the fields of one line begin, owned by the caller and reused from line to line so
/// parsing allocates nothing once the buffer has grown to the widest line.
#[derive(Debug, Clone, Default)]
pub struct RecordBuf {
    pub(crate) fields: cflog_simd::Fields,
}

impl RecordBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        RecordBuf::default()
    }
}

/// One log record: the line and where its fields begin. Getters return `Ok(None)` for `-`
/// (and for a field the layout does not carry), and an error that names the line and field
/// when the text is not what the field's type allows.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub(crate) line: &'a [u8],
    /// `bounds[i]` is where column `i` begins and `bounds[i + 1] - 1` where it ends, for
    /// every `i + 1 < bounds.len()` (see [`cflog_simd::Fields`]); a parser told which
    /// fields its caller reads ([`crate::Parser::reading`]) may leave later columns out, and
    /// [`Record::column`] finds those on demand.
    pub(crate) bounds: &'a [u32],
    /// Columns of the line (TABs + 1).
    pub(crate) columns: usize,
    pub(crate) schema: &'a Schema,
    pub(crate) line_no: u64,
    pub(crate) double_decode: bool,
    /// The `date` column's day number when the parser already knows it (the same ten bytes
    /// as the last date it parsed, see `Parser::date_days`); `None`: parse the column.
    pub(crate) date_days: Option<i64>,
}

impl<'a> Record<'a> {
    /// The line the record was read from (without its line ending).
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// The 1-based line number in its input.
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// The layout the record was read with.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// How many columns the line has (may differ from the schema for standard logs).
    pub fn column_count(&self) -> usize {
        self.columns
    }

    /// Columns past the end of the schema (tolerated in standard logs).
    pub fn extra_columns(&self) -> usize {
        self.columns.saturating_sub(self.schema.len())
    }

    /// Raw text of column `i`; `None` for `-`, an empty value, or a column the line lacks.
    #[inline]
    pub fn column(&self, i: usize) -> Option<&'a [u8]> {
        // `known` (columns with both bounds) taken by `checked_sub`, so the compiler sees
        // `i + 1 < bounds.len()` and checks neither index again.
        let value = match self.bounds.len().checked_sub(1) {
            Some(known) if i < known => &self.line[self.bounds[i] as usize..self.bounds[i + 1] as usize - 1],
            _ => self.column_past_bounds(i)?,
        };
        // Empty or `-`: one length test in the usual case (values of two bytes or more).
        if value.len() < 2 && value.first().is_none_or(|&b| b == b'-') { None } else { Some(value) }
    }

    /// The line up to the end of `value`, one of its columns (by address: a column is a
    /// slice of the line).
    #[inline(always)]
    fn up_to_end_of(&self, value: &'a [u8]) -> &'a [u8] {
        let end = (value.as_ptr() as usize + value.len()).wrapping_sub(self.line.as_ptr() as usize);
        let upto = self.line.get(..end).unwrap_or(value);
        debug_assert!(upto.ends_with(value), "a column of the line");
        upto
    }

    /// A column after the recorded bounds: found by a scan from the last recorded start.
    #[cold]
    fn column_past_bounds(&self, i: usize) -> Option<&'a [u8]> {
        if i >= self.columns {
            return None;
        }
        // A parsed record has at least `bounds[0]`; a view of an unused buffer has no columns.
        let last = self.bounds.len().checked_sub(1)?;
        let mut start = self.bounds[last] as usize;
        for _ in last..i {
            start += memchr::memchr(b'\t', &self.line[start..])? + 1;
        }
        let end = memchr::memchr(b'\t', &self.line[start..]).map_or(self.line.len(), |t| start + t);
        Some(&self.line[start..end])
    }

    /// Raw (still encoded) text of `field`; `None` for `-` or when the layout lacks it.
    #[inline]
    pub fn raw(&self, field: Field) -> Option<&'a [u8]> {
        self.column(self.schema.column_of(field)?)
    }

    #[cold]
    #[inline(never)]
    fn error(&self, field: Field, kind: ParseErrorKind) -> ParseError {
        ParseError {
            line: self.line_no,
            column: self.schema.column_of(field).map(|c| c as u32 + 1),
            field: field.name(self.schema.format()),
            kind,
        }
    }

    // Inlined into each getter (and, through their `#[inline]`, into the caller), so a
    // getter costs the column lookup and its grammar; the error is built out of line.
    #[inline(always)]
    fn typed<T>(
        &self,
        field: Field,
        expected: &'static str,
        parse: impl FnOnce(&'a [u8]) -> Option<T>,
    ) -> Result<Option<T>, ParseError> {
        match self.raw(field) {
            None => Ok(None),
            Some(text) => match parse(text) {
                Some(v) => Ok(Some(v)),
                None => Err(self.error(field, ParseErrorKind::Invalid { expected })),
            },
        }
    }

    /// Raw text as UTF-8 (`-` is `None`). Tokens are ASCII in real logs; anything else is
    /// an error rather than a silent replacement.
    #[inline]
    pub fn text(&self, field: Field) -> Result<Option<&'a str>, ParseError> {
        // Up to 16 bytes of ASCII by one word test (`cflog_simd::ascii`), else `from_utf8`.
        self.typed(field, "UTF-8 text", |text| cflog_simd::ascii::str_ending(self.up_to_end_of(text), text.len()))
    }

    /// Whether this record's values are decoded twice (its file double-encoded them, or the
    /// parser was told to double-decode).
    pub fn decodes_twice(&self) -> bool {
        self.double_decode
    }

    /// `field` as an aggregate keeps it: encoded exactly once, so that decoding it once for
    /// the report gives what [`Record::decoded`] gives. The raw text, or for a record that
    /// decodes twice, the raw text decoded once (`%2520` → `%20`). Keys from files of every
    /// era then meet in one top list and merge.
    #[inline]
    pub fn encoded_once(&self, field: Field) -> Option<Cow<'a, [u8]>> {
        self.raw(field).map(|t| decode::encoded_once(t, self.double_decode))
    }

    /// The request path as an aggregate keeps it (see [`Record::encoded_once`]).
    #[inline]
    pub fn uri_path_encoded_once(&self) -> Option<Cow<'a, [u8]>> {
        self.uri_path_raw().map(|t| decode::encoded_once(t, self.double_decode))
    }

    /// Percent-decoded bytes (once; twice when the parser was told to double-decode).
    pub fn decoded(&self, field: Field) -> Option<Cow<'a, [u8]>> {
        self.raw(field).map(|t| decode::decode(t, self.double_decode))
    }

    /// Percent-decoded text, invalid UTF-8 replaced by U+FFFD.
    pub fn decoded_str(&self, field: Field) -> Option<Cow<'a, str>> {
        self.raw(field).map(|t| decode::decode_str(t, self.double_decode))
    }

    /// When the edge finished the response, in epoch milliseconds, whatever the format:
    /// v2 `timestamp(ms)`, real-time or v2 `timestamp`, or standard `date` + `time`.
    #[inline]
    pub fn timestamp_ms(&self) -> Result<Option<i64>, ParseError> {
        if self.schema.has(Field::TimestampMs) {
            return self.typed(Field::TimestampMs, "epoch milliseconds", grammar::parse_epoch_ms);
        }
        if self.schema.has(Field::Timestamp) {
            return self.typed(Field::Timestamp, "epoch seconds such as 1607374321.541", grammar::parse_epoch_seconds_ms);
        }
        let days = match self.date_days {
            Some(days) => days,
            None => match self.typed(Field::Date, "a date YYYY-MM-DD", grammar::parse_date_days)? {
                Some(days) => days,
                None => return Ok(None),
            },
        };
        let Some(ms) = self.typed(Field::Time, "a time HH:MM:SS", grammar::parse_time_ms)? else {
            return Ok(None);
        };
        Ok(Some(days * 86_400_000 + ms))
    }

    /// `sc-status`; `Some(0)` is the `000` of a viewer that hung up before the response.
    #[inline]
    pub fn status(&self) -> Result<Option<u16>, ParseError> {
        self.typed(Field::Status, "a three-digit status", grammar::parse_status)
    }

    /// An unsigned integer field (`sc-bytes`, `cs-bytes`, `c-port`, `asn`, …).
    #[inline]
    pub fn integer(&self, field: Field) -> Result<Option<u64>, ParseError> {
        // The value with the line's bytes before it, so short numbers are read as one word.
        self.typed(field, "an unsigned integer", |text| grammar::parse_u64_ending(self.up_to_end_of(text), text.len()))
    }

    /// `sc-bytes`: bytes sent to the viewer.
    #[inline]
    pub fn bytes_sent(&self) -> Result<Option<u64>, ParseError> {
        self.integer(Field::BytesSent)
    }

    /// `cs-bytes`: bytes received from the viewer.
    #[inline]
    pub fn bytes_received(&self) -> Result<Option<u64>, ParseError> {
        self.integer(Field::BytesReceived)
    }

    /// A seconds field (`time-taken`, `time-to-first-byte`, `origin-fbl`, `origin-lbl`) in
    /// microseconds.
    #[inline]
    pub fn seconds_us(&self, field: Field) -> Result<Option<u64>, ParseError> {
        self.typed(field, "decimal seconds such as 0.140", grammar::parse_seconds_us)
    }

    /// `time-taken` in microseconds.
    #[inline]
    pub fn time_taken_us(&self) -> Result<Option<u64>, ParseError> {
        self.seconds_us(Field::TimeTaken)
    }

    /// `time-to-first-byte` in microseconds.
    #[inline]
    pub fn time_to_first_byte_us(&self) -> Result<Option<u64>, ParseError> {
        self.seconds_us(Field::TimeToFirstByte)
    }

    /// An address field (`c-ip`, `s-ip`).
    #[inline]
    pub fn ip(&self, field: Field) -> Result<Option<IpAddr>, ParseError> {
        self.typed(field, "an IPv4 or IPv6 address", grammar::parse_ip)
    }

    /// `c-ip`.
    #[inline]
    pub fn client_ip(&self) -> Result<Option<IpAddr>, ParseError> {
        self.ip(Field::ClientIp)
    }

    /// `x-forwarded-for`, decoded, split on commas. Items are text because proxies write
    /// things that are not addresses (`unknown`); parse them with [`grammar::parse_ip`].
    pub fn forwarded_for(&self) -> impl Iterator<Item = Cow<'a, str>> {
        let decoded = self.decoded_str(Field::ForwardedFor);
        let items: Vec<Cow<'a, str>> = match decoded {
            None => Vec::new(),
            Some(Cow::Borrowed(s)) => {
                s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Cow::Borrowed).collect()
            }
            Some(Cow::Owned(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Cow::Owned(alloc::string::String::from(s)))
                .collect(),
        };
        items.into_iter()
    }

    /// `x-edge-location`.
    #[inline]
    pub fn edge_location(&self) -> Result<Option<EdgeLocation<'a>>, ParseError> {
        Ok(self.text(Field::EdgeLocation)?.map(EdgeLocation::new))
    }

    /// `x-edge-result-type`.
    #[inline]
    pub fn result_type(&self) -> Result<Option<ResultType<'a>>, ParseError> {
        self.typed(Field::ResultType, "UTF-8 text", |text| ResultType::from_line_end(self.up_to_end_of(text), text.len()))
    }

    /// `x-edge-response-result-type`.
    #[inline]
    pub fn response_result_type(&self) -> Result<Option<ResultType<'a>>, ParseError> {
        self.typed(Field::ResponseResultType, "UTF-8 text", |text| ResultType::from_line_end(self.up_to_end_of(text), text.len()))
    }

    /// `x-edge-detailed-result-type`.
    #[inline]
    pub fn detailed_result_type(&self) -> Result<Option<DetailedResultType<'a>>, ParseError> {
        self.typed(Field::DetailedResultType, "UTF-8 text", |text| DetailedResultType::from_line_end(self.up_to_end_of(text), text.len()))
    }

    /// `fle-status`.
    pub fn fle_status(&self) -> Result<Option<FleStatus<'a>>, ParseError> {
        self.typed(Field::FleStatus, "UTF-8 text", |text| FleStatus::from_line_end(self.up_to_end_of(text), text.len()))
    }

    /// The distribution's domain name (`d111111abcdef8.cloudfront.net`): real-time
    /// `x-host-header`, standard `cs(Host)`.
    #[inline]
    pub fn distribution_domain(&self) -> Result<Option<&'a str>, ParseError> {
        self.text(Field::DistributionDomain)
    }

    /// The viewer's `Host` header: real-time `cs-host`, standard `x-host-header`.
    #[inline]
    pub fn viewer_host(&self) -> Result<Option<&'a str>, ParseError> {
        self.text(Field::ViewerHost)
    }

    /// The request path without the query string, still encoded. Real-time `cs-uri-stem`
    /// includes `?query`; standard logs never do.
    #[inline]
    pub fn uri_path_raw(&self) -> Option<&'a [u8]> {
        let stem = self.raw(Field::UriStem)?;
        Some(match self.schema.format() {
            Format::RealTime => find_query(stem).map_or(stem, |q| &stem[..q]),
            Format::Standard => stem,
        })
    }

    /// The request path without the query string, decoded.
    pub fn uri_path(&self) -> Option<Cow<'a, str>> {
        self.uri_path_raw().map(|p| decode::decode_str(p, self.double_decode))
    }

    /// The query string, still encoded: `cs-uri-query`, or in real-time logs without that
    /// field, what follows `?` in `cs-uri-stem`.
    pub fn uri_query_raw(&self) -> Option<&'a [u8]> {
        if self.schema.has(Field::UriQuery) {
            return self.raw(Field::UriQuery);
        }
        if self.schema.format() == Format::RealTime {
            let stem = self.raw(Field::UriStem)?;
            let q = find_query(stem)?;
            return Some(&stem[q + 1..]).filter(|s| !s.is_empty());
        }
        None
    }

    /// `cs-headers` as decoded `(name, value)` pairs. The list is `name:value%0A…`; a value
    /// may itself contain `:` (only the first one separates).
    pub fn headers(&self) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> {
        let double = self.double_decode;
        split_encoded_lines(self.raw(Field::Headers)).map(move |entry| {
            let (name, value) = match memchr::memchr(b':', entry) {
                Some(c) => (&entry[..c], &entry[c + 1..]),
                None => (entry, &entry[entry.len()..]),
            };
            (decode::decode_str(name, double), decode::decode_str(value, double))
        })
    }

    /// `cs-header-names` as decoded names.
    pub fn header_names(&self) -> impl Iterator<Item = Cow<'a, str>> {
        let double = self.double_decode;
        split_encoded_lines(self.raw(Field::HeaderNames)).map(move |n| decode::decode_str(n, double))
    }

    /// Checks every column against its field's type and returns the first problem. The
    /// getters check lazily; this is for callers that want every field (e.g. `cflog parse`).
    pub fn validate(&self) -> Result<(), ParseError> {
        for column in self.schema.columns() {
            let Some(field) = column.field else { continue };
            match field.kind() {
                Kind::EpochSeconds => {
                    self.typed(field, "epoch seconds such as 1607374321.541", grammar::parse_epoch_seconds_ms)?;
                }
                Kind::EpochMillis => {
                    self.typed(field, "epoch milliseconds", grammar::parse_epoch_ms)?;
                }
                Kind::Date => {
                    self.typed(field, "a date YYYY-MM-DD", grammar::parse_date_days)?;
                }
                Kind::Time => {
                    self.typed(field, "a time HH:MM:SS", grammar::parse_time_ms)?;
                }
                Kind::Seconds => {
                    self.seconds_us(field)?;
                }
                Kind::Integer => {
                    self.integer(field)?;
                }
                Kind::Status => {
                    self.status()?;
                }
                Kind::Ip => {
                    self.ip(field)?;
                }
                Kind::Token => {
                    self.text(field)?;
                }
                // Lists, encoded text, CMCD values: any bytes are acceptable.
                Kind::IpList | Kind::Encoded | Kind::Bool | Kind::Decimal => {}
            }
        }
        Ok(())
    }
}

/// Where the first `?` of a `cs-uri-stem` is: `memchr::memchr(b'?', stem)`, eight bytes at
/// a time in a plain word (the usual stem is ~25 bytes, where memchr's set-up costs more
/// than the search). The last word overlaps bytes already searched, which hold none.
#[inline]
fn find_query(stem: &[u8]) -> Option<usize> {
    let first = |at: usize, word: &[u8; 8]| {
        let found = crate::swar::eq_word(u64::from_le_bytes(*word), b'?');
        (found != 0).then(|| at + (found.trailing_zeros() / 8) as usize)
    };
    let Some(last) = stem.len().checked_sub(8) else {
        return stem.iter().position(|&b| b == b'?');
    };
    let mut at = 0;
    while at < last {
        if let Some(q) = first(at, stem[at..].first_chunk().expect("8 bytes")) {
            return Some(q);
        }
        at += 8;
    }
    first(last, stem[last..].first_chunk().expect("8 bytes"))
}

/// Splits a `%0A`-joined list (`a%0Ab%0A`) into its non-empty raw entries.
fn split_encoded_lines(raw: Option<&[u8]>) -> impl Iterator<Item = &[u8]> {
    let mut rest = raw.unwrap_or(&[]);
    core::iter::from_fn(move || {
        while !rest.is_empty() {
            let (entry, next) = match memchr::memmem::find(rest, b"%0A").or_else(|| memchr::memmem::find(rest, b"%0a")) {
                Some(i) => (&rest[..i], &rest[i + 3..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            if !entry.is_empty() {
                return Some(entry);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The word-at-a-time `?` search against memchr, on stems of every length to 40 with
        /// `?` and its neighbours (`>`, `@`, `\x3f` with the high bit, `\x7f`) anywhere.
        #[test]
        fn find_query_is_memchr(stem in proptest::collection::vec(prop_oneof![8 => b'a'..=b'z', 1 => Just(b'?'), 1 => Just(b'>'), 1 => Just(b'@'), 1 => Just(0xbf_u8), 1 => Just(0x7f_u8), 1 => Just(0_u8), 1 => any::<u8>()], 0..41)) {
            prop_assert_eq!(find_query(&stem), memchr::memchr(b'?', &stem), "{:?}", stem);
        }
    }
}
