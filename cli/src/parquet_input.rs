//! Standard logging v2 Parquet files (what AWS delivers to S3 with the `parquet` output
//! format) as an input: each row becomes one v2 JSON line (column name → value), read by
//! the same decoder as the v2 JSON output (`cflog_engine::ndjson`, dialect v2), so there is
//! one mapping from v2 field names to records. Detected by the `PAR1` magic at the start.
//!
//! Values: strings (percent-encoded, `-` for no value, as in the W3C file) and integers or
//! decimals as they are; `null` is no value. A timestamp column is epoch seconds (or
//! milliseconds for `timestamp(ms)`), a date column `YYYY-MM-DD`. The file is read row
//! group by row group through the `parquet` crate's record API, so memory stays at about
//! one row group.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row};

/// The magic bytes a Parquet file starts (and ends) with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// What to say when a Parquet file cannot be read.
const HOW: &str = "cflog reads standard logging v2 Parquet files as AWS delivers them (uncompressed, Snappy or gzip pages); \
                   deliver as json or w3c instead, or convert with `duckdb -c \"COPY (FROM 'FILE.parquet') TO 'FILE.json'\"`";

/// Opens the Parquet file `path` (`-`: `stdin`, read whole, since Parquet keeps its index at
/// the end), as a reader of v2 JSON lines. `consumed` gets the file's size once it is read.
pub fn open(name: &str, path: &str, stdin: Option<Box<dyn Read + Send>>, consumed: Arc<AtomicU64>) -> Result<Box<dyn Read + Send>> {
    let fail = |e: parquet::errors::ParquetError| anyhow::anyhow!("{name}: a standard logging v2 Parquet file that cannot be read: {e}. {HOW}");
    let (reader, size): (Box<dyn FileReader>, u64) = match stdin {
        Some(mut input) => {
            let mut bytes = Vec::new();
            input.read_to_end(&mut bytes).with_context(|| format!("cannot read {name}"))?;
            let size = bytes.len() as u64;
            (Box::new(SerializedFileReader::new(bytes::Bytes::from(bytes)).map_err(fail)?), size)
        }
        None => {
            let file = File::open(path).with_context(|| format!("cannot open {path}"))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            (Box::new(SerializedFileReader::new(file).map_err(fail)?), size)
        }
    };
    Ok(Box::new(ParquetLines { name: name.to_string(), rows: RowIter::from_file_into(reader), line: Vec::new(), pos: 0, size, consumed }))
}

/// The rows of a Parquet file as JSON lines, made one row at a time.
struct ParquetLines {
    name: String,
    rows: RowIter<'static>,
    line: Vec<u8>,
    pos: usize,
    size: u64,
    consumed: Arc<AtomicU64>,
}

impl Read for ParquetLines {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if self.pos == self.line.len() {
                self.line.clear();
                self.pos = 0;
                match self.rows.next() {
                    None => {
                        self.consumed.fetch_add(std::mem::take(&mut self.size), Ordering::Relaxed);
                        break;
                    }
                    Some(Ok(row)) => write_row(&row, &mut self.line).map_err(|e| io::Error::other(format!("{}: {e}", self.name)))?,
                    Some(Err(e)) => {
                        return Err(io::Error::other(format!("{}: a standard logging v2 Parquet file that cannot be read: {e}. {HOW}", self.name)));
                    }
                }
            }
            let take = (self.line.len() - self.pos).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&self.line[self.pos..self.pos + take]);
            self.pos += take;
            n += take;
        }
        Ok(n)
    }
}

/// Appends `row` as one JSON object (columns in file order) and a `\n`.
fn write_row(row: &Row, out: &mut Vec<u8>) -> Result<(), String> {
    out.push(b'{');
    for (i, (name, field)) in row.get_column_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, name).map_err(|e| e.to_string())?;
        out.push(b':');
        write_field(name, field, out)?;
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// Appends one value as JSON.
fn write_field(name: &str, field: &Field, out: &mut Vec<u8>) -> Result<(), String> {
    let text = |out: &mut Vec<u8>, s: &str| serde_json::to_writer(out, s).map_err(|e| e.to_string());
    let millis = |ms: i64| if name == "timestamp(ms)" { ms.to_string() } else { format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000)) };
    let written = match field {
        Field::Null => write!(out, "null"),
        Field::Bool(b) => write!(out, "{b}"),
        Field::Byte(v) => write!(out, "{v}"),
        Field::Short(v) => write!(out, "{v}"),
        Field::Int(v) => write!(out, "{v}"),
        Field::Long(v) => write!(out, "{v}"),
        Field::UByte(v) => write!(out, "{v}"),
        Field::UShort(v) => write!(out, "{v}"),
        Field::UInt(v) => write!(out, "{v}"),
        Field::ULong(v) => write!(out, "{v}"),
        Field::Float(v) if v.is_finite() => write!(out, "{v}"),
        Field::Double(v) if v.is_finite() => write!(out, "{v}"),
        Field::Str(s) => return text(out, s),
        Field::Bytes(b) => return text(out, &String::from_utf8_lossy(b.data())),
        Field::TimestampMillis(ms) => write!(out, "{}", millis(*ms)),
        Field::TimestampMicros(us) => write!(out, "{}", millis(us.div_euclid(1000))),
        Field::Date(days) => return text(out, &civil_date(i64::from(*days))),
        other => return Err(format!("column {name:?}: a Parquet value cflog cannot read as a log field ({other})")),
    };
    written.map_err(|e| e.to_string())
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
fn civil_date(days: i64) -> String {
    let (year, month, day) = cflog_core::grammar::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps() {
        // 2025-02-02 is day 20121 (1738454400 / 86400); 2000-02-29 a leap day.
        assert_eq!(civil_date(20_121), "2025-02-02");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(0), "1970-01-01");
        let mut out = Vec::new();
        write_field("timestamp", &Field::TimestampMillis(1_738_535_441_041), &mut out).unwrap();
        write_field("timestamp(ms)", &Field::TimestampMillis(1_738_535_441_041), &mut out).unwrap();
        assert_eq!(out, b"1738535441.0411738535441041");
    }
}
