//! cflog's own NDJSON as an input: the objects `cflog parse` prints and the Lambda's
//! enriched archive (the same objects plus an `_cflog` object), turned back into records.
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
    /// A decoder with no layout yet.
    pub fn new() -> Self {
        NdjsonDecoder::default()
    }

    /// Rebuilds the record in `json` (one line, without its `\n`) as a TAB-separated line in
    /// `out` (cleared first). The error says what is wrong with the line, without its number.
    pub fn decode(&mut self, json: &[u8], out: &mut Vec<u8>) -> Result<Decoded, String> {
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
            return Err("an object without CloudFront fields (cflog reads the records of `cflog parse` and of the Lambda's enriched stream)".into());
        }
        if !same_keys {
            let keys: Vec<&str> = object.0.iter().map(|(k, _)| k.as_ref()).filter(|k| !is_added_key(k)).collect();
            self.layout = None;
            self.keys = keys.iter().map(|k| k.to_string()).collect();
            self.layout = Some(layout_for(&keys)?);
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
            write_value(cell, value, kind).map_err(|why| format!("key {key:?}: {why}"))?;
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
fn json_error(e: serde_json::Error) -> String {
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or(&text);
    match e.classify() {
        serde_json::error::Category::Data => format!("not a record object: {what}"),
        _ => format!("not JSON: {what} at column {}", e.column()),
    }
}

/// The layout a record's keys imply: real-time when every key is a real-time field name;
/// standard when any key only standard logs have (`date`, `time`, `cs(Host)`, …; unknown
/// names are then kept as untyped columns, as in a `#Fields:` header).
fn layout_for(keys: &[&str]) -> Result<KeyLayout, String> {
    let realtime = keys.iter().all(|k| Field::from_name(Format::RealTime, k).is_some());
    let standard_only = |k: &&str| {
        Field::from_name(Format::Standard, k).is_some() && Field::from_name(Format::RealTime, k).is_none()
    };
    let schema = if realtime {
        Schema::from_field_names(keys)
    } else if keys.iter().any(standard_only) {
        Schema::standard(keys)
    } else {
        Schema::from_field_names(keys)
    }
    .map_err(|e| match e {
        SchemaError::UnknownField { name, suggestion, .. } => format!(
            "key {name:?} is not a CloudFront field name{}",
            suggestion.map(|s| format!(" (did you mean {s:?}?)")).unwrap_or_default()
        ),
        SchemaError::DuplicateField { name, .. } => format!("key {name:?} appears twice"),
        other => other.to_string(),
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
fn enrichment_tags(e: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, String> {
    if let Some(error) = e.get("error") {
        let reason = error.as_str().map_or_else(|| error.to_string(), str::to_string);
        return Err(format!("a line the Lambda could not parse, forwarded with its reason: {reason}"));
    }
    let Some(tags) = e.get("tags").and_then(|t| t.as_object()) else { return Ok(Vec::new()) };
    Ok(tags
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
        .collect())
}

/// Appends `value` as the text of a column of type `kind`.
fn write_value(out: &mut Vec<u8>, value: &Value<'_>, kind: Kind) -> Result<(), &'static str> {
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

/// Percent-encodes what CloudFront encodes in its logs (AWS, "Standard log file fields").
fn percent_encode(out: &mut Vec<u8>, text: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text {
        let escape = b <= b' '
            || b >= 0x7f
            || matches!(b, b'<' | b'>' | b'"' | b'#' | b'%' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'~' | b'[' | b']' | b'`' | b'\'');
        if escape {
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
        decoder.decode(json.as_bytes(), &mut out)?;
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
    fn sniffing() {
        assert!(looks_like_record(br#"{"timestamp":1607374321.541,"c-ip":"1.2.3.4"}"#));
        assert!(looks_like_record(br#" { "date":"2019-12-04""#));
        assert!(looks_like_record(br#"{"_cflog":{"error":"x"}}"#));
        assert!(!looks_like_record(br#"{"schema_version":3,"records":2}"#));
        assert!(!looks_like_record(b"1607374321.541\t1.2.3.4"));
    }
}
