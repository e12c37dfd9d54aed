//! The handler over in-memory sinks: per-entry retries, layout refresh, progress markers
//! (also under concurrent batches of one shard), sampling, late records, metric shapes,
//! typed errors, Firehose. (Against real AWS APIs see `moto_e2e.rs`; the compiled
//! `bootstrap` under a Runtime API emulator is `bootstrap.rs`.)

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::handler::{Handler, HandlerOptions, KinesisEvent};
use cflog_lambda::cloudwatch::metrics_of;
use cflog_lambda::ports::{LayoutSource, RecordSink, SinkError};
use cflog_lambda::process::{ExtraDimensions, OutRecord, Processor};
use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};
use cflog_lambda::sinks::{RetryPolicy, deliver_records};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Generated lines starting `ago_ms` before now.
fn gen_lines_at(n: u64, fields: usize, start_ms: i64) -> Vec<Vec<u8>> {
    let opts = cflog_gen::GenOptions {
        lines: n,
        seed: 5,
        schema: Some(Schema::realtime_release(fields).unwrap()),
        requests_per_second: 2.0,
        start_ms,
        ..Default::default()
    };
    let mut buf = Vec::new();
    cflog_gen::generate(&opts, &mut buf).unwrap();
    buf.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

/// Generated lines of the last hour (CloudWatch takes their timestamps).
fn gen_lines(n: u64, fields: usize) -> Vec<Vec<u8>> {
    gen_lines_at(n, fields, now_ms() - 3_600_000)
}

fn event(lines: &[Vec<u8>]) -> KinesisEvent {
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({
                "eventID": format!("shardId-000000000000:{}", 1000 + i),
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/cf",
                "kinesis": { "sequenceNumber": (1000 + i).to_string(), "data": b64.encode(l), "partitionKey": "k" }
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

type MemHandler = Handler<MemoryMetrics, MemoryRecords, MemoryState>;

fn handler(schema: Schema, layout: Option<Arc<dyn LayoutSource>>) -> MemHandler {
    let p = Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default());
    let options = HandlerOptions { retry: RetryPolicy { base_delay: std::time::Duration::from_millis(1), ..Default::default() }, ..Default::default() };
    Handler::new(p, Some(MemoryMetrics::default()), Some(MemoryRecords::default()), Some(MemoryState::default()), layout, options)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Fails every odd entry on the first call; records what each call carried.
#[derive(Default)]
struct Flaky {
    calls: Mutex<Vec<Vec<String>>>,
}

impl RecordSink for Flaky {
    async fn put(&self, records: &[OutRecord<'_>]) -> Result<Vec<Option<String>>, SinkError> {
        let mut calls = self.calls.lock().unwrap();
        let first = calls.is_empty();
        calls.push(records.iter().map(|r| r.partition_key.to_string()).collect());
        Ok((0..records.len()).map(|i| (first && i % 2 == 1).then(|| "ProvisionedThroughputExceededException".to_string())).collect())
    }
}

#[test]
fn only_failed_entries_are_resent() {
    let keys: Vec<String> = (0..6).map(|i| i.to_string()).collect();
    let records: Vec<OutRecord> = (0..6).map(|i| OutRecord { source_index: i, partition_key: &keys[i], data: b"{}\n" }).collect();
    let sink = Flaky::default();
    let policy = RetryPolicy { base_delay: std::time::Duration::from_millis(1), ..Default::default() };
    let failed = rt().block_on(deliver_records(&sink, &records, &policy));
    assert!(failed.is_empty());
    let calls = sink.calls.lock().unwrap();
    assert_eq!(*calls, vec![vec!["0", "1", "2", "3", "4", "5"], vec!["1", "3", "5"]]);
}

/// The records a handler hands its sink are the processor's lines, borrowed from the
/// batch buffer, each with its source record's sequence number as partition key (what
/// each `OutRecord` carried as its own copies before), in order, every line once.
#[test]
fn delivered_records_are_the_processor_lines_keyed_by_source_sequence_number() {
    let mut lines = gen_lines(30, 46);
    lines[7] = b"garbage\n".to_vec();
    let options = HandlerOptions { forward_bad_lines: true, ..Default::default() };
    let p = Processor::new(Schema::realtime_release(46).unwrap(), SummaryOptions::default(), ExtraDimensions::default());
    let h: MemHandler = Handler::new(p, None, Some(MemoryRecords::default()), None, None, options);
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((stats.delivered, stats.bad_lines), (30, 1));
    let records: Vec<cflog_lambda::process::InRecord> =
        lines.iter().enumerate().map(|(i, l)| cflog_lambda::process::InRecord { seq: (1000 + i).to_string(), data: Ok(l.clone()) }).collect();
    let mut want = cflog_lambda::process::OutBatch::new();
    let mut p = Processor::new(Schema::realtime_release(46).unwrap(), SummaryOptions::default(), ExtraDimensions::default());
    p.run("arn:aws:kinesis:us-east-1:123456789012:stream/cf#shardId-000000000000", &records, Some(&mut want), true, &mut Vec::new());
    let got = h.records.as_ref().unwrap().records.lock().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want.iter()) {
        assert_eq!((g.source_index, g.data), (w.source_index, w.data));
        assert_eq!(g.partition_key, (1000 + w.source_index).to_string());
    }
    assert!(std::str::from_utf8(got.get(7).unwrap().data).unwrap().contains("\"line\":\"garbage\""));
}

/// Records of two shards interleaved in one event are handled per shard (`{arn}#{shard}`),
/// each shard's records in their order: the markers name both shards, and the output holds
/// the first shard's records, then the second's.
#[test]
fn interleaved_shards_are_grouped_by_arn_and_shard() {
    let lines = gen_lines(6, 46);
    let mut ev = event(&lines);
    for (i, r) in ev.records.iter_mut().enumerate() {
        r.event_id = Some(format!("shardId-00000000000{}:{}", i % 2, 1000 + i).as_str().into());
    }
    let h = handler(Schema::realtime_release(46).unwrap(), None);
    let (resp, stats) = rt().block_on(h.handle_kinesis(ev));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(stats.delivered, 6);
    let got = h.records.as_ref().unwrap().records.lock().unwrap();
    let keys: Vec<&str> = got.iter().map(|r| r.partition_key).collect();
    assert_eq!(keys, ["1000", "1002", "1004", "1001", "1003", "1005"]);
    let markers = h.state.as_ref().unwrap().markers.lock().unwrap();
    let shards: std::collections::BTreeSet<&str> = markers.keys().map(|(shard, _, _)| shard.as_str()).collect();
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/cf";
    assert_eq!(shards, [format!("{arn}#shardId-000000000000"), format!("{arn}#shardId-000000000001")].iter().map(String::as_str).collect());
}

proptest::proptest! {
    /// `pad_seq` pads as `format!("{seq:0>64}")` does (its first implementation): zeros
    /// up to 64 characters, longer text as it is, non-ASCII counted in characters.
    #[test]
    fn pad_seq_pads_as_format_does(seq in "[0-9]{0,70}|\\PC{0,70}") {
        proptest::prop_assert_eq!(cflog_lambda::handler::pad_seq(&seq), format!("{seq:0>64}"));
    }
}

#[test]
fn record_chunks_respect_put_records_limits() {
    let small: Vec<OutRecord> = (0..1201).map(|i| OutRecord { source_index: i, partition_key: "k", data: &[b'x'; 10] }).collect();
    let ranges = cflog_lambda::sinks::record_chunks(&small);
    assert_eq!(ranges, vec![0..500, 500..1000, 1000..1201]);
    // 6 records of 1 MiB - 1 byte (with a 1-byte key): 5 fit in 5 MiB, the sixth does not.
    let mib = vec![b'x'; 1024 * 1024 - 1];
    let big: Vec<OutRecord> = (0..6).map(|i| OutRecord { source_index: i, partition_key: "k", data: &mib }).collect();
    assert_eq!(cflog_lambda::sinks::record_chunks(&big), vec![0..5, 5..6]);
}

struct FixedLayout {
    fields: usize,
    calls: AtomicU32,
}

impl LayoutSource for FixedLayout {
    fn fetch(&self) -> cflog_lambda::ports::LayoutFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let schema = Schema::realtime_release(self.fields).unwrap();
        Box::pin(async move { Ok((schema, Some(50))) })
    }
}

#[test]
fn layout_refreshes_once_when_field_count_changes() {
    let lines = gen_lines(40, 46);
    let source = Arc::new(FixedLayout { fields: 46, calls: AtomicU32::new(0) });
    let h = handler(Schema::realtime_release(40).unwrap(), Some(source.clone()));
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(stats.layout_refreshes, 1);
    assert_eq!(stats.bad_lines, 0);
    assert_eq!(h.schema().len(), 46);
    assert_eq!(h.records.as_ref().unwrap().records.lock().unwrap().len(), 40);
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);

    // The config did not change: the lines are bad, counted, and the batch succeeds.
    let source = Arc::new(FixedLayout { fields: 40, calls: AtomicU32::new(0) });
    let h = handler(Schema::realtime_release(40).unwrap(), Some(source.clone()));
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((stats.layout_refreshes, stats.bad_lines), (1, 40));
    let state = h.state.as_ref().unwrap();
    assert_eq!(*state.bad_lines.lock().unwrap().values().next().unwrap(), 40, "bad lines counted on the shard");
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap();
    let parse_errors: Vec<_> = datums.iter().filter(|d| d.name == "ParseErrors").collect();
    assert_eq!(parse_errors.len(), 1);
    assert_eq!(parse_errors[0].values, vec![40.0]);
    drop(datums);
    // The next batch of mismatching lines does not read the config again (rate limit).
    let mut more = event(&lines);
    for (i, r) in more.records.iter_mut().enumerate() {
        r.kinesis.sequence_number = (5000 + i).to_string();
    }
    let (resp, stats) = rt().block_on(h.handle_kinesis(more));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((stats.layout_refreshes, stats.bad_lines), (0, 40));
    assert_eq!(source.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn same_event_twice_counts_once_and_failed_metrics_are_retried_alone() {
    let lines = gen_lines(300, 46);
    let h = handler(Schema::realtime_release(46).unwrap(), None);
    *h.metrics.as_ref().unwrap().fail_next.lock().unwrap() = 100;
    let (resp, _) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert_eq!(resp.batch_item_failures.len(), 1);
    assert_eq!(resp.batch_item_failures[0].item_identifier, "1000");
    let rollups_after_first: u64 = h.state.as_ref().unwrap().rollups.lock().unwrap().values().map(|r| r.records).sum();
    assert_eq!(rollups_after_first, 300);

    *h.metrics.as_ref().unwrap().fail_next.lock().unwrap() = 0;
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((stats.delivered, stats.rollup_items), (0, 0));
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(stats.skipped, 300);
    let rollups: u64 = h.state.as_ref().unwrap().rollups.lock().unwrap().values().map(|r| r.records).sum();
    assert_eq!(rollups, 300);
    let requests: f64 =
        h.metrics.as_ref().unwrap().datums.lock().unwrap().iter().filter(|d| d.name == "Requests").map(|d| d.values[0]).sum();
    assert_eq!(requests, 300.0);
    assert_eq!(h.records.as_ref().unwrap().records.lock().unwrap().len(), 300);
}

#[test]
fn metric_shapes() {
    let lines = gen_lines(500, 46);
    let mut p = Processor::new(Schema::realtime_release(46).unwrap(), SummaryOptions::default(), ExtraDimensions {
        edge_location: true,
        country: false,
        cap: 3,
        behaviors: 0,
    });
    let records: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| cflog_lambda::process::InRecord { seq: i.to_string(), data: Ok(l.clone()) })
        .collect();
    let agg = p.run("s", &records, None, false, &mut Vec::new());
    let total = agg.total(SummaryOptions::default());
    let datums = metrics_of(&agg, now_ms()).datums;
    let by = |name: &'static str, dims: usize| datums.iter().filter(move |d| d.name == name && d.dimensions.len() == dims);
    // Requests per distribution and window add up to every record.
    assert_eq!(by("Requests", 1).map(|d| d.values[0]).sum::<f64>(), 500.0);
    // Latency: Values/Counts whose counts add up to the records with a time-taken.
    let latency_count: f64 = by("Latency", 1).flat_map(|d| d.counts.iter()).sum();
    assert_eq!(latency_count as u64, total.latency.time_taken.count());
    assert!(by("Latency", 1).all(|d| d.values.len() == d.counts.len()));
    // 4xx rate: value 100 weighted by the 4xx count.
    let n4xx: f64 = by("4xxErrorRate", 1).map(|d| d.values.iter().zip(&d.counts).map(|(v, c)| v * c).sum::<f64>() / 100.0).sum();
    assert_eq!(n4xx as u64, total.status_class[4]);
    // Edge dimension capped at 3 values plus Other per distribution.
    let mut edges: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for d in by("Requests", 2) {
        edges.entry(d.dimensions[0].1.as_str()).or_default().insert(d.dimensions[1].1.as_str());
    }
    assert!(edges.len() > 1);
    for (dist, e) in &edges {
        assert!(e.len() <= 4, "{dist}: {e:?}");
    }
    assert!(edges.values().any(|e| e.contains("Other")));
    assert_eq!(by("Requests", 2).map(|d| d.values[0]).sum::<f64>(), 500.0);
}

/// The deployed summary options (`runtime::summary_options`: windows only) give the same
/// metrics, rollups, suspects and bad lines as the same options computing the whole run
/// too, on generated lines with broken values among them (with `anonymize_ip` and without).
#[test]
fn deployed_windows_only_summaries_give_what_full_ones_give() {
    let schema = Schema::realtime_release(46).unwrap();
    let mut lines = gen_lines(600, 46);
    let column = |name: &str| schema.columns().iter().position(|c| c.name == name).unwrap();
    for (i, name, bad) in [(5, "time-taken", "1.2.3"), (50, "sc-status", "99"), (100, "c-ip", "1.2.3.999"), (150, "time-to-first-byte", "x")] {
        let text = String::from_utf8(lines[i].clone()).unwrap();
        let mut cols: Vec<&str> = text.trim_end().split('\t').collect();
        cols[column(name)] = bad;
        lines[i] = format!("{}\n", cols.join("\t")).into_bytes();
    }
    let records: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| cflog_lambda::process::InRecord { seq: i.to_string(), data: Ok(l.clone()) })
        .collect();
    let now = now_ms();
    for anonymize_ip in [false, true] {
        let deployed = cflog_lambda::runtime::summary_options(60_000, Some(50), anonymize_ip);
        assert!(deployed.windows_only && deployed.fixed_windows);
        let run = |options: SummaryOptions| {
            let dims = ExtraDimensions { edge_location: true, country: true, cap: 3, behaviors: 2 };
            let mut bad = Vec::new();
            let agg = Processor::new(schema.clone(), options, dims).run("s", &records, None, false, &mut bad);
            let thresholds = cflog_core::suspicious::SuspectThresholds::default();
            let metrics = cflog_lambda::cloudwatch::metrics_with(&agg, now, &thresholds);
            let bad: Vec<String> = bad.iter().map(|b| format!("{} {}", b.source_index, b.reason)).collect();
            (format!("{:?}", metrics.datums), agg.rollups(), format!("{:?}", agg.suspects(&thresholds, 0)), agg.bad_lines, bad)
        };
        let windows = run(deployed);
        assert_eq!(windows.3, 4, "each broken line is bad");
        assert!(windows.0.contains("Latency") && windows.1.len() > 1);
        assert_eq!(windows, run(SummaryOptions { windows_only: false, ..deployed }), "anonymize_ip {anonymize_ip}");
    }
}

#[test]
fn emf_document_carries_histogram() {
    let emf = cflog_lambda::cloudwatch::EmfSink { namespace: "CloudFront/RealTime".into() };
    let d = cflog_lambda::ports::MetricDatum {
        name: "Latency",
        dimensions: vec![("Distribution", "d1.cloudfront.net".into())],
        timestamp_ms: 1_793_491_200_000,
        unit: cflog_lambda::ports::Unit::Milliseconds,
        values: vec![10.0, 20.0],
        counts: vec![3.0, 1.0],
    };
    let doc = emf.document(&d);
    assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Namespace"], "CloudFront/RealTime");
    assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0], "Distribution");
    assert_eq!(doc["Distribution"], "d1.cloudfront.net");
    assert_eq!(doc["Latency"]["Count"], 4.0);
    assert_eq!(doc["Latency"]["Sum"], 50.0);
    assert_eq!(doc["Latency"]["Max"], 20.0);
}

#[test]
fn names_are_listed_once() {
    let all = cflog_lambda::names::all_names();
    let mut seen = std::collections::HashSet::new();
    for (kind, name) in &all {
        assert!(seen.insert((kind, name)), "{kind} {name} listed twice");
    }
    let actions = cflog_lambda::names::aws_actions();
    assert!(actions.contains(&"cloudwatch:PutMetricData") && actions.contains(&"dynamodb:UpdateItem"));
    // Not an IAM action: IAM authorises each item of a transaction (UpdateItem here).
    assert!(!actions.contains(&"dynamodb:TransactWriteItems"));
}

/// A line's column, split naively (the oracle for the parser's numbers).
fn column(line: &[u8], schema: &Schema, name: &str) -> String {
    let i = schema.names().position(|n| n == name).unwrap();
    let text = std::str::from_utf8(line).unwrap().trim_end_matches('\n');
    text.split('\t').nth(i).unwrap().to_string()
}

fn bytes_of(lines: &[Vec<u8>], schema: &Schema) -> f64 {
    lines.iter().map(|l| column(l, schema, "sc-bytes").parse::<f64>().unwrap_or(0.0)).sum()
}

fn sum_of(datums: &[cflog_lambda::ports::MetricDatum], name: &str, dims: usize) -> f64 {
    datums.iter().filter(|d| d.name == name && d.dimensions.len() == dims).map(|d| d.values.iter().zip(&d.counts).map(|(v, c)| v * c).sum::<f64>()).sum()
}

/// An event of `lines[i]` for each of `indexes`, sequence number `1000 + i`.
fn event_of(lines: &[Vec<u8>], indexes: &[usize]) -> KinesisEvent {
    let all = event(lines);
    KinesisEvent { records: indexes.iter().map(|&i| all.records[i].clone()).collect() }
}

/// Fails, on every attempt, the entries whose source sequence number is in `failing`.
#[derive(Default)]
struct FailSeqs {
    failing: Mutex<std::collections::HashSet<String>>,
    delivered: Mutex<Vec<String>>,
}

impl RecordSink for FailSeqs {
    async fn put(&self, records: &[OutRecord<'_>]) -> Result<Vec<Option<String>>, SinkError> {
        tokio::task::yield_now().await;
        let failing = self.failing.lock().unwrap();
        let mut delivered = self.delivered.lock().unwrap();
        Ok(records
            .iter()
            .map(|r| {
                if failing.contains(r.partition_key) {
                    Some("InternalFailure: injected".to_string())
                } else {
                    delivered.push(r.partition_key.to_string());
                    None
                }
            })
            .collect())
    }
}

/// ParallelizationFactor > 1: Lambda runs two batches of one shard at once, their sequence
/// numbers interleaved (even and odd records), each retried from the record its answer
/// names, as Lambda does. Undelivered records and a metrics outage in the first round:
/// afterwards every record is in the rollups and the metrics exactly once, and on the
/// output stream at least once.
#[test]
fn concurrent_batches_of_one_shard_lose_nothing_and_count_once() {
    let schema = Schema::realtime_release(46).unwrap();
    let lines = gen_lines(400, 46);
    let p = Processor::new(schema.clone(), SummaryOptions::default(), ExtraDimensions::default());
    let options = HandlerOptions { retry: RetryPolicy { max_attempts: 3, base_delay: std::time::Duration::from_millis(1), ..Default::default() }, ..Default::default() };
    let h: Handler<MemoryMetrics, FailSeqs, MemoryState> =
        Handler::new(p, Some(MemoryMetrics::default()), Some(FailSeqs::default()), Some(MemoryState::default()), None, options);
    let seq = |i: usize| (1000 + i).to_string();
    // Round 1: the even batch cannot deliver record 100.
    h.records.as_ref().unwrap().failing.lock().unwrap().insert(seq(100));
    // Both batches' first metrics call fails on all 3 attempts (6 failures, any order).
    *h.metrics.as_ref().unwrap().fail_next.lock().unwrap() = 6;
    let mut pending: [Vec<usize>; 2] = [(0..400).step_by(2).collect(), (1..400).step_by(2).collect()];
    let mut rounds = 0;
    let mut retried = 0;
    while pending.iter().any(|p| !p.is_empty()) {
        rounds += 1;
        assert!(rounds <= 5, "batches keep failing");
        let (even, odd) = (event_of(&lines, &pending[0]), event_of(&lines, &pending[1]));
        let rt = rt();
        let ((r0, _), (r1, _)) = rt.block_on(async { tokio::join!(h.handle_kinesis(even), h.handle_kinesis(odd)) });
        for (sub, resp) in [(0, r0), (1, r1)] {
            pending[sub] = match resp.batch_item_failures.first() {
                Some(f) => {
                    retried += 1;
                    let from = pending[sub].iter().position(|&i| seq(i) == f.item_identifier).expect("a sequence number of this batch");
                    pending[sub][from..].to_vec()
                }
                None => Vec::new(),
            };
        }
        h.records.as_ref().unwrap().failing.lock().unwrap().clear();
    }
    assert!(retried >= 2, "both batches failed once ({retried})");
    let (records, bytes, _) = h.state.as_ref().unwrap().totals();
    assert_eq!(records, 400, "rollups: every record once");
    assert_eq!(bytes as f64, bytes_of(&lines, &schema));
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap().clone();
    assert_eq!(sum_of(&datums, "Requests", 1), 400.0, "metrics: every record once");
    assert_eq!(sum_of(&datums, "BytesDownloaded", 1), bytes_of(&lines, &schema));
    let delivered: std::collections::BTreeSet<String> = h.records.as_ref().unwrap().delivered.lock().unwrap().iter().cloned().collect();
    assert_eq!(delivered, (0..400).map(seq).collect(), "output: every record at least once");
}

/// Sampling: counts and bytes are estimates of all traffic (× 100 / rate), the logged
/// counts stay in the rollups, rates are not scaled; a rate change from a config refresh
/// applies from the records that carry it.
#[test]
fn sampling_scales_counts_and_bytes_not_rates() {
    let old = Schema::realtime_release(40).unwrap();
    let source = Arc::new(FixedLayout { fields: 46, calls: AtomicU32::new(0) });
    let options = SummaryOptions { sampling_rate: Some(10), ..SummaryOptions::default() };
    let p = Processor::new(old.clone(), options, ExtraDimensions::default());
    let h: MemHandler = Handler::new(
        p,
        Some(MemoryMetrics::default()),
        Some(MemoryRecords::default()),
        Some(MemoryState::default()),
        Some(source),
        HandlerOptions::default(),
    );
    let at_10 = gen_lines(100, 40);
    let (resp, _) = rt().block_on(h.handle_kinesis(event(&at_10)));
    assert!(resp.batch_item_failures.is_empty());
    let (records, bytes, est) = h.state.as_ref().unwrap().totals();
    assert_eq!((records, est), (100, 1000.0));
    assert_eq!(bytes as f64, bytes_of(&at_10, &old));
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap().clone();
    assert_eq!(sum_of(&datums, "Requests", 1), 1000.0);
    assert_eq!(sum_of(&datums, "BytesDownloaded", 1), 10.0 * bytes_of(&at_10, &old));
    // The 4xx rate is a rate: Values 100/0 weighted by logged counts.
    let n4xx = at_10.iter().filter(|l| column(l, &old, "sc-status").starts_with('4')).count() as f64;
    assert_eq!(sum_of(&datums, "4xxErrorRate", 1), 100.0 * n4xx);
    let weights: f64 = datums.iter().filter(|d| d.name == "4xxErrorRate").flat_map(|d| d.counts.iter()).sum();
    assert_eq!(weights, 100.0);
    // 404Rate likewise, from the lines' own sc-status (the generator answers some 404).
    let n404 = at_10.iter().filter(|l| column(l, &old, "sc-status") == "404").count() as f64;
    assert!(n404 > 0.0 && n404 < n4xx, "{n404} of {n4xx} 4xx");
    assert_eq!(sum_of(&datums, "404Rate", 1), 100.0 * n404);
    let weights: f64 = datums.iter().filter(|d| d.name == "404Rate").flat_map(|d| d.counts.iter()).sum();
    assert_eq!(weights, 100.0);

    // The config now has 46 fields and a 50 % rate: those records count double, the
    // earlier ones stay at × 10.
    let mut at_50 = event(&gen_lines(100, 46));
    for (i, r) in at_50.records.iter_mut().enumerate() {
        r.kinesis.sequence_number = (5000 + i).to_string();
    }
    let (resp, stats) = rt().block_on(h.handle_kinesis(at_50));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(stats.layout_refreshes, 1);
    let (records, _, est) = h.state.as_ref().unwrap().totals();
    assert_eq!((records, est), (200, 1200.0));
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap().clone();
    assert_eq!(sum_of(&datums, "Requests", 1), 1200.0);
    assert!(h.state.as_ref().unwrap().rollups.lock().unwrap().values().any(|r| r.sampling_rate == Some(50)));
}

/// Records CloudWatch would refuse (two weeks old, three hours ahead) are counted in
/// LateRecords, kept in the rollups, and never block the range.
#[test]
fn late_records_are_counted_kept_and_never_block() {
    let now = now_ms();
    let mut lines = gen_lines_at(50, 46, now - 14 * 86_400_000 - 60_000);
    lines.extend(gen_lines_at(50, 46, now + 3 * 3_600_000));
    lines.extend(gen_lines_at(50, 46, now - 3_600_000));
    let h = handler(Schema::realtime_release(46).unwrap(), None);
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(stats.late_records, 100);
    assert_eq!(h.state.as_ref().unwrap().totals().0, 150, "late records stay in the rollups");
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap().clone();
    assert_eq!(sum_of(&datums, "LateRecords", 1), 100.0);
    assert_eq!(sum_of(&datums, "Requests", 1), 50.0);
    let now_after = now_ms();
    for d in &datums {
        // The bounds CloudWatch documents: two weeks back, two hours ahead.
        assert!(d.timestamp_ms >= now_after - 14 * 86_400_000 && d.timestamp_ms <= now + 2 * 3_600_000, "{} at {}", d.name, d.timestamp_ms);
    }
}

/// The embedded metric format takes at most 100 values per metric; a minute of realistic
/// latencies has more distinct sketch buckets than that. Split, every document is valid
/// and the distribution keeps every bucket.
#[test]
fn emf_documents_stay_within_the_spec() {
    // Canonical real-time order: x-host-header comes before time-taken.
    let schema = Schema::from_field_names(&["timestamp", "time-taken", "x-host-header"]).unwrap();
    let ts = (now_ms() - 3_600_000) / 60_000 * 60_000;
    // 3,000 latencies from 1 ms to 30 s, log-spaced: hundreds of 1 % buckets.
    let records: Vec<_> = (0..3000)
        .map(|i| {
            let seconds = 0.001 * (30_000f64).powf(i as f64 / 2999.0);
            let line = format!("{}.{:03}\td1.cloudfront.net\t{seconds:.3}\n", ts / 1000, i % 1000);
            cflog_lambda::process::InRecord { seq: i.to_string(), data: Ok(line.into_bytes()) }
        })
        .collect();
    let mut p = Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default());
    let agg = p.run("s", &records, None, false, &mut Vec::new());
    let datums = metrics_of(&agg, now_ms()).datums;
    let latency = datums.iter().find(|d| d.name == "Latency").unwrap().clone();
    assert!(latency.values.len() > 150, "the test needs more buckets than any limit ({})", latency.values.len());
    let emf = cflog_lambda::cloudwatch::EmfSink { namespace: "CloudFront/RealTime".into() };
    use cflog_lambda::ports::MetricsSink as _;
    let split = cflog_lambda::cloudwatch::split_values(datums.clone(), emf.max_values());
    let mut counts = 0.0;
    let mut values = 0;
    for d in split.iter().filter(|d| d.name == "Latency") {
        let doc = emf.document(d);
        let metrics = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
        assert!(metrics.len() <= 100);
        let v = doc["Latency"]["Values"].as_array().unwrap();
        let c = doc["Latency"]["Counts"].as_array().unwrap();
        assert!(v.len() <= 100 && c.len() == v.len(), "{} values, {} counts", v.len(), c.len());
        assert_eq!(doc["_aws"]["Timestamp"], latency.timestamp_ms);
        counts += c.iter().map(|x| x.as_f64().unwrap()).sum::<f64>();
        values += v.len();
    }
    assert_eq!(counts, 3000.0, "every latency is in some document");
    assert_eq!(values, latency.values.len(), "no bucket merged away");
    // PutMetricData keeps its own limit.
    let cw = cflog_lambda::cloudwatch::split_values(datums, 150);
    assert!(cw.iter().all(|d| d.values.len() <= 150));
    assert_eq!(cw.iter().filter(|d| d.name == "Latency").count(), latency.values.len().div_ceil(150));
    // Anything longer is refused by the sink itself rather than silently dropped by CloudWatch.
    let err = rt().block_on(emf.put(std::slice::from_ref(&latency))).unwrap_err();
    assert!(!err.is_transient() && err.message.contains("100"), "{err}");
}

/// A metrics sink that always fails with the given kind, counting calls.
struct AlwaysFails {
    retry: cflog_lambda::ports::Retry,
    calls: AtomicU32,
}

impl cflog_lambda::ports::MetricsSink for AlwaysFails {
    async fn put(&self, _: &[cflog_lambda::ports::MetricDatum]) -> Result<(), SinkError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(SinkError { retry: self.retry, message: "InvalidParameterValue: injected".into() })
    }
}

/// A permanent error (validation, access denied, missing resource) is sent once; a
/// transient one is retried up to the attempts; either way the range is reported back.
#[test]
fn permanent_errors_are_not_retried() {
    use cflog_lambda::ports::Retry;
    let lines = gen_lines(20, 46);
    for (retry, calls) in [(Retry::Permanent, 1), (Retry::Transient, 4)] {
        let p = Processor::new(Schema::realtime_release(46).unwrap(), SummaryOptions::default(), ExtraDimensions::default());
        let options = HandlerOptions { retry: RetryPolicy { max_attempts: 4, base_delay: std::time::Duration::from_millis(1), ..Default::default() }, ..Default::default() };
        let h: Handler<AlwaysFails, MemoryRecords, MemoryState> = Handler::new(
            p,
            Some(AlwaysFails { retry, calls: AtomicU32::new(0) }),
            None,
            Some(MemoryState::default()),
            None,
            options,
        );
        let (resp, _) = rt().block_on(h.handle_kinesis(event(&lines)));
        assert_eq!(resp.batch_item_failures.len(), 1);
        assert_eq!(resp.batch_item_failures[0].item_identifier, "1000");
        assert_eq!(h.metrics.as_ref().unwrap().calls.load(Ordering::SeqCst), calls, "{retry:?}");
        // The rollups got further: their marker from the failed record makes the retry skip them.
        let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
        assert_eq!(resp.batch_item_failures.len(), 1);
        assert_eq!(stats.rollup_items, 0);
        assert_eq!(h.state.as_ref().unwrap().totals().0, 20);
    }
}

/// Records do not carry the sampling rate: a rate changed in the real-time log config (same
/// field list) reaches the estimates through the periodic config re-read.
#[test]
fn a_sampling_rate_change_applies_after_the_config_is_read_again() {
    let schema = Schema::realtime_release(46).unwrap();
    let source = Arc::new(FixedLayout { fields: 46, calls: AtomicU32::new(0) });
    let options = SummaryOptions { sampling_rate: Some(10), ..SummaryOptions::default() };
    let p = Processor::new(schema, options, ExtraDimensions::default());
    let lines = gen_lines(100, 46);
    // Not due yet: the cold start just read the config.
    let h: MemHandler = Handler::new(p, Some(MemoryMetrics::default()), None, Some(MemoryState::default()), Some(source.clone()), HandlerOptions::default());
    let (resp, _) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(source.calls.load(Ordering::SeqCst), 0);
    assert_eq!(h.state.as_ref().unwrap().totals().2, 1000.0, "× 10 at 10 %");
    // Due (interval 0): the config now says 50 %, applied from this batch on.
    let p = Processor::new(Schema::realtime_release(46).unwrap(), options, ExtraDimensions::default());
    let due = HandlerOptions { config_refresh: std::time::Duration::ZERO, ..HandlerOptions::default() };
    let h: MemHandler = Handler::new(p, Some(MemoryMetrics::default()), None, Some(MemoryState::default()), Some(source.clone()), due);
    let (resp, stats) = rt().block_on(h.handle_kinesis(event(&lines)));
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!((stats.layout_refreshes, source.calls.load(Ordering::SeqCst)), (1, 1));
    assert_eq!(h.state.as_ref().unwrap().totals().2, 200.0, "× 2 at 50 %");
    let datums = h.metrics.as_ref().unwrap().datums.lock().unwrap().clone();
    assert_eq!(sum_of(&datums, "Requests", 1), 200.0);
}

/// `sc-bytes` near `u64::MAX` (an unsigned integer to the grammar) saturates every byte
/// sum the handler keeps (windows, rollups, dimension counters) instead of wrapping to a
/// small number (release) or panicking (debug), with the deployed options and full ones.
#[test]
fn huge_byte_values_saturate_the_sums() {
    let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "sc-bytes", "x-edge-location", "cs-host"]).unwrap();
    let records: Vec<_> = (0..3)
        .map(|i| cflog_lambda::process::InRecord {
            seq: i.to_string(),
            data: Ok(format!("1793491200.{i:03}\t203.0.113.9\t200\t{}\tIAD89-C1\td1.cloudfront.net\n", u64::MAX).into_bytes()),
        })
        .collect();
    for windows_only in [true, false] {
        let options = SummaryOptions { windows_only, ..cflog_lambda::runtime::summary_options(60_000, None, false) };
        let dims = ExtraDimensions { edge_location: true, country: false, cap: 3, behaviors: 0 };
        let mut bad = Vec::new();
        let agg = Processor::new(schema.clone(), options, dims).run("s", &records, None, false, &mut bad);
        assert!(bad.is_empty(), "{bad:?}");
        let rollups = agg.rollups();
        assert_eq!(rollups.len(), 1);
        assert_eq!((rollups[0].records, rollups[0].bytes_sent), (3, u64::MAX), "windows_only {windows_only}");
        assert!(!agg.dimensions.is_empty());
        for c in agg.dimensions.values() {
            assert_eq!((c.records, c.bytes_sent), (3, u64::MAX));
        }
        let _ = cflog_lambda::cloudwatch::metrics_with(&agg, now_ms(), &cflog_core::suspicious::SuspectThresholds::default());
    }
}
