//! Standard logging v2 inputs through the real `cflog` binary: the JSON lines AWS delivers
//! (strings or typed values, plain or gzip) and Parquet files (Snappy, gzip; several row
//! groups), read by `analyze` and `parse` to the same results as the same records in W3C
//! form, and the errors that name v2. The JSON and the Parquet are made from the W3C
//! fixture by converters written here (the Parquet with the `parquet` crate's column
//! writer), independent of cflog's reading.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::tmp_dir;
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

/// The INT64 columns of the Parquet form.
const INTEGERS: &[&str] = &["timestamp", "timestamp(ms)", "sc-bytes", "sc-status", "cs-bytes", "c-port", "sc-content-len", "asn"];

/// The records of a W3C file as a Parquet file: the INT64 columns above, every other column
/// UTF8 text; `-` is null; `per_group` rows per row group.
fn to_parquet(w3c: &str, compression: parquet::basic::Compression, per_group: usize) -> Vec<u8> {
    use parquet::basic::{ConvertedType, Repetition, Type as Physical};
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;
    use std::sync::Arc;

    let names: Vec<String> = w3c.lines().find_map(|l| l.strip_prefix("#Fields:")).unwrap().split_whitespace().map(str::to_string).collect();
    let rows: Vec<Vec<&str>> = w3c.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(|l| l.split('\t').collect()).collect();
    let fields = names
        .iter()
        .map(|n| {
            let b = if INTEGERS.contains(&n.as_str()) {
                Type::primitive_type_builder(n, Physical::INT64)
            } else {
                Type::primitive_type_builder(n, Physical::BYTE_ARRAY).with_converted_type(ConvertedType::UTF8)
            };
            Arc::new(b.with_repetition(Repetition::OPTIONAL).build().unwrap())
        })
        .collect();
    let schema = Arc::new(Type::group_type_builder("cloudfront").with_fields(fields).build().unwrap());
    let props = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props).unwrap();
    for group in rows.chunks(per_group) {
        let mut rg = writer.next_row_group().unwrap();
        let mut c = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            let cells: Vec<&str> = group.iter().map(|r| r[c]).collect();
            let defs: Vec<i16> = cells.iter().map(|v| i16::from(*v != "-")).collect();
            let present = cells.iter().filter(|v| **v != "-");
            if INTEGERS.contains(&names[c].as_str()) {
                let values: Vec<i64> = present.map(|v| v.parse().unwrap()).collect();
                col.typed::<Int64Type>().write_batch(&values, Some(&defs), None).unwrap();
            } else {
                let values: Vec<ByteArray> = present.map(|v| ByteArray::from(*v)).collect();
                col.typed::<ByteArrayType>().write_batch(&values, Some(&defs), None).unwrap();
            }
            col.close().unwrap();
            c += 1;
        }
        rg.close().unwrap();
    }
    writer.close().unwrap();
    out
}

#[test]
fn v2_parquet_gives_the_same_report_and_records_as_the_same_w3c_records() {
    use parquet::basic::{Compression, GzipLevel};
    let dir = tmp_dir("parquet");
    let text = std::fs::read_to_string(w3c()).unwrap();
    let direct = cflog(&["analyze", "--json", &w3c()]);
    let parsed_w3c = cflog(&["parse", &w3c()]);
    for (name, compression) in [("snappy", Compression::SNAPPY), ("gzip", Compression::GZIP(GzipLevel::default())), ("none", Compression::UNCOMPRESSED)] {
        let bytes = to_parquet(&text, compression, 4);
        assert!(bytes.starts_with(b"PAR1"));
        let file = dir.join(format!("{name}.parquet"));
        std::fs::write(&file, &bytes).unwrap();
        for threads in ["1", "3"] {
            // `--format realtime` is overridden: the magic bytes decide.
            for format in ["auto", "realtime"] {
                let out = cflog(&["analyze", "--json", "--threads", threads, "--format", format, s(&file)]);
                assert!(out.stdout == direct.stdout, "{name}, {threads} threads, {format}: {}", stderr(&out));
            }
        }
        let parsed = cflog(&["parse", s(&file)]);
        assert!(parsed.stdout == parsed_w3c.stdout, "{name}: {}", stderr(&parsed));
        // Read whole from stdin too.
        let mut child = Command::new(env!("CARGO_BIN_EXE_cflog"))
            .args(["analyze", "--json", "-"])
            .stdin(std::fs::File::open(&file).unwrap())
            .output()
            .unwrap();
        child.stderr.clear();
        assert!(child.stdout == direct.stdout, "{name} from stdin");
    }
    // In a directory, found by content; JSON that is not a log is skipped.
    std::fs::write(dir.join("package.json"), "{\"name\":\"site\"}\n").unwrap();
    let out = cflog(&["analyze", "--json", s(&dir)]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["records"], 18, "{}", stderr(&out));
    assert!(stderr(&out).contains("skipped 1 file(s)"), "{}", stderr(&out));
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
        assert!(String::from_utf8_lossy(&text_report.stdout).contains("standard logging v2 record file"), "{}", String::from_utf8_lossy(&text_report.stdout));
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

#[test]
fn v2_shapes_cflog_cannot_read_get_an_error_that_names_v2_and_the_fix() {
    let dir = tmp_dir("unreadable");
    let text = std::fs::read_to_string(w3c()).unwrap();
    let records: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let json = String::from_utf8(to_json_lines(&text, Style::Strings)).unwrap();
    let header = text.lines().find(|l| l.starts_with("#Fields:")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // A CloudWatch Logs export to S3: the event time, a space, the record.
        ("cw-export.log", json.lines().map(|l| format!("2025-02-02T22:30:41.041Z {l}\n")).collect::<String>().into_bytes(), "sed 's/^[^ ]* //'"),
        // CloudWatch Logs events as the API or an export gives them.
        ("cw-events.json", json.lines().map(|l| format!("{}\n", serde_json::json!({"timestamp": 1738535441041u64, "message": l, "ingestionTime": 1738535442000u64}))).collect::<String>().into_bytes(), "jq -r '.message'"),
        // The `plain` output: values without a header, TABs or spaces.
        ("plain-tabs.log", records.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes(), "#Fields:"),
        ("plain-spaces.log", records.iter().map(|l| format!("{}\n", l.replace('\t', " "))).collect::<String>().into_bytes(), "put a TAB between values"),
        // W3C with a custom field delimiter.
        ("pipes.log", format!("#Version: 1.0\n{header}\n{}\n", records.iter().map(|l| l.replace('\t', "|")).collect::<Vec<_>>().join("\n")).into_bytes(), "field_delimiter"),
        // A Parquet file cut short (its index is at the end).
        ("cut.parquet", to_parquet(&text, parquet::basic::Compression::SNAPPY, 6)[..200].to_vec(), "Parquet"),
        // A Parquet file gzipped again.
        ("twice.parquet.gz", gzip(&to_parquet(&text, parquet::basic::Compression::SNAPPY, 6)), "gunzip"),
    ];
    for (name, bytes, fix) in &cases {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        for cmd in ["analyze", "parse"] {
            let out = cflog(&[cmd, s(&file)]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{cmd} {name}: {err}");
            assert!(err.contains(name) && err.contains("standard logging v2") && err.contains(fix), "{cmd} {name}: {err}");
            assert!(!err.contains("real-time records carry no header") && !err.contains("bad line"), "{cmd} {name}: {err}");
        }
    }
    // With --keep-going each is reported and skipped, and a good input is still read.
    let mut args = vec!["analyze".to_string(), "--json".into(), "--keep-going".into(), w3c()];
    args.extend(cases.iter().map(|(name, _, _)| s(&dir.join(name)).to_string()));
    let out = cflog(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["records"], 6);
    assert_eq!(stderr(&out).lines().filter(|l| l.contains("standard logging v2")).count(), cases.len(), "{}", stderr(&out));
}
