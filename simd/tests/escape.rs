//! Every JSON-classifier path gives exactly what the scalar one gives, and that is a
//! byte-by-byte reading of RFC 8259's string grammar (a JSON string holds any character but
//! `"`, `\` and the control characters U+0000–U+001F as itself) plus the optional classes
//! (0x80 and up, `%`): for all four class choices, under proptest on any bytes and on
//! bytes drawn from the classes' edges.

use cflog_simd::escape::{json_block, json_block_scalar};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

type Classify = fn(&[u8; 16]) -> u32;

/// The oracle for one byte, written from the grammar, not from the implementation.
fn flagged(b: u8, high: bool, percent: bool) -> bool {
    let json_must_escape = matches!(b, 0x00..=0x1f | b'"' | b'\\');
    json_must_escape || (high && b >= 0x80) || (percent && b == b'%')
}

/// Every (HIGH, PERCENT) choice: its name, this machine's path and the scalar one.
fn paths() -> [(bool, bool, Classify, Classify); 4] {
    [
        (false, false, json_block::<false, false>, json_block_scalar::<false, false>),
        (true, false, json_block::<true, false>, json_block_scalar::<true, false>),
        (false, true, json_block::<false, true>, json_block_scalar::<false, true>),
        (true, true, json_block::<true, true>, json_block_scalar::<true, true>),
    ]
}

fn check(block: &[u8; 16]) {
    for (high, percent, path, scalar) in paths() {
        let want = block.iter().enumerate().fold(0u32, |m, (k, &b)| m | u32::from(flagged(b, high, percent)) << k);
        assert_eq!(scalar(block), want, "scalar, high {high}, percent {percent}, on {block:?}");
        assert_eq!(path(block), want, "{} path, high {high}, percent {percent}, on {block:?}", path_name());
    }
}

fn path_name() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "sse2"
    } else if cfg!(target_arch = "aarch64") {
        "neon"
    } else if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) {
        "simd128"
    } else {
        "scalar"
    }
}

/// Bytes at the edges of every class, and a few plain ones.
fn edge_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![0x00, 0x01, 0x0a, 0x1f, 0x20, 0x21, b'"', b'#', b'%', b'$', b'&', b'[', b'\\', b']', b'a', 0x7e, 0x7f, 0x80, 0x81, 0xc3, 0xfe, 0xff])
}

#[test]
fn every_single_byte_in_every_position() {
    for b in 0..=255u8 {
        for k in 0..16 {
            let mut block = [b'a'; 16];
            block[k] = b;
            check(&block);
        }
        check(&[b; 16]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::with_failure_persistence(FileFailurePersistence::WithSource("proptest-regressions")) })]

    #[test]
    fn any_block(block in any::<[u8; 16]>()) {
        check(&block);
    }

    #[test]
    fn blocks_of_edge_bytes(block in prop::array::uniform16(edge_byte())) {
        check(&block);
    }
}
