//! Field splitting for `cflog-core`: the spans between the TABs of one log line.
//!
//! This crate is the only code of cflog allowed `unsafe`, and only for one thing: loading
//! 16 or 32 bytes of the line into a vector register (`_mm_loadu_si128`,
//! `_mm256_loadu_si256`, `vld1q_u8`, `v128_load`), each load just after a bounds check
//! that the whole block lies inside the line. Comparing, making the bit mask and walking
//! its bits are safe code. Every path is checked equal to [`split_tabs_scalar`] by
//! proptest and over the fuzz corpus (`tests/equal.rs`); in `make test` the aarch64 path
//! runs under qemu (`make test-simd-aarch64`) and the simd128 path as wasm32-wasip1 under
//! Node's WASI (`make test-simd-wasm`).
//!
//! Paths, chosen once per call (the AVX2 check is a cached atomic load):
//! - x86-64: AVX2 when the CPU has it (detected at run time with the `std` feature), else
//!   SSE2, which every x86-64 CPU has;
//! - aarch64: NEON (part of the base architecture, so of every Graviton);
//! - wasm32 built with `+simd128`: simd128;
//! - anything else: the scalar loop.
//!
//! Why not memchr per TAB: memchr is vectorised too, but a call per 25-byte field spends
//! more on set-up than on scanning; one pass that turns each block into a bit mask of its
//! TABs costs a few instructions per 16 bytes plus a few per TAB (bench/RESULTS.md).
//!
//! ```
//! let mut spans = Vec::new();
//! cflog_simd::split_tabs(b"a\tbc\t", &mut spans);
//! assert_eq!(spans, [(0, 1), (2, 4), (5, 5)]);
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

/// Fills `spans` with the `(start, end)` byte offsets of each TAB-separated field of
/// `line` (one more than the number of TABs; an empty line is one empty field). Offsets
/// are `u32`: lines are capped far below 4 GiB by the parser.
#[inline]
pub fn split_tabs(line: &[u8], spans: &mut Vec<(u32, u32)>) {
    #[cfg(target_arch = "x86_64")]
    {
        #[cfg(feature = "std")]
        if std::is_x86_feature_detected!("avx2") {
            return x86::split_avx2_checked(line, spans);
        }
        x86::split_sse2(line, spans)
    }
    #[cfg(target_arch = "aarch64")]
    {
        neon::split(line, spans)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wasm::split(line, spans)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    {
        split_tabs_scalar(line, spans)
    }
}

/// The reference: one byte at a time. Every vector path must give exactly this.
pub fn split_tabs_scalar(line: &[u8], spans: &mut Vec<(u32, u32)>) {
    spans.clear();
    let mut start = 0u32;
    tail(line, 0, &mut start, spans);
    spans.push((start, line.len() as u32));
}

/// Which path [`split_tabs`] takes on this machine: `"avx2"`, `"sse2"`, `"neon"`,
/// `"simd128"` or `"scalar"` (for benchmark reports).
pub fn path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        #[cfg(feature = "std")]
        if std::is_x86_feature_detected!("avx2") {
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

/// Pushes a span for every set bit of `mask`; bit `k << shift` stands for byte `base + k`
/// (`shift` is 0 for one bit per byte, 2 for NEON's four bits per byte, of which the
/// caller keeps one).
#[inline(always)]
#[allow(dead_code)] // unused on targets with only the scalar path
fn emit(mut mask: u64, shift: u32, base: u32, start: &mut u32, spans: &mut Vec<(u32, u32)>) {
    while mask != 0 {
        let tab = base + (mask.trailing_zeros() >> shift);
        spans.push((*start, tab));
        *start = tab + 1;
        mask &= mask - 1;
    }
}

/// The bytes from `from` on, one at a time (the end of a line shorter than a block).
#[inline(always)]
fn tail(line: &[u8], from: usize, start: &mut u32, spans: &mut Vec<(u32, u32)>) {
    for (i, &b) in line.iter().enumerate().skip(from) {
        if b == b'\t' {
            spans.push((*start, i as u32));
            *start = i as u32 + 1;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod x86 {
    //! SSE2 (16 bytes a step) and AVX2 (32 bytes a step).
    use super::{emit, tail};
    use alloc::vec::Vec;
    use core::arch::x86_64::{
        __m128i, __m256i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8, _mm256_cmpeq_epi8,
        _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
    };

    /// SSE2 is part of x86-64, so this path needs no detection.
    pub fn split_sse2(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        // SAFETY: every x86-64 CPU has SSE2.
        unsafe { sse2(line, spans) }
    }

    #[target_feature(enable = "sse2")]
    fn sse2(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        spans.clear();
        sse2_from(line, 0, 0, spans);
    }

    /// Splits `line[i..]` (a multiple of 16 bytes at a time, then byte by byte) and ends
    /// the last field; `start` is where the current field began.
    #[target_feature(enable = "sse2")]
    fn sse2_from(line: &[u8], mut i: usize, mut start: u32, spans: &mut Vec<(u32, u32)>) {
        let tabs = _mm_set1_epi8(b'\t' as i8);
        while i + 16 <= line.len() {
            let block = &line[i..i + 16];
            // SAFETY: `block` is 16 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(block.as_ptr().cast::<__m128i>()) };
            let mask = _mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)) as u32;
            emit(u64::from(mask), 0, i as u32, &mut start, spans);
            i += 16;
        }
        tail(line, i, &mut start, spans);
        spans.push((start, line.len() as u32));
    }

    /// The AVX2 path, `None` when the CPU lacks AVX2 (so tests can run it wherever it
    /// exists, and callers need no `unsafe`).
    #[cfg(feature = "std")]
    pub fn split_avx2(line: &[u8], spans: &mut Vec<(u32, u32)>) -> Option<()> {
        std::is_x86_feature_detected!("avx2").then(|| split_avx2_checked(line, spans))
    }

    #[cfg(feature = "std")]
    pub(crate) fn split_avx2_checked(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        debug_assert!(std::is_x86_feature_detected!("avx2"));
        // SAFETY: only called after `is_x86_feature_detected!("avx2")` returned true.
        unsafe { avx2(line, spans) }
    }

    #[cfg(feature = "std")]
    #[target_feature(enable = "avx2")]
    fn avx2(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        spans.clear();
        let tabs = _mm256_set1_epi8(b'\t' as i8);
        let (mut start, mut i) = (0u32, 0usize);
        while i + 32 <= line.len() {
            let block = &line[i..i + 32];
            // SAFETY: `block` is 32 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
            let mask = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, tabs)) as u32;
            emit(u64::from(mask), 0, i as u32, &mut start, spans);
            i += 32;
        }
        // The rest (under 32 bytes) with SSE2, which every AVX2 CPU has.
        sse2_from(line, i, start, spans);
    }
}

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
pub mod neon {
    //! NEON, 16 bytes a step. NEON has no movemask: narrowing each 16-bit lane of the
    //! compare result right by 4 leaves 4 bits per byte in a 64-bit word (the usual
    //! `shrn` trick); one bit of each nibble is kept.
    use super::{emit, tail};
    use alloc::vec::Vec;
    use core::arch::aarch64::{vceqq_u8, vdupq_n_u8, vget_lane_u64, vld1q_u8, vreinterpret_u64_u8, vreinterpretq_u16_u8, vshrn_n_u16};

    /// NEON is part of AArch64, so this path needs no detection.
    pub fn split(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        // SAFETY: every AArch64 CPU has NEON.
        unsafe { neon(line, spans) }
    }

    #[target_feature(enable = "neon")]
    fn neon(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        spans.clear();
        let tabs = vdupq_n_u8(b'\t');
        let (mut start, mut i) = (0u32, 0usize);
        while i + 16 <= line.len() {
            let block = &line[i..i + 16];
            // SAFETY: `block` is 16 readable bytes; `vld1q_u8` has no alignment requirement.
            let v = unsafe { vld1q_u8(block.as_ptr()) };
            let eq = vceqq_u8(v, tabs);
            let nibbles = vget_lane_u64::<0>(vreinterpret_u64_u8(vshrn_n_u16::<4>(vreinterpretq_u16_u8(eq))));
            emit(nibbles & 0x8888_8888_8888_8888, 2, i as u32, &mut start, spans);
            i += 16;
        }
        tail(line, i, &mut start, spans);
        spans.push((start, line.len() as u32));
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
pub mod wasm {
    //! wasm simd128, 16 bytes a step.
    use super::{emit, tail};
    use alloc::vec::Vec;
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load};

    /// For builds with `-C target-feature=+simd128` (every current browser).
    pub fn split(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        // SAFETY: this module is only compiled when simd128 is enabled for the whole build
        // (which also makes the call safe on newer compilers, hence the allow).
        #[allow(unused_unsafe)]
        unsafe {
            simd128(line, spans)
        }
    }

    #[target_feature(enable = "simd128")]
    fn simd128(line: &[u8], spans: &mut Vec<(u32, u32)>) {
        spans.clear();
        let tabs = u8x16_splat(b'\t');
        let (mut start, mut i) = (0u32, 0usize);
        while i + 16 <= line.len() {
            let block = &line[i..i + 16];
            // SAFETY: `block` is 16 readable bytes; `v128_load` has no alignment requirement.
            let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
            emit(u64::from(u8x16_bitmask(u8x16_eq(v, tabs))), 0, i as u32, &mut start, spans);
            i += 16;
        }
        tail(line, i, &mut start, spans);
        spans.push((start, line.len() as u32));
    }
}
