//! Test harness: a real moto server per test (killed on drop, also on panic), a fault
//! injecting HTTP proxy, and helpers that do what CloudFront and Lambda do: put lines into
//! a stream, read them back with GetRecords and build the Kinesis event Lambda would send.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use aws_sdk_kinesis::config::Credentials;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, ShardIteratorType};
use base64::Engine as _;
use cflog_lambda::handler::KinesisEvent;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[allow(unused_imports)] // not every test file that includes this module needs both
pub use cflog_testkit::moto::{Moto, free_port};

/// A moto server on 127.0.0.1 (the shared test kit's), started off the async runtime.
pub async fn start_moto() -> Moto {
    tokio::task::spawn_blocking(cflog_testkit::moto::start).await.unwrap()
}

pub async fn sdk(url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

/// Which requests the proxy breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// Answer 503 to every request whose operation matches, from the `after`-th on (0-based).
    FailFrom { after: u32 },
}

/// An HTTP proxy in front of moto that injects failures into one operation.
pub struct FaultProxy {
    pub port: u16,
    pub fault: Arc<std::sync::Mutex<Fault>>,
    pub seen: Arc<AtomicU32>,
    pub injected: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
        self.seen.store(0, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `operation` is matched against the request (X-Amz-Target header or query Action).
///
/// Requests reach moto one at a time: moto applies concurrent `UpdateItem`/transaction
/// `ADD`s to one item non-atomically (updates get lost when two invocations write the same
/// rollup at once), which DynamoDB never does. Tests of concurrent invocations send their
/// DynamoDB calls through a proxy for that reason.
pub async fn fault_proxy(upstream: u16, operation: &'static str) -> FaultProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let fault = Arc::new(std::sync::Mutex::new(Fault::None));
    let seen = Arc::new(AtomicU32::new(0));
    let injected = Arc::new(AtomicU32::new(0));
    let (f2, s2, i2) = (fault.clone(), seen.clone(), injected.clone());
    let one_at_a_time = Arc::new(tokio::sync::Mutex::new(()));
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else { return };
            let (fault, seen, injected, one_at_a_time) = (f2.clone(), s2.clone(), i2.clone(), one_at_a_time.clone());
            tokio::spawn(async move {
                loop {
                    // Read one request (headers + Content-Length body).
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 65536];
                    let head_end = loop {
                        if let Some(i) = find(&buf, b"\r\n\r\n") {
                            break i + 4;
                        }
                        match client.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        match client.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    let matches = find(&buf, operation.as_bytes()).is_some();
                    let inject = matches && {
                        let n = seen.fetch_add(1, Ordering::SeqCst);
                        match *fault.lock().unwrap() {
                            Fault::None => false,
                            Fault::FailFrom { after } => n >= after,
                        }
                    };
                    if inject {
                        injected.fetch_add(1, Ordering::SeqCst);
                        let body = b"{\"__type\":\"ServiceUnavailable\",\"message\":\"injected by the test proxy\"}";
                        let resp = format!(
                            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if client.write_all(resp.as_bytes()).await.is_err() || client.write_all(body).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    // Forward with Connection: close and relay the whole answer.
                    let _turn = one_at_a_time.lock().await;
                    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                    let mut req = Vec::with_capacity(buf.len() + 20);
                    let first_line_end = find(&buf, b"\r\n").unwrap() + 2;
                    req.extend_from_slice(&buf[..first_line_end]);
                    req.extend_from_slice(b"Connection: close\r\n");
                    for line in buf[first_line_end..head_end].split(|&b| b == b'\n') {
                        let l = String::from_utf8_lossy(line).to_ascii_lowercase();
                        if l.starts_with("connection:") || l.trim().is_empty() {
                            continue;
                        }
                        req.extend_from_slice(line);
                        req.push(b'\n');
                    }
                    req.extend_from_slice(&buf[head_end - 2..]);
                    if up.write_all(&req).await.is_err() {
                        return;
                    }
                    let mut resp = Vec::new();
                    if up.read_to_end(&mut resp).await.is_err() {
                        return;
                    }
                    // Tell the client to reconnect for its next request.
                    if let Some(i) = find(&resp, b"\r\n") {
                        resp.splice(i + 2..i + 2, b"Connection: close\r\n".iter().copied());
                    }
                    let _ = client.write_all(&resp).await;
                    return;
                }
            });
        }
    });
    FaultProxy { port, fault, seen, injected, task }
}

pub async fn create_stream(sdk: &SdkConfig, name: &str, shards: i32) -> String {
    let k = aws_sdk_kinesis::Client::new(sdk);
    k.create_stream().stream_name(name).shard_count(shards).send().await.unwrap();
    let d = k.describe_stream_summary().stream_name(name).send().await.unwrap();
    d.stream_description_summary().unwrap().stream_arn().to_string()
}

pub async fn create_table(sdk: &SdkConfig, name: &str) {
    let d = aws_sdk_dynamodb::Client::new(sdk);
    d.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .attribute_definitions(AttributeDefinition::builder().attribute_name("sk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("sk").key_type(KeyType::Range).build().unwrap())
        .send()
        .await
        .unwrap();
}

/// Puts each line as one record, as CloudFront does (random-looking partition keys).
pub async fn put_lines(sdk: &SdkConfig, stream: &str, lines: &[Vec<u8>]) {
    let k = aws_sdk_kinesis::Client::new(sdk);
    for (c, chunk) in lines.chunks(500).enumerate() {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, l)| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(l.clone()))
                    .partition_key(format!("{:08x}", (c * 500 + i).wrapping_mul(2654435761) as u32))
                    .build()
                    .unwrap()
            })
            .collect();
        let out = k.put_records().stream_name(stream).set_records(Some(entries)).send().await.unwrap();
        assert_eq!(out.failed_record_count(), Some(0));
    }
}

/// Every record of every shard: (shard id, sequence number, data).
pub async fn read_all(sdk: &SdkConfig, stream: &str) -> Vec<(String, String, Vec<u8>)> {
    let k = aws_sdk_kinesis::Client::new(sdk);
    let shards = k.list_shards().stream_name(stream).send().await.unwrap();
    let mut out = Vec::new();
    for shard in shards.shards() {
        let it = k
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .unwrap();
        let mut iter = it.shard_iterator().map(str::to_string);
        while let Some(i) = iter {
            let r = k.get_records().shard_iterator(i).limit(10_000).send().await.unwrap();
            if r.records().is_empty() {
                break;
            }
            for rec in r.records() {
                out.push((shard.shard_id().to_string(), rec.sequence_number().to_string(), rec.data().as_ref().to_vec()));
            }
            iter = r.next_shard_iterator().map(str::to_string);
        }
    }
    out
}

/// The Kinesis event Lambda builds from GetRecords output, as the JSON Lambda sends.
pub fn kinesis_event_json(stream_arn: &str, records: &[(String, String, Vec<u8>)]) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "Records": records.iter().map(|(shard, seq, data)| serde_json::json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": "4f2e3c1a",
                "sequenceNumber": seq,
                "data": b64.encode(data),
                "approximateArrivalTimestamp": 1793491200.123,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("{shard}:{seq}"),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/cflog",
            "awsRegion": "us-east-1",
            "eventSourceARN": stream_arn,
        })).collect::<Vec<_>>()
    })
}

/// [`kinesis_event_json`], deserialized as the handler receives it.
pub fn kinesis_event(stream_arn: &str, records: &[(String, String, Vec<u8>)]) -> KinesisEvent {
    serde_json::from_value(kinesis_event_json(stream_arn, records)).unwrap()
}

/// The oracle: what `cflog analyze --threads 1` runs on a file (`cflog-engine`'s `Chunker`,
/// `Cutter` and `Worker`, fed in the CLI's 1 MiB reads) on `lines` read as real-time lines of
/// `schema`. The engine, not the CLI, so that this crate's tests do not depend on the CLI
/// above it; `tests/tests/parity.rs` checks that the CLI and the Lambda agree.
pub fn analyze_summary(lines: &[Vec<u8>], schema: &cflog_core::Schema) -> cflog_core::summary::Summary {
    use cflog_engine::{CHUNK, Chunker, Cutter, FieldsOrder, FieldsSpec, FormatChoice, LayoutChoice, Worker};
    let mut data = Vec::new();
    for l in lines {
        data.extend_from_slice(l);
        if !l.ends_with(b"\n") {
            data.push(b'\n');
        }
    }
    let spec = FieldsSpec { names: schema.names().map(str::to_string).collect(), sampling_rate: None };
    let layout = LayoutChoice::new(FormatChoice::Realtime, Some(&spec), FieldsOrder::Canonical, false).unwrap();
    let mut cutter = Cutter::new(&layout);
    cutter.begin("lines.log");
    let mut chunker = Chunker::new();
    let mut worker = Worker::new(cflog_core::summary::SummaryOptions::default(), 0, layout.double_decode);
    let mut chunks: Vec<Vec<u8>> = data.chunks(CHUNK).filter_map(|piece| chunker.push(piece)).collect();
    chunks.extend(chunker.finish());
    for bytes in chunks {
        let start = cutter.take(&bytes).unwrap();
        worker.run(0, &start, &bytes, None);
    }
    worker.summary
}

pub fn num(item: &std::collections::HashMap<String, AttributeValue>, attr: &str) -> u64 {
    item.get(attr).and_then(|v| v.as_n().ok()).map_or(0, |n| n.parse().unwrap())
}

pub async fn scan(sdk: &SdkConfig, table: &str) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let d = aws_sdk_dynamodb::Client::new(sdk);
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let r = d.scan().table_name(table).set_exclusive_start_key(start).send().await.unwrap();
        out.extend(r.items().iter().cloned());
        start = r.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    out
}
