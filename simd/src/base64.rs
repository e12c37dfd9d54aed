//! Decoding standard base64 (RFC 4648 §4: `A`–`Z`, `a`–`z`, `0`–`9`, `+`, `/`, padded
//! with `=` to a multiple of four characters) for the Lambda, whose Kinesis and Firehose
//! records arrive base64-encoded: a 1 KB log line is ~1,370 characters, decoded once per
//! record.
//!
//! Only canonical text is decoded: a length that is a multiple of 4, the alphabet
//! everywhere but in the last one or two places, which may be `=` (`xx==`, `xxx=`), and the
//! bits a padded group leaves over all zero. Anything else gives `false`, and the caller
//! hands the text to a decoder that says what is wrong (`cflog-lambda` uses the `base64`
//! crate, which accepts exactly this text: `tests/base64.rs` checks the two agree on every
//! text it tries).
//!
//! The `base64-simd` crate's AVX2 loop spent 43 instructions on 32 characters (its decode
//! computes a hash in 16-bit lanes), ~2,070 a record of the Lambda handler (issue 13). The
//! paths here, all checked equal to [`decode_append_scalar`] (and that to the `base64`
//! crate) by proptest in `tests/base64.rs`:
//! - x86-64 with AVX2 (detected at run time, with the `std` feature): 32 characters a
//!   step. Each byte's nibbles pick two bit masks from 16-byte tables (`vpshufb`) whose AND
//!   is zero only for the alphabet (one `vptest` a step); a third table, picked by the high
//!   nibble (and `/`), gives what to add to make the 6-bit value; two multiply-adds
//!   (`vpmaddubsw`, `vpmaddwd`) put each group's 24 bits together, a shuffle and a
//!   permute pack the 24 bytes, and a 16-byte and an 8-byte store write them. This is
//!   Wojciech Muła and Daniel Lemire's decoder ("Faster Base64 Encoding and Decoding Using
//!   AVX2 Instructions", 2018). Two blocks a loop step; what is left of the text but its
//!   last four characters goes a block at a time, the last block overlapping the one
//!   before.
//! - aarch64: NEON (part of the base architecture, so of every Graviton), 64 characters a
//!   step: `vld4q_u8` loads them as four vectors of every fourth character, each is
//!   checked and made 6-bit with the same three tables (`vqtbl1q_u8`), shifts and ORs make
//!   the three output vectors and `vst3q_u8` stores them interleaved: 48 bytes. The last
//!   block overlaps the one before.
//! - anything else, x86-64 without AVX2, text shorter than a block and the last four
//!   characters (which may hold padding): four characters at a time through a 256-entry
//!   table.
//!
//! The only `unsafe` is the vector loads from fixed-size arrays of the text (`&[u8; 32]`,
//! `&[u8; 64]`, and the 16-byte tables) and the stores into fixed-size arrays of the output
//! (`&mut [u8; 16]` and `&mut [u8; 8]`, `&mut [u8; 48]`), each array checked by its
//! slice's bounds first.
//!
//! ```
//! let mut out = b"> ".to_vec();
//! assert!(cflog_simd::base64::decode_append(b"aGVsbG8gd29ybGQ=", &mut out));
//! assert_eq!(out, b"> hello world");
//! assert!(!cflog_simd::base64::decode_append(b"aGVsbG8gd29ybGQ", &mut out));
//! assert_eq!(out, b"> hello world");
//! ```

use alloc::vec::Vec;

/// Room [`decode_append`] makes in the output for text of `len` characters, beyond what is
/// already there: reserving it first means the decode never grows the buffer.
pub const fn room(len: usize) -> usize {
    len / 4 * 3
}

/// Each byte's 6-bit value, or 0xFF for bytes outside the alphabet (`=` included).
const VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Appends what canonical padded base64 `text` decodes to and returns `true`; returns
/// `false` with `out` as it was when `text` is anything else (see the module docs).
#[inline]
pub fn decode_append(text: &[u8], out: &mut Vec<u8>) -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    {
        if super::x86::has_avx2() {
            return decode_with(text, out, x86::blocks_avx2_checked);
        }
        decode_append_scalar(text, out)
    }
    #[cfg(target_arch = "aarch64")]
    {
        decode_with(text, out, neon::blocks)
    }
    #[cfg(not(any(all(target_arch = "x86_64", feature = "std"), target_arch = "aarch64")))]
    {
        decode_append_scalar(text, out)
    }
}

/// The reference: [`decode_append`] four characters at a time, no vector step.
pub fn decode_append_scalar(text: &[u8], out: &mut Vec<u8>) -> bool {
    decode_with(text, out, |_, _| Some(0))
}

/// The decode with `blocks` as the vector step: it decodes whole blocks from the start of
/// the text it is given (never the last four characters, which may hold padding) into the
/// output it is given, and says how many characters it took, or `None` when a block holds
/// a byte outside the alphabet. The rest goes four characters at a time.
#[inline(always)]
fn decode_with(text: &[u8], out: &mut Vec<u8>, blocks: impl FnOnce(&[u8], &mut [u8]) -> Option<usize>) -> bool {
    if text.is_empty() {
        return true;
    }
    if !text.len().is_multiple_of(4) {
        return false;
    }
    let start = out.len();
    out.resize(start + room(text.len()), 0);
    let written = decode_into(text, &mut out[start..], blocks);
    out.truncate(start + written.unwrap_or(0));
    written.is_some()
}

/// [`decode_with`]'s body: how many bytes it wrote into `dst` (which has [`room`] for
/// `text`, whose length is a non-zero multiple of 4), or `None`.
#[inline(always)]
fn decode_into(text: &[u8], dst: &mut [u8], blocks: impl FnOnce(&[u8], &mut [u8]) -> Option<usize>) -> Option<usize> {
    let (body, last) = text.split_at(text.len() - 4);
    let done = blocks(body, dst)?;
    let mut pos = done / 4 * 3;
    for quad in body[done..].chunks_exact(4) {
        let n = quad_bits(quad[0], quad[1], quad[2], quad[3])?;
        dst[pos..pos + 3].copy_from_slice(&n.to_be_bytes()[1..]);
        pos += 3;
    }
    let [a, b, c, d] = [last[0], last[1], last[2], last[3]];
    let (n, len) = match (c, d) {
        (b'=', b'=') => (quad_bits(a, b, b'A', b'A')?, 1),
        (_, b'=') => (quad_bits(a, b, c, b'A')?, 2),
        _ => (quad_bits(a, b, c, d)?, 3),
    };
    // The bits the padding leaves over (the low 4 of `b`, the low 2 of `c`) must be zero.
    let bytes = n.to_be_bytes();
    if bytes[1 + len..].iter().any(|&x| x != 0) {
        return None;
    }
    dst[pos..pos + len].copy_from_slice(&bytes[1..1 + len]);
    Some(pos + len)
}

/// The 24 bits four characters stand for, or `None` when one is outside the alphabet.
#[inline(always)]
fn quad_bits(a: u8, b: u8, c: u8, d: u8) -> Option<u32> {
    let [a, b, c, d] = [a, b, c, d].map(|x| VALUE[usize::from(x)]);
    ((a | b | c | d) < 64).then(|| u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d))
}

/// The nibble tables both vector paths use (Muła and Lemire's): a byte is in the alphabet
/// exactly when `LOW[its low nibble] & HIGH[its high nibble]` is zero, and adding
/// `ROLL[its high nibble]` (`ROLL[1]` for `/`) to it gives its 6-bit value.
#[cfg(any(all(target_arch = "x86_64", feature = "std"), target_arch = "aarch64"))]
mod tables {
    pub(super) const LOW: [u8; 16] = [0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A];
    pub(super) const HIGH: [u8; 16] = [0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10];
    /// `/` + 16, `+` + 19, digits + 4, `A`–`Z` − 65, `a`–`z` − 71 (as wrapping bytes).
    pub(super) const ROLL: [u8; 16] = [0, 16, 19, 4, 191, 191, 185, 185, 0, 0, 0, 0, 0, 0, 0, 0];
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[allow(unsafe_code)]
mod x86 {
    use super::tables::{HIGH, LOW, ROLL};
    use core::arch::x86_64::{
        __m128i, __m256i, _mm_loadu_si128, _mm_storel_epi64, _mm_storeu_si128, _mm256_add_epi8, _mm256_and_si256,
        _mm256_broadcastsi128_si256, _mm256_castsi256_si128, _mm256_cmpeq_epi8, _mm256_extracti128_si256, _mm256_loadu_si256,
        _mm256_madd_epi16, _mm256_maddubs_epi16, _mm256_permutevar8x32_epi32, _mm256_set1_epi8, _mm256_set1_epi32,
        _mm256_setr_epi8, _mm256_setr_epi32, _mm256_shuffle_epi8, _mm256_srli_epi32, _mm256_testz_si256,
    };

    /// [`super::decode_with`]'s vector step with AVX2; only called when `has_avx2()` said yes.
    pub(super) fn blocks_avx2_checked(body: &[u8], dst: &mut [u8]) -> Option<usize> {
        debug_assert!(crate::x86::has_avx2());
        // SAFETY: only called after `has_avx2()` returned true.
        unsafe { blocks_avx2(body, dst) }
    }

    /// A 16-byte table in both 128-bit lanes (`vpshufb` looks up within a lane).
    #[target_feature(enable = "avx2")]
    fn table(t: &[u8; 16]) -> __m256i {
        // SAFETY: `t` is 16 readable bytes; `loadu` has no alignment requirement.
        _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast::<__m128i>()) })
    }

    #[target_feature(enable = "avx2")]
    fn blocks_avx2(body: &[u8], dst: &mut [u8]) -> Option<usize> {
        let (low, high, roll) = (table(&LOW), table(&HIGH), table(&ROLL));
        let (mask_2f, slash) = (_mm256_set1_epi8(0x2F), _mm256_set1_epi8(b'/' as i8));
        // Within each 4-byte group of 6-bit values a, b, c, d: a·64 + b and c·64 + d, then
        // (a·64 + b)·4096 + c·64 + d, the group's 24 bits (little-endian in its 32).
        let (merge_pairs, merge_words) = (_mm256_set1_epi32(0x0140_0140), _mm256_set1_epi32(0x0001_1000));
        // Each group's three bytes, most significant first, packed to the lane's start; then
        // the two lanes' 12 bytes packed together (the last 8 bytes are not stored: copies
        // of the first 8, not zeros, which would cost a blend).
        let pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
        let lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 0, 1);
        // 32 characters into 24 bytes; false when one is outside the alphabet.
        let block = |chunk: &[u8], out: &mut [u8]| -> bool {
            let chunk: &[u8; 32] = chunk.try_into().expect("32 bytes");
            let out: &mut [u8; 24] = out.try_into().expect("24 bytes");
            // SAFETY: `chunk` is 32 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>()) };
            // Nibbles as table indexes: bits 0–3 the nibble, bit 7 clear (`vpshufb` gives
            // zero for a set bit 7; bit 5, which 0x2F keeps, is not looked at).
            let hi = _mm256_and_si256(_mm256_srli_epi32::<4>(v), mask_2f);
            let lo = _mm256_and_si256(v, mask_2f);
            if _mm256_testz_si256(_mm256_shuffle_epi8(low, lo), _mm256_shuffle_epi8(high, hi)) == 0 {
                return false;
            }
            // `/` (high nibble 2, like `+`) takes ROLL[1]: its equality mask is −1.
            let values = _mm256_add_epi8(v, _mm256_shuffle_epi8(roll, _mm256_add_epi8(_mm256_cmpeq_epi8(v, slash), hi)));
            let bits = _mm256_madd_epi16(_mm256_maddubs_epi16(values, merge_pairs), merge_words);
            let packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bits, pack), lanes);
            let (first, rest) = out.split_at_mut(16);
            let rest: &mut [u8; 8] = rest.try_into().expect("8 bytes");
            // SAFETY: `first` is 16 writable bytes and `rest` 8; `storeu` and `storel` have
            // no alignment requirement.
            unsafe {
                _mm_storeu_si128(first.as_mut_ptr().cast::<__m128i>(), _mm256_castsi256_si128(packed));
                _mm_storel_epi64(rest.as_mut_ptr().cast::<__m128i>(), _mm256_extracti128_si256::<1>(packed));
            }
            true
        };
        // Two blocks a step, then the rest a block at a time, the last block overlapping the
        // one before it (its characters decode to the same bytes twice): no scalar tail.
        for (chunk, out) in body.chunks_exact(64).zip(dst.chunks_exact_mut(48)) {
            if !block(&chunk[..32], &mut out[..24]) || !block(&chunk[32..], &mut out[24..]) {
                return None;
            }
        }
        if body.len() < 32 {
            return Some(0);
        }
        let mut at = body.len() / 64 * 64;
        while at < body.len() {
            let from = at.min(body.len() - 32);
            if !block(&body[from..from + 32], &mut dst[from / 4 * 3..from / 4 * 3 + 24]) {
                return None;
            }
            at = from + 32;
        }
        Some(body.len())
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod neon {
    use super::tables::{HIGH, LOW, ROLL};
    use core::arch::aarch64::{
        uint8x16_t, uint8x16x3_t, vaddq_u8, vandq_u8, vceqq_u8, vdupq_n_u8, vld1q_u8, vld4q_u8, vmaxvq_u8, vorrq_u8,
        vqtbl1q_u8, vshlq_n_u8, vshrq_n_u8, vst3q_u8,
    };

    /// [`super::decode_with`]'s vector step with NEON (part of AArch64: no detection).
    pub(super) fn blocks(body: &[u8], dst: &mut [u8]) -> Option<usize> {
        // SAFETY: every AArch64 CPU has NEON.
        unsafe { blocks_neon(body, dst) }
    }

    #[target_feature(enable = "neon")]
    fn blocks_neon(body: &[u8], dst: &mut [u8]) -> Option<usize> {
        // SAFETY: the tables are 16 readable bytes each; `vld1q_u8` has no alignment
        // requirement.
        let (low, high, roll) = unsafe { (vld1q_u8(LOW.as_ptr()), vld1q_u8(HIGH.as_ptr()), vld1q_u8(ROLL.as_ptr())) };
        let (nibble, slash) = (vdupq_n_u8(0x0F), vdupq_n_u8(b'/'));
        // Every fourth character's 6-bit value, and a vector that is zero only when all of
        // them were in the alphabet.
        let value = |v: uint8x16_t| {
            let hi = vshrq_n_u8::<4>(v);
            let bad = vandq_u8(vqtbl1q_u8(low, vandq_u8(v, nibble)), vqtbl1q_u8(high, hi));
            (vaddq_u8(v, vqtbl1q_u8(roll, vaddq_u8(vceqq_u8(v, slash), hi))), bad)
        };
        // 64 characters into 48 bytes; false when one is outside the alphabet.
        let block = |chunk: &[u8], out: &mut [u8]| -> bool {
            let chunk: &[u8; 64] = chunk.try_into().expect("64 bytes");
            let out: &mut [u8; 48] = out.try_into().expect("48 bytes");
            // SAFETY: `chunk` is 64 readable bytes; `vld4q_u8` has no alignment requirement.
            let v = unsafe { vld4q_u8(chunk.as_ptr()) };
            let ((a, bad_a), (b, bad_b), (c, bad_c), (d, bad_d)) = (value(v.0), value(v.1), value(v.2), value(v.3));
            if vmaxvq_u8(vorrq_u8(vorrq_u8(bad_a, bad_b), vorrq_u8(bad_c, bad_d))) != 0 {
                return false;
            }
            let bytes = uint8x16x3_t(
                vorrq_u8(vshlq_n_u8::<2>(a), vshrq_n_u8::<4>(b)),
                vorrq_u8(vshlq_n_u8::<4>(b), vshrq_n_u8::<2>(c)),
                vorrq_u8(vshlq_n_u8::<6>(c), d),
            );
            // SAFETY: `out` is 48 writable bytes; `vst3q_u8` has no alignment requirement.
            unsafe { vst3q_u8(out.as_mut_ptr(), bytes) };
            true
        };
        for (chunk, out) in body.chunks_exact(64).zip(dst.chunks_exact_mut(48)) {
            if !block(chunk, out) {
                return None;
            }
        }
        // The rest: one more block, overlapping the one before it (its characters decode to
        // the same bytes twice), when the body has one at all.
        let len = body.len();
        if len < 64 {
            return Some(0);
        }
        if !len.is_multiple_of(64) && !block(&body[len - 64..], &mut dst[(len - 64) / 4 * 3..len / 4 * 3]) {
            return None;
        }
        Some(len)
    }
}
