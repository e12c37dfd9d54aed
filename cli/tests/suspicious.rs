//! `cflog analyze`'s suspicious-client table against an oracle: the lines are generated
//! here, counted here per (minute, address) and per (minute, ASN) with a plain map, and the
//! rules applied here as docs/report.md states them; the report must list exactly those.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cflog_testkit::scratch::fresh_dir;

const FIELDS: &str = "timestamp,c-ip,sc-status,sc-bytes,asn";
const START_S: i64 = 1_793_491_200; // 2026-11-01T00:00:00Z

/// `name` in this binary's scratch directory (emptied once a run, under the target dir).
fn tmp(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("suspicious-tests"))).join(name)
}

fn analyze(path: &PathBuf, extra: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(["analyze", "--json", "--no-progress", "--fields", FIELDS])
        .args(extra)
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// splitmix64, so the data needs no crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

struct Line {
    second: i64,
    ip: String,
    status: u16,
    bytes: u64,
    asn: u32,
}

/// Three minutes of traffic: a flood (1,300 in minute 0), a 404 scanner (80 requests, 45
/// of them 404), a client just under the 404 share (100 requests, 29 × 404), one just under
/// the floor (59 × 404), 3,000 one-off browsers, and an ASN carrying many addresses with a
/// high 4xx share; shuffled.
fn traffic() -> Vec<Line> {
    let mut rng = Rng(14);
    let mut out = Vec::new();
    let mut push = |second: i64, ip: &str, status: u16, bytes: u64, asn: u32| out.push(Line { second, ip: ip.into(), status, bytes, asn });
    for i in 0..1_300 {
        push(i % 60, "198.51.100.7", 200, 1_000, 64_500);
    }
    for i in 0..80 {
        push(60 + i % 60, "203.0.113.9", if i < 45 { 404 } else { 200 }, 300, 64_501);
    }
    for i in 0..100 {
        push(60 + i % 60, "203.0.113.10", if i < 29 { 404 } else { 200 }, 300, 64_501);
    }
    for i in 0..59 {
        push(120 + i % 60, "203.0.113.11", 404, 300, 64_501);
    }
    for i in 0..3_000u64 {
        let ip = format!("10.{}.{}.{}", i / 65_536, i / 256 % 256, i % 256);
        push((i % 180) as i64, &ip, if i % 10 == 0 { 403 } else { 200 }, 5_000, 64_502);
    }
    // ASN 64503: 1,300 requests in minute 2 from 260 addresses, 60 % 403.
    for i in 0..1_300u64 {
        let ip = format!("172.16.{}.{}", i % 260 / 200, i % 260 % 200 + 1);
        push(120 + (i % 60) as i64, &ip, if i % 5 < 3 { 403 } else { 200 }, 100, 64_503);
    }
    // Fisher–Yates.
    for i in (1..out.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Counts {
    requests: u64,
    s4xx: u64,
    s404: u64,
    bytes: u64,
}

/// The rules of docs/report.md (`suspicious_clients`), for one-minute windows.
fn oracle(lines: &[Line], flood: u64, floor: u64, pct_4xx: u64, pct_404: u64, asn_factor: u64) -> BTreeSet<(i64, String, String, Counts, Vec<&'static str>)> {
    let mut by: BTreeMap<(i64, &'static str, String), Counts> = BTreeMap::new();
    for l in lines {
        let window = (START_S + l.second) / 60 * 60_000;
        for (kind, key) in [("ip", l.ip.clone()), ("asn", l.asn.to_string())] {
            let c = by.entry((window, kind, key)).or_default();
            c.requests += 1;
            c.s4xx += u64::from((400..500).contains(&l.status));
            c.s404 += u64::from(l.status == 404);
            c.bytes += l.bytes;
        }
    }
    let mut out = BTreeSet::new();
    for ((window, kind, key), c) in by {
        let f = if kind == "asn" { asn_factor } else { 1 };
        let mut why = Vec::new();
        if c.requests >= flood * f {
            why.push("flood");
        }
        if c.requests >= floor * f {
            if c.s4xx * 100 >= pct_4xx * c.requests {
                why.push("4xx");
            }
            if c.s404 * 100 >= pct_404 * c.requests {
                why.push("404");
            }
        }
        if !why.is_empty() {
            out.insert((window, kind.to_string(), key, c, why));
        }
    }
    out
}

fn listed(report: &serde_json::Value) -> BTreeSet<(i64, String, String, Counts, Vec<&'static str>)> {
    let names = ["flood", "4xx", "404", "threat"];
    report["suspicious_clients"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let counts = Counts {
                requests: c["requests"].as_u64().unwrap(),
                s4xx: c["status_4xx"].as_u64().unwrap(),
                s404: c["status_404"].as_u64().unwrap(),
                bytes: c["bytes"].as_u64().unwrap(),
            };
            let why: Vec<&'static str> =
                c["reasons"].as_array().unwrap().iter().map(|r| *names.iter().find(|n| **n == r.as_str().unwrap()).unwrap()).collect();
            (c["window_start_ms"].as_i64().unwrap(), c["kind"].as_str().unwrap().to_string(), c["key"].as_str().unwrap().to_string(), counts, why)
        })
        .collect()
}

fn write(lines: &[Line], name: &str) -> PathBuf {
    let path = tmp(name);
    let text: String =
        lines.iter().map(|l| format!("{}.{:03}\t{}\t{}\t{}\t{}\n", START_S + l.second, 500, l.ip, l.status, l.bytes, l.asn)).collect();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_table_lists_what_the_oracle_finds_at_default_thresholds() {
    let lines = traffic();
    let path = write(&lines, "default.log");
    let want = oracle(&lines, 1_200, 60, 50, 30, 20);
    // The flood, the scanner and the ASN over its floor (20 × 60 = 1,200 requests) with
    // 60 % 4xx; not the near misses, not the flood's ASN (1,300 requests, no errors).
    let keys: Vec<&str> = want.iter().map(|w| w.2.as_str()).collect();
    assert_eq!(keys, ["198.51.100.7", "203.0.113.9", "64503"], "{want:?}");
    // Default client capacity (64 per window) against 3,000 one-off addresses per three
    // minutes, one thread and three: the heavy clients are tracked exactly.
    for threads in ["1", "3"] {
        let report = analyze(&path, &["--threads", threads]);
        assert_eq!(report["schema_version"], 5);
        assert_eq!(listed(&report), want, "--threads {threads}");
        assert_eq!(report["suspicious_clients"]["found"], 3);
        assert_eq!(report["suspicious_clients"]["thresholds"]["flood_per_min"], 1_200);
    }
}

#[test]
fn thresholds_are_flags_and_mean_what_the_oracle_says() {
    let lines = traffic();
    let path = write(&lines, "tuned.log");
    let want = oracle(&lines, 500, 50, 25, 25, 3);
    let report = analyze(
        &path,
        &[
            "--client-capacity",
            "100000",
            "--suspect-flood",
            "500",
            "--suspect-floor",
            "50",
            "--suspect-4xx",
            "25",
            "--suspect-404",
            "25",
            "--suspect-asn-factor",
            "3",
        ],
    );
    assert_eq!(listed(&report), want);
    assert!(want.iter().any(|w| w.2 == "203.0.113.10"), "29 % 404 is over 25 %: listed now");
    assert!(want.iter().any(|w| w.2 == "203.0.113.11"), "59 requests is over a floor of 50");
    // The dashboard shows the same clients with their reasons.
    let out = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(["analyze", "--no-progress", "--color", "never", "--fields", FIELDS, "--suspect-flood", "500", "--suspect-floor", "50"])
        .arg(&path)
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    let panel = &screen[screen.find("Suspicious clients").expect("the panel")..];
    assert!(panel.contains("198.51.100.7") && panel.contains("203.0.113.9"), "{panel}");
    assert!(panel.lines().any(|l| l.contains("203.0.113.9") && l.contains("56%") && l.contains("4xx,404")), "{panel}");
    assert!(panel.contains("flood ≥500/min"), "{panel}");
}

#[test]
fn merged_reports_list_what_one_pass_lists() {
    let lines = traffic();
    let (a, b) = lines.split_at(lines.len() / 2);
    let (pa, pb, pall) = (write(a, "a.log"), write(b, "b.log"), write(&lines, "all.log"));
    let ra = analyze(&pa, &[]);
    let rb = analyze(&pb, &[]);
    let (fa, fb) = (tmp("a.json"), tmp("b.json"));
    std::fs::write(&fa, ra.to_string()).unwrap();
    std::fs::write(&fb, rb.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cflog")).args(["merge", "--json"]).arg(&fa).arg(&fb).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed(&merged), listed(&analyze(&pall, &[])));
    assert_eq!(listed(&merged), oracle(&lines, 1_200, 60, 50, 30, 20));
}
