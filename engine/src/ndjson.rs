//! JSON-lines inputs turned back into records: cflog's own NDJSON (the objects `cflog parse`
//! prints and the Lambda's enriched archive, the same objects plus an `_cflog` object), and
//! CloudFront standard logging v2's JSON output (one object per record keyed by the v2 field
//! names, which are the legacy standard-log names; values still percent-encoded). The two
//! differ only in how text is written ([`Dialect`]); [`sniff_dialect`] tells them apart.
//!
//! Each object is rebuilt as the TAB-separated line it stands for, in the layout its keys
//! imply (real-time names in AWS's canonical order, or standard W3C names in the object's
//! order), and that line goes through the ordinary [`cflog_core::Parser`]. So there is one
//! implementation of typing, validation and error messages for both kinds of input, and a
//! record read back from NDJSON aggregates exactly as the line it came from.
//!
//! `cflog parse` decodes percent-encoded text once; the rebuilt line encodes it again the way
//! CloudFront does (ASCII 0–32, 127 and above, `%`, `"`, `#`, `'`, `<`, `>`, `\`, `^`, `` ` ``,
//! `{`, `|`, `}`, `~`, `[`, `]` and space), because the summary keys URIs, referers and user
//! agents by their encoded text and decodes them for the report. What the NDJSON cannot carry:
//! bytes that were not UTF-8 after decoding (they became U+FFFD), and lines that
//! `cflog parse` rejected (they are not in its output, so they are not counted as bad).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use cflog_core::field::{Field, Format, Kind};
use cflog_core::{Schema, SchemaError};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a JSON line is not a record (the line's number is the caller's to add).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NdjsonError {
    /// The line is not JSON.
    #[error("not JSON: {what} at column {column}")]
    NotJson {
        /// serde_json's message.
        what: String,
        /// 1-based column.
        column: usize,
    },
    /// JSON, but not one object of scalar values.
    #[error("not a record object: {0}")]
    NotObject(String),
    /// An object with no CloudFront field keys.
    #[error("an object without CloudFront fields ({})", match .0 {
        Dialect::Cflog => "cflog reads the records of `cflog parse` and of the Lambda's enriched stream",
        Dialect::V2 => "standard logging v2 JSON has one key per log field",
    })]
    NoFields(Dialect),
    /// A v2 object none of whose keys is a v2 field name.
    #[error(
        "no key is a standard logging v2 field name (keys {keys:?}; v2 uses the standard-log names: date, time, \
         c-ip, sc-status, cs-uri-stem, cs(User-Agent), timestamp, …)"
    )]
    NoV2Field {
        /// The first keys of the object.
        keys: Vec<String>,
    },
    /// A key that is no CloudFront field name.
    #[error("key {name:?} is not a CloudFront field name{}", suggestion.as_ref().map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default())]
    UnknownKey {
        /// The key.
        name: String,
        /// The closest field name, if any is close.
        suggestion: Option<&'static str>,
    },
    /// A key given twice.
    #[error("key {0:?} appears twice")]
    DuplicateKey(String),
    /// The keys make no schema for another reason.
    #[error("{0}")]
    Schema(SchemaError),
    /// A value that cannot be a column of its field.
    #[error("key {key:?}: {why}")]
    Value {
        /// The key.
        key: String,
        /// What is wrong with its value.
        why: &'static str,
    },
    /// A line the Lambda could not parse, forwarded in its enriched stream.
    #[error("a line the Lambda could not parse, forwarded with its reason: {0}")]
    Forwarded(String),
}

/// The key of the enrichment object the Lambda adds to each record.
pub const ENRICHMENT_KEY: &str = "_cflog";

/// Keys that are not log fields: the enrichment object, and what the Lambda adds for
/// OpenSearch (`@timestamp`, derived from `timestamp`). Skipped when rebuilding the line.
fn is_added_key(key: &str) -> bool {
    key == ENRICHMENT_KEY || key.starts_with('@')
}

/// Whether `line` (the first line of an input) looks like one of cflog's NDJSON records: a
/// JSON object whose first key is a CloudFront field name or `_cflog`. Used to pick files in
/// a directory; `--format auto` only needs the `{`.
pub fn looks_like_record(line: &[u8]) -> bool {
    let Some(rest) = line.trim_ascii_start().strip_prefix(b"{") else { return false };
    let Some(rest) = rest.trim_ascii_start().strip_prefix(b"\"") else { return false };
    let Some(end) = memchr::memchr(b'"', rest) else { return false };
    let key = String::from_utf8_lossy(&rest[..end]);
    is_added_key(&key)
        || Field::from_name(Format::RealTime, &key).is_some()
        || Field::from_name(Format::Standard, &key).is_some()
}

/// How the string values of a JSON-lines input are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// cflog's NDJSON: text decoded once, `-` written as `null`, numbers as numbers.
    #[default]
    Cflog,
    /// Standard logging v2 JSON: values as in the W3C file (percent-encoded, `-` for no
    /// value), as strings or numbers; keys are always standard (legacy) names.
    V2,
}

/// Which [`Dialect`] the first records of a JSON-lines input (`head`, whole lines) are
/// written in. A record written by cflog has an `_cflog` or `@timestamp` key, or decoded
/// text (a space, `"`, `<`… in a percent-encoded field: CloudFront always encodes those);
/// a v2 record has the string `"-"`, or a number-typed field (`sc-status`, `sc-bytes`,
/// `time-taken`…) written as a string, which cflog never writes. Without either, a
/// percent-encoded field holding a `%XX` escape and nothing CloudFront would encode votes
/// v2. With no sign at all, cflog's: then no value holds anything either would encode, so
/// both read the same.
pub fn sniff_dialect(head: &[u8]) -> Dialect {
    let mut v2_votes = 0usize;
    for line in head.split(|&b| b == b'\n').take(200) {
        let Ok(object) = serde_json::from_slice::<Object<'_>>(line.strip_suffix(b"\r").unwrap_or(line)) else { continue };
        for (key, value) in &object.0 {
            if is_added_key(key) {
                return Dialect::Cflog;
            }
            let kind = Field::from_name(Format::Standard, key).map_or(Kind::Encoded, Field::kind);
            let Value::Str(s) = value else { continue };
            if s.as_ref() == "-" || (kind.is_numeric() && kind != Kind::Decimal) {
                return Dialect::V2;
            }
            if matches!(kind, Kind::Encoded | Kind::IpList) {
                if s.bytes().any(|b| b != b'%' && cloudfront_encodes(b)) {
                    return Dialect::Cflog;
                }
                v2_votes += usize::from(has_percent_escape(s.as_bytes()));
            }
        }
    }
    if v2_votes > 0 { Dialect::V2 } else { Dialect::Cflog }
}

/// Whether `text` holds a `%XX` escape.
fn has_percent_escape(text: &[u8]) -> bool {
    text.windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// What one NDJSON line turned into.
#[derive(Debug)]
pub enum Decoded {
    /// An empty line.
    Blank,
    /// A record: its TAB-separated line is in the caller's buffer, laid out by `schema`
    /// (the same `Arc` for as long as the objects have the same keys).
    Record {
        /// The layout of the rebuilt line.
        schema: Arc<Schema>,
        /// `_cflog.tags` of an enriched record (enrichment rules' tags), in order.
        tags: Vec<(String, String)>,
    },
}

/// Turns NDJSON lines into TAB-separated lines. Keeps the layout of the last key set, so a
/// file of objects with the same keys resolves its layout once.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    dialect: Dialect,
    keys: Vec<String>,
    layout: Option<KeyLayout>,
    cells: Vec<Vec<u8>>,
}

#[derive(Debug)]
struct KeyLayout {
    schema: Arc<Schema>,
    /// For each key (in object order, `_cflog` left out): its column and value type.
    columns: Vec<(usize, Kind)>,
}

impl NdjsonDecoder {
    /// A decoder of cflog's NDJSON with no layout yet.
    pub fn new() -> Self {
        NdjsonDecoder::default()
    }

    /// A decoder of records written in `dialect`.
    pub fn with_dialect(dialect: Dialect) -> Self {
        NdjsonDecoder { dialect, ..NdjsonDecoder::default() }
    }

    /// The dialect this decoder reads.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Rebuilds the record in `json` (one line, without its `\n`) as a TAB-separated line in
    /// `out` (cleared first). The error says what is wrong with the line, without its number.
    pub fn decode(&mut self, json: &[u8], out: &mut Vec<u8>) -> Result<Decoded, NdjsonError> {
        out.clear();
        let json = json.strip_suffix(b"\r").unwrap_or(json);
        if json.iter().all(u8::is_ascii_whitespace) {
            return Ok(Decoded::Blank);
        }
        let object: Object<'_> = serde_json::from_slice(json).map_err(json_error)?;
        let mut enrichment = None;
        let mut same_keys = self.layout.is_some();
        let mut n = 0;
        for (key, value) in &object.0 {
            if key == ENRICHMENT_KEY {
                enrichment = Some(value);
                continue;
            }
            if is_added_key(key) {
                continue;
            }
            same_keys &= self.keys.get(n).is_some_and(|k| k == key);
            n += 1;
        }
        same_keys &= n == self.keys.len();
        let tags = match enrichment {
            Some(Value::Object(e)) => enrichment_tags(e)?,
            _ => Vec::new(),
        };
        if n == 0 {
            return Err(NdjsonError::NoFields(self.dialect));
        }
        if !same_keys {
            let keys: Vec<&str> = object.0.iter().map(|(k, _)| k.as_ref()).filter(|k| !is_added_key(k)).collect();
            self.layout = None;
            self.keys = keys.iter().map(|k| k.to_string()).collect();
            self.layout = Some(layout_for(&keys, self.dialect)?);
        }
        let layout = self.layout.as_ref().expect("set above");
        let width = layout.schema.len();
        if self.cells.len() < width {
            self.cells.resize_with(width, Vec::new);
        }
        let mut i = 0;
        for (key, value) in &object.0 {
            if is_added_key(key) {
                continue;
            }
            let (column, kind) = layout.columns[i];
            i += 1;
            let cell = &mut self.cells[column];
            cell.clear();
            write_value(cell, value, kind, self.dialect).map_err(|why| NdjsonError::Value { key: key.to_string(), why })?;
        }
        for (c, cell) in self.cells[..width].iter().enumerate() {
            if c > 0 {
                out.push(b'\t');
            }
            out.extend_from_slice(cell);
        }
        Ok(Decoded::Record { schema: layout.schema.clone(), tags })
    }
}

/// `serde_json`'s message, positioned by column only (an NDJSON record is one line).
fn json_error(e: serde_json::Error) -> NdjsonError {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text).to_string();
    match e.classify() {
        serde_json::error::Category::Data => NdjsonError::NotObject(what),
        _ => NdjsonError::NotJson { what, column: e.column() },
    }
}

/// The layout a record's keys imply: for cflog's NDJSON, real-time when every key is a
/// real-time field name; standard when any key only standard logs have (`date`, `time`,
/// `cs(Host)`, …; unknown names are then kept as untyped columns, as in a `#Fields:`
/// header). Standard logging v2 records are always standard: the same schema as the W3C
/// file whose `#Fields:` line lists the keys, and at least one key must be a field.
fn layout_for(keys: &[&str], dialect: Dialect) -> Result<KeyLayout, NdjsonError> {
    if dialect == Dialect::V2 && !keys.iter().any(|k| Field::from_name(Format::Standard, k).is_some()) {
        return Err(NdjsonError::NoV2Field { keys: keys.iter().take(5).map(|k| k.to_string()).collect() });
    }
    let realtime = dialect == Dialect::Cflog && keys.iter().all(|k| Field::from_name(Format::RealTime, k).is_some());
    let standard_only = |k: &&str| {
        Field::from_name(Format::Standard, k).is_some() && Field::from_name(Format::RealTime, k).is_none()
    };
    let schema = if realtime {
        Schema::from_field_names(keys)
    } else if dialect == Dialect::V2 || keys.iter().any(standard_only) {
        Schema::standard(keys)
    } else {
        Schema::from_field_names(keys)
    }
    .map_err(|e| match e {
        SchemaError::UnknownField { name, suggestion, .. } => {
            NdjsonError::UnknownKey { name, suggestion }
        }
        SchemaError::DuplicateField { name, .. } => NdjsonError::DuplicateKey(name.to_string()),
        other => NdjsonError::Schema(other),
    })?;
    let columns = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let column = match schema.format() {
                // Standard columns are the keys in object order.
                Format::Standard => i,
                Format::RealTime => Field::from_name(Format::RealTime, k)
                    .and_then(|f| schema.column_of(f))
                    .expect("every key is a column of its schema"),
            };
            (column, schema.columns()[column].field.map_or(Kind::Encoded, Field::kind))
        })
        .collect();
    Ok(KeyLayout { schema: Arc::new(schema), columns })
}

/// `_cflog.tags` as (key, value) pairs; a forwarded bad line (`_cflog.error`) is an error.
fn enrichment_tags(e: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, NdjsonError> {
    if let Some(error) = e.get("error") {
        let reason = error.as_str().map_or_else(|| error.to_string(), str::to_string);
        return Err(NdjsonError::Forwarded(reason));
    }
    let Some(tags) = e.get("tags").and_then(|t| t.as_object()) else { return Ok(Vec::new()) };
    Ok(tags
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect())
}

/// Appends `value` as the text of a column of type `kind`.
fn write_value(out: &mut Vec<u8>, value: &Value<'_>, kind: Kind, dialect: Dialect) -> Result<(), &'static str> {
    use std::io::Write;
    match value {
        Value::Null => out.push(b'-'),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // `cflog parse` writes status 000 (the viewer hung up) as the number 0.
        Value::U64(n) if kind == Kind::Status && *n < 1000 => write!(out, "{n:03}").expect("writing to a Vec"),
        Value::U64(n) => write!(out, "{n}").expect("writing to a Vec"),
        Value::I64(n) => write!(out, "{n}").expect("writing to a Vec"),
        // Rust prints the shortest text that reads back as the same number, never with an
        // exponent: 0.14 stays 0.14 and 1607374321.541 stays 1607374321.541.
        Value::F64(v) => write!(out, "{v}").expect("writing to a Vec"),
        Value::Str(s) if s.is_empty() => out.push(b'-'),
        // v2 text is the log's own (percent-encoded already, `-` for no value).
        Value::Str(s) if dialect == Dialect::V2 => {
            if s.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) {
                return Err("a TAB or line break in a value (standard logging v2 values are percent-encoded)");
            }
            out.extend_from_slice(s.as_bytes());
        }
        Value::Str(s) => match kind {
            // What `cflog parse` decoded: encode again.
            Kind::Encoded | Kind::IpList | Kind::Bool | Kind::Decimal => percent_encode(out, s.as_bytes()),
            // What it wrote as it was: a TAB or a line break cannot be part of a line.
            _ if s.bytes().any(|b| matches!(b, b'\t' | b'\n' | b'\r')) => {
                return Err("a TAB or line break in a value of this field");
            }
            _ => out.extend_from_slice(s.as_bytes()),
        },
        Value::Object(_) => return Err("expected a string, number or null, not an object"),
        Value::Array => return Err("expected a string, number or null, not an array"),
    }
    Ok(())
}

/// Whether CloudFront percent-encodes `b` in its logs (AWS, "Standard log file fields").
fn cloudfront_encodes(b: u8) -> bool {
    b <= b' '
        || b >= 0x7f
        || matches!(b, b'<' | b'>' | b'"' | b'#' | b'%' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'~' | b'[' | b']' | b'`' | b'\'')
}

/// Percent-encodes what CloudFront encodes in its logs.
fn percent_encode(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text {
        if cloudfront_encodes(b) {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        } else {
            out.push(b);
        }
    }
}

/// A JSON object with its keys in order, borrowing from the line where it can.
struct Object<'a>(Vec<(Cow<'a, str>, Value<'a>)>);

enum Value<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    Object(serde_json::Map<String, serde_json::Value>),
    Array,
}

impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(k, _)| k)).finish()
    }
}

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(48));
                while let Some(Key(k)) = map.next_key()? {
                    entries.push((k, map.next_value()?));
                }
                Ok(Object(entries))
            }
        }
        d.deserialize_map(V)
    }
}

struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value<'de>, E> {
                Ok(Value::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value<'de>, E> {
                Ok(Value::U64(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value<'de>, E> {
                Ok(Value::I64(n))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
                Ok(Value::F64(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(s.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value<'de>, A::Error> {
                let object = serde_json::Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Value::Object(object))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Array)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(decoder: &mut NdjsonDecoder, json: &str) -> Result<String, String> {
        let mut out = Vec::new();
        decoder.decode(json.as_bytes(), &mut out).map_err(|e| e.to_string())?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn realtime_keys_in_any_order_become_a_canonical_line() {
        let mut d = NdjsonDecoder::new();
        let got = line(&mut d, r#"{"sc-status":0,"cs-user-agent":"Mozilla/5.0 (X11; 100%)","timestamp":1607374321.541,"time-taken":0.14,"c-ip":null}"#);
        assert_eq!(got.unwrap(), "1607374321.541\t-\t000\t0.14\tMozilla/5.0%20(X11;%20100%25)");
    }

    #[test]
    fn standard_keys_keep_their_order_and_unknown_names() {
        let mut d = NdjsonDecoder::new();
        let got = line(&mut d, r#"{"date":"2019-12-04","time":"21:02:31","x-future":"a b","cs(Host)":"d1.cloudfront.net"}"#);
        assert_eq!(got.unwrap(), "2019-12-04\t21:02:31\ta%20b\td1.cloudfront.net");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let mut d = NdjsonDecoder::new();
        assert_eq!(line(&mut d, r#"{"timestamp":1,"sc-staus":200}"#).unwrap_err(), "key \"sc-staus\" is not a CloudFront field name (did you mean \"sc-status\"?)");
        assert!(line(&mut d, r#"{"timestamp":1,"#).unwrap_err().starts_with("not JSON: EOF while parsing"));
        assert!(line(&mut d, "[1,2]").unwrap_err().starts_with("not a record object"));
        assert_eq!(line(&mut d, r#"{"c-ip":{"a":1}}"#).unwrap_err(), "key \"c-ip\": expected a string, number or null, not an object");
        assert_eq!(line(&mut d, r#"{"c-ip":"1.2.3.4\t"}"#).unwrap_err(), "key \"c-ip\": a TAB or line break in a value of this field");
        assert!(line(&mut d, r#"{"_cflog":{"error":"2 fields, but the layout has 46","line":"a\tb"}}"#).unwrap_err().contains("2 fields, but the layout has 46"));
    }

    #[test]
    fn enriched_records_carry_their_tags_and_the_layout_is_kept() {
        let mut d = NdjsonDecoder::new();
        let mut out = Vec::new();
        let json = br#"{"timestamp":1.5,"c-ip":"::1","_cflog":{"distribution":"d","tags":{"bot":"curl"},"source":{"shard":"s","seq":"1"}}}"#;
        let Decoded::Record { schema: first, tags } = d.decode(json, &mut out).unwrap() else { panic!() };
        assert_eq!(tags, [("bot".to_string(), "curl".to_string())]);
        assert_eq!(out, b"1.5\t::1");
        let Decoded::Record { schema: second, .. } = d.decode(json, &mut out).unwrap() else { panic!() };
        assert!(Arc::ptr_eq(&first, &second));
        assert!(matches!(d.decode(b"  \r", &mut out), Ok(Decoded::Blank)));
    }

    #[test]
    fn v2_values_are_kept_as_written() {
        // Values as the W3C line has them (format reference §3: still URL-encoded, `-`
        // for no value; numbers as strings or numbers).
        let mut d = NdjsonDecoder::with_dialect(Dialect::V2);
        let got = line(&mut d, r#"{"timestamp":"1738535441","DistributionId":"E1","sc-status":200,"cs(User-Agent)":"Mozilla/5.0%20(X11)","cs(Referer)":"-","time-taken":0.14,"c-port":null}"#);
        assert_eq!(got.unwrap(), "1738535441\tE1\t200\tMozilla/5.0%20(X11)\t-\t0.14\t-");
        // Names shared with real-time logs still mean the standard fields.
        let Decoded::Record { schema, .. } = d.decode(br#"{"timestamp":1738535441,"cs-uri-stem":"/a"}"#, &mut Vec::new()).unwrap() else { panic!() };
        assert_eq!(schema.format(), Format::Standard);
        assert!(line(&mut d, r#"{"a":1,"b":2}"#).unwrap_err().starts_with("no key is a standard logging v2 field name"));
        assert!(line(&mut d, r#"{"cs-uri-stem":"/a\tb"}"#).unwrap_err().contains("a TAB or line break"));
    }

    #[test]
    fn dialects_are_told_apart() {
        assert_eq!(sniff_dialect(br#"{"date":"2025-02-02","sc-status":"200"}"#), Dialect::V2);
        assert_eq!(sniff_dialect(br#"{"date":"2025-02-02","cs(Referer)":"-"}"#), Dialect::V2);
        assert_eq!(sniff_dialect(br#"{"date":"2025-02-02","cs(User-Agent)":"curl/8%200"}"#), Dialect::V2);
        assert_eq!(sniff_dialect(br#"{"date":"2025-02-02","cs(User-Agent)":"Mozilla/5.0 (X11)","cs-uri-stem":"/a%20b"}"#), Dialect::Cflog);
        assert_eq!(sniff_dialect(br#"{"timestamp":1607374321.541,"_cflog":{}}"#), Dialect::Cflog);
        assert_eq!(sniff_dialect(br#"{"date":"2025-02-02","sc-status":200}"#), Dialect::Cflog);
        assert_eq!(sniff_dialect(b"{\"date\":\"2025-02-02\"}\n{\"sc-bytes\":\"12\"}\n"), Dialect::V2);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_record(br#"{"timestamp":1607374321.541,"c-ip":"1.2.3.4"}"#));
        assert!(looks_like_record(br#" { "date":"2019-12-04""#));
        assert!(looks_like_record(br#"{"_cflog":{"error":"x"}}"#));
        assert!(looks_like_record(br#"{"DistributionId":"E1","timestamp(ms)":"1738535441041"}"#));
        assert!(!looks_like_record(br#"{"schema_version":3,"records":2}"#));
        assert!(!looks_like_record(b"1607374321.541\t1.2.3.4"));
    }
}
