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

    /// Appends one record's output: its entries are already encoded, so this is a header
    /// and two copies.
    pub fn push(&mut self, out: &Output) {
        self.count += 1;
        let flags = if out.drop { FLAG_DROP } else { 0 };
        self.buf.reserve(3 + out.tags.len() + out.labels.len());
        self.buf.extend_from_slice(&[flags, out.tag_count, out.label_count]);
        self.buf.extend_from_slice(&out.tags);
        self.buf.extend_from_slice(&out.labels);
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
/// Entries are kept as the result encodes them (`u8` key length, key, `u16` value length,
/// value; a label's value as an `f64`), so the result is written without a second pass.
#[derive(Debug, Default, Clone)]
pub struct Output {
    tags: Vec<u8>,
    tag_count: u8,
    labels: Vec<u8>,
    label_count: u8,
    drop: bool,
    /// Address and length of the last few keys found valid: rules pass the same few
    /// `'static` keys record after record, so each is checked once.
    checked_keys: [(usize, usize); 4],
    /// The slot the next newly checked key takes.
    next_slot: usize,
}

/// Equal when the entries and the drop flag are (whatever keys were checked before).
impl PartialEq for Output {
    fn eq(&self, other: &Output) -> bool {
        (&self.tags, self.tag_count, &self.labels, self.label_count, self.drop)
            == (&other.tags, other.tag_count, &other.labels, other.label_count, other.drop)
    }
}

impl Output {
    /// Empties the output for the next record, keeping its buffers.
    pub fn clear(&mut self) {
        self.tags.clear();
        self.labels.clear();
        self.tag_count = 0;
        self.label_count = 0;
        self.drop = false;
    }

    fn key_ok(&mut self, key: &'static str) -> bool {
        let id = (key.as_ptr() as usize, key.len());
        if self.checked_keys.contains(&id) {
            return true;
        }
        let ok = valid_key(key.as_bytes());
        if ok {
            self.checked_keys[self.next_slot % 4] = id;
            self.next_slot = self.next_slot.wrapping_add(1);
        }
        ok
    }

    /// Adds a tag `key=value`.
    pub fn tag(&mut self, key: &'static str, value: &str) {
        if usize::from(self.tag_count) < MAX_PER_RECORD && value.len() <= MAX_VALUE_LEN && self.key_ok(key) {
            self.tags.reserve(3 + key.len() + value.len());
            self.tags.push(key.len() as u8);
            self.tags.extend_from_slice(key.as_bytes());
            self.tags.extend_from_slice(&(value.len() as u16).to_le_bytes());
            self.tags.extend_from_slice(value.as_bytes());
            self.tag_count += 1;
        }
    }

    /// Adds a numeric label `key=value`.
    pub fn label(&mut self, key: &'static str, value: f64) {
        if usize::from(self.label_count) < MAX_PER_RECORD && value.is_finite() && self.key_ok(key) {
            self.labels.push(key.len() as u8);
            self.labels.extend_from_slice(key.as_bytes());
            self.labels.extend_from_slice(&value.to_le_bytes());
            self.label_count += 1;
        }
    }

    /// Asks the host to drop the record.
    pub fn drop_record(&mut self) {
        self.drop = true;
    }

    /// The tags so far.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        let (b, mut at) = (&self.tags[..], 0usize);
        let text = move |r: core::ops::Range<usize>| b.get(r).and_then(|s| core::str::from_utf8(s).ok()).unwrap_or_default();
        core::iter::from_fn(move || {
            let klen = usize::from(*b.get(at)?);
            let key = text(at + 1..at + 1 + klen);
            let l = b.get(at + 1 + klen..at + 3 + klen)?;
            let vlen = usize::from(u16::from_le_bytes([l[0], l[1]]));
            let value = text(at + 3 + klen..at + 3 + klen + vlen);
            at += 3 + klen + vlen;
            Some((key, value))
        })
    }

    /// The labels so far.
    pub fn labels(&self) -> impl Iterator<Item = (&str, f64)> + Clone {
        let (b, mut at) = (&self.labels[..], 0usize);
        core::iter::from_fn(move || {
            let klen = usize::from(*b.get(at)?);
            let key = b.get(at + 1..at + 1 + klen).and_then(|s| core::str::from_utf8(s).ok()).unwrap_or_default();
            let v = b.get(at + 1 + klen..at + 9 + klen)?;
            at += 9 + klen;
            Some((key, f64::from_le_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]])))
        })
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
        // The getters read the kept entries back; the checked key is still checked once
        // per key, and a bad key after a good one is still refused.
        o.tag("bot", "");
        o.tag("b d", "x");
        assert_eq!(o.tags().collect::<Vec<_>>(), [("bot", "googlebot"), ("bot", "")]);
        assert_eq!(o.labels().collect::<Vec<_>>(), [("score", 0.5)]);
        assert!(o.dropped());
        o.clear();
        assert_eq!((o.tags().count(), o.labels().count(), o.dropped()), (0, 0, false));
    }

    #[test]
    fn entries_past_the_limits_are_left_out() {
        let mut o = Output::default();
        for _ in 0..300 {
            o.tag("k", "v");
            o.label("n", 1.0);
        }
        o.tag("long", &alloc::string::String::from_utf8(vec![b'v'; MAX_VALUE_LEN + 1]).unwrap());
        let mut w = ResultWriter::new();
        w.push(&o);
        let r = ResultReader::new(w.bytes(), 1).unwrap();
        let rec = r.records().next().unwrap();
        assert_eq!((rec.tags().count(), rec.labels().count()), (MAX_PER_RECORD, MAX_PER_RECORD));
    }
}
