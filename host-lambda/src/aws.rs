//! AWS adapters of the handler's ports ([`crate::ports`]): Kinesis `PutRecords`, DynamoDB
//! rollups and progress markers, and the CloudFront real-time log config as the layout
//! source; and the classification of SDK errors every AWS adapter shares. The CloudWatch
//! metrics sink (and EMF) is in [`crate::cloudwatch`], beside the datums it sends.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use cflog_core::Schema;

use aws_sdk_kinesis::error::{ProvideErrorMetadata, SdkError};

use crate::names::table;
use crate::ports::{Applied, LayoutFuture, LayoutSource, Progress, RecordSink, Retry, Rollup, SinkError, StateStore};
use crate::process::OutRecord;

/// Error codes that say "slow down" or "try again" whatever their HTTP status. Everything
/// else a service answers with a 4xx (validation, access denied, resource not found,
/// conditional failures) is permanent; every 5xx, timeout and connection failure is
/// transient.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionConflictException",
    "TransactionInProgressException",
    "KMSThrottlingException",
    // DynamoDB transaction cancellation reasons.
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Whether an error code (a service error, or a DynamoDB cancellation reason) is worth
/// retrying.
pub fn retry_of_code(code: &str) -> Retry {
    let code = code.strip_suffix("Error").unwrap_or(code);
    if TRANSIENT_CODES.iter().any(|c| c.strip_suffix("Error").unwrap_or(c) == code) || code == "ThrottlingError" {
        Retry::Transient
    } else {
        Retry::Permanent
    }
}

/// Classifies an SDK error: see [`TRANSIENT_CODES`].
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(e: SdkError<E>) -> SinkError {
    let retry = match &e {
        SdkError::ConstructionFailure(_) => Retry::Permanent,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Retry::Transient,
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            match ctx.err().code() {
                _ if status >= 500 || status == 429 => Retry::Transient,
                Some(code) => retry_of_code(code),
                None => Retry::Permanent,
            }
        }
        _ => Retry::Transient,
    };
    let code = e.code().map(str::to_string);
    let mut err = SinkError::from_err(retry, e);
    if let Some(code) = code
        && !err.message.contains(&code)
    {
        err.message = format!("{code}: {}", err.message);
    }
    err
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
    async fn put(&self, records: &[OutRecord<'_>]) -> Result<Vec<Option<String>>, SinkError> {
        let entries = records
            .iter()
            .map(|r| {
                PutRecordsRequestEntry::builder()
                    .data(Blob::new(r.data.to_vec()))
                    .partition_key(r.partition_key)
                    .build()
                    .map_err(|e| SinkError::from_err(Retry::Permanent, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut req = self.client.put_records().set_records(Some(entries));
        req = if self.is_arn() { req.stream_arn(&self.stream) } else { req.stream_name(&self.stream) };
        let out = req.send().await.map_err(classify)?;
        Ok(out
            .records()
            .iter()
            .map(|r| {
                r.error_code().map(|code| format!("{code}: {}", r.error_message().unwrap_or("")))
            })
            .collect())
    }
}

/// DynamoDB: rollup items, per-shard counters and progress markers in one table (`pk`,
/// `sk` strings).
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

/// A DynamoDB number for an estimate: integers stay integers, fractions keep 3 decimals.
fn n_est(v: f64) -> AttributeValue {
    let rounded = (v * 1000.0).round() / 1000.0;
    if rounded.fract() == 0.0 { n(rounded as i64) } else { n(format!("{rounded:.3}")) }
}

fn shard_key(shard: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (table::PK.to_string(), s(format!("{}{shard}", table::SHARD_PK_PREFIX))),
        (table::SK.to_string(), s(table::SHARD_SK)),
    ])
}

/// The key of a progress marker.
pub fn marker_key(shard: &str, which: Progress, first: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (table::PK.to_string(), s(format!("{}{shard}", table::MARKER_PK_PREFIX))),
        (table::SK.to_string(), s(format!("{}#{first}", which.as_str()))),
    ])
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// RFC 3339 (UTC, seconds) of epoch milliseconds, for readable sort keys.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = cflog_core::grammar::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// The key of a rollup item.
pub fn rollup_key(distribution: &str, window_start_ms: i64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (table::PK.to_string(), s(format!("{}{distribution}", table::ROLLUP_PK_PREFIX))),
        (table::SK.to_string(), s(format!("{}{}", table::ROLLUP_SK_PREFIX, rfc3339(window_start_ms)))),
    ])
}

impl DynamoState {
    /// Creates a marker unless one exists: an `Update` that sets `last` and the TTL.
    fn marker_update(&self, shard: &str, which: Progress, first: &str, last: &str) -> Result<Update, SinkError> {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(marker_key(shard, which, first)))
            .update_expression(format!("SET {} = :last, {} = :ttl", table::MARKER_LAST, table::EXPIRES_AT))
            .condition_expression(format!("attribute_not_exists({})", table::MARKER_LAST))
            .set_expression_attribute_values(Some(HashMap::from([
                (":last".to_string(), s(last)),
                (":ttl".to_string(), n(now_s() + table::MARKER_TTL_SECONDS)),
            ])))
            .build()
            .map_err(|e| SinkError::from_err(Retry::Permanent, e))
    }

    fn rollup_update(&self, r: &Rollup) -> Result<Update, SinkError> {
        let mut values = HashMap::new();
        let mut parts = Vec::new();
        let mut add = |name: &str, v: AttributeValue| {
            let i = parts.len();
            parts.push(format!("{name} :a{i}"));
            values.insert(format!(":a{i}"), v);
        };
        for (name, v) in [
            (table::RECORDS, r.records),
            (table::BYTES_SENT, r.bytes_sent),
            (table::CACHE_HITS, r.cache_hits),
            (table::CACHE_MISSES, r.cache_misses),
            (table::TIME_TAKEN_US_SUM, r.time_taken_us_sum),
            (table::TIME_TAKEN_COUNT, r.time_taken_count),
        ] {
            add(name, n(v));
        }
        add(table::EST_RECORDS, n_est(r.est_records));
        add(table::EST_BYTES_SENT, n_est(r.est_bytes_sent));
        for (name, v) in table::STATUS_CLASS.iter().zip(r.status_class) {
            if v > 0 {
                add(name, n(v));
            }
        }
        // Alert context (crate::context): names may hold any character, so placeholders.
        let mut names = HashMap::new();
        for (i, (name, v)) in r.context.iter().enumerate() {
            let (k, val) = (format!("#c{i}"), format!(":c{i}"));
            parts.push(format!("{k} {val}"));
            names.insert(k, name.clone());
            values.insert(val, n(*v));
        }
        let mut set = format!("{} = :ttl, {} = :ws, {} = :dist", table::EXPIRES_AT, table::WINDOW_START_MS, table::DISTRIBUTION);
        values.insert(":ttl".into(), n(r.window_start_ms / 1000 + self.ttl_seconds));
        values.insert(":ws".into(), n(r.window_start_ms));
        values.insert(":dist".into(), s(&r.distribution));
        if let Some(rate) = r.sampling_rate {
            set.push_str(&format!(", {} = :rate", table::SAMPLING_RATE));
            values.insert(":rate".into(), n(rate));
        }
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(rollup_key(&r.distribution, r.window_start_ms)))
            .update_expression(format!("SET {set} ADD {}", parts.join(", ")))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| SinkError::from_err(Retry::Permanent, e))
    }
}

impl StateStore for DynamoState {
    async fn marker(&self, shard: &str, which: Progress, first: &str) -> Result<Option<String>, SinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(marker_key(shard, which, first)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item().and_then(|i| i.get(table::MARKER_LAST)).and_then(|v| v.as_s().ok()).cloned())
    }

    async fn apply_rollups(
        &self,
        shard: &str,
        rollups: &[Rollup],
        bad_lines: u64,
        first: &str,
        last: &str,
    ) -> Result<Applied, SinkError> {
        let mut items = Vec::with_capacity(rollups.len() + 2);
        // The marker first: its condition is the only one, so a conflict is reason 0.
        items.push(TransactWriteItem::builder().update(self.marker_update(shard, Progress::Rollups, first, last)?).build());
        if bad_lines > 0 {
            let counters = Update::builder()
                .table_name(&self.table)
                .set_key(Some(shard_key(shard)))
                .update_expression(format!("ADD {} :bad", table::BAD_LINES))
                .set_expression_attribute_values(Some(HashMap::from([(":bad".to_string(), n(bad_lines))])))
                .build()
                .map_err(|e| SinkError::from_err(Retry::Permanent, e))?;
            items.push(TransactWriteItem::builder().update(counters).build());
        }
        for r in rollups {
            items.push(TransactWriteItem::builder().update(self.rollup_update(r)?).build());
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Applied::Yes),
            Err(e) => {
                use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
                    let codes: Vec<&str> = c.cancellation_reasons().iter().filter_map(|r| r.code()).filter(|c| *c != "None").collect();
                    if codes.contains(&"ConditionalCheckFailed") {
                        return Ok(Applied::Conflict);
                    }
                    // Cancelled for another reason: retry only if every reason is transient.
                    let retry = if codes.iter().all(|c| retry_of_code(c) == Retry::Transient) { Retry::Transient } else { Retry::Permanent };
                    return Err(SinkError { retry, message: format!("TransactWriteItems cancelled: {}", codes.join(", ")) });
                }
                Err(classify(e))
            }
        }
    }

    async fn mark(&self, shard: &str, which: Progress, first: &str, last: &str) -> Result<Applied, SinkError> {
        let update = self.marker_update(shard, which, first, last)?;
        let result = self
            .client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_string))
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Applied::Yes),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(Applied::Conflict),
            Err(e) => Err(classify(e)),
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
        let out = req.send().await.map_err(classify)?;
        let config = out.realtime_log_config().ok_or_else(|| SinkError::permanent("GetRealtimeLogConfig returned no config"))?;
        let fields: Vec<&str> = config.fields().iter().map(String::as_str).collect();
        let schema = Schema::from_field_names(&fields).map_err(|e| SinkError::permanent(format!("real-time log config fields: {e}")))?;
        Ok((schema, Some(config.sampling_rate() as u32)))
    }
}

impl LayoutSource for RealtimeLogConfigSource {
    fn fetch(&self) -> LayoutFuture<'_> {
        Box::pin(self.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        // Expected values from Python's calendar.timegm.
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_793_491_200_000), "2026-11-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_210_096_789), "2024-02-29T12:34:56Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn error_codes_are_classified() {
        for transient in ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError", "ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded"] {
            assert_eq!(retry_of_code(transient), Retry::Transient, "{transient}");
        }
        for permanent in ["ValidationException", "AccessDeniedException", "ResourceNotFoundException", "InvalidParameterValue", "ConditionalCheckFailed", "ValidationError", "ItemCollectionSizeLimitExceeded"] {
            assert_eq!(retry_of_code(permanent), Retry::Permanent, "{permanent}");
        }
    }
}
