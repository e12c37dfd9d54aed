//! The wire format shared by host and guest (ABI version 1). `docs/plugin-abi.md` is the
//! normative description; this module is the reference encoder and decoder, used by the
//! guest SDK and by `cflog-plugin-host` alike, so the two cannot drift apart.
//!
//! All integers are little-endian. A batch in (host → guest):
//!
//! ```text
//! u32 count
//! u32 end[count]        end offset of each record's line, relative to the first data byte
//! u8  data[..]          the lines, back to back, no separators
//! ```
//!
//! Each line is a real-time log line (tab-separated) holding exactly the fields of the
//! schema given at init, in that order; a field the source log lacks is `-`.
//!
//! The result out (guest → host), one entry per input record, in order:
//!
//! ```text
//! u32 count             must equal the batch count
//! per record:
//!   u8 flags            bit 0: drop the record; other bits must be 0
//!   u8 tag_count
//!   u8 label_count
//!   tag_count   × { u8 key_len, key, u16 value_len, value }
//!   label_count × { u8 key_len, key, f64 value }
//! ```
//!
//! Keys are 1..=64 bytes of `[A-Za-z0-9_.:-]`; values are UTF-8, at most 1,024 bytes;
//! label values are finite.

use alloc::vec::Vec;

/// The ABI version this crate speaks; a guest exports it from `cflog_abi_version`.
pub const ABI_VERSION: i32 = 1;
/// Longest tag or label key.
pub const MAX_KEY_LEN: usize = 64;
/// Longest tag value.
pub const MAX_VALUE_LEN: usize = 1024;
/// Most tags (and, separately, labels) one record may carry.
pub const MAX_PER_RECORD: usize = 255;
/// Flag bit: the rule asks for the record to be dropped.
pub const FLAG_DROP: u8 = 1;

/// Whether `key` is a valid tag or label key.
pub fn valid_key(key: &[u8]) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// Builds a batch (host side, and the SDK's native test runner).
#[derive(Debug, Default, Clone)]
pub struct BatchWriter {
    ends: Vec<u32>,
    data: Vec<u8>,
    line_open: bool,
}

impl BatchWriter {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.data.clear();
        self.line_open = false;
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch holds no record.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends one whole line.
    pub fn push_line(&mut self, line: &[u8]) {
        self.data.extend_from_slice(line);
        self.ends.push(self.data.len() as u32);
    }

    /// Appends one field to the line being built (a tab goes between fields).
    pub fn push_field(&mut self, value: &[u8]) {
        if self.line_open {
            self.data.push(b'\t');
        }
        self.line_open = true;
        self.data.extend_from_slice(value);
    }

    /// Closes the line being built.
    pub fn end_line(&mut self) {
        self.line_open = false;
        self.ends.push(self.data.len() as u32);
    }

    /// Bytes the encoded batch takes.
    pub fn encoded_len(&self) -> usize {
        4 + 4 * self.ends.len() + self.data.len()
    }

    /// Writes the encoded batch into `out` (exactly [`encoded_len`](Self::encoded_len) bytes).
    pub fn encode_into(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&(self.ends.len() as u32).to_le_bytes());
        let mut at = 4;
        for e in &self.ends {
            out[at..at + 4].copy_from_slice(&e.to_le_bytes());
            at += 4;
        }
        out[at..at + self.data.len()].copy_from_slice(&self.data);
    }

    /// The encoded batch as a new vector.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = alloc::vec![0u8; self.encoded_len()];
        self.encode_into(&mut v);
        v
    }
}

/// Why a batch or a result could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The buffer ends before the structure does.
    Truncated,
    /// A line end lies before the previous one or past the data.
    BadOffset,
    /// The result holds another number of records than the batch.
    CountMismatch {
        /// Records sent.
        expected: u32,
        /// Records returned.
        found: u32,
    },
    /// Reserved flag bits are set.
    BadFlags,
    /// A key is empty, too long or has a byte outside `[A-Za-z0-9_.:-]`.
    BadKey,
    /// A value is not UTF-8 or is too long.
    BadValue,
    /// A label is NaN or infinite.
    BadLabel,
    /// Bytes follow the last record.
    TrailingBytes,
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WireError::Truncated => f.write_str("truncated"),
            WireError::BadOffset => f.write_str("line offsets out of order or out of bounds"),
            WireError::CountMismatch { expected, found } => {
                write!(f, "{found} results for {expected} records")
            }
            WireError::BadFlags => f.write_str("reserved flag bits set"),
            WireError::BadKey => f.write_str("invalid key"),
            WireError::BadValue => f.write_str("value not UTF-8 or too long"),
            WireError::BadLabel => f.write_str("label not finite"),
            WireError::TrailingBytes => f.write_str("bytes after the last record"),
        }
    }
}

impl core::error::Error for WireError {}

/// A decoded batch (guest side): iterate its lines.
#[derive(Debug, Clone, Copy)]
pub struct BatchReader<'a> {
    ends: &'a [u8],
    data: &'a [u8],
}

impl<'a> BatchReader<'a> {
    /// Checks the header and every offset.
    pub fn new(bytes: &'a [u8]) -> Result<Self, WireError> {
        let count = read_u32(bytes, 0)? as usize;
        let table = count.checked_mul(4).and_then(|t| t.checked_add(4)).ok_or(WireError::Truncated)?;
        if bytes.len() < table {
            return Err(WireError::Truncated);
        }
        let (ends, data) = (&bytes[4..table], &bytes[table..]);
        let mut prev = 0u32;
        for c in ends.chunks_exact(4) {
            let e = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if e < prev || e as usize > data.len() {
                return Err(WireError::BadOffset);
            }
            prev = e;
        }
        Ok(BatchReader { ends, data })
    }

    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The lines, in order.
    pub fn lines(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        let mut start = 0usize;
        self.ends.chunks_exact(4).map(move |c| {
            let end = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
            let line = &data[start..end];
            start = end;
            line
        })
    }
}

fn read_u32(b: &[u8], at: usize) -> Result<u32, WireError> {
    let s = b.get(at..at + 4).ok_or(WireError::Truncated)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Builds the result of one batch (guest side).
#[derive(Debug, Default, Clone)]
pub struct ResultWriter {
    buf: Vec<u8>,
    count: u32,
}

impl ResultWriter {
    /// An empty result.
    pub fn new() -> Self {
        ResultWriter { buf: alloc::vec![0, 0, 0, 0], count: 0 }
    }

    /// Empties the result, keeping its buffer.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.count = 0;
    }

    /// Appends one record's output.
    pub fn push(&mut self, out: &Output) {
        self.count += 1;
        let flags = if out.drop { FLAG_DROP } else { 0 };
        self.buf.extend_from_slice(&[flags, out.tags.len() as u8, out.labels.len() as u8]);
        for (k, v) in out.tags() {
            self.buf.push(k.len() as u8);
            self.buf.extend_from_slice(k.as_bytes());
            self.buf.extend_from_slice(&(v.len() as u16).to_le_bytes());
            self.buf.extend_from_slice(v.as_bytes());
        }
        for (k, v) in &out.labels {
            self.buf.push(k.len() as u8);
            self.buf.extend_from_slice(k.as_bytes());
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.buf[..4].copy_from_slice(&self.count.to_le_bytes());
    }

    /// The encoded result.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// What a rule says about one record: tags, labels and whether to drop it.
///
/// Invalid keys, over-long values, non-finite labels and anything past
/// [`MAX_PER_RECORD`] are ignored here, so a rule cannot produce output the host rejects.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    tags: Vec<(&'static str, u32, u32)>,
    text: alloc::string::String,
    labels: Vec<(&'static str, f64)>,
    drop: bool,
}

impl Output {
    /// Empties the output for the next record, keeping its buffers.
    pub fn clear(&mut self) {
        self.tags.clear();
        self.text.clear();
        self.labels.clear();
        self.drop = false;
    }

    /// Adds a tag `key=value`.
    pub fn tag(&mut self, key: &'static str, value: &str) {
        if valid_key(key.as_bytes()) && value.len() <= MAX_VALUE_LEN && self.tags.len() < MAX_PER_RECORD {
            let start = self.text.len() as u32;
            self.text.push_str(value);
            self.tags.push((key, start, self.text.len() as u32));
        }
    }

    /// Adds a numeric label `key=value`.
    pub fn label(&mut self, key: &'static str, value: f64) {
        if valid_key(key.as_bytes()) && value.is_finite() && self.labels.len() < MAX_PER_RECORD {
            self.labels.push((key, value));
        }
    }

    /// Asks the host to drop the record.
    pub fn drop_record(&mut self) {
        self.drop = true;
    }

    /// The tags so far.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|(k, s, e)| (*k, &self.text[*s as usize..*e as usize]))
    }

    /// The labels so far.
    pub fn labels(&self) -> impl Iterator<Item = (&str, f64)> {
        self.labels.iter().map(|(k, v)| (*k, *v))
    }

    /// Whether the record is to be dropped.
    pub fn dropped(&self) -> bool {
        self.drop
    }
}

/// One record's decoded result: byte ranges into the result buffer, already checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedRecord {
    /// Drop requested.
    pub drop: bool,
    /// Index of the first tag in the tag list.
    pub tags: (u32, u32),
    /// Index range in the label list.
    pub labels: (u32, u32),
}

/// A checked result: every key valid, every value UTF-8, counts matching.
#[derive(Debug, Default, Clone)]
pub struct DecodedResult {
    /// One entry per record.
    pub records: Vec<DecodedRecord>,
    /// `(key range, value range)` into the text buffer.
    pub tags: Vec<(core::ops::Range<u32>, core::ops::Range<u32>)>,
    /// `(key range, value)`.
    pub labels: Vec<(core::ops::Range<u32>, f64)>,
    /// Keys and values, all valid UTF-8.
    pub text: alloc::string::String,
}

impl DecodedResult {
    /// Empties the result, keeping its buffers.
    pub fn clear(&mut self) {
        self.records.clear();
        self.tags.clear();
        self.labels.clear();
        self.text.clear();
    }

    /// Reads `bytes` (a guest's result for `expected` records), appending to `self`.
    /// On error `self` is left as it was.
    pub fn decode(&mut self, bytes: &[u8], expected: u32) -> Result<(), WireError> {
        let (r0, t0, l0, x0) = (self.records.len(), self.tags.len(), self.labels.len(), self.text.len());
        let out = self.decode_inner(bytes, expected);
        if out.is_err() {
            self.records.truncate(r0);
            self.tags.truncate(t0);
            self.labels.truncate(l0);
            self.text.truncate(x0);
        }
        out
    }

    fn decode_inner(&mut self, b: &[u8], expected: u32) -> Result<(), WireError> {
        let found = read_u32(b, 0)?;
        if found != expected {
            return Err(WireError::CountMismatch { expected, found });
        }
        let mut at = 4usize;
        let take = |at: &mut usize, n: usize| -> Result<&[u8], WireError> {
            let s = b.get(*at..*at + n).ok_or(WireError::Truncated)?;
            *at += n;
            Ok(s)
        };
        for _ in 0..found {
            let h = take(&mut at, 3)?;
            let (flags, nt, nl) = (h[0], h[1], h[2]);
            if flags & !FLAG_DROP != 0 {
                return Err(WireError::BadFlags);
            }
            let t_start = self.tags.len() as u32;
            for _ in 0..nt {
                let klen = take(&mut at, 1)?[0] as usize;
                let key = take(&mut at, klen)?;
                if !valid_key(key) {
                    return Err(WireError::BadKey);
                }
                let vl = take(&mut at, 2)?;
                let vlen = u16::from_le_bytes([vl[0], vl[1]]) as usize;
                let value = take(&mut at, vlen)?;
                if vlen > MAX_VALUE_LEN {
                    return Err(WireError::BadValue);
                }
                let value = core::str::from_utf8(value).map_err(|_| WireError::BadValue)?;
                let k = self.push_text(key_str(key));
                let v = self.push_text(value);
                self.tags.push((k, v));
            }
            let l_start = self.labels.len() as u32;
            for _ in 0..nl {
                let klen = take(&mut at, 1)?[0] as usize;
                let key = take(&mut at, klen)?;
                if !valid_key(key) {
                    return Err(WireError::BadKey);
                }
                let v = take(&mut at, 8)?;
                let value = f64::from_le_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]]);
                if !value.is_finite() {
                    return Err(WireError::BadLabel);
                }
                let k = self.push_text(key_str(key));
                self.labels.push((k, value));
            }
            self.records.push(DecodedRecord {
                drop: flags & FLAG_DROP != 0,
                tags: (t_start, self.tags.len() as u32),
                labels: (l_start, self.labels.len() as u32),
            });
        }
        if at != b.len() {
            return Err(WireError::TrailingBytes);
        }
        Ok(())
    }

    fn push_text(&mut self, s: &str) -> core::ops::Range<u32> {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        start..self.text.len() as u32
    }

    /// The text of a range.
    pub fn str(&self, r: &core::ops::Range<u32>) -> &str {
        &self.text[r.start as usize..r.end as usize]
    }
}

fn key_str(key: &[u8]) -> &str {
    // valid_key admits ASCII only.
    core::str::from_utf8(key).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn batch_round_trip() {
        let mut w = BatchWriter::new();
        w.push_line(b"a\tb");
        w.push_field(b"x");
        w.push_field(b"-");
        w.end_line();
        w.push_line(b"");
        let bytes = w.encode();
        // count 3, ends 3, 6, 6, then "a\tbx\t-".
        assert_eq!(&bytes[..16], &[3, 0, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0, 6, 0, 0, 0]);
        let r = BatchReader::new(&bytes).unwrap();
        let lines: Vec<&[u8]> = r.lines().collect();
        assert_eq!(lines, [&b"a\tb"[..], b"x\t-", b""]);
    }

    #[test]
    fn batch_rejects_bad_offsets() {
        assert_eq!(BatchReader::new(&[1, 0, 0, 0]).unwrap_err(), WireError::Truncated);
        assert_eq!(BatchReader::new(&[1, 0, 0, 0, 9, 0, 0, 0, b'a']).unwrap_err(), WireError::BadOffset);
        assert_eq!(BatchReader::new(&[0xff, 0xff, 0xff, 0xff]).unwrap_err(), WireError::Truncated);
    }

    #[test]
    fn result_round_trip_and_hand_encoding() {
        let mut o = Output::default();
        o.tag("bot", "googlebot");
        o.label("score", 0.5);
        o.drop_record();
        o.tag("bad key!", "ignored");
        let mut w = ResultWriter::new();
        w.push(&o);
        w.push(&Output::default());
        let mut expected = vec![2, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 9, 0];
        expected.extend_from_slice(b"googlebot");
        expected.extend_from_slice(&[5, b's', b'c', b'o', b'r', b'e']);
        expected.extend_from_slice(&0.5f64.to_le_bytes());
        expected.extend_from_slice(&[0, 0, 0]);
        assert_eq!(w.bytes(), &expected[..]);
        let mut d = DecodedResult::default();
        d.decode(w.bytes(), 2).unwrap();
        assert_eq!(d.records.len(), 2);
        assert!(d.records[0].drop && !d.records[1].drop);
        assert_eq!(d.str(&d.tags[0].0), "bot");
        assert_eq!(d.str(&d.tags[0].1), "googlebot");
        assert_eq!(d.labels[0].1, 0.5);
    }

    #[test]
    fn result_rejects_garbage() {
        let mut d = DecodedResult::default();
        assert_eq!(d.decode(&[1, 0, 0, 0], 2).unwrap_err(), WireError::CountMismatch { expected: 2, found: 1 });
        assert_eq!(d.decode(&[1, 0, 0, 0, 0, 1], 1).unwrap_err(), WireError::Truncated);
        assert_eq!(d.decode(&[1, 0, 0, 0, 2, 0, 0], 1).unwrap_err(), WireError::BadFlags);
        assert_eq!(d.decode(&[1, 0, 0, 0, 0, 1, 0, 1, b' ', 0, 0], 1).unwrap_err(), WireError::BadKey);
        assert_eq!(d.decode(&[1, 0, 0, 0, 0, 1, 0, 1, b'k', 1, 0, 0xff], 1).unwrap_err(), WireError::BadValue);
        assert_eq!(d.decode(&[1, 0, 0, 0, 0, 0, 0, 7], 1).unwrap_err(), WireError::TrailingBytes);
        let mut nan = vec![1, 0, 0, 0, 0, 0, 1, 1, b'k'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(d.decode(&nan, 1).unwrap_err(), WireError::BadLabel);
        // A length far past the buffer must be an error, not a panic.
        assert_eq!(d.decode(&[1, 0, 0, 0, 0, 1, 0, 0xff], 1).unwrap_err(), WireError::Truncated);
        assert!(d.records.is_empty() && d.text.is_empty());
    }
}
