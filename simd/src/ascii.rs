//! A short field of a log line as `&str` without UTF-8 validation's byte loop
//! ([`str_ending`]).
//!
//! The crate's one `unsafe` that is not a vector load or store: `from_utf8_unchecked` of
//! bytes that one test of the 16 bytes ending at them found all below 0x80 (ASCII, which is
//! valid UTF-8). Its oracle is `core::str::from_utf8`: `tests/ascii.rs` (proptest) and
//! core's fuzz target `parse_line`, which compares every text getter with it.
//!
//! Why: `core::str::from_utf8` of a 3–16 byte token steps a byte at a time until its
//! words are aligned, and its loop's exit depends on the token's length, which changes from
//! line to line (x-edge-location `SFO5-C3`, `NRT57-C1`, …): about 80 instructions and a
//! mispredicted branch a value, 5 % of reading ten typed fields of a standard line
//! (bench/RESULTS.md, issue 13).

/// For each length 0–16, the high bits of the field's bytes in the two little-endian words
/// of the 16 bytes that end with the field (bytes 0–7, then 8–15).
const HIGH: [(u64, u64); 17] = {
    let mut masks = [(0u64, 0u64); 17];
    let mut len = 0;
    while len <= 16 {
        let mut byte = 16 - len;
        while byte < 16 {
            let bit = 1u64 << (8 * (byte % 8) + 7);
            if byte < 8 {
                masks[len].0 |= bit;
            } else {
                masks[len].1 |= bit;
            }
            byte += 1;
        }
        len += 1;
    }
    masks
};

/// `core::str::from_utf8` of the last `len` bytes of `upto` (a field and the bytes of its
/// line before it), `None` when they are not UTF-8 or `upto` is shorter than `len`. A field
/// of at most 16 bytes with at least 16 bytes up to its end is tested as one 16-byte word;
/// anything else, and a field with a byte of 0x80 or more, goes to `core::str::from_utf8`.
#[inline]
pub fn str_ending(upto: &[u8], len: usize) -> Option<&str> {
    let text = upto.get(upto.len().checked_sub(len)?..)?;
    if let (Some(word), Some(&(lo_mask, hi_mask))) = (upto.last_chunk::<16>(), HIGH.get(len)) {
        let word = u128::from_le_bytes(*word);
        // (A constant shift: no 128-bit shift call on 32-bit targets.)
        if (word as u64) & lo_mask | ((word >> 64) as u64) & hi_mask == 0 {
            // SAFETY: every byte of `text` (the word's last `len` bytes, whose high bits
            // are the masks') is below 0x80: ASCII, which is valid UTF-8.
            #[allow(unsafe_code)]
            return Some(unsafe { core::str::from_utf8_unchecked(text) });
        }
    }
    core::str::from_utf8(text).ok()
}
