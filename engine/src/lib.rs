//! `cflog-engine`: the layer between the engine (`cflog-core`, no_std, no I/O) and the
//! hosts. `csv` has one std wrapper over `csv-core`; this is cflog's. The CLI
//! (`cflog analyze`, `parse`), the browser engine (`cflog-wasm`), the Lambda processor
//! (`cflog-lambda`) and the benchmarks call it; none of them re-implements any of it.
//!
//! * [`spec`]: reading a field-set spec (a list of names, or the JSON of
//!   `aws cloudfront get-realtime-log-config`).
//! * [`layout`]: choosing an input's layout (format detection, real-time inference from
//!   the field count, `--fields`), with the one error text that says how to fix it.
//! * [`cut`]: cutting an input into newline-aligned chunks of about 1 MiB, each tagged with
//!   the layout in force and the lines before it, so a worker can start mid-input
//!   (standard logs switch layout at any `#Fields:` line).
//! * [`bad`]: keeping the first N bad lines (by input, then line) while counting all.
//! * [`worker`]: the record loop "parse once → rules → drop → aggregate + count tags",
//!   and a [`worker::Worker`] that runs it over chunks into one summary.
//! * [`ndjson`]: JSON lines as an input: cflog's own NDJSON (`cflog parse` output, the
//!   Lambda's enriched archive) and standard logging v2 JSON.
//! * [`v2`]: standard logging v2 in shapes cflog cannot read, recognised so the error says so.
//! * [`fuzz`]: the body of the `chunk_walk` fuzz target (a chunk walked by the parser
//!   against its lines found first), shared with the corpus replay and the proptest.
//!
//! Without I/O of its own: hosts read files, `File`s, Kinesis records and pass bytes.

pub mod bad;
pub mod cut;
pub mod fuzz;
pub mod layout;
pub mod ndjson;
pub mod spec;
pub mod v2;
pub mod worker;
#[cfg(feature = "wasmtime-rules")]
pub mod wasmtime_rules;

pub use bad::{BadLine, BadLines};
pub use cut::{CHUNK, ChunkBytes, ChunkLayout, ChunkStart, Chunker, Cutter, InPlaceChunker, LayoutOrigin, line_ends, lines};
pub use layout::{FieldsOrder, FormatChoice, LayoutChoice, LayoutError};
pub use spec::{FieldsSpec, SpecError, parse_fields_spec};
pub use worker::{Outcome, RecordLoop, Rules, Worker};
