//! Standard logging v2 inputs through the real `cflog` binary: the JSON lines AWS delivers
//! (strings or typed values, plain or gzip), read by `analyze` and `parse` to the same
//! results as the same records in W3C form, and the errors that name v2. The JSON is made
//! from the W3C fixture by a converter written here, independent of cflog's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Map, Value};

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn fixture(path: &str) -> String {
    format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The v2 W3C fixture: 6 records, written by hand (tests/fixtures/README.md).
fn w3c() -> String {
    fixture("standard/v2-w3c-41col.log")
}

fn tmp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cflog-v2-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// How the converter writes values.
#[derive(Clone, Copy)]
enum Style {
    /// Every value a string, `-` kept, keys in file order.
    Strings,
    /// Integer and decimal fields as JSON numbers, `-` as `null` (or left out), keys sorted.
    Typed,
}

/// The records of a W3C file (`#Fields:` header) as v2 JSON lines.
fn to_json_lines(w3c: &str, style: Style) -> Vec<u8> {
    const INTEGERS: &[&str] = &["timestamp", "timestamp(ms)", "sc-bytes", "sc-status", "cs-bytes", "c-port", "sc-content-len", "asn"];
    const DECIMALS: &[&str] = &["time-taken", "time-to-first-byte", "origin-fbl", "origin-lbl"];
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (n, line) in w3c.lines().enumerate() {
        if let Some(fields) = line.strip_prefix("#Fields:") {
            names = fields.split_whitespace().map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let values: Vec<&str> = line.split('\t').collect();
        assert_eq!(values.len(), names.len());
        let text = match style {
            Style::Strings => {
                // serde_json's Map sorts keys, so write the object by hand to keep file order.
                let pairs: Vec<String> = names.iter().zip(&values).map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), Value::from(*v))).collect();
                format!("{{{}}}", pairs.join(","))
            }
            Style::Typed => {
                let mut object = Map::new();
                for (k, v) in names.iter().zip(&values) {
                    let value = match *v {
                        // Absent keys and nulls both mean "no value".
                        "-" if n % 2 == 0 => continue,
                        "-" => Value::Null,
                        v if INTEGERS.contains(&k.as_str()) => Value::from(v.parse::<u64>().unwrap()),
                        v if DECIMALS.contains(&k.as_str()) => Value::from(v.parse::<f64>().unwrap()),
                        v => Value::from(v),
                    };
                    object.insert(k.clone(), value);
                }
                Value::Object(object).to_string()
            }
        };
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn v2_json_gives_the_same_report_and_records_as_the_same_w3c_records() {
    let dir = tmp_dir("json");
    let text = std::fs::read_to_string(w3c()).unwrap();
    let direct = cflog(&["analyze", "--json", &w3c()]);
    assert!(direct.status.success(), "{}", stderr(&direct));
    let report: Value = serde_json::from_slice(&direct.stdout).unwrap();
    // By hand from the fixture: 6 records, one each of 000, 304, 404 and 503.
    assert_eq!(report["records"], 6);
    assert_eq!(report["status_class"]["5xx"], 1);
    let parsed_w3c = cflog(&["parse", &w3c()]);
    assert!(parsed_w3c.status.success());
    for (name, style) in [("strings", Style::Strings), ("typed", Style::Typed)] {
        let json = to_json_lines(&text, style);
        let plain = dir.join(format!("{name}.json"));
        std::fs::write(&plain, &json).unwrap();
        // A Firehose/S3 object name without an extension, gzipped.
        let gz = dir.join(format!("E1EXAMPLEABCD.2025-02-02-22.{name}"));
        std::fs::write(&gz, gzip(&json)).unwrap();
        for file in [&plain, &gz] {
            for threads in ["1", "3"] {
                let out = cflog(&["analyze", "--json", "--threads", threads, s(file)]);
                assert!(out.stdout == direct.stdout, "{name} {} threads {threads}: {}", file.display(), stderr(&out));
            }
            let parsed = cflog(&["parse", s(file)]);
            assert!(parsed.status.success(), "{}", stderr(&parsed));
            if matches!(style, Style::Strings) {
                assert!(parsed.stdout == parsed_w3c.stdout, "{name}: parse output differs");
            } else {
                assert_eq!(parsed.stdout.iter().filter(|&&b| b == b'\n').count(), 6);
            }
            let forced = cflog(&["analyze", "--json", "--format", "v2-json", s(file)]);
            assert!(forced.stdout == direct.stdout, "{name} --format v2-json: {}", stderr(&forced));
        }
        let text_report = cflog(&["analyze", s(&plain)]);
        assert!(String::from_utf8_lossy(&text_report.stdout).contains("standard logging v2 JSON"), "{}", String::from_utf8_lossy(&text_report.stdout));
    }
}

#[test]
fn bad_v2_json_lines_are_named_with_their_line_and_reason() {
    let dir = tmp_dir("bad-json");
    let mut json = to_json_lines(&std::fs::read_to_string(w3c()).unwrap(), Style::Strings);
    json.extend_from_slice(b"{\"date\":\"2025-02-02\",\"sc-status\":\"2x0\"}\n{\"date\":\n");
    let file = dir.join("bad.json");
    std::fs::write(&file, &json).unwrap();
    let out = cflog(&["analyze", "--json", s(&file)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "bad lines: exit code 3. {err}");
    assert!(err.contains("bad.json:7:") && err.contains("sc-status"), "{err}");
    assert!(err.contains("bad.json:8:") && err.contains("not JSON"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["records"], 6);
}
