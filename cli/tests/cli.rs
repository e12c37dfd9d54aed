//! The `cflog` binary, end to end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use cflog_testkit::scratch::fresh_dir;

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn fixture(path: &str) -> String {
    format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// `name` in this binary's scratch directory (emptied once a run, under the target dir).
fn tmp(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests"))).join(name)
}

fn gen_file(path: &Path, format: &str, lines: u64, seed: u64) {
    let out = cflog(&["gen", "--format", format, "--lines", &lines.to_string(), "--seed", &seed.to_string(), "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn parse_prints_typed_ndjson_and_locates_bad_lines() {
    let out = cflog(&["parse", &fixture("standard/aws-doc-2019-33col.log")]);
    assert!(out.status.success());
    let first: serde_json::Value = serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["sc-bytes"], 392);
    assert_eq!(first["time-taken"], 0.001);
    assert_eq!(first["cs(Referer)"], serde_json::Value::Null);
    assert_eq!(first["cs(User-Agent)"].as_str().unwrap().split(' ').next(), Some("Mozilla/5.0"));

    let bad = tmp("bad.log");
    std::fs::write(&bad, "1700000000.123\t192.0.2.1\t200\n1700000000.124\t192.0.2.1\t2x0\n1700000000.125\tnot-an-ip\t404\n").unwrap();
    let out = cflog(&["parse", "--fields", "timestamp,c-ip,sc-status", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "bad lines → exit 3");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "the good record is still printed");
    let err = String::from_utf8_lossy(&out.stderr);
    let name = bad.to_str().unwrap();
    assert!(err.contains(&format!("{name}:2: field sc-status: expected a three-digit status")), "{err}");
    assert!(err.contains(&format!("{name}:3: field c-ip: expected an IPv4 or IPv6 address")), "{err}");
    assert!(err.contains("2 bad line(s) of 3"), "{err}");

    let out = cflog(&["parse", "--fields", "timestamp,c-ip,sc-staus", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean \"sc-status\""));
    let out = cflog(&["parse", "--format", "realtime", &fixture("realtime/gotchas.log")]);
    assert_eq!(out.status.code(), Some(1), "11 fields is no AWS release: the layout must be given");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fields"));
    assert_eq!(cflog(&["parse", "--no-such-flag"]).status.code(), Some(2));
}

#[test]
fn fields_accept_the_get_realtime_log_config_json() {
    let config = tmp("config.json");
    let names: Vec<String> = std::fs::read_to_string(fixture("realtime/gotchas.fields"))
        .unwrap()
        .split([',', ' ', '\n'])
        .filter(|s| !s.is_empty())
        .map(|s| format!("\"{s}\""))
        .collect();
    let body = format!(
        r#"{{"ETag":"E1","RealtimeLogConfig":{{"ARN":"arn:aws:cloudfront::123456789012:realtime-log-config/x","Name":"x","SamplingRate":25,"EndPoints":[],"Fields":[{}]}}}}"#,
        names.join(",")
    );
    std::fs::write(&config, body).unwrap();
    let spec = format!("@{}", config.display());
    let out = cflog(&["parse", "--fields", &spec, &fixture("realtime/gotchas.log")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first: serde_json::Value = serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["sc-status"], 0);
    assert_eq!(first["cs-user-agent"], "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)");
    let report = json(&cflog(&["analyze", "--json", "--fields", &spec, &fixture("realtime/gotchas.log")]));
    assert_eq!(report["sampling"]["rate"], 25);
    assert_eq!(report["sampling"]["estimated_records"], 8.0);
    // The dashboard shows the estimate (a float in the report), marked; this field set has
    // no sc-bytes, so no bytes either.
    let out = cflog(&["analyze", "--no-progress", "--fields", &spec, &fixture("realtime/gotchas.log")]);
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("\nSampled at 25 %: ≈ 8 requests, sent – (estimated; every count below is of the 2 sampled records)\n"), "{screen}");
    assert!(screen.contains("\nRequests 2 sampled ") && screen.contains("   Sent –   "), "{screen}");
}

#[test]
fn sampling_rate_flag_shows_estimates_on_the_dashboard() {
    let out = cflog(&["analyze", "--no-progress", "--sampling-rate", "10", &fixture("standard/aws-doc-2019-33col.log")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let screen = String::from_utf8_lossy(&out.stdout);
    // 2 records of 392 bytes at 10 %: 20 requests, 7,840 bytes.
    assert!(screen.contains("\nSampled at 10 %: ≈ 20 requests, ≈ 7.7 KiB sent (estimated;"), "{screen}");
}

#[test]
fn merged_reports_equal_one_analysis_of_all_inputs() {
    let (a, b) = (tmp("a.log"), tmp("b.log"));
    gen_file(&a, "realtime", 3000, 1);
    gen_file(&b, "realtime", 2000, 2);
    let cap = ["--top-capacity", "100000", "--client-capacity", "100000"];
    let ra = cflog(&[&["analyze", "--json"][..], &cap, &[a.to_str().unwrap()]].concat());
    let rb = cflog(&[&["analyze", "--json"][..], &cap, &[b.to_str().unwrap()]].concat());
    let (pa, pb) = (tmp("a.json"), tmp("b.json"));
    std::fs::write(&pa, &ra.stdout).unwrap();
    std::fs::write(&pb, &rb.stdout).unwrap();
    let merged = json(&cflog(&["merge", "--json", pa.to_str().unwrap(), pb.to_str().unwrap()]));
    let both = json(&cflog(&[&["analyze", "--json"][..], &cap, &[a.to_str().unwrap(), b.to_str().unwrap()]].concat()));
    assert_eq!(merged["records"], 5000);
    assert_eq!(merged, both);
}

#[test]
fn threads_chunks_and_gzip_do_not_change_the_numbers() {
    // ~3.6 MB: several 1 MiB chunks, so line numbers and layouts cross chunk boundaries.
    let plain = tmp("big.log");
    gen_file(&plain, "realtime", 3000, 9);
    let gz = tmp("big.log.gz");
    let out = cflog(&["gen", "--format", "realtime", "--lines", "3000", "--seed", "9", "--gzip", "-o", gz.to_str().unwrap()]);
    assert!(out.status.success());
    let args = |threads: &str, file: &Path| -> serde_json::Value {
        json(&cflog(&["analyze", "--json", "--top-capacity", "100000", "--client-capacity", "100000", "--threads", threads, file.to_str().unwrap()]))
    };
    let one = args("1", &plain);
    assert_eq!(one["records"], 3000);
    assert_eq!(args("3", &plain), one);
    assert_eq!(args("2", &gz), one);
}

#[test]
fn bad_lines_keep_their_line_numbers_across_chunks() {
    let path = tmp("with-bad.log");
    gen_file(&path, "realtime", 2500, 4);
    let mut data = std::fs::read(&path).unwrap();
    // Corrupt line 2000 (well past the first 1 MiB chunk): cut its last field off.
    let starts: Vec<usize> = std::iter::once(0).chain(data.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1)).collect();
    let (s, e) = (starts[1999], starts[2000] - 1);
    let last_tab = s + data[s..e].iter().rposition(|&b| b == b'\t').unwrap();
    data.drain(last_tab..e);
    std::fs::write(&path, &data).unwrap();
    for threads in ["1", "2"] {
        let out = cflog(&["analyze", "--json", "--threads", threads, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("{}:2000: 45 fields, but the layout has 46", path.display())), "{err}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((report["records"].as_u64(), report["bad_lines"].as_u64()), (Some(2499), Some(1)));
    }
}

#[test]
fn standard_layout_changes_mid_stream_across_chunks() {
    // A big 33-column file, then an old 19-column file concatenated after it.
    let big = tmp("std.log");
    gen_file(&big, "standard", 6000, 5);
    let mut data = std::fs::read(&big).unwrap();
    data.extend_from_slice(&std::fs::read(fixture("standard/legacy-2015-19col.log")).unwrap());
    std::fs::write(&big, &data).unwrap();
    let one = json(&cflog(&["analyze", "--json", "--threads", "1", "--top-capacity", "100000", "--client-capacity", "100000", big.to_str().unwrap()]));
    assert_eq!((one["records"].as_u64(), one["bad_lines"].as_u64()), (Some(6001), Some(0)));
    let three = json(&cflog(&["analyze", "--json", "--threads", "3", "--top-capacity", "100000", "--client-capacity", "100000", big.to_str().unwrap()]));
    assert_eq!(three, one);
    let last = one["time"]["last_ms"].as_i64().unwrap();
    assert!(last >= 1_793_491_200_000, "the generated 2026 lines are the latest");
    assert_eq!(one["time"]["first_ms"], 1_422_470_507_000i64, "the 2015 line parsed with its own 19-column layout");
}

#[test]
fn gen_is_deterministic_and_gzip_parses() {
    let out1 = cflog(&["gen", "--format", "standard", "--lines", "50", "--seed", "3"]);
    let out2 = cflog(&["gen", "--format", "standard", "--lines", "50", "--seed", "3"]);
    assert_eq!(out1.stdout, out2.stdout);
    assert!(out1.stdout.starts_with(b"#Version: 1.0\n#Fields: date time "));
    let gz = tmp("small.gz");
    assert!(cflog(&["gen", "--format", "realtime", "--lines", "10", "--gzip", "-o", gz.to_str().unwrap()]).status.success());
    let out = cflog(&["parse", gz.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 10);
}

/// A month at `--window 1m` is more than `max_windows` (10,080) minutes: the series widens
/// to 5 minutes, the same bytes for every thread count and for merged parts, with no window
/// left out.
#[test]
fn a_month_at_one_minute_coarsens_the_same_for_any_threads_and_merges() {
    let fields = "timestamp,c-ip,sc-status,sc-bytes,time-taken,cs-uri-stem,x-edge-result-type";
    let path = tmp("month.log");
    // 100,000 requests at 0.04/s: about 29 days, ~12 per 5-minute window.
    let out = cflog(&["gen", "--format", "realtime", "--fields", fields, "--lines", "100000", "--rate", "0.04", "--seed", "12", "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let analyze = |threads: &str, file: &Path| {
        let args = ["analyze", "--json", "--no-progress", "--window", "1m", "--top-capacity", "100000", "--client-capacity", "100000", "--fields", fields, "--threads", threads];
        let out = cflog(&[&args[..], &[file.to_str().unwrap()]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = analyze("1", &path);
    for threads in ["2", "7"] {
        assert!(analyze(threads, &path) == one, "--threads {threads} gives other bytes than --threads 1");
    }

    let r: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let (first, last) = (r["time"]["first_ms"].as_i64().unwrap(), r["time"]["last_ms"].as_i64().unwrap());
    assert!(last - first > 28 * 86_400_000, "a month: {first}..{last}");
    assert_eq!((&r["window"]["ms"], &r["window"]["requested_ms"]), (&300_000.into(), &60_000.into()));
    let note = r["window"]["note"].as_str().unwrap();
    assert!(note.contains("from 1m to 5m") && note.contains("more than 10080 windows"), "{note}");
    assert!(r.get("windows_dropped").is_none());
    // Gap-free: every 5-minute window from the first record's to the last record's.
    let starts: Vec<i64> = r["windows"].as_array().unwrap().iter().map(|w| w["start_ms"].as_i64().unwrap()).collect();
    assert_eq!(starts.first(), Some(&(first - first.rem_euclid(300_000))));
    assert_eq!(starts.last(), Some(&(last - last.rem_euclid(300_000))));
    assert!(starts.windows(2).all(|p| p[1] - p[0] == 300_000), "a window is missing");
    let in_windows: u64 = r["windows"].as_array().unwrap().iter().map(|w| w["records"].as_u64().unwrap()).sum();
    assert_eq!(in_windows, 100_000);

    // Merged reports agree: the first 6 days alone stay at 1 minute, the rest widen; the
    // merge brings both to 5 minutes.
    let data = std::fs::read(&path).unwrap();
    let cut = data.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(20_000).unwrap().0 + 1;
    let (head, tail) = (tmp("month-head.log"), tmp("month-tail.log"));
    std::fs::write(&head, &data[..cut]).unwrap();
    std::fs::write(&tail, &data[cut..]).unwrap();
    let (head_report, tail_report) = (tmp("month-head.json"), tmp("month-tail.json"));
    std::fs::write(&head_report, analyze("2", &head)).unwrap();
    std::fs::write(&tail_report, analyze("2", &tail)).unwrap();
    let head_json: serde_json::Value = serde_json::from_slice(&std::fs::read(&head_report).unwrap()).unwrap();
    assert_eq!(head_json["window"]["ms"], 60_000);
    let merged = cflog(&["merge", "--json", tail_report.to_str().unwrap(), head_report.to_str().unwrap()]);
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert!(merged.stdout == one, "merged parts differ from one run");
}

#[test]
fn merge_refuses_a_report_whose_state_was_edited() {
    use cflog_core::agg::codec::{base64_decode, base64_encode};
    let good = tmp("good.json");
    let out = cflog(&["analyze", "--json", &fixture("standard/aws-doc-2019-33col.log")]);
    std::fs::write(&good, json(&out).to_string()).unwrap();
    // Rename the top path inside the state, as a careless edit or a damaged copy might.
    let mut report = json(&out);
    let mut state = base64_decode(report["state"].as_str().unwrap()).unwrap();
    let at = state.windows(11).position(|w| w == b"/index.html").expect("the path is in the state");
    state[at + 5] = b'y';
    report["state"] = base64_encode(&state).into();
    let edited = tmp("edited.json");
    std::fs::write(&edited, report.to_string()).unwrap();
    let out = cflog(&["merge", "--json", good.to_str().unwrap(), edited.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "merged an edited state: {}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains(&format!("{}: corrupt aggregate state: checksum mismatch", edited.display())), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn reports_with_an_unchecksummed_state_still_merge() {
    // The same two inputs as the fixture: the merge of the old report is the new analysis
    // (its state now version 5), but for the top-list sums and the per-window client tables
    // an old state does not hold (the state is left out; no client is suspicious here).
    let old = json(&cflog(&["merge", "--json", &fixture("reports/schema2-state2-aws-doc.json")]));
    let new = json(&cflog(&[
        "analyze",
        "--json",
        &fixture("standard/aws-doc-2014-26col.log"),
        &fixture("standard/aws-doc-2019-33col.log"),
    ]));
    let without_sums = |mut r: serde_json::Value| {
        r.as_object_mut().unwrap().remove("state");
        for list in r["top"].as_object_mut().unwrap().values_mut() {
            for e in list.as_array_mut().unwrap() {
                let e = e.as_object_mut().unwrap();
                e.remove("bytes");
                e.remove("status_5xx");
            }
        }
        r
    };
    assert_eq!(without_sums(old), without_sums(new));
}

#[test]
fn schema_1_reports_still_merge() {
    let out = cflog(&["merge", "--json", &fixture("reports/schema1-aws-doc.json")]);
    let r = json(&out);
    assert_eq!((&r["schema_version"], &r["records"], &r["window"]["ms"]), (&5.into(), &4.into(), &60_000.into()));
}

/// A schema 2 report (made by cflog before the rename, with `--top-capacity 1` so the
/// lists evicted and the bounds are not 0) merges into the current schema: the bounds
/// come from the state and are now called `overcount_max`.
#[test]
fn schema_2_reports_merge_and_their_bounds_become_overcount_max() {
    let path = fixture("reports/schema2-aws-doc-top-capacity-1.json");
    let old: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(old["schema_version"], 2);
    // (Merging it with itself is refused now: the same report twice would count twice.)
    let r = json(&cflog(&["merge", "--json", &path]));
    assert_eq!((&r["schema_version"], &r["records"]), (&5.into(), &4.into()));
    for (list, entries) in old["top"].as_object().unwrap() {
        let merged = r["top"][list].as_array().unwrap();
        assert_eq!(merged.len(), entries.as_array().unwrap().len(), "{list}");
        for (new, old) in merged.iter().zip(entries.as_array().unwrap()) {
            assert_eq!(new["key"], old["key"], "{list}");
            assert!(new.get("error").is_none(), "{list}: {new}");
            assert_eq!(new["count"], old["count"], "{list}");
            assert_eq!(new["overcount_max"], old["error"], "{list}");
        }
    }
    assert_eq!(r["top"]["client_ip"][0]["overcount_max"], 3);
}

/// `cflog analyze … | head`: a reader that stops early is not a crash (no panic message,
/// no failure exit caused by the closed pipe).
#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::io::Read as _;
    let log = fixture("standard/aws-doc-2019-33col.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(["analyze", "--threads", "1", &log])
        .env("COLUMNS", "100")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before cflog writes the dashboard.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.code().is_some(), "killed by a signal: {status:?}");
    assert_ne!(status.code(), Some(101), "{stderr}");
}

/// The format reference (§2): the 2016 line logs its user agent with `%2520` (encoded twice,
/// as standard logs did before 2020), the 2019 AWS example with `%20`. Each file is judged
/// on its own; both read with plain spaces, in `parse` and in the report's top list.
const UA_2016: &str = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36";
const UA_2019: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36";

#[test]
fn double_encoding_is_decided_per_file_for_every_decoded_value() {
    let legacy = fixture("standard/legacy-2016-23col-double-encoded.log");
    let doc = fixture("standard/aws-doc-2019-33col.log");
    let uas = |r: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = r["top"]["user_agent"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let both = json(&cflog(&["analyze", "--json", &legacy, &doc]));
    assert_eq!(uas(&both), [UA_2019, UA_2016]);
    // The user-agent class reads the decoded text too.
    assert_eq!(both["browser"]["chrome"], 3);
    // --double-decode reaches the report (it stopped at `parse` before).
    assert_eq!(uas(&json(&cflog(&["analyze", "--json", "--double-decode", &legacy]))), [UA_2016]);
    for threads in ["1", "3"] {
        assert_eq!(json(&cflog(&["analyze", "--json", "--threads", threads, &doc, &legacy]))["top"], both["top"], "--threads {threads}");
    }
    // `parse` decides the same way, file by file, whatever the read size (stdin too).
    let parsed = cflog(&["parse", &legacy, &doc]);
    let out = String::from_utf8(parsed.stdout).unwrap();
    let agents: Vec<String> = out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["cs(User-Agent)"].as_str().unwrap().to_string()).collect();
    assert_eq!(agents, [UA_2016, UA_2019, UA_2019]);
    // The dashboard says which file was decoded twice.
    let screen = String::from_utf8(cflog(&["analyze", "--color", "never", &legacy]).stdout).unwrap();
    assert!(screen.replace("\n  ", " ").contains("23 columns, values encoded twice (pre-2020), decoded twice."), "{screen}");
}

/// Requests per URI of a hand-written log: (/a: 503 100 B, 200 10 B), (/b: 500 5 B, 502 5 B),
/// (/c: 200 1000 B); the expected lists follow from the lines.
#[test]
fn top_lists_rank_by_requests_bytes_or_5xx_with_each_entrys_bytes_and_5xx() {
    let log = tmp("top-by.log");
    std::fs::write(
        &log,
        "1700000000.000\t503\t100\t/a\n1700000001.000\t200\t10\t/a\n1700000002.000\t500\t5\t/b\n\
         1700000003.000\t502\t5\t/b\n1700000004.000\t200\t1000\t/c\n",
    )
    .unwrap();
    let report = |by: &str| json(&cflog(&["analyze", "--json", "--fields", "timestamp,sc-status,sc-bytes,cs-uri-stem", "--top-by", by, log.to_str().unwrap()]));
    let rows = |r: &serde_json::Value| -> Vec<(String, u64, u64, u64)> {
        r["top"]["uri"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["key"].as_str().unwrap().into(), e["count"].as_u64().unwrap(), e["bytes"].as_u64().unwrap(), e["status_5xx"].as_u64().unwrap()))
            .collect()
    };
    let row = |k: &str, n, b, f| (k.to_string(), n, b, f);
    let by_requests = report("requests");
    assert_eq!((&by_requests["schema_version"], &by_requests["options"]["top_by"]), (&5.into(), &"requests".into()));
    assert_eq!(rows(&by_requests), [row("/a", 2, 110, 1), row("/b", 2, 10, 2), row("/c", 1, 1000, 0)]);
    assert_eq!(rows(&report("bytes")), [row("/c", 1, 1000, 0), row("/a", 2, 110, 1), row("/b", 2, 10, 2)]);
    // Only keys that had a 5xx.
    assert_eq!(rows(&report("errors")), [row("/b", 2, 10, 2), row("/a", 2, 110, 1)]);
    // Per-window cache terms (no result type here, so 0 and 0).
    assert_eq!((&by_requests["windows"][0]["cache_hits"], &by_requests["windows"][0]["cache_misses"]), (&0.into(), &0.into()));

    // The dashboard: headed columns, the order in the title; a merge keeps the report's order.
    let screen = |args: &[&str]| String::from_utf8(cflog(args).stdout).unwrap();
    let fields = "timestamp,sc-status,sc-bytes,cs-uri-stem";
    let s = screen(&["analyze", "--color", "never", "--fields", fields, "--top-by", "errors", log.to_str().unwrap()]);
    let table: Vec<&str> = s.lines().skip_while(|l| !l.starts_with("Top URIs by 5xx")).take(3).collect();
    assert_eq!(table.len(), 3, "{s}");
    // (Beside it, at 100 columns, the empty "Top clients by 5xx".)
    let words = |line: &str, n: usize| line.split_whitespace().take(n).collect::<Vec<_>>().join(" ");
    assert_eq!(words(table[0], 8), "Top URIs by 5xx requests share bytes 5xx", "{s}");
    assert_eq!(words(table[1], 6), "/b 2 40.0% 10 B 100.0%", "{s}");
    assert_eq!(words(table[2], 6), "/a 2 40.0% 110 B 50.0%", "{s}");
    let saved = tmp("top-by-bytes.json");
    std::fs::write(&saved, cflog(&["analyze", "--json", "--fields", fields, "--top-by", "bytes", log.to_str().unwrap()]).stdout).unwrap();
    let merged = json(&cflog(&["merge", "--json", saved.to_str().unwrap()]));
    assert_eq!(rows(&merged), rows(&report("bytes")));
    let merged = json(&cflog(&["merge", "--json", "--top-by", "errors", saved.to_str().unwrap()]));
    assert_eq!(rows(&merged), rows(&report("errors")));
}

/// A schema 3 report (state version 3: no per-entry sums) still merges; merged with a new
/// report, every number but the sums equals one analysis of both inputs, and the sums it
/// cannot know are null, not a wrong number.
#[test]
fn schema_3_reports_merge_with_unknown_sums() {
    let old = fixture("reports/schema3-aws-doc.json");
    let fresh = json(&cflog(&["analyze", "--json", &fixture("standard/aws-doc-2014-26col.log"), &fixture("standard/aws-doc-2019-33col.log")]));
    let r = json(&cflog(&["merge", "--json", &old]));
    assert_eq!(r["schema_version"], 5);
    for (list, entries) in fresh["top"].as_object().unwrap() {
        let merged = r["top"][list].as_array().unwrap();
        assert_eq!(merged.len(), entries.as_array().unwrap().len(), "{list}");
        for (m, f) in merged.iter().zip(entries.as_array().unwrap()) {
            assert_eq!((&m["key"], &m["count"], &m["overcount_max"]), (&f["key"], &f["count"], &f["overcount_max"]), "{list}");
            assert_eq!((&m["bytes"], &m["status_5xx"]), (&serde_json::Value::Null, &serde_json::Value::Null), "{list}");
        }
    }
    for key in ["records", "bytes_sent", "status", "latency_ms", "unique_viewers", "time"] {
        assert_eq!(r[key], fresh[key], "{key}");
    }
}
