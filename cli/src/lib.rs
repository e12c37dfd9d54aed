//! The `cflog` command's building blocks: inputs, layouts, and one module per subcommand.
//! The binary in `main.rs` only parses arguments and dispatches.

pub mod cmd_analyze;
pub mod cmd_parse;
pub mod dashboard;
pub mod input;
pub mod layout;
pub mod report_errors;
