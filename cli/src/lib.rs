//! The `cflog` command's building blocks: inputs, layouts, the generator, and one module
//! per subcommand. The binary in `main.rs` only parses arguments and dispatches.

pub mod cmd_analyze;
pub mod cmd_parse;
#[cfg(feature = "aws")]
pub mod cmd_stream;
pub mod dashboard;
// `gen` is a reserved keyword in edition 2024, hence the raw identifier.
pub mod r#gen;
pub mod input;
pub mod layout;
pub mod report_errors;

pub use r#gen::{GenOptions, generate};
