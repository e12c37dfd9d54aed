#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cflog_core::fuzz::decode_state(data));
