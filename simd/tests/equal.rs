//! Every vector path gives exactly what the scalar splitter gives (and that is a naive
//! `split` on TAB): under proptest, on lines around the block sizes, and on every line of
//! the committed fuzz corpus.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Every path this machine can run, by name.
#[allow(clippy::type_complexity)]
fn paths() -> Vec<(&'static str, fn(&[u8], &mut Vec<(u32, u32)>))> {
    let mut v: Vec<(&'static str, fn(&[u8], &mut Vec<(u32, u32)>))> = vec![("dispatch", cflog_simd::split_tabs)];
    #[cfg(target_arch = "x86_64")]
    {
        v.push(("sse2", cflog_simd::x86::split_sse2));
        if std::is_x86_feature_detected!("avx2") {
            v.push(("avx2", |l, s| cflog_simd::x86::split_avx2(l, s).expect("detected")));
        }
    }
    #[cfg(target_arch = "aarch64")]
    v.push(("neon", cflog_simd::neon::split));
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    v.push(("simd128", cflog_simd::wasm::split));
    v
}

fn naive(line: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in line.split(|&b| b == b'\t') {
        out.push((start as u32, (start + piece.len()) as u32));
        start += piece.len() + 1;
    }
    out
}

fn check(line: &[u8]) {
    let want = naive(line);
    let mut spans = vec![(7, 7)]; // stale content must be cleared
    cflog_simd::split_tabs_scalar(line, &mut spans);
    assert_eq!(spans, want, "scalar on {line:?}");
    for (name, split) in paths() {
        split(line, &mut spans);
        assert_eq!(spans, want, "{name} on {line:?}");
    }
}

#[test]
fn every_length_and_tab_position_around_the_block_sizes() {
    for len in 0..100 {
        let mut line = vec![b'x'; len];
        check(&line);
        for p in 0..len {
            line[p] = b'\t';
            check(&line);
        }
        // Bytes that differ from TAB by one bit, and the high bit set.
        let near: Vec<u8> = (0..len).map(|i| [0x08, 0x0b, 0x89, 0x19, 0x49, 0xff, 0x00, b'\t'][i % 8]).collect();
        check(&near);
    }
}

#[test]
fn the_fuzz_corpus_splits_the_same() {
    let dir = format!("{}/../fuzz/corpus/parse_line", env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus is committed") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        check(&bytes);
        for line in bytes.split(|&b| b == b'\n') {
            check(line);
        }
        files += 1;
    }
    assert!(files > 100, "only {files} corpus files in {dir}");
}

#[test]
fn reports_its_path() {
    let p = cflog_simd::path();
    assert!(["avx2", "sse2", "neon", "simd128", "scalar"].contains(&p), "{p}");
    #[cfg(target_arch = "aarch64")]
    assert_eq!(p, "neon");
    #[cfg(target_arch = "wasm32")]
    assert_eq!(p, "simd128", "built without +simd128: the wasm run would test only the scalar path");
}

proptest! {
    // Where the default looks first (next to a `lib.rs` above this file) there is none; say
    // where the committed seeds are, rather than have proptest warn and fall back to it.
    #![proptest_config(ProptestConfig::with_failure_persistence(FileFailurePersistence::WithSource("proptest-regressions")))]

    #[test]
    fn vector_paths_equal_scalar(line in proptest::collection::vec(prop_oneof![Just(b'\t'), Just(b'a'), any::<u8>()], 0..300)) {
        check(&line);
    }

    #[test]
    fn long_lines_with_sparse_tabs(fields in proptest::collection::vec(proptest::collection::vec(b'!'..=b'~', 0..90), 1..60)) {
        check(&fields.join(&b'\t'));
    }
}
