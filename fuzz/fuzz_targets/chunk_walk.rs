#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cflog_engine::fuzz::walk_agrees(data));
