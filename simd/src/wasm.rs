//! wasm simd128, four 16-byte compares a block.

use super::{BLOCK, Fields, split_next_with, split_with};
use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, v128, v128_load};

/// For builds with `-C target-feature=+simd128` (every current browser).
pub fn split(fields: &mut Fields, line: &[u8], at_least: usize) {
    // SAFETY: this module is only compiled when simd128 is enabled for the whole build
    // (which also makes the call safe on newer compilers, hence the allow).
    #[allow(unused_unsafe)]
    unsafe {
        simd128(fields, line, at_least)
    }
}

#[target_feature(enable = "simd128")]
fn simd128(fields: &mut Fields, line: &[u8], at_least: usize) {
    let tabs = u8x16_splat(b'\t');
    split_with(fields, line, at_least, |block: &[u8; BLOCK]| {
        let mut m = 0u64;
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `v128_load` has no alignment requirement.
            let v = unsafe { v128_load(part.as_ptr().cast::<v128>()) };
            m |= u64::from(u8x16_bitmask(u8x16_eq(v, tabs))) << (16 * k);
        }
        m
    })
}

/// [`Fields::split_next`] with simd128.
pub fn split_next(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    // SAFETY: as for `split`.
    #[allow(unused_unsafe)]
    unsafe {
        next_simd128(fields, buf, at, at_least)
    }
}

#[target_feature(enable = "simd128")]
fn next_simd128(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    let (tabs, newlines) = (u8x16_splat(b'\t'), u8x16_splat(b'\n'));
    split_next_with(fields, buf, at, at_least, |block: &[u8; BLOCK]| {
        let (mut t, mut n) = (0u64, 0u64);
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `v128_load` has no alignment requirement.
            let v = unsafe { v128_load(part.as_ptr().cast::<v128>()) };
            t |= u64::from(u8x16_bitmask(u8x16_eq(v, tabs))) << (16 * k);
            n |= u64::from(u8x16_bitmask(u8x16_eq(v, newlines))) << (16 * k);
        }
        (t, n)
    })
}
