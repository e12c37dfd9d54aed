//! `cflog-core`: the engine behind cflog. Schema, zero-copy parser and mergeable
//! aggregates for Amazon CloudFront logs, with no I/O.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod enrich;
pub mod field;
pub mod grammar;
pub mod schema;

pub use field::{Field, Format, Kind};
pub use schema::{Column, Schema, SchemaError};
