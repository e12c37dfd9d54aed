//! Choosing an input's layout: the format (given, or detected from the first line), and
//! for real-time logs the field set (given, or inferred from the first record's field
//! count). Standard logs carry theirs in `#Fields:` lines, which [`crate::cut::Cutter`]
//! follows.

use cflog_core::layout::{InferError, SNIFF_BYTES, detect, double_encoded, first_line, infer_realtime, sniff_double_encoding};
use cflog_core::{Format, Parser, Schema, SchemaError};

use crate::ndjson::{Dialect, sniff_dialect};
use crate::spec::FieldsSpec;

/// The format asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FormatChoice {
    /// Standard if the data starts with a W3C header or a `date<TAB>time` line, JSON
    /// lines (cflog's NDJSON or standard logging v2 JSON, told apart by their values) if
    /// it starts with `{`, else real-time.
    #[default]
    Auto,
    /// Real-time logs (Kinesis records, no header).
    Realtime,
    /// Standard (access) logs, W3C with a `#Fields:` header.
    Standard,
    /// cflog's own NDJSON: `cflog parse` output, or the Lambda's enriched records.
    Ndjson,
    /// Standard logging v2 JSON: one object per record, keyed by the v2 field names,
    /// values percent-encoded as in the W3C file.
    V2Json,
}

/// How a given real-time field set is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FieldsOrder {
    /// Sort the field set into AWS's canonical delivery order (what CloudFront sends).
    #[default]
    Canonical,
    /// Keep the order given.
    AsGiven,
}

/// Why no layout could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// A real-time input whose first record's field count is no AWS release's full list.
    #[error(
        "{name}: real-time records carry no header, and the first record has {found} fields, which is not the \
         complete field list of any AWS release ({known}). Give the layout: the configured field names \
         (\"timestamp,c-ip,sc-status,...\"), or the JSON printed by `aws cloudfront get-realtime-log-config --name \
         NAME` (--fields in the CLI, the field set in the inspector). For a standard log, choose the standard \
         format (--format standard).",
        known = InferError::known_counts()
    )]
    UnknownFieldCount {
        /// The input.
        name: String,
        /// Fields in its first record.
        found: usize,
    },
    /// A field set that is not a valid real-time layout.
    #[error("the field set: {0}")]
    Fields(SchemaError),
    /// A field set with the standard format.
    #[error("a field set describes real-time logs; standard logs carry their layout in the #Fields: header")]
    FieldsWithStandard,
    /// A field set with NDJSON.
    #[error("a field set describes real-time logs; NDJSON records carry their field names")]
    FieldsWithNdjson,
    /// Standard logging v2 in a shape cflog cannot read (see [`crate::v2`]).
    #[error("{name}: {problem}")]
    V2 {
        /// The input.
        name: String,
        /// What it looks like, and what to do.
        problem: crate::v2::Unreadable,
    },
    /// NDJSON asked of a log parser.
    #[error("{0}: NDJSON records are read by the NDJSON decoder, not a log parser")]
    NdjsonParser(String),
}

/// How to lay out every input of one run.
#[derive(Debug, Clone, Default)]
pub struct LayoutChoice {
    /// The format asked for.
    pub format: FormatChoice,
    /// The real-time schema from a given field set, if any.
    pub realtime: Option<Schema>,
    /// Decode percent-escapes twice (`--double-decode`).
    pub double_decode: bool,
}

impl LayoutChoice {
    /// The choice for a format and an optional real-time field set.
    pub fn new(format: FormatChoice, fields: Option<&FieldsSpec>, order: FieldsOrder, double_decode: bool) -> Result<Self, LayoutError> {
        let realtime = match fields {
            None => None,
            Some(spec) => Some(
                match order {
                    FieldsOrder::Canonical => Schema::from_field_names(&spec.names),
                    FieldsOrder::AsGiven => Schema::realtime_ordered(&spec.names),
                }
                .map_err(LayoutError::Fields)?,
            ),
        };
        if realtime.is_some() {
            match format {
                FormatChoice::Standard => return Err(LayoutError::FieldsWithStandard),
                FormatChoice::Ndjson | FormatChoice::V2Json => return Err(LayoutError::FieldsWithNdjson),
                FormatChoice::Auto | FormatChoice::Realtime => {}
            }
        }
        Ok(LayoutChoice { format, realtime, double_decode })
    }

    /// Whether an input whose first bytes are `head` is cflog's NDJSON (asked for, or
    /// `Auto` and the data starts with `{`, which no CloudFront log line does).
    pub fn is_ndjson(&self, head: &[u8]) -> bool {
        match self.format {
            FormatChoice::Ndjson | FormatChoice::V2Json => true,
            FormatChoice::Auto => first_line(head).starts_with(b"{"),
            FormatChoice::Realtime | FormatChoice::Standard => false,
        }
    }

    /// For JSON lines ([`LayoutChoice::is_ndjson`]), how their values are written: as asked,
    /// or for `Auto` sniffed from the first records in `head`
    /// ([`crate::ndjson::sniff_dialect`]). `None` for a CloudFront log.
    pub fn json_dialect(&self, head: &[u8]) -> Option<Dialect> {
        match self.format {
            _ if !self.is_ndjson(head) => None,
            FormatChoice::V2Json => Some(Dialect::V2),
            FormatChoice::Auto => Some(sniff_dialect(head)),
            _ => Some(Dialect::Cflog),
        }
    }

    /// An error when `head`, the first bytes of input `name`, is standard logging v2 in a
    /// shape cflog cannot read ([`crate::v2::unreadable`]): checked before any layout is
    /// chosen, so the error names v2 instead of the real-time field count. A given field set
    /// or format is respected: `--fields` or `--format realtime` skip the checks for
    /// headerless lines.
    pub fn check_v2(&self, name: &str, head: &[u8]) -> Result<(), LayoutError> {
        let json = self.is_ndjson(head);
        let headerless = !json && !first_line(head).starts_with(b"#");
        let given = self.realtime.is_some() || matches!(self.format, FormatChoice::Realtime);
        match crate::v2::unreadable(head, json) {
            Some(_) if headerless && given => Ok(()),
            Some(problem) => Err(LayoutError::V2 { name: name.to_string(), problem }),
            None => Ok(()),
        }
    }

    /// The layout of an input whose first bytes are `head` (a CloudFront log, not NDJSON:
    /// see [`LayoutChoice::is_ndjson`]); `name` is for the error.
    pub fn first_schema(&self, name: &str, head: &[u8]) -> Result<Schema, LayoutError> {
        let format = match self.format {
            FormatChoice::Realtime => Format::RealTime,
            FormatChoice::Standard => Format::Standard,
            FormatChoice::Ndjson | FormatChoice::V2Json => return Err(LayoutError::NdjsonParser(name.to_string())),
            FormatChoice::Auto if self.realtime.is_some() => Format::RealTime,
            FormatChoice::Auto => detect(head),
        };
        match format {
            Format::Standard => Ok(Schema::standard_default()),
            Format::RealTime => match &self.realtime {
                Some(schema) => Ok(schema.clone()),
                None => infer_realtime(head)
                    .map_err(|InferError { found }| LayoutError::UnknownFieldCount { name: name.to_string(), found }),
            },
        }
    }

    /// A parser for a log whose first bytes are `head`, decoding as
    /// [`LayoutChoice::decodes_twice`] says.
    pub fn parser_for(&self, name: &str, head: &[u8]) -> Result<Parser, LayoutError> {
        let schema = self.first_schema(name, head)?;
        let twice = self.decodes_twice(&schema, head);
        Ok(self.parser(schema).double_decode(twice))
    }

    /// Whether a log laid out as `schema` whose first bytes are `head` is decoded twice:
    /// always with `--double-decode`; otherwise a standard log whose first records show
    /// the pre-2020 double encoding (`cflog_core::layout::double_encoded`), decided once
    /// per file.
    pub fn decodes_twice(&self, schema: &Schema, head: &[u8]) -> bool {
        self.double_decode || (schema.format() == Format::Standard && double_encoded(head))
    }

    /// Whether `head`, the first bytes of an input, is enough for
    /// [`LayoutChoice::parser_for`] to decide as it would with more: a whole first line,
    /// and for a standard log the records that show its encoding (or
    /// [`cflog_core::layout::SNIFF_BYTES`] of them). The whole input is always enough.
    pub fn head_is_enough(&self, head: &[u8], complete: bool) -> bool {
        if complete {
            return true;
        }
        if !head.contains(&b'\n') {
            return false;
        }
        let standard = match self.format {
            FormatChoice::Standard => true,
            FormatChoice::Auto => self.realtime.is_none() && !self.is_ndjson(head) && detect(head) == Format::Standard,
            FormatChoice::Realtime | FormatChoice::Ndjson | FormatChoice::V2Json => false,
        };
        !standard || self.double_decode || head.len() >= SNIFF_BYTES || sniff_double_encoding(head).is_some()
    }

    /// A parser for `schema` with this choice's decoding.
    pub fn parser(&self, schema: Schema) -> Parser {
        Parser::with_schema(schema).double_decode(self.double_decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_and_inference() {
        let auto = LayoutChoice::default();
        assert_eq!(auto.first_schema("x", b"#Version: 1.0\n").unwrap().format(), Format::Standard);
        assert_eq!(auto.first_schema("x", b"2019-12-04\t21:02:31\tLAX1").unwrap().format(), Format::Standard);
        // 46 fields: the complete real-time list of the 2023 release (format reference).
        let line = vec!["-"; 46].join("\t");
        assert_eq!(auto.first_schema("x", line.as_bytes()).unwrap().len(), 46);
        let err = auto.first_schema("f.log", b"a\tb\tc").unwrap_err();
        assert_eq!(err, LayoutError::UnknownFieldCount { name: "f.log".into(), found: 3 });
        let text = err.to_string();
        assert!(text.starts_with("f.log: ") && text.contains("has 3 fields") && text.contains("--fields"), "{text}");
        assert!(auto.is_ndjson(b"{\"timestamp\":1}\n") && !auto.is_ndjson(b"1607374321.541\t1\n"));
    }

    #[test]
    fn field_sets_conflict_with_other_formats() {
        let spec = FieldsSpec { names: vec!["timestamp".into(), "sc-status".into()], sampling_rate: None };
        let err = LayoutChoice::new(FormatChoice::Standard, Some(&spec), FieldsOrder::Canonical, false).unwrap_err();
        assert_eq!(err, LayoutError::FieldsWithStandard);
        let err = LayoutChoice::new(FormatChoice::Ndjson, Some(&spec), FieldsOrder::Canonical, false).unwrap_err();
        assert_eq!(err, LayoutError::FieldsWithNdjson);
        let bad = FieldsSpec { names: vec!["no-such-field".into()], sampling_rate: None };
        assert!(matches!(LayoutChoice::new(FormatChoice::Auto, Some(&bad), FieldsOrder::Canonical, false), Err(LayoutError::Fields(_))));
        let ok = LayoutChoice::new(FormatChoice::Auto, Some(&spec), FieldsOrder::Canonical, false).unwrap();
        assert_eq!(ok.first_schema("x", b"2019-12-04\t21:02:31").unwrap().format(), Format::RealTime);
    }
}
