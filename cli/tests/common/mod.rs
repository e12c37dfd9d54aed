//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub mod live;
/// moto, from the shared test kit.
#[allow(unused_imports)] // not every test file that includes this module needs it
pub use cflog_testkit::moto;

/// A fresh directory for one test, named after the test binary and the process.
pub fn tmp_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cflog-{}-{}-{test}", env!("CARGO_CRATE_NAME"), std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
