//! Field splitting for `cflog-core`: where the TAB-separated fields of one log line begin;
//! ([`escape`]) which bytes of a 16-byte block a JSON string must escape; ([`ipv4`])
//! reading a dotted quad without a branch on its octets' lengths; ([`base64`]) decoding
//! the Lambda's base64 records; and ([`ascii`]) a short ASCII field as `&str` from one word
//! test.
//!
//! This crate is the only code of cflog allowed `unsafe`, and only for two things. Moving
//! bytes between memory and a vector register (`_mm_loadu_si128`,
//! `_mm256_loadu_si256`, `vld1q_u8`, `v128_load`), each load from a `&[u8; 64]` block of
//! the line (or of a zero-padded copy of its end), or from a `&[u8; 16]` for [`escape`]
//! and [`ipv4`], so every load lies inside it; [`base64`] also loads from `&[u8; 32]` /
//! `&[u8; 64]` blocks of its text and stores into `&mut [u8; 16]`, `&mut [u8; 8]` and
//! `&mut [u8; 48]` blocks of its output (on x86-64 and AArch64 the intrinsics themselves
//! are still `unsafe` to call outside `#[target_feature]` functions). The one other
//! `unsafe` is [`ascii`]'s `from_utf8_unchecked` of at most 16 bytes that one word test
//! found all below 0x80 (its oracle: `core::str::from_utf8`, by proptest and in core's
//! `parse_line` fuzz target). Comparing, making the bit mask and walking its bits are safe
//! code. Every path is checked equal to
//! [`split_tabs_scalar`] (and that to a naive `split`) by proptest and over the fuzz
//! corpus (`tests/equal.rs`); in `make test` the aarch64 path runs under qemu
//! (`make test-simd-aarch64`) and the simd128 path as wasm32-wasip1 under Node's WASI
//! (`make test-simd-wasm`). [`escape`], [`ipv4`] and [`base64`] have their own oracles
//! (`tests/escape.rs`, `tests/ipv4.rs`: `core::net`'s parser, `tests/base64.rs`: the
//! `base64` crate).
//!
//! Paths, chosen once per call (the AVX2 check is a cached atomic load):
//! - x86-64: AVX2 when the CPU has it (detected at run time with the `std` feature), else
//!   SSE2, which every x86-64 CPU has;
//! - aarch64: NEON (part of the base architecture, so of every Graviton);
//! - wasm32 built with `+simd128`: simd128;
//! - anything else: the scalar loop.
//!
//! Each path turns a 64-byte block into a 64-bit mask of its TABs and writes one `u32`
//! per TAB (no `Vec::push`: the output is kept long enough for a whole block, so a write
//! is a store and an index increment); the line's last partial block is the line's last
//! 64 bytes with the mask shifted (or, for a line under 64 bytes, a zero-padded copy).
//! A caller that needs only the first fields asks for them ([`Fields::split`]'s
//! `at_least`): past them the TABs are only counted, one `popcnt` per block.
//!
//! Why not memchr per TAB: memchr is vectorised too, but a call per 25-byte field spends
//! more on set-up than on scanning (bench/RESULTS.md, issue 13).
//!
//! ```
//! let mut fields = cflog_simd::Fields::new();
//! fields.split(b"a\tbc\t", usize::MAX);
//! assert_eq!(fields.count(), 3);
//! assert_eq!(fields.bounds(), [0, 2, 5, 6]);
//! ```
//!
//! # Crate features
//!
//! - `std` (default): run-time AVX2 detection on x86-64.

#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

use alloc::vec::Vec;

pub mod ascii;
pub mod base64;
pub mod escape;
pub mod ipv4;
pub use escape::json_block;

/// Block size of every path: one 64-bit mask.
const BLOCK: usize = 64;

/// The fields of one line, as where each begins. Reused from line to line, so splitting
/// allocates nothing once it has grown to the line with the most TABs.
///
/// After [`split`](Fields::split), [`bounds`](Fields::bounds) is `b` with `b[0] = 0` and
/// `b[k + 1]` = one past the `k`-th TAB (where field `k + 1` begins); when every TAB was
/// recorded it ends with `line.len() + 1`. Field `i` is then `line[b[i]..b[i + 1] - 1]`
/// for every `i + 1 < b.len()`. Offsets are `u32`: the parser caps lines far below 4 GiB.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    /// `known` meaningful entries, then scratch room for one block's writes.
    starts: Vec<u32>,
    known: usize,
    count: usize,
}

impl Fields {
    /// No line yet: no fields and no bounds.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Splits `line`, recording the bounds of at least its first `at_least` fields (all of
    /// them with `usize::MAX`; more than asked when they end in the same 64-byte block) and
    /// counting the rest.
    #[inline]
    pub fn split(&mut self, line: &[u8], at_least: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            #[cfg(feature = "std")]
            if x86::has_avx2() {
                return x86::split_avx2_checked(self, line, at_least);
            }
            x86::split_sse2(self, line, at_least)
        }
        #[cfg(target_arch = "aarch64")]
        {
            neon::split(self, line, at_least)
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            wasm::split(self, line, at_least)
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", all(target_arch = "wasm32", target_feature = "simd128"))))]
        {
            split_scalar_blocks(self, line, at_least)
        }
    }

    /// Splits the line of `buf` that starts at `at`, as [`split`](Fields::split) does,
    /// finding its end in the same pass: `buf` holds many lines, and each 64-byte block
    /// from `at` on gives a mask of its TABs and one of its newlines, so the line is
    /// scanned once instead of once by a newline search and again for its TABs. Returns
    /// where the line ends: the index of the first `\n` at or after `at`, or `buf.len()`.
    /// The line split is `buf[at..end]` without one `\r` before that end (a CRLF line's
    /// `\r` is not part of its last field), exactly what `split` gives for that slice.
    /// A line longer than [`MAX_SCAN`] bytes is cut there (offsets are `u32`; the parser
    /// refuses lines far shorter). Panics when `at` is past `buf.len()`.
    ///
    /// ```
    /// let mut fields = cflog_simd::Fields::new();
    /// let buf = b"a\tbc\r\nd\te\tf";
    /// assert_eq!(fields.split_next(buf, 0, usize::MAX), 5);
    /// assert_eq!(fields.bounds(), [0, 2, 5]);
    /// assert_eq!(fields.split_next(buf, 6, usize::MAX), buf.len());
    /// assert_eq!((fields.count(), fields.bounds()), (3, &[0, 2, 4, 6][..]));
    /// ```
    #[inline]
    pub fn split_next(&mut self, buf: &[u8], at: usize, at_least: usize) -> usize {
        #[cfg(target_arch = "x86_64")]
        {
            #[cfg(feature = "std")]
            if x86::has_avx2() {
                return x86::split_next_avx2_checked(self, buf, at, at_least);
            }
            x86::split_next_sse2(self, buf, at, at_least)
        }
        #[cfg(target_arch = "aarch64")]
        {
            neon::split_next(self, buf, at, at_least)
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        {
            wasm::split_next(self, buf, at, at_least)
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", all(target_arch = "wasm32", target_feature = "simd128"))))]
        {
            split_next_scalar_blocks(self, buf, at, at_least)
        }
    }

    /// How many fields the line has (TABs + 1).
    #[inline]
    pub fn count(&self) -> usize {
        self.count
    }

    /// The recorded field starts (see the type's docs).
    #[inline]
    pub fn bounds(&self) -> &[u32] {
        &self.starts[..self.known]
    }
}

/// The reference: one byte at a time, every TAB recorded. Every path must give exactly
/// what this gives for the fields it records, and the same count.
pub fn split_tabs_scalar(fields: &mut Fields, line: &[u8]) {
    fields.starts.clear();
    fields.starts.push(0);
    for (i, &b) in line.iter().enumerate() {
        if b == b'\t' {
            fields.starts.push(i as u32 + 1);
        }
    }
    fields.starts.push(line.len() as u32 + 1);
    fields.known = fields.starts.len();
    fields.count = fields.known - 1;
}

/// The reference for [`Fields::split_next`]: the first `\n` at or after `at` found one
/// byte at a time, one `\r` before it dropped, then [`split_tabs_scalar`].
pub fn split_next_scalar(fields: &mut Fields, buf: &[u8], at: usize) -> usize {
    let end = buf[at..].iter().position(|&b| b == b'\n').map_or(buf.len(), |p| at + p);
    let line = &buf[at..end];
    split_tabs_scalar(fields, line.strip_suffix(b"\r").unwrap_or(line));
    end
}

/// The longest line [`Fields::split_next`] scans (2 GiB): a longer one is cut there.
pub const MAX_SCAN: usize = 1 << 31;

/// Which path [`Fields::split`] takes on this machine: `"avx2"`, `"sse2"`, `"neon"`,
/// `"simd128"` or `"scalar"` (for benchmark reports).
pub fn path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        #[cfg(feature = "std")]
        if x86::has_avx2() {
            return "avx2";
        }
        "sse2"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon"
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        "simd128"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    {
        "scalar"
    }
}

/// The block loop every path shares; `mask` gives bit `k` set when byte `k` of a block is
/// a TAB. Inlined into each path's `#[target_feature]` function, so the closure's
/// intrinsics are compiled with that feature. A block without TABs costs only its mask
/// and a test; the recording limit is checked only when a block has TABs.
#[inline(always)]
fn split_with(fields: &mut Fields, line: &[u8], at_least: usize, mask: impl Fn(&[u8; BLOCK]) -> u64) {
    let len = line.len();
    let starts = &mut fields.starts;
    if starts.is_empty() {
        starts.resize(2 * BLOCK, 0);
    }
    starts[0] = 0;
    let mut known = 1usize;
    let mut i = 0usize;
    // Recording: until enough fields are known or the line ends. Whole blocks, then the
    // last partial block.
    let mut stopped = false;
    while i + BLOCK <= len {
        let m = mask(line[i..i + BLOCK].try_into().expect("64 bytes"));
        if m != 0 {
            if known > at_least {
                stopped = true;
                break;
            }
            known = record(starts, known, m, i as u32 + 1);
        }
        i += BLOCK;
    }
    if !stopped && i < len {
        let m = last_block_mask(line, i, &mask);
        if m != 0 && known > at_least {
            stopped = true;
        } else {
            known = record(starts, known, m, i as u32 + 1);
        }
    }
    let mut tabs = known - 1;
    if !stopped {
        // Every TAB is recorded: close the last field.
        if starts.len() <= known {
            grow(starts, known);
        }
        starts[known] = len as u32 + 1;
        known += 1;
    } else {
        while i + BLOCK <= len {
            tabs += mask(line[i..i + BLOCK].try_into().expect("64 bytes")).count_ones() as usize;
            i += BLOCK;
        }
        if i < len {
            tabs += last_block_mask(line, i, &mask).count_ones() as usize;
        }
    }
    fields.known = known;
    fields.count = tabs + 1;
}

/// The block loop of [`Fields::split_next`], every path's; `masks` gives a block's TAB
/// mask and newline mask. Each block's TABs before its first newline are recorded (the
/// flattened [`record`] takes a block without TABs too, so the usual block takes no
/// data-dependent branch); the first newline ends the line. Past the fields asked for,
/// TABs are only counted, up to the newline.
#[inline(always)]
fn split_next_with(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize, masks: impl Fn(&[u8; BLOCK]) -> (u64, u64)) -> usize {
    assert!(at <= buf.len(), "split_next at {at}, past the buffer's {} bytes", buf.len());
    let buf = &buf[..buf.len().min(at.saturating_add(MAX_SCAN))];
    let len = buf.len();
    let starts = &mut fields.starts;
    if starts.is_empty() {
        starts.resize(2 * BLOCK, 0);
    }
    starts[0] = 0;
    let mut known = 1usize;
    let mut end = len;
    let mut i = at;
    let mut stopped = false;
    while i < len {
        let (t, n) = block_masks(buf, i, &masks);
        // The TABs before the first newline (all of them when there is none).
        let t = t & before_lowest(n);
        if known > at_least && t != 0 {
            stopped = true;
            break;
        }
        known = record(starts, known, t, (i - at) as u32 + 1);
        if n != 0 {
            end = i + n.trailing_zeros() as usize;
            break;
        }
        i += BLOCK;
    }
    let mut tabs = known - 1;
    if stopped {
        // Counting, from the block that stopped the recording.
        while i < len {
            let (t, n) = block_masks(buf, i, &masks);
            tabs += (t & before_lowest(n)).count_ones() as usize;
            if n != 0 {
                end = i + n.trailing_zeros() as usize;
                break;
            }
            i += BLOCK;
        }
    } else {
        // Every TAB is recorded: close the last field, before a `\r` that ends the line.
        let cr = end > at && buf[end - 1] == b'\r';
        if starts.len() <= known {
            grow(starts, known);
        }
        starts[known] = (end - at - usize::from(cr)) as u32 + 1;
        known += 1;
    }
    fields.known = known;
    fields.count = tabs + 1;
    end
}

/// The bits of `n` below its lowest set bit (all of them for 0).
#[inline(always)]
fn before_lowest(n: u64) -> u64 {
    n.wrapping_sub(1) & !n
}

/// The masks of the block of `buf` at `i` (`i < buf.len()`): 64 bytes, or for the last,
/// partial block the buffer's last 64 bytes shifted (they overlap bytes already seen), or
/// a zero-padded copy when the whole buffer is shorter. Nothing past `buf` is read.
#[inline(always)]
fn block_masks(buf: &[u8], i: usize, masks: &impl Fn(&[u8; BLOCK]) -> (u64, u64)) -> (u64, u64) {
    let len = buf.len();
    if let Some(block) = buf.get(i..i + BLOCK) {
        masks(block.try_into().expect("64 bytes"))
    } else if len >= BLOCK {
        let shift = i + BLOCK - len;
        let (t, n) = masks(buf[len - BLOCK..].try_into().expect("64 bytes"));
        (t >> shift, n >> shift)
    } else {
        let mut padded = [0u8; BLOCK];
        padded[..len - i].copy_from_slice(&buf[i..]);
        masks(&padded)
    }
}

/// The scalar path of [`Fields::split_next`]: its block loop with byte-at-a-time masks.
pub fn split_next_scalar_blocks(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    split_next_with(fields, buf, at, at_least, |block| {
        let (mut t, mut n) = (0u64, 0u64);
        for (k, &b) in block.iter().enumerate() {
            t |= u64::from(b == b'\t') << k;
            n |= u64::from(b == b'\n') << k;
        }
        (t, n)
    })
}

/// Writes `base + k` for every set bit `k` of `m` from `starts[known]` on; returns the new
/// `known`. The output always has room for a whole block, so a write is a store.
#[inline(always)]
fn record(starts: &mut Vec<u32>, known: usize, mut m: u64, base: u32) -> usize {
    let mut room = starts.get_mut(known..known + BLOCK);
    if room.is_none() {
        grow(starts, known);
        room = starts.get_mut(known..known + BLOCK);
    }
    let dst: &mut [u32; BLOCK] = room.and_then(|r| r.try_into().ok()).expect("room for a block");
    // simdjson's "flattening": eight starts written whatever the block's TAB count (a
    // spent mask gives `base + 64`, written past the block's last start and never read:
    // `bounds()` ends at `known`, and the next block or the line's end overwrites it), so
    // the usual block (0–8 TABs) takes no data-dependent branch; more go eight at a time.
    let count = m.count_ones() as usize;
    for slot in dst.iter_mut().take(8) {
        *slot = base + m.trailing_zeros();
        m &= m.wrapping_sub(1);
    }
    if count > 8 {
        let mut k = 8usize;
        while m != 0 {
            dst[k & (BLOCK - 1)] = base + m.trailing_zeros();
            k += 1;
            m &= m - 1;
        }
    }
    known + count
}

/// Room for a block's writes after `known` entries (rare: the output only grows).
#[cold]
#[inline(never)]
fn grow(starts: &mut Vec<u32>, known: usize) {
    starts.resize(2 * (known + BLOCK), 0);
}

/// The mask of the last, partial block, which starts at `i`: the line's last 64 bytes
/// shifted (they overlap bytes already seen), or a zero-padded copy when the whole line is
/// shorter.
#[inline(always)]
fn last_block_mask(line: &[u8], i: usize, mask: &impl Fn(&[u8; BLOCK]) -> u64) -> u64 {
    let len = line.len();
    if len >= BLOCK {
        mask(line[len - BLOCK..].try_into().expect("64 bytes")) >> (i + BLOCK - len)
    } else {
        let mut padded = [0u8; BLOCK];
        padded[..len - i].copy_from_slice(&line[i..]);
        mask(&padded)
    }
}

/// The scalar path: the block loop with a byte-at-a-time mask (targets with no vector
/// path; also tested on every target, as the block loop's own check).
pub fn split_scalar_blocks(fields: &mut Fields, line: &[u8], at_least: usize) {
    split_with(fields, line, at_least, |block| {
        let mut m = 0u64;
        for (k, &b) in block.iter().enumerate() {
            m |= u64::from(b == b'\t') << k;
        }
        m
    })
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod x86;

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
pub mod neon;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
pub mod wasm;

