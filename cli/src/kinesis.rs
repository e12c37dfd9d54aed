//! Kinesis tools behind `cflog replay` and `cflog consume` (feature `aws`): put log lines
//! into a Kinesis stream the way CloudFront does, and poll a stream running the very
//! handler the Lambda runs (for ECS/EC2 deployments, demos and load tests). They live with
//! the CLI, not in the Lambda crate, whose code they only call; `cflog top --stream`'s
//! shard reader is `top::kinesis`.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::types::ShardIteratorType;
use base64::Engine as _;

use cflog_lambda::aws::{KinesisSink, classify};
use cflog_lambda::handler::{BatchResponse, KinesisEvent, KinesisEventRecord, KinesisPayload};
use cflog_lambda::names::limits;
use cflog_lambda::process::OutRecord;
use cflog_lambda::runtime::AwsHandler;
use cflog_lambda::sinks::{RetryPolicy, deliver_records};

/// What `replay` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records put.
    pub records: u64,
    /// Records that failed for good (after retries).
    pub failed: u64,
    /// PutRecords calls (first attempts).
    pub calls: u64,
}

/// Puts each line as one record (CloudFront's way: one line per record, random partition
/// keys), in PutRecords calls within the limits, at most `rate` records per second.
/// Failed entries are resent alone with backoff.
pub async fn replay<I>(sink: &KinesisSink, lines: I, rate: Option<f64>, policy: &RetryPolicy) -> ReplayStats
where
    I: IntoIterator<Item = Vec<u8>>,
{
    let started = Instant::now();
    let mut stats = ReplayStats::default();
    let per_call = match rate {
        // Small enough calls that pacing is smooth: about ten per second.
        Some(r) => ((r / 10.0).ceil() as usize).clamp(1, limits::PUT_RECORDS_MAX_RECORDS),
        None => limits::PUT_RECORDS_MAX_RECORDS,
    };
    // The call's lines and random keys, owned here; the sink borrows them.
    let mut owned: Vec<(String, Vec<u8>)> = Vec::with_capacity(per_call);
    let mut bytes = 0usize;
    let mut lines = lines.into_iter().peekable();
    while lines.peek().is_some() || !owned.is_empty() {
        while let Some(line) = lines.peek() {
            let size = line.len() + 16;
            if owned.len() >= per_call || (!owned.is_empty() && bytes + size > limits::PUT_RECORDS_MAX_BYTES) {
                break;
            }
            let line = lines.next().expect("peeked");
            bytes += size;
            owned.push((format!("{:016x}", fastrand::u64(..)), line));
        }
        let batch: Vec<OutRecord> =
            owned.iter().enumerate().map(|(source_index, (key, line))| OutRecord { source_index, partition_key: key, data: line }).collect();
        let failed = deliver_records(sink, &batch, policy).await;
        stats.calls += 1;
        stats.records += (batch.len() - failed.len()) as u64;
        stats.failed += failed.len() as u64;
        for (i, reason) in failed.iter().take(3) {
            tracing::warn!(record = batch[*i].source_index, reason = %reason, "record not put");
        }
        drop(batch);
        owned.clear();
        bytes = 0;
        if let Some(r) = rate {
            let due = Duration::from_secs_f64((stats.records + stats.failed) as f64 / r);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    stats
}

/// Options of [`consume`].
#[derive(Debug, Clone, Copy)]
pub struct ConsumeOptions {
    /// Start at the oldest record (`TRIM_HORIZON`) instead of new records only.
    pub from_start: bool,
    /// Stop once every shard has returned no records this many polls in a row.
    pub stop_when_idle: Option<u32>,
    /// Wait between empty polls.
    pub poll_interval: Duration,
    /// Records per GetRecords call (at most 10,000).
    pub batch_size: i32,
}

impl Default for ConsumeOptions {
    fn default() -> Self {
        ConsumeOptions { from_start: false, stop_when_idle: None, poll_interval: Duration::from_secs(1), batch_size: 1000 }
    }
}

/// What `consume` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumeStats {
    /// Records handled (retries included).
    pub records: u64,
    /// Invocations of the handler.
    pub batches: u64,
    /// Invocations that reported a failure (and were retried from it).
    pub retries: u64,
}

/// Polls every shard of `stream` and runs `handler` on each batch, exactly as Lambda
/// would: on a reported failure the shard is re-read from the reported sequence number.
pub async fn consume(
    client: &aws_sdk_kinesis::Client,
    stream: &str,
    handler: &AwsHandler,
    options: ConsumeOptions,
) -> Result<ConsumeStats, String> {
    let err = |e: &dyn std::fmt::Display| format!("{stream}: {e}");
    let is_arn = stream.starts_with("arn:");
    let summary = {
        let req = client.describe_stream_summary();
        let req = if is_arn { req.stream_arn(stream) } else { req.stream_name(stream) };
        req.send().await.map_err(|e| err(&classify(e)))?
    };
    // One allocation for the stream, shared by every record's `event_source_arn`.
    let arn: std::sync::Arc<str> = summary.stream_description_summary().map(|s| s.stream_arn()).unwrap_or_default().into();
    let shards = {
        let req = client.list_shards();
        let req = if is_arn { req.stream_arn(stream) } else { req.stream_name(stream) };
        req.send().await.map_err(|e| err(&classify(e)))?
    };
    struct Shard {
        id: String,
        iterator: Option<String>,
        idle: u32,
    }
    let mut state = Vec::new();
    for s in shards.shards() {
        let req = client.get_shard_iterator().shard_id(s.shard_id()).shard_iterator_type(if options.from_start {
            ShardIteratorType::TrimHorizon
        } else {
            ShardIteratorType::Latest
        });
        let req = if is_arn { req.stream_arn(stream) } else { req.stream_name(stream) };
        let it = req.send().await.map_err(|e| err(&classify(e)))?;
        state.push(Shard { id: s.shard_id().to_string(), iterator: it.shard_iterator().map(str::to_string), idle: 0 });
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut stats = ConsumeStats::default();
    loop {
        let mut any = false;
        for shard in state.iter_mut() {
            let Some(it) = shard.iterator.clone() else { continue };
            let out = match client.get_records().shard_iterator(it).limit(options.batch_size).send().await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(shard = %shard.id, error = %classify(e), "GetRecords failed; will retry");
                    continue;
                }
            };
            if out.records().is_empty() {
                shard.idle += 1;
                shard.iterator = out.next_shard_iterator().map(str::to_string);
                continue;
            }
            any = true;
            shard.idle = 0;
            let event = KinesisEvent {
                records: out
                    .records()
                    .iter()
                    .map(|r| KinesisEventRecord {
                        event_id: Some(format!("{}:{}", shard.id, r.sequence_number()).as_str().into()),
                        event_source_arn: Some(std::sync::Arc::clone(&arn)),
                        event_source: Some("aws:kinesis".into()),
                        kinesis: KinesisPayload {
                            sequence_number: r.sequence_number().to_string(),
                            data: b64.encode(r.data().as_ref()),
                            partition_key: r.partition_key().unwrap_or_default().to_string(),
                            approximate_arrival_timestamp: r.approximate_arrival_timestamp().map(|t| t.as_secs_f64()),
                            kinesis_schema_version: Some("1.0".into()),
                        },
                    })
                    .collect(),
            };
            stats.records += event.records.len() as u64;
            stats.batches += 1;
            let (BatchResponse { batch_item_failures }, _) = handler.handle_kinesis(event).await;
            match batch_item_failures.first() {
                None => shard.iterator = out.next_shard_iterator().map(str::to_string),
                Some(f) => {
                    // Lambda's retry: read again from the reported record, after a pause.
                    stats.retries += 1;
                    tokio::time::sleep(options.poll_interval).await;
                    let req = client
                        .get_shard_iterator()
                        .shard_id(&shard.id)
                        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                        .starting_sequence_number(&f.item_identifier);
                    let req = if is_arn { req.stream_arn(stream) } else { req.stream_name(stream) };
                    let it = req.send().await.map_err(|e| err(&classify(e)))?;
                    shard.iterator = it.shard_iterator().map(str::to_string);
                }
            }
        }
        if let Some(n) = options.stop_when_idle
            && state.iter().all(|s| s.idle >= n || s.iterator.is_none())
        {
            return Ok(stats);
        }
        if !any {
            tokio::time::sleep(options.poll_interval).await;
        }
    }
}
