#![no_main]
//! The Lambda's base64 decoder on any text: this machine's vector path, the scalar path and
//! the `base64` crate (the Lambda's fallback, which says why text is refused) agree on
//! whether the text is accepted and on its bytes. The committed corpus is replayed by
//! simd/tests/base64.rs on every path `make test` runs (x86-64, NEON under qemu, wasm32).

use base64::Engine as _;

libfuzzer_sys::fuzz_target!(|text: &[u8]| {
    let want = base64::engine::general_purpose::STANDARD.decode(text).ok();
    let (mut vector, mut scalar) = (b"x".to_vec(), b"x".to_vec());
    let vector = cflog_simd::base64::decode_append(text, &mut vector).then(|| vector.split_off(1));
    let scalar = cflog_simd::base64::decode_append_scalar(text, &mut scalar).then(|| scalar.split_off(1));
    assert_eq!(vector, want, "vector path");
    assert_eq!(scalar, want, "scalar path");
});
