//! The host side of enrichment rules (plugin ABI version 1, `docs/plugin-abi.md` on the
//! plugins branch) that the browser needs in Rust: building a batch of the rule's fields
//! from a chunk, and reading the rule's result back. The page runs the rule module itself
//! (`WebAssembly.instantiate`), between these two steps.
//!
//! A batch carries one entry per line of the chunk, so results line up with lines; a line
//! that is not a record (header, blank, unparsable) goes as all `-`.

use cflog_core::{Field, Parser, RecordBuf, Schema};

use crate::engine::Tags;

/// The rule's fields, resolved.
#[derive(Debug, Clone)]
pub struct RuleFields {
    fields: Vec<Option<Field>>,
}

impl RuleFields {
    /// From the rule's `cflog_fields` answer (names, one per line; commas tolerated).
    pub fn parse(text: &str) -> Result<RuleFields, String> {
        let names: Vec<&str> = text.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).collect();
        let schema = Schema::realtime_ordered(&names).map_err(|e| format!("the rule asks for unknown fields: {e}"))?;
        Ok(RuleFields { fields: schema.columns().iter().map(|c| c.field).collect() })
    }

    /// The schema text for `cflog_init`: `realtime` then one name per line.
    pub fn init_schema(text: &str) -> Result<String, String> {
        let names: Vec<&str> = text.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).collect();
        let schema = Schema::realtime_ordered(&names).map_err(|e| format!("the rule asks for unknown fields: {e}"))?;
        let mut s = String::from("realtime");
        for n in schema.names() {
            s.push('\n');
            s.push_str(n);
        }
        Ok(s)
    }

    /// The batch for every line of `bytes` (newline-aligned chunk laid out by `schema`).
    pub fn batch(&self, bytes: &[u8], schema: Schema, double_decode: bool) -> Vec<u8> {
        let mut parser = Parser::with_schema(schema).double_decode(double_decode);
        let mut buf = RecordBuf::new();
        let mut ends: Vec<u32> = Vec::new();
        let mut data: Vec<u8> = Vec::with_capacity(bytes.len() / 4);
        let mut each = |line: &[u8]| {
            let record = parser.parse_line(line, &mut buf).ok().flatten();
            for (i, f) in self.fields.iter().enumerate() {
                if i > 0 {
                    data.push(b'\t');
                }
                let v = match (&record, f) {
                    (Some(r), Some(f)) => r.raw(*f).unwrap_or(b"-"),
                    _ => b"-",
                };
                data.extend_from_slice(v);
            }
            ends.push(data.len() as u32);
        };
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', bytes) {
            each(&bytes[start..nl]);
            start = nl + 1;
        }
        if start < bytes.len() {
            each(&bytes[start..]);
        }
        let mut out = Vec::with_capacity(4 + ends.len() * 4 + data.len());
        out.extend_from_slice(&(ends.len() as u32).to_le_bytes());
        for e in &ends {
            out.extend_from_slice(&e.to_le_bytes());
        }
        out.extend_from_slice(&data);
        out
    }
}

fn valid_key(key: &[u8]) -> bool {
    !key.is_empty() && key.len() <= 64 && key.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
}

/// One line's verdict from the rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// The rule asks to drop the record.
    pub drop: bool,
    /// Tags.
    pub tags: Tags,
}

/// Reads a rule's result for `expected` records. Every key, value and count is checked.
pub fn decode_result(b: &[u8], expected: usize) -> Result<Vec<Verdict>, String> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = b.get(at..at + n).ok_or_else(|| "the enrichment rule's result is truncated".to_string())?;
        at += n;
        Ok(s)
    };
    let c = take(4)?;
    let count = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
    if count != expected {
        return Err(format!("the enrichment rule returned {count} results for {expected} records"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let h = take(3)?;
        let (flags, nt, nl) = (h[0], h[1], h[2]);
        if flags & !1 != 0 {
            return Err("the enrichment rule's result sets reserved flag bits".into());
        }
        let mut v = Verdict { drop: flags & 1 != 0, tags: Vec::with_capacity(nt as usize) };
        for _ in 0..nt {
            let klen = take(1)?[0] as usize;
            let key = take(klen)?;
            if !valid_key(key) {
                return Err(format!("the enrichment rule returned an invalid tag key {:?}", String::from_utf8_lossy(key)));
            }
            let key = String::from_utf8_lossy(key).into_owned();
            let l = take(2)?;
            let vlen = u16::from_le_bytes([l[0], l[1]]) as usize;
            let value = take(vlen)?;
            let value = std::str::from_utf8(value).map_err(|_| format!("the enrichment rule's value for tag {key} is not UTF-8"))?;
            if vlen > 1024 {
                return Err(format!("the enrichment rule's value for tag {key} is longer than 1,024 bytes"));
            }
            v.tags.push((key, value.to_string()));
        }
        for _ in 0..nl {
            let klen = take(1)?[0] as usize;
            take(klen)?;
            take(8)?;
        }
        out.push(v);
    }
    if at != b.len() {
        return Err("the enrichment rule's result has bytes after the last record".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_projects_fields_one_entry_per_line() {
        let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
        let rf = RuleFields::parse("sc-status\nc-ip\n").unwrap();
        let b = rf.batch(b"1.0\t192.0.2.1\t200\n\n1.5\t192.0.2.2\t404", schema, false);
        // 3 entries in the rule's order: "200\t192.0.2.1", "-\t-", "404\t192.0.2.2".
        let mut expected = vec![3, 0, 0, 0, 13, 0, 0, 0, 16, 0, 0, 0, 29, 0, 0, 0];
        expected.extend_from_slice(b"200\t192.0.2.1-\t-404\t192.0.2.2");
        assert_eq!(b, expected);
        assert_eq!(RuleFields::init_schema("sc-status").unwrap(), "realtime\nsc-status");
        assert!(RuleFields::parse("sc-statuss").is_err());
    }

    #[test]
    fn results_decode_and_garbage_is_refused() {
        let mut r = vec![2, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 3, 0, b'y', b'e', b's', 1, b'k'];
        r.extend_from_slice(&0.5f64.to_le_bytes());
        r.extend_from_slice(&[0, 0, 0]);
        let v = decode_result(&r, 2).unwrap();
        assert_eq!(v[0], Verdict { drop: true, tags: vec![("bot".into(), "yes".into())] });
        assert_eq!(v[1], Verdict::default());
        assert!(decode_result(&r, 3).unwrap_err().contains("2 results for 3"));
        assert!(decode_result(&r[..10], 2).unwrap_err().contains("truncated"));
        assert!(decode_result(&[1, 0, 0, 0, 0, 1, 0, 1, b' ', 0, 0], 1).unwrap_err().contains("invalid tag key"));
    }
}
