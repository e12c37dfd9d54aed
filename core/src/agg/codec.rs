//! A tiny binary codec for aggregate state, and base64 to carry it inside JSON.
//!
//! The format is deliberately plain (LEB128 varints, zigzag for signed values, little-endian
//! f64 bits, length-prefixed byte strings) so that it is identical on every target and easy to
//! reimplement. [`Reader`] treats its input as hostile: every read is bounds-checked, every
//! length is checked against the bytes that remain before anything is allocated, and failure
//! is a [`MergeError::Corrupt`], never a panic.

use alloc::string::String;
use alloc::vec::Vec;

use super::{MergeError, corrupt};

/// Appends encoded values to a byte buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// One raw byte.
    pub fn write_u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// An unsigned LEB128 varint: 1 byte below 128, at most 10 bytes.
    pub fn write_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// A signed value, zigzag-mapped so that small magnitudes of either sign stay short.
    pub fn write_zigzag(&mut self, v: i64) {
        self.write_varint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// An f64 as its 8 little-endian IEEE bytes, so it round-trips bit for bit (NaN included).
    pub fn write_f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// A varint length followed by the bytes.
    pub fn write_bytes(&mut self, b: &[u8]) {
        self.write_varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    /// A string as length-prefixed UTF-8.
    pub fn write_str(&mut self, s: &str) {
        self.write_bytes(s.as_bytes());
    }

    /// Bytes with no length prefix, for fields whose length the reader already knows.
    pub fn write_raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// What has been written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Starts an aggregate's record: a type tag and a format version.
    pub(crate) fn write_header(&mut self, tag: u8, version: u8) {
        self.write_u8(tag);
        self.write_u8(version);
    }
}

/// Reads values written by [`Writer`] from a byte slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Fails unless every byte has been read, so that trailing garbage is noticed.
    pub fn finish(&self) -> Result<(), MergeError> {
        if self.is_empty() { Ok(()) } else { Err(corrupt("trailing bytes")) }
    }

    /// One raw byte.
    pub fn read_u8(&mut self) -> Result<u8, MergeError> {
        let b = *self.buf.get(self.pos).ok_or(corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    /// An unsigned LEB128 varint. Overlong forms (a redundant zero high byte, more than 64
    /// bits) are rejected so that every value has exactly one encoding.
    pub fn read_varint(&mut self) -> Result<u64, MergeError> {
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let b = self.read_u8()?;
            let payload = u64::from(b & 0x7f);
            if i == 9 && payload > 1 {
                return Err(corrupt("varint overflows 64 bits"));
            }
            v |= payload << (7 * i);
            if b & 0x80 == 0 {
                if b == 0 && i > 0 {
                    return Err(corrupt("overlong varint"));
                }
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    /// A zigzag-mapped signed value.
    pub fn read_zigzag(&mut self) -> Result<i64, MergeError> {
        let u = self.read_varint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// An f64 from its 8 little-endian bytes.
    pub fn read_f64(&mut self) -> Result<f64, MergeError> {
        let raw = self.read_raw(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(raw);
        Ok(f64::from_bits(u64::from_le_bytes(a)))
    }

    /// Exactly `n` bytes with no length prefix.
    pub fn read_raw(&mut self, n: usize) -> Result<&'a [u8], MergeError> {
        if n > self.remaining() {
            return Err(corrupt("truncated"));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A length-prefixed byte string, borrowed from the input.
    pub fn read_bytes(&mut self) -> Result<&'a [u8], MergeError> {
        let n = self.read_len(1)?;
        self.read_raw(n)
    }

    /// A length-prefixed UTF-8 string, borrowed from the input.
    pub fn read_str(&mut self) -> Result<&'a str, MergeError> {
        core::str::from_utf8(self.read_bytes()?).map_err(|_| corrupt("invalid UTF-8"))
    }

    /// A count of items that will each take at least `min_item_bytes` of the remaining input.
    ///
    /// Checking the count against what is left before it is used means a forged count can
    /// never make a caller allocate more than the input could describe.
    pub fn read_len(&mut self, min_item_bytes: usize) -> Result<usize, MergeError> {
        let n = self.read_varint()?;
        let n = usize::try_from(n).map_err(|_| corrupt("length out of range"))?;
        if n.saturating_mul(min_item_bytes.max(1)) > self.remaining() {
            return Err(corrupt("length exceeds input"));
        }
        Ok(n)
    }

    /// Checks an aggregate's type tag and format version.
    /// Reads a header of `tag` with a version from 1 to `newest`, and returns the version.
    pub(crate) fn read_header_up_to(&mut self, tag: u8, newest: u8) -> Result<u8, MergeError> {
        if self.read_u8()? != tag {
            return Err(corrupt("wrong type tag"));
        }
        match self.read_u8()? {
            v @ 1.. if v <= newest => Ok(v),
            _ => Err(corrupt("unsupported format version")),
        }
    }

    pub(crate) fn read_header(&mut self, tag: u8, version: u8) -> Result<(), MergeError> {
        if self.read_u8()? != tag {
            return Err(corrupt("wrong type tag"));
        }
        if self.read_u8()? != version {
            return Err(corrupt("unsupported format version"));
        }
        Ok(())
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 alphabet, `=` padding), for binary state inside JSON strings.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes what [`base64_encode`] produces.
///
/// Strict on purpose: padding is required, whitespace and the URL-safe alphabet are
/// rejected, and so are non-zero bits after the last byte, so that each byte string has
/// exactly one accepted text.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, MergeError> {
    let s = text.as_bytes();
    if !s.len().is_multiple_of(4) {
        return Err(corrupt("base64 length not a multiple of 4"));
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let quads = s.len() / 4;
    for (qi, q) in s.chunks_exact(4).enumerate() {
        let last = qi + 1 == quads;
        let pad = if last { q.iter().rev().take_while(|&&c| c == b'=').count() } else { 0 };
        if pad > 2 {
            return Err(corrupt("base64 padding"));
        }
        let mut n = 0u32;
        for (i, &c) in q.iter().enumerate() {
            let v = if i >= 4 - pad { 0 } else { sextet(c).ok_or(corrupt("base64 character"))? };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        if bytes[keep..].iter().any(|&b| b != 0) {
            return Err(corrupt("base64 non-zero padding bits"));
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_known_vectors() {
        // RFC 4648 section 10.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, enc) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_encode(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn base64_rejects_malformed() {
        for bad in ["Zg=", "Zg", "Z===", "Zh==", "Zm9=Zm9v", "Zm 9", "Zm-_", "====", "Zm8=\n"] {
            assert!(base64_decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn varint_edges() {
        let mut w = Writer::new();
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            w.write_varint(v);
        }
        let bytes = w.into_bytes();
        assert_eq!(&bytes[..4], &[0, 1, 127, 0x80]);
        let mut r = Reader::new(&bytes);
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            assert_eq!(r.read_varint().unwrap(), v);
        }
        r.finish().unwrap();
        // Overlong zero, an 11th byte, and bits past 64 are all refused.
        assert!(Reader::new(&[0x80, 0x00]).read_varint().is_err());
        assert!(Reader::new(&[0xff; 11]).read_varint().is_err());
        let mut over = [0xffu8; 10];
        over[9] = 0x02;
        assert!(Reader::new(&over).read_varint().is_err());
        assert!(Reader::new(&[0x80]).read_varint().is_err());
    }

    #[test]
    fn lengths_are_bounded_by_input() {
        let mut w = Writer::new();
        w.write_varint(1 << 40);
        w.write_raw(&[1, 2, 3]);
        let bytes = w.into_bytes();
        assert!(Reader::new(&bytes).read_bytes().is_err());
        assert!(Reader::new(&bytes).read_len(1).is_err());
        let mut r = Reader::new(&[3, 1, 2, 3]);
        assert_eq!(r.read_len(1).unwrap(), 3);
        assert!(Reader::new(&[2, 1, 2, 3]).read_len(2).is_err());
    }

    proptest! {
        #[test]
        fn values_round_trip(
            us in proptest::collection::vec(any::<u64>(), 0..20),
            is in proptest::collection::vec(any::<i64>(), 0..20),
            fs in proptest::collection::vec(any::<f64>(), 0..5),
            b in proptest::collection::vec(any::<u8>(), 0..40),
            s in ".{0,20}",
        ) {
            let mut w = Writer::new();
            for &u in &us { w.write_varint(u); }
            for &i in &is { w.write_zigzag(i); }
            for &f in &fs { w.write_f64(f); }
            w.write_bytes(&b);
            w.write_str(&s);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            for &u in &us { prop_assert_eq!(r.read_varint().unwrap(), u); }
            for &i in &is { prop_assert_eq!(r.read_zigzag().unwrap(), i); }
            for &f in &fs { prop_assert_eq!(r.read_f64().unwrap().to_bits(), f.to_bits()); }
            prop_assert_eq!(r.read_bytes().unwrap(), &b[..]);
            prop_assert_eq!(r.read_str().unwrap(), &s[..]);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn base64_round_trips(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let text = base64_encode(&b);
            prop_assert_eq!(text.len() % 4, 0);
            prop_assert_eq!(base64_decode(&text).unwrap(), b);
        }

        #[test]
        fn reader_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64), ops in proptest::collection::vec(0u8..8, 0..16)) {
            let mut r = Reader::new(&b);
            for op in ops {
                let _ = match op {
                    0 => r.read_u8().map(drop),
                    1 => r.read_varint().map(drop),
                    2 => r.read_zigzag().map(drop),
                    3 => r.read_f64().map(drop),
                    4 => r.read_bytes().map(drop),
                    5 => r.read_str().map(drop),
                    6 => r.read_len(3).map(drop),
                    _ => r.read_raw(5).map(drop),
                };
            }
        }

        #[test]
        fn base64_decode_never_panics(s in "[A-Za-z0-9+/=]{0,24}") {
            if let Ok(bytes) = base64_decode(&s) {
                prop_assert_eq!(base64_encode(&bytes), s);
            }
        }
    }
}
