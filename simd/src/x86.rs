//! SSE2 (four 16-byte compares a block) and AVX2 (two 32-byte compares).

use super::{BLOCK, Fields, split_next_with, split_with};
use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
// The AVX2 path is chosen by run-time detection, which needs `std`.
#[cfg(feature = "std")]
use core::arch::x86_64::{__m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8};

/// SSE2 is part of x86-64, so this path needs no detection.
pub fn split_sse2(fields: &mut Fields, line: &[u8], at_least: usize) {
    // SAFETY: every x86-64 CPU has SSE2.
    unsafe { sse2(fields, line, at_least) }
}

#[target_feature(enable = "sse2")]
fn sse2(fields: &mut Fields, line: &[u8], at_least: usize) {
    let tabs = _mm_set1_epi8(b'\t' as i8);
    split_with(fields, line, at_least, |block: &[u8; BLOCK]| {
        let mut m = 0u64;
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(part.as_ptr().cast::<__m128i>()) };
            m |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)) as u16) << (16 * k);
        }
        m
    })
}

/// [`Fields::split_next`] with SSE2.
pub fn split_next_sse2(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    // SAFETY: every x86-64 CPU has SSE2.
    unsafe { next_sse2(fields, buf, at, at_least) }
}

#[target_feature(enable = "sse2")]
fn next_sse2(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    let (tabs, newlines) = (_mm_set1_epi8(b'\t' as i8), _mm_set1_epi8(b'\n' as i8));
    split_next_with(fields, buf, at, at_least, |block: &[u8; BLOCK]| {
        let (mut t, mut n) = (0u64, 0u64);
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `loadu` has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(part.as_ptr().cast::<__m128i>()) };
            t |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, tabs)) as u16) << (16 * k);
            n |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newlines)) as u16) << (16 * k);
        }
        (t, n)
    })
}

/// Whether the CPU has AVX2 and the bit instructions the AVX2 path also uses (`tzcnt`,
/// `blsr`, `popcnt`: every AVX2 CPU so far has them). The three checks' answer is kept
/// in one byte, so a split pays one inlined load for the choice (three calls into std's
/// detection cost ~20 instructions a line).
#[cfg(feature = "std")]
#[inline]
pub fn has_avx2() -> bool {
    use core::sync::atomic::{AtomicU8, Ordering};
    /// 0: not asked yet, 1: no, 2: yes.
    static AVX2: AtomicU8 = AtomicU8::new(0);
    match AVX2.load(Ordering::Relaxed) {
        0 => {
            let yes = detect_avx2();
            AVX2.store(1 + u8::from(yes), Ordering::Relaxed);
            yes
        }
        known => known == 2,
    }
}

#[cfg(feature = "std")]
#[cold]
fn detect_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("bmi1") && std::is_x86_feature_detected!("popcnt")
}

/// The AVX2 path, `None` when the CPU lacks it (so tests can run it wherever it
/// exists, and callers need no `unsafe`).
#[cfg(feature = "std")]
pub fn split_avx2(fields: &mut Fields, line: &[u8], at_least: usize) -> Option<()> {
    has_avx2().then(|| split_avx2_checked(fields, line, at_least))
}

#[cfg(feature = "std")]
pub(crate) fn split_avx2_checked(fields: &mut Fields, line: &[u8], at_least: usize) {
    debug_assert!(has_avx2());
    // SAFETY: only called after `has_avx2()` returned true.
    unsafe { avx2(fields, line, at_least) }
}

/// [`Fields::split_next`] with AVX2, `None` when the CPU lacks it.
#[cfg(feature = "std")]
pub fn split_next_avx2(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> Option<usize> {
    has_avx2().then(|| split_next_avx2_checked(fields, buf, at, at_least))
}

#[cfg(feature = "std")]
pub(crate) fn split_next_avx2_checked(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    debug_assert!(has_avx2());
    // SAFETY: only called after `has_avx2()` returned true.
    unsafe { next_avx2(fields, buf, at, at_least) }
}

#[cfg(feature = "std")]
#[target_feature(enable = "avx2,bmi1,popcnt")]
fn next_avx2(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    let (tabs, newlines) = (_mm256_set1_epi8(b'\t' as i8), _mm256_set1_epi8(b'\n' as i8));
    split_next_with(fields, buf, at, at_least, |block: &[u8; BLOCK]| {
        let (lo, hi) = block.split_at(32);
        // SAFETY: `lo` and `hi` are 32 readable bytes each; `loadu` has no alignment
        // requirement.
        let (lo, hi) = unsafe {
            (_mm256_loadu_si256(lo.as_ptr().cast::<__m256i>()), _mm256_loadu_si256(hi.as_ptr().cast::<__m256i>()))
        };
        let mask = |v, byte| _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, byte)) as u32;
        let t = u64::from(mask(lo, tabs)) | u64::from(mask(hi, tabs)) << 32;
        let n = u64::from(mask(lo, newlines)) | u64::from(mask(hi, newlines)) << 32;
        (t, n)
    })
}

#[cfg(feature = "std")]
#[target_feature(enable = "avx2,bmi1,popcnt")]
fn avx2(fields: &mut Fields, line: &[u8], at_least: usize) {
    let tabs = _mm256_set1_epi8(b'\t' as i8);
    split_with(fields, line, at_least, |block: &[u8; BLOCK]| {
        let (lo, hi) = block.split_at(32);
        // SAFETY: `lo` and `hi` are 32 readable bytes each; `loadu` has no alignment
        // requirement.
        let (lo, hi) = unsafe {
            (_mm256_loadu_si256(lo.as_ptr().cast::<__m256i>()), _mm256_loadu_si256(hi.as_ptr().cast::<__m256i>()))
        };
        let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, tabs)) as u32;
        let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, tabs)) as u32;
        u64::from(lo) | u64::from(hi) << 32
    })
}
