//! Enrichment rules in the Lambda: `CFLOG_PLUGINS` loads them once, every batch goes to
//! them once, and their tags land in the summaries and the enriched records.

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::process::{ExtraDimensions, InRecord, Processor};

fn rule() -> String {
    format!("{}/../plugins/examples/wat/status_class.wat", env!("CARGO_MANIFEST_DIR"))
}

fn processor() -> Processor {
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "x-host-header"]).unwrap();
    let plugins = cflog_lambda::runtime::load_plugins(&rule()).expect("the example rule loads");
    Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default()).with_plugins(plugins)
}

fn record(seq: &str, line: &str) -> InRecord {
    InRecord { seq: seq.into(), data: Ok(format!("{line}\n").into_bytes()) }
}

#[test]
fn tags_reach_summaries_and_enriched_records() {
    let mut p = processor();
    let records = [
        record("1", "1700000000.000\t200\td1.cloudfront.net"),
        record("2", "1700000000.100\t404\td1.cloudfront.net"),
        record("3", "1700000000.200\tbad\td1.cloudfront.net"),
        record("4", "1700000000.300\t503\td1.cloudfront.net"),
    ];
    let mut out = Vec::new();
    let mut bad = Vec::new();
    let agg = p.run("shardId-0", &records, Some(&mut out), false, &mut bad);
    assert_eq!((agg.bad_lines, bad.len(), agg.dropped_by_plugins), (1, 1, 0));
    let summary = &agg.per_distribution["d1.cloudfront.net"];
    assert_eq!(summary.records, 3);
    let report = summary.report(10);
    assert_eq!(report["tags"], serde_json::json!({"status_class": {"2xx": 1, "4xx": 1, "5xx": 1}}));
    let tags: Vec<String> = out
        .iter()
        .map(|o| {
            let v: serde_json::Value = serde_json::from_slice(&o.data).unwrap();
            v["_cflog"]["tags"]["status_class"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(tags, ["2xx", "4xx", "5xx"]);
    let stats = p.plugin_stats();
    assert_eq!(stats.len(), 1);

    // Tags reach CloudWatch: one TaggedRecords count per (distribution, key, value),
    // stamped with the processing time.
    let datums = cflog_lambda::handler::metrics_of(&agg, 1_700_000_999_000);
    let mut tagged: Vec<(String, f64, i64)> = datums
        .iter()
        .filter(|d| d.name == "TaggedRecords")
        .map(|d| {
            let dims: Vec<String> = d.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect();
            (dims.join(","), d.values.iter().zip(&d.counts).map(|(v, c)| v * c).sum(), d.timestamp_ms)
        })
        .collect();
    tagged.sort_by(|a, b| a.0.cmp(&b.0));
    let expect = |v: &str| (format!("Distribution=d1.cloudfront.net,TagKey=status_class,TagValue={v}"), 1.0, 1_700_000_999_000);
    assert_eq!(tagged, [expect("2xx"), expect("4xx"), expect("5xx")]);
}

#[test]
fn a_rule_that_does_not_load_stops_the_cold_start_naming_it() {
    let err = cflog_lambda::runtime::load_plugins("/nonexistent/rule.wasm").unwrap_err();
    assert!(err.contains("CFLOG_PLUGINS") && err.contains("rule"), "{err}");
    let config = cflog_lambda::config::Config::from_lookup(|k| match k {
        "CFLOG_FIELDS" => Some("timestamp,sc-status".into()),
        "CFLOG_PLUGINS" => Some(rule()),
        _ => None,
    })
    .unwrap();
    assert_eq!(config.plugins.as_deref(), Some(rule().as_str()));
}
