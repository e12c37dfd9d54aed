//! The Lambda's enriched archive (what its output stream carries to Firehose and S3: each
//! record's typed JSON plus an `_cflog` object) read back by `cflog analyze`: the records
//! come from the Lambda's own `Processor`, with an enrichment rule, and a bad line it
//! forwarded. Reading the archive must give the report of analyzing the logs with the rule.
#![cfg(all(feature = "aws", feature = "plugins"))]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::process::{ExtraDimensions, InRecord, Processor};
use cflog_plugin_host::{Limits, PluginHost, PluginSet, PluginSpec};
use cflog_testkit::scratch::Scratch;
use serde_json::Value;

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn the_lambdas_enriched_archive_analyzes_like_the_logs_it_came_from() {
    let dir = Scratch::new("enriched-archive");
    let log: PathBuf = dir.join("rt.log");
    let out = cflog(&["gen", "--format", "realtime", "--lines", "3000", "--seed", "5", "-o", log.to_str().unwrap()]);
    assert!(out.status.success());
    let mut data = std::fs::read(&log).unwrap();
    data.extend_from_slice(b"1700000000.000\tnot\ta\trecord\n");
    std::fs::write(&log, &data).unwrap();
    let rule = root().join("plugins/examples/wat/status_class.wat").display().to_string();

    // The Lambda: one Kinesis record per line, enriched by the rule, the bad line forwarded.
    let host = PluginHost::new(Limits::default()).unwrap();
    let compiled = PluginSpec::parse(&rule).compile(&host, None).unwrap();
    let set = PluginSet::instantiate(&host, &[compiled]).unwrap();
    let mut processor =
        Processor::new(Schema::realtime_release(46).unwrap(), SummaryOptions::default(), ExtraDimensions::default()).with_plugins(set);
    let records: Vec<InRecord> = data
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| InRecord { seq: format!("{:056}", i + 1), data: Ok(line.to_vec()) })
        .collect();
    let (mut enriched, mut bad) = (cflog_lambda::process::OutBatch::new(), Vec::new());
    processor.run("shardId-000000000000", &records, Some(&mut enriched), true, &mut bad);
    assert_eq!((enriched.len(), bad.len()), (3001, 1));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for r in enriched.iter() {
        gz.write_all(r.data).unwrap();
    }
    // The layout deploy/template.yaml's Firehose writes (Hive-style partitions).
    let archive_dir = dir.join("archive/enriched/records/distribution=d111111abcdef8.cloudfront.net/dt=2026-11-01/hour=00");
    std::fs::create_dir_all(&archive_dir).unwrap();
    let archive = archive_dir.join("cflog-enriched-1-2026-11-01-00-00-00-0f1e2d3c.gz");
    std::fs::write(&archive, gz.finish().unwrap()).unwrap();
    let first: Value = serde_json::from_slice(enriched.get(0).unwrap().data.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert!(first["_cflog"]["tags"]["status_class"].is_string(), "{first}");

    let analyze = |args: &[&str]| {
        let out = cflog(&[&["analyze", "--json", "--top-capacity", "100000", "--client-capacity", "100000", "--threads", "2"][..], args].concat());
        assert_eq!(out.status.code(), Some(3), "one bad line: {}", String::from_utf8_lossy(&out.stderr));
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (direct, _) = analyze(&["--plugin", &rule, log.to_str().unwrap()]);
    let (from_archive, err) = analyze(&[dir.join("archive").to_str().unwrap()]);
    assert_eq!((direct["records"].as_u64(), direct["bad_lines"].as_u64()), (Some(3000), Some(1)));
    assert!(direct["tags"]["status_class"]["2xx"].as_u64().unwrap() > 0);
    assert_eq!(from_archive, direct);
    assert!(
        err.contains(&format!(
            "{}:3001: a line the Lambda could not parse, forwarded with its reason: 4 fields, but the layout has 46",
            archive.display()
        )),
        "{err}"
    );
}
