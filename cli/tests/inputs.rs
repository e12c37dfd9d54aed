//! Every input an operator has, through the real `cflog` binary: directories, glob patterns,
//! `--files-from`, `--keep-going`, binary and empty inputs, and cflog's own NDJSON (the
//! output of `cflog parse`) read back by `parse` and `analyze`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::tmp_dir;
use serde_json::Value;

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn cflog_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cflog");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for cflog");
    writer.join().unwrap();
    out
}

fn fixture(path: &str) -> String {
    format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}


fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report(out: &Output) -> Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status, stderr(out));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

fn records(out: &Output) -> u64 {
    serde_json::from_slice::<Value>(&out.stdout).expect("a JSON report")["records"].as_u64().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// Not a log: the start of a PNG image.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0\x5c\x72\xa8\x66\0\0\0\x04sBIT";

/// A tree of logs in every shape a directory holds them, plus two files that are not logs.
/// Records: 2 (aws-doc-2019) + 1 (legacy-2015, gzip) + 1 (a Firehose object named without
/// an extension) + 2 (cflog NDJSON) = 6.
fn log_tree(dir: &Path) {
    std::fs::create_dir_all(dir.join("2019/12")).unwrap();
    std::fs::create_dir_all(dir.join("firehose")).unwrap();
    std::fs::copy(fixture("standard/aws-doc-2019-33col.log"), dir.join("2019/aws-doc.log")).unwrap();
    let legacy = std::fs::read(fixture("standard/legacy-2015-19col.log")).unwrap();
    std::fs::write(dir.join("2019/12/E2EXAMPLE.2015-01-28-18.ABCDEF12.gz"), gzip(&legacy)).unwrap();
    std::fs::copy(fixture("realtime/snowplow-2020-40fields.log"), dir.join("firehose/cflog-stream-1-2020-12-07-21-12-01-a1b2c3d4")).unwrap();
    let ndjson = cflog(&["parse", &fixture("standard/aws-doc-2019-33col.log")]);
    std::fs::write(dir.join("firehose/parsed.ndjson"), &ndjson.stdout).unwrap();
    std::fs::write(dir.join("README.md"), "# Logs\n\nCopied from the bucket.\n").unwrap();
    std::fs::write(dir.join("2019/.DS_Store"), PNG).unwrap();
}

#[test]
fn a_directory_is_read_recursively_and_what_is_not_a_log_is_skipped_and_counted_once() {
    let dir = tmp_dir("dir");
    log_tree(&dir);
    let out = cflog(&["analyze", "--json", "--no-progress", s(&dir)]);
    let r = report(&out);
    assert_eq!((r["records"].as_u64(), r["bad_lines"].as_u64()), (Some(6), Some(0)), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.matches("skipped").count(), 1, "{err}");
    assert!(err.contains("cflog: skipped 2 file(s) in 2 directories that are not logs"), "{err}");

    // `parse` reads the same inputs, in path order.
    let out = cflog(&["parse", s(&dir)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);
}

#[test]
fn glob_patterns_the_shell_did_not_expand_are_expanded() {
    let dir = tmp_dir("glob");
    log_tree(&dir);
    let all_gz = format!("{}/**/*.gz", s(&dir));
    let logs = format!("{}/2019/*.log", s(&dir));
    let out = cflog(&["analyze", "--json", &all_gz, &logs]);
    assert_eq!(records(&out), 3, "{}", stderr(&out));
    let out = cflog(&["parse", &logs]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2, "{}", stderr(&out));

    let none = format!("{}/*.zzz", s(&dir));
    let out = cflog(&["analyze", "--json", &none]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("no file matches {none}")), "{}", stderr(&out));
}

#[test]
fn files_from_reads_one_path_per_line_from_a_file_or_stdin() {
    let dir = tmp_dir("files-from");
    log_tree(&dir);
    let list = format!(
        "{}\n{}\r\n\n",
        dir.join("2019/aws-doc.log").display(),
        dir.join("2019/12/E2EXAMPLE.2015-01-28-18.ABCDEF12.gz").display()
    );
    let list_file = dir.join("list.txt");
    std::fs::write(&list_file, &list).unwrap();
    assert_eq!(records(&cflog(&["analyze", "--json", "--files-from", s(&list_file)])), 3);
    let out = cflog_stdin(&["analyze", "--json", "--files-from", "-"], list.as_bytes());
    assert_eq!(records(&out), 3, "{}", stderr(&out));
    // Both the list and the arguments.
    let out = cflog(&["analyze", "--json", "--files-from", s(&list_file), &fixture("standard/aws-doc-2014-26col.log")]);
    assert_eq!(records(&out), 5, "{}", stderr(&out));
    let out = cflog_stdin(&["parse", "--files-from", "-", "-"], list.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stdin cannot also be an input"), "{}", stderr(&out));
}

#[test]
fn a_missing_or_binary_input_stops_the_run_or_with_keep_going_is_reported_and_skipped() {
    let dir = tmp_dir("keep-going");
    let good = fixture("standard/aws-doc-2019-33col.log");
    let missing = dir.join("missing.log");
    let image = dir.join("chart.png");
    std::fs::write(&image, PNG).unwrap();
    let gz_image = dir.join("chart.png.gz");
    std::fs::write(&gz_image, gzip(PNG)).unwrap();

    for command in ["analyze", "parse"] {
        let out = cflog(&[command, &good, s(&missing)]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert!(stderr(&out).contains(&format!("cannot open {}", missing.display())), "{command}: {}", stderr(&out));

        let out = cflog(&[command, &good, s(&image)]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = stderr(&out);
        assert!(err.contains(&format!("{}: a binary file (neither text nor gzip), not a log", image.display())), "{command}: {err}");
        assert!(!err.contains("fields"), "no parse errors for binary data: {err}");

        let json = if command == "analyze" { "--json" } else { "--max-errors=20" };
        let out = cflog(&[command, json, "--keep-going", s(&missing), &good, s(&image), s(&gz_image)]);
        assert_eq!(out.status.code(), Some(3), "{command}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("cflog: cannot open {}", missing.display())), "{command}: {err}");
        assert!(err.contains(&format!("cflog: {}: a binary file", image.display())), "{command}: {err}");
        assert!(err.contains(&format!("cflog: {}: gzip holding binary data, not a log", gz_image.display())), "{command}: {err}");
        assert!(err.contains("3 of 4 input(s) could not be read"), "{command}: {err}");
        let good_records = match command {
            "analyze" => records(&out),
            _ => String::from_utf8_lossy(&out.stdout).lines().count() as u64,
        };
        assert_eq!(good_records, 2, "{command}: the good input is still read");
    }
    // Nothing readable at all is an error, not an empty report.
    let out = cflog(&["analyze", "--keep-going", "--json", s(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no input could be read"), "{}", stderr(&out));
}

#[test]
fn empty_input_says_0_records_and_is_not_an_error() {
    let dir = tmp_dir("empty");
    let empty = dir.join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let empty_gz = dir.join("empty.log.gz");
    std::fs::write(&empty_gz, gzip(b"")).unwrap();
    for args in [vec!["parse", s(&empty)], vec!["analyze", "--json", s(&empty)], vec!["analyze", "--json", s(&empty_gz)]] {
        let out = cflog(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("0 records"), "{args:?}: {}", stderr(&out));
    }
    let out = cflog_stdin(&["analyze", "--json", "-"], b"");
    assert_eq!((out.status.code(), records(&out)), (Some(0), 0));
    assert!(stderr(&out).contains("cflog: 0 records: <stdin> holds no log lines"), "{}", stderr(&out));
}

/// Keys in another order, numbers re-printed, some records filtered out: what `jq` or
/// any JSON tool may do between `cflog parse` and `cflog analyze`.
fn reserialized(ndjson: &[u8], keep: impl Fn(&Value) -> bool) -> Vec<u8> {
    let mut out = Vec::new();
    for line in ndjson.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        if keep(&v) {
            // serde_json's map sorts keys.
            out.extend_from_slice(serde_json::to_string(&v).unwrap().as_bytes());
            out.push(b'\n');
        }
    }
    out
}

#[test]
fn parse_output_analyzes_to_the_same_report_as_the_logs() {
    let gotchas = format!("@{}", fixture("realtime/gotchas.fields"));
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "realtime/snowplow-2020-40fields.log"),
        (vec!["--fields".into(), gotchas], "realtime/gotchas.log"),
        (vec![], "standard/aws-doc-2019-33col.log"),
        (vec![], "standard/aws-doc-2014-26col.log"),
        (vec![], "standard/legacy-2015-19col.log"),
        (vec![], "standard/legacy-2016-23col-double-encoded.log"),
        (vec![], "standard/concatenated-mixed.log"),
    ];
    for (layout, file) in cases {
        let layout: Vec<&str> = layout.iter().map(String::as_str).collect();
        let path = fixture(file);
        let direct = cflog(&[&["analyze", "--json"][..], &layout, &[&path]].concat());
        let parsed = cflog(&[&["parse"][..], &layout, &[&path]].concat());
        assert!(parsed.status.success(), "{file}: {}", stderr(&parsed));
        let via_ndjson = cflog_stdin(&["analyze", "--json", "-"], &parsed.stdout);
        assert!(via_ndjson.stdout == direct.stdout, "{file}: {}\n{}", String::from_utf8_lossy(&via_ndjson.stdout), stderr(&via_ndjson));
        let jq = cflog_stdin(&["analyze", "--json", "--format", "ndjson", "-"], &reserialized(&parsed.stdout, |_| true));
        assert!(jq.stdout == direct.stdout, "{file}, keys sorted: {}", stderr(&jq));
    }
}

#[test]
fn large_gzipped_ndjson_on_several_threads_gives_the_same_report() {
    let dir = tmp_dir("big-ndjson");
    // ~3.6 MB of logs, ~7 MB of NDJSON: chunks of 1 MiB cross records.
    let log = dir.join("rt.log.gz");
    let out = cflog(&["gen", "--format", "realtime", "--lines", "6000", "--seed", "11", "--gzip", "-o", s(&log)]);
    assert!(out.status.success());
    let parsed = cflog(&["parse", s(&log)]);
    let ndjson = dir.join("rt.ndjson.gz");
    std::fs::write(&ndjson, gzip(&parsed.stdout)).unwrap();
    let analyze = |threads: &str, file: &Path| {
        report(&cflog(&["analyze", "--json", "--top-capacity", "100000", "--client-capacity", "100000", "--threads", threads, s(file)]))
    };
    let direct = analyze("1", &log);
    assert_eq!(direct["records"], 6000);
    assert_eq!(analyze("1", &ndjson), direct);
    assert_eq!(analyze("3", &ndjson), direct);

    // A filter in the pipe: only the 5xx records.
    let fives = reserialized(&parsed.stdout, |v| v["sc-status"].as_u64().is_some_and(|s| s >= 500));
    let out = cflog_stdin(&["analyze", "--json", "-"], &fives);
    let r = report(&out);
    assert_eq!(r["records"], direct["status_class"]["5xx"]);
    assert_eq!(r["status_class"]["5xx"], direct["status_class"]["5xx"]);
}

#[test]
fn bad_ndjson_lines_are_named_with_their_line_and_reason() {
    let good = cflog(&["parse", &fixture("standard/aws-doc-2019-33col.log")]).stdout;
    let first = String::from_utf8_lossy(&good).lines().next().unwrap().to_string();
    let lines = [
        first.clone(),
        "{\"date\":\"2019-12-04\",".to_string(),
        // Real-time keys with a typo (standard objects keep unknown names, as W3C headers do).
        r#"{"timestamp":1607374321.541,"sc-staus":200}"#.to_string(),
        first.replace("\"sc-status\":200", "\"sc-status\":\"2x0\""),
        String::new(),
        first.replace("\"c-ip\":\"192.0.2.100\"", "\"c-ip\":[1]"),
        first.clone(),
    ];
    assert!(lines[5].contains("[1]"), "the fixture's c-ip changed: {first}");
    let out = cflog_stdin(&["analyze", "--json", "--format", "ndjson", "-"], (lines.join("\n") + "\n").as_bytes());
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2: not JSON: EOF while parsing"), "{err}");
    assert!(err.contains("<stdin>:3: key \"sc-staus\" is not a CloudFront field name (did you mean \"sc-status\"?)"), "{err}");
    assert!(err.contains("<stdin>:4: field sc-status: expected a three-digit status"), "{err}");
    assert!(err.contains("<stdin>:6: key \"c-ip\": expected a string, number or null, not an array"), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["records"].as_u64(), r["bad_lines"].as_u64()), (Some(2), Some(4)));

    // `parse` reads NDJSON too, and names the same lines.
    let out = cflog_stdin(&["parse", "-"], (lines.join("\n") + "\n").as_bytes());
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    assert!(stderr(&out).contains("<stdin>:3: key \"sc-staus\""), "{}", stderr(&out));
}
