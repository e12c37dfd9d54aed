//! Firehose transformation on a Firehose event fixture (Kinesis stream as the source):
//! one answer per record with the same `recordId`; a line that does not parse is
//! `ProcessingFailed`, never a failed batch. Expected values read off the fixture line
//! (`tests/fixtures/realtime/snowplow-2020-40fields.log`) by hand.

use base64::Engine as _;
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::handler::{FirehoseEvent, Handler, HandlerOptions};
use cflog_lambda::process::{ExtraDimensions, Processor};
use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};

#[test]
fn firehose_event_fixture() {
    let event: FirehoseEvent =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firehose-event.json")).unwrap())
            .unwrap();
    let processor = Processor::new(Schema::realtime_release(40).unwrap(), SummaryOptions::default(), ExtraDimensions::default());
    let h: Handler<MemoryMetrics, MemoryRecords, MemoryState> = Handler::new(processor, None, None, None, None, HandlerOptions::default());
    let resp = h.handle_firehose(&event);
    assert_eq!(resp.records.len(), 3);
    for (a, b) in resp.records.iter().zip(&event.records) {
        assert_eq!(a.record_id, b.record_id);
    }
    assert_eq!(resp.records.iter().map(|r| r.result.as_str()).collect::<Vec<_>>(), ["Ok", "ProcessingFailed", "ProcessingFailed"]);
    // Failed records keep their data, so Firehose's error output has the original line.
    assert_eq!(resp.records[1].data, event.records[1].data);
    assert_eq!(resp.records[2].data, event.records[2].data);

    let data = base64::engine::general_purpose::STANDARD.decode(&resp.records[0].data).unwrap();
    assert_eq!(data.iter().filter(|&&b| b == b'\n').count(), 1, "one JSON line");
    assert!(data.ends_with(b"\n"));
    let v: serde_json::Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(v["timestamp"], serde_json::json!(1607374321.541));
    assert_eq!(v["c-ip"], "127.0.0.1");
    assert_eq!(v["sc-status"], 200);
    assert_eq!(v["sc-bytes"], 485);
    assert_eq!(v["cs-method"], "GET");
    assert_eq!(v["cs-bytes"], 745);
    assert_eq!(v["x-edge-location"], "EWR52-C4");
    assert_eq!(v["_cflog"]["distribution"], "test.cloudfront.net");
    assert_eq!(v["_cflog"]["edge_country"], "US", "EWR is Newark");
    assert_eq!(v["_cflog"]["source"]["seq"], event.records[0].record_id.as_str());
}
