//! The record → rule input projection (feature `record`), shared by every host: which
//! fields a rule reads (its `cflog_fields` answer), the `cflog_init` schema text, and a
//! record's line in a batch, with a standard log's date + time sent as the real-time
//! `timestamp` (seconds with milliseconds) so a rule sees the same input whatever the
//! source log.

use cflog_core::{Field, Format, Record};

use crate::BatchWriter;

/// A field name a rule asked for that is not a real-time field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownField<'a>(pub &'a str);

impl core::fmt::Display for UnknownField<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cflog_fields: unknown real-time field {:?}", self.0)
    }
}

impl core::error::Error for UnknownField<'_> {}

/// The fields of a `cflog_fields` answer (names, one per line), in the rule's order,
/// each once.
pub fn rule_fields(text: &str) -> impl Iterator<Item = Result<Field, UnknownField<'_>>> + '_ {
    let names = || text.lines().map(str::trim).filter(|l| !l.is_empty());
    names().enumerate().filter_map(move |(i, name)| {
        let Some(f) = Field::from_name(Format::RealTime, name) else { return Some(Err(UnknownField(name))) };
        let seen = names().take(i).any(|earlier| Field::from_name(Format::RealTime, earlier) == Some(f));
        (!seen).then_some(Ok(f))
    })
}

/// The `cflog_init` schema text for `fields`: `realtime`, then one name per line.
pub fn write_init_schema(fields: &[Field], put: &mut impl FnMut(&[u8])) {
    put(b"realtime");
    for f in fields {
        put(b"\n");
        put(f.name(Format::RealTime).unwrap_or("-").as_bytes());
    }
}

/// A few bytes on the stack for a formatted number.
struct Digits {
    buf: [u8; 32],
    len: usize,
}

impl core::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let dst = self.buf.get_mut(self.len..self.len + s.len()).ok_or(core::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len += s.len();
        Ok(())
    }
}

impl<D, E> BatchWriter<D, E>
where
    D: for<'b> Extend<&'b u8> + AsRef<[u8]>,
    E: Extend<u32> + AsRef<[u32]>,
{
    /// Adds a record (of any format: standard-log timestamps are sent in the real-time
    /// form, seconds with milliseconds) projected onto `fields`.
    pub fn push_record(&mut self, record: &Record<'_>, fields: &[Field]) {
        if record.schema().format() == Format::RealTime {
            // Every field as it is (the common case, kept to a plain loop).
            for f in fields {
                self.push_field(record.raw(*f).unwrap_or(b"-"));
            }
            self.end_line();
        } else {
            self.push_standard_record(record, fields);
        }
    }

    /// [`push_record`](Self::push_record) for a standard-log record (out of line: the
    /// timestamp formatting would weigh on the real-time path).
    #[inline(never)]
    fn push_standard_record(&mut self, record: &Record<'_>, fields: &[Field]) {
        for f in fields {
            if *f == Field::Timestamp {
                match record.timestamp_ms() {
                    Ok(Some(ms)) => {
                        use core::fmt::Write;
                        let mut ts = Digits { buf: [0; 32], len: 0 };
                        let _ = write!(ts, "{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
                        self.push_field(&ts.buf[..ts.len]);
                    }
                    _ => self.push_field(b"-"),
                }
                continue;
            }
            self.push_field(record.raw(*f).unwrap_or(b"-"));
        }
        self.end_line();
    }

    /// Adds a line with every one of `fields` `-` (a line that is not a record).
    pub fn push_absent(&mut self, fields: &[Field]) {
        for _ in fields {
            self.push_field(b"-");
        }
        self.end_line();
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use cflog_core::{Parser, RecordBuf, Schema};
    use std::vec::Vec;

    #[test]
    fn fields_keep_the_rules_order_once_each() {
        let f: Vec<_> = rule_fields("sc-status\n c-ip \n\nsc-status\n").collect();
        assert_eq!(f, [Ok(Field::Status), Ok(Field::ClientIp)]);
        assert_eq!(rule_fields("sc-statuss").next(), Some(Err(UnknownField("sc-statuss"))));
        let mut s = Vec::new();
        write_init_schema(&[Field::Status, Field::ClientIp], &mut |b| s.extend_from_slice(b));
        assert_eq!(s, b"realtime\nsc-status\nc-ip");
    }

    #[test]
    fn standard_date_and_time_reach_rules_as_a_realtime_timestamp() {
        // 2019-12-04 21:02:31 UTC is 1575493351 s since the epoch (date -u -d ... +%s).
        let schema = Schema::standard(&["date", "time", "sc-status"]).unwrap();
        assert_eq!(schema.format(), Format::Standard);
        let mut parser = Parser::with_schema(schema);
        let mut buf = RecordBuf::new();
        let mut w = BatchWriter::<Vec<u8>, Vec<u32>>::default();
        let fields = [Field::Timestamp, Field::Status, Field::ClientIp];
        let r = parser.parse_line(b"2019-12-04\t21:02:31\t200", &mut buf).unwrap().unwrap();
        w.push_record(&r, &fields);
        w.push_absent(&fields);
        let mut bytes = Vec::new();
        w.encode_with(&mut |b| bytes.extend_from_slice(b));
        let lines: Vec<&[u8]> = crate::BatchReader::new(&bytes).unwrap().lines().collect();
        assert_eq!(lines, [&b"1575493351.000\t200\t-"[..], b"-\t-\t-"]);
    }
}
