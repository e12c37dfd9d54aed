//! The `cflog` command's building blocks: inputs, layouts, and modules for
//! the larger subcommands. The binary in `main.rs` parses arguments and still holds the
//! glue of `gen` and `analyze` itself: turning their arguments into options, opening
//! `gen`'s output, printing reports and bad lines, choosing the exit code.

pub mod aws_env;
pub mod cmd_analyze;
pub mod cmd_merge;
pub mod cmd_parse;
#[cfg(feature = "aws")]
pub mod cmd_stream;
pub mod dashboard;
pub mod export;
pub mod features;
pub mod filter_args;
pub mod input;
#[cfg(feature = "aws")]
pub mod kinesis;
pub mod layout;
pub mod parquet_input;
pub mod report_errors;
#[cfg(feature = "aws")]
pub mod s3;
pub mod sources;
pub mod suspect_args;
pub mod top;
pub mod window_arg;
