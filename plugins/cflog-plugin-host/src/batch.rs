//! The data crossing the call: a [`Batch`] of records projected onto the fields each
//! plugin reads (one encoding per distinct field list), and the [`Enriched`] verdicts read
//! back per record (tags, labels, drop) from the plugins whose call succeeded, each kept as
//! a `Decoded` result: validated in one pass and laid out in tables (drop flags, tag and
//! label ranges, the keys and values in one string), so reading a record's verdict later
//! checks nothing again. A record that repeats one of the last few distinct answers byte
//! for byte ([`abi::Visit::repeat`]) shares that answer's entries: it costs one row.

use cflog_core::{Field, Record};
use cflog_plugin_abi as abi;

/// A batch builder over vectors.
pub(crate) type BatchWriter = abi::BatchWriter<Vec<u8>, Vec<u32>>;

/// Records to enrich, already projected onto the fields each plugin reads.
#[derive(Debug, Clone)]
pub struct Batch {
    pub(crate) projections: Vec<Vec<Field>>,
    pub(crate) writers: Vec<BatchWriter>,
    pub(crate) of_plugin: Vec<usize>,
}

impl Batch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.writers.first().map_or(0, BatchWriter::len)
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        for w in &mut self.writers {
            w.clear_with(|d, e| {
                d.clear();
                e.clear();
            });
        }
    }

    /// Adds a record (of any format: standard-log timestamps are sent in the real-time
    /// form, seconds with milliseconds). Its index is the previous [`len`](Self::len).
    pub fn push(&mut self, record: &Record<'_>) {
        for (fields, w) in self.projections.iter().zip(&mut self.writers) {
            w.push_record(record, fields);
        }
    }

    /// Adds a record with every field `-` (a line that did not parse).
    pub fn push_empty(&mut self) {
        for (fields, w) in self.projections.iter().zip(&mut self.writers) {
            w.push_absent(fields);
        }
    }
}

/// The tags, labels and drop decisions of a batch, per record, from every plugin that
/// succeeded.
#[derive(Debug, Default, Clone)]
pub struct Enriched {
    pub(crate) len: usize,
    pub(crate) results: Vec<Decoded>,
    pub(crate) ok: Vec<bool>,
}

impl Enriched {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch was empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether plugin `i` (load order) enriched this batch.
    pub fn plugin_ok(&self, i: usize) -> bool {
        self.ok.get(i).copied().unwrap_or(false)
    }

    fn succeeded(&self) -> impl Iterator<Item = &Decoded> {
        self.results.iter().zip(&self.ok).filter(|(_, ok)| **ok).map(|(r, _)| r)
    }

    /// The tags of record `record`, plugin by plugin, each in the order the rule added them.
    pub fn tags(&self, record: usize) -> impl Iterator<Item = (&str, &str)> {
        self.succeeded().flat_map(move |d| d.tags(record))
    }

    /// Calls `f` with each tag of record `record`, as [`tags`](Self::tags) lists them (plain
    /// loops, for the record loop's per-record path).
    pub fn for_each_tag(&self, record: usize, f: &mut dyn FnMut(&str, &str)) {
        for (d, ok) in self.results.iter().zip(&self.ok) {
            if *ok && let Some(r) = d.rows.get(record) {
                for &(k, v) in d.tags.get(r.tags.0 as usize..r.tags.1 as usize).unwrap_or_default() {
                    f(d.text(k), d.text(v));
                }
            }
        }
    }

    /// The numeric labels of record `record`.
    pub fn labels(&self, record: usize) -> impl Iterator<Item = (&str, f64)> {
        self.succeeded().flat_map(move |d| d.labels(record))
    }

    /// Whether any plugin asked to drop record `record`.
    pub fn dropped(&self, record: usize) -> bool {
        self.results.iter().zip(&self.ok).any(|(d, ok)| *ok && d.drops(record))
    }
}

/// A plugin's validated result for one batch, in tables: record `i` is `rows[i]`, its
/// tags `tags[rows[i].tags.0..rows[i].tags.1]` (its labels likewise), and each tag or
/// label names its key (and a tag its value) as a range of `text`. Records that repeat
/// an answer share its tag and label entries.
#[derive(Debug, Default, Clone)]
pub(crate) struct Decoded {
    rows: Vec<Row>,
    /// The row of the record remembered in each of the decoder's slots
    /// ([`abi::Visit::remembered`]).
    slots: [Row; abi::RECENT],
    /// (key, value) as ranges of `text`.
    tags: Vec<(Span, Span)>,
    /// (key as a range of `text`, value).
    labels: Vec<(Span, f64)>,
    text: String,
    /// The last key and value put into `text`, by where they lie in the result being
    /// decoded: the one-pass decoder hands out an earlier occurrence again for bytes that
    /// repeat, so a repeat is recognised by its address and not copied again. Reset with
    /// every result.
    last_key: (usize, usize, Span),
    last_value: (usize, usize, Span),
}

/// A range of `Decoded::text`.
type Span = (u32, u32);

/// One record's answer: whether it drops, and its tags and labels as ranges of
/// `Decoded::tags` and `Decoded::labels`.
#[derive(Debug, Default, Clone, Copy)]
struct Row {
    tags: (u32, u32),
    labels: (u32, u32),
    drop: bool,
}

/// Fills a [`Decoded`] as [`abi::decode_result`] checks the result.
impl<'a> abi::Visit<'a> for Decoded {
    fn record(&mut self, drop: bool) {
        let (t, l) = (self.tags.len() as u32, self.labels.len() as u32);
        self.rows.push(Row { tags: (t, t), labels: (l, l), drop });
    }

    fn tag(&mut self, key: &'a str, value: &'a str) {
        let key = self.keep(key, |d| &mut d.last_key);
        let value = self.keep(value, |d| &mut d.last_value);
        self.tags.push((key, value));
        if let Some(r) = self.rows.last_mut() {
            r.tags.1 = self.tags.len() as u32;
        }
    }

    fn label(&mut self, key: &'a str, value: f64) {
        let key = self.keep(key, |d| &mut d.last_key);
        self.labels.push((key, value));
        if let Some(r) = self.rows.last_mut() {
            r.labels.1 = self.labels.len() as u32;
        }
    }

    fn remembered(&mut self, slot: usize) {
        if let (Some(s), Some(r)) = (self.slots.get_mut(slot), self.rows.last()) {
            *s = *r;
        }
    }

    fn repeat(&mut self, slot: usize) -> bool {
        match self.slots.get(slot) {
            Some(r) => {
                self.rows.push(*r);
                true
            }
            None => false,
        }
    }
}

impl Decoded {
    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.slots = Default::default();
        self.tags.clear();
        self.labels.clear();
        self.text.clear();
        self.last_key = (0, 0, (0, 0));
        self.last_value = (0, 0, (0, 0));
    }

    /// Where `s` (a slice of the result being decoded) lies in `text`: copied there unless
    /// it is the very slice `last` names.
    fn keep(&mut self, s: &str, last: fn(&mut Decoded) -> &mut (usize, usize, Span)) -> Span {
        let at = (s.as_ptr() as usize, s.len());
        let memo = last(self);
        if (memo.0, memo.1) == at && at.0 != 0 {
            return memo.2;
        }
        let start = self.text.len() as u32;
        self.text.push_str(s);
        let span = (start, self.text.len() as u32);
        *last(self) = (at.0, at.1, span);
        span
    }

    /// Validates `bytes` as the result for `count` records and keeps them (nothing on
    /// an error).
    pub(crate) fn decode(&mut self, bytes: &[u8], count: usize) -> Result<(), abi::WireError> {
        self.clear();
        let checked = abi::decode_result(bytes, count as u32, self);
        if checked.is_err() {
            self.clear();
        }
        checked
    }

    /// Whether record `i` asks to be dropped.
    fn drops(&self, i: usize) -> bool {
        self.rows.get(i).is_some_and(|r| r.drop)
    }

    fn text(&self, (from, to): Span) -> &str {
        self.text.get(from as usize..to as usize).unwrap_or_default()
    }

    fn tags(&self, i: usize) -> impl Iterator<Item = (&str, &str)> {
        let r = self.rows.get(i).copied().unwrap_or_default();
        let tags = self.tags.get(r.tags.0 as usize..r.tags.1 as usize).unwrap_or_default();
        tags.iter().map(|&(k, v)| (self.text(k), self.text(v)))
    }

    fn labels(&self, i: usize) -> impl Iterator<Item = (&str, f64)> {
        let r = self.rows.get(i).copied().unwrap_or_default();
        let labels = self.labels.get(r.labels.0 as usize..r.labels.1 as usize).unwrap_or_default();
        labels.iter().map(|&(k, v)| (self.text(k), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(drop, tags, labels)` of one record.
    type Answer<'a> = (bool, &'a [(&'a str, &'a str)], &'a [(&'a str, f64)]);

    #[test]
    fn decoded_tables_give_back_every_record_as_encoded() {
        let answers: [Answer<'_>; 5] = [
            (false, &[("class", "2xx"), ("bot", "googlebot")], &[("score", 0.5)]),
            (true, &[("class", "2xx"), ("bot", "bingbot")], &[]),
            (false, &[], &[]),
            (false, &[("class", "4xx"), ("bot", "")], &[("score", 1.0), ("n", 2.0)]),
            (false, &[("class", "4xx")], &[("class", 3.0)]),
        ];
        let mut bytes = Vec::from(abi::result::encode_count(answers.len() as u32));
        for (drop, tags, labels) in answers {
            abi::result::encode_record(&mut |b| bytes.extend_from_slice(b), drop, tags.iter().copied(), labels.iter().copied());
        }
        let mut d = Decoded::default();
        // Decoded twice into the same tables: nothing of the first pass leaks into the second.
        for _ in 0..2 {
            d.decode(&bytes, answers.len()).unwrap();
            for (i, (drop, tags, labels)) in answers.iter().enumerate() {
                assert_eq!(d.drops(i), *drop, "record {i}");
                assert_eq!(d.tags(i).collect::<Vec<_>>(), *tags, "record {i}");
                assert_eq!(d.labels(i).collect::<Vec<_>>(), *labels, "record {i}");
            }
        }
        assert_eq!(d.tags(5).count() + d.labels(5).count(), 0);
        // A bad result leaves nothing behind.
        assert!(d.decode(&bytes, 4).is_err());
        assert_eq!((d.tags(0).count(), d.rows.len()), (0, 0));
    }

    #[test]
    fn records_that_repeat_an_answer_read_back_as_encoded() {
        // Repeats of the newest answer, of older ones, of one whose slot was taken by
        // later answers (more distinct answers in turn than the decoder remembers), of a
        // record too large to remember, and empty records in between.
        let many: &[(&str, &str)] = &[("t", "1"), ("t", "2"), ("t", "3"), ("t", "4"), ("t", "5")];
        let a: Answer<'_> = (false, &[("status_class", "2xx")], &[]);
        let b: Answer<'_> = (true, &[("bot", "googlebot")], &[("score", 0.5)]);
        let c: Answer<'_> = (false, &[("status_class", "4xx")], &[]);
        let e: Answer<'_> = (false, &[], &[]);
        let l: Answer<'_> = (false, &[], &[("n", 2.0)]);
        let m: Answer<'_> = (true, many, &[]);
        let p: Answer<'_> = (false, &[("path_class", "html")], &[]);
        let answers = [a, a, b, a, e, b, c, l, p, c, a, m, m, b, l, a, p, e, a, a];
        let mut bytes = Vec::from(abi::result::encode_count(answers.len() as u32));
        for (drop, tags, labels) in answers {
            abi::result::encode_record(&mut |x| bytes.extend_from_slice(x), drop, tags.iter().copied(), labels.iter().copied());
        }
        let mut d = Decoded::default();
        for round in 0..2 {
            d.decode(&bytes, answers.len()).unwrap();
            let mut e = Enriched { len: answers.len(), results: vec![d.clone()], ok: vec![true] };
            for (i, (drop, tags, labels)) in answers.iter().enumerate() {
                let mut seen = Vec::new();
                e.for_each_tag(i, &mut |k, v| seen.push((k.to_string(), v.to_string())));
                let want: Vec<(String, String)> = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                assert_eq!(seen, want, "round {round} record {i}");
                assert_eq!(e.tags(i).collect::<Vec<_>>(), *tags, "round {round} record {i}");
                assert_eq!(e.labels(i).collect::<Vec<_>>(), *labels, "round {round} record {i}");
                assert_eq!(e.dropped(i), *drop, "round {round} record {i}");
            }
            // A failed plugin's answer is not read.
            e.ok[0] = false;
            assert!(!e.dropped(2) && e.tags(0).next().is_none());
        }
        // Repeats share entries: the tags of 20 records are those of a, b, c and p, of a
        // and b again (their slots were taken by the time they came back), and of the
        // large record twice (too large to remember).
        assert_eq!(d.tags.len(), 4 + 2 + 5 + 5);
    }
}
