//! Replays the fuzz corpora (`fuzz/corpus/<target>`) as ordinary tests, so every input the
//! fuzzer ever kept stays checked without the fuzzer.

/// Runs `body` on every file of `fuzz/corpus/<target>`; returns how many there were.
fn replay(target: &str, body: fn(&[u8])) -> usize {
    let dir = format!("{}/../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus is committed") {
        let path = entry.unwrap().path();
        body(&std::fs::read(&path).unwrap());
        n += 1;
    }
    n
}

#[test]
fn fuzz_corpus_never_panics() {
    let n = replay("parse_line", cflog_core::fuzz::parse_everything);
    assert!(n >= 20, "corpus has {n} inputs; expected the committed seeds");
}

/// A chunk walked once by the parser gives what its lines found first give (the
/// `chunk_walk` target: `cflog_engine::fuzz::walk_agrees`).
#[test]
fn chunk_walk_corpus_agrees() {
    let n = replay("chunk_walk", cflog_engine::fuzz::walk_agrees);
    assert!(n >= 20, "corpus has {n} inputs; expected the committed seeds");
}

#[test]
fn state_corpus_never_panics() {
    let n = replay("decode_state", cflog_core::fuzz::decode_state);
    assert!(n >= 8, "corpus has {n} inputs; expected the committed seeds");
}

/// The seeds are real states from `cflog analyze` (versions 3, 2 and 1), so each must
/// decode; otherwise the fuzzer would start from inputs that stop at the first check.
#[test]
fn state_seeds_are_real_states() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/decode_state");
    let mut versions = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if let Err(e) = cflog_core::summary::Summary::decode_state(&bytes) {
            panic!("{}: {e}", path.display());
        }
        versions.insert(bytes[0]);
    }
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), [1, 2, 3]);
}
