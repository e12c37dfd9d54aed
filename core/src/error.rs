//! Parse errors that name the line, the field and the reason.

use core::fmt;

use crate::schema::SchemaError;

/// Why a line is not a record. Small, and `Clone` but not `Copy` (a bad `#Fields:` header
/// carries its [`SchemaError`], which owns the offending name); every other kind holds only
/// numbers and static text, so a bad line costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseError {
    /// 1-based line number in its input.
    pub line: u64,
    /// 1-based column, when one column is at fault.
    pub column: Option<u32>,
    /// The field's name in the line's format, when one field is at fault.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A real-time record whose field count differs from the layout's.
    FieldCount {
        /// Columns in the layout.
        expected: u32,
        /// Columns in the line.
        found: u32,
    },
    /// A value that its field's type does not allow.
    Invalid {
        /// What the field holds, in words ("a three-digit status").
        expected: &'static str,
    },
    /// A W3C header inside a real-time log.
    UnexpectedHeader,
    /// A `#Fields:` header that is not a valid layout.
    BadHeader(SchemaError),
    /// A line longer than the parser accepts.
    TooLong {
        /// The limit in bytes.
        limit: u32,
    },
}

impl ParseError {
    pub(crate) fn line(line: u64, kind: ParseErrorKind) -> Self {
        ParseError { line, column: None, field: None, kind }
    }
}

impl ParseError {
    /// The message without its `line N: ` prefix, for callers that print their own
    /// position (`FILE:LINE: field F: reason`).
    pub fn reason(&self) -> Reason<'_> {
        Reason(self)
    }
}

/// A [`ParseError`] shown without its line number.
#[derive(Debug)]
pub struct Reason<'a>(&'a ParseError);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason())
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = self.0;
        match (this.field, this.column) {
            (Some(name), _) => write!(f, "field {name}: ")?,
            (None, Some(c)) => write!(f, "column {c}: ")?,
            (None, None) => {}
        }
        match &this.kind {
            ParseErrorKind::FieldCount { expected, found } => write!(
                f,
                "{found} fields, but the layout has {expected} (wrong --fields, or the real-time log config changed)"
            ),
            ParseErrorKind::Invalid { expected } => write!(f, "expected {expected}"),
            ParseErrorKind::UnexpectedHeader => {
                f.write_str("a W3C header in a real-time log (is this a standard log? use --format standard)")
            }
            ParseErrorKind::BadHeader(e) => write!(f, "bad #Fields header: {e}"),
            ParseErrorKind::TooLong { limit } => write!(f, "line longer than {limit} bytes"),
        }
    }
}

impl core::error::Error for ParseError {}
