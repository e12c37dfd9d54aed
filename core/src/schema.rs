//! Schemas: which field sits in which column, resolved once per layout.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::field::{
    Field, Format, REALTIME_FIELDS, REALTIME_RELEASES, STANDARD_FIELDS, STANDARD_V2_FIELDS,
    realtime_rank,
};

const ABSENT: u16 = u16::MAX;

/// One column of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The name as it appears in the format (`cs(Host)`, `sc-status`, or an unknown W3C name).
    pub name: Cow<'static, str>,
    /// The field it carries; `None` for a W3C name this version does not know.
    pub field: Option<Field>,
}

/// A resolved layout: the columns of a record and, for every [`Field`], its column.
///
/// Build it once and parse many lines with it; per-record access is by [`Field`], an array
/// index, never a string compare.
///
/// `==` compares the layouts; a schema and its clones (a parser's, a writer's) compare
/// equal at once, by the number of the construction they come from, which
/// [`crate::json::RecordWriter`] relies on for every record.
#[derive(Clone)]
pub struct Schema {
    format: Format,
    columns: Vec<Column>,
    index: [u16; Field::COUNT],
    /// Which construction this is (or is a clone of): a schema never changes once built,
    /// so two with the same `id` are the same layout.
    id: u64,
}

/// The `id` of the next schema built.
static NEXT_ID: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.id == other.id || (self.format == other.format && self.columns == other.columns && self.index == other.index)
    }
}

impl Eq for Schema {}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema").field("format", &self.format).field("columns", &self.columns).field("index", &self.index).finish()
    }
}

/// Why a list of field names is not a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaError {
    /// No names at all.
    Empty,
    /// A name that the format does not have.
    UnknownField {
        /// The name as given.
        name: String,
        /// Its position in the given list (0-based).
        position: usize,
        /// The closest valid name, when one is close.
        suggestion: Option<&'static str>,
    },
    /// The same field twice.
    DuplicateField {
        /// The name as given.
        name: String,
        /// Its second position in the given list (0-based).
        position: usize,
    },
    /// More columns than a record can index.
    TooManyColumns(usize),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Empty => f.write_str("the field list is empty"),
            SchemaError::UnknownField { name, position, suggestion } => {
                write!(f, "unknown field name {name:?} (item {})", position + 1)?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean {s:?}?"),
                    None => Ok(()),
                }
            }
            SchemaError::DuplicateField { name, position } => {
                write!(f, "field {name:?} is listed twice (again at item {})", position + 1)
            }
            SchemaError::TooManyColumns(n) => write!(f, "{n} columns is more than a schema can hold"),
        }
    }
}

impl core::error::Error for SchemaError {}

impl Schema {
    fn from_columns(format: Format, columns: Vec<Column>) -> Result<Schema, SchemaError> {
        if columns.is_empty() {
            return Err(SchemaError::Empty);
        }
        if columns.len() >= ABSENT as usize {
            return Err(SchemaError::TooManyColumns(columns.len()));
        }
        let mut index = [ABSENT; Field::COUNT];
        for (i, column) in columns.iter().enumerate() {
            if let Some(field) = column.field {
                if index[field as usize] != ABSENT {
                    return Err(SchemaError::DuplicateField { name: column.name.clone().into_owned(), position: i });
                }
                index[field as usize] = i as u16;
            }
        }
        let id = NEXT_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        Ok(Schema { format, columns, index, id })
    }

    /// A real-time schema from the configured *set* of field names, put into AWS's
    /// canonical delivery order (CloudFront delivers that order whatever order the
    /// configuration lists). Unknown names are an error naming the closest valid one.
    ///
    /// ```
    /// use cflog_core::{Field, Schema};
    /// let schema = Schema::from_field_names(&["sc-status", "timestamp", "c-ip"]).unwrap();
    /// assert_eq!(schema.column_of(Field::Timestamp), Some(0));
    /// assert_eq!(schema.column_of(Field::Status), Some(2));
    /// ```
    pub fn from_field_names<S: AsRef<str>>(names: &[S]) -> Result<Schema, SchemaError> {
        let mut fields = resolve_realtime(names)?;
        fields.sort_by_key(|(_, f)| realtime_rank(*f));
        Schema::from_columns(Format::RealTime, fields.into_iter().map(|(n, f)| known(n, f)).collect())
    }

    /// A real-time schema in exactly the given order (as `GetRealtimeLogConfig` returns it).
    pub fn realtime_ordered<S: AsRef<str>>(names: &[S]) -> Result<Schema, SchemaError> {
        let fields = resolve_realtime(names)?;
        Schema::from_columns(Format::RealTime, fields.into_iter().map(|(n, f)| known(n, f)).collect())
    }

    /// The complete real-time field list of the AWS release that had `count` fields, if
    /// there was one (see [`REALTIME_RELEASES`]).
    pub fn realtime_release(count: usize) -> Option<Schema> {
        let release = REALTIME_RELEASES.iter().find(|r| r.count == count)?;
        let columns =
            REALTIME_FIELDS.iter().filter(|(_, f)| release.includes(*f)).map(|(n, f)| known(n, *f)).collect();
        Schema::from_columns(Format::RealTime, columns).ok()
    }

    /// Every real-time field (71), in canonical order.
    pub fn realtime_all() -> Schema {
        let columns = REALTIME_FIELDS.iter().map(|(n, f)| known(n, *f)).collect();
        Schema::from_columns(Format::RealTime, columns).expect("the canonical list is a valid schema")
    }

    /// The 33-column standard layout (December 2019 onward), used when a file has no
    /// `#Fields:` header.
    pub fn standard_default() -> Schema {
        let columns = STANDARD_FIELDS.iter().map(|(n, f)| known(n, *f)).collect();
        Schema::from_columns(Format::Standard, columns).expect("the standard list is a valid schema")
    }

    /// A standard-log schema from W3C field names, in file order. Names this version does
    /// not know are kept as untyped text columns, because new fields appear in files
    /// before any parser knows them.
    pub fn standard<S: AsRef<str>>(names: &[S]) -> Result<Schema, SchemaError> {
        let columns = names
            .iter()
            .map(|n| {
                let name = n.as_ref();
                match STANDARD_FIELDS.iter().chain(STANDARD_V2_FIELDS).find(|(k, _)| *k == name) {
                    Some((k, f)) => known(k, *f),
                    None => Column { name: Cow::Owned(String::from(name)), field: None },
                }
            })
            .collect();
        Schema::from_columns(Format::Standard, columns)
    }

    /// A standard-log schema from a `#Fields:` header line (names separated by spaces or
    /// tabs). Returns `None` when the line is not a `#Fields:` line.
    ///
    /// ```
    /// use cflog_core::{Field, Schema};
    /// let schema = Schema::from_w3c_fields(b"#Fields: date time x-edge-location").unwrap().unwrap();
    /// assert_eq!(schema.column_of(Field::EdgeLocation), Some(2));
    /// ```
    pub fn from_w3c_fields(line: &[u8]) -> Option<Result<Schema, SchemaError>> {
        let names = crate::grammar::w3c_fields(line)?;
        Some(Schema::standard(&names))
    }

    /// Which format the schema describes.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The columns, in record order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// How many columns a record has.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Always false: a schema has at least one column.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The column that carries `field`, if the layout has it.
    #[inline]
    pub fn column_of(&self, field: Field) -> Option<usize> {
        let i = self.index[field as usize];
        (i != ABSENT).then_some(i as usize)
    }

    /// Whether the layout carries `field`.
    pub fn has(&self, field: Field) -> bool {
        self.column_of(field).is_some()
    }

    /// The field names, in record order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_ref())
    }
}

fn known(name: &'static str, field: Field) -> Column {
    Column { name: Cow::Borrowed(name), field: Some(field) }
}

fn resolve_realtime<S: AsRef<str>>(names: &[S]) -> Result<Vec<(&'static str, Field)>, SchemaError> {
    if names.is_empty() {
        return Err(SchemaError::Empty);
    }
    let mut out: Vec<(&'static str, Field)> = Vec::with_capacity(names.len());
    for (position, name) in names.iter().enumerate() {
        let name = name.as_ref().trim();
        let Some(&(canonical, field)) = REALTIME_FIELDS.iter().find(|(n, _)| *n == name) else {
            return Err(SchemaError::UnknownField {
                name: String::from(name),
                position,
                suggestion: closest(name, REALTIME_FIELDS.iter().map(|(n, _)| *n)),
            });
        };
        if out.iter().any(|(_, f)| *f == field) {
            return Err(SchemaError::DuplicateField { name: String::from(name), position });
        }
        out.push((canonical, field));
    }
    Ok(out)
}

/// The candidate with the smallest edit distance to `name`, if it is close enough to be a
/// plausible typo (at most a third of the name's length, and at least 1).
fn closest(name: &str, candidates: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let limit = (lower.len() / 3).max(2);
    candidates
        .map(|c| (edit_distance(lower.as_bytes(), c.as_bytes()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = alloc::vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        core::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// `==` is the layout's equality whether or not the two share a construction: clones
    /// (same id) are equal, separately built equal layouts are equal, others are not.
    #[test]
    fn equality_is_the_layouts_not_the_construction() {
        let a = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
        let b = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
        let other = Schema::from_field_names(&["timestamp", "sc-status"]).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(a.clone().id, a.id);
        assert_eq!(a, a.clone());
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_ne!(Schema::realtime_all(), Schema::standard_default());
        assert_eq!(Schema::realtime_release(46).unwrap(), Schema::realtime_release(46).unwrap());
        // Debug shows the layout only, the same for both.
        assert_eq!(alloc::format!("{a:?}"), alloc::format!("{b:?}"));
    }

    #[test]
    fn set_is_put_in_canonical_order() {
        // The AWS doc's own example: time-to-first-byte, sc-status, c-country configured,
        // then sc-bytes and time-taken added.
        let s = Schema::from_field_names(&["time-to-first-byte", "sc-status", "c-country", "sc-bytes", "time-taken"])
            .unwrap();
        let names: Vec<&str> = s.names().collect();
        assert_eq!(names, ["time-to-first-byte", "sc-status", "sc-bytes", "time-taken", "c-country"]);
    }

    #[test]
    fn ordered_keeps_the_given_order() {
        let s = Schema::realtime_ordered(&["sc-status", "timestamp"]).unwrap();
        assert_eq!(s.column_of(Field::Status), Some(0));
        assert_eq!(s.column_of(Field::Timestamp), Some(1));
    }

    #[test]
    fn unknown_name_suggests_the_closest() {
        let err = Schema::from_field_names(&["timestamp", "sc-staus"]).unwrap_err();
        assert_eq!(
            err,
            SchemaError::UnknownField { name: "sc-staus".into(), position: 1, suggestion: Some("sc-status") }
        );
        assert_eq!(err.to_string(), "unknown field name \"sc-staus\" (item 2); did you mean \"sc-status\"?");
        let err = Schema::from_field_names(&["cs(Host)"]).unwrap_err();
        assert!(err.to_string().contains("cs-host"), "{err}");
    }

    #[test]
    fn duplicates_are_rejected() {
        let err = Schema::from_field_names(&["c-ip", "timestamp", "c-ip"]).unwrap_err();
        assert_eq!(err, SchemaError::DuplicateField { name: "c-ip".into(), position: 2 });
    }

    #[test]
    fn w3c_header_with_spaces_or_tabs_and_unknown_names() {
        let s = Schema::from_w3c_fields(b"#Fields:\tdate\ttime x-future-field cs(Host)").unwrap().unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s.columns()[2].field, None);
        assert_eq!(s.column_of(Field::DistributionDomain), Some(3));
        assert!(Schema::from_w3c_fields(b"#Version: 1.0").is_none());
    }

    #[test]
    fn releases() {
        assert_eq!(Schema::realtime_release(40).unwrap().len(), 40);
        assert!(!Schema::realtime_release(40).unwrap().has(Field::ServerIp));
        assert!(Schema::realtime_release(46).unwrap().has(Field::ServerIp));
        assert!(Schema::realtime_release(41).is_none());
        assert_eq!(Schema::realtime_all().len(), 71);
    }
}
