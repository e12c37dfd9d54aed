//! The events Lambda hands the function and the answers it expects: Kinesis event source
//! mapping batches (with `ReportBatchItemFailures`) and Firehose data transformations.

use std::cell::RefCell;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A record whose data is not base64: a bad line of its own, never a failed batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record data is not base64: {0}")]
pub struct DataError(#[from] base64::DecodeError);

/// The payload of a Kinesis or Firehose record. Decoded with `base64-simd` (vector code
/// picked at run time; the scalar `base64` crate took ~12 instructions per byte, 13 % of the
/// handler, issue 13); data it refuses goes to the `base64` crate, which says why (and
/// decides: the two accept the same padded standard base64, proven by the tests below).
pub fn decode_record(data: &str) -> Result<Vec<u8>, DataError> {
    let data = data.trim();
    match base64_simd::STANDARD.decode_to_vec(data) {
        Ok(bytes) => Ok(bytes),
        Err(_) => Ok(base64::engine::general_purpose::STANDARD.decode(data)?),
    }
}

/// [`decode_record`] of a record's own `text`, without allocating: the bytes are decoded
/// into `spare` (a buffer given back by the previous call) and returned in it, and `text`'s
/// buffer, cleared, becomes the next call's `spare`. A batch's decoded records thus live in
/// the buffers of its base64 texts (each record's `Vec` and its free were ~400 instructions
/// and its copy ~1 KB of heap a record of the Lambda handler; issue 13). Text the vector
/// decoder refuses is decoded from `text` by the `base64` crate, as `decode_record` does.
///
/// A `spare` too small for the decoded bytes (a record longer than 4/3 of the one before:
/// 1 record in 5 of the handler bench) is replaced by a new buffer of the size needed, not
/// grown: growing reallocates and can copy the old, unused capacity (the new buffer measured
/// ~25 instructions a record less, of ~2,320; issue 13).
pub fn decode_record_reusing(text: String, spare: &mut Vec<u8>) -> Result<Vec<u8>, DataError> {
    spare.clear();
    let trimmed = text.trim();
    // Padded base64 decodes to at most 3 bytes per 4 characters.
    let needed = trimmed.len().div_ceil(4) * 3;
    if spare.capacity() < needed {
        *spare = Vec::with_capacity(needed);
    }
    if base64_simd::STANDARD.decode_append(trimmed, spare).is_err() {
        spare.clear();
        return Ok(base64::engine::general_purpose::STANDARD.decode(trimmed)?);
    }
    let mut buffer = text.into_bytes();
    buffer.clear();
    Ok(std::mem::replace(spare, buffer))
}

/// A Kinesis event as Lambda delivers it. Data stays a string here so one record with
/// bad base64 is a bad line, not a batch that fails to deserialize.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct KinesisEvent {
    /// The records, all from one shard when an event source mapping invokes.
    #[serde(rename = "Records")]
    pub records: Vec<KinesisEventRecord>,
}

thread_local! {
    /// The string [`shared_str`] read last on this thread.
    static LAST_SHARED: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// Reads an optional string that repeats record after record (a Kinesis record's stream
/// ARN) as an `Arc<str>`, the same allocation as the previous one read on this thread when
/// the text is equal: no allocation, copy and free a record for it (issue 13). A string
/// that differs becomes the one shared next.
fn shared_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<str>>, D::Error> {
    struct Shared;
    impl<'de> serde::de::Visitor<'de> for Shared {
        type Value = Option<Arc<str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(LAST_SHARED.with_borrow_mut(|last| match last {
                Some(s) if **s == *v => Arc::clone(s),
                _ => Arc::clone(last.insert(Arc::from(v))),
            })))
        }
    }
    d.deserialize_option(Shared)
}

/// Writes what [`shared_str`] reads (serde's `Arc` support is behind its `rc` feature).
fn write_shared<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

/// One record of a [`KinesisEvent`].
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct KinesisEventRecord {
    /// `shardId-000000000000:<sequence number>`.
    #[serde(rename = "eventID", default)]
    pub event_id: Option<String>,
    /// The stream ARN: the same text on every record of a shard, so read once and shared
    /// by the records that repeat it ([`shared_str`]).
    #[serde(rename = "eventSourceARN", default, deserialize_with = "shared_str", serialize_with = "write_shared")]
    pub event_source_arn: Option<Arc<str>>,
    /// `aws:kinesis`. Written, never read from an event: the handler does not use it, and
    /// each string read is an allocation and a free a record (issue 13).
    #[serde(rename = "eventSource", default, skip_deserializing)]
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
    /// Partition key. Written, never read from an event (as `event_source`).
    #[serde(default, skip_deserializing)]
    pub partition_key: String,
    /// Arrival time, epoch seconds.
    #[serde(default)]
    pub approximate_arrival_timestamp: Option<f64>,
    /// `1.0`. Written, never read from an event (as `event_source`).
    #[serde(default, skip_deserializing)]
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

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use proptest::strategy::Strategy as _;

    use super::decode_record;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        /// Any bytes encoded come back, surrounded by whitespace or not.
        #[test]
        fn encoded_bytes_decode_back(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), pad in 0usize..3) {
            let text = format!("{}{}{}", " ".repeat(pad), base64::engine::general_purpose::STANDARD.encode(&bytes), "\n".repeat(pad));
            proptest::prop_assert_eq!(decode_record(&text).unwrap(), bytes);
        }

        /// On text that is nearly base64 (wrong lengths, padding in odd places, stray bytes,
        /// non-zero trailing bits) the answer is the `base64` crate's, error message included.
        #[test]
        fn nearly_base64_answers_as_the_base64_crate(text in proptest::collection::vec(proptest::prop_oneof![
            20 => proptest::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()),
            2 => proptest::prelude::Just(b'='), 1 => proptest::sample::select(b"-_ .\n*".to_vec())], 0..90)) {
            let text = String::from_utf8(text).unwrap();
            let want = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(decode_record(&text).map_err(|e| e.0.to_string()), want, "{:?}", text);
        }
    }

    proptest::proptest! {
        /// Record after record, with the buffers passed along as the handler passes them,
        /// `decode_record_reusing` answers what `decode_record` answers: any bytes encoded
        /// (with whitespace around), nearly-base64 text, empty text, in any order.
        #[test]
        fn reusing_buffers_answers_as_decode_record(texts in proptest::collection::vec(proptest::prop_oneof![
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
                .prop_map(|b| format!(" {}\n", base64::engine::general_purpose::STANDARD.encode(b))),
            "[A-Za-z0-9+/=]{0,40}".prop_map(String::from),
        ], 1..12)) {
            let mut spare = Vec::new();
            for text in texts {
                let want = decode_record(&text).map_err(|e| e.to_string());
                let got = super::decode_record_reusing(text, &mut spare).map_err(|e| e.to_string());
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    /// The example event of the AWS Lambda developer guide ("Using Lambda with Kinesis"):
    /// what the handler reads is read (the data decodes to the guide's text), the strings
    /// it does not read are not (no allocation for them), unknown keys are ignored.
    #[test]
    fn aws_example_event_reads_what_the_handler_uses() {
        let json = r#"{"Records": [{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "1",
            "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
            "data": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "approximateArrivalTimestamp": 1545084650.987},
            "eventSource": "aws:kinesis", "eventVersion": "1.0",
            "eventID": "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
            "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
            "awsRegion": "us-east-2", "eventSourceARN": "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}"#;
        let event: super::KinesisEvent = serde_json::from_str(json).unwrap();
        let r = &event.records[0];
        assert_eq!(r.event_id.as_deref(), Some("shardId-000000000006:49590338271490256608559692538361571095921575989136588898"));
        assert_eq!(r.event_source_arn.as_deref(), Some("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"));
        assert_eq!(r.kinesis.sequence_number, "49590338271490256608559692538361571095921575989136588898");
        assert_eq!(decode_record(&r.kinesis.data).unwrap(), b"Hello, this is a test.");
        assert_eq!(r.kinesis.approximate_arrival_timestamp, Some(1545084650.987));
        assert_eq!((r.event_source.as_deref(), r.kinesis.partition_key.as_str(), r.kinesis.kinesis_schema_version.as_deref()), (None, "", None));
    }

    /// The stream ARN read record after record is one allocation while it repeats, a new
    /// one when it changes; null and a missing key are `None`; writing gives the text back.
    #[test]
    fn repeated_arn_is_shared_and_reads_back() {
        let rec = |arn: &str| format!(r#"{{"eventSourceARN": {arn}, "kinesis": {{"sequenceNumber": "1", "data": ""}}}}"#);
        let (a, b) = ("\"arn:aws:kinesis:us-east-1:1:stream/a\"", "\"arn:aws:kinesis:us-east-1:1:stream/b\"");
        let json = format!(r#"{{"Records": [{}, {}, {}, {}, {}, {}]}}"#, rec(a), rec(a), rec(b), rec(b), rec("null"), rec(a));
        let event: super::KinesisEvent = serde_json::from_str(&json).unwrap();
        let arns: Vec<_> = event.records.iter().map(|r| r.event_source_arn.clone()).collect();
        let text: Vec<_> = arns.iter().map(|a| a.as_deref()).collect();
        assert_eq!(text, [Some(&a[1..a.len() - 1]), Some(&a[1..a.len() - 1]), Some(&b[1..b.len() - 1]), Some(&b[1..b.len() - 1]), None, Some(&a[1..a.len() - 1])]);
        let same = |i: usize, j: usize| std::sync::Arc::ptr_eq(arns[i].as_ref().unwrap(), arns[j].as_ref().unwrap());
        assert!(same(0, 1) && same(2, 3), "a repeated ARN is not shared");
        assert!(!same(1, 2));
        let missing: super::KinesisEvent = serde_json::from_str(r#"{"Records": [{"kinesis": {"sequenceNumber": "1", "data": ""}}]}"#).unwrap();
        assert_eq!(missing.records[0].event_source_arn, None);
        let back = serde_json::to_value(&event.records[0]).unwrap();
        assert_eq!(back["eventSourceARN"], serde_json::json!("arn:aws:kinesis:us-east-1:1:stream/a"));
        assert_eq!(serde_json::to_value(&event.records[4]).unwrap()["eventSourceARN"], serde_json::Value::Null);
    }

    #[test]
    fn trailing_bits_and_padding() {
        // RFC 4648 3.5: the bits after the last whole byte must be zero for the canonical
        // text; the base64 crate refuses non-zero ones ("QR==" has them, "QQ==" not).
        assert_eq!(decode_record("QQ==").unwrap(), b"A");
        assert!(decode_record("QR==").is_err());
        assert!(decode_record("QQ").is_err());
        assert!(decode_record("QQ=").is_err());
        assert_eq!(decode_record("").unwrap(), b"");
        assert_eq!(decode_record(" aGk=\n").unwrap(), b"hi");
    }
}
