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
    let mut out = cflog_lambda::process::OutBatch::new();
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
            let v: serde_json::Value = serde_json::from_slice(o.data).unwrap();
            v["_cflog"]["tags"]["status_class"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(tags, ["2xx", "4xx", "5xx"]);
    let stats = p.plugin_stats();
    assert_eq!(stats.len(), 1);

    // Tags reach CloudWatch: one TaggedRecords count per (distribution, key, value),
    // stamped with the processing time.
    let datums = cflog_lambda::cloudwatch::metrics_of(&agg, 1_700_000_999_000).datums;
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
    let err = cflog_lambda::runtime::load_plugins("/nonexistent/rule.wasm").unwrap_err().to_string();
    assert!(err.contains("CFLOG_PLUGINS") && err.contains("rule"), "{err}");
    let config = cflog_lambda::config::Config::from_lookup(|k| match k {
        "CFLOG_FIELDS" => Some("timestamp,sc-status".into()),
        "CFLOG_PLUGINS" => Some(rule()),
        _ => None,
    })
    .unwrap();
    assert_eq!(config.plugins.as_deref(), Some(rule().as_str()));
}

/// The security example rule (built by `make plugins`) with `"drop": true`.
fn dropping_rule() -> String {
    let dir = match std::env::var_os("CFLOG_PLUGIN_WASM_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")).ancestors().nth(2).unwrap().join("wasm32-unknown-unknown/release"),
    };
    let wasm = dir.join("cflog_rule_security.wasm");
    assert!(wasm.is_file(), "{} missing: run `make plugins` first", wasm.display());
    // Under the target dir with a fixed name: each run replaces the last one's file.
    let config = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda-drop.json");
    std::fs::write(&config, br#"{"drop": true}"#).unwrap();
    format!("{}:{}", wasm.display(), config.display())
}

/// Firehose mode: one pass over the batch (the rule is called once), `Dropped` for a
/// record the rule dropped, `ProcessingFailed` with the data echoed for a bad line, `Ok`
/// with the enriched line otherwise; every recordId answered once, in order.
#[test]
fn firehose_batch_in_one_pass_with_dropped_records() {
    use base64::Engine as _;
    use cflog_lambda::handler::{FirehoseEvent, Handler, HandlerOptions};
    use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};
    let b64 = base64::engine::general_purpose::STANDARD;
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "cs-uri-stem", "x-host-header"]).unwrap();
    let plugins = cflog_lambda::runtime::load_plugins(&dropping_rule()).expect("the security rule loads");
    let p = Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default()).with_plugins(plugins);
    let h: Handler<MemoryMetrics, MemoryRecords, MemoryState> = Handler::new(p, None, None, None, None, HandlerOptions::default());
    // Canonical order: timestamp, sc-status, cs-uri-stem, x-host-header.
    let lines = [
        "1700000000.000\t200\t/index.html\td1.cloudfront.net",
        "1700000000.100\t404\t/wp-login.php\td1.cloudfront.net",
        "1700000000.200\tbad\t/index.html\td1.cloudfront.net",
        "1700000000.300\t200\t/app.js\td1.cloudfront.net",
    ];
    let records: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| serde_json::json!({"recordId": format!("r{i}"), "data": b64.encode(format!("{l}\n"))}))
        .collect();
    let event: FirehoseEvent = serde_json::from_value(serde_json::json!({"invocationId": "i", "records": records})).unwrap();
    let response = h.handle_firehose(&event);
    let results: Vec<(&str, &str)> = response.records.iter().map(|r| (r.record_id.as_str(), r.result.as_str())).collect();
    assert_eq!(results, [("r0", "Ok"), ("r1", "Dropped"), ("r2", "ProcessingFailed"), ("r3", "Ok")]);
    assert_eq!(response.records[1].data, "");
    assert_eq!(response.records[2].data, event.records[2].data, "the failed record's data is echoed");
    let ok: serde_json::Value = serde_json::from_slice(&b64.decode(&response.records[3].data).unwrap()).unwrap();
    assert_eq!(ok["cs_uri_stem"].as_str().or(ok["cs-uri-stem"].as_str()), Some("/app.js"), "{ok}");
    let stats = h.processor_plugin_stats();
    assert_eq!(stats[0].batches, 1, "one call for the whole batch");
    assert_eq!(stats[0].records, 4);
}
