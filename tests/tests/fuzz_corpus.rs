//! Replays the fuzz corpus (`fuzz/corpus/parse_line`) as an ordinary test, so every input
//! the fuzzer ever kept stays checked without the fuzzer.

#[test]
fn fuzz_corpus_never_panics() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/parse_line");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("the corpus is committed") {
        let path = entry.unwrap().path();
        cflog_core::fuzz::parse_everything(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 20, "corpus has {n} inputs; expected the committed seeds");
}
