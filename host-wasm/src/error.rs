//! The inspector's errors: every way a job, an option or a rule can be refused, typed. The
//! wasm-bindgen layer turns them into `JsError`s with these texts, which name the option,
//! file, line, field or rule and the reason.

use cflog_core::SchemaError;
use cflog_core::agg::MergeError;
use cflog_core::filter::FilterError;
use cflog_engine::{LayoutError, SpecError};

/// Why the inspector refused something.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The options are not JSON.
    #[error("options are not JSON: {0}")]
    OptionsJson(serde_json::Error),
    /// An option has the wrong type or value.
    #[error("option {option}: {problem}")]
    Option {
        /// The option's key.
        option: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A filter value the CLI would refuse too.
    #[error("filter: {0}")]
    Filter(#[from] FilterError),
    /// A field set that cannot be read.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// No layout could be chosen (the CLI's error text).
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A layout token the page did not get from a `Cutter`.
    #[error("layout token {0:?} is not N, V, R, R2, S or S2")]
    Token(String),
    /// A layout token whose columns are no layout.
    #[error("layout: {0}")]
    TokenColumns(SchemaError),
    /// A field set that is not a real-time layout.
    #[error("field set: {0}")]
    FieldSet(SchemaError),
    /// The rule's answers do not line up with the chunk's lines.
    #[error("the enrichment rule returned {answers} results for {lines} lines")]
    Verdicts {
        /// Answers received.
        answers: usize,
        /// Lines in the chunk.
        lines: usize,
    },
    /// More bytes reported written into the input window than it holds.
    #[error("{n} bytes written into a window of {room} bytes")]
    Window {
        /// Bytes reported.
        n: usize,
        /// The window's size.
        room: usize,
    },
    /// A rule asked to enrich cflog's NDJSON.
    #[error("enrichment rules run on CloudFront log lines; this input is JSON lines (cflog NDJSON or standard logging v2 JSON)")]
    RuleOnNdjson,
    /// A worker's state that does not decode (corrupt, truncated, another version).
    #[error("cannot read a worker's state: {0}")]
    State(MergeError),
    /// A worker's state that does not merge (other options).
    #[error("cannot merge a worker's state: {0}")]
    Merge(MergeError),
    /// The rule was refused at start.
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// Why a rule was refused at start (calls that fail later are contained, not errors).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The module imports something.
    #[error("not a loadable enrichment rule: it imports {0}; rules may not import anything")]
    Imports(String),
    /// The module lacks a required export.
    #[error("not an enrichment rule: it does not export {0}")]
    MissingExport(&'static str),
    /// The module speaks another ABI version.
    #[error("the rule speaks ABI version {found}; this inspector speaks {speaks}")]
    AbiVersion {
        /// The rule's version.
        found: i32,
        /// The inspector's.
        speaks: i32,
    },
    /// `cflog_fields` is not UTF-8.
    #[error("cflog_fields: not UTF-8")]
    FieldsNotUtf8,
    /// `cflog_fields` names an unknown field.
    #[error("{0}")]
    Fields(String),
    /// `cflog_init` failed.
    #[error("the rule refused to start: {0}")]
    Init(String),
}
