//! Every path gives exactly what the scalar splitter gives (and that is a naive `split` on
//! TAB): every recorded bound, the field count, and at least the fields asked for; under
//! proptest, on lines around the block size, and on every line of the committed fuzz corpus.

use cflog_simd::Fields;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

type Split = fn(&mut Fields, &[u8], usize);

/// Every path this machine can run, by name.
fn paths() -> Vec<(&'static str, Split)> {
    let mut v: Vec<(&'static str, Split)> =
        vec![("dispatch", |f, l, n| f.split(l, n)), ("scalar blocks", cflog_simd::split_scalar_blocks)];
    #[cfg(target_arch = "x86_64")]
    {
        v.push(("sse2", cflog_simd::x86::split_sse2));
        if cflog_simd::x86::has_avx2() {
            v.push(("avx2", |f, l, n| cflog_simd::x86::split_avx2(f, l, n).expect("detected")));
        }
    }
    #[cfg(target_arch = "aarch64")]
    v.push(("neon", cflog_simd::neon::split));
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    v.push(("simd128", cflog_simd::wasm::split));
    v
}

/// Where each field begins, then one past the end, from `split`.
fn naive(line: &[u8]) -> Vec<u32> {
    let mut out = vec![0];
    let mut start = 0;
    for piece in line.split(|&b| b == b'\t') {
        start += piece.len() + 1;
        out.push(start as u32);
    }
    out
}

fn check(line: &[u8], at_least: usize) {
    let want = naive(line);
    let mut fields = Fields::new();
    // Stale content from a longer line must not show through.
    cflog_simd::split_tabs_scalar(&mut fields, &[b'\t'; 300]);
    cflog_simd::split_tabs_scalar(&mut fields, line);
    assert_eq!(fields.bounds(), want, "scalar on {line:?}");
    assert_eq!(fields.count(), want.len() - 1, "scalar count on {line:?}");
    for (name, split) in paths() {
        split(&mut fields, &[b'\t'; 300], usize::MAX);
        split(&mut fields, line, at_least);
        let got = fields.bounds();
        assert_eq!(fields.count(), want.len() - 1, "{name} count on {line:?}, at_least {at_least}");
        assert!(got.len() >= at_least.saturating_add(1).min(want.len()), "{name}: {} bounds, asked {at_least}, {line:?}", got.len());
        assert_eq!(got, &want[..got.len()], "{name} on {line:?}, at_least {at_least}");
    }
}

/// Every `at_least` that matters for a line of `fields` fields.
fn check_all(line: &[u8]) {
    let n = naive(line).len() - 1;
    for at_least in [0, 1, 2, n / 2, n.saturating_sub(1), n, n + 1, usize::MAX] {
        check(line, at_least);
    }
}

#[test]
fn every_length_and_tab_position_around_the_block_size() {
    for len in 0..200 {
        let mut line = vec![b'x'; len];
        check_all(&line);
        for p in 0..len {
            line[p] = b'\t';
            check_all(&line);
        }
        // Bytes that differ from TAB by one bit, and the high bit set.
        let near: Vec<u8> = (0..len).map(|i| [0x08, 0x0b, 0x89, 0x19, 0x49, 0xff, 0x00, b'\t'][i % 8]).collect();
        check_all(&near);
    }
}

#[test]
fn every_tab_recorded_means_the_line_end_is_too() {
    let mut fields = Fields::new();
    fields.split(b"", usize::MAX);
    assert_eq!((fields.count(), fields.bounds()), (1, &[0, 1][..]));
    fields.split(b"ab\t\tc", 0);
    assert_eq!(fields.count(), 3);
    fields.split(b"ab\t\tc", 3);
    assert_eq!(fields.bounds(), [0, 3, 4, 6]);
}

#[test]
fn the_fuzz_corpus_splits_the_same() {
    let dir = format!("{}/../fuzz/corpus/parse_line", env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus is committed") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        check_all(&bytes);
        for line in bytes.split(|&b| b == b'\n') {
            check_all(line);
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
    fn vector_paths_equal_scalar(line in proptest::collection::vec(prop_oneof![Just(b'\t'), Just(b'a'), any::<u8>()], 0..300), at_least in 0usize..80) {
        check(&line, at_least);
        check(&line, usize::MAX);
    }

    #[test]
    fn long_lines_with_sparse_tabs(fields in proptest::collection::vec(proptest::collection::vec(b'!'..=b'~', 0..90), 1..60), at_least in 0usize..70) {
        let line = fields.join(&b'\t');
        check(&line, at_least);
        check(&line, usize::MAX);
    }
}
