//! Helpers shared by the CLI integration tests.
#![allow(dead_code)]

pub mod live;
pub mod moto;
