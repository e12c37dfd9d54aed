//! The vector dotted-quad reader (`cflog_simd::ipv4`) against `core::net`'s parser
//! (`parse_scalar`): every address of a generated log's shape, near misses (3 or 5 parts,
//! values past 255, leading zeros, a stray byte, other lengths), and any bytes.

use cflog_simd::ipv4;
use proptest::prelude::*;

/// Every path this machine can run: the dispatch, and the vector path when it exists.
fn check(input: &[u8]) {
    let want = ipv4::parse_scalar(input);
    if let Some(got) = ipv4::parse(input) {
        assert_eq!(got, want, "dispatch, {:?}", String::from_utf8_lossy(input));
    }
    #[cfg(target_arch = "x86_64")]
    if let Some(got) = ipv4::parse_x86(input) {
        assert_eq!(got, want, "x86, {:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn every_shape_and_octet() {
    // Every octet value in every position, with every shape around it.
    for v in 0..=300u32 {
        for shape in 0..81u32 {
            let mut parts = [0u32; 4];
            for (k, p) in parts.iter_mut().enumerate() {
                // An octet of the shape's length for the others, the value itself at k = shape % 4.
                *p = [7, 42, 199][(shape / 3u32.pow(k as u32) % 3) as usize];
            }
            parts[(shape % 4) as usize] = v;
            let text = parts.map(|p| p.to_string()).join(".");
            check(text.as_bytes());
            for zeros in ["0", "00"] {
                let mut led = parts.map(|p| p.to_string());
                led[(shape % 4) as usize] = format!("{zeros}{v}");
                check(led.join(".").as_bytes());
            }
        }
    }
    for text in ["1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", "", "1", "123456789012345", "1.2.3.-4", "1:2:3:4", "::1", "2001:db8::1"] {
        check(text.as_bytes());
    }
}

fn parts() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((0u32..300, 0usize..3), 3..6),
        proptest::option::of((0usize..16, prop_oneof![Just(b'.'), Just(b':'), Just(b'a'), Just(b'/'), Just(b'\0'), b'0'..=b'9', any::<u8>()])),
    )
        .prop_map(|(parts, stray)| {
            let text: Vec<String> = parts.iter().map(|&(v, zeros)| format!("{}{v}", "0".repeat(zeros))).collect();
            let mut input = text.join(".").into_bytes();
            if let Some((at, b)) = stray {
                let at = at % (input.len() + 1);
                input.insert(at, b);
            }
            input
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn dotted_quads_and_near_misses(input in parts()) {
        check(&input);
    }

    #[test]
    fn any_bytes(input in proptest::collection::vec(prop_oneof![6 => b'0'..=b'9', 3 => Just(b'.'), 1 => any::<u8>()], 0..18)) {
        check(&input);
    }
}
