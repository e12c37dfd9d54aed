//! The `cflog analyze` worker loop with and without enrichment rules, shared by the
//! `plugins` criterion bench and the `cflog-plugin-cost` binary (instruction counts).

use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{Parser, RecordBuf, Schema};
use cflog_plugin_host::PluginSet;

/// Newline-aligned chunks of about 1 MiB, as `cflog analyze` cuts them.
pub fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let want = (start + (1 << 20)).min(data.len());
        let end = if want == data.len() { want } else { memchr::memrchr(b'\n', &data[start..want]).map_or(want, |i| start + i + 1) };
        out.push(&data[start..end]);
        start = end;
    }
    out
}

pub fn lines(chunk: &[u8]) -> Vec<&[u8]> {
    chunk.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect()
}

/// The worker loop without rules.
pub fn analyze_plain(chunks: &[&[u8]], schema: &Schema) -> u64 {
    let mut summary = Summary::new(SummaryOptions::default());
    let mut buf = RecordBuf::new();
    for c in chunks {
        let mut parser = Parser::with_schema(schema.clone());
        for line in lines(c) {
            if let Ok(Some(r)) = parser.parse_line(line, &mut buf) {
                let _ = summary.add(&r);
            }
        }
    }
    summary.records
}

/// The worker loop with rules, as `cflog analyze --plugin` runs it: parse each line once
/// into its own span buffer, enrich the chunk as one batch, then aggregate the records
/// (rebuilt from their spans) with their tags.
pub fn analyze_rules(chunks: &[&[u8]], schema: &Schema, set: &mut PluginSet) -> u64 {
    let mut summary = Summary::new(SummaryOptions::default());
    let mut bufs: Vec<RecordBuf> = Vec::new();
    let mut batch = set.batch();
    let mut enriched = Default::default();
    let mut pending: Vec<(usize, u64)> = Vec::new();
    for c in chunks {
        let ls = lines(c);
        batch.clear();
        pending.clear();
        let mut parser = Parser::with_schema(schema.clone());
        for (li, line) in ls.iter().enumerate() {
            let k = pending.len();
            if k == bufs.len() {
                bufs.push(RecordBuf::new());
            }
            if let Ok(Some(r)) = parser.parse_line(line, &mut bufs[k]) {
                batch.push(&r);
                pending.push((li, r.line_number()));
            }
        }
        set.enrich_into(&batch, &mut enriched);
        for (i, &(li, n)) in pending.iter().enumerate() {
            let r = parser.view(ls[li], &bufs[i], n);
            if !enriched.dropped(i) && summary.add(&r).is_ok() {
                for (k, v) in enriched.tags(i) {
                    summary.add_tag(k, v.as_bytes());
                }
            }
        }
    }
    summary.records
}

