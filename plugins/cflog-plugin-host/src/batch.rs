//! The data crossing the call: a [`Batch`] of records projected onto the fields each
//! plugin reads (one encoding per distinct field list), and the [`Enriched`] verdicts read
//! back per record (tags, labels, drop) from the plugins whose call succeeded, each kept as
//! a validated `Decoded` result.

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

    fn records(&self, record: usize) -> impl Iterator<Item = abi::RecordView<'_>> {
        self.results.iter().zip(&self.ok).filter(|(_, ok)| **ok).filter_map(move |(r, _)| r.record(record))
    }

    /// The tags of record `record`, plugin by plugin, each in the order the rule added them.
    pub fn tags(&self, record: usize) -> impl Iterator<Item = (&str, &str)> {
        self.records(record).flat_map(|d| d.tags())
    }

    /// The numeric labels of record `record`.
    pub fn labels(&self, record: usize) -> impl Iterator<Item = (&str, f64)> {
        self.records(record).flat_map(|d| d.labels())
    }

    /// Whether any plugin asked to drop record `record`.
    pub fn dropped(&self, record: usize) -> bool {
        self.records(record).any(|d| d.drop)
    }
}

/// A plugin's validated result for one batch: its bytes and where each record starts.
#[derive(Debug, Default, Clone)]
pub(crate) struct Decoded {
    bytes: Vec<u8>,
    offsets: Vec<u32>,
}

impl Decoded {
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.offsets.clear();
    }

    /// Validates `bytes` as the result for `count` records and keeps them.
    pub(crate) fn decode(&mut self, bytes: &[u8], count: usize) -> Result<(), abi::WireError> {
        let r = abi::ResultReader::new(bytes, count as u32)?;
        self.offsets.clear();
        self.offsets.extend(r.records().map(|v| v.offset()));
        self.bytes.clear();
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn record(&self, i: usize) -> Option<abi::RecordView<'_>> {
        abi::result::record_at(&self.bytes, *self.offsets.get(i)?)
    }
}
