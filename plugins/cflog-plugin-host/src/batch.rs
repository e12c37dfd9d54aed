//! The data crossing the call: a [`Batch`] of records projected onto the fields each
//! plugin reads (one encoding per distinct field list), and the [`Enriched`] verdicts read
//! back per record (tags, labels, drop) from the plugins whose call succeeded, each kept as
//! a `Decoded` result: validated in one pass and laid out in tables (drop flags, tag and
//! label ranges, the keys and values in one string), so reading a record's verdict later
//! checks nothing again.

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
            if *ok {
                for &(k, v) in d.tags.get(d.range(record, |s| s.0)).unwrap_or_default() {
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
        self.succeeded().any(|d| d.drops.get(record).copied().unwrap_or(false))
    }
}

/// A plugin's validated result for one batch, in tables: record `i` drops if
/// `drops[i]`, its tags are `tags[starts[i].0..starts[i + 1].0]` (its labels likewise),
/// and each tag or label names its key (and a tag its value) as a range of `text`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Decoded {
    drops: Vec<bool>,
    /// Per record, the index of its first tag and first label; one more entry at the end.
    starts: Vec<(u32, u32)>,
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

/// Fills a [`Decoded`] as [`abi::decode_result`] checks the result.
impl<'a> abi::Visit<'a> for Decoded {
    fn record(&mut self, drop: bool) {
        self.drops.push(drop);
        self.starts.push((self.tags.len() as u32, self.labels.len() as u32));
    }

    fn tag(&mut self, key: &'a str, value: &'a str) {
        let key = self.keep(key, |d| &mut d.last_key);
        let value = self.keep(value, |d| &mut d.last_value);
        self.tags.push((key, value));
    }

    fn label(&mut self, key: &'a str, value: f64) {
        let key = self.keep(key, |d| &mut d.last_key);
        self.labels.push((key, value));
    }
}

impl Decoded {
    pub(crate) fn clear(&mut self) {
        self.drops.clear();
        self.starts.clear();
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
        self.starts.push((self.tags.len() as u32, self.labels.len() as u32));
        checked
    }

    /// Entries `first..end` of record `i` (`starts` and `pick` say which table).
    fn range(&self, i: usize, pick: fn(&(u32, u32)) -> u32) -> core::ops::Range<usize> {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(a), Some(b)) => pick(a) as usize..pick(b) as usize,
            _ => 0..0,
        }
    }

    fn text(&self, (from, to): Span) -> &str {
        self.text.get(from as usize..to as usize).unwrap_or_default()
    }

    fn tags(&self, i: usize) -> impl Iterator<Item = (&str, &str)> {
        let tags = self.tags.get(self.range(i, |s| s.0)).unwrap_or_default();
        tags.iter().map(|&(k, v)| (self.text(k), self.text(v)))
    }

    fn labels(&self, i: usize) -> impl Iterator<Item = (&str, f64)> {
        let labels = self.labels.get(self.range(i, |s| s.1)).unwrap_or_default();
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
                assert_eq!(d.drops[i], *drop, "record {i}");
                assert_eq!(d.tags(i).collect::<Vec<_>>(), *tags, "record {i}");
                assert_eq!(d.labels(i).collect::<Vec<_>>(), *labels, "record {i}");
            }
        }
        assert_eq!(d.tags(5).count() + d.labels(5).count(), 0);
        // A bad result leaves nothing behind.
        assert!(d.decode(&bytes, 4).is_err());
        assert_eq!((d.tags(0).count(), d.drops.len()), (0, 0));
    }
}
