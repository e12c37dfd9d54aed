//! The events Lambda hands the function and the answers it expects: Kinesis event source
//! mapping batches (with `ReportBatchItemFailures`) and Firehose data transformations.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A record whose data is not base64: a bad line of its own, never a failed batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record data is not base64: {0}")]
pub struct DataError(#[from] base64::DecodeError);

/// The payload of a Kinesis or Firehose record.
pub fn decode_record(data: &str) -> Result<Vec<u8>, DataError> {
    Ok(base64::engine::general_purpose::STANDARD.decode(data.trim())?)
}

/// A Kinesis event as Lambda delivers it. Data stays a string here so one record with
/// bad base64 is a bad line, not a batch that fails to deserialize.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct KinesisEvent {
    /// The records, all from one shard when an event source mapping invokes.
    #[serde(rename = "Records")]
    pub records: Vec<KinesisEventRecord>,
}

/// One record of a [`KinesisEvent`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct KinesisEventRecord {
    /// `shardId-000000000000:<sequence number>`.
    #[serde(rename = "eventID", default)]
    pub event_id: Option<String>,
    /// The stream ARN.
    #[serde(rename = "eventSourceARN", default)]
    pub event_source_arn: Option<String>,
    /// `aws:kinesis`.
    #[serde(rename = "eventSource", default)]
    pub event_source: Option<String>,
    /// The Kinesis part.
    pub kinesis: KinesisPayload,
}

/// The `kinesis` object of a record.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct KinesisPayload {
    /// Sequence number.
    pub sequence_number: String,
    /// Base64 data.
    pub data: String,
    /// Partition key.
    #[serde(default)]
    pub partition_key: String,
    /// Arrival time, epoch seconds.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
    /// `1.0`.
    #[serde(default)]
    pub kinesis_schema_version: Option<String>,
}

/// The handler's answer (ReportBatchItemFailures).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// At most one per shard: the first sequence number to re-deliver.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One entry of [`BatchResponse`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The sequence number.
    pub item_identifier: String,
}

/// A Firehose transformation event.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseEvent {
    /// Invocation id.
    #[serde(default)]
    pub invocation_id: Option<String>,
    /// Delivery stream ARN.
    #[serde(default)]
    pub delivery_stream_arn: Option<String>,
    /// Source stream ARN (when the delivery stream reads a Kinesis stream).
    #[serde(default)]
    pub source_kinesis_stream_arn: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<String>,
    /// The records.
    pub records: Vec<FirehoseRecord>,
}

/// One Firehose input record.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseRecord {
    /// Must be echoed back.
    pub record_id: String,
    /// Arrival, epoch milliseconds.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<i64>,
    /// Base64 data.
    pub data: String,
    /// Kinesis metadata when the source is a stream.
    #[serde(default)]
    pub kinesis_record_metadata: Option<serde_json::Value>,
}

/// The Firehose transformation answer.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct FirehoseResponse {
    /// One per input record, same `recordId`.
    pub records: Vec<FirehoseResponseRecord>,
}

/// One transformed record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FirehoseResponseRecord {
    /// The input's id.
    pub record_id: String,
    /// `Ok`, `Dropped` (an enrichment rule dropped every line) or `ProcessingFailed`.
    pub result: String,
    /// Base64 data: the JSON lines, empty when dropped, the input data on failure.
    pub data: String,
}
