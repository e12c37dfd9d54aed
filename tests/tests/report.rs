//! The report contract: a golden report worked out by hand, and the merge laws.

use cflog_core::suspicious::SuspectThresholds;
use cflog_core::agg::Merge;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{Format, Parser, RecordBuf, Schema};
use proptest::prelude::*;
use serde_json::json;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn summarize(summary: &mut Summary, mut parser: Parser, data: &[u8]) {
    let mut buf = RecordBuf::new();
    for line in data.split(|&b| b == b'\n') {
        match parser.parse_line(line, &mut buf) {
            Ok(Some(r)) => {
                if summary.add(&r).is_err() {
                    summary.add_bad_line();
                }
            }
            Ok(None) => {}
            Err(_) => summary.add_bad_line(),
        }
    }
}

/// The two AWS documentation examples (2 lines from 2019, 2 from 2014), every expected
/// value worked out by hand from the lines.
#[test]
fn golden_report_of_the_aws_doc_examples() {
    let mut s = Summary::new(SummaryOptions::default());
    summarize(&mut s, Parser::standard(), &fixture("standard/aws-doc-2019-33col.log"));
    summarize(&mut s, Parser::standard(), &fixture("standard/aws-doc-2014-26col.log"));
    // A line that is not a record, counted as bad.
    summarize(&mut s, Parser::standard(), b"2019-12-04\t21:02:31\tLAX1\tnot-a-number\n");
    let r = s.report(10);

    assert_eq!(r["schema_version"], 5);
    assert_eq!(r["records"], 4);
    // Four requests from three addresses, far below every threshold.
    assert_eq!(r["suspicious_clients"]["found"], 0);
    assert_eq!(r["bad_lines"], 1);
    // sc-bytes 392 + 392 + 182 + 2,390,282; cs-bytes 23 + 23 (+ two `-`).
    assert_eq!(r["bytes_sent"], 2_391_248);
    assert_eq!(r["bytes_received"], 46);
    // 2014-05-23 01:13:11 and 2019-12-04 21:02:31 UTC.
    assert_eq!(r["time"], json!({"first_ms": 1_400_807_591_000i64, "last_ms": 1_575_493_351_000i64}));
    assert_eq!(r["status"], json!({"200": 3, "304": 1}));
    assert_eq!(r["status_class"], json!({"000": 0, "1xx": 0, "2xx": 3, "3xx": 1, "4xx": 0, "5xx": 0, "other": 0}));
    assert_eq!(r["error_rate"], json!({"4xx": 0.0, "5xx": 0.0}));
    assert_eq!(r["result_type"], json!({"Hit": 3, "RefreshHit": 1}));
    // Only the 2019 lines have x-edge-detailed-result-type.
    assert_eq!(r["detailed_result_type"], json!({"Hit": 2}));
    assert_eq!(r["protocol"], json!({"http": 2, "https": 2}));
    assert_eq!(r["http_version"], json!({"HTTP/1.1": 2, "HTTP/2.0": 2}));
    assert_eq!(r["method"], json!({"GET": 4}));
    assert_eq!(r["content_type"], json!({"text/html": 2}));
    // Every hit: Hit ×3 and RefreshHit ×1, no Miss.
    assert_eq!(r["cache_hit_ratio"], 1.0);
    assert_eq!(r["cache"], json!({"hits": 4, "misses": 0, "hit_bytes": 2_391_248, "miss_bytes": 0}));
    // time-taken 0.001, 0.000, 0.001, 0.002 s → sorted 0, 1, 1, 2 ms; rank ceil(q·n).
    let tt = &r["latency_ms"]["time_taken"];
    assert_eq!(tt["count"], 4);
    // Percentiles come from the sketch: within 1 % of the true value (docs/report.md);
    // p95 and max are clamped to the exact maximum.
    let p50 = tt["p50"].as_f64().unwrap();
    assert!((p50 - 1.0).abs() <= 0.01, "p50 {p50} not within 1 % of 1.0");
    assert_eq!((tt["p95"].as_f64(), tt["max"].as_f64()), (Some(2.0), Some(2.0)));
    assert_eq!((tt["min"].as_f64(), tt["mean"].as_f64()), (Some(0.0), Some(1.0)));
    // time-to-first-byte only in the 2019 lines: 0.001 and 0.000.
    let ttfb = &r["latency_ms"]["ttfb"];
    assert_eq!((ttfb["count"].as_u64(), ttfb["p50"].as_f64(), ttfb["p99"].as_f64()), (Some(2), Some(0.0), Some(1.0)));
    assert_eq!(r["latency_ms"]["origin_fbl"]["count"], 0);
    assert_eq!(r["latency_ms"]["origin_fbl"]["p50"], serde_json::Value::Null);
    // 192.0.2.100 (twice), 192.0.2.10, 192.0.2.202.
    assert_eq!(r["unique_viewers"], 3);
    // Each entry sums its requests' sc-bytes and 5xx (none here): 392 + 392 for /index.html.
    assert_eq!(r["top"]["uri"][0], json!({"key": "/index.html", "count": 2, "overcount_max": 0, "bytes": 784, "status_5xx": 0}));
    assert_eq!(r["top"]["client_ip"][0], json!({"key": "192.0.2.100", "count": 2, "overcount_max": 0, "bytes": 784, "status_5xx": 0}));
    // LAX1: the two 2019 lines and the 2014 mp3 (392 + 392 + 2,390,282).
    assert_eq!(
        r["top"]["edge_location"][0],
        json!({"key": "LAX1", "count": 3, "overcount_max": 0, "bytes": 2_391_066, "status_5xx": 0, "city": "Los Angeles", "country": "US", "region": "North America"})
    );
    assert_eq!(r["options"]["top_by"], "requests");
    assert_eq!(r["options"]["client_capacity"], 64);
    // Ranked by bytes: the 2,390,282-byte mp3, /index.html (784), /view/my/file.html (182).
    let by_bytes = s.report_ranked(10, cflog_core::agg::Rank::Bytes);
    let keys: Vec<&str> = by_bytes["top"]["uri"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["/soundtrack/happy.mp3", "/index.html", "/view/my/file.html"]);
    assert_eq!(by_bytes["options"]["top_by"], "bytes");
    // No 5xx at all: ranked by 5xx, every list is empty.
    let by_5xx = s.report_ranked(10, cflog_core::agg::Rank::Status5xx);
    assert!(by_5xx["top"].as_object().unwrap().values().all(|l| l.as_array().unwrap().is_empty()));
    assert_eq!(r["top"]["user_agent"][1]["key"], "Mozilla/4.0 (compatible; MSIE 5.0b1; Mac_PowerPC)");
    assert_eq!(r["top"]["referer"].as_array().unwrap().len(), 2);
    assert_eq!(r["edge_region"], json!({"Europe": 1, "North America": 3}));
    assert_eq!(r["user_agent_class"], json!({"browser": 4}));
    // Windows of one minute: 2014-05-23 01:13 holds both 2014 lines, 2019-12-04 21:02 both 2019 lines.
    let windows = r["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0]["start_ms"], 1_400_807_580_000i64);
    assert_eq!(windows[0]["records"], 2);
    assert_eq!(windows[0]["status_class"]["3xx"], 1);
    // RefreshHit and Hit in 2014, Hit and Hit in 2019.
    assert_eq!((&windows[0]["cache_hits"], &windows[0]["cache_misses"]), (&json!(2), &json!(0)));
    assert_eq!((&windows[1]["cache_hits"], &windows[1]["cache_misses"]), (&json!(2), &json!(0)));
    assert_eq!(windows[1]["start_ms"], 1_575_493_320_000i64);
    assert_eq!(windows[1]["bytes_sent"], 784);
    assert_eq!(windows[1]["latency_ms"]["time_taken"]["p99"], 1.0);
    // The state round-trips into an equal summary.
    let (back, top_n) = Summary::from_report(&r).unwrap();
    assert_eq!(top_n, 10);
    assert_eq!(back, s);
    assert_eq!(back.report(10), r);
}

#[test]
fn sampling_rate_scales_estimates_and_keeps_raw_counts() {
    let mut s = Summary::new(SummaryOptions { sampling_rate: Some(5), ..SummaryOptions::default() });
    summarize(&mut s, Parser::standard(), &fixture("standard/aws-doc-2019-33col.log"));
    let r = s.report(10);
    assert_eq!(r["records"], 2);
    assert_eq!(r["sampling"], json!({"rate": 5, "scale": 20.0, "estimated_records": 40.0, "estimated_bytes_sent": 15680.0}));
}

#[test]
fn cardinality_caps_keep_an_other_bucket() {
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "cs-method"]).unwrap();
    let mut s = Summary::new(SummaryOptions { dimension_cap: 2, ..SummaryOptions::default() });
    let data = "1.000\t200\tGET\n2.000\t200\tPOST\n3.000\t200\tPUT\n4.000\t200\tPATCH\n4.500\t200\tGET\n";
    summarize(&mut s, Parser::realtime(schema), data.as_bytes());
    assert_eq!(s.report(10)["method"], json!({"GET": 2, "POST": 1, "(other)": 2}));
}

#[test]
fn merging_different_windows_is_refused() {
    let mut a = Summary::new(SummaryOptions::default());
    let b = Summary::new(SummaryOptions { window_ms: 1000, ..SummaryOptions::default() });
    assert!(a.merge(&b).is_err());
}

fn generated(seed: u64, lines: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let opts = cflog_gen::GenOptions { format: Format::RealTime, lines, seed, ..Default::default() };
    cflog_gen::generate(&opts, &mut out).unwrap();
    out
}

fn one_pass(data: &[u8], options: SummaryOptions) -> Summary {
    let mut s = Summary::new(options);
    summarize(&mut s, Parser::realtime(Schema::realtime_release(46).unwrap()), data);
    s
}

/// Splits `data` at line boundaries near the given fractions, aggregates each part and
/// merges the parts in the given order.
fn split_merge(data: &[u8], cuts: &[f64], order: &[usize], options: SummaryOptions) -> Summary {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|f| {
            let at = (f * data.len() as f64) as usize;
            data[at..].iter().position(|&b| b == b'\n').map_or(data.len(), |p| at + p + 1)
        })
        .collect();
    points.push(0);
    points.push(data.len());
    points.sort_unstable();
    points.dedup();
    let parts: Vec<Summary> = points.windows(2).map(|w| one_pass(&data[w[0]..w[1]], options)).collect();
    let mut idx: Vec<usize> = (0..parts.len()).collect();
    idx.sort_by_key(|i| order.get(*i).copied().unwrap_or(*i));
    let mut merged = Summary::new(options);
    for i in idx {
        merged.merge(&parts[i]).unwrap();
    }
    merged
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// With room for every key, a split-and-merge equals one pass exactly, state and all.
    #[test]
    fn merge_law_exact(seed in 0u64..1000, cuts in proptest::collection::vec(0.0f64..1.0, 0..7),
                       order in proptest::collection::vec(0usize..100, 8)) {
        let data = generated(seed, 1500);
        let options = SummaryOptions { top_capacity: 100_000, client_capacity: 100_000, window_ms: 10_000, ..SummaryOptions::default() };
        let whole = one_pass(&data, options);
        let merged = split_merge(&data, &cuts, &order, options);
        prop_assert_eq!(merged.report(10), whole.report(10));
    }

    /// With small heavy-hitter lists, counters, sketches, windows and the viewer estimate are
    /// still exact; each top entry brackets the true count within its stated error.
    #[test]
    fn merge_law_bounded(seed in 0u64..1000, cuts in proptest::collection::vec(0.0f64..1.0, 1..7),
                         order in proptest::collection::vec(0usize..100, 8)) {
        let data = generated(seed, 1500);
        let options = SummaryOptions { top_capacity: 50, client_capacity: 8, ..SummaryOptions::default() };
        let exact = one_pass(&data, SummaryOptions { top_capacity: 100_000, client_capacity: 100_000, ..SummaryOptions::default() });
        let merged = split_merge(&data, &cuts, &order, options);
        let (m, e) = (merged.report(10), exact.report(10));
        for key in ["records", "bytes_sent", "status", "status_class", "result_type", "cache", "latency_ms",
                    "unique_viewers", "windows", "method", "user_agent_class", "edge_region"] {
            prop_assert_eq!(&m[key], &e[key], "{}", key);
        }
        // Exact counts of every key: the exact summary never evicted anything.
        let all = exact.report(usize::MAX);
        for list in ["uri", "client_ip", "edge_location", "user_agent"] {
            for entry in m["top"][list].as_array().unwrap() {
                let key = entry["key"].as_str().unwrap();
                let truth = all["top"][list].as_array().unwrap().iter()
                    .find(|x| x["key"] == key).and_then(|x| x["count"].as_u64()).unwrap_or(0);
                let (count, error) = (entry["count"].as_u64().unwrap(), entry["overcount_max"].as_u64().unwrap());
                prop_assert!(count >= truth, "{} {}: count {} below true {}", list, key, count, truth);
                prop_assert!(count - error <= truth, "{} {}: count {} - error {} above true {}", list, key, count, error, truth);
                prop_assert!(error <= 1500 / 50, "{} error {} above total/k", list, error);
            }
        }
        // Bounded client tables never accuse: every client held in the merged small tables
        // (a flood threshold of 1 judges them all) has at most its true counts.
        let low = SuspectThresholds { flood_per_min: 1, ..Default::default() };
        let truth = cflog_core::suspicious::judge(&exact, &low);
        let judged = cflog_core::suspicious::judge(&merged, &low);
        prop_assert!(!judged.is_empty());
        for c in &judged {
            let t = truth.iter().find(|t| (t.window_start_ms, t.kind, &t.key) == (c.window_start_ms, c.kind, &c.key)).expect("a real client");
            prop_assert!(c.counts.requests <= t.counts.requests && c.counts.status_4xx <= t.counts.status_4xx
                && c.counts.status_404 <= t.counts.status_404 && c.counts.bytes <= t.counts.bytes, "{:?} above {:?}", c, t);
            prop_assert!(c.counts.requests + c.missed_max >= t.counts.requests, "{:?}: upper bound below the truth {:?}", c, t);
        }
    }
}
