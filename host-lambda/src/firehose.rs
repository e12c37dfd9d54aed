//! Firehose data transformation mode: one pass over the batch, one answer per record.

use base64::Engine as _;

use crate::events::{FirehoseEvent, FirehoseResponse, FirehoseResponseRecord, decode_record};
use crate::handler::Handler;
use crate::ports::{MetricsSink, RecordSink, StateStore};
use crate::process::InRecord;

impl<M: MetricsSink, R: RecordSink, S: StateStore> Handler<M, R, S> {
    /// Handles one Firehose transformation event in one pass over the batch: one output
    /// record per input record, never a failed batch. A record whose lines all parse is
    /// `Ok` (its enriched lines), one whose every line a rule dropped is `Dropped`, one
    /// with a line that does not parse is `ProcessingFailed` (its data echoed, so
    /// Firehose keeps it in the error output).
    pub fn handle_firehose(&self, event: &FirehoseEvent) -> FirehoseResponse {
        let engine = base64::engine::general_purpose::STANDARD;
        let source = event.source_kinesis_stream_arn.as_deref().unwrap_or("firehose");
        let input: Vec<InRecord> = event
            .records
            .iter()
            .map(|r| {
                let seq = r
                    .kinesis_record_metadata
                    .as_ref()
                    .and_then(|m| m.get("sequenceNumber"))
                    .and_then(|s| s.as_str())
                    .unwrap_or(&r.record_id)
                    .to_string();
                InRecord { seq, data: decode_record(&r.data) }
            })
            .collect();
        let mut out = crate::process::OutBatch::new();
        let mut bad = Vec::new();
        self.run_sync(source, &input, Some(&mut out), &mut bad);
        let mut data: Vec<Vec<u8>> = vec![Vec::new(); input.len()];
        let mut lines = vec![0usize; input.len()];
        for o in out.iter() {
            data[o.source_index].extend_from_slice(o.data);
            lines[o.source_index] += 1;
        }
        let mut failed_reason: Vec<Option<&str>> = vec![None; input.len()];
        for b in &bad {
            failed_reason[b.source_index].get_or_insert(&b.reason);
        }
        let (mut ok, mut dropped, mut failed) = (0usize, 0usize, 0usize);
        let records = event
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (result, data) = if let Some(reason) = failed_reason[i] {
                    failed += 1;
                    tracing::warn!(record_id = %r.record_id, reason, "ProcessingFailed");
                    ("ProcessingFailed", r.data.clone())
                } else if lines[i] == 0 && input[i].data.as_ref().is_ok_and(|d| d.iter().any(|b| !b.is_ascii_whitespace())) {
                    dropped += 1;
                    ("Dropped", String::new())
                } else {
                    ok += 1;
                    ("Ok", engine.encode(&data[i]))
                };
                FirehoseResponseRecord { record_id: r.record_id.clone(), result: result.into(), data }
            })
            .collect();
        tracing::info!(records = event.records.len(), ok, dropped, failed, "firehose transformation done");
        FirehoseResponse { records }
    }
}
