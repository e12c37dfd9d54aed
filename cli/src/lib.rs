//! Library half of the `cflog` command: pieces the binary and the integration tests share.

// `gen` is a reserved keyword in edition 2024, hence the raw identifier; the file is
// `src/gen.rs` and the main items are re-exported at the crate root.
pub mod r#gen;

pub use r#gen::{GenOptions, generate};
