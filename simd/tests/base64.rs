//! The base64 decoder accepts exactly the text the `base64` crate's `STANDARD` engine (the
//! oracle: padded, canonical RFC 4648 §4) accepts, and decodes it to the same bytes, on
//! this machine's path (AVX2 or NEON when there is one) and on the scalar one; on refused
//! text the output is left as it was; also on every text of the `base64` fuzz target's
//! committed corpus. `make test-simd-aarch64` runs these for the NEON path.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cflog_simd::base64::{decode_append, decode_append_scalar, room};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

type Decode = fn(&[u8], &mut Vec<u8>) -> bool;

const PATHS: [(&str, Decode); 2] = [("this machine's path", decode_append), ("scalar", decode_append_scalar)];

/// What the oracle says of `text`, and what each path does with it behind a prefix.
fn check(text: &[u8]) {
    let want = STANDARD.decode(text).ok();
    for (name, decode) in PATHS {
        let mut out = b"prefix".to_vec();
        let ok = decode(text, &mut out);
        let text = String::from_utf8_lossy(text);
        match &want {
            Some(bytes) => {
                assert!(ok, "{name} refused {text:?}, which the base64 crate decodes");
                assert_eq!(&out[..6], b"prefix", "{name} on {text:?}");
                assert_eq!(&out[6..], &bytes[..], "{name} on {text:?}");
            }
            None => {
                assert!(!ok, "{name} accepted {text:?}, which the base64 crate refuses");
                assert_eq!(out, b"prefix", "{name} changed the output on {text:?}");
            }
        }
    }
}

/// Valid text of every padding (0, 1 or 2 `=`) and of lengths around the vector blocks (32
/// characters for AVX2, 64 for NEON, whole or with a part block left), then every byte in
/// every position of it.
#[test]
fn every_byte_in_every_position() {
    for len in [1, 2, 3, 22, 23, 24, 25, 47, 48, 49, 50, 76, 77, 78, 95, 96, 97, 98, 100, 150] {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
        let text = STANDARD.encode(&bytes).into_bytes();
        check(&text);
        for k in 0..text.len() {
            for b in 0..=255u8 {
                let mut t = text.clone();
                t[k] = b;
                check(&t);
            }
        }
    }
}

#[test]
fn empty_text_and_odd_lengths() {
    for text in ["", "=", "==", "===", "====", "A", "AA", "AAA", "AA=", "AA==", "AAA=", "AAAA", "QQ==", "QR==", "QUI=", "QUJ=", "AAAAA", "AAAA===="] {
        check(text.as_bytes());
    }
}

#[test]
fn room_is_enough_for_the_decode_without_growing() {
    let text = STANDARD.encode(vec![7u8; 3000]).into_bytes();
    for (name, decode) in PATHS {
        let mut out = Vec::with_capacity(room(text.len()));
        let before = out.capacity();
        assert!(decode(&text, &mut out), "{name}");
        assert_eq!(out.capacity(), before, "{name} grew the buffer");
        assert_eq!(out, vec![7u8; 3000], "{name}");
    }
}

/// Characters of the alphabet's edges (in and out of it), `=` and a few others.
fn edge_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(b"AZaz09+/=@[`{*,-.:_\x00\x80\xff\n ".to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::with_failure_persistence(FileFailurePersistence::WithSource("proptest-regressions")) })]

    #[test]
    fn any_bytes_encoded_decode_back(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(STANDARD.encode(&bytes).as_bytes());
    }

    #[test]
    fn encoded_bytes_with_changes(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        changes in prop::collection::vec((any::<prop::sample::Index>(), edge_byte()), 0..3),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut text = STANDARD.encode(&bytes).into_bytes();
        if !text.is_empty() {
            for (at, b) in changes {
                let k = at.index(text.len());
                text[k] = b;
            }
        }
        if let Some(cut) = cut {
            text.truncate(cut.index(text.len() + 1));
        }
        check(&text);
    }

    #[test]
    fn text_of_edge_bytes(text in prop::collection::vec(edge_byte(), 0..80)) {
        check(&text);
    }
}

/// The committed corpus of the `base64` fuzz target (fuzz/fuzz_targets/base64.rs), each
/// file a text, and the text without its last byte.
#[test]
fn the_fuzz_corpus_decodes_as_the_base64_crate() {
    let dir = format!("{}/../fuzz/corpus/base64", env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus is committed") {
        let text = std::fs::read(entry.expect("entry").path()).expect("read");
        check(&text);
        check(&text[..text.len().saturating_sub(1)]);
        files += 1;
    }
    assert!(files > 40, "only {files} corpus files in {dir}");
}
