//! `cflog-testkit`: what the tests of several cflog crates need and no shipped code does.
//! A dev-dependency only (`publish = false`); std only.
//!
//! * [`moto`]: a real moto server on 127.0.0.1, started by a test and stopped when
//!   dropped (also on panic), for the CLI's and the Lambda's AWS tests.
//! * [`scratch`]: test directories that are removed when the test ends, so test runs leave
//!   nothing behind in the temp dir.

pub mod moto;
pub mod scratch;
