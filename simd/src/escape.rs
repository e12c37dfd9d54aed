//! Classifying 16 bytes at once for cflog-core's JSON writer: which bytes of a block a
//! JSON string cannot hold as they are (below 0x20, `"`, `\`), optionally also every byte
//! of 0x80 or more (text whose UTF-8 is still to be checked) and every `%` (text still to
//! be percent-decoded). One bit a byte, bit `k` for byte `k`.
//!
//! `cflog-core` (`json::Flags`) finds the bytes its JSON strings need to handle with this;
//! the safe code it had for it — 8-byte SWAR words with carries masked off, then their
//! high bits gathered by a multiply — was ~50 instructions a 16-byte block, about a
//! third of the enriched JSON's percent-decoded `cs-headers` (issue 13). A vector compare
//! per byte class and a movemask are ~8.
//!
//! Paths, all fixed at compile time (16-byte blocks need nothing wider than the base
//! vector unit, so unlike the field splitter there is no run-time AVX2 check):
//! - x86-64: SSE2, which every x86-64 CPU has;
//! - aarch64: NEON (part of the base architecture, so of every Graviton);
//! - wasm32 built with `+simd128`: simd128;
//! - anything else: [`json_block_scalar`].
//!
//! The only `unsafe` is the 16-byte load from a `&[u8; 16]`. Every path is checked equal to
//! [`json_block_scalar`] (and that to a byte-by-byte oracle) by proptest in
//! `tests/escape.rs`, which `make test-simd-aarch64` and `make test-simd-wasm` also run.

/// The mask of `block` on this machine's path: bit `k` set when byte `k` is below 0x20,
/// `"` or `\`, or (with `HIGH`) 0x80 or more, or (with `PERCENT`) `%`.
#[inline(always)]
pub fn json_block<const HIGH: bool, const PERCENT: bool>(block: &[u8; 16]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        x86::json_block::<HIGH, PERCENT>(block)
    }
    #[cfg(target_arch = "aarch64")]
    {
        neon::json_block::<HIGH, PERCENT>(block)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wasm::json_block::<HIGH, PERCENT>(block)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    {
        json_block_scalar::<HIGH, PERCENT>(block)
    }
}

/// The reference, one byte at a time: what every path must give.
pub fn json_block_scalar<const HIGH: bool, const PERCENT: bool>(block: &[u8; 16]) -> u32 {
    let mut m = 0u32;
    for (k, &b) in block.iter().enumerate() {
        let flagged = b < 0x20 || b == b'"' || b == b'\\' || (HIGH && b >= 0x80) || (PERCENT && b == b'%');
        m |= u32::from(flagged) << k;
    }
    m
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod x86 {
    //! SSE2: bytes below 0x20 by a signed compare (which also takes 0x80 and up, as
    //! negative numbers) or, without `HIGH`, as the bytes an unsigned `min` with 0x1f
    //! leaves unchanged; the others by equality; one `pmovmskb`.
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// [`super::json_block`] on x86-64 (SSE2 is part of x86-64, so no detection).
    #[inline(always)]
    pub fn json_block<const HIGH: bool, const PERCENT: bool>(block: &[u8; 16]) -> u32 {
        // SAFETY: `block` is 16 readable bytes and `loadu` has no alignment requirement;
        // the other intrinsics only need SSE2, which every x86-64 CPU has (and which the
        // x86-64 targets enable, hence the allow on compilers where they are safe).
        #[allow(unused_unsafe)]
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let control = if HIGH {
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))
            } else {
                _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v)
            };
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            let mut m = _mm_or_si128(control, _mm_or_si128(quote, backslash));
            if PERCENT {
                m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'%' as i8)));
            }
            // The 16 mask bits, zero-extended.
            _mm_movemask_epi8(m) as u32
        }
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
pub mod neon {
    //! NEON: unsigned compares and equalities, then (NEON has no movemask) each lane ANDed
    //! with the bit of its position within its 8 bytes and three rounds of pairwise adds,
    //! which leave the low 8 bits in byte 0 and the high 8 in byte 1.
    use core::arch::aarch64::{
        vandq_u8, vceqq_u8, vcgeq_u8, vcltq_u8, vdupq_n_u8, vgetq_lane_u16, vld1q_u8, vorrq_u8, vpaddq_u8, vreinterpretq_u16_u8,
    };

    const BITS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];

    /// [`super::json_block`] on AArch64 (NEON is part of AArch64, so no detection).
    #[inline(always)]
    pub fn json_block<const HIGH: bool, const PERCENT: bool>(block: &[u8; 16]) -> u32 {
        // SAFETY: `block` and `BITS` are 16 readable bytes and `vld1q_u8` has no alignment
        // requirement; the other intrinsics only need NEON, which every AArch64 CPU has
        // (and which the AArch64 targets enable, hence the allow on compilers where they
        // are safe).
        #[allow(unused_unsafe)]
        unsafe {
            let v = vld1q_u8(block.as_ptr());
            let mut m = vorrq_u8(vcltq_u8(v, vdupq_n_u8(0x20)), vorrq_u8(vceqq_u8(v, vdupq_n_u8(b'"')), vceqq_u8(v, vdupq_n_u8(b'\\'))));
            if HIGH {
                m = vorrq_u8(m, vcgeq_u8(v, vdupq_n_u8(0x80)));
            }
            if PERCENT {
                m = vorrq_u8(m, vceqq_u8(v, vdupq_n_u8(b'%')));
            }
            let bits = vandq_u8(m, vld1q_u8(BITS.as_ptr()));
            let sum = vpaddq_u8(bits, bits);
            let sum = vpaddq_u8(sum, sum);
            let sum = vpaddq_u8(sum, sum);
            u32::from(vgetq_lane_u16::<0>(vreinterpretq_u16_u8(sum)))
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
pub mod wasm {
    //! wasm simd128: a signed compare below 0x20 (with `HIGH`) or an unsigned one, the
    //! equalities, `i8x16.bitmask`.
    use core::arch::wasm32::{i8x16_lt, i8x16_splat, u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or};

    /// [`super::json_block`] for builds with `-C target-feature=+simd128`.
    #[inline(always)]
    pub fn json_block<const HIGH: bool, const PERCENT: bool>(block: &[u8; 16]) -> u32 {
        // SAFETY: `block` is 16 readable bytes and `v128_load` has no alignment requirement;
        // this module is only compiled when simd128 is enabled for the whole build (which
        // also makes the other calls safe on newer compilers, hence the allow).
        #[allow(unused_unsafe)]
        unsafe {
            let v = v128_load(block.as_ptr().cast::<v128>());
            let control = if HIGH { i8x16_lt(v, i8x16_splat(0x20)) } else { u8x16_lt(v, u8x16_splat(0x20)) };
            let mut m = v128_or(control, v128_or(u8x16_eq(v, u8x16_splat(b'"')), u8x16_eq(v, u8x16_splat(b'\\'))));
            if PERCENT {
                m = v128_or(m, u8x16_eq(v, u8x16_splat(b'%')));
            }
            u32::from(u8x16_bitmask(m))
        }
    }
}
