//! The `cflog` command's building blocks: inputs, layouts, the generator, and modules for
//! the larger subcommands. The binary in `main.rs` parses arguments and still holds the
//! glue of `gen`, `analyze` and `merge` itself: turning their arguments into options,
//! opening `gen`'s output, printing reports and bad lines, choosing the exit code, and the
//! loop that reads and merges reports.

pub mod cmd_analyze;
pub mod cmd_parse;
#[cfg(feature = "aws")]
pub mod cmd_stream;
pub mod dashboard;
pub mod features;
// `gen` is a reserved keyword in edition 2024, hence the raw identifier.
pub mod r#gen;
pub mod input;
pub mod layout;
pub mod ndjson;
pub mod report_errors;
pub mod sources;
pub mod suspect_args;

pub use r#gen::{GenOptions, generate};
