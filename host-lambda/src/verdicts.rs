//! The enrichment rules' verdicts of one run, kept so a part of the run can be aggregated
//! again without calling the rules again. The handler needs that when a sink halves a
//! range too large for one call (a DynamoDB transaction, a PutMetricData request): the
//! halves are aggregated from their lines, and the rules' drops, tags and labels come from
//! here (`Replay`), not from a second rule call. Rules are wasm and may keep state, so
//! calling them twice would cost and could even answer differently.
//!
//! `Recording` wraps the rules during the run and copies each batch's verdicts out;
//! `Replay` hands them back, in the same order, to the record loop of a sub-range. Both
//! rely on the record loop's contract (`cflog_engine::worker::RecordLoop`): records are
//! pushed to the rules in line order, each batch starting with `clear`.

use std::ops::Range;

use cflog_core::Record;
use cflog_engine::worker::Rules;

/// What the rules said about each record of one run, in push order.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    /// Whether rules ran at all (a replay without rules gives records without tags).
    pub(crate) with_rules: bool,
    /// Per source record of the run, and one past the last: the index of its first verdict.
    pub(crate) first_of_record: Vec<usize>,
    dropped: Vec<bool>,
    tags: Vec<Range<usize>>,
    labels: Vec<Range<usize>>,
    tag_list: Vec<(String, String)>,
    label_list: Vec<(String, f64)>,
}

impl Verdicts {
    /// Forgets everything (a new run, with or without rules).
    pub(crate) fn reset(&mut self, with_rules: bool) {
        *self = Verdicts { with_rules, ..Verdicts::default() };
    }

    /// Verdicts kept.
    pub fn len(&self) -> usize {
        self.dropped.len()
    }

    /// Whether none were kept (no rules, or no record parsed).
    pub fn is_empty(&self) -> bool {
        self.dropped.is_empty()
    }

    fn keep(&mut self, rules: &dyn Rules, i: usize) {
        self.dropped.push(rules.dropped(i));
        let start = self.tag_list.len();
        rules.tags(i, &mut |k, v| self.tag_list.push((k.to_string(), v.to_string())));
        self.tags.push(start..self.tag_list.len());
        let start = self.label_list.len();
        rules.labels(i, &mut |k, v| self.label_list.push((k.to_string(), v)));
        self.labels.push(start..self.label_list.len());
    }
}

/// The rules of a run, with their verdicts copied into a [`Verdicts`] after each batch.
pub(crate) struct Recording<'a> {
    pub(crate) inner: &'a mut dyn Rules,
    pub(crate) kept: Verdicts,
    batch: usize,
}

impl<'a> Recording<'a> {
    pub(crate) fn new(inner: &'a mut dyn Rules) -> Self {
        let mut kept = Verdicts::default();
        kept.reset(true);
        Recording { inner, kept, batch: 0 }
    }
}

impl Rules for Recording<'_> {
    fn clear(&mut self) {
        self.inner.clear();
        self.batch = 0;
    }
    fn push(&mut self, record: &Record<'_>) {
        self.inner.push(record);
        self.batch += 1;
    }
    fn run(&mut self) {
        self.inner.run();
        for i in 0..self.batch {
            self.kept.keep(&*self.inner, i);
        }
    }
    fn dropped(&self, i: usize) -> bool {
        self.inner.dropped(i)
    }
    fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
        self.inner.tags(i, f)
    }
    fn labels(&self, i: usize, f: &mut dyn FnMut(&str, f64)) {
        self.inner.labels(i, f)
    }
}

/// Kept verdicts handed back to the record loop of a sub-range of the run, starting at
/// verdict `next`: no rule is called.
pub(crate) struct Replay<'a> {
    kept: &'a Verdicts,
    next: usize,
    batch_start: usize,
}

impl<'a> Replay<'a> {
    /// Replays from the first verdict of source record `first_record` of the run.
    pub(crate) fn from_record(kept: &'a Verdicts, first_record: usize) -> Self {
        let next = kept.first_of_record.get(first_record).copied().unwrap_or(kept.len());
        Replay { kept, next, batch_start: next }
    }

    /// Whether the run had rules.
    pub(crate) fn with_rules(&self) -> bool {
        self.kept.with_rules
    }

    /// The verdict index of record `i` of the current batch.
    fn at(&self, i: usize) -> usize {
        let v = self.batch_start + i;
        assert!(v < self.kept.len(), "replayed more records than the run kept verdicts for");
        v
    }
}

impl Rules for Replay<'_> {
    fn clear(&mut self) {
        self.batch_start = self.next;
    }
    fn push(&mut self, _record: &Record<'_>) {
        self.next += 1;
    }
    fn run(&mut self) {}
    fn dropped(&self, i: usize) -> bool {
        self.kept.dropped[self.at(i)]
    }
    fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in &self.kept.tag_list[self.kept.tags[self.at(i)].clone()] {
            f(k, v);
        }
    }
    fn labels(&self, i: usize, f: &mut dyn FnMut(&str, f64)) {
        for (k, v) in &self.kept.label_list[self.kept.labels[self.at(i)].clone()] {
            f(k, *v);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use base64::Engine as _;
    use cflog_core::summary::SummaryOptions;
    use cflog_core::{Field, Record, Schema};
    use cflog_engine::worker::Rules;

    use crate::handler::{Handler, HandlerOptions, KinesisEvent, KinesisEventRecord, KinesisPayload};
    use crate::ports::{Clock, Progress};
    use crate::process::{ExtraDimensions, Processor};
    use crate::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};

    /// Counts, per record (keyed by its timestamp), how often the rules saw it; drops 404s
    /// and tags the rest `class=<status / 100>xx`.
    #[derive(Default)]
    struct CountingRules {
        seen: Arc<Mutex<BTreeMap<String, u32>>>,
        batch: Vec<Option<u16>>,
    }

    impl Rules for CountingRules {
        fn clear(&mut self) {
            self.batch.clear();
        }
        fn push(&mut self, record: &Record<'_>) {
            let key = String::from_utf8_lossy(record.raw(Field::Timestamp).unwrap_or(b"-")).into_owned();
            *self.seen.lock().unwrap().entry(key).or_default() += 1;
            self.batch.push(record.status().ok().flatten());
        }
        fn run(&mut self) {}
        fn dropped(&self, i: usize) -> bool {
            self.batch[i] == Some(404)
        }
        fn tags(&self, i: usize, f: &mut dyn FnMut(&str, &str)) {
            if let Some(s) = self.batch[i] {
                f("class", &format!("{}xx", s / 100));
            }
        }
    }

    struct FixedClock(i64);

    impl Clock for FixedClock {
        fn now_ms(&self) -> i64 {
            self.0
        }
    }

    /// 250 records, each in its own minute: 250 rollup items (a transaction holds 98) and
    /// over 1,000 datums (a call holds 1,000), so both sinks halve the range. The rules
    /// still see every record exactly once, and the halves count what the rules said.
    #[test]
    fn halving_a_range_never_calls_the_rules_again() {
        let base_s: i64 = 1_793_491_200; // 2026-11-01T00:00:00Z
        let status = |i: i64| match i % 5 {
            0 => 404,
            1 => 503,
            _ => 200,
        };
        let lines: Vec<String> = (0..250).map(|i| format!("{}.000\t{}\td1.cloudfront.net\n", base_s + i * 60, status(i))).collect();
        let b64 = base64::engine::general_purpose::STANDARD;
        let event = KinesisEvent {
            records: lines
                .iter()
                .enumerate()
                .map(|(i, l)| KinesisEventRecord {
                    event_id: Some(format!("shardId-000000000000:{i}").as_str().into()),
                    event_source_arn: Some("arn:aws:kinesis:us-east-1:1:stream/s".into()),
                    event_source: Some("aws:kinesis".into()),
                    kinesis: KinesisPayload { sequence_number: format!("{}", 1000 + i), data: b64.encode(l), ..Default::default() },
                })
                .collect(),
        };
        // Expected values from the input lines, not from the code under test.
        let kept: Vec<&String> = lines.iter().filter(|l| !l.contains("\t404\t")).collect();
        let count_5xx = lines.iter().filter(|l| l.contains("\t503\t")).count() as f64;

        let seen = Arc::new(Mutex::new(BTreeMap::new()));
        let schema = Schema::from_field_names(&["timestamp", "sc-status", "x-host-header"]).unwrap();
        let options = SummaryOptions { fixed_windows: true, ..SummaryOptions::default() };
        let processor = Processor::new(schema, options, ExtraDimensions::default())
            .with_rules(Box::new(CountingRules { seen: seen.clone(), batch: Vec::new() }));
        let handler: Handler<MemoryMetrics, MemoryRecords, MemoryState> = Handler::new(
            processor,
            Some(MemoryMetrics::default()),
            None,
            Some(MemoryState::default()),
            None,
            HandlerOptions::default(),
        )
        .with_clock(Arc::new(FixedClock((base_s + 5 * 3600) * 1000)));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (response, stats) = rt.block_on(handler.handle_kinesis(event));
        assert!(response.batch_item_failures.is_empty());

        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), lines.len());
        assert!(seen.values().all(|&n| n == 1), "a record reached the rules more than once: {seen:?}");

        let state = handler.state.as_ref().unwrap();
        let transactions = state.markers.lock().unwrap().keys().filter(|(_, which, _)| *which == Progress::Rollups).count();
        assert!(transactions >= 3, "250 windows need at least three transactions of 98, got {transactions}");
        assert_eq!(state.totals().0, kept.len() as u64);
        assert_eq!(stats.rollup_items, kept.len());

        let datums = handler.metrics.as_ref().unwrap().datums.lock().unwrap();
        let tagged = |value: &str| -> f64 {
            datums
                .iter()
                .filter(|d| d.name == "TaggedRecords" && d.dimensions.iter().any(|(n, v)| *n == "TagValue" && v == value))
                .map(|d| d.values[0])
                .sum()
        };
        assert_eq!(tagged("5xx"), count_5xx);
        assert_eq!(tagged("4xx"), 0.0, "the 404s were dropped");
        let requests: f64 = datums.iter().filter(|d| d.name == "Requests").map(|d| d.values[0]).sum();
        assert_eq!(requests, kept.len() as f64);
    }
}
