//! The record filters (`--since`, `--until`, `--status`, `--uri-prefix`, `--edge`,
//! `--country`, `--distribution`, `--exclude-bots`, `--tag`) through the real `cflog`
//! binary, on `analyze` and `parse`. Expected counts come from the generated lines
//! themselves, split on TAB here (the field order is the one written with `--fields`),
//! never from the code under test.

use std::process::{Command, Output};

use cflog_testkit::scratch::Scratch;
use serde_json::Value;

// Real-time fields in AWS's delivery order (so `--fields` keeps this order).
const FIELDS: &str = "timestamp,c-ip,sc-status,cs-uri-stem,x-edge-location,x-host-header,cs-user-agent,c-country";
const TS: usize = 0;
const STATUS: usize = 2;
const URI: usize = 3;
const EDGE: usize = 4;
const HOST: usize = 5;
const UA: usize = 6;
const COUNTRY: usize = 7;
// 2026-11-01T00:00:00Z, the generator's default start.
const START_S: f64 = 1_793_491_200.0;

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dir(test: &str) -> Scratch {
    Scratch::new(&format!("filters-{test}"))
}

/// Generates `lines` real-time records (one per second on average from `start`) and
/// returns the file and its rows split on TAB.
fn generate(d: &std::path::Path, name: &str, lines: u64, start: &str) -> (String, Vec<Vec<String>>) {
    let path = d.join(name).display().to_string();
    let n = lines.to_string();
    let out = cflog(&["gen", "--format", "realtime", "--fields", FIELDS, "--lines", &n, "--seed", "21", "--rate", "1", "--start", start, "-o", &path]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<String>> = text.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect();
    assert_eq!(rows.len() as u64, lines);
    assert!(rows.iter().all(|r| r.len() == 8));
    (path, rows)
}

fn analyze_records(file: &str, filter: &[&str]) -> (u64, String) {
    let out = cflog(&[&["analyze", "--json", "--no-progress", "--top-capacity", "100000", "--fields", FIELDS][..], filter, &[file]].concat());
    assert!(out.status.success(), "{filter:?}: exit {:?}: {}", out.status, stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    (report["records"].as_u64().unwrap(), stderr(&out))
}

fn parse_records(file: &str, filter: &[&str]) -> u64 {
    let out = cflog(&[&["parse", "--fields", FIELDS][..], filter, &[file]].concat());
    assert!(out.status.success(), "{filter:?}: exit {:?}: {}", out.status, stderr(&out));
    out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count() as u64
}

fn count(rows: &[Vec<String>], keep: impl Fn(&[String]) -> bool) -> u64 {
    rows.iter().filter(|r| keep(r)).count() as u64
}

/// The value seen most often in column `col` (after `map`).
fn most_common(rows: &[Vec<String>], col: usize, map: impl Fn(&str) -> String) -> String {
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for r in rows {
        *counts.entry(map(&r[col])).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
}

fn percent_decoded(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_filter_keeps_what_the_lines_say() {
    let d = dir("each");
    let (file, rows) = generate(&d, "rt.log", 4000, "1793491200000");
    let total = rows.len() as u64;
    let status = |r: &[String]| r[STATUS].clone();
    let cases: Vec<(Vec<String>, u64)> = {
        let edge = most_common(&rows, EDGE, |e| e[..3].to_string());
        let country = most_common(&rows, COUNTRY, str::to_string);
        let dist = most_common(&rows, HOST, |h| h.split('.').next().unwrap().to_string());
        let prefix = "/api/";
        // 20 minutes after the start.
        let cut = START_S + 1200.0;
        vec![
            (vec!["--status".into(), "5xx".into()], count(&rows, |r| status(r).starts_with('5'))),
            (vec!["--status".into(), "404,5xx".into()], count(&rows, |r| r[STATUS] == "404" || r[STATUS].starts_with('5'))),
            (vec!["--status".into(), "404".into(), "--status".into(), "3xx".into()], count(&rows, |r| r[STATUS] == "404" || r[STATUS].starts_with('3'))),
            (vec!["--uri-prefix".into(), prefix.into()], count(&rows, |r| r[URI].starts_with(prefix))),
            (vec!["--edge".into(), edge.to_lowercase()], count(&rows, |r| r[EDGE].starts_with(&edge))),
            (vec!["--country".into(), country.clone()], count(&rows, |r| r[COUNTRY] == country)),
            (vec!["--distribution".into(), dist.clone()], count(&rows, |r| r[HOST].split('.').next() == Some(&dist))),
            (
                vec!["--since".into(), "2026-11-01T00:20:00Z".into()],
                count(&rows, |r| r[TS].parse::<f64>().unwrap() >= cut),
            ),
            (
                vec!["--until".into(), "2026-11-01T01:20:00+01:00".into()],
                count(&rows, |r| r[TS].parse::<f64>().unwrap() < cut),
            ),
            (
                vec!["--exclude-bots".into()],
                count(&rows, |r| {
                    let ua = percent_decoded(&r[UA]).to_lowercase();
                    !["bot", "facebookexternalhit", "crawler", "spider", "headless"].iter().any(|t| ua.contains(t))
                }),
            ),
            (
                vec!["--status".into(), "2xx".into(), "--country".into(), country.clone(), "--uri-prefix".into(), prefix.into()],
                count(&rows, |r| r[STATUS].starts_with('2') && r[COUNTRY] == country && r[URI].starts_with(prefix)),
            ),
        ]
    };
    for (args, expected) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(*expected > 0 && *expected < total, "{args:?} must keep some records and drop some ({expected} of {total})");
        let (kept, err) = analyze_records(&file, &args);
        assert_eq!(kept, *expected, "analyze {args:?}");
        assert!(err.contains(&format!("the filters kept {expected} of {total} record(s)")), "{err}");
        assert_eq!(parse_records(&file, &args), *expected, "parse {args:?}");
    }
}

#[test]
fn relative_times_count_back_from_now() {
    let d = dir("relative");
    // Two bursts of one minute: three hours ago and half an hour ago.
    let (old, old_rows) = generate(&d, "old.log", 60, "now-180m");
    let (new, new_rows) = generate(&d, "new.log", 60, "now-30m");
    let both = |filter: &[&str]| {
        let out = cflog(&[&["analyze", "--json", "--no-progress", "--fields", FIELDS][..], filter, &[&old, &new]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["records"].as_u64().unwrap()
    };
    assert_eq!(both(&["--since", "1h"]), new_rows.len() as u64);
    assert_eq!(both(&["--since", "120m"]), new_rows.len() as u64);
    assert_eq!(both(&["--until", "2h"]), old_rows.len() as u64);
    assert_eq!(both(&["--since", "1d"]), (old_rows.len() + new_rows.len()) as u64);
    assert_eq!(both(&["--since", "4h", "--until", "1h"]), old_rows.len() as u64);
}

#[test]
#[cfg(feature = "plugins")] // `--plugin` needs the rules host
fn tags_filter_after_the_rules() {
    let d = dir("tags");
    let (file, rows) = generate(&d, "rt.log", 2000, "1793491200000");
    let rule = format!("{}/../plugins/examples/wat/status_class.wat", env!("CARGO_MANIFEST_DIR"));
    let with_rule = |filter: &[&str]| analyze_records(&file, &[&["--plugin", &rule][..], filter].concat()).0;
    let fives = count(&rows, |r| r[STATUS].starts_with('5'));
    let twos = count(&rows, |r| r[STATUS].starts_with('2'));
    assert!(fives > 0 && twos > 0);
    assert_eq!(with_rule(&["--tag", "status_class=5xx"]), fives);
    assert_eq!(with_rule(&["--tag", "status_class!=2xx"]), rows.len() as u64 - twos);
    assert_eq!(with_rule(&["--tag", "status_class!=2xx", "--tag", "status_class!=5xx"]), rows.len() as u64 - twos - fives);
    // No rule, no tags: nothing carries status_class=5xx.
    assert_eq!(analyze_records(&file, &["--tag", "status_class=5xx"]).0, 0);
    // `parse` runs no rules: --tag is refused rather than silently matching nothing.
    let out = cflog(&["parse", "--fields", FIELDS, "--tag", "a=b", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--tag: cflog parse runs no enrichment rules"), "{}", stderr(&out));
}

#[test]
fn bad_filter_values_are_clear_errors() {
    let d = dir("bad");
    let (file, _) = generate(&d, "rt.log", 10, "1793491200000");
    for (args, message) in [
        (vec!["--status", "6xx"], "--status \"6xx\": expected status codes (404, 000) or classes (1xx to 5xx, other)"),
        (vec!["--since", "yesterday"], "--since \"yesterday\": expected a time: 2026-11-01"),
        (vec!["--until", "2026-13-01"], "--until \"2026-13-01\": expected a time"),
        (vec!["--country", "USA"], "--country \"USA\": expected a two-letter country code"),
        (vec!["--tag", "bot"], "--tag \"bot\": expected key=value or key!=value"),
        (vec!["--uri-prefix", "api"], "--uri-prefix \"api\": expected the start of a request path, beginning with /"),
        (vec!["--since", "2026-11-02", "--until", "2026-11-01"], "--until \"2026-11-01\": expected a time after --since"),
    ] {
        // `parse` refuses every --tag (it runs no rules), so only `analyze` reads its value.
        let commands: &[&str] = if args[0] == "--tag" { &["analyze"] } else { &["analyze", "parse"] };
        for cmd in commands {
            let out = cflog(&[&[cmd, "--fields", FIELDS][..], &args, &[&file]].concat());
            assert_eq!(out.status.code(), Some(1), "{cmd} {args:?}");
            assert!(stderr(&out).contains(message), "{cmd} {args:?}: {}", stderr(&out));
            assert!(out.stdout.is_empty());
        }
    }
}

#[test]
fn a_bad_line_is_bad_whatever_the_filter() {
    let d = dir("badline");
    let (file, rows) = generate(&d, "rt.log", 200, "1793491200000");
    // Line 201: an address that is not one, on a record the filter would leave out.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("1793491200.000\tnot-an-address\t200\t/x\tIAD89-C1\td1.cloudfront.net\tcurl/8\tUS\n");
    std::fs::write(&file, text).unwrap();
    let fives = count(&rows, |r| r[STATUS].starts_with('5'));
    for cmd in ["analyze", "parse"] {
        let extra: &[&str] = if cmd == "analyze" { &["--json", "--no-progress"] } else { &[] };
        let out = cflog(&[&[cmd, "--fields", FIELDS, "--status", "5xx"][..], extra, &[&file]].concat());
        assert_eq!(out.status.code(), Some(3), "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains("rt.log:201: field c-ip"), "{cmd}: {}", stderr(&out));
        if cmd == "analyze" {
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!((report["records"].as_u64(), report["bad_lines"].as_u64()), (Some(fives), Some(1)));
        }
    }
}
