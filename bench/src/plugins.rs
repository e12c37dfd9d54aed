//! The `cflog analyze` worker loop with and without enrichment rules, shared by the
//! `plugins` criterion bench and the `cflog-plugin-cost` binary (instruction counts). Not a
//! copy: the input is cut by `cflog-engine`'s `Chunker` and `Cutter` and aggregated by its
//! `Worker` with `WasmRules`, exactly as `cflog analyze [--plugin]` runs them.

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_engine::wasmtime_rules::WasmRules;
use cflog_engine::{CHUNK, ChunkStart, Chunker, Cutter, FieldsOrder, FieldsSpec, FormatChoice, LayoutChoice, Worker};

/// A chunk as the CLI's reader thread hands it to a worker: where it starts, and its bytes.
pub type Chunk = (ChunkStart, Vec<u8>);

/// Newline-aligned chunks of about 1 MiB of real-time lines of `schema`, cut as `cflog
/// analyze --fields <schema>` cuts a file read in 1 MiB pieces.
pub fn chunks(data: &[u8], schema: &Schema) -> Vec<Chunk> {
    let spec = FieldsSpec { names: schema.names().map(str::to_string).collect(), sampling_rate: None };
    let layout = LayoutChoice::new(FormatChoice::Realtime, Some(&spec), FieldsOrder::Canonical, false).expect("a real-time layout");
    let mut cutter = Cutter::new(&layout);
    cutter.begin("bench");
    let mut chunker = Chunker::new();
    let mut bytes: Vec<Vec<u8>> = data.chunks(CHUNK).filter_map(|piece| chunker.push(piece)).collect();
    bytes.extend(chunker.finish());
    bytes.into_iter().map(|b| (cutter.take(&b).expect("the layout fits"), b)).collect()
}

/// The lines of a chunk.
pub fn lines(chunk: &Chunk) -> Vec<&[u8]> {
    cflog_engine::lines(&chunk.1).collect()
}

/// The worker loop without rules.
pub fn analyze_plain(chunks: &[Chunk]) -> u64 {
    let mut worker = Worker::new(SummaryOptions::default(), 20, false);
    for (start, bytes) in chunks {
        worker.run(0, start, bytes, None);
    }
    worker.summary.records
}

/// The worker loop with rules, as `cflog analyze --plugin` runs it: each line parsed once,
/// the chunk enriched as one batch, then the kept records aggregated with their tags.
pub fn analyze_rules(chunks: &[Chunk], rules: &mut WasmRules) -> u64 {
    let mut worker = Worker::new(SummaryOptions::default(), 20, false);
    for (start, bytes) in chunks {
        worker.run(0, start, bytes, Some(rules));
    }
    worker.summary.records
}
