//! `cflog-core`: the engine behind cflog. Schema, zero-copy parser and mergeable
//! aggregates for Amazon CloudFront logs, with no I/O.
//!
//! Build a [`Schema`] once (from the real-time field set, or from a W3C `#Fields:` line),
//! then parse many lines into borrowed [`Record`]s whose typed getters parse on demand.
//!
//! ```
//! use cflog_core::{Field, Parser, RecordBuf, Schema};
//!
//! // CloudFront delivers real-time fields in canonical order, whatever the config says.
//! let schema = Schema::from_field_names(&["sc-status", "timestamp", "cs-user-agent"]).unwrap();
//! let mut parser = Parser::realtime(schema);
//! let mut buf = RecordBuf::new();
//! let line = b"1607374321.541\t503\tcurl/8.4.0%20(x86_64)\n";
//! let record = parser.parse_line(line, &mut buf).unwrap().unwrap();
//! assert_eq!(record.status().unwrap(), Some(503));
//! assert_eq!(record.decoded_str(Field::UserAgent).unwrap(), "curl/8.4.0 (x86_64)");
//! ```
//!
//! # Crate features
//!
//! * `std` (default): enables `std` in dependencies (faster `memchr` on some targets).
//!   Without it the crate is `no_std` + `alloc` and builds for `wasm32-unknown-unknown`.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod agg;
pub mod anonymize;
pub mod decode;
pub mod enrich;
pub mod error;
pub mod filter;
pub mod field;
#[doc(hidden)]
pub mod fuzz;
pub mod grammar;
pub mod json;
pub mod layout;
pub mod parser;
pub mod record;
pub mod schema;
pub mod summary;
pub mod suspicious;
mod swar;
pub mod types;

pub use error::{ParseError, ParseErrorKind};
pub use field::{Field, Format, Kind};
pub use parser::{LineSplitter, ParseStats, Parser};
pub use record::{Record, RecordBuf};
pub use schema::{Column, Schema, SchemaError};
pub use types::{DetailedResultType, EdgeLocation, FleStatus, ResultType};
