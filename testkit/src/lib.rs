//! `cflog-testkit`: what the tests of several cflog crates need and no shipped code does.
//! A dev-dependency only (`publish = false`); std only.
//!
//! * [`moto`]: a real moto server on 127.0.0.1, started by a test and stopped when
//!   dropped (also on panic), for the CLI's and the Lambda's AWS tests.

pub mod moto;
