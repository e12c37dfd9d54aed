//! The guest side of the wire format. The format itself (version, limits, batch reader,
//! result encoding and validation) lives in `cflog-plugin-abi`, shared with the wasmtime
//! host and the browser host; this module re-exports it and adds the growable pieces a
//! rule needs: [`Output`] (one record's answer) and [`ResultWriter`] (a batch's result).

use alloc::vec::Vec;

pub use cflog_plugin_abi::*;

/// A batch builder over vectors (the SDK's native test runner).
pub type VecBatchWriter = BatchWriter<Vec<u8>, Vec<u32>>;

/// Builds the result of one batch (guest side).
#[derive(Debug, Clone)]
pub struct ResultWriter {
    buf: Vec<u8>,
    count: u32,
}

impl Default for ResultWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ResultWriter {
    /// An empty result.
    pub fn new() -> Self {
        ResultWriter { buf: Vec::from(result::encode_count(0)), count: 0 }
    }

    /// Empties the result, keeping its buffer.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&result::encode_count(0));
        self.count = 0;
    }

    /// Appends one record's output.
    pub fn push(&mut self, out: &Output) {
        self.count += 1;
        let buf = &mut self.buf;
        result::encode_record(&mut |b| buf.extend_from_slice(b), out.drop, out.tags(), out.labels());
        self.buf[..4].copy_from_slice(&result::encode_count(self.count));
    }

    /// The encoded result.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// What a rule says about one record: tags, labels and whether to drop it.
///
/// Invalid keys, over-long values, non-finite labels and anything past
/// [`MAX_PER_RECORD`] are ignored here, so a rule cannot produce output the host rejects.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Output {
    tags: Vec<(&'static str, u32, u32)>,
    text: alloc::string::String,
    labels: Vec<(&'static str, f64)>,
    drop: bool,
}

impl Output {
    /// Empties the output for the next record, keeping its buffers.
    pub fn clear(&mut self) {
        self.tags.clear();
        self.text.clear();
        self.labels.clear();
        self.drop = false;
    }

    /// Adds a tag `key=value`.
    pub fn tag(&mut self, key: &'static str, value: &str) {
        if valid_key(key.as_bytes()) && value.len() <= MAX_VALUE_LEN && self.tags.len() < MAX_PER_RECORD {
            let start = self.text.len() as u32;
            self.text.push_str(value);
            self.tags.push((key, start, self.text.len() as u32));
        }
    }

    /// Adds a numeric label `key=value`.
    pub fn label(&mut self, key: &'static str, value: f64) {
        if valid_key(key.as_bytes()) && value.is_finite() && self.labels.len() < MAX_PER_RECORD {
            self.labels.push((key, value));
        }
    }

    /// Asks the host to drop the record.
    pub fn drop_record(&mut self) {
        self.drop = true;
    }

    /// The tags so far.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.tags.iter().map(|(k, s, e)| (*k, &self.text[*s as usize..*e as usize]))
    }

    /// The labels so far.
    pub fn labels(&self) -> impl Iterator<Item = (&str, f64)> + Clone {
        self.labels.iter().map(|(k, v)| (*k, *v))
    }

    /// Whether the record is to be dropped.
    pub fn dropped(&self) -> bool {
        self.drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn outputs_encode_to_the_documented_layout() {
        let mut o = Output::default();
        o.tag("bot", "googlebot");
        o.label("score", 0.5);
        o.label("inf", f64::INFINITY);
        o.drop_record();
        o.tag("bad key!", "ignored");
        let mut w = ResultWriter::new();
        w.push(&o);
        w.push(&Output::default());
        let mut expected = vec![2, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 9, 0];
        expected.extend_from_slice(b"googlebot");
        expected.extend_from_slice(&[5, b's', b'c', b'o', b'r', b'e']);
        expected.extend_from_slice(&0.5f64.to_le_bytes());
        expected.extend_from_slice(&[0, 0, 0]);
        assert_eq!(w.bytes(), &expected[..]);
        let r = ResultReader::new(w.bytes(), 2).unwrap();
        assert!(r.records().next().unwrap().drop);
    }
}
