//! Every path gives exactly what the scalar splitter gives (and that is a naive `split` on
//! TAB): every recorded bound, the field count, and at least the fields asked for; under
//! proptest, on lines around the block size, and on every line of the committed fuzz corpus.
//! The same for `split_next`, which also finds the line's end in a buffer of many lines:
//! every path against `split_next_scalar` (and that against a naive newline search and
//! `split`), from every starting offset of the buffer.

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

type SplitNext = fn(&mut Fields, &[u8], usize, usize) -> usize;

/// Every `split_next` path this machine can run, by name.
fn next_paths() -> Vec<(&'static str, SplitNext)> {
    let mut v: Vec<(&'static str, SplitNext)> =
        vec![("dispatch", |f, b, a, n| f.split_next(b, a, n)), ("scalar blocks", cflog_simd::split_next_scalar_blocks)];
    #[cfg(target_arch = "x86_64")]
    {
        v.push(("sse2", cflog_simd::x86::split_next_sse2));
        if cflog_simd::x86::has_avx2() {
            v.push(("avx2", |f, b, a, n| cflog_simd::x86::split_next_avx2(f, b, a, n).expect("detected")));
        }
    }
    #[cfg(target_arch = "aarch64")]
    v.push(("neon", cflog_simd::neon::split_next));
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    v.push(("simd128", cflog_simd::wasm::split_next));
    v
}

/// `split_next` from `at` on every path against the scalar reference, and that against a
/// naive newline search, `\r` trim and `split`.
fn check_next_at(buf: &[u8], at: usize, at_least: usize) {
    let mut fields = Fields::new();
    cflog_simd::split_tabs_scalar(&mut fields, &[b'\t'; 300]);
    let end = cflog_simd::split_next_scalar(&mut fields, buf, at);
    let naive_end = buf[at..].iter().position(|&b| b == b'\n').map_or(buf.len(), |p| at + p);
    assert_eq!(end, naive_end, "scalar end on {buf:?} at {at}");
    let line = &buf[at..end];
    let want = naive(line.strip_suffix(b"\r").unwrap_or(line));
    assert_eq!(fields.bounds(), want, "scalar next on {buf:?} at {at}");
    assert_eq!(fields.count(), want.len() - 1);
    for (name, split_next) in next_paths() {
        split_next(&mut fields, &[b'\t'; 300], 0, usize::MAX);
        let got_end = split_next(&mut fields, buf, at, at_least);
        assert_eq!(got_end, end, "{name} end on {buf:?} at {at}, at_least {at_least}");
        let got = fields.bounds();
        assert_eq!(fields.count(), want.len() - 1, "{name} count on {buf:?} at {at}, at_least {at_least}");
        assert!(got.len() >= at_least.saturating_add(1).min(want.len()), "{name}: {} bounds, asked {at_least}, {buf:?} at {at}", got.len());
        assert_eq!(got, &want[..got.len()], "{name} on {buf:?} at {at}, at_least {at_least}");
        // Recording stops where `split` stops on the line alone.
        let mut alone = Fields::new();
        alone.split(line.strip_suffix(b"\r").unwrap_or(line), at_least);
        assert_eq!(got, alone.bounds(), "{name} against split, {buf:?} at {at}, at_least {at_least}");
    }
}

/// `check_next_at` from every offset of `buf`, with several `at_least`.
fn check_next(buf: &[u8], at_least: usize) {
    for at in 0..=buf.len() {
        check_next_at(buf, at, at_least);
    }
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
fn split_next_around_the_block_size() {
    // One line of every length to 200 with its newline, CRLF or none, then a second line,
    // with TABs at a few positions; and the same with the buffer cut at every length.
    for len in [0, 1, 2, 15, 16, 17, 31, 32, 33, 62, 63, 64, 65, 66, 127, 128, 129, 130, 191, 192, 193] {
        for tail in [&b"\n"[..], b"\r\n", b"", b"\r", b"\nx\ty\n", b"\r\n\t\n\n"] {
            let mut buf: Vec<u8> = (0..len).map(|i| if i % 7 == 3 { b'\t' } else { b'a' + (i % 26) as u8 }).collect();
            buf.extend_from_slice(tail);
            for at_least in [0, 1, 3, 10, usize::MAX] {
                check_next(&buf, at_least);
            }
        }
    }
    for len in 0..140 {
        let buf: Vec<u8> = (0..len).map(|i| [b'\t', b'\n', b'\r', b'x', b'\t', b'y', b'z'][i % 7]).collect();
        for at_least in [0, 2, usize::MAX] {
            check_next(&buf, at_least);
        }
    }
}

#[test]
fn split_next_walks_a_buffer_line_by_line() {
    let buf = b"a\tb\n\nc\r\n\t\td\te\rf";
    let mut fields = Fields::new();
    let mut at = 0;
    let mut seen = Vec::new();
    while at < buf.len() {
        let end = fields.split_next(buf, at, usize::MAX);
        seen.push((at, end, fields.count(), fields.bounds().to_vec()));
        at = end + 1;
    }
    assert_eq!(
        seen,
        [
            (0, 3, 2, vec![0, 2, 4]),
            (4, 4, 1, vec![0, 1]),
            (5, 7, 1, vec![0, 2]),
            (8, buf.len(), 4, vec![0, 1, 2, 4, 8]),
        ]
    );
}

#[test]
#[should_panic(expected = "past the buffer")]
// A panic aborts a wasm32-wasip1 test run.
#[cfg_attr(target_family = "wasm", ignore)]
fn split_next_past_the_buffer_panics() {
    Fields::new().split_next(b"ab", 3, usize::MAX);
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
        // Every line start of the whole file, as a reader walks it.
        let mut at = 0;
        while at <= bytes.len() {
            for at_least in [0, 3, usize::MAX] {
                check_next_at(&bytes, at, at_least);
            }
            at += bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len() + 1 - at, |p| p + 1);
        }
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
    fn split_next_equals_scalar(buf in proptest::collection::vec(prop_oneof![3 => Just(b'\t'), 1 => Just(b'\n'), 1 => Just(b'\r'), 3 => Just(b'a'), 2 => any::<u8>()], 0..300), at_least in 0usize..40) {
        check_next(&buf, at_least);
        check_next(&buf, usize::MAX);
    }

    #[test]
    fn split_next_on_long_lines(lines in proptest::collection::vec(proptest::collection::vec(proptest::collection::vec(b'!'..=b'~', 0..60), 1..20).prop_map(|f| f.join(&b'\t')), 1..5), crlf in any::<bool>(), at_least in 0usize..25) {
        let buf = lines.join(if crlf { &b"\r\n"[..] } else { &b"\n"[..] });
        let mut at = 0;
        while at <= buf.len() {
            check_next_at(&buf, at, at_least);
            at += buf[at..].iter().position(|&b| b == b'\n').map_or(buf.len() + 1 - at, |p| p + 1);
        }
    }

    #[test]
    fn long_lines_with_sparse_tabs(fields in proptest::collection::vec(proptest::collection::vec(b'!'..=b'~', 0..90), 1..60), at_least in 0usize..70) {
        let line = fields.join(&b'\t');
        check(&line, at_least);
        check(&line, usize::MAX);
    }
}
