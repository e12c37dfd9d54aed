//! The example rules, loaded as wasm modules by the host: hand-worked expectations, and
//! the same tags from an independent JavaScript host on Node's WebAssembly API (the
//! API browsers have).

mod common;

use std::process::Command;

use cflog_plugin_host::{Limits, PluginHost, PluginSet};
use common::*;
use serde_json::{Value, json};

fn native(name: &str) -> Value {
    let host = PluginHost::new(Limits::default()).unwrap();
    let compiled = host.compile_file(&example(name), None).unwrap();
    let mut set = PluginSet::instantiate(&host, &[compiled]).unwrap();
    let lines = fixture_lines();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let e = set.enrich_lines(&fixture_schema(), &refs);
    let stats = set.stats();
    assert_eq!((stats[0].batches, stats[0].records, stats[0].failures), (1, lines.len() as u64, 0), "{stats:?}");
    Value::Array(
        (0..e.len())
            .map(|i| {
                // The record loop's plain-loop path lists the same tags.
                let mut looped = Vec::new();
                e.for_each_tag(i, &mut |k, v| looped.push((k.to_string(), v.to_string())));
                let listed: Vec<(String, String)> = e.tags(i).map(|(k, v)| (k.to_string(), v.to_string())).collect();
                assert_eq!(looped, listed, "record {i}");
                json!({
                    "tags": e.tags(i).map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                    "labels": e.labels(i).map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                    "drop": e.dropped(i),
                })
            })
            .collect(),
    )
}

#[test]
fn example_rules_give_the_hand_worked_tags() {
    let expected = expected();
    for name in RULES {
        let got = native(name);
        let tags: Vec<Value> = got.as_array().unwrap().iter().map(|r| r["tags"].clone()).collect();
        assert_eq!(Value::Array(tags), expected[name], "rule {name}");
    }
}

#[test]
fn labels_and_drop_travel_through_the_abi() {
    let got = native("bots");
    let scores: Vec<f64> = got.as_array().unwrap().iter().map(|r| r["labels"][0][1].as_f64().unwrap()).collect();
    // Named bots score 1, a hosting network alone 0.5, others 0 (see the bots rule docs).
    assert_eq!(scores, [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]);

    let host = PluginHost::new(Limits::default()).unwrap();
    let sec = host.compile_file(&example("security"), Some(r#"{"drop": true}"#.into())).unwrap();
    let mut set = PluginSet::instantiate(&host, &[sec]).unwrap();
    let lines = fixture_lines();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let e = set.enrich_lines(&fixture_schema(), &refs);
    let dropped: Vec<bool> = (0..e.len()).map(|i| e.dropped(i)).collect();
    assert_eq!(dropped, [false, false, true, true, false, true]);
}

/// JSON from JavaScript writes 1.0 as `1`; compare numbers by value.
fn numbers_as_f64(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect()),
        other => other,
    }
}

#[test]
fn same_tags_natively_and_on_the_browser_webassembly_api() {
    let tmp = std::env::temp_dir().join(format!("cflog-plugin-node-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for name in RULES {
        let mut module = example(name);
        if module.extension().is_some_and(|e| e == "wat") {
            // The browser takes binary modules only: compile the text once, as a build step would.
            let bin = wat::parse_file(&module).unwrap();
            module = tmp.join(format!("{name}.wasm"));
            std::fs::write(&module, bin).unwrap();
        }
        let out = Command::new("node")
            .arg(plugins_dir().join("cflog-plugin-host/tests/node/run-plugin.mjs"))
            .arg(&module)
            .arg("")
            .arg(fixture_dir().join("rules.fields"))
            .arg(fixture_dir().join("rules.log"))
            .output()
            .expect("node must be installed (Node 20 has WebAssembly)");
        assert!(out.status.success(), "node failed for {name}: {}", String::from_utf8_lossy(&out.stderr));
        let js: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(numbers_as_f64(js), numbers_as_f64(native(name)), "rule {name}: JavaScript host and wasmtime host disagree");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn standard_log_records_are_projected_too() {
    // A standard-log line: the paths rule sees the same cs-uri-stem.
    let schema = cflog_core::Schema::standard_default();
    let line = b"2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/api/index.html\t200\t-\tMozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)\t-\t-\tHit\tSOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\tTLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-";
    let host = PluginHost::new(Limits::default()).unwrap();
    let compiled = host.compile_file(&example("paths"), None).unwrap();
    let mut set = PluginSet::instantiate(&host, &[compiled]).unwrap();
    let e = set.enrich_lines(&schema, &[line]);
    assert_eq!(e.tags(0).collect::<Vec<_>>(), [("path_class", "api")]);
}
