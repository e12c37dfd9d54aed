//! Eight bytes at a time in a plain `u64` (SWAR), shared by the JSON writer's escape scan
//! and the record's `?` search.

/// 0x01 in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// 0x80 in every byte.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// 0x80 in each byte of `w` equal to `c` (exact: no carries between bytes), 0 elsewhere.
#[inline(always)]
pub(crate) fn eq_word(w: u64, c: u8) -> u64 {
    let t = w ^ (ONES * u64::from(c));
    !(((t & !HIGH) + !HIGH) | t) & HIGH
}
