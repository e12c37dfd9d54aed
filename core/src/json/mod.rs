//! Records as JSON objects: the typed NDJSON of `cflog parse`, the Firehose transformation
//! and the enriched-records stream.

use alloc::vec::Vec;

use crate::decode;
use crate::error::ParseError;
use crate::field::{Field, Kind};
use crate::grammar;
use crate::record::Record;
use crate::schema::Schema;

mod cursor;
mod plan;
mod value;
use cursor::Cursor;
use plan::{Op, Step};
use value::*;
pub use value::{write_decoded_str, write_str, write_u64};

/// Appends `record` as one JSON object keyed by the column names as they appear in its
/// format. Numbers are JSON numbers (seconds fields with up to 6 decimals, timestamps in
/// seconds with 3), `-` is `null`, encoded text is decoded (once, or twice when the parser
/// double-decodes). Validates every typed column first, so on error nothing is appended.
pub fn write_record(record: &Record<'_>, out: &mut Vec<u8>) -> Result<(), ParseError> {
    write_record_with(record, JsonOptions::default(), out)
}

/// How [`write_record_with`] writes a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JsonOptions {
    /// Leave out the keys whose value is `-` (and decimal columns whose text is not a JSON
    /// number, which would otherwise be strings), instead of writing `null`: search
    /// engines such as OpenSearch treat an absent key as absent, and a number-typed field
    /// rejects the whole document over one string. The default is `false` (every column
    /// present, `null` for `-`, as `cflog parse` writes).
    pub omit_absent: bool,
    /// Write viewer addresses (`c-ip`, each address of `x-forwarded-for`) truncated to
    /// their /24 or /48 network ([`crate::anonymize`]). The default is `false`.
    pub anonymize_ip: bool,
}

impl JsonOptions {
    /// Sets [`JsonOptions::omit_absent`].
    pub fn omit_absent(mut self, yes: bool) -> Self {
        self.omit_absent = yes;
        self
    }

    /// Sets [`JsonOptions::anonymize_ip`].
    pub fn anonymize_ip(mut self, yes: bool) -> Self {
        self.anonymize_ip = yes;
        self
    }
}

/// [`write_record`] with options; `write_record` is this with the default options.
pub fn write_record_with(record: &Record<'_>, options: JsonOptions, out: &mut Vec<u8>) -> Result<(), ParseError> {
    write_columns(record, options, None, false, out)
}

/// [`write_record_with`] for the records of one schema: each column's key (`"name":`) is
/// escaped once, not for every record (46 keys a record were ~12 % of the Lambda handler's
/// enriched output; issue 13). A record of another schema is written by
/// `write_record_with`; either way the bytes are the same.
#[derive(Debug, Clone)]
pub struct RecordWriter {
    schema: Schema,
    options: JsonOptions,
    /// `,"name":` of every column, one after the other, then 32 spaces; column `i`'s is
    /// `keys[starts[i]..starts[i + 1]]` (without its `,` when it is the first written).
    keys: Vec<u8>,
    starts: Vec<usize>,
    /// The kind of each column's values (`Encoded` for a column without a field).
    kinds: Vec<Kind>,
    /// Per column, the JSON text of its recent values when they repeat (see [`ValueCache`]).
    cache: Vec<ValueCache>,
    /// Whether each column with a field is that field's column ([`Schema::column_of`]), so
    /// that the writer may check each typed value where it writes it (see [`write_columns`]).
    checks_in_place: bool,
    /// When `checks_in_place`, each column's key and [`Op`] (see [`plan`]); else empty.
    plan: Vec<Step>,
}

impl RecordWriter {
    /// A writer for records of `schema`.
    pub fn new(schema: &Schema, options: JsonOptions) -> Self {
        let mut keys = Vec::new();
        let mut starts = alloc::vec![0];
        for column in schema.columns() {
            keys.push(b',');
            write_str(&mut keys, column.name.as_bytes());
            keys.push(b':');
            starts.push(keys.len());
        }
        // Room behind the last key for `copy_key`'s whole-block copies.
        keys.extend_from_slice(&[b' '; 32]);
        let checks_in_place = schema.columns().iter().enumerate().all(|(i, c)| c.field.is_none_or(|f| schema.column_of(f) == Some(i)));
        let kinds = schema.columns().iter().map(column_kind).collect();
        let cache = alloc::vec![ValueCache::default(); schema.len()];
        let plan = if checks_in_place {
            schema.columns().iter().enumerate().map_while(|(i, c)| Step::new(&keys[starts[i]..starts[i + 1]], Op::of(c, options))).collect()
        } else {
            Vec::new()
        };
        // A key over `plan::KEY_MAX` bytes (no field's; a long unknown column's name) leaves the plan
        // short: it is not used.
        let plan = if plan.len() == schema.len() { plan } else { Vec::new() };
        RecordWriter { schema: schema.clone(), options, keys, starts, kinds, cache, checks_in_place, plan }
    }

    /// Appends `record` as [`write_record_with`] with this writer's options does.
    /// (Takes `&mut self` for the cache of repeating values.)
    pub fn write(&mut self, record: &Record<'_>, out: &mut Vec<u8>) -> Result<(), ParseError> {
        if *record.schema() == self.schema {
            // The plan's walk when every column's bounds were recorded (a short standard-log
            // line, or a parser told to read fewer fields, goes the general way); a value
            // that does not check is taken back and the record written again, validated
            // first, which returns `validate`'s error.
            if !self.plan.is_empty() && record.bounds.len() > self.plan.len() {
                let start = out.len();
                if plan::write_planned(&self.plan, self.keys.len(), &mut self.cache, self.options, record, out) {
                    return Ok(());
                }
                out.truncate(start);
                let prepared = Prepared { keys: &self.keys, starts: &self.starts, kinds: &self.kinds, cache: &mut self.cache };
                return write_columns(record, self.options, Some(prepared), false, out);
            }
            let prepared = Prepared { keys: &self.keys, starts: &self.starts, kinds: &self.kinds, cache: &mut self.cache };
            write_columns(record, self.options, Some(prepared), self.checks_in_place, out)
        } else {
            write_columns(record, self.options, None, false, out)
        }
    }
}

/// What a [`RecordWriter`] prepared for its schema: each column's `,"name":` (column `i`'s
/// is `keys[starts[i]..starts[i + 1]]`) and kind.
struct Prepared<'a> {
    keys: &'a [u8],
    starts: &'a [usize],
    kinds: &'a [Kind],
    cache: &'a mut [ValueCache],
}

/// The JSON text of one column's recent values, by raw value: for percent-encoded columns
/// whose values repeat (user agents, header-name lists, encodings), where decoding and
/// escaping a value was ~1,700 instructions (a user agent; issue 13) and finding it here
/// is a hash and a compare. A column whose values mostly differ (`cs-headers`) is no
/// longer looked up after [`ValueCache::TRIAL`] of its values; the table is emptied when it
/// holds [`ValueCache::MAX_BYTES`].
#[derive(Debug, Clone, Default)]
struct ValueCache {
    texts: hashbrown::HashMap<alloc::boxed::Box<[u8]>, alloc::boxed::Box<[u8]>, foldhash::fast::FixedState>,
    bytes: usize,
    lookups: u32,
    hits: u32,
}

impl ValueCache {
    /// Values of a column looked up before deciding whether its values repeat enough.
    const TRIAL: u32 = 256;
    /// Raw and JSON bytes one column keeps at most.
    const MAX_BYTES: usize = 256 * 1024;
    /// Shorter values are written directly: cheaper than a lookup.
    const MIN_LEN: usize = 16;

    /// Appends what `write_decoded_str(out, raw, false)` appends, from the table when
    /// `raw` was seen before.
    fn write(&mut self, out: &mut Vec<u8>, raw: &[u8]) {
        let mut cursor = Cursor::new(out, 0, 0);
        self.write_at(&mut cursor, raw);
        cursor.finish();
    }

    /// [`ValueCache::write`] at a cursor.
    #[inline(always)]
    fn write_at(&mut self, out: &mut Cursor<'_>, raw: &[u8]) {
        // After the trial, only a column with at least half its values found keeps looking.
        if raw.len() < Self::MIN_LEN || (self.lookups >= Self::TRIAL && self.hits < self.lookups / 2) {
            out.decoded_str(raw, false);
            return;
        }
        self.lookups = self.lookups.saturating_add(1);
        if let Some(text) = self.texts.get(raw) {
            self.hits += 1;
            out.bytes(text);
            return;
        }
        let start = out.pos();
        out.decoded_str(raw, false);
        let text = out.since(start);
        if self.bytes + raw.len() + text.len() > Self::MAX_BYTES {
            self.texts.clear();
            self.bytes = 0;
        }
        self.bytes += raw.len() + text.len();
        self.texts.insert(raw.into(), text.into());
    }
}

/// The kind of a column's values: its field's, `Encoded` for a column without one.
fn column_kind(column: &crate::schema::Column) -> Kind {
    column.field.map_or(Kind::Encoded, |f| f.kind())
}

/// The body of [`write_record_with`], with each column's `"name":` and kind taken from
/// `prepared` (as a [`RecordWriter`] holds them) when given.
///
/// With `in_place`, the typed columns are not checked by [`Record::validate`] first but
/// each where it is written, with `validate`'s own parser, and a number is parsed once for
/// both (`validate` was ~5,600 instructions a record of the Lambda's enriched output;
/// issue 13). Only for a schema whose every field is at its own column, so that the value
/// checked is the one `validate` checks. When a check fails, what was written is taken back
/// and the record written again with `validate` first, which returns `validate`'s error.
fn write_columns(
    record: &Record<'_>,
    options: JsonOptions,
    mut prepared: Option<Prepared<'_>>,
    in_place: bool,
    out: &mut Vec<u8>,
) -> Result<(), ParseError> {
    if !in_place {
        record.validate()?;
    }
    let start = out.len();
    out.push(b'{');
    let mut first = true;
    for (i, column) in record.schema().columns().iter().enumerate() {
        let kind = match &prepared {
            Some(p) => p.kinds[i],
            None => column_kind(column),
        };
        let raw = record.column(i);
        // The number of a typed column as the writer below writes it, parsed once.
        let mut number: Option<u64> = None;
        if in_place && column.field.is_some() && let Some(raw) = raw {
            let valid = match kind {
                Kind::EpochSeconds => {
                    number = grammar::parse_epoch_seconds_ms(raw).map(i64::unsigned_abs);
                    number.is_some()
                }
                Kind::EpochMillis => grammar::parse_epoch_ms(raw).is_some(),
                Kind::Date => grammar::parse_date_days(raw).is_some(),
                Kind::Time => grammar::parse_time_ms(raw).is_some(),
                Kind::Seconds => {
                    number = grammar::parse_seconds_us(raw);
                    number.is_some()
                }
                // Canonical digits are valid (`parse_u64` takes any 1 to 19 digits,
                // `parse_status` any 3) and written as they are (below): no parse.
                Kind::Integer if is_canonical_digits(raw) => true,
                Kind::Status if raw.len() == 3 && is_canonical_digits(raw) => true,
                Kind::Integer => {
                    number = grammar::parse_u64(raw);
                    number.is_some()
                }
                Kind::Status => {
                    number = grammar::parse_status(raw).map(u64::from);
                    number.is_some()
                }
                Kind::Ip => grammar::parse_ip(raw).is_some(),
                // ASCII is UTF-8: the word-at-a-time test first (tokens are ASCII), then
                // the full check (`from_utf8` was ~90 instructions a token; issue 13).
                Kind::Token => raw.is_ascii() || core::str::from_utf8(raw).is_ok(),
                Kind::IpList | Kind::Encoded | Kind::Bool | Kind::Decimal => true,
            };
            if !valid {
                out.truncate(start);
                return write_columns(record, options, prepared, false, out);
            }
        }
        if options.omit_absent && raw.is_none_or(|r| kind == Kind::Decimal && !is_json_number(r)) {
            continue;
        }
        match &prepared {
            // The key with its `,`, or from behind the `,` for the first one written.
            Some(Prepared { keys, starts, .. }) => copy_key(out, keys, starts[i] + usize::from(first), starts[i + 1]),
            None => {
                if !first {
                    out.push(b',');
                }
                write_str(out, column.name.as_bytes());
                out.push(b':');
            }
        }
        first = false;
        let Some(raw) = raw else {
            out.extend_from_slice(b"null");
            continue;
        };
        if options.anonymize_ip && column.field == Some(Field::ClientIp) {
            match crate::anonymize::truncated_ip_text(raw) {
                Some(t) => write_str(out, t.as_bytes()),
                None => write_str(out, raw),
            }
            continue;
        }
        if options.anonymize_ip && column.field == Some(Field::ForwardedFor) {
            write_forwarded_for(out, &decode::decode(raw, record.double_decode));
            continue;
        }
        match kind {
            Kind::EpochSeconds => {
                let ms = number.unwrap_or_else(|| grammar::parse_epoch_seconds_ms(raw).unwrap_or_default().unsigned_abs());
                write_fixed(out, ms, 1_000, 3);
            }
            Kind::Seconds => {
                let us = number.unwrap_or_else(|| grammar::parse_seconds_us(raw).unwrap_or_default());
                write_fixed(out, us, 1_000_000, 6);
            }
            Kind::EpochMillis => write_u64(out, grammar::parse_u64(raw).unwrap_or_default()),
            // A valid value in canonical digits is the text `write_u64` would write for it
            // (the parse and the formatting were ~100 instructions a number, 7 numbers a
            // record of the Lambda's enriched output; issue 13).
            Kind::Integer | Kind::Status if is_canonical_digits(raw) => copy_short(out, raw),
            Kind::Integer => write_u64(out, number.unwrap_or_else(|| grammar::parse_u64(raw).unwrap_or_default())),
            Kind::Status => write_u64(out, number.unwrap_or_else(|| u64::from(grammar::parse_status(raw).unwrap_or_default()))),
            Kind::Decimal if is_json_number(raw) => out.extend_from_slice(raw),
            // A valid address is hex digits, `.` and `:` (`parse_ip` accepts nothing else;
            // checked above): nothing to escape, no scan.
            Kind::Ip if in_place => write_plain_ascii(out, raw),
            Kind::Ip => write_str(out, raw),
            Kind::Token | Kind::Date | Kind::Time => write_str(out, raw),
            Kind::Encoded if !record.double_decode && let Some(p) = &mut prepared => p.cache[i].write(out, raw),
            Kind::Decimal | Kind::IpList | Kind::Encoded | Kind::Bool => write_decoded_str(out, raw, record.double_decode),
        }
    }
    out.push(b'}');
    Ok(())
}

/// `x-forwarded-for` with each address truncated (separators and anything that is not an
/// address kept as they are).
fn write_forwarded_for(out: &mut Vec<u8>, list: &[u8]) {
    let mut text: Vec<u8> = Vec::with_capacity(list.len());
    for (i, item) in list.split(|&b| b == b',').enumerate() {
        if i > 0 {
            text.push(b',');
        }
        let start = item.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(item.len());
        let end = item.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
        text.extend_from_slice(&item[..start]);
        match crate::anonymize::truncated_ip_text(&item[start..end]) {
            Some(t) => text.extend_from_slice(t.as_bytes()),
            None => text.extend_from_slice(&item[start..end]),
        }
        text.extend_from_slice(&item[end..]);
    }
    write_str(out, &text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    /// The escape of an ASCII byte (the first implementation, before [`JSON_ASCII`]) below 0x20, `"` or `\`.
    fn write_escape(out: &mut Vec<u8>, b: u8) {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
                return;
            }
        };
        out.extend_from_slice(escape);
    }

    /// The JSON string writer as it was first written: UTF-8 chunks, each byte of the valid
    /// part looked at on its own. The oracle for the block-at-a-time paths.
    fn reference_write_str(out: &mut Vec<u8>, s: &[u8]) {
        out.push(b'"');
        for chunk in s.utf8_chunks() {
            for &b in chunk.valid().as_bytes() {
                if b < 0x20 || b == b'"' || b == b'\\' {
                    write_escape(out, b);
                } else {
                    out.push(b);
                }
            }
            if !chunk.invalid().is_empty() {
                out.extend_from_slice("\u{FFFD}".as_bytes());
            }
        }
        out.push(b'"');
    }

    /// Text that exercises the block scan: mostly plain ASCII, with every kind of byte that
    /// needs attention, at lengths around the 16-byte blocks.
    fn text() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::prop_oneof![
            8 => 0x20u8..0x7f, 1 => proptest::prelude::Just(b'"'), 1 => proptest::prelude::Just(b'\\'),
            1 => 0u8..0x20, 1 => 0x80u8..=0xff, 1 => proptest::sample::select(alloc::vec![0xe6u8, 0x97, 0xa5, 0xc3, 0xa9])], 0..80)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// The block-at-a-time path writes exactly what the byte-by-byte UTF-8 loop (the
        /// first implementation) writes, behind any prefix, and the result is valid JSON for
        /// serde_json that reads back as the lossy UTF-8 of the input.
        #[test]
        fn fast_write_str_equals_the_utf8_loop(prefix in proptest::collection::vec(0x20u8..0x7f, 0..3), s in text()) {
            let mut fast = prefix.clone();
            write_str(&mut fast, &s);
            let mut slow = prefix.clone();
            reference_write_str(&mut slow, &s);
            proptest::prop_assert_eq!(&fast, &slow);
            let back: alloc::string::String = serde_json::from_slice(&fast[prefix.len()..]).expect("valid JSON");
            proptest::prop_assert_eq!(back, alloc::string::String::from_utf8_lossy(&s).into_owned());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// The word masks flag exactly the bytes the byte tests flag, and the 8 bits taken
        /// from a mask are its bytes in order.
        #[test]
        fn word_masks_flag_what_byte_tests_flag(word in proptest::prelude::any::<[u8; 8]>(), c in proptest::prelude::any::<u8>()) {
            let w = u64::from_le_bytes(word);
            let mut escape = 0;
            let mut eq = 0;
            for (j, &b) in word.iter().enumerate() {
                escape |= u32::from(needs_escape(b)) << j;
                eq |= u32::from(b == c) << j;
            }
            proptest::prop_assert_eq!(movemask(escape_word(w)), escape);
            proptest::prop_assert_eq!(movemask(eq_word(w, c)), eq);
            proptest::prop_assert_eq!(movemask(w & HIGH), word.iter().enumerate().fold(0, |m, (j, &b)| m | u32::from(b >= 0x80) << j));
        }

        /// The block masks `Flags` takes from cflog-simd flag exactly what each caller's
        /// byte test flags (`write_str`'s with and without UTF-8, `write_decoded_ascii`'s).
        #[test]
        fn block_masks_flag_what_byte_tests_flag(block in proptest::prelude::any::<[u8; 16]>(), pick in proptest::collection::vec((0usize..16, proptest::sample::select(alloc::vec![0u8, 0x1f, 0x20, b'"', b'%', b'\\', 0x7f, 0x80, 0xff])), 0..6)) {
            let mut block = block;
            for (k, b) in pick {
                block[k] = b;
            }
            let bits = |flag: &dyn Fn(u8) -> bool| block.iter().enumerate().fold(0u32, |m, (j, &b)| m | u32::from(flag(b)) << j);
            proptest::prop_assert_eq!(cflog_simd::json_block::<true, false>(&block), bits(&|b| needs_escape(b) | (b >= 0x80)));
            proptest::prop_assert_eq!(cflog_simd::json_block::<false, false>(&block), bits(&needs_escape));
            proptest::prop_assert_eq!(cflog_simd::json_block::<true, true>(&block), bits(&|b| (b == b'%') | (b >= 0x80) | needs_escape(b)));
        }
    }

    /// `copy_short` appends exactly its text, at every length around its word sizes.
    #[test]
    fn copy_short_appends_the_text() {
        let text: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
        for from in 0..4 {
            for n in 0..40 {
                let mut out = b"<".to_vec();
                copy_short(&mut out, &text[from..from + n]);
                assert_eq!(&out[1..], &text[from..from + n], "{from} {n}");
                assert_eq!(out[0], b'<');
            }
        }
    }

    /// The table holds, for every ASCII byte, what `write_escape` writes for it (or the
    /// byte itself when it needs no escape).
    #[test]
    fn json_ascii_table_is_write_escape() {
        for b in 0..0x80u8 {
            let mut want = Vec::new();
            if needs_escape(b) {
                write_escape(&mut want, b);
            } else {
                want.push(b);
            }
            let mut got = b"x".to_vec();
            push_json_ascii(&mut got, b);
            assert_eq!(&got[1..], &want[..], "{b:#x}");
        }
    }

    #[test]
    fn decoded_strings_escape_as_json_requires() {
        let cases: [(&[u8], &[u8]); 5] = [
            // RFC 8259: quote, backslash and control characters escaped, the short forms
            // where JSON has them; DEL and `/` as they are.
            (b"host:a%0Aua:b%0D%09", br#""host:a\nua:b\r\t""#),
            (b"%22q%22%5C%01%1F%7F/", b"\"\\\"q\\\"\\\\\\u0001\\u001f\x7f/\""),
            (b"%0A", br#""\n""#),
            (b"caf%C3%A9%0A", "\"café\\n\"".as_bytes()),
            (b"bad%FF%0A", "\"bad\u{FFFD}\\n\"".as_bytes()),
        ];
        for (raw, want) in cases {
            let mut out = b"{".to_vec();
            write_decoded_str(&mut out, raw, false);
            assert_eq!(core::str::from_utf8(&out[1..]), core::str::from_utf8(want), "{}", alloc::string::String::from_utf8_lossy(raw));
        }
    }

    /// `s` written by `write_decoded_str` and by decoding then escaping it (the previous
    /// implementation), each behind `prefix`.
    fn decoded_both_ways(prefix: &[u8], s: &[u8], double: bool) -> (Vec<u8>, Vec<u8>) {
        let mut fast = prefix.to_vec();
        write_decoded_str(&mut fast, s, double);
        let mut slow = prefix.to_vec();
        reference_write_str(&mut slow, &decode::decode(s, double));
        (fast, slow)
    }

    /// `writer` writes `record` as `write_record_with` does: the same bytes and result, and
    /// nothing at all on error.
    fn writes_as_write_record_with(writer: &mut RecordWriter, record: &crate::Record<'_>, options: JsonOptions) -> Result<(), proptest::test_runner::TestCaseError> {
        let (mut want, mut got) = (b"[".to_vec(), b"[".to_vec());
        let want_result = write_record_with(record, options, &mut want);
        let got_result = writer.write(record, &mut got);
        proptest::prop_assert_eq!(&got_result, &want_result);
        proptest::prop_assert_eq!(core::str::from_utf8(&got), core::str::from_utf8(&want));
        if want_result.is_err() {
            proptest::prop_assert_eq!(&got[..], b"[");
        }
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Decoding in place behind the quote writes exactly what decoding into a new
        /// buffer and escaping it writes (the previous implementation), once and twice,
        /// for text that needs escapes or holds non-ASCII after decoding too.
        #[test]
        fn decoded_str_equals_decode_then_write_str(
            prefix in proptest::collection::vec(0x20u8..0x7f, 0..4),
            s in proptest::collection::vec(proptest::prop_oneof![
                6 => 0x20u8..0x7f, 3 => proptest::prelude::Just(b'%'),
                3 => proptest::sample::select(b"0123456789abcdefACF".to_vec()), 1 => proptest::prelude::any::<u8>(),
                1 => proptest::sample::select(b"\"\\\n".to_vec())], 0..80),
            double in proptest::prelude::any::<bool>(),
        ) {
            let (fast, slow) = decoded_both_ways(&prefix, &s, double);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Long header-like texts (`cs-headers`: runs of a few bytes between `%XX` escapes,
        /// some decoding to `"`, `\\` or control bytes, some raw control bytes, which do
        /// not fit the cursor writer's room and go the other way): what decoding into a new
        /// buffer and escaping it writes, behind any prefix.
        #[test]
        fn long_decoded_str_equals_decode_then_write_str(
            prefix in proptest::collection::vec(0x20u8..0x7f, 0..40),
            parts in proptest::collection::vec(proptest::prop_oneof![
                6 => "[a-z:;=,/. -]{1,12}".prop_map(alloc::string::String::into_bytes),
                4 => proptest::sample::select(alloc::vec!["%20", "%22", "%0A", "%5C", "%3A", "%01", "%7F", "%2", "%"]).prop_map(|e| e.as_bytes().to_vec()),
                1 => proptest::sample::select(alloc::vec![b"\"", b"\\", b"\x01", b"\t"]).prop_map(|b| b.to_vec()),
                1 => proptest::sample::select(alloc::vec!["%C3%A9", "\u{e9}"]).prop_map(|e| e.as_bytes().to_vec())], 0..200),
        ) {
            let (fast, slow) = decoded_both_ways(&prefix, &parts.concat(), false);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Every text `parse_ip` accepts is hex digits, `.` and `:`, so writing an address
        /// without a scan (`write_plain_ascii`) writes what `write_str` writes: address-like
        /// text (printed addresses, near misses, other bytes among them).
        #[test]
        fn valid_addresses_need_no_escaping(
            t in proptest::prop_oneof![
                proptest::prelude::any::<core::net::Ipv4Addr>().prop_map(|a| alloc::format!("{a}").into_bytes()),
                proptest::prelude::any::<core::net::Ipv6Addr>().prop_map(|a| alloc::format!("{a}").into_bytes()),
                proptest::collection::vec(proptest::sample::select(b"0123456789abcdefABCDEF:.%\"\\ g\x01\xff".to_vec()), 0..40),
            ],
        ) {
            if grammar::parse_ip(&t).is_some() {
                let (mut plain, mut scanned) = (Vec::new(), Vec::new());
                write_plain_ascii(&mut plain, &t);
                write_str(&mut scanned, &t);
                proptest::prop_assert_eq!(plain, scanned);
                proptest::prop_assert!(t.iter().all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':'));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// `write_plain_window` writes what `write_str` writes (and, with `PERCENT`, what
        /// `write_decoded_str` writes decoding once and twice), or nothing; and it writes
        /// whenever the value is 1 to 30 bytes of plain text with 32 bytes of text from its
        /// start: values of every length at every place, with escapes, `%`, high bytes.
        #[test]
        fn plain_window_writes_what_write_str_writes(
            text in proptest::collection::vec(proptest::sample::select(b"abcXYZ09-/.:_ %\"\\\n\x01\x1f\x7f\x80\xc3\xa9\xff".to_vec()), 0..70),
            from in 0usize..70,
            len in 0usize..40,
            plain in proptest::prelude::any::<bool>(),
        ) {
            // Half the cases on text of plain bytes only, so that the writing path is taken.
            let text: Vec<u8> = if plain { text.iter().map(|&b| if b.is_ascii_alphanumeric() { b } else { b'x' }).collect() } else { text };
            let from = from.min(text.len());
            let to = (from + len).min(text.len());
            let raw = &text[from..to];
            let flagged = |percent: bool| raw.iter().any(|&b| needs_escape(b) || b >= 0x80 || (percent && b == b'%'));
            for percent in [false, true] {
                let mut got = b"[".to_vec();
                let wrote = if percent { write_plain_window::<true>(&mut got, &text, from, to) } else { write_plain_window::<false>(&mut got, &text, from, to) };
                let should = !raw.is_empty() && raw.len() <= 30 && from + 32 <= text.len() && !flagged(percent);
                proptest::prop_assert_eq!(wrote, should);
                if wrote {
                    let mut want = b"[".to_vec();
                    write_str(&mut want, raw);
                    proptest::prop_assert_eq!(&got, &want);
                    if percent {
                        for double in [false, true] {
                            let mut decoded = b"[".to_vec();
                            write_decoded_str(&mut decoded, raw, double);
                            proptest::prop_assert_eq!(&got, &decoded);
                        }
                    }
                } else {
                    proptest::prop_assert_eq!(&got[..], b"[");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]
        /// The 64-byte window (long tokens) writes what `write_str` writes, or nothing; and
        /// it writes whenever the value is 1 to 62 bytes of plain text with 64 bytes of text
        /// from its start: values of every length at every place, flagged bytes anywhere.
        #[test]
        fn long_plain_window_writes_what_write_str_writes(
            text in proptest::collection::vec(proptest::sample::select(b"abcXYZ09-/.:_ %\"\\\n\x01\x1f\x7f\x80\xc3\xa9\xff".to_vec()), 0..140),
            from in 0usize..140,
            len in 0usize..70,
            plain in 0u8..4,
            (at, flagged_byte) in (0usize..70, proptest::sample::select(b"\"\\\n\x01\x7f\x80\xff".to_vec())),
        ) {
            // Most cases on text of plain bytes, some with one flagged byte anywhere, so
            // that both answers are common at every length and in every block.
            let mut text: Vec<u8> = if plain > 0 { text.iter().map(|&b| if b.is_ascii_alphanumeric() { b } else { b'x' }).collect() } else { text };
            if plain == 1 && !text.is_empty() {
                let at = (from + at).min(text.len() - 1);
                text[at] = flagged_byte;
            }
            let from = from.min(text.len());
            let to = (from + len).min(text.len());
            let raw = &text[from..to];
            let flagged = raw.iter().any(|&b| needs_escape(b) || b >= 0x80);
            let mut got = b"[".to_vec();
            let mut cursor = Cursor::new(&mut got, 64, 0);
            let wrote = cursor.plain_window::<64, false>(&text, from, to);
            cursor.finish();
            let should = !raw.is_empty() && raw.len() <= 62 && from + 64 <= text.len() && !flagged;
            proptest::prop_assert_eq!(wrote, should);
            if wrote {
                let mut want = b"[".to_vec();
                write_str(&mut want, raw);
                proptest::prop_assert_eq!(&got, &want);
            } else {
                proptest::prop_assert_eq!(&got[..], b"[");
            }
        }
    }

    #[test]
    fn fixed_point() {
        let mut v = Vec::new();
        write_fixed(&mut v, 140_000, 1_000_000, 6);
        assert_eq!(v, b"0.14");
        v.clear();
        write_fixed(&mut v, 1_607_374_321_541, 1000, 3);
        assert_eq!(v, b"1607374321.541");
        v.clear();
        write_fixed(&mut v, 1_000_005, 1_000_000, 6);
        assert_eq!(v, b"1.000005");
        v.clear();
        write_fixed(&mut v, 3_000, 1_000, 3);
        assert_eq!(v, b"3");
    }

    proptest::proptest! {
        /// Canonical digits are exactly the texts that `write_u64` writes back unchanged
        /// after `parse_u64` (and, three of them, after `parse_status`): digits with and
        /// without leading zeros, signs, spaces, 19 and 20 digits.
        #[test]
        fn canonical_digits_are_the_written_number(raw in "[0-9]{1,20}|0[0-9]{0,4}|[+ -]?[1-9][0-9]{0,3}|[0-9]{1,3}[ .a]|") {
            let raw = raw.as_bytes();
            let round_trip = |n: Option<u64>| n.map(|n| {
                let mut v = Vec::new();
                write_u64(&mut v, n);
                v
            });
            let written = round_trip(grammar::parse_u64(raw));
            let same = written.as_deref() == Some(raw);
            proptest::prop_assert_eq!(is_canonical_digits(raw), same && raw.len() <= 19, "{:?}", raw);
            if is_canonical_digits(raw) && raw.len() == 3 {
                let status = round_trip(grammar::parse_status(raw).map(u64::from));
                proptest::prop_assert_eq!(status.as_deref(), Some(raw));
            }
        }
    }

    /// Around every power of ten (where the digit pairs and the last single digit meet) and
    /// at the ends, as `format!` writes them.
    #[test]
    fn numbers_at_digit_boundaries() {
        let mut ns = alloc::vec![0, u64::MAX, u64::MAX - 1];
        for k in 0..20 {
            let p = 10u64.pow(k);
            ns.extend([p - 1, p, p + 1, p.saturating_mul(5)]);
        }
        for n in ns {
            let mut v = Vec::new();
            write_u64(&mut v, n);
            assert_eq!(v, alloc::format!("{n}").as_bytes(), "{n}");
        }
    }

    proptest::proptest! {
        #[test]
        fn numbers_are_written_as_format_writes_them(n in proptest::prelude::any::<u64>(), small in 0u64..100_000, scale_digits in 1usize..=6, length in 1u32..=20) {
            // Numbers of every length (`n` alone is almost always 19 or 20 digits long).
            let low = if length == 1 { 0 } else { 10u64.pow(length - 1) };
            let high = if length == 20 { u64::MAX } else { 10u64.pow(length) - 1 };
            let of_length = low + n % (high - low + 1);
            for n in [n, small, n >> 32, of_length] {
                let mut v = alloc::vec![b'x'];
                write_u64(&mut v, n);
                let want = alloc::format!("{n}");
                proptest::prop_assert_eq!(&v[1..], want.as_bytes());
                // The oracle: every decimal, then trailing zeros and a bare `.` cut off.
                let scale = 10u64.pow(scale_digits as u32);
                let mut fixed = alloc::vec![b'x'];
                write_fixed(&mut fixed, n, scale, scale_digits);
                let full = alloc::format!("{}.{:0w$}", n / scale, n % scale, w = scale_digits);
                let want = full.trim_end_matches('0').trim_end_matches('.');
                proptest::prop_assert_eq!(&fixed[1..], want.as_bytes());
            }
        }
    }

    #[test]
    fn absent_values_are_null_or_left_out() {
        use crate::{Parser, RecordBuf, Schema};
        let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "cmcd-buffer-length", "cmcd-deadline"]).unwrap();
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        let record = parser.parse_line(b"1607374321.541\t-\t200\t1.\t2.5", &mut buf).unwrap().unwrap();
        let mut v = Vec::new();
        write_record(&record, &mut v).unwrap();
        assert_eq!(
            core::str::from_utf8(&v).unwrap(),
            r#"{"timestamp":1607374321.541,"c-ip":null,"sc-status":200,"cmcd-buffer-length":"1.","cmcd-deadline":2.5}"#
        );
        v.clear();
        write_record_with(&record, JsonOptions::default().omit_absent(true), &mut v).unwrap();
        assert_eq!(core::str::from_utf8(&v).unwrap(), r#"{"timestamp":1607374321.541,"sc-status":200,"cmcd-deadline":2.5}"#);
        // Nothing present at all still makes an object.
        let schema = Schema::from_field_names(&["c-ip"]).unwrap();
        let mut parser = Parser::realtime(schema);
        let record = parser.parse_line(b"-", &mut buf).unwrap().unwrap();
        v.clear();
        write_record_with(&record, JsonOptions::default().omit_absent(true), &mut v).unwrap();
        assert_eq!(v, b"{}");
    }

    #[test]
    fn record_writer_writes_what_write_record_with_writes() {
        use crate::{Parser, RecordBuf};
        let names = ["timestamp", "c-ip", "sc-status", "cs-user-agent", "cs-headers", "cmcd-deadline"];
        let line: &[u8] = b"1607374321.541\t1.2.3.4\t200\tMozilla/5.0%20(X%22)\thost:a%0Aua:b\t-";
        let other = Schema::from_field_names(&names[..5]).unwrap();
        let other_line = &line[..line.len() - 2];
        for options in [JsonOptions::default(), JsonOptions::default().omit_absent(true).anonymize_ip(true)] {
            let mut writer = RecordWriter::new(&Schema::from_field_names(&names).unwrap(), options);
            for (schema, line) in [(Schema::from_field_names(&names).unwrap(), line), (other.clone(), other_line)] {
                let mut parser = Parser::realtime(schema);
                let mut buf = RecordBuf::new();
                let record = parser.parse_line(line, &mut buf).unwrap().unwrap();
                let (mut want, mut got) = (b"[".to_vec(), b"[".to_vec());
                write_record_with(&record, options, &mut want).unwrap();
                writer.write(&record, &mut got).unwrap();
                assert_eq!(core::str::from_utf8(&got), core::str::from_utf8(&want));
            }
        }
        let mut writer = RecordWriter::new(&Schema::from_field_names(&names).unwrap(), JsonOptions::default());
        let mut parser = Parser::realtime(Schema::from_field_names(&names).unwrap());
        let mut buf = RecordBuf::new();
        let record = parser.parse_line(line, &mut buf).unwrap().unwrap();
        let mut v = Vec::new();
        writer.write(&record, &mut v).unwrap();
        assert_eq!(
            core::str::from_utf8(&v).unwrap(),
            r#"{"timestamp":1607374321.541,"c-ip":"1.2.3.4","sc-status":200,"cs-user-agent":"Mozilla/5.0 (X\")","cs-headers":"host:a\nua:b","cmcd-deadline":null}"#
        );
    }

    proptest::proptest! {
        /// A writer that checks each typed value where it writes it gives the bytes and the
        /// error of `write_record_with` (which validates first), and appends nothing on error:
        /// every typed kind of the real-time layout, each valid, invalid or absent.
        #[test]
        fn record_writer_checks_in_place_as_validate_does(
            values in (
                proptest::sample::select(alloc::vec!["1607374321.541", "1607374321", "x", "-", "1.5e3"]),
                proptest::sample::select(alloc::vec!["1.2.3.4", "2001:db8::1", "1.2.3", "-", "abc"]),
                proptest::sample::select(alloc::vec!["200", "000", "20", "abc", "-"]),
                proptest::sample::select(alloc::vec!["0", "123", "-1", "1.5", "-"]),
                proptest::sample::select(alloc::vec!["0.140", "1", "x", "-", "0.1234567"]),
                proptest::sample::select(alloc::vec!["NRT57-C1", "N\u{e9}", "-"]),
                proptest::sample::select(alloc::vec!["Mozilla/5.0%20(X%22)", "-"]),
                proptest::sample::select(alloc::vec!["2.5", "1.", "-"]),
            ),
            non_utf8_edge in proptest::prelude::any::<bool>(),
        ) {
            use crate::{Parser, RecordBuf, Schema};
            let names = ["timestamp", "c-ip", "sc-status", "sc-bytes", "time-taken", "x-edge-location", "cs-user-agent", "cmcd-deadline"];
            let schema = Schema::from_field_names(&names).unwrap();
            let (a, b, c, d, e, f, g, h) = values;
            let mut line = [a, b, c, d, e, f, g, h].join("\t").into_bytes();
            if non_utf8_edge && f == "N\u{e9}" {
                // Latin-1 é: not UTF-8, which a token must be.
                let at = line.iter().position(|&x| x == 0xc3).unwrap();
                line.splice(at..at + 2, [0xe9]);
            }
            for options in [JsonOptions::default(), JsonOptions::default().omit_absent(true).anonymize_ip(true)] {
                let mut writer = RecordWriter::new(&schema, options);
                proptest::prop_assert!(writer.checks_in_place);
                let mut parser = Parser::realtime(schema.clone());
                let mut buf = RecordBuf::new();
                let record = parser.parse_line(&line, &mut buf).unwrap().unwrap();
                writes_as_write_record_with(&mut writer, &record, options)?;
            }
        }
    }

    /// Encoded values for the cache tests: equal lengths (a table keyed on less than the
    /// whole value would mix them up), escapes, non-ASCII, invalid UTF-8 and plain text.
    fn cached_value() -> impl proptest::strategy::Strategy<Value = alloc::string::String> {
        proptest::prop_oneof![
            3 => proptest::sample::select(alloc::vec![
                "Mozilla/5.0%20(X11;%20Linux)%22a%22", "Mozilla/5.0%20(X11;%20Linux)%22b%22", "Mozilla/5.0%20(X11;%20Linux)%5Cb%22",
                "caf%C3%A9%20caf%C3%A9%20caf%C3%A9%0A", "bad%FF%20bad%FF%20bad%FF%20bad%FF%0A", "plain-text-without-any-escapes",
                "short%20one", "-",
            ]).prop_map(alloc::string::String::from),
            1 => "[a-z%0-9A-F\"]{0,40}",
        ]
    }

    proptest::proptest! {
        /// The writer's table of repeating values gives the bytes `write_record_with` writes,
        /// record after record, for values seen before and new ones, in any order.
        #[test]
        fn record_writer_cache_writes_what_write_record_with_writes(
            rows in proptest::collection::vec((cached_value(), cached_value()), 1..40),
        ) {
            use crate::{Parser, RecordBuf, Schema};
            let schema = Schema::from_field_names(&["sc-status", "cs-user-agent", "cs-headers"]).unwrap();
            let mut writer = RecordWriter::new(&schema, JsonOptions::default().omit_absent(true));
            let mut parser = Parser::realtime(schema);
            let mut buf = RecordBuf::new();
            for (ua, headers) in &rows {
                let line = alloc::format!("200\t{ua}\t{headers}");
                let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
                let (mut want, mut got) = (Vec::new(), Vec::new());
                write_record_with(&record, JsonOptions::default().omit_absent(true), &mut want).unwrap();
                writer.write(&record, &mut got).unwrap();
                proptest::prop_assert_eq!(core::str::from_utf8(&got), core::str::from_utf8(&want));
            }
        }
    }

    /// Past the trial, a column of repeating values is still found in the table and one of
    /// differing values is written directly; both still write what `write_record_with` does.
    #[test]
    fn record_writer_cache_keeps_repeating_columns_only() {
        use crate::{Parser, RecordBuf, Schema};
        let schema = Schema::from_field_names(&["cs-user-agent", "cs-headers"]).unwrap();
        let mut writer = RecordWriter::new(&schema, JsonOptions::default());
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        for i in 0..600 {
            let line = alloc::format!("Mozilla/5.0%20(agent%20{})\thost:h{i}.example%0Aa:%22b%22", i % 3);
            let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            write_record_with(&record, JsonOptions::default(), &mut want).unwrap();
            writer.write(&record, &mut got).unwrap();
            assert_eq!(core::str::from_utf8(&got), core::str::from_utf8(&want));
        }
        let (agents, headers) = (&writer.cache[0], &writer.cache[1]);
        assert_eq!((agents.lookups, agents.hits, agents.texts.len()), (600, 597, 3));
        assert_eq!((headers.lookups, headers.hits), (ValueCache::TRIAL, 0));
    }

    /// Values for a column of `kind`: valid ones (absent, escapes, non-ASCII, invalid UTF-8
    /// in encoded text among them), then ones its check refuses.
    fn values_of_kind(kind: Kind) -> (&'static [&'static str], &'static [&'static str]) {
        match kind {
            Kind::EpochSeconds => (&["1607374321.541", "1607374321", "-", "1607374321.5"], &["x", "1.5e3"]),
            Kind::EpochMillis => (&["1607374321541", "-"], &["12a"]),
            Kind::Date => (&["2020-12-07", "-"], &["2020-13-07"]),
            Kind::Time => (&["21:52:01", "-"], &["25:00:00"]),
            Kind::Seconds => (&["0.140", "1", "-", "0.000001", "12.5"], &["x"]),
            Kind::Integer => (&["0", "123", "007", "-", "18446744073709551615"], &["-1", "1.5"]),
            Kind::Status => (&["200", "000", "-", "099"], &["20", "abc"]),
            Kind::Ip => (&["1.2.3.4", "2001:db8::1", "-", "::ffff:1.2.3.4"], &["1.2.3", "abc"]),
            Kind::Token => (&["NRT57-C1", "N\u{e9}", "a\"b\\c", "-", ""], &["N\u{e9}"]),
            Kind::Decimal => (&["2.5", "1.", "-", "abc", "-0.5"], &[]),
            Kind::IpList => (&["1.2.3.4,%205.6.7.8", "2001:db8::1", "-", "x%2Cy", "1.2.3.4,%20%2D"], &[]),
            _ => (&["Mozilla/5.0%20(X%22)", "%25252F", "caf%C3%A9", "-", "a%0Ab%5C%09", "plain/text/longer/than/sixteen", "bad%FF", "%2"], &[]),
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// The plan's walk (every field at its own column, every column's bounds recorded)
        /// writes what `write_record_with` writes and answers its error, for every field of
        /// both formats, every option, decoding once or twice, with every value valid or one
        /// refused; and so does a writer given records whose later bounds were not recorded
        /// (a parser reading one field).
        #[test]
        fn record_writer_plan_writes_what_write_record_with_writes(
            picks in proptest::collection::vec(0usize..64, 80),
            refused in proptest::option::of(0usize..80),
            standard in proptest::prelude::any::<bool>(),
            double in proptest::prelude::any::<bool>(),
            lazy in proptest::prelude::any::<bool>(),
        ) {
            use crate::{Parser, RecordBuf, Schema};
            let schema = if standard { Schema::standard_default() } else { Schema::realtime_all() };
            let mut line = alloc::string::String::new();
            for (i, (column, &k)) in schema.columns().iter().zip(&picks).enumerate() {
                let (valid, invalid) = values_of_kind(column_kind(column));
                let value = if refused == Some(i) && !invalid.is_empty() { invalid[k % invalid.len()] } else { valid[k % valid.len()] };
                if i > 0 {
                    line.push('\t');
                }
                line.push_str(value);
            }
            let mut line = line.into_bytes();
            // A Latin-1 é where a token's refused value is: not UTF-8.
            if let Some(at) = line.windows(2).position(|w| w == [0xc3, 0xa9]).filter(|_| refused.is_some()) {
                line.splice(at..at + 2, [0xe9]);
            }
            for options in [JsonOptions::default(), JsonOptions::default().omit_absent(true), JsonOptions::default().anonymize_ip(true), JsonOptions::default().omit_absent(true).anonymize_ip(true)] {
                let mut writer = RecordWriter::new(&schema, options);
                proptest::prop_assert!(!writer.plan.is_empty());
                let mut parser = Parser::realtime(schema.clone()).double_decode(double);
                if lazy {
                    parser = parser.reading(&[Field::Status]);
                }
                let mut buf = RecordBuf::new();
                let record = parser.parse_line(&line, &mut buf).unwrap().unwrap();
                writes_as_write_record_with(&mut writer, &record, options)?;
            }
        }
    }

    /// Hostile text for a column: long plain runs, escapes that decode to control bytes
    /// (6 bytes of JSON from 3), raw control bytes, quotes, backslashes, non-ASCII and
    /// bytes that are not UTF-8, so that a record's JSON outgrows the room its cursor
    /// makes first and values go every way (window, cursor, `Vec`).
    fn hostile_value() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::prop_oneof![
            2 => "[A-Za-z0-9._/=-]{1,70}".prop_map(alloc::string::String::into_bytes),
            3 => proptest::collection::vec(proptest::prop_oneof![
                4 => "[a-z:;=,/. -]{1,12}".prop_map(alloc::string::String::into_bytes),
                4 => proptest::sample::select(alloc::vec!["%01", "%0A", "%22", "%5C", "%20", "%7F", "%2", "%"]).prop_map(|e| e.as_bytes().to_vec()),
                1 => proptest::sample::select(alloc::vec![&b"\""[..], b"\\", b"\x01", b"\x1f", "\u{e9}".as_bytes(), b"\xff", b"%C3%A9", b"%FF"]).prop_map(|b| b.to_vec()),
            ], 1..150).prop_map(|parts| parts.concat()),
            1 => proptest::collection::vec(proptest::sample::select(alloc::vec![b'\x01', b'%', b'0', b'1']), 1..400),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// The plan's cursor writes what `write_record_with` writes on hostile values: a
        /// layout with a key longer than 32 bytes, long and escaped tokens and encoded text
        /// whose JSON outgrows the first room, typed values valid or refused, every option,
        /// decoding once or twice, behind a prefix; and a layout with a key too long for a
        /// plan step goes the general way with the same bytes.
        #[test]
        fn record_writer_cursor_writes_what_write_record_with_writes_on_hostile_values(
            values in proptest::collection::vec(hostile_value(), 12),
            picks in proptest::collection::vec(0usize..8, 12),
            double in proptest::prelude::any::<bool>(),
            long_unknown in proptest::prelude::any::<bool>(),
        ) {
            use crate::{Parser, RecordBuf, Schema};
            let names = ["timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method", "x-edge-request-id", "cs-user-agent", "cs-headers", "x-forwarded-for", "cmcd-requested-maximum-throughput", "cs-uri-query"];
            let schema = if long_unknown {
                let mut names: Vec<&str> = alloc::vec!["date", "time", "c-ip", "cs-uri-stem", "sc-status", "x-edge-request-id", "cs(User-Agent)", "a-column-this-version-does-not-know-with-a-name-this-long", "time-taken", "x-forwarded-for", "cs-uri-query", "sc-content-len"];
                names.truncate(12);
                Schema::standard(&names).unwrap()
            } else {
                Schema::realtime_ordered(&names).unwrap()
            };
            let mut line = Vec::new();
            for (i, column) in schema.columns().iter().enumerate() {
                if i > 0 {
                    line.push(b'\t');
                }
                let kind = column_kind(column);
                let (valid, invalid) = values_of_kind(kind);
                // Text columns hostile; typed ones a valid value mostly, sometimes refused.
                if matches!(kind, Kind::Encoded | Kind::Token | Kind::IpList) && picks[i] < 6 {
                    line.extend_from_slice(&values[i]);
                } else if picks[i] == 7 && !invalid.is_empty() {
                    line.extend_from_slice(invalid[0].as_bytes());
                } else {
                    line.extend_from_slice(valid[picks[i] % valid.len()].as_bytes());
                }
            }
            for options in [JsonOptions::default(), JsonOptions::default().omit_absent(true), JsonOptions::default().anonymize_ip(true), JsonOptions::default().omit_absent(true).anonymize_ip(true)] {
                let mut writer = RecordWriter::new(&schema, options);
                proptest::prop_assert_eq!(writer.plan.is_empty(), long_unknown);
                let mut parser = Parser::realtime(schema.clone()).double_decode(double);
                let mut buf = RecordBuf::new();
                let record = parser.parse_line(&line, &mut buf).unwrap().unwrap();
                // Twice: the second time the cache holds the values of the first.
                writes_as_write_record_with(&mut writer, &record, options)?;
                writes_as_write_record_with(&mut writer, &record, options)?;
            }
        }
    }

    /// A layout with a field twice checks the field's first column, as `validate` does.
    #[test]
    fn record_writer_with_a_field_twice_validates_first() {
        use crate::Schema;
        if let Ok(schema) = Schema::from_field_names(&["sc-status", "sc-status"]) {
            assert!(!RecordWriter::new(&schema, JsonOptions::default()).checks_in_place);
        }
        let schema = Schema::from_field_names(&["sc-status", "cs-user-agent"]).unwrap();
        assert!(RecordWriter::new(&schema, JsonOptions::default()).checks_in_place);
    }

    #[test]
    fn strings_and_numbers() {
        let mut v = Vec::new();
        write_str(&mut v, b"a\"b\\c\nd\x01\xff");
        assert_eq!(core::str::from_utf8(&v).unwrap(), "\"a\\\"b\\\\c\\nd\\u0001\u{FFFD}\"");
        assert!(is_json_number(b"0.5"));
        assert!(is_json_number(b"-12"));
        assert!(!is_json_number(b"007"));
        assert!(!is_json_number(b"1."));
        assert!(!is_json_number(b"abc"));
    }
}
