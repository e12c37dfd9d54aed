//! The handler over in-memory sinks: per-entry retries, layout refresh, checkpoints,
//! metric shapes. (Against real AWS APIs see `moto_e2e.rs`.)

use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::handler::{Handler, HandlerOptions, KinesisEvent, LayoutSource, metrics_of};
use cflog_lambda::process::{ExtraDimensions, OutRecord, Processor};
use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};
use cflog_lambda::sinks::{RecordSink, RetryPolicy, SinkError, deliver_records};

fn gen_lines(n: u64, fields: usize) -> Vec<Vec<u8>> {
    let opts = cflog_cli::GenOptions {
        lines: n,
        seed: 5,
        schema: Some(Schema::realtime_release(fields).unwrap()),
        requests_per_second: 2.0,
        ..Default::default()
    };
    let mut buf = Vec::new();
    cflog_cli::generate(&opts, &mut buf).unwrap();
    buf.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
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
    async fn put(&self, records: &[&OutRecord]) -> Result<Vec<Option<String>>, SinkError> {
        let mut calls = self.calls.lock().unwrap();
        let first = calls.is_empty();
        calls.push(records.iter().map(|r| r.partition_key.clone()).collect());
        Ok((0..records.len()).map(|i| (first && i % 2 == 1).then(|| "ProvisionedThroughputExceededException".to_string())).collect())
    }
}

#[test]
fn only_failed_entries_are_resent() {
    let records: Vec<OutRecord> =
        (0..6).map(|i| OutRecord { source_index: i, partition_key: i.to_string(), data: b"{}\n".to_vec() }).collect();
    let sink = Flaky::default();
    let policy = RetryPolicy { base_delay: std::time::Duration::from_millis(1), ..Default::default() };
    let failed = rt().block_on(deliver_records(&sink, &records, &policy));
    assert!(failed.is_empty());
    let calls = sink.calls.lock().unwrap();
    assert_eq!(*calls, vec![vec!["0", "1", "2", "3", "4", "5"], vec!["1", "3", "5"]]);
}

#[test]
fn record_chunks_respect_put_records_limits() {
    let small: Vec<OutRecord> = (0..1201).map(|i| OutRecord { source_index: i, partition_key: "k".into(), data: vec![b'x'; 10] }).collect();
    let ranges = cflog_lambda::sinks::record_chunks(&small);
    assert_eq!(ranges, vec![0..500, 500..1000, 1000..1201]);
    // 6 records of 1 MiB - 1 byte (with a 1-byte key): 5 fit in 5 MiB, the sixth does not.
    let big: Vec<OutRecord> =
        (0..6).map(|i| OutRecord { source_index: i, partition_key: "k".into(), data: vec![b'x'; 1024 * 1024 - 1] }).collect();
    assert_eq!(cflog_lambda::sinks::record_chunks(&big), vec![0..5, 5..6]);
}

struct FixedLayout {
    fields: usize,
    calls: AtomicU32,
}

impl LayoutSource for FixedLayout {
    fn fetch(&self) -> Pin<Box<dyn std::future::Future<Output = Result<(Schema, Option<u32>), SinkError>> + Send + '_>> {
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
    assert_eq!(state.checkpoints.lock().unwrap().values().next().unwrap().1, 40, "bad lines counted on the shard");
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
    });
    let records: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| cflog_lambda::process::InRecord { seq: i.to_string(), data: Ok(l.clone()) })
        .collect();
    let agg = p.run("s", &records, None, false, &mut Vec::new());
    let total = agg.total(SummaryOptions::default());
    let datums = metrics_of(&agg, 0);
    let by = |name: &'static str, dims: usize| datums.iter().filter(move |d| d.name == name && d.dimensions.len() == dims);
    // Requests per distribution and window add up to every record.
    assert_eq!(by("Requests", 1).map(|d| d.values[0]).sum::<f64>(), 500.0);
    // Latency: Values/Counts whose counts add up to the records with a time-taken.
    let latency_count: f64 = by("Latency", 1).flat_map(|d| d.counts.iter()).sum();
    assert_eq!(latency_count as u64, total.latency.time_taken.count());
    assert!(by("Latency", 1).all(|d| d.values.len() <= 150 && d.values.len() == d.counts.len()));
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

#[test]
fn emf_document_carries_histogram() {
    let emf = cflog_lambda::aws::EmfSink { namespace: "CloudFront/RealTime".into() };
    let d = cflog_lambda::sinks::MetricDatum {
        name: "Latency",
        dimensions: vec![("Distribution", "d1.cloudfront.net".into())],
        timestamp_ms: 1_793_491_200_000,
        unit: cflog_lambda::sinks::Unit::Milliseconds,
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
