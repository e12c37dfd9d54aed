//! `cflog analyze --csv DIR` and `--html FILE` through the real binary. The CSV files are
//! read back by Python's `csv` module (an independent RFC 4180 reader) and must hold the
//! JSON report's top lists and breakdowns; the page must embed the report and name no
//! outside resource (web-demo/tests/report_html.test.mjs opens it in Chromium).

use std::process::{Command, Output};

use cflog_testkit::scratch::Scratch;
use serde_json::Value;

fn cflog(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

const FIELDS: &str = "timestamp,c-ip,sc-status,cs-uri-stem,x-edge-location,cs-user-agent";

fn log_with_awkward_keys(dir: &std::path::Path) -> String {
    let file = dir.join("rt.log").display().to_string();
    cflog(&["gen", "--format", "realtime", "--fields", FIELDS, "--lines", "3000", "--seed", "4", "-o", &file]);
    let mut text = std::fs::read_to_string(&file).unwrap();
    // Keys a naive CSV writer breaks: commas, quotes, a quote at the start.
    for i in 0..50 {
        let uri = ["/a,b", "/say\"hi\"", "\"/q", "/x\r"][i % 4];
        text.push_str(&format!("1793491200.000\t192.0.2.{i}\t200\t{uri}\tIAD89-C1\tcurl/8\n"));
    }
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn csv_files_hold_the_report() {
    let dir = Scratch::new("export-csv");
    let file = log_with_awkward_keys(&dir);
    let csv_dir = dir.join("csv");
    let args = ["analyze", "--no-progress", "--fields", FIELDS, "--top", "50"];
    let report: Value = serde_json::from_slice(&cflog(&[&args[..], &["--json", &file]].concat()).stdout).unwrap();
    let out = cflog(&[&args[..], &["--csv", csv_dir.to_str().unwrap(), &file]].concat());
    assert!(out.stdout.is_empty(), "with --csv alone nothing is printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("CSV files into"));

    // Python's csv module reads every file into {name: rows}.
    let script = r#"
import csv, json, os, sys
d = sys.argv[1]
out = {}
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name), newline="") as f:
        out[name] = list(csv.reader(f, strict=True))
print(json.dumps(out))
"#;
    let py = Command::new("python3").args(["-c", script, csv_dir.to_str().unwrap()]).output().expect("python3");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let files: std::collections::BTreeMap<String, Vec<Vec<String>>> = serde_json::from_slice(&py.stdout).unwrap();

    for (key, list) in report["top"].as_object().unwrap() {
        let rows = &files[&format!("top_{key}.csv")];
        let geo = key == "edge_location";
        let head: &[&str] = if geo { &["key", "city", "country", "region", "count", "overcount_max"] } else { &["key", "count", "overcount_max"] };
        assert_eq!(rows[0], head, "{key}");
        let list = list.as_array().unwrap();
        assert_eq!(rows.len() - 1, list.len(), "{key}");
        for (row, e) in rows[1..].iter().zip(list) {
            assert_eq!(row[0], e["key"].as_str().unwrap(), "{key}");
            assert_eq!(row[head.len() - 2], e["count"].to_string(), "{key}");
            if geo {
                assert_eq!(row[1], e["city"].as_str().unwrap_or(""));
            }
        }
    }
    let uris: Vec<&str> = files["top_uri.csv"][1..].iter().map(|r| r[0].as_str()).collect();
    for awkward in ["/a,b", "/say\"hi\"", "\"/q"] {
        assert!(uris.contains(&awkward), "{awkward} in {uris:?}");
    }
    for name in ["status", "status_class", "method", "result_type", "user_agent_class"] {
        let rows = &files[&format!("{name}.csv")];
        assert_eq!(rows[0], ["key", "count"]);
        let got: std::collections::BTreeMap<&str, u64> = rows[1..].iter().map(|r| (r[0].as_str(), r[1].parse().unwrap())).collect();
        let want: std::collections::BTreeMap<&str, u64> =
            report[name].as_object().map(|o| o.iter().map(|(k, v)| (k.as_str(), v.as_u64().unwrap())).collect()).unwrap_or_default();
        assert_eq!(got, want, "{name}");
    }
    let windows = &files["windows.csv"];
    assert_eq!(windows.len() - 1, report["windows"].as_array().unwrap().len());
    assert_eq!(windows[1][0], "2026-11-01T00:00:00.000Z");
    let total: u64 = windows[1..].iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    assert_eq!(total, report["records"].as_u64().unwrap());
}

#[test]
fn the_html_page_is_self_contained() {
    let dir = Scratch::new("export-html");
    let file = log_with_awkward_keys(&dir);
    let page = dir.join("report.html");
    let out = cflog(&["analyze", "--no-progress", "--fields", FIELDS, "--html", page.to_str().unwrap(), &file]);
    assert!(out.stdout.is_empty());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    for outside in ["src=\"http", "href=\"http", "@import", "url(http", "<link rel=\"stylesheet\""] {
        assert!(!html.contains(outside), "{outside}");
    }
    // The embedded report is the one --json prints.
    let start = html.find("<script type=\"application/json\" id=\"cflog-report\">").unwrap();
    let body = &html[start..];
    let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
    let embedded: Value = serde_json::from_str(body).unwrap();
    let report: Value = serde_json::from_slice(&cflog(&["analyze", "--no-progress", "--fields", FIELDS, "--json", &file]).stdout).unwrap();
    assert_eq!(embedded, report);
    // `merge --html` writes the page of the merged report.
    let saved = dir.join("r.json");
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
    let merged_page = dir.join("merged.html");
    let out = cflog(&["merge", "--html", merged_page.to_str().unwrap(), saved.to_str().unwrap()]);
    assert!(out.stdout.is_empty());
    assert!(std::fs::read_to_string(&merged_page).unwrap().contains("id=\"cflog-report\""));
    // --json with --html prints the report too.
    let out = cflog(&["analyze", "--no-progress", "--fields", FIELDS, "--json", "--html", page.to_str().unwrap(), &file]);
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), report);
}
