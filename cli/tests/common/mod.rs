//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub mod live;
/// moto, from the shared test kit.
#[allow(unused_imports)] // not every test file that includes this module needs it
pub use cflog_testkit::moto;
