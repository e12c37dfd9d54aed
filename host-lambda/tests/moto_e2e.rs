//! End to end against a real moto server: CloudFront-style lines go into a Kinesis stream,
//! the real handler runs on events built from GetRecords, and what lands in CloudWatch,
//! DynamoDB and the output stream must equal `cflog analyze` on the same lines; with
//! faults injected, nothing may be lost or counted twice.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use cflog_core::Schema;
use cflog_lambda::aws::{DynamoState, KinesisSink};
use cflog_lambda::cloudwatch::{AnyMetrics, CloudWatchSink};
use cflog_lambda::config::Config;
use cflog_lambda::handler::BatchResponse;
use cflog_lambda::runtime::{AwsHandler, build};
use common::*;

const NAMESPACE: &str = "CloudFront/RealTime";
const TABLE: &str = "cflog-rollups";

fn schema() -> Schema {
    Schema::realtime_release(46).unwrap()
}

/// Generated lines of the last hour (CloudWatch takes their timestamps) with garbage and
/// a truncated line mixed in.
fn lines(n: u64, seed: u64) -> Vec<Vec<u8>> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let opts = cflog_gen::GenOptions { lines: n, seed, requests_per_second: 4.0, start_ms: now - 3_600_000, ..Default::default() };
    let mut buf = Vec::new();
    cflog_gen::generate(&opts, &mut buf).unwrap();
    let mut out: Vec<Vec<u8>> = buf.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(out.len() as u64, n);
    out.insert(7, b"this is not a CloudFront log line\n".to_vec());
    let truncated = out[20][..300].to_vec();
    out.insert(21, truncated);
    out
}

/// `cflog analyze` on the same lines (the library behind `cflog analyze --json`).
fn analyze_lines(lines: &[Vec<u8>]) -> serde_json::Value {
    let summary = analyze_summary(lines, &schema());
    let mut report = summary.report(10);
    // Latency counts are not in the report; add the exact ones for comparison.
    report["time_taken_count"] = serde_json::json!(summary.latency.time_taken.count());
    report
}

fn config(url: &str, out_stream: &str) -> Config {
    let schema = schema();
    let fields: Vec<&str> = schema.names().collect::<Vec<_>>();
    let vars: HashMap<&str, String> = HashMap::from([
        ("CFLOG_FIELDS", fields.join(",")),
        ("CFLOG_TABLE", TABLE.to_string()),
        ("CFLOG_OUTPUT_STREAM", out_stream.to_string()),
        ("CFLOG_ENDPOINT_URL", url.to_string()),
        ("CFLOG_MAX_ATTEMPTS", "3".to_string()),
        ("CFLOG_BACKOFF_MS", "5".to_string()),
    ]);
    Config::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

struct Env {
    moto: Moto,
    sdk: SdkConfig,
    src_arn: String,
}

async fn setup(shards: i32, lines: &[Vec<u8>]) -> Env {
    let moto = start_moto().await;
    let sdk = sdk(&moto.url()).await;
    let src_arn = create_stream(&sdk, "cloudfront-realtime", shards).await;
    create_stream(&sdk, "cflog-enriched", 1).await;
    create_table(&sdk, TABLE).await;
    put_lines(&sdk, "cloudfront-realtime", lines).await;
    Env { moto, sdk, src_arn }
}

async fn handler(env: &Env) -> AwsHandler {
    build(&config(&env.moto.url(), "cflog-enriched"), &env.sdk).await.unwrap()
}

/// Source records grouped per shard, in order.
async fn source(env: &Env) -> BTreeMap<String, Vec<(String, String, Vec<u8>)>> {
    let mut by_shard: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for r in read_all(&env.sdk, "cloudfront-realtime").await {
        by_shard.entry(r.0.clone()).or_default().push(r);
    }
    by_shard
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    records: u64,
    bytes_sent: u64,
    s2xx: u64,
    s4xx: u64,
    s5xx: u64,
    cache_hits: u64,
    cache_misses: u64,
    time_taken_count: u64,
    bad_lines: u64,
    windows: BTreeMap<i64, u64>,
}

fn expected(report: &serde_json::Value) -> Totals {
    let u = |v: &serde_json::Value| v.as_u64().unwrap();
    let sc = &report["status_class"];
    let class = |k: &str| sc.get(k).and_then(|v| v.as_u64().or_else(|| v.get("count").and_then(|c| c.as_u64()))).unwrap_or(0);
    Totals {
        records: u(&report["records"]),
        bytes_sent: u(&report["bytes_sent"]),
        s2xx: class("2xx"),
        s4xx: class("4xx"),
        s5xx: class("5xx"),
        cache_hits: u(&report["cache"]["hits"]),
        cache_misses: u(&report["cache"]["misses"]),
        time_taken_count: u(&report["time_taken_count"]),
        bad_lines: u(&report["bad_lines"]),
        windows: report["windows"].as_array().unwrap().iter().map(|w| (w["start_ms"].as_i64().unwrap(), u(&w["records"]))).collect(),
    }
}

async fn dynamo_totals(sdk: &SdkConfig) -> Totals {
    let mut t = Totals::default();
    for item in scan(sdk, TABLE).await {
        let pk = item["pk"].as_s().unwrap();
        if pk.starts_with("shard#") {
            t.bad_lines += num(&item, "bad_lines");
            continue;
        }
        if pk.starts_with("mark#") {
            // Progress markers expire after the longest a batch can be retried (8 days).
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            assert!(num(&item, "expires_at") > now + 7 * 86_400, "marker TTL");
            assert!(item["last_seq"].as_s().is_ok(), "marker holds its last sequence number");
            continue;
        }
        assert!(pk.starts_with("dist#"), "unexpected item {pk}");
        assert!(num(&item, "expires_at") > num(&item, "window_start_ms") / 1000, "TTL set after the window");
        // No sampling rate configured: the estimates are the logged counts.
        assert_eq!(num(&item, "est_records"), num(&item, "records"));
        assert_eq!(num(&item, "est_bytes_sent"), num(&item, "bytes_sent"));
        t.records += num(&item, "records");
        t.bytes_sent += num(&item, "bytes_sent");
        t.s2xx += num(&item, "s2xx");
        t.s4xx += num(&item, "s4xx");
        t.s5xx += num(&item, "s5xx");
        t.cache_hits += num(&item, "cache_hits");
        t.cache_misses += num(&item, "cache_misses");
        t.time_taken_count += num(&item, "time_taken_count");
        *t.windows.entry(num(&item, "window_start_ms") as i64).or_default() += num(&item, "records");
    }
    t
}

async fn cw_stat(sdk: &SdkConfig, name: &str, dims: &[(&str, &str)], stat: Statistic, from_ms: i64, to_ms: i64) -> f64 {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let mut req = cw
        .get_metric_statistics()
        .namespace(NAMESPACE)
        .metric_name(name)
        .start_time(DateTime::from_millis(from_ms))
        .end_time(DateTime::from_millis(to_ms))
        .period(60)
        .statistics(stat.clone());
    for (n, v) in dims {
        req = req.dimensions(Dimension::builder().name(*n).value(*v).build());
    }
    let out = req.send().await.unwrap();
    out.datapoints()
        .iter()
        .map(|d| match stat {
            Statistic::Sum => d.sum().unwrap(),
            Statistic::SampleCount => d.sample_count().unwrap(),
            _ => unreachable!(),
        })
        .sum()
}

/// CloudWatch totals over every distribution, in the window of the data.
async fn cloudwatch_totals(sdk: &SdkConfig, from_ms: i64, to_ms: i64) -> Totals {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let listed = cw.list_metrics().namespace(NAMESPACE).metric_name("Requests").send().await.unwrap();
    let dists: HashSet<String> = listed
        .metrics()
        .iter()
        .filter(|m| m.dimensions().len() == 1)
        .map(|m| m.dimensions()[0].value().unwrap().to_string())
        .collect();
    let mut t = Totals::default();
    for d in &dists {
        let dims = [("Distribution", d.as_str())];
        t.records += cw_stat(sdk, "Requests", &dims, Statistic::Sum, from_ms, to_ms).await as u64;
        t.bytes_sent += cw_stat(sdk, "BytesDownloaded", &dims, Statistic::Sum, from_ms, to_ms).await as u64;
        // Rates are Values [100, 0] with Counts [n, rest]: Sum/100 is n, SampleCount the base.
        t.s4xx += (cw_stat(sdk, "4xxErrorRate", &dims, Statistic::Sum, from_ms, to_ms).await / 100.0).round() as u64;
        t.s5xx += (cw_stat(sdk, "5xxErrorRate", &dims, Statistic::Sum, from_ms, to_ms).await / 100.0).round() as u64;
        assert_eq!(
            cw_stat(sdk, "4xxErrorRate", &dims, Statistic::SampleCount, from_ms, to_ms).await as u64,
            cw_stat(sdk, "Requests", &dims, Statistic::Sum, from_ms, to_ms).await as u64,
            "4xx rate is weighted by every request"
        );
        t.cache_misses += (cw_stat(sdk, "CacheMissRate", &dims, Statistic::Sum, from_ms, to_ms).await / 100.0).round() as u64;
        let cacheable = cw_stat(sdk, "CacheMissRate", &dims, Statistic::SampleCount, from_ms, to_ms).await as u64;
        t.cache_hits += cacheable;
        t.time_taken_count += cw_stat(sdk, "Latency", &dims, Statistic::SampleCount, from_ms, to_ms).await as u64;
    }
    t.cache_hits -= t.cache_misses;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    t.bad_lines = cw_stat(sdk, "ParseErrors", &[], Statistic::Sum, now - 3_600_000, now + 3_600_000).await as u64;
    t
}

fn data_range(report: &serde_json::Value) -> (i64, i64) {
    (report["time"]["first_ms"].as_i64().unwrap() - 120_000, report["time"]["last_ms"].as_i64().unwrap() + 120_000)
}

fn cw_comparable(mut t: Totals) -> Totals {
    // CloudWatch carries no 2xx count and no windows; compare the rest.
    t.s2xx = 0;
    t.windows.clear();
    t
}

/// Output records: (count, distinct source sequence numbers), checking every line is typed JSON.
async fn output(sdk: &SdkConfig) -> (usize, HashSet<String>) {
    let out = read_all(sdk, "cflog-enriched").await;
    let mut seqs = HashSet::new();
    for (_, _, data) in &out {
        let v: serde_json::Value = serde_json::from_slice(data).unwrap();
        assert!(v["sc-status"].is_u64(), "typed status in {v}");
        assert!(v["_cflog"]["distribution"].is_string());
        // Sequence numbers are unique per shard (moto numbers each shard from the same base).
        seqs.insert(format!("{}/{}", v["_cflog"]["source"]["shard"].as_str().unwrap(), v["_cflog"]["source"]["seq"].as_str().unwrap()));
    }
    (out.len(), seqs)
}

fn ok(r: &BatchResponse) {
    assert!(r.batch_item_failures.is_empty(), "unexpected failures: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_equal_cflog_analyze_and_a_repeated_batch_changes_nothing() {
    let mut input = lines(1500, 11);
    let env = setup(2, &input).await;
    let h = handler(&env).await;
    let shards = source(&env).await;
    assert_eq!(shards.len(), 2);
    let mut first_event = None;
    for records in shards.values() {
        for chunk in records.chunks(300) {
            let mut event = kinesis_event(&env.src_arn, chunk);
            if first_event.is_none() {
                // One record whose data is not even base64: a bad line, not a failed batch.
                event.records[3].kinesis.data = "%%% not base64 %%%".into();
                first_event = Some(event.clone());
            }
            let (resp, stats) = h.handle_kinesis(event).await;
            ok(&resp);
            assert_eq!(stats.records, chunk.len());
        }
    }
    // The record whose data we broke no longer counts as a record but as a bad line.
    let (broken_shard, broken_seq) = {
        let e = first_event.as_ref().unwrap();
        (e.records[3].event_id.as_ref().unwrap().to_string(), e.records[3].kinesis.sequence_number.clone())
    };
    let broken_data = shards.values().flatten().find(|r| r.1 == broken_seq).unwrap().2.clone();
    let index = input.iter().position(|l| *l == broken_data).unwrap();
    input[index] = b"%%% not base64 %%%".to_vec();
    let report = analyze_lines(&input);
    let want = expected(&report);
    assert_eq!(want.bad_lines, 3, "garbage, truncated, undecodable: {broken_shard}");
    assert!(want.records > 1000 && want.windows.len() >= 5, "{want:?}");

    let got = dynamo_totals(&env.sdk).await;
    assert_eq!(got, want, "DynamoDB rollups equal cflog analyze");
    let (from, to) = data_range(&report);
    let cw = cloudwatch_totals(&env.sdk, from, to).await;
    assert_eq!(cw, cw_comparable(want.clone_for_cw()), "CloudWatch equals cflog analyze");
    let (count, seqs) = output(&env.sdk).await;
    assert_eq!(count as u64, want.records, "one enriched record per good line");
    assert_eq!(seqs.len(), count, "no duplicates");

    // Lambda re-delivers a batch that was fully applied (e.g. the function died before
    // answering): nothing may change.
    let (resp, stats) = h.handle_kinesis(first_event.unwrap()).await;
    ok(&resp);
    assert_eq!(stats.skipped, 300);
    assert_eq!(dynamo_totals(&env.sdk).await, want);
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await, cw_comparable(want.clone_for_cw()));
    assert_eq!(output(&env.sdk).await.0 as u64, want.records);
}

impl Totals {
    fn clone_for_cw(&self) -> Totals {
        Totals {
            records: self.records,
            bytes_sent: self.bytes_sent,
            s2xx: 0,
            s4xx: self.s4xx,
            s5xx: self.s5xx,
            cache_hits: self.cache_hits,
            cache_misses: self.cache_misses,
            time_taken_count: self.time_taken_count,
            bad_lines: self.bad_lines,
            windows: BTreeMap::new(),
        }
    }
}

/// PutRecords throttled from the second call on: the answer points at the first record of
/// the second call; rollups and metrics cover exactly the records before it; the retried
/// invocation completes the totals without counting anything twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_stream_throttled_mid_batch() {
    let input = lines(1200, 12);
    let env = setup(1, &input).await;
    let proxy = fault_proxy(env.moto.port, "PutRecords").await;
    let mut h = handler(&env).await;
    let proxied = sdk(&proxy.url()).await;
    h.records = Some(KinesisSink { client: aws_sdk_kinesis::Client::new(&proxied), stream: "cflog-enriched".into() });
    let records = source(&env).await.into_values().next().unwrap();
    assert_eq!(records.len(), input.len());

    proxy.set(Fault::FailFrom { after: 1 });
    let (resp, _) = h.handle_kinesis(kinesis_event(&env.src_arn, &records)).await;
    assert!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst) >= 3, "the proxy throttled the retries too");
    // Enriched records of the 2 bad lines are not sent, so the first call carries the
    // records of the first 502 source records.
    let first_failed = 502;
    assert_eq!(resp.batch_item_failures.len(), 1);
    assert_eq!(resp.batch_item_failures[0].item_identifier, records[first_failed].1, "retry from the first undelivered record");
    let partial = expected(&analyze_lines(&input[..first_failed]));
    assert_eq!(dynamo_totals(&env.sdk).await, partial, "rollups cover exactly the delivered prefix");
    let report_all = analyze_lines(&input);
    let (from, to) = data_range(&report_all);
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await, partial.clone_for_cw(), "metrics cover exactly the prefix");
    assert_eq!(output(&env.sdk).await.0, 500);

    // Kinesis retries from the reported sequence number; the stream has recovered.
    proxy.set(Fault::None);
    let (resp, _) = h.handle_kinesis(kinesis_event(&env.src_arn, &records[first_failed..])).await;
    ok(&resp);
    let want = expected(&report_all);
    assert_eq!(dynamo_totals(&env.sdk).await, want);
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await, want.clone_for_cw());
    let (count, seqs) = output(&env.sdk).await;
    assert_eq!(count as u64, want.records, "every record once");
    assert_eq!(seqs.len(), count);
}

/// CloudWatch down for a whole invocation: rollups and records are applied and
/// marked, the batch is reported for retry, and the retry publishes the metrics
/// once without touching the rollups or the output stream again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloudwatch_down_then_retried() {
    let input = lines(800, 13);
    let env = setup(1, &input).await;
    // Every request through this proxy is CloudWatch's (PutMetricData bodies are gzipped, so
    // match the request line).
    let proxy = fault_proxy(env.moto.port, "HTTP/1.1").await;
    let mut h = handler(&env).await;
    let proxied = sdk(&proxy.url()).await;
    h.metrics = Some(AnyMetrics::CloudWatch(CloudWatchSink { client: aws_sdk_cloudwatch::Client::new(&proxied), namespace: NAMESPACE.into() }));
    let records = source(&env).await.into_values().next().unwrap();
    let event = kinesis_event(&env.src_arn, &records);

    proxy.set(Fault::FailFrom { after: 0 });
    let (resp, _) = h.handle_kinesis(event.clone()).await;
    assert_eq!(resp.batch_item_failures.len(), 1);
    assert_eq!(resp.batch_item_failures[0].item_identifier, records[0].1);
    let report = analyze_lines(&input);
    let want = expected(&report);
    let (from, to) = data_range(&report);
    assert_eq!(dynamo_totals(&env.sdk).await, want, "rollups applied");
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await.records, 0, "no metric landed");

    proxy.set(Fault::None);
    let (resp, stats) = h.handle_kinesis(event).await;
    ok(&resp);
    assert_eq!(stats.delivered, 0, "records were marked delivered");
    assert_eq!(stats.rollup_items, 0, "rollups were marked applied");
    assert_eq!(dynamo_totals(&env.sdk).await, want, "no double count in DynamoDB");
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await, want.clone_for_cw(), "metrics exactly once");
    assert_eq!(output(&env.sdk).await.0 as u64, want.records, "no duplicate output");
}

/// DynamoDB unreachable (nothing listens on its port): the markers cannot be read, so
/// nothing is sent anywhere and the whole batch is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_endpoint_down_reports_whole_batch() {
    let input = lines(300, 14);
    let env = setup(1, &input).await;
    let mut h = handler(&env).await;
    let down = sdk(&format!("http://127.0.0.1:{}", free_port())).await;
    h.state = Some(DynamoState { client: aws_sdk_dynamodb::Client::new(&down), table: TABLE.into(), ttl_seconds: 86_400 });
    let records = source(&env).await.into_values().next().unwrap();
    let (resp, _) = h.handle_kinesis(kinesis_event(&env.src_arn, &records)).await;
    assert_eq!(resp.batch_item_failures.len(), 1);
    assert_eq!(resp.batch_item_failures[0].item_identifier, records[0].1);
    assert_eq!(output(&env.sdk).await.0, 0);
    assert_eq!(dynamo_totals(&env.sdk).await, Totals::default());
}

/// ParallelizationFactor 2 against moto's DynamoDB conditional writes: two batches of one
/// shard at once, their sequence numbers interleaved (even and odd records), CloudWatch
/// failing for both in the first round; each retried from the record its answer names,
/// as Lambda does. Rollups, metrics and output end equal to `cflog analyze`: nothing lost,
/// nothing counted twice. (DynamoDB and output-stream calls go through a proxy that hands
/// moto one request at a time: see `fault_proxy`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_of_one_shard_with_a_failure() {
    let input = lines(900, 15);
    let env = setup(1, &input).await;
    let proxy = fault_proxy(env.moto.port, "HTTP/1.1").await;
    let mut h = handler(&env).await;
    let proxied = sdk(&proxy.url()).await;
    h.metrics = Some(AnyMetrics::CloudWatch(CloudWatchSink { client: aws_sdk_cloudwatch::Client::new(&proxied), namespace: NAMESPACE.into() }));
    let serial = fault_proxy(env.moto.port, "matches no request").await;
    let serial_sdk = sdk(&serial.url()).await;
    h.state = Some(DynamoState { client: aws_sdk_dynamodb::Client::new(&serial_sdk), table: TABLE.into(), ttl_seconds: 7 * 86_400 });
    // Output too: with two PutRecords at once, GetRecords on moto's stream missed one of 900
    // acknowledged entries in 2 of 3 runs (never with the calls serialised, 6 runs).
    h.records = Some(KinesisSink { client: aws_sdk_kinesis::Client::new(&serial_sdk), stream: "cflog-enriched".into() });
    let records = source(&env).await.into_values().next().unwrap();
    let mut pending: [Vec<_>; 2] =
        [records.iter().step_by(2).cloned().collect(), records.iter().skip(1).step_by(2).cloned().collect()];
    proxy.set(Fault::FailFrom { after: 0 });
    let mut failures = 0;
    for round in 0..4 {
        if pending.iter().all(Vec::is_empty) {
            break;
        }
        let events = [kinesis_event(&env.src_arn, &pending[0]), kinesis_event(&env.src_arn, &pending[1])];
        let [e0, e1] = events;
        let ((r0, _), (r1, _)) = tokio::join!(h.handle_kinesis(e0), h.handle_kinesis(e1));
        for (sub, resp) in [(0, r0), (1, r1)] {
            pending[sub] = match resp.batch_item_failures.first() {
                Some(f) => {
                    failures += 1;
                    let from = pending[sub].iter().position(|r| r.1 == f.item_identifier).expect("a record of this batch");
                    pending[sub][from..].to_vec()
                }
                None => Vec::new(),
            };
        }
        if round == 0 {
            proxy.set(Fault::None);
        }
    }
    assert!(pending.iter().all(Vec::is_empty), "batches still failing");
    assert_eq!(failures, 2, "both batches failed in the first round");
    let report = analyze_lines(&input);
    let want = expected(&report);
    let (from, to) = data_range(&report);
    assert_eq!(dynamo_totals(&env.sdk).await, want, "rollups: every record once");
    assert_eq!(cloudwatch_totals(&env.sdk, from, to).await, cw_comparable(want.clone_for_cw()), "metrics: every record once");
    let (count, seqs) = output(&env.sdk).await;
    assert_eq!((count as u64, seqs.len()), (want.records, count), "output: every record once");
}

/// Per-cache-behavior metrics reach CloudWatch with dimensions Distribution and
/// CacheBehavior: two behaviors under a cap of 2 by name, a third as `Other`, with the
/// requests, 5xx and latency samples counted from the lines sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_behavior_metrics_arrive_with_their_dimensions() {
    let moto = start_moto().await;
    let sdk = sdk(&moto.url()).await;
    let fields = ["timestamp", "sc-status", "time-taken", "x-host-header", "cache-behavior-path-pattern"];
    let vars: HashMap<&str, String> = HashMap::from([
        ("CFLOG_FIELDS", fields.join(",")),
        ("CFLOG_ENDPOINT_URL", moto.url()),
        ("CFLOG_BEHAVIOR_CAP", "2".to_string()),
        ("CFLOG_MAX_ATTEMPTS", "3".to_string()),
    ]);
    let h = build(&Config::from_lookup(|k| vars.get(k).cloned()).unwrap(), &sdk).await.unwrap();
    let schema = h.schema();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let minute = now - now.rem_euclid(60_000) - 10 * 60_000;
    // (pattern, status): /api/* 6 requests (2 5xx), /static/* 3 (none), /legacy/* 1 (5xx).
    let sent: Vec<(&str, u16)> = [("/api/*", 200), ("/api/*", 503), ("/api/*", 200), ("/api/*", 500), ("/api/*", 200), ("/api/*", 200)]
        .into_iter()
        .chain([("/static/*", 200), ("/static/*", 304), ("/static/*", 200), ("/legacy/*", 502)])
        .collect();
    let records: Vec<(String, String, Vec<u8>)> = sent
        .iter()
        .enumerate()
        .map(|(i, (pattern, status))| {
            let value = |name: &str| match name {
                "timestamp" => format!("{}.{i:03}", minute / 1000),
                "sc-status" => status.to_string(),
                "time-taken" => "0.250".to_string(),
                "x-host-header" => "d1.cloudfront.net".to_string(),
                _ => pattern.to_string(),
            };
            let line: Vec<String> = schema.names().map(value).collect();
            ("shardId-000000000000".to_string(), format!("{}", 100 + i), format!("{}\n", line.join("\t")).into_bytes())
        })
        .collect();
    let (response, _) = h.handle_kinesis(kinesis_event("arn:aws:kinesis:us-east-1:123456789012:stream/s", &records)).await;
    ok(&response);

    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let listed = cw.list_metrics().namespace(NAMESPACE).metric_name("Requests").send().await.unwrap();
    let mut behaviors: Vec<String> = listed
        .metrics()
        .iter()
        .filter(|m| m.dimensions().iter().any(|d| d.name() == Some("CacheBehavior")))
        .map(|m| {
            let names: Vec<&str> = m.dimensions().iter().filter_map(|d| d.name()).collect();
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(names.contains(&"Distribution"), "{names:?}");
            m.dimensions().iter().find(|d| d.name() == Some("CacheBehavior")).unwrap().value().unwrap().to_string()
        })
        .collect();
    behaviors.sort();
    assert_eq!(behaviors, ["/api/*", "/static/*", "Other"]);
    let (from, to) = (minute - 60_000, minute + 120_000);
    for behavior in ["/api/*", "/static/*", "Other"] {
        let of: Vec<&(&str, u16)> = sent.iter().filter(|(p, _)| if behavior == "Other" { *p == "/legacy/*" } else { *p == behavior }).collect();
        let n5xx = of.iter().filter(|(_, s)| s / 100 == 5).count() as f64;
        let dims = [("Distribution", "d1.cloudfront.net"), ("CacheBehavior", behavior)];
        assert_eq!(cw_stat(&sdk, "Requests", &dims, Statistic::Sum, from, to).await, of.len() as f64, "{behavior}");
        assert_eq!(cw_stat(&sdk, "5xxErrorRate", &dims, Statistic::Sum, from, to).await / 100.0, n5xx, "{behavior}");
        assert_eq!(cw_stat(&sdk, "Latency", &dims, Statistic::SampleCount, from, to).await, of.len() as f64, "{behavior}");
    }
}
