//! NEON, four 16-byte compares a block. NEON has no movemask: each compare result is
//! ANDed with the bit of its byte's position (1, 2, 4, … 128 per 8 bytes) and three
//! rounds of pairwise adds fold the four vectors into 64 bits, one per byte.

use super::{BLOCK, Fields, split_next_with, split_with};
use core::arch::aarch64::{
    uint8x16_t, vandq_u8, vceqq_u8, vdupq_n_u8, vgetq_lane_u64, vld1q_u8, vpaddq_u8, vreinterpretq_u64_u8,
};

/// NEON is part of AArch64, so this path needs no detection.
pub fn split(fields: &mut Fields, line: &[u8], at_least: usize) {
    // SAFETY: every AArch64 CPU has NEON.
    unsafe { neon(fields, line, at_least) }
}

#[target_feature(enable = "neon")]
fn neon(fields: &mut Fields, line: &[u8], at_least: usize) {
    let tabs = vdupq_n_u8(b'\t');
    const BITS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    // SAFETY: `BITS` is 16 readable bytes.
    let bits = unsafe { vld1q_u8(BITS.as_ptr()) };
    split_with(fields, line, at_least, |block: &[u8; BLOCK]| {
        let mut v = [vdupq_n_u8(0); 4];
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `vld1q_u8` has no alignment requirement.
            let bytes = unsafe { vld1q_u8(part.as_ptr()) };
            v[k] = vandq_u8(vceqq_u8(bytes, tabs), bits);
        }
        let sum = vpaddq_u8(vpaddq_u8(v[0], v[1]), vpaddq_u8(v[2], v[3]));
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(sum, sum)))
    })
}
/// [`Fields::split_next`] with NEON.
pub fn split_next(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    // SAFETY: every AArch64 CPU has NEON.
    unsafe { next_neon(fields, buf, at, at_least) }
}

#[target_feature(enable = "neon")]
fn next_neon(fields: &mut Fields, buf: &[u8], at: usize, at_least: usize) -> usize {
    let (tabs, newlines) = (vdupq_n_u8(b'\t'), vdupq_n_u8(b'\n'));
    const BITS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    // SAFETY: `BITS` is 16 readable bytes.
    let bits = unsafe { vld1q_u8(BITS.as_ptr()) };
    // The four compare results (each ANDed with its byte's bit) folded into 64 bits.
    let fold = |v: [uint8x16_t; 4]| {
        let sum = vpaddq_u8(vpaddq_u8(v[0], v[1]), vpaddq_u8(v[2], v[3]));
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(sum, sum)))
    };
    split_next_with(fields, buf, at, at_least, |block: &[u8; BLOCK]| {
        let (mut t, mut n) = ([vdupq_n_u8(0); 4], [vdupq_n_u8(0); 4]);
        for (k, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: `part` is 16 readable bytes; `vld1q_u8` has no alignment requirement.
            let bytes = unsafe { vld1q_u8(part.as_ptr()) };
            t[k] = vandq_u8(vceqq_u8(bytes, tabs), bits);
            n[k] = vandq_u8(vceqq_u8(bytes, newlines), bits);
        }
        (fold(t), fold(n))
    })
}
