//! The guest side of the wire format. The format itself (version, limits, batch reader,
//! result encoding and validation) lives in `cflog-plugin-abi`, shared with the wasmtime
//! host and the browser host; this module re-exports it and adds the growable pieces a
//! rule needs: [`Output`], one record's answer, written straight into its batch's result.

use alloc::vec::Vec;

pub use cflog_plugin_abi::*;

/// A batch builder over vectors (the SDK's native test runner).
pub type VecBatchWriter = BatchWriter<Vec<u8>, Vec<u32>>;

/// Bytes of a record's header in the result: flags, tag count, label count.
const HEAD: usize = 3;

/// What a rule says about one record: tags, labels and whether to drop it.
///
/// Invalid keys, over-long values, non-finite labels and anything past
/// [`MAX_PER_RECORD`] are ignored here, so a rule cannot produce output the host rejects.
///
/// The guest keeps one `Output` for a whole batch and it holds the batch's result: the
/// records answered so far, encoded, then the open record's header and tags, written
/// where the result wants them (`u8` key length, key, `u16` value length, value). Only
/// labels wait aside (the result puts them after the tags, and a rule may add them in
/// any order); closing the record appends them and fills in its header. So the result
/// is never copied record by record.
#[derive(Debug, Clone)]
pub struct Output {
    /// Finished records (after a batch's count, in the guest), then the open record:
    /// its header at `head`, its tags after it.
    buf: Vec<u8>,
    /// Where the open record's header starts in `buf`.
    head: usize,
    /// Records closed in this batch.
    count: u32,
    tag_count: u8,
    labels: Vec<u8>,
    label_count: u8,
    drop: bool,
    /// Address and length of the last few keys found valid: rules pass the same few
    /// `'static` keys record after record, so each is checked once.
    checked_keys: [(usize, usize); 4],
    /// The slot the next newly checked key takes.
    next_slot: usize,
    /// The last short key passed to [`tag`](Output::tag) (address and length), encoded
    /// (length byte, key, zeros) in `key_head`: written as one fixed-size copy (a
    /// variable-length copy becomes a `memory.copy`, a call into the wasm runtime).
    key_head_id: (usize, usize),
    key_head: [u8; KEY_HEAD],
}

/// Bytes of [`Output::key_head`]: keys up to `KEY_HEAD - 1` bytes are written from it.
const KEY_HEAD: usize = 16;

/// An output for one record, outside any batch.
impl Default for Output {
    fn default() -> Self {
        Output {
            buf: alloc::vec![0; HEAD],
            head: 0,
            count: 0,
            tag_count: 0,
            labels: Vec::new(),
            label_count: 0,
            drop: false,
            checked_keys: [(0, 0); 4],
            next_slot: 0,
            key_head_id: (0, 0),
            key_head: [0; KEY_HEAD],
        }
    }
}

/// Equal when the open records' entries and drop flags are (whatever came before them
/// and whatever keys were checked).
impl PartialEq for Output {
    fn eq(&self, other: &Output) -> bool {
        (self.tag_bytes(), self.tag_count, &self.labels, self.label_count, self.drop)
            == (other.tag_bytes(), other.tag_count, &other.labels, other.label_count, other.drop)
    }
}

impl Output {
    /// Empties the open record's entries (and drop flag), keeping the buffers.
    pub fn clear(&mut self) {
        self.buf.truncate(self.head + HEAD);
        self.labels.clear();
        self.tag_count = 0;
        self.label_count = 0;
        self.drop = false;
    }

    /// The open record's encoded tags.
    fn tag_bytes(&self) -> &[u8] {
        self.buf.get(self.head + HEAD..).unwrap_or_default()
    }

    /// Starts a batch's result: an empty count, then the first record opened.
    pub(crate) fn start_batch(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&result::encode_count(0));
        self.count = 0;
        self.open();
    }

    /// Opens the next record at the end of the buffer.
    #[inline]
    fn open(&mut self) {
        self.head = self.buf.len();
        self.buf.extend_from_slice(&[0; HEAD]);
        self.labels.clear();
        self.tag_count = 0;
        self.label_count = 0;
        self.drop = false;
    }

    /// Closes the open record (labels after its tags, its header filled in) and opens
    /// the next.
    #[inline]
    pub(crate) fn close_record(&mut self) {
        if self.label_count > 0 {
            self.buf.extend_from_slice(&self.labels);
        }
        let flags = if self.drop { FLAG_DROP } else { 0 };
        if let Some(head) = self.buf.get_mut(self.head..self.head + HEAD) {
            head.copy_from_slice(&[flags, self.tag_count, self.label_count]);
        }
        self.count += 1;
        self.open();
    }

    /// Ends the batch: the encoded result of the records closed since
    /// [`start_batch`](Self::start_batch) (the open record, which has no entries, left out).
    pub(crate) fn finish_batch(&mut self) -> &[u8] {
        self.buf.truncate(self.head);
        self.buf[..4].copy_from_slice(&result::encode_count(self.count));
        &self.buf
    }

    #[inline]
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
    #[inline]
    pub fn tag(&mut self, key: &'static str, value: &str) {
        if usize::from(self.tag_count) < MAX_PER_RECORD && value.len() <= MAX_VALUE_LEN && self.key_ok(key) {
            self.buf.reserve(KEY_HEAD + 2 + value.len());
            let id = (key.as_ptr() as usize, key.len());
            if id != self.key_head_id && key.len() < KEY_HEAD {
                self.key_head = [0; KEY_HEAD];
                self.key_head[0] = key.len() as u8;
                self.key_head[1..=key.len()].copy_from_slice(key.as_bytes());
                self.key_head_id = id;
            }
            if id == self.key_head_id {
                let at = self.buf.len();
                self.buf.extend_from_slice(&self.key_head);
                self.buf.truncate(at + 1 + key.len());
            } else {
                self.buf.push(key.len() as u8);
                self.buf.extend_from_slice(key.as_bytes());
            }
            self.buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
            self.buf.extend_from_slice(value.as_bytes());
            self.tag_count += 1;
        }
    }

    /// Adds a numeric label `key=value`.
    #[inline]
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
        let (b, mut at) = (self.tag_bytes(), 0usize);
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

    /// One batch's result from `o`: each closure answers one record.
    fn batch(o: &mut Output, records: &[&dyn Fn(&mut Output)]) -> Vec<u8> {
        o.start_batch();
        for r in records {
            r(o);
            o.close_record();
        }
        o.finish_batch().to_vec()
    }

    #[test]
    fn outputs_encode_to_the_documented_layout() {
        let mut o = Output::default();
        let first = |o: &mut Output| {
            o.tag("bot", "googlebot");
            o.label("score", 0.5);
            o.label("inf", f64::INFINITY);
            o.drop_record();
            o.tag("bad key!", "ignored");
        };
        let bytes = batch(&mut o, &[&first, &|_| {}]);
        // count 2; flags drop, 1 tag, 1 label; "bot" = "googlebot"; "score" = 0.5; then
        // an empty record (the layout in cflog-plugin-abi's crate docs).
        let mut expected = vec![2, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 9, 0];
        expected.extend_from_slice(b"googlebot");
        expected.extend_from_slice(&[5, b's', b'c', b'o', b'r', b'e']);
        expected.extend_from_slice(&0.5f64.to_le_bytes());
        expected.extend_from_slice(&[0, 0, 0]);
        assert_eq!(bytes, expected);
        let r = ResultReader::new(&bytes, 2).unwrap();
        assert!(r.records().next().unwrap().drop);
        // The getters read the open record's entries back; the checked key is still
        // checked once per key, and a bad key after a good one is still refused.
        let mut o = Output::default();
        first(&mut o);
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
        let many = |o: &mut Output| {
            for _ in 0..300 {
                o.tag("k", "v");
                o.label("n", 1.0);
            }
            o.tag("long", &alloc::string::String::from_utf8(vec![b'v'; MAX_VALUE_LEN + 1]).unwrap());
        };
        let bytes = batch(&mut o, &[&many]);
        let r = ResultReader::new(&bytes, 1).unwrap();
        let rec = r.records().next().unwrap();
        assert_eq!((rec.tags().count(), rec.labels().count()), (MAX_PER_RECORD, MAX_PER_RECORD));
    }

    #[test]
    fn keys_of_every_length_encode_as_the_abi_crate_does() {
        // Keys around the fixed-size head (15 bytes fit it, 16 do not), alternating so the
        // head is rebuilt (two keys of one length among them), and a 64-byte key; the
        // oracle is `encode_record`.
        let k1 = "k";
        let k15 = "abcdefghijklmno";
        let k16 = "abcdefghijklmnop";
        let k64 = "k23456789_123456789_123456789_123456789_123456789_123456789_1234";
        assert_eq!((k15.len(), k16.len(), k64.len()), (15, 16, 64));
        let tags = [(k15, "v"), (k1, ""), (k15, "second"), (k16, "x"), (k64, "y"), (k1, "z"), ("q", "1"), (k16, "w"), (k15, "last")];
        let mut o = Output::default();
        for round in 0..2 {
            o.start_batch();
            for (k, v) in tags {
                o.tag(k, v);
            }
            o.close_record();
            let mut expected = Vec::from(result::encode_count(1));
            result::encode_record(&mut |b| expected.extend_from_slice(b), false, tags.iter().copied(), core::iter::empty());
            assert_eq!(o.finish_batch(), &expected[..], "round {round}");
        }
    }

    /// A record's answer as a list, for the independent encoder.
    type Answer = (bool, Vec<(&'static str, &'static str)>, Vec<(&'static str, f64)>);

    #[test]
    fn a_batch_written_in_place_equals_the_abi_crates_encoding_record_by_record() {
        // Tags and labels interleaved, a record cleared half-way, drops, empty records;
        // the oracle is `cflog_plugin_abi::result::encode_record` over the same lists.
        let answers: [Answer; 6] = [
            (false, vec![("class", "2xx")], vec![]),
            (true, vec![("a", "1"), ("b", ""), ("a", "3")], vec![("x", 1.5), ("y", -2.0)]),
            (false, vec![], vec![]),
            (false, vec![], vec![("only", 7.0)]),
            (true, vec![], vec![]),
            (false, vec![("path_class", "static")], vec![("n", 0.0)]),
        ];
        let write = |o: &mut Output, (drop, tags, labels): &Answer, junk_first: bool| {
            if junk_first {
                o.tag("junk", "gone");
                o.label("junk", 9.0);
                o.drop_record();
                o.clear();
            }
            // Labels go in before tags here; the result must still put tags first.
            let (mut t, mut l) = (tags.iter(), labels.iter());
            loop {
                let (nl, nt) = (l.next(), t.next());
                if let Some((k, v)) = nl {
                    o.label(k, *v);
                }
                if let Some((k, v)) = nt {
                    o.tag(k, v);
                }
                if nl.is_none() && nt.is_none() {
                    break;
                }
            }
            if *drop {
                o.drop_record();
            }
        };
        let mut expected = Vec::from(result::encode_count(answers.len() as u32));
        for (drop, tags, labels) in &answers {
            result::encode_record(&mut |b| expected.extend_from_slice(b), *drop, tags.iter().copied(), labels.iter().copied());
        }
        let mut o = Output::default();
        // Twice through the same output: nothing of one batch stays in the next, and a
        // shorter batch after a longer one has its own count.
        for round in 0..2 {
            o.start_batch();
            for (i, a) in answers.iter().enumerate() {
                write(&mut o, a, (i + round) % 2 == 1);
                o.close_record();
            }
            assert_eq!(o.finish_batch(), &expected[..], "round {round}");
        }
        o.start_batch();
        write(&mut o, &answers[1], false);
        o.close_record();
        let mut one = Vec::from(result::encode_count(1));
        let (drop, tags, labels) = &answers[1];
        result::encode_record(&mut |b| one.extend_from_slice(b), *drop, tags.iter().copied(), labels.iter().copied());
        assert_eq!(o.finish_batch(), &one[..]);
    }
}
