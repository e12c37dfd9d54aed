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

/// The payload of a Kinesis or Firehose record. Decoded with `cflog_simd::base64` (AVX2 or
/// NEON; the `base64-simd` crate's AVX2 loop took ~1.5 instructions a character, the scalar
/// `base64` crate ~12, 13 % of the handler, issue 13); data it refuses goes to the `base64`
/// crate, which says why (and decides: the two accept the same padded standard base64,
/// proven by the tests below and in simd/tests/base64.rs).
pub fn decode_record(data: &str) -> Result<Vec<u8>, DataError> {
    let data = data.trim();
    let mut bytes = Vec::with_capacity(cflog_simd::base64::room(data.len()));
    if cflog_simd::base64::decode_append(data.as_bytes(), &mut bytes) {
        return Ok(bytes);
    }
    Ok(base64::engine::general_purpose::STANDARD.decode(data)?)
}

/// [`decode_record`] of a record's own `text`, without allocating: the bytes are decoded
/// into `spare` (a buffer given back by the previous call) and returned in it, and `text`'s
/// buffer, cleared, becomes the next call's `spare`. A batch's decoded records thus live in
/// the buffers of its base64 texts (each record's `Vec` and its free were ~400 instructions
/// and its copy ~1 KB of heap a record of the Lambda handler; issue 13). Text the vector
/// decoder refuses is decoded from `text` by the `base64` crate, as `decode_record` does.
///
/// A `spare` too small for the decode's room (a record longer than 4/3 of the one before:
/// 1 record in 5 of the handler bench) is replaced by a new buffer of the size needed, not
/// grown: growing reallocates and can copy the old, unused capacity (the new buffer measured
/// ~25 instructions a record less, of ~2,320; issue 13).
pub fn decode_record_reusing(text: String, spare: &mut Vec<u8>) -> Result<Vec<u8>, DataError> {
    spare.clear();
    let trimmed = text.trim();
    let needed = cflog_simd::base64::room(trimmed.len());
    if spare.capacity() < needed {
        *spare = Vec::with_capacity(needed);
    }
    if !cflog_simd::base64::decode_append(trimmed.as_bytes(), spare) {
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
    /// The shard id [`EventId::new`] read last on this thread.
    static LAST_SHARD: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// `v` as the `Arc<str>` held in `last` when the text is equal, else as a new one, which
/// `last` then holds.
fn share(last: &'static std::thread::LocalKey<RefCell<Option<Arc<str>>>>, v: &str) -> Arc<str> {
    last.with_borrow_mut(|last| match last {
        Some(s) if **s == *v => Arc::clone(s),
        _ => Arc::clone(last.insert(Arc::from(v))),
    })
}

/// Bytes after the shard id an [`EventId`] keeps without allocating (a Kinesis sequence
/// number has 56 digits).
const INLINE: usize = 64;

/// A record's `eventID`, `<shard id>:<sequence number>` as Kinesis writes it, of which the
/// handler reads only the shard id. The shard id is shared by the records that repeat it
/// (as the stream ARN, [`shared_str`]) and the rest, when ASCII and at most [`INLINE`]
/// bytes, is kept in place: reading one is no allocation, dropping it no free (a `String`
/// was both, ~100–130 instructions a record in the handler bench; issue 13). Any other text
/// is kept as it is. Reads and writes as the text.
#[derive(Clone)]
pub struct EventId {
    /// The text before the first `:`; `None` when there is no `:` (then `rest` is all).
    shard: Option<Arc<str>>,
    rest: Rest,
}

#[derive(Clone)]
enum Rest {
    /// ASCII text of `len` bytes at the start of `bytes`.
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Rest {
    fn new(text: &str) -> Self {
        match u8::try_from(text.len()) {
            Ok(len) if text.len() <= INLINE && text.is_ascii() => {
                let mut bytes = [0; INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Rest::Inline { len, bytes }
            }
            _ => Rest::Heap(text.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // ASCII, so always UTF-8.
            Rest::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Rest::Heap(s) => s,
        }
    }
}

impl EventId {
    /// The id whose text is `text`.
    pub fn new(text: &str) -> Self {
        match text.split_once(':') {
            Some((shard, rest)) => EventId { shard: Some(share(&LAST_SHARD, shard)), rest: Rest::new(rest) },
            None => EventId { shard: None, rest: Rest::new(text) },
        }
    }

    /// The shard id: the text before the first `:`, if there is one.
    pub fn shard(&self) -> Option<&str> {
        self.shard.as_deref()
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.shard {
            Some(shard) => write!(f, "{shard}:{}", self.rest.as_str()),
            None => f.write_str(self.rest.as_str()),
        }
    }
}

impl std::fmt::Debug for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl PartialEq for EventId {
    fn eq(&self, other: &Self) -> bool {
        self.shard == other.shard && self.rest.as_str() == other.rest.as_str()
    }
}

impl Eq for EventId {}

impl From<&str> for EventId {
    fn from(text: &str) -> Self {
        EventId::new(text)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = EventId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EventId, E> {
                Ok(EventId::new(v))
            }
        }
        d.deserialize_str(Text)
    }
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
            Ok(Some(share(&LAST_SHARED, v)))
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
    /// `shardId-000000000000:<sequence number>` ([`EventId`]: no allocation a record).
    #[serde(rename = "eventID", default)]
    pub event_id: Option<EventId>,
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
        assert_eq!(r.event_id.as_ref().map(|id| id.to_string()).as_deref(), Some("shardId-000000000006:49590338271490256608559692538361571095921575989136588898"));
        assert_eq!(r.event_id.as_ref().and_then(super::EventId::shard), Some("shardId-000000000006"));
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

    proptest::proptest! {
        /// Any `eventID` text (sequence-number-like ones around the inline size, colons
        /// anywhere, non-ASCII, empty) reads back as its text, gives the shard id the handler
        /// took before (`split_once(':')` of the `String`), and writes the same JSON back.
        #[test]
        fn event_id_reads_and_writes_its_text(text in proptest::prop_oneof![
            "shardId-[0-9]{12}:[0-9]{50,70}",
            "[a-z0-9:é\"\\\\]{0,80}",
            proptest::prelude::any::<String>(),
        ]) {
            let json = serde_json::to_string(&text).unwrap();
            let id: super::EventId = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(id.to_string(), text.clone());
            proptest::prop_assert_eq!(id.shard(), text.split_once(':').map(|(s, _)| s));
            proptest::prop_assert_eq!(serde_json::to_string(&id).unwrap(), json);
            proptest::prop_assert_eq!(&id, &super::EventId::new(&text));
        }
    }

    /// Records of two shards: each id's shard id is shared with the previous record's when
    /// they are equal (one allocation while it repeats), the sequence part kept in place up
    /// to 64 bytes and on the heap beyond; null and a missing key are `None`.
    #[test]
    fn event_ids_share_their_shard_and_keep_the_rest_in_place() {
        let seq = "49590338271490256608559692538361571095921575989136588898";
        let ids = [format!("shardId-1:{seq}"), format!("shardId-1:{seq}1"), format!("shardId-2:{}", "9".repeat(64)), format!("shardId-2:{}", "9".repeat(65))];
        let rec = |id: &str| format!(r#"{{"eventID": {id}, "kinesis": {{"sequenceNumber": "1", "data": ""}}}}"#);
        let quoted: Vec<String> = ids.iter().map(|i| serde_json::to_string(i).unwrap()).collect();
        let json = format!(r#"{{"Records": [{}, {}, {}, {}, {}, {{"kinesis": {{"sequenceNumber": "1", "data": ""}}}}]}}"#, rec(&quoted[0]), rec(&quoted[1]), rec(&quoted[2]), rec(&quoted[3]), rec("null"));
        let event: super::KinesisEvent = serde_json::from_str(&json).unwrap();
        let got: Vec<_> = event.records.iter().map(|r| r.event_id.clone()).collect();
        let text: Vec<Option<String>> = got.iter().map(|i| i.as_ref().map(|i| i.to_string())).collect();
        assert_eq!(text, [Some(ids[0].clone()), Some(ids[1].clone()), Some(ids[2].clone()), Some(ids[3].clone()), None, None]);
        let shard = |i: usize| got[i].as_ref().unwrap().shard.clone().unwrap();
        assert_eq!([&*shard(0), &*shard(2)], ["shardId-1", "shardId-2"]);
        assert!(std::sync::Arc::ptr_eq(&shard(0), &shard(1)) && std::sync::Arc::ptr_eq(&shard(2), &shard(3)), "a repeated shard id is not shared");
        let inline = |i: usize| matches!(got[i].as_ref().unwrap().rest, super::Rest::Inline { .. });
        assert_eq!([inline(0), inline(1), inline(2), inline(3)], [true, true, true, false]);
        assert_eq!(serde_json::to_value(&event.records[4]).unwrap()["eventID"], serde_json::Value::Null);
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
