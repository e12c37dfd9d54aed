//! Dotted quads (`192.0.2.10`) read with one 16-byte vector and a table of the 81 shapes
//! an address can have (each octet 1–3 digits), after Wojciech Muła's SIMD IPv4 parser.
//!
//! Why: in real logs the octets' lengths are random, so a parser that branches on them
//! mispredicts about twice an address, which cost more than reading the digits (issue 13:
//! `c-ip` was a fifth of parse + typed access of ten fields). Here the shape is a table
//! lookup by the address's dot mask: no branch depends on the digits.
//!
//! The rules are `core::net`'s `Ipv4Addr` parser's: four octets of 1–3 ASCII digits, no
//! leading zero in an octet of two or three digits, each at most 255, nothing else. The
//! one `unsafe` is loading 16 bytes into a vector register from a `&[u8; 16]` (the address
//! copied into a zeroed array, or a table row), as elsewhere in this crate.

/// One shape: octet lengths `(l0, l1, l2, l3)`.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[derive(Clone, Copy)]
struct Shape {
    /// `pshufb` indices: octet `k` to bytes `4k..4k + 3` as hundreds, tens, ones (right
    /// aligned; 0x80, which gives zero, where it has fewer digits); byte `4k + 3` zero.
    shuffle: [u8; 16],
    /// Bit `i` set where byte `i` is a dot.
    dots: u16,
    /// Bit `i` set where byte `i` is the first digit of an octet of two or three digits
    /// (it must not be `0`).
    leads: u16,
    /// The address's length in bytes.
    len: u8,
}

/// The 81 shapes, in the order of `(l0, l1, l2, l3)` counted in base 3.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
const SHAPES: [Shape; 81] = {
    let mut shapes = [Shape { shuffle: [0; 16], dots: 0, leads: 0, len: 0 }; 81];
    let mut n = 0;
    while n < 81 {
        let lens = [n % 3 + 1, n / 3 % 3 + 1, n / 9 % 3 + 1, n / 27 % 3 + 1];
        let mut shape = Shape { shuffle: [0x80; 16], dots: 0, leads: 0, len: 0 };
        let mut start = 0;
        let mut k = 0;
        while k < 4 {
            let l = lens[k];
            let mut j = 0;
            while j < l {
                shape.shuffle[4 * k + 3 - l + j] = (start + j) as u8;
                j += 1;
            }
            if l > 1 {
                shape.leads |= 1 << start;
            }
            if k < 3 {
                shape.dots |= 1 << (start + l);
            }
            start += l + 1;
            k += 1;
        }
        shape.len = (start - 1) as u8;
        shapes[n] = shape;
        n += 1;
    }
    shapes
};

/// Which shapes have a dot mask, by `(dots >> 1) & 0x7ff` (the first dot is at byte 1–3,
/// the last at byte 11 at most): the one whose last octet has one digit (the dots do not
/// tell the last octet's length; the shape with `l3` digits is 27 × (`l3` − 1) further on).
/// 255 for none. A mask is checked against its shape's, so other bits may land on any entry.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
const SHAPE_OF: [u8; 2048] = {
    let mut table = [255u8; 2048];
    let mut n = 0;
    while n < 27 {
        table[(SHAPES[n].dots >> 1) as usize] = n as u8;
        n += 1;
    }
    table
};

/// The address's four octets, `None` when `input` is not a dotted quad; the outer `None`
/// when this machine has no vector path for it (then use a scalar reader).
#[inline]
pub fn parse(input: &[u8]) -> Option<Option<[u8; 4]>> {
    #[cfg(all(target_arch = "x86_64", feature = "std"))]
    if crate::x86::has_avx2() {
        return Some(x86_checked(input));
    }
    let _ = input;
    None
}

/// The address as the low bytes of a 16-byte array, zero after it; `None` when it is not
/// 7–15 bytes long. From two overlapping word loads, not a byte copy.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[inline(always)]
fn padded(input: &[u8]) -> Option<[u8; 16]> {
    let len = input.len();
    let x = match (input.first_chunk::<8>(), input.last_chunk::<8>()) {
        (Some(lo), Some(hi)) if len <= 15 => {
            u128::from(u64::from_le_bytes(*lo)) | u128::from(u64::from_le_bytes(*hi)) << (8 * (len - 8))
        }
        _ if len == 7 => {
            let (lo, hi) = (input.first_chunk::<4>()?, input.last_chunk::<4>()?);
            u128::from(u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << 24)
        }
        _ => return None,
    };
    Some(x.to_le_bytes())
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[inline]
fn x86_checked(input: &[u8]) -> Option<[u8; 4]> {
    debug_assert!(crate::x86::has_avx2());
    // SAFETY: only called after `has_avx2()` returned true (AVX2 includes SSSE3).
    #[allow(unsafe_code)]
    unsafe {
        x86(input)
    }
}

/// The vector path, `None` when the CPU lacks it (so tests can run it wherever it
/// exists); the inner `None` when `input` is not a dotted quad.
#[cfg(all(target_arch = "x86_64", feature = "std"))]
pub fn parse_x86(input: &[u8]) -> Option<Option<[u8; 4]>> {
    crate::x86::has_avx2().then(|| x86_checked(input))
}

#[cfg(all(target_arch = "x86_64", feature = "std"))]
#[target_feature(enable = "avx2")]
fn x86(input: &[u8]) -> Option<[u8; 4]> {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmpgt_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16,
        _mm_maddubs_epi16, _mm_max_epu8, _mm_movemask_epi8, _mm_packs_epi32, _mm_packus_epi16, _mm_set1_epi8,
        _mm_set1_epi16, _mm_set1_epi32, _mm_setzero_si128, _mm_shuffle_epi8, _mm_sub_epi8,
    };
    let bytes = padded(input)?;
    let len = input.len();
    // SAFETY: `bytes` is 16 readable bytes; `loadu` has no alignment requirement.
    #[allow(unsafe_code)]
    let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) };
    let within = (1u32 << len) - 1;
    let dots = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8))) as u32 & within;
    // The last octet's length: from the last dot to the end.
    let last = len.wrapping_sub(32 - dots.leading_zeros() as usize);
    let first = usize::from(SHAPE_OF[(dots >> 1) as usize & 0x7ff]);
    let shape = SHAPES.get(first.wrapping_add(last.wrapping_sub(1).wrapping_mul(27)))?;
    // Digit values: a byte is a digit when `byte - '0'` (wrapping) is at most 9.
    let d = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
    let nine = _mm_set1_epi8(9);
    let digits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(d, nine), nine)) as u32;
    let zeros = _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) as u32;
    // SAFETY: `shape.shuffle` is 16 readable bytes.
    #[allow(unsafe_code)]
    let shuffle = unsafe { _mm_loadu_si128(shape.shuffle.as_ptr().cast::<__m128i>()) };
    let placed = _mm_shuffle_epi8(d, shuffle);
    // Hundreds × 100 + tens × 10 in one 16-bit lane, ones × 1 in the next; then the sum.
    let weights = _mm_set1_epi32(i32::from_le_bytes([100, 10, 1, 0]));
    let values = _mm_madd_epi16(_mm_maddubs_epi16(placed, weights), _mm_set1_epi16(1));
    let over = _mm_movemask_epi8(_mm_cmpgt_epi32(values, _mm_set1_epi32(255)));
    let ok = (dots == u32::from(shape.dots))
        & (usize::from(shape.len) == len)
        & ((digits | dots) & within == within)
        & (zeros & u32::from(shape.leads) == 0)
        & (over == 0);
    let packed = _mm_packus_epi16(_mm_packs_epi32(values, values), values);
    ok.then(|| (_mm_cvtsi128_si32(packed) as u32).to_le_bytes())
}

/// The reference: `core::net`'s parser (`None` for anything it refuses).
pub fn parse_scalar(input: &[u8]) -> Option<[u8; 4]> {
    core::str::from_utf8(input).ok()?.parse::<core::net::Ipv4Addr>().ok().map(|a| a.octets())
}
