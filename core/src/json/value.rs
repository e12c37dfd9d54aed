//! Values as JSON text: numbers (`write_u64`, fixed-point seconds), strings escaped as
//! RFC 8259 requires (`write_str`, with UTF-8 checked) and percent-decoded strings
//! (`write_decoded_str`), each 16-byte block classified at once by
//! `cflog_simd::json_block`. The record writer in the parent module puts these together.

use alloc::vec::Vec;

use crate::decode;
use super::cursor::Cursor;
pub(super) use crate::swar::{HIGH, ONES, eq_word};

/// `value / scale` with up to `digits` decimals, trailing zeros dropped (`140000` µs → `0.14`).
pub(super) fn write_fixed(out: &mut Vec<u8>, value: u64, scale: u64, digits: usize) {
    let mut cursor = Cursor::with_room::<28>(out);
    cursor.fixed(value, scale, digits);
    cursor.finish();
}

/// Appends an unsigned integer in decimal.
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    // Two digits a division, from a table, and the digits copied as one fixed-size block
    // (`write_u64` was ~60 instructions a number with a digit a division and a `memcpy`
    // call; 15 numbers a record of the Lambda's enriched output; issue 13).
    let mut cursor = Cursor::with_room::<20>(out);
    cursor.u64(n);
    cursor.finish();
}

/// `n` in decimal at the end of `tmp` (the bytes before left as they are); where its
/// digits start.
#[inline(always)]
pub(super) fn decimal_digits(tmp: &mut [u8; 20], mut n: u64) -> usize {
    let mut i = tmp.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        tmp[i] = b'0' + n as u8;
    }
    i
}

/// `n` (below 10^8) as eight ASCII digits, zero-padded, in a word whose first byte in
/// memory (little-endian) is the first digit: computed in registers, four lanes at a time
/// (two 32-bit lanes `/ 100` by multiplying by 10,486 and shifting by 20, then four 16-bit
/// lanes `/ 10` by 103 and 10, exact for these ranges). The digits leave as one word store:
/// writing them a pair at a time into a buffer and copying it as one block made every
/// number a store-to-load forwarding stall (a quarter of the Lambda's JSON writer).
#[inline(always)]
pub(super) fn eight_digits(n: u32) -> u64 {
    debug_assert!(n < 100_000_000);
    let n = u64::from(n);
    // Lane 0 (bits 0..32): the first four digits; lane 1: the last four.
    let fours = (n / 10_000) | ((n % 10_000) << 32);
    let hundreds = ((fours * 10_486) >> 20) & (0x7f << 32 | 0x7f);
    // 16-bit lanes, in digit order: the pairs 1-2, 3-4, 5-6, 7-8.
    let pairs = hundreds | (fours - 100 * hundreds) << 16;
    let tens = ((pairs * 103) >> 10) & (0xf << 48 | 0xf << 32 | 0xf << 16 | 0xf);
    let ones = pairs - 10 * tens;
    tens | ones << 8 | 0x3030_3030_3030_3030
}

/// `n` (below 10^16) as sixteen ASCII digits, zero-padded, first digit first in memory.
#[inline(always)]
pub(super) fn sixteen_digits(n: u64) -> u128 {
    debug_assert!(n < 10_000_000_000_000_000);
    u128::from(eight_digits((n / 100_000_000) as u32)) | u128::from(eight_digits((n % 100_000_000) as u32)) << 64
}

/// `00`, `01`, … `99`, one after the other.
pub(super) const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut n = 0;
    while n < 100 {
        t[2 * n] = b'0' + (n / 10) as u8;
        t[2 * n + 1] = b'0' + (n % 10) as u8;
        n += 1;
    }
    t
};

/// Whether `t` is 1 to 19 ASCII digits without a leading zero (or `0` itself): the
/// decimal text [`write_u64`] writes for the value `grammar::parse_u64` reads from it.
#[inline(always)]
pub(super) fn is_canonical_digits(t: &[u8]) -> bool {
    matches!(t.len(), 1..=19) && (t[0] != b'0' || t.len() == 1) && t.iter().fold(true, |all, b| all & b.is_ascii_digit())
}

/// JSON numbers have no leading zeros and need digits on both sides of a `.`.
pub(super) fn is_json_number(t: &[u8]) -> bool {
    let t = t.strip_prefix(b"-").unwrap_or(t);
    let (int, frac) = match t.iter().position(|&b| b == b'.') {
        Some(p) => (&t[..p], Some(&t[p + 1..])),
        None => (t, None),
    };
    !int.is_empty()
        && int.iter().all(u8::is_ascii_digit)
        && (int.len() == 1 || int[0] != b'0')
        && frac.is_none_or(|f| !f.is_empty() && f.iter().all(u8::is_ascii_digit))
}

/// Appends `s`, text that needs no escaping (ASCII, no control character, `"` or `\\`), as
/// a JSON string: what [`write_str`] writes for it, without looking at the bytes.
#[inline(always)]
pub(super) fn write_plain_ascii(out: &mut Vec<u8>, s: &[u8]) {
    debug_assert!(s.iter().all(|&b| b < 0x80 && !needs_escape(b)));
    let mut cursor = Cursor::new(out, 34, 0);
    cursor.plain_string(s, 0, s.len());
    cursor.finish();
}

/// When `text[from..to]` is at most 30 bytes with 32 bytes of `text` from `from` on, and
/// none of its bytes needs escaping, is 0x80 or more or (with `PERCENT`) is `%`: appends it
/// as a JSON string and returns true (what [`write_str`] and, with `PERCENT`,
/// [`write_decoded_str`] write for it); else false, appending nothing. One or two vector
/// compares of the text's own blocks and one fixed-size copy, where `write_str` of a short
/// value was ~160 instructions (SWAR words, the quotes pushed apart, a `memcpy` of the
/// tail; 14 tokens a record of the Lambda's enriched output; issue 13).
#[cfg(test)]
pub(super) fn write_plain_window<const PERCENT: bool>(out: &mut Vec<u8>, text: &[u8], from: usize, to: usize) -> bool {
    let mut cursor = Cursor::with_room::<32>(out);
    let wrote = cursor.plain_window::<32, PERCENT>(text, from, to);
    cursor.finish();
    wrote
}

/// The `N` bytes of `text` from `from` (`N` being 32 or 64) when `text[from..to]` is 1 to
/// `N - 2` bytes none of which needs escaping, is 0x80 or more or (with `PERCENT`) is `%`
/// (see [`write_plain_window`]): a vector compare of each 16-byte block the value reaches.
#[inline(always)]
pub(super) fn plain_window<const N: usize, const PERCENT: bool>(text: &[u8], from: usize, to: usize) -> Option<&[u8; N]> {
    const { assert!(N == 32 || N == 64) };
    let n = to - from;
    if n == 0 || n > N - 2 {
        return None;
    }
    let window: &[u8; N] = text.get(from..from + N)?.try_into().expect("N bytes");
    let block = |k: usize| u64::from(cflog_simd::json_block::<true, PERCENT>(window[16 * k..16 * k + 16].try_into().expect("16 bytes"))) << (16 * k);
    let mask = if n <= 16 {
        block(0)
    } else if n <= 32 {
        block(0) | block(1)
    } else if n <= 48 {
        block(0) | block(1) | block(2)
    } else {
        block(0) | block(1) | block(2) | block(3)
    };
    (mask & (u64::MAX >> (64 - n)) == 0).then_some(window)
}

/// Appends `s` as a JSON string; bytes that are not UTF-8 become U+FFFD.
pub fn write_str(out: &mut Vec<u8>, s: &[u8]) {
    // Log values are ASCII and rarely need escaping: find the first byte that needs
    // attention 16 bytes at a time ([`Flags`]) and copy the runs between them whole.
    // From the first non-ASCII byte on, the UTF-8-aware loop takes over (the prefix is
    // ASCII, so it starts on a character boundary). Was ~37 instructions per byte with UTF-8
    // chunking of every value, then ~15 per byte of short values and of 8-byte words holding
    // an escape (callgrind, issue 13).
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_ascii_escaped::<true>(out, s);
    out.push(b'"');
}

/// The escaped body of `s`: runs copied whole, each ASCII byte below 0x20, `"` and `\`
/// escaped. With `UTF8`, from the first byte of 0x80 or more on the rest goes to
/// [`write_utf8_escaped`]; without, such bytes are copied (the caller checked the text is
/// UTF-8).
pub(super) fn write_ascii_escaped<const UTF8: bool>(out: &mut Vec<u8>, s: &[u8]) {
    let mut flags = Flags::new(s, |b| needs_escape(b) | (UTF8 & (b >= 0x80)), |w| escape_word(w) | if UTF8 { w & HIGH } else { 0 }, cflog_simd::json_block::<UTF8, false>);
    let mut start = 0;
    while let Some(i) = flags.next(start) {
        copy_run(out, s, start, i);
        let b = s[i];
        if b >= 0x80 {
            write_utf8_escaped(out, &s[i..]);
            return;
        }
        push_json_ascii(out, b);
        start = i + 1;
    }
    copy_short(out, &s[start..]);
}

/// Appends `raw` percent-decoded (once, or twice when `double`) as a JSON string: what
/// `write_str(out, &decode::decode(raw, double))` writes, without allocating. Decoding once
/// (the usual case), decoding and escaping are one pass over `raw` that copies the runs
/// between `%`s and escapes whole; text that decodes to a byte of 0x80 or more (UTF-8 to
/// validate) or is decoded twice is decoded into a buffer first and then escaped.
pub fn write_decoded_str(out: &mut Vec<u8>, raw: &[u8], double: bool) {
    // Decoding once, text without `%` goes through the one pass too (it is `write_str`'s
    // pass plus a compare a block): a `memchr` first was ~60 instructions a value, five
    // values a record of the Lambda's enriched output (issue 13).
    let mut cursor = Cursor::new(out, if double { 0 } else { 2 * raw.len() + 18 }, 0);
    cursor.decoded_str(raw, double);
    cursor.finish();
}

/// [`write_decoded_str`] of text that is decoded twice or that the one pass
/// ([`write_decoded_ascii_at`]) did not write.
pub(super) fn write_decoded_rest(out: &mut Vec<u8>, raw: &[u8], double: bool) {
    if memchr::memchr(b'%', raw).is_none() {
        write_str(out, raw);
        return;
    }
    let mut decoded = Vec::with_capacity(raw.len());
    decode::decode_into(raw, double, &mut decoded);
    write_str(out, &decoded);
}

/// The one-pass body of [`write_decoded_str`] for text decoded once, written into `buf`
/// from its start: where it ends there, or `None` (with any part of `buf` overwritten) as
/// soon as a raw or decoded byte is 0x80 or more, or when the text does not fit in `buf`
/// (given twice the text and a block by [`Cursor::decoded_str`]: a `%XX` becomes at most 6
/// bytes, `"` and `\\` 2, other bytes themselves; raw control bytes, 6 bytes each, may not fit).
///
/// Each run and escape is a fixed-size copy at a cursor, and the cursor moved: the `Vec`
/// length and capacity bookkeeping of an `extend_from_slice` and a `truncate` a run and an
/// escape was ~30 % of this loop (the decoded `cs-headers` hold ~30 escapes a record;
/// issue 13).
#[inline(always)]
pub(super) fn write_decoded_ascii_at(buf: &mut [u8], raw: &[u8]) -> Option<usize> {
    let mut flags = Flags::new(raw, |b| (b == b'%') | (b >= 0x80) | needs_escape(b), |w| eq_word(w, b'%') | (w & HIGH) | escape_word(w), cflog_simd::json_block::<true, true>);
    let mut i = 0;
    let mut pos = 0;
    loop {
        let Some(at) = flags.next(i) else { return copy_at(buf, pos, &raw[i..]) };
        pos = copy_run_at(buf, pos, raw, i, at)?;
        let mut b = raw[at];
        i = at + 1;
        // The escape rule of `decode::decode_from`: `%` and two hex digits, else a literal `%`.
        if b == b'%'
            && let Some(&[h, l]) = raw.get(i..i + 2)
        {
            let (h, l) = (decode::HEX_VALUE[usize::from(h)], decode::HEX_VALUE[usize::from(l)]);
            if (h | l) < 16 {
                b = h << 4 | l;
                i += 2;
            }
        }
        if b >= 0x80 {
            return None;
        }
        let (text, len) = JSON_ASCII[usize::from(b)];
        buf.get_mut(pos..pos + 8)?.copy_from_slice(&text);
        pos += usize::from(len);
    }
}

/// [`copy_run`] into `buf` at `pos`: where the run ends there, or `None` when `buf` has no
/// room for the block copy.
#[inline(always)]
fn copy_run_at(buf: &mut [u8], pos: usize, text: &[u8], from: usize, to: usize) -> Option<usize> {
    let n = to - from;
    if n < 16
        && let Some(block) = text.get(from..from + 16)
    {
        buf.get_mut(pos..pos + 16)?.copy_from_slice(block);
        Some(pos + n)
    } else {
        copy_at(buf, pos, &text[from..to])
    }
}

/// `t` copied into `buf` at `pos`: where it ends there, or `None` when it does not fit.
#[inline(always)]
fn copy_at(buf: &mut [u8], pos: usize, t: &[u8]) -> Option<usize> {
    let end = pos + t.len();
    buf.get_mut(pos..end)?.copy_from_slice(t);
    Some(end)
}

/// Appends `text[from..to]`. A run shorter than 16 bytes with 16 bytes of text behind `from`
/// is copied as a whole block and cut back: a fixed-size copy the compiler inlines, where a
/// short `extend_from_slice` calls `memcpy` (the runs between escapes are ~8 bytes).
#[inline(always)]
pub(super) fn copy_run(out: &mut Vec<u8>, text: &[u8], from: usize, to: usize) {
    if to - from < 16
        && let Some(block) = text.get(from..from + 16)
    {
        let block: &[u8; 16] = block.try_into().expect("16 bytes");
        out.extend_from_slice(block);
        out.truncate(out.len() - (16 - (to - from)));
    } else {
        copy_short(out, &text[from..to]);
    }
}

/// Appends `t`; below 16 bytes as two overlapping fixed-size words (8 or 4 bytes), which
/// the compiler inlines, where a short `extend_from_slice` calls `memcpy` (the tail of most
/// values; issue 13).
#[inline(always)]
pub(super) fn copy_short(out: &mut Vec<u8>, t: &[u8]) {
    let n = t.len();
    if n >= 16 {
        out.extend_from_slice(t);
    } else if n >= 8 {
        let (head, tail): (&[u8; 8], &[u8; 8]) = (t[..8].try_into().expect("8 bytes"), t[n - 8..].try_into().expect("8 bytes"));
        out.extend_from_slice(head);
        out.truncate(out.len() - (16 - n));
        out.extend_from_slice(tail);
    } else if n >= 4 {
        let (head, tail): (&[u8; 4], &[u8; 4]) = (t[..4].try_into().expect("4 bytes"), t[n - 4..].try_into().expect("4 bytes"));
        out.extend_from_slice(head);
        out.truncate(out.len() - (8 - n));
        out.extend_from_slice(tail);
    } else {
        for &b in t {
            out.push(b);
        }
    }
}

/// [`copy_run`] with 32-byte blocks, for the keys (`,"cs-protocol-version":` is 23 bytes),
/// which a [`RecordWriter`] keeps with 32 bytes of room behind the last one.
#[inline(always)]
pub(super) fn copy_key(out: &mut Vec<u8>, keys: &[u8], from: usize, to: usize) {
    if to - from <= 32
        && let Some(block) = keys.get(from..from + 32)
    {
        let block: &[u8; 32] = block.try_into().expect("32 bytes");
        out.extend_from_slice(block);
        out.truncate(out.len() - (32 - (to - from)));
    } else {
        out.extend_from_slice(&keys[from..to]);
    }
}

/// Whether an ASCII byte needs escaping in a JSON string: below 0x20, `"` or `\`.
#[inline(always)]
pub(super) fn needs_escape(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// 0x80 in each byte of `w` that [`needs_escape`] (exact), 0 elsewhere.
#[inline(always)]
pub(super) fn escape_word(w: u64) -> u64 {
    let below_space = !(((w & !HIGH) + ONES * (0x80 - 0x20)) | w) & HIGH;
    below_space | eq_word(w, b'"') | eq_word(w, b'\\')
}

/// The positions of the bytes of a text that a caller flags, in order, found 16 bytes at a
/// time: each block's mask from `block` (`cflog_simd::json_block`: a few vector compares
/// and a movemask, ~8 instructions a block on x86-64), whose bits are then taken one by
/// one; texts shorter than a block from `word` on overlapping 8- or 4-byte words (0x80 in
/// each flagged byte), below 4 bytes from `flag` byte by byte. The three must flag the same
/// bytes, which the tests check. Was a branch-free fold of `flag` per block, then the exact
/// mask from `word` on each 8-byte half, ~50 instructions a block holding a flagged byte
/// (the percent-encoded `cs-headers` hold one in nearly every block); before that byte by
/// byte from the first flagged byte of an 8-byte word on, ~15 instructions a byte (issue 13).
pub(super) struct Flags<'a, F, W, B> {
    text: &'a [u8],
    /// One bit for each flagged byte of `text[base..end]` not yet passed by the caller.
    mask: u32,
    base: usize,
    /// Where the next block starts: everything before it has been looked at.
    end: usize,
    flag: F,
    word: W,
    block: B,
}

impl<'a, F: Fn(u8) -> bool, W: Fn(u64) -> u64, B: Fn(&[u8; 16]) -> u32> Flags<'a, F, W, B> {
    #[inline(always)]
    fn new(text: &'a [u8], flag: F, word: W, block: B) -> Self {
        Flags { text, mask: 0, base: 0, end: 0, flag, word, block }
    }

    /// The first flagged position at or after `from`; `from` never goes back.
    #[inline(always)]
    fn next(&mut self, from: usize) -> Option<usize> {
        if from < self.end {
            self.mask &= u32::MAX << from.saturating_sub(self.base);
            if self.mask != 0 {
                return Some(self.base + self.mask.trailing_zeros() as usize);
            }
        }
        self.next_block(from.max(self.end))
    }

    /// The first flagged position at or after `at`, `at` being at or after `end`.
    #[inline(always)]
    fn next_block(&mut self, mut at: usize) -> Option<usize> {
        let len = self.text.len();
        while at + 16 <= len {
            let mask = (self.block)(self.text[at..at + 16].try_into().expect("16 bytes"));
            if mask != 0 {
                (self.base, self.end, self.mask) = (at, at + 16, mask);
                return Some(at + mask.trailing_zeros() as usize);
            }
            at += 16;
        }
        self.end = len;
        if at >= len {
            return None;
        }
        // The tail: the last 16 bytes when there are that many (the bits before `at` are
        // already passed), else the whole short text.
        let (base, mask) = if len >= 16 {
            (len - 16, (self.block)(self.text[len - 16..].try_into().expect("16 bytes")))
        } else {
            (0, self.short(self.text))
        };
        self.base = base;
        self.mask = mask & (u32::MAX << (at - base));
        (self.mask != 0).then(|| base + self.mask.trailing_zeros() as usize)
    }

    /// One bit for each flagged byte of a text shorter than 16 bytes, from two overlapping
    /// words (4-byte ones padded with spaces, which no caller flags, below 8 bytes): no copy.
    #[inline(always)]
    fn short(&self, t: &[u8]) -> u32 {
        let len = t.len();
        let word = |at: usize, n: usize| -> u32 {
            let w = if n == 8 {
                u64::from_le_bytes(t[at..at + 8].try_into().expect("8 bytes"))
            } else {
                u64::from(u32::from_le_bytes(t[at..at + 4].try_into().expect("4 bytes"))) | (ONES * u64::from(b' ')) << 32
            };
            movemask((self.word)(w)) << at
        };
        if len >= 8 {
            word(0, 8) | word(len - 8, 8)
        } else if len >= 4 {
            word(0, 4) | word(len - 4, 4)
        } else {
            t.iter().enumerate().fold(0, |m, (j, &b)| m | u32::from((self.flag)(b)) << j)
        }
    }
}

/// The high bits of the 8 bytes of `m` (each 0x80 or 0) as 8 bits, lowest byte first.
#[inline(always)]
pub(super) fn movemask(m: u64) -> u32 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// Appends ASCII byte `b` as it is in a JSON string (itself, or its escape) from
/// [`JSON_ASCII`]: a fixed 8-byte copy cut back, no branch on the byte (the decoded
/// `cs-headers` hold ~30 escapes a record; issue 13).
#[inline(always)]
pub(super) fn push_json_ascii(out: &mut Vec<u8>, b: u8) {
    let (text, len) = JSON_ASCII[usize::from(b & 0x7f)];
    out.extend_from_slice(&text);
    out.truncate(out.len() - (8 - usize::from(len)));
}

/// Each ASCII byte as it is in a JSON string: the short escapes JSON has (`\"`, `\\`,
/// `\n`, `\r`, `\t`), `\u00XX` for the other bytes below 0x20, else the byte itself; the
/// text padded to 8 bytes, and its length.
pub(super) const JSON_ASCII: [([u8; 8], u8); 128] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [([0u8; 8], 1u8); 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = match c {
            b'"' => (*b"\\\"\0\0\0\0\0\0", 2),
            b'\\' => (*b"\\\\\0\0\0\0\0\0", 2),
            b'\n' => (*b"\\n\0\0\0\0\0\0", 2),
            b'\r' => (*b"\\r\0\0\0\0\0\0", 2),
            b'\t' => (*b"\\t\0\0\0\0\0\0", 2),
            0..0x20 => ([b'\\', b'u', b'0', b'0', HEX[b >> 4], HEX[b & 15], 0, 0], 6),
            _ => ([c, 0, 0, 0, 0, 0, 0, 0], 1),
        };
        b += 1;
    }
    t
};

/// The escaped body of `s`, any bytes: invalid UTF-8 becomes U+FFFD.
pub(super) fn write_utf8_escaped(out: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        // Copy runs that need no escaping in one go.
        write_ascii_escaped::<false>(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}
