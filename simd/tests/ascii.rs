//! `cflog_simd::ascii::str_ending` against `core::str::from_utf8`: short tokens of ASCII,
//! multi-byte characters and their broken pieces, behind 0–20 bytes of their line (any
//! bytes, so the word ending at a token may hold high bits before it), at every length to
//! 24 (past the 16-byte word too).

use cflog_simd::ascii;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(prop_oneof![6 => b' '..=b'~', 1 => 0x80_u8..=0xbf, 1 => 0xc2_u8..=0xf4, 1 => Just(0x7f_u8), 1 => Just(0x80_u8), 1 => any::<u8>()], 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn str_ending_is_from_utf8(before in bytes(21), text in bytes(25), s in "\\PC{0,6}") {
        let line = [&before[..], &text].concat();
        prop_assert_eq!(ascii::str_ending(&line, text.len()), core::str::from_utf8(&text).ok());
        let line = [&before[..], s.as_bytes()].concat();
        prop_assert_eq!(ascii::str_ending(&line, s.len()), Some(s.as_str()));
    }
}

/// One byte of 0x80 or more at each place of a 16-byte word, inside the field or just
/// before it, for every field length: inside, the field is not ASCII (and a lone
/// continuation or lead byte is not UTF-8); before it, the field is read as ASCII.
#[test]
fn a_high_byte_at_every_place() {
    for len in 0..=16 {
        for at in 0..16 {
            for high in [0x80_u8, 0xbf, 0xc3, 0xff] {
                let mut line = [b'a'; 16];
                line[at] = high;
                let field = &line[16 - len..];
                assert_eq!(ascii::str_ending(&line, len), core::str::from_utf8(field).ok(), "len {len}, {high:#x} at {at}");
            }
        }
    }
}

#[test]
fn past_the_line() {
    assert_eq!(ascii::str_ending(b"abc", 4), None);
    assert_eq!(ascii::str_ending(b"abc", 0), Some(""));
    assert_eq!(ascii::str_ending(b"abc", 3), Some("abc"));
}
