//! The compiled `bootstrap` under a Lambda Runtime API emulator, with a real moto server
//! as AWS. Only the external contract is checked: the event JSON in, the response JSON
//! out, what lands in moto (the rollups' `records` on `dist#` items, the enriched output
//! stream) and the function's JSON log lines on stdout. Expected totals come from
//! `cflog analyze` on the same lines (an independent oracle).

mod common;
#[path = "common/runtime_api.rs"]
mod runtime_api;

use std::collections::HashSet;
use std::time::Duration;

use aws_config::SdkConfig;
use base64::Engine as _;
use cflog_core::Schema;
use common::*;
use runtime_api::{Bootstrap, Outcome, RuntimeApi};
use serde_json::{Value, json};

const TABLE: &str = "cflog-rollups";
const SOURCE: &str = "cloudfront-realtime";
const OUTPUT: &str = "cflog-enriched";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn schema() -> Schema {
    Schema::realtime_release(46).unwrap()
}

fn fields(schema: &Schema) -> String {
    schema.names().collect::<Vec<_>>().join(",")
}

/// `n` lines from cflog's generator (46-field real-time layout).
fn gen_lines(n: u64, seed: u64) -> Vec<Vec<u8>> {
    gen_lines_with(cflog_gen::GenOptions { lines: n, seed, requests_per_second: 4.0, ..Default::default() })
}

fn gen_lines_with(opts: cflog_gen::GenOptions) -> Vec<Vec<u8>> {
    let n = opts.lines;
    let mut buf = Vec::new();
    cflog_gen::generate(&opts, &mut buf).unwrap();
    let out: Vec<Vec<u8>> = buf.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(out.len() as u64, n);
    out
}

/// Generated lines with a garbage line (index 7) and a truncated line (index 21) mixed in.
fn poisoned_lines(n: u64, seed: u64) -> Vec<Vec<u8>> {
    let mut out = gen_lines(n, seed);
    out.insert(7, b"this is not a CloudFront log line\n".to_vec());
    let truncated = out[20][..300].to_vec();
    out.insert(21, truncated);
    out
}

/// `cflog analyze` (the library behind `cflog analyze --json`) on `lines`.
fn analyze_lines(lines: &[Vec<u8>]) -> Value {
    analyze_summary(lines, &schema()).report(10)
}

/// (records, bad lines) according to the oracle.
fn oracle(lines: &[Vec<u8>]) -> (u64, u64) {
    let r = analyze_lines(lines);
    (r["records"].as_u64().unwrap(), r["bad_lines"].as_u64().unwrap())
}

/// The Kinesis event Lambda's event source mapping sends, as JSON.
fn kinesis_event(stream_arn: &str, records: &[(String, String, Vec<u8>)]) -> Value {
    kinesis_event_json(stream_arn, records)
}

/// The sequence numbers a Kinesis response asks to retry from.
fn failures(resp: &Value) -> Vec<String> {
    assert!(resp.is_object(), "a ReportBatchItemFailures answer is an object: {resp}");
    match resp.get("batchItemFailures") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => v
            .as_array()
            .unwrap_or_else(|| panic!("batchItemFailures is a list: {resp}"))
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap_or_else(|| panic!("itemIdentifier in {f}")).to_string())
            .collect(),
    }
}

fn assert_no_failures(resp: &Value) {
    assert_eq!(failures(resp), Vec::<String>::new(), "no batchItemFailures expected: {resp}");
}

/// Sum of the `records` counters of the rollup items (`pk` starting with `dist#`).
async fn rollup_records(sdk: &SdkConfig) -> u64 {
    scan(sdk, TABLE)
        .await
        .iter()
        .filter(|item| item.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| pk.starts_with("dist#")))
        .map(|item| num(item, "records"))
        .sum()
}

/// Enriched records on the output stream: (count, distinct source shard/seq pairs).
async fn output(sdk: &SdkConfig) -> (u64, HashSet<String>) {
    let out = read_all(sdk, OUTPUT).await;
    let mut seqs = HashSet::new();
    for (_, _, data) in &out {
        let v: Value = serde_json::from_slice(data).unwrap();
        assert!(v["sc-status"].is_u64(), "typed status in {v}");
        let src = &v["_cflog"]["source"];
        seqs.insert(format!("{}/{}", src["shard"].as_str().unwrap(), src["seq"].as_str().unwrap()));
    }
    (out.len() as u64, seqs)
}

/// Moto with a source stream (`shards` shards) holding `lines`, an output stream and the
/// table; the emulator; the source records as Lambda would read them.
struct World {
    moto: Moto,
    sdk: SdkConfig,
    src_arn: String,
    api: RuntimeApi,
    records: Vec<(String, String, Vec<u8>)>,
}

async fn world(shards: i32, lines: &[Vec<u8>]) -> World {
    let moto = start_moto().await;
    let sdk = sdk(&moto.url()).await;
    let src_arn = create_stream(&sdk, SOURCE, shards).await;
    create_stream(&sdk, OUTPUT, 1).await;
    create_table(&sdk, TABLE).await;
    put_lines(&sdk, SOURCE, lines).await;
    let records = read_all(&sdk, SOURCE).await;
    assert_eq!(records.len(), lines.len());
    World { moto, sdk, src_arn, api: RuntimeApi::start().await, records }
}

/// The Kinesis-mode configuration the tests deploy with.
fn kinesis_vars(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CFLOG_FIELDS", fields(&schema())),
        ("CFLOG_TABLE", TABLE.into()),
        ("CFLOG_OUTPUT_STREAM", OUTPUT.into()),
        ("CFLOG_ENDPOINT_URL", endpoint.into()),
        ("CFLOG_MAX_ATTEMPTS", "2".into()),
        ("CFLOG_BACKOFF_MS", "5".into()),
    ]
}

const LOG_WAIT: Duration = Duration::from_secs(10);

/// 1. Kinesis mode: every batch answered without failures; the rollups and the output
/// stream equal `cflog analyze` on the same lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinesis_mode_totals_equal_cflog_analyze() {
    let input = gen_lines(1000, 21);
    let w = world(2, &input).await;
    let boot = Bootstrap::start(&w.api, &kinesis_vars(&w.moto.url()));

    let mut shards: Vec<&str> = w.records.iter().map(|r| r.0.as_str()).collect();
    shards.dedup();
    shards.sort_unstable();
    shards.dedup();
    assert_eq!(shards.len(), 2, "both shards hold records");
    let mut invocations = 0;
    for shard in &shards {
        let records: Vec<_> = w.records.iter().filter(|r| r.0 == *shard).cloned().collect();
        for chunk in records.chunks(250) {
            assert_no_failures(&w.api.invoke_ok(&kinesis_event(&w.src_arn, chunk)).await);
            invocations += 1;
        }
    }

    let cold = boot.wait_logged("cold start done", 1, LOG_WAIT).await;
    assert_eq!(cold.len(), 1, "one cold start for {invocations} invocations");
    let init_us = cold[0]["init_us"].as_u64().expect("init_us in the cold start line");
    println!("bootstrap (debug build) cold start done: init_us = {init_us}");
    assert_eq!(cold[0]["fields"], 46);

    let done = boot.wait_logged("invocation done", invocations, LOG_WAIT).await;
    assert_eq!(done.len(), invocations);
    assert_eq!(done.iter().map(|d| d["records"].as_u64().unwrap()).sum::<u64>(), input.len() as u64);
    assert_eq!(done.iter().map(|d| d["bad_lines"].as_u64().unwrap()).sum::<u64>(), 0);

    let (want, bad) = oracle(&input);
    assert_eq!((want, bad), (input.len() as u64, 0), "generated lines are all good");
    assert_eq!(rollup_records(&w.sdk).await, want, "DynamoDB rollups equal cflog analyze");
    let (count, seqs) = output(&w.sdk).await;
    assert_eq!(count, want, "one enriched record per line");
    assert_eq!(seqs.len() as u64, count, "no duplicates");
    assert!(w.api.unexpected().is_empty(), "{:?}", w.api.unexpected());
}

fn firehose_event(records: &[(String, Vec<u8>)]) -> Value {
    json!({
        "invocationId": "6b2ab2d4-0a62-4c38-9d3b-4a5b3c1d2e7f",
        "sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/cloudfront-realtime",
        "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/cflog-to-s3",
        "region": "us-east-1",
        "records": records.iter().map(|(id, data)| json!({
            "recordId": id,
            "approximateArrivalTimestamp": 1793491200123u64,
            "data": B64.encode(data),
        })).collect::<Vec<_>>(),
    })
}

/// Firehose mode (nothing of AWS is needed: the endpoint is a dead port).
fn firehose_vars(schema: &Schema) -> Vec<(&'static str, String)> {
    vec![
        ("CFLOG_MODE", "firehose".into()),
        ("CFLOG_FIELDS", fields(schema)),
        ("CFLOG_ENDPOINT_URL", format!("http://127.0.0.1:{}", free_port())),
        ("CFLOG_MAX_ATTEMPTS", "2".into()),
        ("CFLOG_BACKOFF_MS", "5".into()),
    ]
}

/// 2. Firehose mode: one answer per input record with the same `recordId`, in order;
/// good lines `Ok` with the enriched JSON line, garbage and truncated lines
/// `ProcessingFailed` with their data echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_mode_one_answer_per_record() {
    let input = poisoned_lines(40, 22);
    let (good, bad) = oracle(&input);
    assert_eq!((good, bad), (40, 2));
    let records: Vec<(String, Vec<u8>)> =
        input.iter().enumerate().map(|(i, l)| (format!("4954698668313554428650745793632162567570019247115678{i:04}"), l.clone())).collect();
    let event = firehose_event(&records);
    let api = RuntimeApi::start().await;
    let schema = schema();
    let boot = Bootstrap::start(&api, &firehose_vars(&schema));
    let resp = api.invoke_ok(&event).await;

    let out = resp["records"].as_array().unwrap_or_else(|| panic!("records in {resp}"));
    assert_eq!(out.len(), records.len());
    let (mut ok, mut failed) = (0, 0);
    for (answer, (id, line)) in out.iter().zip(&records) {
        assert_eq!(answer["recordId"], id.as_str(), "same recordId, same order");
        let data = answer["data"].as_str().unwrap();
        match answer["result"].as_str().unwrap() {
            "Ok" => {
                ok += 1;
                let json_line = B64.decode(data).unwrap();
                assert!(json_line.ends_with(b"\n") && json_line.iter().filter(|&&b| b == b'\n').count() == 1, "one JSON line");
                let v: Value = serde_json::from_slice(&json_line).unwrap();
                // The record is the line, typed: compare with its own tab-separated values.
                let text = String::from_utf8(line.clone()).unwrap();
                let values: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
                let at = |name: &str| values[schema.names().position(|n| n == name).unwrap()];
                assert_eq!(v["c-ip"], at("c-ip"));
                assert_eq!(v["sc-status"], at("sc-status").parse::<u64>().unwrap());
                assert_eq!(v["cs-method"], at("cs-method"));
                assert_eq!(v["x-edge-location"], at("x-edge-location"));
                assert!(v["_cflog"]["distribution"].is_string(), "enriched: {v}");
            }
            "ProcessingFailed" => {
                failed += 1;
                assert_eq!(data, B64.encode(line), "failed records keep their data");
            }
            other => panic!("unexpected result {other}"),
        }
    }
    assert_eq!((ok, failed), (good, bad), "Ok and ProcessingFailed counts equal cflog analyze");
    assert!(out[7]["result"] == "ProcessingFailed" && out[21]["result"] == "ProcessingFailed");
    let done = boot.wait_logged("firehose transformation done", 1, LOG_WAIT).await;
    assert_eq!(done.len(), 1);
    assert!(api.unexpected().is_empty(), "{:?}", api.unexpected());
}

/// 2b. The Firehose event fixture (40-field layout), through the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_mode_fixture() {
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firehose-event.json")).unwrap())
            .unwrap();
    let api = RuntimeApi::start().await;
    let _boot = Bootstrap::start(&api, &firehose_vars(&Schema::realtime_release(40).unwrap()));
    let resp = api.invoke_ok(&event).await;
    let out = resp["records"].as_array().unwrap();
    let input = event["records"].as_array().unwrap();
    assert_eq!(out.len(), input.len());
    for (a, b) in out.iter().zip(input) {
        assert_eq!(a["recordId"], b["recordId"]);
    }
    assert_eq!(out.iter().map(|r| r["result"].as_str().unwrap()).collect::<Vec<_>>(), ["Ok", "ProcessingFailed", "ProcessingFailed"]);
    assert_eq!(out[1]["data"], input[1]["data"]);
    assert_eq!(out[2]["data"], input[2]["data"]);
    let v: Value = serde_json::from_slice(&B64.decode(out[0]["data"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(v["c-ip"], "127.0.0.1");
    assert_eq!(v["sc-status"], 200);
    assert_eq!(v["_cflog"]["distribution"], "test.cloudfront.net");
}

/// Bad configurations: (variable, value) set on top of a good Kinesis configuration.
const BAD_ENV: &[(&str, &str)] = &[("CFLOG_SAMPLING_RATE", "0"), ("CFLOG_MODE", "sqs"), ("CFLOG_FIELDS", "timestamp,no-such-field")];

/// Starts the bootstrap with `var=value` and waits for it to exit.
async fn bad_env_run(var: &str, value: &str) -> (RuntimeApi, Bootstrap, std::process::ExitStatus) {
    let api = RuntimeApi::start().await;
    let mut vars: Vec<(&str, String)> = kinesis_vars(&format!("http://127.0.0.1:{}", free_port())).into_iter().filter(|(k, _)| *k != var).collect();
    vars.push((var, value.to_string()));
    let mut boot = Bootstrap::start(&api, &vars);
    let status = boot.wait_exit(Duration::from_secs(30)).await;
    let status = status.unwrap_or_else(|| panic!("{var}={value}: the bootstrap did not exit"));
    (api, boot, status)
}

/// 3a. A bad environment variable stops the cold start: the process exits non-zero
/// without polling for an invocation, and its log names the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_environment_variable_stops_the_cold_start() {
    for (var, value) in BAD_ENV {
        let (api, boot, status) = bad_env_run(var, value).await;
        assert!(!status.success(), "{var}={value}: exit status {status}");
        assert_eq!(api.next_polls(), 0, "{var}={value}: no invocation is polled for");
        let all: Vec<String> = boot.stdout.lock().unwrap().iter().chain(boot.stderr.lock().unwrap().iter()).cloned().collect();
        assert!(all.iter().any(|l| l.contains(var)), "{var}={value}: the output names the variable: {all:?}");
        assert!(boot.log_records().iter().any(|v| v["level"] == "ERROR"), "{var}={value}: an ERROR log line: {all:?}");
        assert!(api.unexpected().is_empty(), "{:?}", api.unexpected());
    }
}

/// 3b. ... and reports it to Lambda through `POST /runtime/init/error`, so the
/// invocation fails with the reason instead of `Runtime.ExitError` (lambda_runtime posts
/// init errors only for its own hooks; `main` reports configuration errors itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_environment_variable_is_posted_to_init_error() {
    for (var, value) in BAD_ENV {
        let (api, _boot, status) = bad_env_run(var, value).await;
        assert!(!status.success());
        let errors = api.init_errors();
        assert_eq!(errors.len(), 1, "{var}={value}: one POST /2018-06-01/runtime/init/error, got {errors:?}");
        let (error_type, body) = &errors[0];
        assert!(error_type.is_some(), "Lambda-Runtime-Function-Error-Type header");
        let message = body["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains(var), "{var}={value}: the init error names the variable: {body}");
        assert!(body["errorType"].is_string(), "{body}");
    }
}

/// 4. A poison batch (a record whose data is not base64, a garbage line, a truncated
/// line among good ones): no failure reported, the bad lines counted in the invocation
/// log, the good lines in the rollups and on the output stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_batch_is_counted_not_failed() {
    let mut input = poisoned_lines(400, 23);
    let w = world(1, &input).await;
    let boot = Bootstrap::start(&w.api, &kinesis_vars(&w.moto.url()));
    let mut event = kinesis_event(&w.src_arn, &w.records);
    event["Records"][3]["kinesis"]["data"] = json!("%%% not base64 %%%");
    // The oracle sees the undecodable record as the bad line it is.
    let index = input.iter().position(|l| *l == w.records[3].2).unwrap();
    input[index] = b"%%% not base64 %%%".to_vec();
    let (want, bad) = oracle(&input);
    assert_eq!(bad, 3);

    assert_no_failures(&w.api.invoke_ok(&event).await);
    let done = boot.wait_logged("invocation done", 1, LOG_WAIT).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["bad_lines"].as_u64(), Some(bad), "bad lines in the invocation log: {}", done[0]);
    assert_eq!(done[0]["failures"].as_u64(), Some(0));
    assert_eq!(rollup_records(&w.sdk).await, want, "good lines in the rollups");
    let (count, seqs) = output(&w.sdk).await;
    assert_eq!(count, want, "good lines on the output stream");
    assert_eq!(seqs.len() as u64, count);
}

/// 5. The output stream throttled from the second PutRecords call on (a fault injecting
/// proxy between the function and moto): the answer names one sequence number of the
/// batch to retry from; the rollups cover exactly the records before it; after the
/// outage, re-invoking from that sequence number completes the totals: nothing lost,
/// nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_outage_reports_where_to_retry_and_the_retry_completes() {
    let input = poisoned_lines(1200, 24);
    let w = world(1, &input).await;
    let proxy = fault_proxy(w.moto.port, "PutRecords").await;
    let boot = Bootstrap::start(&w.api, &kinesis_vars(&proxy.url()));
    proxy.set(Fault::FailFrom { after: 1 });

    let resp = w.api.invoke_ok(&kinesis_event(&w.src_arn, &w.records)).await;
    let failed = failures(&resp);
    assert_eq!(failed.len(), 1, "one failure for the one shard: {resp}");
    let k = w.records.iter().position(|r| r.1 == failed[0]).unwrap_or_else(|| panic!("{} is not a sequence number of the batch", failed[0]));
    assert!(k > 0 && k < w.records.len(), "the first call was delivered, the rest was not: k = {k}");
    assert!(proxy.injected.load(std::sync::atomic::Ordering::SeqCst) >= 2, "CFLOG_MAX_ATTEMPTS=2: the retry was refused too");
    let (before_k, _) = oracle(&input[..k]);
    assert_eq!(rollup_records(&w.sdk).await, before_k, "rollups cover exactly the records before the retry point");

    // The outage ends; Lambda re-delivers from the sequence number it was given.
    proxy.set(Fault::None);
    assert_no_failures(&w.api.invoke_ok(&kinesis_event(&w.src_arn, &w.records[k..])).await);
    let (want, _) = oracle(&input);
    assert_eq!(rollup_records(&w.sdk).await, want, "rollups equal cflog analyze: nothing lost, nothing twice");
    let (count, seqs) = output(&w.sdk).await;
    assert_eq!(seqs.len() as u64, want, "every good line on the output stream");
    assert_eq!(count, want, "none twice");
    let done = boot.wait_logged("invocation done", 2, LOG_WAIT).await;
    assert_eq!(done.iter().map(|d| d["failures"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 0]);
}

/// 6. The same event delivered twice (e.g. the function timed out after applying it):
/// the rollups and the output stream count it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_event_twice_is_counted_once() {
    let input = poisoned_lines(500, 25);
    let w = world(1, &input).await;
    let _boot = Bootstrap::start(&w.api, &kinesis_vars(&w.moto.url()));
    let event = kinesis_event(&w.src_arn, &w.records);
    let (want, _) = oracle(&input);

    assert_no_failures(&w.api.invoke_ok(&event).await);
    assert_eq!(rollup_records(&w.sdk).await, want);
    assert_no_failures(&w.api.invoke_ok(&event).await);
    assert_eq!(rollup_records(&w.sdk).await, want, "the second delivery adds nothing");
    let (count, seqs) = output(&w.sdk).await;
    assert_eq!((count, seqs.len() as u64), (want, want), "each record once on the output stream");
}

/// 7. An event the function cannot read is an invocation error (`POST .../error`), and the
/// runtime loop goes on: the next event is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_event_is_an_invocation_error_and_the_loop_goes_on() {
    let input = gen_lines(50, 26);
    let w = world(1, &input).await;
    let _boot = Bootstrap::start(&w.api, &kinesis_vars(&w.moto.url()));
    match w.api.invoke(&json!({"Records": "not a list"})).await {
        Outcome::Error { error_type, body } => {
            assert!(error_type.is_some(), "error type header");
            assert!(body["errorMessage"].is_string() && body["errorType"].is_string(), "diagnostic body: {body}");
        }
        other => panic!("expected an invocation error, got {other:?}"),
    }
    assert_no_failures(&w.api.invoke_ok(&kinesis_event(&w.src_arn, &w.records)).await);
    assert_eq!(rollup_records(&w.sdk).await, 50);
}

/// 8. EMF mode: the metrics are JSON documents on stdout. Every document is valid by the
/// embedded metric format (at most 100 metrics, at most 100 values per metric, as many
/// counts as values); a busy minute's latency distribution, which has more buckets than
/// that, is split over several documents of the same timestamp and loses no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emf_documents_are_valid_and_complete() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // 3,000 requests in about a minute, an hour ago (CloudWatch takes the timestamps).
    let opts = cflog_gen::GenOptions { lines: 3000, seed: 31, requests_per_second: 50.0, start_ms: now - 3_600_000, ..Default::default() };
    let input = gen_lines_with(opts);
    let w = world(1, &input).await;
    let mut vars = kinesis_vars(&w.moto.url());
    vars.push(("CFLOG_METRICS", "emf".into()));
    let boot = Bootstrap::start(&w.api, &vars);
    assert_no_failures(&w.api.invoke_ok(&kinesis_event(&w.src_arn, &w.records)).await);
    boot.wait_logged("invocation done", 1, LOG_WAIT).await;

    let docs: Vec<Value> = boot.log_records().into_iter().filter(|v| v.get("_aws").is_some()).collect();
    assert!(!docs.is_empty(), "EMF documents on stdout");
    let mut requests = 0.0;
    let mut latency_counts = 0.0;
    let mut latency_docs_per_ts: std::collections::BTreeMap<i64, usize> = Default::default();
    for doc in &docs {
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "CloudFront/RealTime");
        let metrics = directive["Metrics"].as_array().unwrap();
        assert!(!metrics.is_empty() && metrics.len() <= 100, "{doc}");
        for dims in directive["Dimensions"].as_array().unwrap() {
            for d in dims.as_array().unwrap() {
                assert!(doc[d.as_str().unwrap()].is_string(), "dimension {d} has a value: {doc}");
            }
        }
        for m in metrics {
            let name = m["Name"].as_str().unwrap();
            let value = &doc[name];
            let (values, counts) = if let Some(v) = value.get("Values") {
                (v.as_array().unwrap().clone(), value["Counts"].as_array().unwrap().clone())
            } else {
                (vec![value.clone()], vec![json!(1.0)])
            };
            assert!(values.len() <= 100, "{name}: {} values", values.len());
            assert_eq!(values.len(), counts.len(), "{name}: as many counts as values");
            let weighted: f64 = values.iter().zip(&counts).map(|(v, c)| v.as_f64().unwrap() * c.as_f64().unwrap()).sum();
            match name {
                "Requests" => requests += weighted,
                "Latency" => {
                    latency_counts += counts.iter().map(|c| c.as_f64().unwrap()).sum::<f64>();
                    *latency_docs_per_ts.entry(doc["_aws"]["Timestamp"].as_i64().unwrap()).or_default() += 1;
                }
                _ => {}
            }
        }
    }
    // The oracle: every generated line is a request with a time-taken (naive split).
    let tt = schema().names().position(|n| n == "time-taken").unwrap();
    let with_latency = input.iter().filter(|l| std::str::from_utf8(l).unwrap().trim_end().split('\t').nth(tt) != Some("-")).count();
    assert_eq!(requests, input.len() as f64, "Requests add up to every line");
    assert_eq!(latency_counts, with_latency as f64, "every latency is in some document");
    assert!(latency_docs_per_ts.values().any(|&n| n > 1), "a busy minute needs more than one document: {latency_docs_per_ts:?}");
}
