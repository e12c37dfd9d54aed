//! A write cursor into an output `Vec`'s room: the bytes behind the `Vec`'s written part are
//! made (zero-filled, safe code) ahead of the writes, in as few `resize`s as possible, and
//! keys and values are then written at an index with fixed-size copies; the `Vec`'s length
//! is set once, at the end. The record writer's plan walk (`plan.rs`) writes a whole record
//! this way, where each key, value and punctuation byte had been an `extend_from_slice`
//! and a `truncate` of the `Vec` (the length and capacity loads, stores and checks were
//! ~725 instructions a record of the Lambda's enriched output; issue 13). What is written
//! is what the `Vec` writers of `value.rs` write; values that need their slower paths
//! (text to validate as UTF-8, decoding twice, address lists) are written by them, the
//! room given back first ([`Cursor::with_vec`]).

use alloc::vec::Vec;

use super::plan::KEY_MAX;
use super::value::{DIGIT_PAIRS, decimal_digits, eight_digits, plain_window, sixteen_digits, write_decoded_ascii_at, write_decoded_rest};

/// `out[..pos]` is written; `out[pos..]` is room (zeros, or bytes a write cut back).
pub(super) struct Cursor<'a> {
    out: &'a mut Vec<u8>,
    pos: usize,
    /// The least room a grow makes, so that writes after a [`Cursor::with_vec`] do not
    /// each grow the `Vec` again.
    chunk: usize,
}

impl<'a> Cursor<'a> {
    /// The most bytes one `resize` zero-fills: glibc's `memset` fills up to 2 KiB with
    /// vector stores (~5 instructions a 128 bytes) and more with `rep stosb`, which is
    /// fast but one instruction a byte to callgrind, whose counts are this project's
    /// measure (issue 13).
    const STEP: usize = 2000;

    /// A cursor at the end of `out`, with `room` bytes made; later grows make at least
    /// `chunk` bytes.
    #[inline(always)]
    pub(super) fn new(out: &'a mut Vec<u8>, room: usize, chunk: usize) -> Self {
        let pos = out.len();
        let mut cursor = Cursor { out, pos, chunk };
        cursor.make(room);
        cursor
    }

    /// `n` bytes of room at the cursor, zero-filled in steps of at most [`Cursor::STEP`].
    #[inline(always)]
    fn make(&mut self, n: usize) {
        let end = self.pos + n;
        while self.out.len() < end {
            let len = self.out.len();
            self.out.resize(end.min(len + Self::STEP), 0);
        }
    }

    /// A cursor at the end of `out` with `N` bytes of room, made by one fixed-size copy of
    /// zeros (the compiler inlines it; a `resize` calls `memset`): for the `Vec` writers of
    /// one number, which `write_record_with` calls ~15 times a record.
    #[inline(always)]
    pub(super) fn with_room<const N: usize>(out: &'a mut Vec<u8>) -> Self {
        let pos = out.len();
        out.extend_from_slice(&[0; N]);
        Cursor { out, pos, chunk: 0 }
    }

    /// Where the next byte goes.
    #[inline(always)]
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes written from `start` on.
    #[inline(always)]
    pub(super) fn since(&self, start: usize) -> &[u8] {
        &self.out[start..self.pos]
    }

    /// At least `n` bytes of room at the cursor. The writers below that do not say they
    /// make room write into room the caller made: a fixed-size block each (their docs say
    /// how many bytes), which an index out of the room would turn into a panic.
    #[inline(always)]
    pub(super) fn reserve(&mut self, n: usize) {
        if self.out.len() - self.pos < n {
            self.grow(n);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.make(n.max(self.chunk));
    }

    /// The `Vec` cut to what is written, for `write` to append to; the cursor then stands
    /// at its end, with no room.
    #[inline(always)]
    pub(super) fn with_vec(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.out.truncate(self.pos);
        write(self.out);
        self.pos = self.out.len();
    }

    /// Sets the `Vec`'s length to what is written.
    #[inline(always)]
    pub(super) fn finish(self) {
        self.out.truncate(self.pos);
    }

    /// One byte, room made.
    #[inline(always)]
    pub(super) fn byte(&mut self, b: u8) {
        self.reserve(1);
        self.put(b);
    }

    /// One byte (1 byte of room).
    #[inline(always)]
    fn put(&mut self, b: u8) {
        self.out[self.pos] = b;
        self.pos += 1;
    }

    /// Any bytes (a `memcpy` of their length), room made.
    #[inline(always)]
    pub(super) fn bytes(&mut self, t: &[u8]) {
        self.reserve(t.len());
        self.out[self.pos..self.pos + t.len()].copy_from_slice(t);
        self.pos += t.len();
    }

    /// `text[from..to]`: a fixed 32-byte copy cut back when it is at most 32 bytes with 32
    /// bytes of `text` from `from`, which the compiler inlines, where a short copy of any
    /// length calls `memcpy` (32 bytes of room; longer text makes its own).
    #[inline(always)]
    pub(super) fn text(&mut self, text: &[u8], from: usize, to: usize) {
        if to - from <= 32
            && let Some(block) = text.get(from..from + 32)
        {
            self.out[self.pos..self.pos + 32].copy_from_slice(block);
            self.pos += to - from;
        } else {
            self.bytes(&text[from..to]);
        }
    }

    /// `text[from..to]`, text that needs no escaping, as a JSON string (`write_plain_ascii`;
    /// 34 bytes of room, more for text over 32 bytes).
    #[inline(always)]
    pub(super) fn plain_string(&mut self, text: &[u8], from: usize, to: usize) {
        self.put(b'"');
        self.text(text, from, to);
        self.byte(b'"');
    }

    /// An unsigned integer in decimal (`write_u64`; 20 bytes of room). Below 10^16 (every
    /// number a log holds but a forged one) the digits are made in registers and written
    /// as one 8- or 16-byte store, the leading zeros shifted out (`eight_digits`); above,
    /// right-aligned in a buffer and copied as one 20-byte block.
    #[inline(always)]
    pub(super) fn u64(&mut self, n: u64) {
        if n < 10_000 {
            // Four digits from two digit pairs (a status code, most sizes and ports).
            let pair = |p: u64| u32::from(u16::from_le_bytes(DIGIT_PAIRS[2 * p as usize..][..2].try_into().expect("2 bytes")));
            let digits = pair(n / 100) | pair(n % 100) << 16;
            let skip = u32::from(n < 10) + u32::from(n < 100) + u32::from(n < 1_000);
            self.out[self.pos..self.pos + 4].copy_from_slice(&(digits >> (8 * skip)).to_le_bytes());
            self.pos += 4 - skip as usize;
        } else if n < 100_000_000 {
            let digits = eight_digits(n as u32);
            // Leading zero digits are the low zero bytes of the digits' values; the last
            // digit always counts (so `0` is one digit).
            let skip = ((digits - 0x3030_3030_3030_3030) | 1 << 56).trailing_zeros() / 8;
            self.out[self.pos..self.pos + 8].copy_from_slice(&(digits >> (8 * skip)).to_le_bytes());
            self.pos += 8 - skip as usize;
        } else if n < 10_000_000_000_000_000 {
            let digits = sixteen_digits(n);
            let skip = ((digits - 0x3030_3030_3030_3030_3030_3030_3030_3030) | 1 << 120).trailing_zeros() / 8;
            self.out[self.pos..self.pos + 16].copy_from_slice(&(digits >> (8 * skip)).to_le_bytes());
            self.pos += 16 - skip as usize;
        } else {
            let mut tmp = [b'0'; 40];
            let start = decimal_digits((&mut tmp[..20]).try_into().expect("20 bytes"), n);
            self.out[self.pos..self.pos + 20].copy_from_slice(&tmp[start..start + 20]);
            self.pos += 20 - start;
        }
    }

    /// `value / scale` with up to `digits` decimals, trailing zeros dropped
    /// (`write_fixed`; 28 bytes of room).
    #[inline(always)]
    pub(super) fn fixed(&mut self, value: u64, scale: u64, digits: usize) {
        self.u64(value / scale);
        let mut frac = value % scale;
        if frac == 0 {
            return;
        }
        let mut width = digits;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        if width <= 7 {
            // `.` then the fraction's last `width` digits (of eight, zero-padded), as one
            // 8-byte store.
            let text = eight_digits(frac as u32) >> (8 * (8 - width)) << 8 | u64::from(b'.');
            self.out[self.pos..self.pos + 8].copy_from_slice(&text.to_le_bytes());
            self.pos += width + 1;
            return;
        }
        let mut tmp = [b'0'; 20];
        decimal_digits(&mut tmp, frac);
        self.byte(b'.');
        self.bytes(&tmp[20 - width..20]);
    }

    /// A key, the first `len` bytes of `block`, written `back` bytes before the cursor
    /// (over what is there): one fixed-size copy (`KEY_MAX` bytes of room).
    #[inline(always)]
    pub(super) fn key(&mut self, block: &[u8; KEY_MAX], len: usize, back: usize) {
        let at = self.pos - back;
        self.out[at..at + KEY_MAX].copy_from_slice(block);
        self.pos = at + len;
    }

    /// Byte `b` at `at`, somewhere before the cursor.
    #[inline(always)]
    pub(super) fn set(&mut self, at: usize, b: u8) {
        self.out[at] = b;
    }

    /// `text[from..to]` as a JSON string when [`plain_window`] finds it plain: `"`, one
    /// fixed `N - 2`-byte copy, `"`. False, writing nothing, when it does not (`N` bytes of
    /// room, `N` being 32 or 64).
    #[inline(always)]
    pub(super) fn plain_window<const N: usize, const PERCENT: bool>(&mut self, text: &[u8], from: usize, to: usize) -> bool {
        let Some(window) = plain_window::<N, PERCENT>(text, from, to) else { return false };
        let n = to - from;
        let room = &mut self.out[self.pos..self.pos + N];
        room[0] = b'"';
        room[1..N - 1].copy_from_slice(&window[..N - 2]);
        room[1 + n] = b'"';
        self.pos += n + 2;
        true
    }

    /// `raw` percent-decoded (once, or twice when `double`) as a JSON string: what
    /// `write_decoded_str` writes. Decoding once, ASCII text is written at the cursor
    /// (`write_decoded_ascii_at`, in room for twice the text, made here); else the `Vec` way.
    #[inline(always)]
    pub(super) fn decoded_str(&mut self, raw: &[u8], double: bool) {
        if !double {
            let n = 2 * raw.len() + 16;
            self.reserve(n + 2);
            let room = &mut self.out[self.pos..self.pos + n + 2];
            room[0] = b'"';
            if let Some(end) = write_decoded_ascii_at(&mut room[1..n + 1], raw) {
                room[1 + end] = b'"';
                self.pos += end + 2;
                return;
            }
        }
        self.with_vec(|out| write_decoded_rest(out, raw, double));
    }
}
