//! AWS implementations of the sinks: CloudWatch `PutMetricData` (or EMF on stdout),
//! Kinesis `PutRecords`, DynamoDB rollups and checkpoints, and the CloudFront real-time
//! log config as the layout source.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum as CwDatum, StandardUnit};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use cflog_core::Schema;

use crate::handler::LayoutSource;
use crate::names::table;
use crate::process::OutRecord;
use crate::sinks::{Applied, Checkpoint, MetricDatum, MetricsSink, Progress, RecordSink, Rollup, SinkError, StateStore, Unit};

/// CloudWatch `PutMetricData`.
#[derive(Debug, Clone)]
pub struct CloudWatchSink {
    /// The client.
    pub client: aws_sdk_cloudwatch::Client,
    /// Namespace. The default is [`crate::names::metric::DEFAULT_NAMESPACE`].
    pub namespace: String,
}

fn cw_unit(u: Unit) -> StandardUnit {
    match u {
        Unit::Count => StandardUnit::Count,
        Unit::Bytes => StandardUnit::Bytes,
        Unit::Percent => StandardUnit::Percent,
        Unit::Milliseconds => StandardUnit::Milliseconds,
    }
}

impl MetricsSink for CloudWatchSink {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        let data: Vec<CwDatum> = datums
            .iter()
            .map(|d| {
                let mut b = CwDatum::builder()
                    .metric_name(d.name)
                    .unit(cw_unit(d.unit))
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_millis(d.timestamp_ms));
                for (n, v) in &d.dimensions {
                    b = b.dimensions(Dimension::builder().name(*n).value(v).build());
                }
                if d.values.len() == 1 && d.counts[0] == 1.0 {
                    b = b.value(d.values[0]);
                } else {
                    b = b.set_values(Some(d.values.clone())).set_counts(Some(d.counts.clone()));
                }
                b.build()
            })
            .collect();
        self.client
            .put_metric_data()
            .namespace(&self.namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map(|_| ())
            .map_err(SinkError::from_err)
    }
}

/// Embedded metric format: one JSON document per datum on stdout, which Lambda ships to
/// CloudWatch Logs and CloudWatch turns into metrics (no API calls, no IAM action).
#[derive(Debug, Clone)]
pub struct EmfSink {
    /// Namespace.
    pub namespace: String,
}

impl EmfSink {
    /// The EMF document of one datum.
    pub fn document(&self, d: &MetricDatum) -> serde_json::Value {
        let dims: Vec<&str> = d.dimensions.iter().map(|(n, _)| *n).collect();
        let mut doc = serde_json::json!({
            "_aws": {
                "Timestamp": d.timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dims],
                    "Metrics": [{ "Name": d.name, "Unit": d.unit.as_str() }],
                }],
            },
        });
        for (n, v) in &d.dimensions {
            doc[*n] = serde_json::json!(v);
        }
        let count: f64 = d.counts.iter().sum();
        let sum: f64 = d.values.iter().zip(&d.counts).map(|(v, c)| v * c).sum();
        doc[d.name] = if d.values.len() == 1 && d.counts[0] == 1.0 {
            serde_json::json!(d.values[0])
        } else {
            serde_json::json!({
                "Values": d.values, "Counts": d.counts,
                "Min": d.values.iter().copied().fold(f64::INFINITY, f64::min),
                "Max": d.values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "Count": count, "Sum": sum,
            })
        };
        doc
    }
}

impl MetricsSink for EmfSink {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        let mut out = Vec::new();
        for d in datums {
            serde_json::to_writer(&mut out, &self.document(d)).map_err(SinkError::from_err)?;
            out.push(b'\n');
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&out).and_then(|()| stdout.flush()).map_err(SinkError::from_err)
    }
}

/// CloudWatch or EMF, chosen at cold start.
#[derive(Debug, Clone)]
pub enum AnyMetrics {
    /// PutMetricData.
    CloudWatch(CloudWatchSink),
    /// stdout.
    Emf(EmfSink),
}

impl MetricsSink for AnyMetrics {
    async fn put(&self, datums: &[MetricDatum]) -> Result<(), SinkError> {
        match self {
            AnyMetrics::CloudWatch(s) => s.put(datums).await,
            AnyMetrics::Emf(s) => s.put(datums).await,
        }
    }
}

/// Kinesis `PutRecords` to the output stream.
#[derive(Debug, Clone)]
pub struct KinesisSink {
    /// The client.
    pub client: aws_sdk_kinesis::Client,
    /// Stream name or ARN.
    pub stream: String,
}

impl KinesisSink {
    fn is_arn(&self) -> bool {
        self.stream.starts_with("arn:")
    }
}

impl RecordSink for KinesisSink {
    async fn put(&self, records: &[&OutRecord]) -> Result<Vec<Option<String>>, SinkError> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(r.data.clone()))
                    .partition_key(&r.partition_key)
                    .build()
                    .map_err(SinkError::from_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut req = self.client.put_records().set_records(Some(entries));
        req = if self.is_arn() { req.stream_arn(&self.stream) } else { req.stream_name(&self.stream) };
        let out = req.send().await.map_err(SinkError::from_err)?;
        Ok(out
            .records()
            .iter()
            .map(|r| {
                r.error_code().map(|code| format!("{code}: {}", r.error_message().unwrap_or("")))
            })
            .collect())
    }
}

/// DynamoDB: rollup items and per-shard checkpoints in one table (`pk`, `sk` strings).
#[derive(Debug, Clone)]
pub struct DynamoState {
    /// The client.
    pub client: aws_sdk_dynamodb::Client,
    /// Table name.
    pub table: String,
    /// Rollup TTL, seconds after the window start.
    pub ttl_seconds: i64,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn checkpoint_key(shard: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (table::PK.to_string(), s(format!("{}{shard}", table::CHECKPOINT_PK_PREFIX))),
        (table::SK.to_string(), s(table::CHECKPOINT_SK)),
    ])
}

/// RFC 3339 (UTC, seconds) of epoch milliseconds, for readable sort keys.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// The key of a rollup item.
pub fn rollup_key(distribution: &str, window_start_ms: i64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (table::PK.to_string(), s(format!("{}{distribution}", table::ROLLUP_PK_PREFIX))),
        (table::SK.to_string(), s(format!("{}{}", table::ROLLUP_SK_PREFIX, rfc3339(window_start_ms)))),
    ])
}

fn is_conditional_failure<E: std::fmt::Debug>(e: &E) -> bool {
    let text = format!("{e:?}");
    text.contains("ConditionalCheckFailed")
}

impl DynamoState {
    fn checkpoint_condition(attr: &str, prev: Option<&str>) -> (String, Option<AttributeValue>) {
        match prev {
            None => (format!("attribute_not_exists({attr})"), None),
            Some(p) => (format!("{attr} = :prev"), Some(s(p))),
        }
    }
}

impl StateStore for DynamoState {
    async fn checkpoint(&self, shard: &str) -> Result<Checkpoint, SinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(checkpoint_key(shard)))
            .consistent_read(true)
            .send()
            .await
            .map_err(SinkError::from_err)?;
        let get = |attr: &str| out.item().and_then(|i| i.get(attr)).and_then(|v| v.as_s().ok()).cloned();
        Ok(Checkpoint { rollup: get(table::ROLLUP_SEQ), metrics: get(table::METRICS_SEQ), records: get(table::RECORDS_SEQ) })
    }

    async fn apply_rollups(
        &self,
        shard: &str,
        rollups: &[Rollup],
        bad_lines: u64,
        prev: Option<&str>,
        last_seq: &str,
    ) -> Result<Applied, SinkError> {
        let mut items = Vec::with_capacity(rollups.len() + 1);
        let (cond, prev_value) = Self::checkpoint_condition(table::ROLLUP_SEQ, prev);
        let mut values = HashMap::from([(":seq".to_string(), s(last_seq)), (":bad".to_string(), n(bad_lines))]);
        if let Some(p) = prev_value {
            values.insert(":prev".into(), p);
        }
        let checkpoint = Update::builder()
            .table_name(&self.table)
            .set_key(Some(checkpoint_key(shard)))
            .update_expression(format!("SET {} = :seq ADD {} :bad", table::ROLLUP_SEQ, table::BAD_LINES))
            .condition_expression(cond)
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(SinkError::from_err)?;
        items.push(TransactWriteItem::builder().update(checkpoint).build());
        for r in rollups {
            let mut adds = vec![
                (table::RECORDS, r.records),
                (table::BYTES_SENT, r.bytes_sent),
                (table::CACHE_HITS, r.cache_hits),
                (table::CACHE_MISSES, r.cache_misses),
                (table::TIME_TAKEN_US_SUM, r.time_taken_us_sum),
                (table::TIME_TAKEN_COUNT, r.time_taken_count),
            ];
            for (name, v) in table::STATUS_CLASS.iter().zip(r.status_class) {
                if v > 0 {
                    adds.push((name, v));
                }
            }
            let mut values = HashMap::new();
            let mut parts = Vec::new();
            for (i, (name, v)) in adds.iter().enumerate() {
                parts.push(format!("{name} :a{i}"));
                values.insert(format!(":a{i}"), n(*v));
            }
            values.insert(":ttl".into(), n(r.window_start_ms / 1000 + self.ttl_seconds));
            values.insert(":ws".into(), n(r.window_start_ms));
            values.insert(":dist".into(), s(&r.distribution));
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(rollup_key(&r.distribution, r.window_start_ms)))
                .update_expression(format!(
                    "SET {} = :ttl, {} = :ws, distribution = :dist ADD {}",
                    table::EXPIRES_AT,
                    table::WINDOW_START_MS,
                    parts.join(", ")
                ))
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(SinkError::from_err)?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Applied::Yes),
            Err(e) => {
                // Only the checkpoint carries a condition, so a conditional failure means
                // the range was already applied (or another invocation moved on).
                if let Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) =
                    e.as_service_error()
                    && c.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed"))
                {
                    return Ok(Applied::Conflict);
                }
                Err(SinkError::from_err(e))
            }
        }
    }

    async fn advance(&self, shard: &str, which: Progress, prev: Option<&str>, seq: &str) -> Result<Applied, SinkError> {
        let attr = match which {
            Progress::Metrics => table::METRICS_SEQ,
            Progress::Records => table::RECORDS_SEQ,
        };
        let (cond, prev_value) = Self::checkpoint_condition(attr, prev);
        let mut values = HashMap::from([(":seq".to_string(), s(seq))]);
        if let Some(p) = prev_value {
            values.insert(":prev".into(), p);
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(checkpoint_key(shard)))
            .update_expression(format!("SET {attr} = :seq"))
            .condition_expression(cond)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Applied::Yes),
            Err(e) if is_conditional_failure(&e) => Ok(Applied::Conflict),
            Err(e) => Err(SinkError::from_err(e)),
        }
    }
}

/// The real-time log config, read with `cloudfront:GetRealtimeLogConfig`.
#[derive(Debug, Clone)]
pub struct RealtimeLogConfigSource {
    /// The client.
    pub client: aws_sdk_cloudfront::Client,
    /// Config name or ARN.
    pub name_or_arn: String,
}

impl RealtimeLogConfigSource {
    /// Fetches the config's field list and sampling rate.
    pub async fn get(&self) -> Result<(Schema, Option<u32>), SinkError> {
        let mut req = self.client.get_realtime_log_config();
        req = if self.name_or_arn.starts_with("arn:") { req.arn(&self.name_or_arn) } else { req.name(&self.name_or_arn) };
        let out = req.send().await.map_err(SinkError::from_err)?;
        let config = out.realtime_log_config().ok_or_else(|| SinkError("GetRealtimeLogConfig returned no config".into()))?;
        let fields: Vec<&str> = config.fields().iter().map(String::as_str).collect();
        let schema = Schema::from_field_names(&fields).map_err(|e| SinkError(format!("real-time log config fields: {e}")))?;
        Ok((schema, Some(config.sampling_rate() as u32)))
    }
}

impl LayoutSource for RealtimeLogConfigSource {
    fn fetch(&self) -> Pin<Box<dyn Future<Output = Result<(Schema, Option<u32>), SinkError>> + Send + '_>> {
        Box::pin(self.get())
    }
}
