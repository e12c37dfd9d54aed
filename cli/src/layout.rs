//! The CLI's side of choosing a layout: `--format`, `--fields` (a list, `@file`, or the
//! JSON of `aws cloudfront get-realtime-log-config`) and `--fields-order`. The choice
//! itself (detection, inference, its errors) is `cflog_engine::layout`, shared with the
//! browser and the Lambda.

use anyhow::{Context, Result};

pub use cflog_engine::layout::{FieldsOrder, FormatChoice as FormatArg, LayoutChoice};
pub use cflog_engine::spec::FieldsSpec;

/// Reads a `--fields` value: `a,b c`, `@path` (a file holding either form), or the JSON
/// forms [`cflog_engine::parse_fields_spec`] reads.
pub fn parse_fields_spec(spec: &str) -> Result<FieldsSpec> {
    let text = match spec.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read --fields file {path}"))?,
        None => spec.to_string(),
    };
    cflog_engine::parse_fields_spec(&text).map_err(|e| anyhow::anyhow!("--fields: {e}"))
}

/// The layout choice of a command's `--format`, `--fields`, `--fields-order` and
/// `--double-decode`.
pub fn choice(format: FormatArg, fields: Option<&FieldsSpec>, order: FieldsOrder, double_decode: bool) -> Result<LayoutChoice> {
    LayoutChoice::new(format, fields, order, double_decode).map_err(|e| anyhow::anyhow!("--fields: {e}"))
}
