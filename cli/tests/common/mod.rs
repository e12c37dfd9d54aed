//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub mod live;
/// moto, from the shared test kit.
#[allow(unused_imports)] // not every test file that includes this module needs it
pub use cflog_testkit::moto;

/// A fresh directory for one test, named after the test binary, the test and the process,
/// removed when the test ends.
pub fn tmp_dir(test: &str) -> cflog_testkit::scratch::Scratch {
    cflog_testkit::scratch::Scratch::new(&format!("{}-{test}", env!("CARGO_CRATE_NAME")))
}
