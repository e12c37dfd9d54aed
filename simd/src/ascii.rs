//! A short field of a log line as one 16-byte word ([`word_ending`]), and as `&str` without
//! UTF-8 validation's byte loop ([`str_ending`]).
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

/// For each length 0–16, the bytes of a field of that length in the 16-byte little-endian
/// word that ends with it: its high `len` bytes.
const FIELD: [u128; 17] = {
    let mut masks = [0u128; 17];
    let mut len = 1;
    while len <= 16 {
        masks[len] = !0 << (8 * (16 - len));
        len += 1;
    }
    masks
};

/// The 16 bytes that end `upto` (a field and the bytes of its line before it) as a
/// little-endian `u128` with every byte before the field's last `len` made zero, so the
/// field is the word's high `len` bytes. `None` when `len` is over 16 or `upto` is shorter
/// than 16 bytes. A mask, not a shift by the length (a call on 32-bit targets), and no loop
/// over the field: its length is random from line to line. Also how core compares a field
/// with the known values of a vocabulary (`from_line_end` in `core/src/types.rs`).
#[inline(always)]
pub fn word_ending(upto: &[u8], len: usize) -> Option<u128> {
    Some(u128::from_le_bytes(*upto.last_chunk::<16>()?) & *FIELD.get(len)?)
}

/// `core::str::from_utf8` of the last `len` bytes of `upto` (a field and the bytes of its
/// line before it), `None` when they are not UTF-8 or `upto` is shorter than `len`. A field
/// with a [`word_ending`] is tested as that one word; anything else, and a field with a byte
/// of 0x80 or more, goes to `core::str::from_utf8`.
#[inline]
pub fn str_ending(upto: &[u8], len: usize) -> Option<&str> {
    let text = upto.get(upto.len().checked_sub(len)?..)?;
    // [`word_ending`]'s word, tested as its two halves: written as one `u128` and inlined
    // next to `from_line_end`'s, it measured 6 % slower (bench/RESULTS.md, issue 13).
    if let (Some(word), Some(&field)) = (upto.last_chunk::<16>(), FIELD.get(len))
        && let (word, high) = (u128::from_le_bytes(*word), field & 0x8080_8080_8080_8080_8080_8080_8080_8080)
        && (word as u64) & (high as u64) | ((word >> 64) as u64) & ((high >> 64) as u64) == 0
    {
        // SAFETY: every byte of `text` (the word's last `len` bytes, whose high bits are
        // `high`'s) is below 0x80: ASCII, which is valid UTF-8.
        #[allow(unsafe_code)]
        return Some(unsafe { core::str::from_utf8_unchecked(text) });
    }
    core::str::from_utf8(text).ok()
}
