//! The synchronous half of the handler: parse the lines of a slice of Kinesis records
//! once (cflog-engine's record loop, enrichment rules included), aggregate them per
//! distribution (one [`Summary`] each, so every number is the number `cflog analyze` gives
//! for the same lines; see [`crate::aggregate`]) and build the enriched NDJSON records.
//! A part of a run can be aggregated again without calling the rules again
//! ([`Processor::aggregate_again`], [`crate::verdicts`]).

use std::collections::HashMap;
use std::ops::Range;

use cflog_core::enrich::crawler::verified_crawler;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{Field, ParseErrorKind, Parser, Schema};
use cflog_engine::wasmtime_rules::WasmRules;
use cflog_engine::worker::{Outcome, RecordLoop, Rules};

pub use crate::aggregate::{Aggregate, ExtraDimensions};
use crate::enriched::{EnrichState, enrich};
use crate::aggregate::{DimCounters, DimKey, DimValue, Dimension, cap_dimensions};
use crate::events::DataError;
use crate::names::UNKNOWN_DISTRIBUTION;
use crate::verdicts::{Recording, Replay, Verdicts};

/// One source record: its sequence number and its (base64-decoded) data, normally one
/// CloudFront log line. `data` is an error when the event carried undecodable data.
#[derive(Debug, Clone)]
pub struct InRecord {
    /// Kinesis sequence number (decimal string).
    pub seq: String,
    /// Decoded payload, or why it could not be decoded.
    pub data: Result<Vec<u8>, DataError>,
}

/// One record for the output stream, as the sink port ([`crate::ports::RecordSink`])
/// takes it: borrowed from where it was written ([`OutBatch`]) and from its source record
/// (the partition key), so handing records to a sink copies nothing per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutRecord<'a> {
    /// Index of the source record in the batch slice.
    pub source_index: usize,
    /// Partition key: the source sequence number, so output spreads evenly over shards
    /// and the same source record always lands on the same output shard.
    pub partition_key: &'a str,
    /// One JSON line, `\n`-terminated.
    pub data: &'a [u8],
}

/// One line of an [`OutBatch`]: an enriched record (or a forwarded bad line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutLine<'a> {
    /// Index of the source record in the batch slice.
    pub source_index: usize,
    /// One JSON line, `\n`-terminated.
    pub data: &'a [u8],
}

/// The enriched records of a run, written one after the other into one buffer (no
/// allocation per record: each record was a `Vec` copy of the JSON and a `String`
/// partition key, ~5,000 instructions of `malloc`/`free`/`memcpy` a record of the
/// Lambda's output; issue 13). Line `i` is `data[ends[i - 1]..ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutBatch {
    data: Vec<u8>,
    /// Per line: its source record and where it ends in `data`.
    lines: Vec<(usize, usize)>,
}

impl OutBatch {
    /// An empty batch.
    pub fn new() -> Self {
        OutBatch::default()
    }

    /// Lines in the batch.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the batch has no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Removes every line, keeping the buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.lines.clear();
    }

    /// Line `i`.
    pub fn get(&self, i: usize) -> Option<OutLine<'_>> {
        let &(source_index, end) = self.lines.get(i)?;
        let start = if i == 0 { 0 } else { self.lines[i - 1].1 };
        Some(OutLine { source_index, data: &self.data[start..end] })
    }

    /// The lines in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = OutLine<'_>> + '_ {
        let mut start = 0;
        self.lines.iter().map(move |&(source_index, end)| {
            let data = &self.data[start..end];
            start = end;
            OutLine { source_index, data }
        })
    }

    /// Every line, one after the other.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Appends a line of source record `source_index`.
    pub fn push(&mut self, source_index: usize, line: &[u8]) {
        self.data.extend_from_slice(line);
        self.lines.push((source_index, self.data.len()));
    }

    /// Appends these lines (source record, data), room for all of them made first, in
    /// one allocation.
    pub fn push_exact<'a>(&mut self, lines: impl Iterator<Item = (usize, &'a [u8])> + Clone) {
        self.data.reserve_exact(lines.clone().map(|(_, d)| d.len()).sum());
        self.lines.reserve_exact(lines.clone().count());
        for (source_index, data) in lines {
            self.push(source_index, data);
        }
    }

    /// Appends the line `write` appends to the buffer; when it fails, whatever it appended
    /// is taken back and no line is added.
    pub fn push_with<E>(&mut self, source_index: usize, write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        let start = self.data.len();
        match write(&mut self.data) {
            Ok(()) => {
                self.lines.push((source_index, self.data.len()));
                Ok(())
            }
            Err(e) => {
                self.data.truncate(start);
                Err(e)
            }
        }
    }

    /// Makes room for `more` lines of the mean size of those so far (and ⅛ more), in
    /// one allocation: a buffer grown by doubling would hold up to twice the batch's bytes
    /// (and three times during its last growth).
    pub fn reserve_like_so_far(&mut self, more: usize) {
        if let Some(mean) = self.data.len().checked_div(self.lines.len()) {
            let want = more.saturating_mul(mean + mean / 8);
            self.data.reserve_exact(want);
            self.lines.reserve_exact(more);
        }
    }
}

/// A line that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Index of the source record in the batch slice.
    pub source_index: usize,
    /// Why (field and reason).
    pub reason: String,
}

/// The enrichment rules a processor runs: the wasmtime plugin host, or any other
/// implementation of the record loop's [`Rules`] (tests).
enum RuleSet {
    Wasm(WasmRules),
    Other(Box<dyn Rules + Send>),
}

impl RuleSet {
    fn as_rules(&mut self) -> &mut dyn Rules {
        match self {
            RuleSet::Wasm(w) => w,
            RuleSet::Other(r) => r.as_mut(),
        }
    }
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleSet::Wasm(w) => write!(f, "{} rule(s)", w.set().plugins().len()),
            RuleSet::Other(_) => f.write_str("rules"),
        }
    }
}

/// Which rules a run calls: the processor's (keeping their verdicts or not), or none,
/// replaying the verdicts an earlier run kept.
enum RuleMode<'a> {
    Call { keep: bool },
    Replay(Replay<'a>),
}

/// Parses and aggregates; built once per layout, reused for every batch.
#[derive(Debug)]
pub struct Processor {
    schema: Schema,
    options: SummaryOptions,
    dims: ExtraDimensions,
    records: RecordLoop,
    /// What [`enrich`] keeps from record to record.
    enrich_state: EnrichState,
    rules: Option<RuleSet>,
    suspect: cflog_core::suspicious::SuspectThresholds,
}

impl Processor {
    /// A processor for real-time records of `schema`.
    pub fn new(schema: Schema, options: SummaryOptions, dims: ExtraDimensions) -> Self {
        Processor { schema, options, dims, records: RecordLoop::new(), enrich_state: EnrichState::default(), rules: None, suspect: Default::default() }
    }

    /// Marks the enriched records of suspicious addresses by these thresholds (see
    /// [`crate::context::flag_suspicious`]). The default is `SuspectThresholds::default()`.
    pub fn with_suspect(mut self, thresholds: cflog_core::suspicious::SuspectThresholds) -> Self {
        self.suspect = thresholds;
        self
    }

    /// Runs these enrichment rules over every batch: their tags are counted in the
    /// summaries (`tags`) and written into the enriched records (`_cflog.tags`,
    /// `_cflog.labels`); a record a rule drops is neither counted nor forwarded.
    pub fn with_plugins(mut self, plugins: cflog_plugin_host::PluginSet) -> Self {
        self.rules = Some(plugins).filter(|p| !p.is_empty()).map(|p| RuleSet::Wasm(WasmRules::new(p)));
        self
    }

    /// Runs these rules instead, as [`Processor::with_plugins`] does (any implementation of
    /// the record loop's [`Rules`]; tests use fakes).
    pub fn with_rules(mut self, rules: Box<dyn Rules + Send>) -> Self {
        self.rules = Some(RuleSet::Other(rules));
        self
    }

    /// Per-rule counters (calls, failures, disabled) of the wasm rules, for logs and tests.
    pub fn plugin_stats(&self) -> Vec<cflog_plugin_host::PluginStats> {
        match &self.rules {
            Some(RuleSet::Wasm(w)) => w.stats(),
            _ => Vec::new(),
        }
    }

    /// What the WAF sink's allow-lists need to know about each of `ips`, from its lines in
    /// `records`: the autonomous system it requested from (the first of its lines carrying
    /// an `asn`) and, when `bots` is set, whether it is a verified bot: every one of its
    /// lines claims a crawler from that crawler operator's AS
    /// ([`cflog_core::enrich::crawler::verified_crawler`]), so an address that also sends
    /// anything else is not one. Parses the lines again (no rules): called only when
    /// suspicious addresses meet an allow-list that needs it; the layout without `asn`
    /// finds nothing.
    pub fn clients_of(&self, records: &[InRecord], ips: &[std::net::IpAddr], bots: bool) -> HashMap<std::net::IpAddr, crate::waf::ClientFacts> {
        let mut out: HashMap<std::net::IpAddr, crate::waf::ClientFacts> = HashMap::new();
        if ips.is_empty() || !self.schema.has(Field::Asn) {
            return out;
        }
        // Address → whether every line so far was a verified crawler's.
        let mut all_verified: HashMap<std::net::IpAddr, bool> = HashMap::new();
        let mut parser = Parser::realtime(self.schema.clone());
        let mut buf = cflog_core::RecordBuf::new();
        for line in records.iter().filter_map(|r| r.data.as_ref().ok()).flat_map(|d| lines_of(d)) {
            let Ok(Some(record)) = parser.parse_line(line, &mut buf) else { continue };
            let Ok(Some(ip)) = record.client_ip() else { continue };
            if !ips.contains(&ip) {
                continue;
            }
            let asn = record.integer(Field::Asn).ok().flatten().map(|a| u32::try_from(a).unwrap_or(u32::MAX));
            let facts = out.entry(ip).or_default();
            if facts.asn.is_none() {
                facts.asn = asn;
            }
            if bots {
                let verified = record.decoded_str(Field::UserAgent).is_some_and(|ua| verified_crawler(&ua, asn).is_some());
                *all_verified.entry(ip).or_insert(true) &= verified;
            } else if out.len() == ips.len() && out.values().all(|f| f.asn.is_some()) {
                break;
            }
        }
        for (ip, verified) in all_verified {
            if let Some(f) = out.get_mut(&ip) {
                f.verified_bot = verified;
            }
        }
        out
    }

    /// The layout.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The summary options.
    pub fn options(&self) -> SummaryOptions {
        self.options
    }

    /// Replaces the layout (after a refresh of the real-time log config).
    pub fn set_layout(&mut self, schema: Schema, sampling_rate: Option<u32>) {
        self.schema = schema;
        self.options.sampling_rate = sampling_rate;
    }

    /// Aggregates `records` and, when `output` is given, appends an enriched JSON line per
    /// record to it (and the bad lines, when `forward_bad` is set). `bad` receives every
    /// line that did not parse. `shard` names the source in the enriched records.
    pub fn run(
        &mut self,
        shard: &str,
        records: &[InRecord],
        output: Option<&mut OutBatch>,
        forward_bad: bool,
        bad: &mut Vec<BadLine>,
    ) -> Aggregate {
        self.run_with(shard, records, output, forward_bad, bad, RuleMode::Call { keep: false }).0
    }

    /// [`Processor::run`], also keeping the rules' verdicts in `kept`, so any part of
    /// `records` can then be aggregated again by [`Processor::aggregate_again`] without
    /// calling the rules again.
    pub fn run_keeping(
        &mut self,
        shard: &str,
        records: &[InRecord],
        output: Option<&mut OutBatch>,
        forward_bad: bool,
        bad: &mut Vec<BadLine>,
        kept: &mut Verdicts,
    ) -> Aggregate {
        let (agg, verdicts) = self.run_with(shard, records, output, forward_bad, bad, RuleMode::Call { keep: true });
        *kept = verdicts;
        agg
    }

    /// The aggregate of `records[range]`, where `records` are those of the run that kept
    /// `kept` (same layout): the lines are parsed again, the rules are not called, their
    /// verdicts are replayed.
    pub fn aggregate_again(&mut self, shard: &str, records: &[InRecord], range: Range<usize>, kept: &Verdicts) -> Aggregate {
        let replay = Replay::from_record(kept, range.start);
        self.run_with(shard, &records[range], None, false, &mut Vec::new(), RuleMode::Replay(replay)).0
    }

    fn run_with(
        &mut self,
        shard: &str,
        records: &[InRecord],
        mut output: Option<&mut OutBatch>,
        forward_bad: bool,
        bad: &mut Vec<BadLine>,
        mode: RuleMode<'_>,
    ) -> (Aggregate, Verdicts) {
        let mut parser = Parser::realtime(self.schema.clone());
        let mut agg = Aggregate::new(records.len(), self.options.sampling_rate);
        let mut context = crate::context::ContextBuilder::default();
        // Every line of every record, each parsed once (cflog-engine's record loop): with
        // rules, the whole slice is one batch, enriched before anything is aggregated.
        let mut lines: Vec<&[u8]> = Vec::new();
        let mut owner: Vec<usize> = Vec::new();
        for (index, rec) in records.iter().enumerate() {
            if let Ok(d) = &rec.data {
                // CloudFront puts one line per record; accept several anyway.
                for line in lines_of(d) {
                    lines.push(line);
                    owner.push(index);
                }
            }
        }
        // Per line: whether it reached the rules (a record, kept or dropped).
        let mut judged = vec![false; lines.len()];
        let mut dims_raw: HashMap<DimKey, DimCounters> = HashMap::new();
        let window_ms = self.options.window_ms as i64;
        let mut rule_set = self.rules.take();
        let with_rules = match &mode {
            RuleMode::Call { .. } => rule_set.is_some(),
            RuleMode::Replay(r) => r.with_rules(),
        };
        let mut record_loop = std::mem::take(&mut self.records);
        // Absent values are left out rather than null: the records are OpenSearch documents
        // too (deploy/opensearch/). The keys are escaped once per run.
        let mut json = cflog_core::json::RecordWriter::new(
            &self.schema,
            cflog_core::json::JsonOptions::default().omit_absent(true).anonymize_ip(self.options.anonymize_ip),
        );
        // Records whose data could not be decoded are reported in source order, before the
        // first line of any later record.
        let mut next_undecoded = 0usize;
        let mut undecoded = |upto: usize, agg: &mut Aggregate, bad: &mut Vec<BadLine>, output: &mut Option<&mut OutBatch>| {
            while next_undecoded < upto {
                let index = next_undecoded;
                next_undecoded += 1;
                if let Err(e) = &records[index].data {
                    let reason = e.to_string();
                    agg.bad_lines += 1;
                    if forward_bad && let Some(out) = output.as_deref_mut() {
                        push_bad_line(out, index, shard, &records[index].seq, &reason, b"");
                    }
                    bad.push(BadLine { source_index: index, reason });
                }
            }
        };
        // Whether the output buffer was sized for the rest of the run (after SIZE_SAMPLE lines).
        let mut sized = false;
        let mut on = |li: usize, outcome: Outcome<'_, '_>| {
            let index = owner[li];
            let rec = &records[index];
            undecoded(index, &mut agg, bad, &mut output);
            let result = match outcome {
                Outcome::Dropped => {
                    judged[li] = true;
                    agg.dropped_by_plugins += 1;
                    return;
                }
                Outcome::Bad(e) => Err(e),
                Outcome::Record(record, tags) => {
                    judged[li] = true;
                    let dist = record
                        .raw(Field::DistributionId)
                        .or_else(|| record.raw(Field::DistributionDomain))
                        .map_or(UNKNOWN_DISTRIBUTION, |d| std::str::from_utf8(d).unwrap_or(UNKNOWN_DISTRIBUTION));
                    let summary = match agg.per_distribution.get_mut(dist) {
                        Some(s) => s,
                        None => agg.per_distribution.entry(dist.to_string()).or_insert_with(|| Summary::new(self.options)),
                    };
                    let mut added = summary.add(record);
                    if added.is_ok() {
                        tags.for_each(|key, value| summary.add_tag(key, value.as_bytes()));
                    }
                    // Parsed once here for the context, the enriched record and the
                    // dimensions (each parsed it again: ~270 instructions a record; issue 13).
                    let ts_ms = if added.is_ok() { record.timestamp_ms().ok().flatten() } else { None };
                    if let Some(ts) = ts_ms {
                        context.add(dist, ts - ts.rem_euclid(window_ms), record);
                    }
                    if added.is_ok()
                        && let Some(out) = output.as_deref_mut()
                    {
                        // Straight into the batch's buffer; nothing is left of a record that fails.
                        let state = &mut self.enrich_state;
                        added = out.push_with(index, |buf| {
                            json.write(record, buf)?;
                            enrich(record, ts_ms, dist, shard, &rec.seq, with_rules.then_some(tags), state, buf);
                            Ok(())
                        });
                        if !sized && out.len() >= SIZE_SAMPLE {
                            out.reserve_like_so_far(lines.len().saturating_sub(li + 1));
                            sized = true;
                        }
                    }
                    if added.is_ok() && self.dims.any() {
                        let status = record.status().ok().flatten().unwrap_or(0);
                        let sent = record.bytes_sent().ok().flatten().unwrap_or(0);
                        let time_taken_us = record.time_taken_us().ok().flatten();
                        let ts = ts_ms.unwrap_or(0);
                        let window_start_ms = ts - ts.rem_euclid(window_ms);
                        let mut bump = |dimension: Dimension, value: &str| {
                            let key = DimKey { distribution: dist.to_string(), dimension, value: DimValue::Value(value.to_string()), window_start_ms };
                            dims_raw.entry(key).or_insert_with(|| DimCounters::of(dimension)).add(status, sent, time_taken_us);
                        };
                        let raw = |field: Field| record.raw(field).map_or("-", |v| std::str::from_utf8(v).unwrap_or("-"));
                        if self.dims.edge_location {
                            bump(Dimension::EdgeLocation, raw(Field::EdgeLocation));
                        }
                        if self.dims.country {
                            bump(Dimension::Country, raw(Field::Country));
                        }
                        if self.dims.behaviors > 0 {
                            // A field of the percent-encoded kind: decoding leaves a plain
                            // pattern (`/api/*`) as it is.
                            let pattern = record.decoded_str(Field::CacheBehaviorPathPattern);
                            bump(Dimension::CacheBehavior, pattern.as_deref().unwrap_or("-"));
                        }
                    }
                    added
                }
            };
            if let Err(e) = result {
                if matches!(e.kind, ParseErrorKind::FieldCount { .. }) {
                    agg.field_count_mismatches += 1;
                }
                agg.bad_lines += 1;
                let reason = e.reason().to_string();
                if forward_bad && let Some(out) = output.as_deref_mut() {
                    push_bad_line(out, index, shard, &rec.seq, &reason, lines[li]);
                }
                bad.push(BadLine { source_index: index, reason });
            }
        };
        let mut kept = Verdicts::default();
        match mode {
            RuleMode::Call { keep: true } if with_rules => {
                let rules = rule_set.as_mut().map(RuleSet::as_rules).expect("with_rules");
                let mut recording = Recording::new(rules);
                record_loop.run(&mut parser, &lines, Some(&mut recording), &mut on);
                kept = recording.kept;
            }
            RuleMode::Call { .. } => record_loop.run(&mut parser, &lines, rule_set.as_mut().map(RuleSet::as_rules), &mut on),
            RuleMode::Replay(mut replay) => record_loop.run(&mut parser, &lines, with_rules.then_some(&mut replay as &mut dyn Rules), &mut on),
        }
        undecoded(records.len(), &mut agg, bad, &mut output);
        self.records = record_loop;
        self.rules = rule_set;
        if kept.with_rules {
            // Verdicts are kept in line order, one per line that reached the rules.
            let mut first = Vec::with_capacity(records.len() + 1);
            let (mut count, mut li) = (0, 0);
            for index in 0..records.len() {
                first.push(count);
                while li < lines.len() && owner[li] == index {
                    count += usize::from(judged[li]);
                    li += 1;
                }
            }
            first.push(count);
            kept.first_of_record = first;
        }
        agg.dimensions = cap_dimensions(dims_raw, |d| self.dims.cap_of(d));
        agg.context = context.finish();
        if let Some(out) = output {
            crate::context::flag_suspicious(&agg, &self.suspect, out);
        }
        (agg, kept)
    }
}

/// The output lines after which the batch's buffer is sized for the rest of the run
/// ([`OutBatch::reserve_like_so_far`]).
const SIZE_SAMPLE: usize = 64;

/// The lines of one record's data: CloudFront puts one `\n`-terminated line per record;
/// the terminator does not start another (empty) line, which would cost a rule call.
/// The `\n`s are found with `memchr` (a byte-at-a-time `split` was ~2,400 instructions a
/// record; issue 13); the lines are those of `split` on `\n`.
fn lines_of(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data.strip_suffix(b"\n").unwrap_or(data));
    std::iter::from_fn(move || {
        let text = rest?;
        let Some(end) = memchr::memchr(b'\n', text) else {
            rest = None;
            return Some(text);
        };
        rest = Some(&text[end + 1..]);
        Some(&text[..end])
    })
}

fn push_bad_line(out: &mut OutBatch, index: usize, shard: &str, seq: &str, reason: &str, line: &[u8]) {
    let value = serde_json::json!({
        "_cflog": {
            "error": reason,
            "line": String::from_utf8_lossy(line),
            "source": { "shard": shard, "seq": seq },
        }
    });
    let written = out.push_with(index, |buf| {
        serde_json::to_writer(&mut *buf, &value)?;
        buf.push(b'\n');
        Ok::<(), serde_json::Error>(())
    });
    written.expect("a JSON value writes into memory");
}

#[cfg(test)]
mod tests {
    use super::{ExtraDimensions, InRecord, Processor};
    use crate::waf::ClientFacts;
    use cflog_core::Schema;

    proptest::proptest! {
        /// The lines are those of splitting on `\n` after dropping one final `\n` (the
        /// first implementation), for text dense in newlines.
        #[test]
        fn lines_are_those_of_split(data in proptest::collection::vec(proptest::sample::select(b"ab\n".to_vec()), 0..24)) {
            let want: Vec<&[u8]> = data.strip_suffix(b"\n").unwrap_or(&data).split(|&b| b == b'\n').collect();
            proptest::prop_assert_eq!(super::lines_of(&data).collect::<Vec<_>>(), want);
        }
    }

    /// Lines come back as pushed, with their source records; a line whose writer fails
    /// leaves nothing behind, before or after other lines.
    #[test]
    fn out_batch_keeps_lines_and_takes_back_failed_ones() {
        let mut b = super::OutBatch::new();
        assert!(b.is_empty() && b.get(0).is_none());
        b.push(3, b"{\"a\":1}\n");
        let failed = b.push_with(4, |buf| {
            buf.extend_from_slice(b"{\"half");
            Err("no")
        });
        assert_eq!(failed, Err("no"));
        b.push_with(5, |buf| {
            buf.extend_from_slice(b"{}\n");
            Ok::<(), ()>(())
        })
        .unwrap();
        b.push(5, b"");
        let lines: Vec<(usize, &[u8])> = b.iter().map(|l| (l.source_index, l.data)).collect();
        assert_eq!(lines, [(3, &b"{\"a\":1}\n"[..]), (5, b"{}\n"), (5, b"")]);
        assert_eq!(b.get(1).map(|l| l.data), Some(&b"{}\n"[..]));
        assert_eq!((b.len(), b.bytes()), (3, &b"{\"a\":1}\n{}\n"[..]));
        b.clear();
        assert!(b.is_empty() && b.bytes().is_empty());
    }

    const GOOGLEBOT: &str = "Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)";
    const CHROME: &str = "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/120.0.0.0%20Safari/537.36";

    /// One real-time line (release 46) per `(ip, asn, user agent)`.
    fn records(lines: &[(&str, &str, &str)]) -> Vec<InRecord> {
        let schema = Schema::realtime_release(46).unwrap();
        let names: Vec<&str> = schema.names().collect();
        lines
            .iter()
            .enumerate()
            .map(|(i, (ip, asn, ua))| {
                let v: Vec<&str> = names
                    .iter()
                    .map(|n| match *n {
                        "timestamp" => "1793491200.000",
                        "c-ip" => ip,
                        "asn" => asn,
                        "cs-user-agent" => ua,
                        "sc-status" => "200",
                        _ => "-",
                    })
                    .collect();
                InRecord { seq: i.to_string(), data: Ok(format!("{}\n", v.join("\t")).into_bytes()) }
            })
            .collect()
    }

    #[test]
    fn clients_of_verifies_an_address_only_when_every_line_is_a_crawler_from_its_as() {
        let p = Processor::new(Schema::realtime_release(46).unwrap(), Default::default(), ExtraDimensions::default());
        let recs = records(&[
            ("66.249.66.1", "15169", GOOGLEBOT),
            ("66.249.66.1", "15169", GOOGLEBOT),
            // Googlebot from an AS that is not Google's: a spoofer.
            ("203.0.113.7", "16509", GOOGLEBOT),
            // Googlebot, then a browser, from Google's AS: not only a crawler.
            ("66.249.66.2", "15169", GOOGLEBOT),
            ("66.249.66.2", "15169", CHROME),
            // No `asn` on the first line: the AS is the first one given.
            ("198.51.100.3", "-", CHROME),
            ("198.51.100.3", "64500", CHROME),
        ]);
        let ips: Vec<std::net::IpAddr> = ["66.249.66.1", "203.0.113.7", "66.249.66.2", "198.51.100.3"].iter().map(|s| s.parse().unwrap()).collect();
        let got = p.clients_of(&recs, &ips, true);
        let f = |ip: &str| got.get(&ip.parse().unwrap()).copied();
        assert_eq!(f("66.249.66.1"), Some(ClientFacts { asn: Some(15169), verified_bot: true }));
        assert_eq!(f("203.0.113.7"), Some(ClientFacts { asn: Some(16509), verified_bot: false }));
        assert_eq!(f("66.249.66.2"), Some(ClientFacts { asn: Some(15169), verified_bot: false }));
        assert_eq!(f("198.51.100.3"), Some(ClientFacts { asn: Some(64500), verified_bot: false }));
        // Without `bots`, nobody is judged a bot.
        let asns_only = p.clients_of(&recs, &ips, false);
        assert_eq!(asns_only.get(&ips[0]).copied(), Some(ClientFacts { asn: Some(15169), verified_bot: false }));
        assert_eq!(asns_only.get(&ips[3]).copied(), Some(ClientFacts { asn: Some(64500), verified_bot: false }));
    }
}
