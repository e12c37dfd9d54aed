//! The orchestrator: Kinesis events in, sinks out, `batchItemFailures` back (the Firehose
//! transformation is `crate::firehose`). Plain async functions over the ports
//! ([`crate::ports`]); `main` supplies AWS adapters, tests and the benchmark in-memory ones.
//!
//! # Delivery semantics (per shard)
//!
//! Each sink (enriched records, rollups, metrics) records what it applied as *progress
//! markers* in the table ([`StateStore`]): "from the record with sequence number `first`,
//! this batch's records through `last` are applied". Lambda re-delivers a batch whole
//! (after a crash or timeout) or from the record the answer named, and both start where a
//! marker chain starts, so:
//!
//! 1. For each sink, the markers are followed from the batch's first record: the records
//!    they cover are skipped by that sink.
//! 2. Enriched records are sent (only failed entries are resent, with backoff). If some
//!    still fail, `k` is the first source record with an undelivered output.
//! 3. Rollups and metrics are applied for the records before `k`, concurrently, each as
//!    runs that fit one DynamoDB transaction (which also creates the run's marker, on
//!    condition it does not exist) or one PutMetricData call (followed by its marker).
//!    A run too big for one call is halved until it fits; each half is aggregated again
//!    from its lines with the rules' verdicts of the first parse ([`crate::verdicts`]), so
//!    no rule runs twice for a record.
//! 4. The answer names `f`, the first record some sink has not applied. A sink that got
//!    further than `f` writes a marker from `f` to where it got, so the retry, which starts
//!    at `f`, skips exactly that.
//!
//! Markers are per batch lineage, not per shard, so this holds when Lambda runs several
//! batches of one shard at once (`ParallelizationFactor` 2–10, sequence numbers
//! interleaved between them).

use std::ops::Range;
use std::sync::{Arc, Mutex};

use cflog_core::Schema;

use crate::cloudwatch::{chunk_datums, metrics_with, split_values};
pub use crate::events::*;
use crate::names::limits;
use crate::ports::{Applied, Clock, LayoutSource, MetricDatum, MetricsSink, Progress, RecordSink, SinkError, StateStore, SystemClock};
use crate::process::{Aggregate, BadLine, InRecord, OutBatch, OutRecord, Processor};
use crate::sinks::deliver_records;
use crate::verdicts::Verdicts;

pub use crate::invocation::{CONFIG_REFRESH_INTERVAL, HandlerOptions, InvocationStats};

/// The processor: configuration and sinks, built once per container.
pub struct Handler<M, R, S> {
    processor: Mutex<Processor>,
    /// Metrics sink (CloudWatch or EMF), if on.
    pub metrics: Option<M>,
    /// Output stream, if on.
    pub records: Option<R>,
    /// Rollups and progress markers, if on.
    pub state: Option<S>,
    layout: Option<Arc<dyn LayoutSource>>,
    last_layout_refresh: Mutex<Option<std::time::Instant>>,
    /// When the config was last read (the cold start read it just before `new`).
    last_config_read: Mutex<std::time::Instant>,
    clock: Arc<dyn Clock>,
    options: HandlerOptions,
    waf: Option<crate::waf_run::WafRunner>,
}

/// One parse of a shard's records from `first` on: its aggregate, and the rules' verdicts
/// from which the aggregate of any part is made again without calling the rules.
struct Parsed<'a> {
    records: &'a [InRecord],
    first: usize,
    full: Aggregate,
    kept: Verdicts,
}

/// Records that stop matching the layout trigger at most one config read per this long:
/// garbage from a misconfigured producer must not call CloudFront on every invocation.
pub const LAYOUT_REFRESH_MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

impl<M, R, S> std::fmt::Debug for Handler<M, R, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler").field("options", &self.options).finish_non_exhaustive()
    }
}

pub use crate::seqs::pad_seq;
use crate::seqs::PaddedSeqs;

impl<M: MetricsSink, R: RecordSink, S: StateStore> Handler<M, R, S> {
    /// A handler over `processor` and the given sinks (`None`: off).
    pub fn new(
        processor: Processor,
        metrics: Option<M>,
        records: Option<R>,
        state: Option<S>,
        layout: Option<Arc<dyn LayoutSource>>,
        options: HandlerOptions,
    ) -> Self {
        Handler {
            processor: Mutex::new(processor),
            metrics,
            records,
            state,
            layout,
            last_layout_refresh: Mutex::new(None),
            last_config_read: Mutex::new(std::time::Instant::now()),
            clock: Arc::new(SystemClock),
            options,
            waf: None,
        }
    }

    /// Feeds the suspicious clients of every batch to this WAF sink ([`crate::waf_run`]).
    pub fn with_waf(mut self, blocker: Box<dyn crate::waf_run::Blocker>) -> Self {
        self.waf = Some(crate::waf_run::WafRunner::new(blocker));
        self
    }

    /// Stamps and judges metric windows by this clock. The default is [`SystemClock`].
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Per-rule counters of the enrichment rules (calls, failures), for logs and tests.
    pub fn processor_plugin_stats(&self) -> Vec<cflog_plugin_host::PluginStats> {
        self.processor.lock().unwrap().plugin_stats()
    }

    /// The current layout.
    pub fn schema(&self) -> Schema {
        self.processor.lock().unwrap().schema().clone()
    }

    /// Handles one Kinesis event.
    pub async fn handle_kinesis(&self, mut event: KinesisEvent) -> (BatchResponse, InvocationStats) {
        let mut stats = InvocationStats { records: event.records.len(), ..Default::default() };
        // Group by shard, keeping order (an event source mapping sends one shard per event).
        let mut shards: Vec<(String, Vec<InRecord>)> = Vec::new();
        // Each sequence number is moved into its `InRecord`, not cloned (a clone and its free
        // were ~500 instructions a record; issue 13), and each record's data is decoded into
        // the buffer of the text before it (`decode_record_reusing`: no allocation a record).
        // The rest of the records is dropped with the event, after the batch.
        let mut spare = Vec::new();
        for r in &mut event.records {
            let shard_id = r.event_id.as_ref().and_then(crate::events::EventId::shard).unwrap_or("shard");
            let arn = r.event_source_arn.as_deref().unwrap_or("stream");
            // The key is `{arn}#{shard_id}`, compared in its parts: formatted only for a new
            // shard (`format!` per record was ~800 instructions; issue 13).
            let is_key = |k: &str| k.len() == arn.len() + 1 + shard_id.len() && k.starts_with(arn) && k.ends_with(shard_id) && k.as_bytes()[arn.len()] == b'#';
            let data = decode_record_reusing(std::mem::take(&mut r.kinesis.data), &mut spare);
            let record = InRecord { seq: std::mem::take(&mut r.kinesis.sequence_number), data };
            match shards.iter_mut().rev().find(|(k, _)| is_key(k)) {
                Some((_, records)) => records.push(record),
                None => shards.push((format!("{arn}#{shard_id}"), vec![record])),
            }
        }
        let mut response = BatchResponse::default();
        let mut found = crate::waf_run::Found::default();
        for (key, records) in &shards {
            if let Some(i) = self.process_shard(key, records, &mut stats, &mut found).await {
                response.batch_item_failures.push(ItemFailure { item_identifier: records[i].seq.clone() });
            }
        }
        stats.failures = response.batch_item_failures.len();
        // After every sink of every shard: the WAF sink never delays or fails the batch.
        if let Some(waf) = &self.waf {
            stats.waf = waf.run(&found, self.clock.now_ms(), self.options.retry, self.metrics.as_ref()).await;
        }
        tracing::info!(
            records = stats.records,
            skipped = stats.skipped,
            bad_lines = stats.bad_lines,
            delivered = stats.delivered,
            metric_datums = stats.metric_datums,
            rollup_items = stats.rollup_items,
            late_records = stats.late_records,
            layout_refreshes = stats.layout_refreshes,
            failures = stats.failures,
            waf_would_block = stats.waf.would_block,
            waf_blocked = stats.waf.blocked,
            waf_unblocked = stats.waf.unblocked,
            waf_errors = stats.waf.errors,
            "invocation done"
        );
        (response, stats)
    }

    /// Reads the real-time log config again when [`HandlerOptions::config_refresh`] has
    /// passed: records do not carry the sampling rate, so a rate changed in the config
    /// reaches the estimates this way, from the next batch on (and a changed field list
    /// before its records fail to parse).
    async fn refresh_config_if_due(&self, stats: &mut InvocationStats) {
        let Some(source) = &self.layout else { return };
        {
            let mut last = self.last_config_read.lock().unwrap();
            if last.elapsed() < self.options.config_refresh {
                return;
            }
            *last = std::time::Instant::now();
        }
        stats.layout_refreshes += 1;
        match source.fetch().await {
            Ok((schema, rate)) => {
                let rate = self.options.sampling_override.or(rate);
                let mut p = self.processor.lock().unwrap();
                let same_fields = schema.len() == p.schema().len() && schema.names().eq(p.schema().names());
                if !same_fields || p.options().sampling_rate != rate {
                    tracing::info!(fields = schema.len(), sampling_rate = ?rate, "real-time log config changed; applied from this batch on");
                    p.set_layout(schema, rate);
                }
            }
            Err(e) => tracing::warn!(error = %e, "real-time log config not re-read; keeping the current layout and rate"),
        }
    }

    /// Parses `records` (the shard's records from `first` on), refreshing the layout once
    /// if they stopped matching it; keeps the rules' verdicts for [`Handler::aggregate_for`].
    async fn run_processor<'a>(
        &self,
        shard: &str,
        records: &'a [InRecord],
        first: usize,
        output: Option<&mut OutBatch>,
        bad: &mut Vec<BadLine>,
        stats: &mut InvocationStats,
    ) -> Parsed<'a> {
        let mut output = output;
        let mut kept = Verdicts::default();
        let full = self.run_keeping(shard, records, output.as_deref_mut(), bad, &mut kept);
        let parsed = |full| Parsed { records, first, full, kept };
        if full.field_count_mismatches == 0 || stats.layout_refreshes > 0 {
            return parsed(full);
        }
        let Some(source) = &self.layout else { return parsed(full) };
        {
            let mut last = self.last_layout_refresh.lock().unwrap();
            if last.is_some_and(|t| t.elapsed() < LAYOUT_REFRESH_MIN_INTERVAL) {
                return parsed(full);
            }
            *last = Some(std::time::Instant::now());
        }
        stats.layout_refreshes += 1;
        match source.fetch().await {
            Ok((schema, rate)) if schema.len() != self.schema().len() || schema.names().ne(self.schema().names()) => {
                tracing::info!(fields = schema.len(), "records stopped matching the layout; refreshed it");
                let rate = self.options.sampling_override.or(rate);
                self.processor.lock().unwrap().set_layout(schema, rate);
                if let Some(out) = output.as_deref_mut() {
                    out.clear();
                }
                bad.clear();
                let mut kept = Verdicts::default();
                let full = self.run_keeping(shard, records, output, bad, &mut kept);
                Parsed { records, first, full, kept }
            }
            Ok(_) => {
                tracing::warn!(mismatches = full.field_count_mismatches, "layout refresh found no change; lines counted as bad");
                parsed(full)
            }
            Err(e) => {
                tracing::warn!(error = %e, "layout refresh failed; lines counted as bad");
                parsed(full)
            }
        }
    }

    pub(crate) fn run_sync(&self, shard: &str, records: &[InRecord], output: Option<&mut OutBatch>, bad: &mut Vec<BadLine>) -> Aggregate {
        let mut p = self.processor.lock().unwrap();
        p.run(shard, records, output, self.options.forward_bad_lines, bad)
    }

    fn run_keeping(&self, shard: &str, records: &[InRecord], output: Option<&mut OutBatch>, bad: &mut Vec<BadLine>, kept: &mut Verdicts) -> Aggregate {
        let mut p = self.processor.lock().unwrap();
        p.run_keeping(shard, records, output, self.options.forward_bad_lines, bad, kept)
    }

    /// The aggregate of `range` (indexes into the shard's records): the parse's own when
    /// the range is all it parsed, else the range aggregated again from its lines with the
    /// rules' kept verdicts (halving a range never calls the rules again).
    fn aggregate_for<'a>(&self, shard: &str, parsed: &'a Parsed<'_>, range: &Range<usize>) -> std::borrow::Cow<'a, Aggregate> {
        let whole = parsed.first..parsed.first + parsed.records.len();
        if *range == whole {
            return std::borrow::Cow::Borrowed(&parsed.full);
        }
        let local = range.start - parsed.first..range.end - parsed.first;
        std::borrow::Cow::Owned(self.processor.lock().unwrap().aggregate_again(shard, parsed.records, local, &parsed.kept))
    }

    /// How many of `padded` (from the start) `which` has already applied: the records its
    /// marker chain from the first record covers.
    async fn applied_prefix(&self, state: &S, shard: &str, which: Progress, padded: &PaddedSeqs) -> Result<usize, SinkError> {
        let policy = self.options.retry;
        let mut p = 0;
        while p < padded.len() {
            let first = &padded[p];
            match policy.run("markers", || state.marker(shard, which, first)).await? {
                Some(last) => p += padded.count_up_to(p, &last).max(1),
                None => break,
            }
        }
        Ok(p)
    }

    /// Returns the index of the first record that must be re-delivered, if any.
    async fn process_shard(&self, shard: &str, records: &[InRecord], stats: &mut InvocationStats, found: &mut crate::waf_run::Found) -> Option<usize> {
        let n = records.len();
        if n == 0 {
            return None;
        }
        let policy = self.options.retry;
        let padded = PaddedSeqs::new(records.iter().map(|r| r.seq.as_str()));
        let enabled = |which: Progress| match which {
            Progress::Rollups => self.state.is_some(),
            Progress::Metrics => self.metrics.is_some(),
            Progress::Records => self.records.is_some(),
        };
        // 1. Where each sink stands.
        let mut start = [0usize; 3];
        if let Some(state) = &self.state {
            let padded = &padded;
            let walk = |which: Progress| async move {
                if enabled(which) { self.applied_prefix(state, shard, which, padded).await } else { Ok(n) }
            };
            let (a, b, c) = tokio::join!(walk(Progress::Rollups), walk(Progress::Metrics), walk(Progress::Records));
            for (slot, result) in start.iter_mut().zip([a, b, c]) {
                match result {
                    Ok(p) => *slot = p,
                    Err(e) => {
                        tracing::error!(shard, error = %e, first_seq = %records[0].seq, last_seq = %records[n - 1].seq, "cannot read progress markers; the whole batch will be retried");
                        return Some(0);
                    }
                }
            }
        } else {
            for which in Progress::ALL {
                start[which as usize] = if enabled(which) { 0 } else { n };
            }
        }
        let [start_rollups, start_metrics, start_records] = start;
        let first_needed = start.iter().copied().min().unwrap_or(n);
        stats.skipped += first_needed;
        if first_needed == n {
            return None;
        }

        // Parse everything from the first record any sink needs.
        self.refresh_config_if_due(stats).await;
        let mut output = OutBatch::new();
        let mut bad = Vec::new();
        let want_output = self.records.is_some() && start_records < n;
        let parsed = self
            .run_processor(shard, &records[first_needed..], first_needed, want_output.then_some(&mut output), &mut bad, stats)
            .await;
        stats.bad_lines += parsed.full.bad_lines;
        for b in bad.iter().take(10) {
            tracing::warn!(shard, seq = %records[first_needed + b.source_index].seq, reason = %b.reason, "bad line");
        }
        if let Some(waf) = &self.waf {
            let clients_of = |ips: &[std::net::IpAddr], bots: bool| self.processor.lock().unwrap().clients_of(&records[first_needed..], ips, bots);
            found.add(waf, &parsed.full, &self.options.suspect, self.clock.now_ms(), clients_of);
        }

        // 2. Records.
        let mut k = n;
        if let Some(sink) = &self.records
            && start_records < n
        {
            // Borrowed from the batch's buffer and the source records: nothing copied.
            let pending: Vec<OutRecord<'_>> = output
                .iter()
                .filter(|o| first_needed + o.source_index >= start_records)
                .map(|o| {
                    let source_index = first_needed + o.source_index;
                    OutRecord { source_index, partition_key: &records[source_index].seq, data: o.data }
                })
                .collect();
            let failed = deliver_records(sink, &pending, &policy).await;
            stats.delivered += pending.len() - failed.len();
            if let Some(first) = failed.iter().map(|(i, _)| pending[*i].source_index).min() {
                tracing::error!(shard, failed = failed.len(), first_error = %failed[0].1, first_seq = %records[first].seq, last_seq = %records[n - 1].seq, "records still undelivered after retries");
                k = first;
            }
            if let Some(state) = &self.state
                && k > start_records
            {
                self.mark(state, shard, Progress::Records, &padded, start_records, k).await;
            }
        }

        // 3. Rollups and metrics for the records before k, concurrently.
        let parsed = &parsed;
        let rollups = async {
            let Some(state) = &self.state else { return (n, 0) };
            if start_rollups >= k {
                return (start_rollups.max(k), 0);
            }
            self.apply_rollups(state, shard, records, &padded, start_rollups..k, parsed).await
        };
        let metrics = async {
            let Some(sink) = &self.metrics else { return (n, 0, 0) };
            if start_metrics >= k {
                return (start_metrics.max(k), 0, 0);
            }
            self.publish_metrics(sink, shard, records, &padded, start_metrics..k, parsed).await
        };
        let ((rollups_end, rollup_items), (metrics_end, datums, late)) = tokio::join!(rollups, metrics);
        stats.rollup_items += rollup_items;
        stats.metric_datums += datums;
        stats.late_records += late;
        let records_end = if self.records.is_some() { k.max(start_records) } else { n };
        let f = records_end.min(rollups_end).min(metrics_end);
        if f == n {
            return None;
        }

        // 4. Sinks that got further than f say so from f, where the retry starts.
        if let Some(state) = &self.state {
            for (which, end) in [(Progress::Records, records_end), (Progress::Rollups, rollups_end), (Progress::Metrics, metrics_end)] {
                if enabled(which) && end > f {
                    self.mark(state, shard, which, &padded, f, end).await;
                }
            }
        }
        Some(f)
    }

    /// Writes the marker of `which` for `range` (`padded` indexes). A conflict means a
    /// marker from the same record exists (written by this lineage before), which covers
    /// the same records; a failure is logged, because the retry will repeat the range.
    async fn mark(&self, state: &S, shard: &str, which: Progress, padded: &PaddedSeqs, from: usize, to: usize) {
        let (first, last) = (&padded[from], &padded[to - 1]);
        match self.options.retry.run("markers", || state.mark(shard, which, first, last)).await {
            Ok(_) => {}
            Err(e) => tracing::error!(
                shard,
                sink = which.as_str(),
                error = %e,
                first_seq = first.trim_start_matches('0'),
                last_seq = last.trim_start_matches('0'),
                "progress marker not saved; a retry will apply this range again"
            ),
        }
    }

    /// Applies rollups for `range`, halving it while one transaction cannot hold it.
    /// Returns the first index not applied (`range.end` when all were) and the items written.
    async fn apply_rollups<'a>(
        &'a self,
        state: &'a S,
        shard: &'a str,
        records: &'a [InRecord],
        padded: &'a PaddedSeqs,
        range: Range<usize>,
        parsed: &'a Parsed<'a>,
    ) -> (usize, usize) {
        let policy = self.options.retry;
        let mut items = 0;
        let mut todo = vec![range.clone()];
        while let Some(r) = todo.pop() {
            let agg = self.aggregate_for(shard, parsed, &r);
            let rollups = agg.rollups();
            // Two items of every transaction are the marker and the shard's counters.
            if rollups.len() > limits::TRANSACT_MAX_ITEMS - 2 && r.len() > 1 {
                halve(&mut todo, &r);
                continue;
            }
            let (first, last) = (&padded[r.start], &padded[r.end - 1]);
            let result = policy.run("rollups", || state.apply_rollups(shard, &rollups, agg.bad_lines, first, last)).await;
            match result {
                Ok(Applied::Yes) => items += rollups.len(),
                Ok(Applied::Conflict) => {
                    tracing::warn!(shard, first_seq = %records[r.start].seq, "rollups from this record were applied by another invocation; the retry will skip them");
                    return (r.start, items);
                }
                Err(e) => {
                    tracing::error!(shard, error = %e, permanent = !e.is_transient(), first_seq = %records[r.start].seq, last_seq = %records[range.end - 1].seq, "rollups not applied");
                    return (r.start, items);
                }
            }
        }
        (range.end, items)
    }

    /// Publishes metrics for `range`, halving it while one call cannot hold it. Returns
    /// the first index not published, the datums sent and the records left out as late.
    async fn publish_metrics<'a>(
        &'a self,
        sink: &'a M,
        shard: &'a str,
        records: &'a [InRecord],
        padded: &'a PaddedSeqs,
        range: Range<usize>,
        parsed: &'a Parsed<'a>,
    ) -> (usize, usize, u64) {
        let policy = self.options.retry;
        let now_ms = self.clock.now_ms();
        let mut sent = 0;
        let mut late = 0;
        let mut todo = vec![range.clone()];
        while let Some(r) = todo.pop() {
            let agg = self.aggregate_for(shard, parsed, &r);
            let metrics = metrics_with(&agg, now_ms, &self.options.suspect);
            let datums = split_values(metrics.datums, sink.max_values());
            let bytes: usize = datums.iter().map(MetricDatum::approx_bytes).sum();
            if (datums.len() > limits::PUT_METRIC_DATA_MAX_DATUMS || bytes > limits::PUT_METRIC_DATA_MAX_BYTES) && r.len() > 1 {
                halve(&mut todo, &r);
                continue;
            }
            if metrics.late_records > 0 {
                tracing::warn!(shard, late_records = metrics.late_records, "records too old or too far ahead for CloudWatch: in the rollups, not in the metrics");
            }
            // A single record cannot exceed the limits by much; chunk as a last resort.
            for chunk in chunk_datums(&datums) {
                if let Err(e) = policy.run("metrics", || sink.put(&datums[chunk.clone()])).await {
                    tracing::error!(shard, error = %e, permanent = !e.is_transient(), first_seq = %records[r.start].seq, last_seq = %records[range.end - 1].seq, "metrics not published");
                    return (r.start, sent, late);
                }
                sent += chunk.len();
            }
            late += metrics.late_records;
            if let Some(state) = &self.state {
                let (first, last) = (&padded[r.start], &padded[r.end - 1]);
                match policy.run("markers", || state.mark(shard, Progress::Metrics, first, last)).await {
                    Ok(Applied::Yes) => {}
                    Ok(Applied::Conflict) => {
                        // Only a concurrent invocation of the same records (a timed-out one
                        // still running) can do this; what we published stays published.
                        tracing::warn!(shard, first_seq = %records[r.start].seq, "metrics from this record were published by another invocation too");
                    }
                    Err(e) => {
                        // Published but not recorded: a retry would publish again. Report
                        // the rest of the batch only, the smallest possible repeat.
                        tracing::error!(shard, error = %e, first_seq = %records[r.start].seq, last_seq = %records[r.end - 1].seq, "metrics marker not saved");
                        return (r.end, sent, late);
                    }
                }
            }
        }
        (range.end, sent, late)
    }
}

/// Queues the two halves of `r`, the first half to be taken next (a range too large for
/// one transaction or one call is applied in order, half by half).
fn halve(todo: &mut Vec<Range<usize>>, r: &Range<usize>) {
    let mid = r.start + r.len() / 2;
    todo.push(mid..r.end);
    todo.push(r.start..mid);
}

