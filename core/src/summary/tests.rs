//! Unit tests of the summary: merges, windows, state and report.

use super::*;
use super::caches::Caches;
use crate::enrich::geo::edge_geo;
use alloc::vec::Vec;
use serde_json::{Value, json};

use super::state::{STATE_CHECKSUM_LEN, STATE_VERSION};
use crate::agg::codec::base64_decode;
use super::window::{MAX_WINDOW_MS, width_text};
use crate::{Parser, RecordBuf, Schema};

/// A summary of real-time records `timestamp sc-status sc-bytes time-taken`, one per
/// second offset from 2026-11-01T00:00:00Z.
fn summary_of(options: SummaryOptions, offsets_s: &[i64]) -> Summary {
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "sc-bytes", "time-taken"]).unwrap();
    let mut parser = Parser::realtime(schema);
    let mut buf = RecordBuf::new();
    let mut s = Summary::new(options);
    for off in offsets_s {
        let line = alloc::format!("{}.250\t200\t100\t0.010", 1_793_491_200 + off);
        let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        s.add(&record).unwrap();
    }
    s
}

/// A state whose counts would overflow when merged (only a forged or corrupted one can
/// be so) is refused, and leaves the summary as it was; its report does not panic.
#[test]
fn merging_counts_that_overflow_is_refused() {
    let options = SummaryOptions::default();
    let one = summary_of(options, &[0]);
    let mut huge = one.clone();
    huge.records = u64::MAX;
    huge.bytes_sent = u64::MAX;
    huge.windows.values_mut().for_each(|w| w.records = u64::MAX);
    let _ = huge.report(10);
    // Hits and misses whose sum overflows (the decode_state fuzz target found a resealed
    // state so, 2026-12-04): the hit ratios are taken in floating point.
    huge.cache_hits = u64::MAX;
    huge.cache_misses = 1;
    huge.cache_hit_bytes = u64::MAX;
    huge.cache_miss_bytes = u64::MAX;
    huge.windows.values_mut().for_each(|w| (w.cache_hits, w.cache_misses) = (u64::MAX, 1));
    assert_eq!(huge.cache_hit_ratio(), Some(1.0));
    assert_eq!(huge.cache_hit_ratio_bytes(), Some(0.5));
    assert_eq!(huge.report(10)["windows"][0]["cache_hit_ratio"], json!(1.0));
    let mut a = one.clone();
    assert_eq!(a.merge(&huge), Err(MergeError::Corrupt { what: "counts overflow" }));
    assert_eq!(a, one, "nothing changed");
    // Through the encoding too: a sealed state (valid checksum) with such counts.
    let mut b = Summary::decode_state(&huge.encode_state()).unwrap();
    assert!(b.merge(&huge).is_err());
}

/// Byte values near `u64::MAX` are valid to the grammar (an unsigned integer): their sums
/// saturate at `u64::MAX` in both modes, where they had wrapped to a small total in a
/// release build and panicked in a debug one.
#[test]
fn byte_sums_saturate() {
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "sc-bytes", "cs-bytes", "x-edge-result-type"]).unwrap();
    let max = u64::MAX;
    for windows_only in [false, true] {
        let mut parser = Parser::realtime(schema.clone());
        let mut buf = RecordBuf::new();
        let mut s = Summary::new(SummaryOptions { windows_only, ..SummaryOptions::default() });
        for (off, result) in [(0, "Hit"), (1, "Hit"), (2, "Miss"), (3, "Miss")] {
            let line = alloc::format!("{}.250\t200\t{max}\t{max}\t{result}", 1_793_491_200 + off);
            let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
            s.add(&record).unwrap();
        }
        assert_eq!(s.records, 4);
        assert_eq!((s.bytes_sent, s.bytes_received), (max, max), "windows_only {windows_only}");
        assert_eq!((s.cache_hit_bytes, s.cache_miss_bytes), (max, max));
        let w = s.windows.values().next().unwrap();
        assert_eq!((w.records, w.bytes_sent), (4, max));
        let _ = s.report(10);
    }
}

#[test]
fn the_ladder_steps_through_multiples() {
    let steps = |from: u64, n: usize| {
        let mut out = alloc::vec![from];
        for _ in 0..n {
            out.push(coarser_window(*out.last().unwrap()));
        }
        out
    };
    let m = 60_000;
    assert_eq!(steps(m, 7), [m, 5 * m, 15 * m, 60 * m, 360 * m, 1440 * m, 2880 * m, 5760 * m]);
    assert_eq!(steps(1, 5), [1, 1_000, 5_000, 10_000, 30_000, 60_000]);
    // 90 s divides 15 min; 7 min divides nothing on the ladder, so it doubles.
    assert_eq!(steps(90_000, 2), [90_000, 900_000, 3_600_000]);
    assert_eq!(steps(7 * m, 2), [7 * m, 14 * m, 28 * m]);
    assert_eq!(coarser_window(MAX_WINDOW_MS), MAX_WINDOW_MS);
    assert_eq!(coarser_window(MAX_WINDOW_MS / 2 + 1), MAX_WINDOW_MS / 2 + 1);
    for w in [1, 500, 1_000, 60_000, 7 * m, 86_400_000, MAX_WINDOW_MS / 3] {
        assert_eq!(coarser_window(w) % w, 0, "{w}");
    }
    assert_eq!([width_text(60_000), width_text(90_000), width_text(86_400_000), width_text(500)], ["1m", "90s", "1d", "500ms"]);
}

#[test]
fn windows_widen_past_the_cap_and_say_why() {
    let options = SummaryOptions { max_windows: 3, ..SummaryOptions::default() };
    // Minutes 0, 1, 2 fit; minute 3 makes four: 5-minute windows hold all in one.
    let s = summary_of(options, &[0, 60, 120]);
    assert_eq!((s.window_ms(), s.windows.len(), s.window_note()), (60_000, 3, None));
    let s = summary_of(options, &[0, 60, 120, 180]);
    assert_eq!((s.window_ms(), s.windows.len()), (300_000, 1));
    assert_eq!(s.windows[&1_793_491_200_000].records, 4);
    // Four 5-minute windows need 15 minutes; 15-minute windows starting on the quarter.
    let s = summary_of(options, &[0, 300, 600, 900, 1200]);
    assert_eq!(s.window_ms(), 900_000);
    let starts: Vec<(i64, u64)> = s.windows.iter().map(|(k, w)| (*k, w.records)).collect();
    assert_eq!(starts, [(1_793_491_200_000, 3), (1_793_492_100_000, 2)]);
    assert_eq!(
        s.window_note().as_deref(),
        Some("window widened from 1m to 15m: at 5m there would be more than 3 windows (max_windows)")
    );
    let r = s.report(10);
    assert_eq!(r["window"], json!({"ms": 900_000, "requested_ms": 60_000, "note": s.window_note()}));
    assert!(r.get("windows_dropped").is_none());
    // Fixed windows never widen (and are not capped).
    let fixed = summary_of(SummaryOptions { fixed_windows: true, ..options }, &[0, 300, 600, 900, 1200]);
    assert_eq!((fixed.window_ms(), fixed.windows.len()), (60_000, 5));
    assert_eq!(Summary::decode_state(&fixed.encode_state()).unwrap(), fixed);
}

#[test]
fn merging_brings_both_sides_to_the_wider_window() {
    let options = SummaryOptions { max_windows: 3, ..SummaryOptions::default() };
    let whole = summary_of(options, &[0, 60, 120, 180, 240, 3600]);
    let narrow = summary_of(options, &[0, 3600]);
    let wide = summary_of(options, &[60, 120, 180, 240]);
    assert_eq!((narrow.window_ms(), wide.window_ms()), (60_000, 300_000));
    for (a, b) in [(&narrow, &wide), (&wide, &narrow)] {
        let mut m = a.clone();
        m.merge(b).unwrap();
        assert_eq!(m, whole);
        assert_eq!(m.window_ms(), 300_000);
    }
    let mut other = Summary::new(SummaryOptions { fixed_windows: true, ..options });
    assert_eq!(other.merge(&whole), Err(MergeError::IncompatibleParameters { what: "summary capacities" }));
}

#[test]
fn decoding_checks_the_windows() {
    let s = summary_of(SummaryOptions { max_windows: 3, ..SummaryOptions::default() }, &[0, 300, 600, 900]);
    assert_eq!(Summary::decode_state(&s.encode_state()).unwrap(), s);
    let mut off_ladder = s.clone();
    off_ladder.window_ms = 120_000;
    assert_eq!(Summary::decode_state(&off_ladder.encode_state()), Err(MergeError::Corrupt { what: "effective window width" }));
    let mut misaligned = s.clone();
    let w = misaligned.windows.pop_first().unwrap().1;
    misaligned.windows.insert(1_793_491_260_000, w);
    assert_eq!(Summary::decode_state(&misaligned.encode_state()), Err(MergeError::Corrupt { what: "window start" }));
}

/// A schema 2 report whose state is version 2 (no checksum), made by `cflog analyze`
/// before states carried one.
const STATE_2_REPORT: &str = include_str!("../../../tests/fixtures/reports/schema2-state2-aws-doc.json");

/// A real state with every kind of aggregate filled: the two AWS documentation
/// examples, plus windows and tags.
fn rich_state() -> Vec<u8> {
    let report: Value = serde_json::from_str(STATE_2_REPORT).unwrap();
    let (mut s, _) = Summary::from_report(&report).unwrap();
    s.merge(&summary_of(s.options, &[0, 1, 60, 61, 3600])).unwrap();
    s.add_tag("bot", b"googlebot");
    s.add_tag("path_class", b"static");
    s.encode_state()
}

#[test]
fn every_corrupted_state_is_refused() {
    let good = rich_state();
    assert!(Summary::decode_state(&good).is_ok());
    let mut rng = crate::agg::testing::Rng(11);
    let (mut accepted, mut other_reason) = (Vec::new(), Vec::new());
    for case in 0..300 {
        let mut bad = good.clone();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bad.len());
            bad[at] ^= 1 + rng.below(255) as u8;
        }
        match Summary::decode_state(&bad) {
            Ok(_) => accepted.push(case),
            // Only a changed version byte may fail before the checksum is compared.
            Err(MergeError::Corrupt { what }) if bad[0] != good[0] || what.starts_with("checksum") => {}
            Err(e) => other_reason.push((case, e)),
        }
    }
    assert!(accepted.is_empty(), "{} of 300 corrupted states decoded: cases {accepted:?}", accepted.len());
    assert!(other_reason.is_empty(), "refused, but not by the checksum: {other_reason:?}");
    // Cut short or lengthened, anywhere.
    for len in 0..good.len() {
        assert!(Summary::decode_state(&good[..len]).is_err(), "cut to {len} bytes");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(Summary::decode_state(&longer).is_err());
}

#[test]
fn the_checksum_guards_versions_3_to_5() {
    let good = rich_state();
    assert_eq!(good[0], STATE_VERSION);
    let n = good.len();
    let checksum = |bytes: &[u8]| Summary::decode_state(bytes).unwrap_err();
    assert_eq!(checksum(&good[..n - 1]), MergeError::Corrupt { what: "checksum mismatch (the state was corrupted or edited)" });
    assert_eq!(checksum(&[STATE_VERSION, 0, 0]), MergeError::Corrupt { what: "checksum missing (truncated state)" });
    assert_eq!(
        checksum(&[STATE_VERSION]).to_string(),
        "corrupt aggregate state: checksum missing (truncated state)"
    );
    // A body that passes the checksum is still checked field by field.
    assert_eq!(checksum(&seal_state(alloc::vec![STATE_VERSION])), MergeError::Corrupt { what: "truncated" });
    assert_eq!(checksum(&[]), MergeError::Corrupt { what: "truncated" });
    // Version 2 bodies (no checksum, no client tables) are read by
    // `version_2_states_are_still_read`; a version 5 body relabelled 2 is refused.
    let mut v2 = good[..n - STATE_CHECKSUM_LEN].to_vec();
    v2[0] = 2;
    assert!(Summary::decode_state(&v2).is_err());
}

#[test]
fn version_2_states_are_still_read() {
    let report: Value = serde_json::from_str(STATE_2_REPORT).unwrap();
    assert_eq!(base64_decode(report["state"].as_str().unwrap()).unwrap()[0], 2);
    let (s, top_n) = Summary::from_report(&report).unwrap();
    assert_eq!((s.records, top_n), (4, 10));
    let mut again = s.report(top_n);
    // Everything but the state is the same report, in the current schema (3: a top
    // entry's `error` is `overcount_max`; 4 and 5: see `in_the_current_schema`); the state
    // is now version 5.
    assert_eq!(base64_decode(again["state"].as_str().unwrap()).unwrap()[0], STATE_VERSION);
    again["state"] = report["state"].clone();
    let mut want = report.clone();
    for list in want["top"].as_object_mut().unwrap().values_mut() {
        for entry in list.as_array_mut().unwrap() {
            let e = entry.as_object_mut().unwrap();
            let bound = e.remove("error").unwrap();
            e.insert("overcount_max".into(), bound);
        }
    }
    assert_eq!(again, in_the_current_schema(want, &again));
}

/// An older report as the current schema renders it: schema 4 adds `options.top_by`,
/// each window's `cache_hits` and `cache_misses` (taken from `now`, checked against the
/// window's ratio), and top-list sums, `null` since an older state has none; schema 5 adds
/// `options.client_capacity` (the default, 64) and `suspicious_clients`, with none found
/// since an older state has no client tables.
fn in_the_current_schema(mut old: Value, now: &Value) -> Value {
    let schema = old["schema_version"].as_u64().unwrap();
    old["schema_version"] = json!(SCHEMA_VERSION);
    old["options"]["client_capacity"] = json!(64);
    assert_eq!(now["suspicious_clients"]["found"], 0);
    assert!(now["suspicious_clients"]["clients"].as_array().unwrap().is_empty());
    old["suspicious_clients"] = now["suspicious_clients"].clone();
    if schema >= 4 {
        return old;
    }
    old["options"]["top_by"] = json!("requests");
    for (w, n) in old["windows"].as_array_mut().unwrap().iter_mut().zip(now["windows"].as_array().unwrap()) {
        let (hits, misses) = (n["cache_hits"].as_u64().unwrap(), n["cache_misses"].as_u64().unwrap());
        assert!(w["cache_hit_ratio"].as_f64().zip(ratio(hits, hits + misses)).is_none_or(|(a, b)| (a - b).abs() < 1e-6));
        w["cache_hits"] = json!(hits);
        w["cache_misses"] = json!(misses);
    }
    for list in old["top"].as_object_mut().unwrap().values_mut() {
        for entry in list.as_array_mut().unwrap() {
            entry["bytes"] = Value::Null;
            entry["status_5xx"] = Value::Null;
        }
    }
    old
}

/// A schema 3 report made by `cflog analyze` before the top lists kept sums.
const SCHEMA_3_REPORT: &str = include_str!("../../../tests/fixtures/reports/schema3-aws-doc.json");

/// Reads an older report whose state has `version`: re-reported, it is the same report in
/// the current schema (see `in_the_current_schema`) with a current state.
fn old_report_reads_back(text: &str, version: u8) -> Summary {
    let report: Value = serde_json::from_str(text).unwrap();
    assert_eq!(base64_decode(report["state"].as_str().unwrap()).unwrap()[0], version);
    let (s, top_n) = Summary::from_report(&report).unwrap();
    let mut again = s.report(top_n);
    assert_eq!(base64_decode(again["state"].as_str().unwrap()).unwrap()[0], STATE_VERSION);
    again["state"] = report["state"].clone();
    assert_eq!(again, in_the_current_schema(report, &again));
    s
}

#[test]
fn version_3_states_are_still_read() {
    let s = old_report_reads_back(SCHEMA_3_REPORT, 3);
    // The sums stay unknown after a merge with a new summary, and through its state.
    let mut fresh = Summary::new(SummaryOptions::default());
    fresh.merge(&s).unwrap();
    assert!(!fresh.top.uri.sums_known());
    assert!(!Summary::decode_state(&fresh.encode_state()).unwrap().top.uri.sums_known());
    assert!(Summary::new(SummaryOptions::default()).top.uri.sums_known());
}

/// A schema 4 report made by `cflog analyze` before the windows kept client tables.
const SCHEMA_4_REPORT: &str = include_str!("../../../tests/fixtures/reports/schema4-aws-doc.json");

#[test]
fn version_4_states_are_still_read() {
    let s = old_report_reads_back(SCHEMA_4_REPORT, 4);
    assert_eq!((s.records, s.options().client_capacity), (4, 64));
    assert!(s.windows.values().all(|w| w.clients.ip.is_empty() && w.clients.asn.is_empty()));
    // It merges with a new summary at the default capacity, and the result reads back.
    let mut fresh = Summary::new(SummaryOptions::default());
    fresh.merge(&s).unwrap();
    assert_eq!(Summary::decode_state(&fresh.encode_state()).unwrap(), fresh);
}

/// A schema 1 report made by `cflog analyze` before windows coarsened.
const SCHEMA_1_REPORT: &str = include_str!("../../../tests/fixtures/reports/schema1-aws-doc.json");

#[test]
fn version_1_states_are_read_unless_they_dropped_windows() {
    let report: Value = serde_json::from_str(SCHEMA_1_REPORT).unwrap();
    let (s, _) = Summary::from_report(&report).unwrap();
    assert_eq!((s.records, s.window_ms(), s.windows.len(), s.options().fixed_windows), (4, 60_000, 2, false));
    let again = s.report(10);
    assert_eq!(again["windows"], in_the_current_schema(report.clone(), &again)["windows"]);
    // The state ends with `windows_dropped` and the number of tag keys (none).
    let mut bytes = base64_decode(report["state"].as_str().unwrap()).unwrap();
    let n = bytes.len();
    assert_eq!((bytes[0], &bytes[n - 2..]), (1, &[0u8, 0][..]));
    bytes[n - 2] = 7;
    let err = Summary::decode_state(&bytes).unwrap_err();
    assert!(matches!(err, MergeError::Unsupported { .. }));
    assert!(err.to_string().contains("dropped windows at max_windows (analyze the logs again)"), "{err}");
}

/// A windows-only summary (`SummaryOptions::windows_only`) has the full one's windows and
/// totals and nothing whole-run; its state is version 6 (read back windows-only), a full
/// one's stays version 5; the two modes do not merge; its report leaves the whole-run keys
/// out and says so in `options`.
#[test]
fn windows_only_summaries_encode_merge_and_report_as_documented() {
    let offsets = [0, 1, 60, 61, 3600];
    let full = summary_of(SummaryOptions::default(), &offsets);
    let windows = summary_of(SummaryOptions { windows_only: true, ..SummaryOptions::default() }, &offsets);
    assert_eq!((windows.records, windows.bytes_sent, windows.first_ms, windows.last_ms), (5, 500, full.first_ms, full.last_ms));
    assert_eq!((&windows.windows, windows.status_class), (&full.windows, full.status_class));
    assert_eq!((windows.latency.time_taken.count(), windows.top.uri.is_empty()), (0, true));
    assert_eq!(full.latency.time_taken.count(), 5);

    let (w_state, f_state) = (windows.encode_state(), full.encode_state());
    assert_eq!((w_state[0], f_state[0]), (6, STATE_VERSION));
    let back = Summary::decode_state(&w_state).unwrap();
    assert!(back.options().windows_only);
    assert_eq!(back.encode_state(), w_state);
    assert!(!Summary::decode_state(&f_state).unwrap().options().windows_only);
    // The flag is the one byte version 6 adds (after the client capacity): only 1 is valid.
    let at = (1..f_state.len()).find(|&i| w_state[i] != f_state[i]).unwrap();
    assert_eq!(w_state[at], 1);
    let mut bad = w_state[..w_state.len() - STATE_CHECKSUM_LEN].to_vec();
    bad[at] = 0;
    assert_eq!(Summary::decode_state(&seal_state(bad)).unwrap_err(), MergeError::Corrupt { what: "windows-only flag" });

    let refused = MergeError::IncompatibleParameters { what: "windows-only and full summaries" };
    assert_eq!(full.clone().merge(&windows), Err(refused.clone()));
    assert_eq!(windows.clone().merge(&full), Err(refused));
    let mut twice = windows.clone();
    twice.merge(&windows).unwrap();
    let mut full_twice = full.clone();
    full_twice.merge(&full).unwrap();
    assert_eq!((twice.records, &twice.windows), (10, &full_twice.windows));

    let (w_report, f_report) = (windows.report(10), full.report(10));
    for key in ["top", "unique_viewers", "latency_ms", "status", "user_agent_class", "edge_region"] {
        assert!(w_report.get(key).is_none() && f_report.get(key).is_some(), "{key}");
    }
    assert_eq!((&w_report["options"]["windows_only"], f_report["options"].get("windows_only")), (&json!(true), None));
    for key in ["records", "bytes_sent", "time", "status_class", "cache", "windows", "window", "tags", "suspicious_clients"] {
        assert_eq!(w_report[key], f_report[key], "{key}");
    }
    assert_eq!(Summary::from_report(&w_report).unwrap().0, windows);
}

/// With `anonymize_ip`, a window's client table counts networks like the top clients list
/// (/24 here: 203.0.113.5 and .77 are one client), so no exact address reaches the
/// suspicious-client table; a threat tag counts for the network too.
#[test]
fn anonymized_client_tables_count_networks() {
    let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
    let mut parser = Parser::realtime(schema);
    let mut buf = RecordBuf::new();
    let mut s = Summary::new(SummaryOptions { anonymize_ip: true, ..SummaryOptions::default() });
    for ip in ["203.0.113.5", "203.0.113.77", "198.51.100.1"] {
        let line = alloc::format!("1793491200.250\t{ip}\t404");
        let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        s.add(&record).unwrap();
        s.add_tag(crate::suspicious::THREAT_TAG_KEY, b"x");
    }
    let w = s.windows.values().next().unwrap();
    let keys: Vec<(&[u8], u64, u64, u64)> =
        w.clients.ip.entries().iter().map(|e| (e.key, e.counts.requests, e.counts.status_404, e.counts.tagged)).collect();
    assert_eq!(keys, [(&b"203.0.113.0"[..], 2, 2, 2), (&b"198.51.100.0"[..], 1, 1, 1)]);
}

/// What one record's keys count in: each key of a record (address, ASN, user agent, edge
/// location) goes to every table it belongs to, hashed once for all of them (`HashedKey`)
/// and classified through the memos. With few distinct keys nothing is evicted, so every
/// table equals plain counts; classes and regions equal what `classify_user_agent` and
/// `edge_geo` say of each record.
mod keys_count_in_every_table {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const IPS: [&str; 5] = ["203.0.113.5", "198.51.100.77", "2001:db8::1", "2001:db8:0:0:1::", "10.0.0.1"];
    const ASNS: [&str; 4] = ["16509", "7922", "13335", "8075"];
    const UAS: [&str; 4] = [
        "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/142.0.0.0%20Safari/537.36",
        "Googlebot/2.1",
        "curl/8.5.0",
        "Mozilla/5.0%20(iPhone;%20CPU%20iPhone%20OS%2018_7%20like%20Mac%20OS%20X)%20AppleWebKit/605.1.15%20(KHTML,%20like%20Gecko)%20Version/26.1%20Mobile/15E148%20Safari/604.1",
    ];
    const EDGES: [&str; 4] = ["IAD89-C1", "LHR61-C2", "NRT57-P3", "XYZ1-P1"];

    fn counts<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<Vec<u8>, u64> {
        let mut m = BTreeMap::new();
        for k in keys {
            *m.entry(k.as_bytes().to_vec()).or_default() += 1;
        }
        m
    }

    fn top_of(t: &crate::agg::TopK) -> BTreeMap<Vec<u8>, u64> {
        t.top(usize::MAX).iter().map(|e| (e.key.to_vec(), e.count)).collect()
    }

    fn clients_of(t: &crate::agg::ClientTable) -> BTreeMap<Vec<u8>, u64> {
        t.entries().iter().map(|e| (e.key.to_vec(), e.counts.requests)).collect()
    }

    proptest! {
        #[test]
        fn as_plain_counts(picks in proptest::collection::vec((0..IPS.len(), 0..ASNS.len(), 0..UAS.len(), 0..EDGES.len()), 1..80)) {
            let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "x-edge-location", "cs-user-agent", "asn"]).unwrap();
            let mut parser = Parser::realtime(schema);
            let mut buf = RecordBuf::new();
            let mut s = Summary::new(SummaryOptions::default());
            for &(ip, asn, ua, edge) in &picks {
                let line = alloc::format!("1793491200.250\t{}\t200\t{}\t{}\t{}", IPS[ip], EDGES[edge], UAS[ua], ASNS[asn]);
                let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
                s.add(&record).unwrap();
            }
            let ips = counts(picks.iter().map(|p| IPS[p.0]));
            let asns = counts(picks.iter().map(|p| ASNS[p.1]));
            let w = s.windows.values().next().unwrap();
            prop_assert_eq!(top_of(&s.top.client_ip), ips.clone());
            prop_assert_eq!(clients_of(&w.clients.ip), ips);
            prop_assert_eq!(top_of(&s.top.asn), asns.clone());
            prop_assert_eq!(clients_of(&w.clients.asn), asns);
            // Top user agents keep the key as logged (encoded once); classes are of the decoded text.
            prop_assert_eq!(top_of(&s.top.user_agent), counts(picks.iter().map(|p| UAS[p.2])));
            let classes = counts(picks.iter().map(|p| {
                crate::enrich::ua::classify_user_agent(&crate::decode::decode_str(UAS[p.2].as_bytes(), false)).class.name()
            }));
            let held: BTreeMap<Vec<u8>, u64> = s.breakdowns.user_agent_class.iter().map(|(k, n)| (k.to_vec(), n)).collect();
            prop_assert_eq!(held, classes);
            prop_assert_eq!(top_of(&s.top.edge_location), counts(picks.iter().map(|p| EDGES[p.3])));
            let regions = counts(picks.iter().map(|p| edge_geo(EDGES[p.3]).map_or("unknown", |a| a.region.name())));
            let held: BTreeMap<Vec<u8>, u64> = s.breakdowns.edge_region.iter().map(|(k, n)| (k.to_vec(), n)).collect();
            prop_assert_eq!(held, regions);
        }
    }
}

mod utf8_text_check {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `utf8_text` (ASCII passed without decoding) gives what `Record::text` gives, the
        /// same error included, for ASCII, other UTF-8, bytes that are not UTF-8 and `-`; a
        /// record whose edge location is not UTF-8 is refused as before.
        #[test]
        fn agrees_with_record_text(edge in proptest::collection::vec(prop_oneof![Just(b'-'), b'A'..=b'Z', 0x20u8..0x7f, 0x80u8..=0xff, Just(0xc3u8), Just(0xa9u8)], 1..12)) {
            let schema = Schema::from_field_names(&["timestamp", "x-edge-location"]).unwrap();
            let mut parser = Parser::realtime(schema);
            let mut buf = RecordBuf::new();
            let mut line = b"1793491200.250\t".to_vec();
            line.extend_from_slice(&edge);
            let record = parser.parse_line(&line, &mut buf).unwrap().unwrap();
            let want = record.text(Field::EdgeLocation).map(|t| t.map(str::as_bytes));
            prop_assert_eq!(utf8_text(&record, Field::EdgeLocation), want.clone());
            prop_assert_eq!(Summary::check(&record).is_ok(), want.is_ok());
            prop_assert_eq!(want.is_ok(), core::str::from_utf8(&edge).is_ok());
        }
    }
}

mod outcome_memo {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 12] = [
        "Hit", "RefreshHit", "Miss", "Error", "Redirect", "LimitExceeded", "CapacityExceeded",
        "FunctionGeneratedResponse", "Hit2", "Mis", "", "RefreshHitButLongerThan16",
    ];

    proptest! {
        /// The remembered outcomes of result types equal what `ResultType` says of each,
        /// whatever the order: known and unknown names, names sharing a length, the empty
        /// text and names too long to remember, more distinct names than places.
        #[test]
        fn equals_result_type(picks in proptest::collection::vec(0..NAMES.len(), 0..60)) {
            let mut caches = Caches::default();
            for i in picks {
                let t = crate::ResultType::parse(NAMES[i]);
                prop_assert_eq!(caches.outcome(NAMES[i].as_bytes()), (t.is_cache_hit(), t == crate::ResultType::Miss), "{}", NAMES[i]);
            }
        }
    }
}

mod address_memo {
    use super::*;
    use proptest::prelude::*;

    /// IPv6 addresses of one length that differ in one place, IPv6 texts that do not parse,
    /// and dotted quads (never remembered).
    const TEXTS: [&str; 8] = [
        "2001:db8:85a3::8a2e:370:7334",
        "2001:db8:85a3::8a2e:370:7335",
        "2001:db8:85a3::8a2e:371:7334",
        "2406:da00:ff00::6b17:2b3c",
        "2001:db8:85a3::8a2e:370:zzzz",
        "2001:db8:85a3:::8a2e:370:733",
        "203.0.113.5",
        "255.255.255.255",
    ];

    proptest! {
        /// Remembered viewer addresses change nothing: every record is refused exactly when
        /// `Summary::check` (no memory) refuses it, with the same error, and the unique
        /// viewers are those of the addresses as the standard library parses them.
        #[test]
        fn parses_as_without_memory(picks in proptest::collection::vec(0..TEXTS.len(), 1..80)) {
            let schema = Schema::from_field_names(&["timestamp", "c-ip"]).unwrap();
            let mut parser = Parser::realtime(schema);
            let mut buf = RecordBuf::new();
            let mut s = Summary::new(SummaryOptions::default());
            let mut want = crate::agg::HyperLogLog::new();
            for &i in &picks {
                let line = alloc::format!("1793491200.250\t{}", TEXTS[i]);
                let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
                let checked = Summary::check(&record);
                prop_assert_eq!(s.add(&record), checked.clone(), "{}", TEXTS[i]);
                match TEXTS[i].parse::<core::net::IpAddr>() {
                    Ok(core::net::IpAddr::V4(a)) => want.add_bytes(&a.octets()),
                    Ok(core::net::IpAddr::V6(a)) => want.add_bytes(&a.octets()),
                    Err(_) => prop_assert!(checked.is_err(), "{}", TEXTS[i]),
                }
            }
            prop_assert_eq!(&s.unique_viewers, &want);
        }
    }
}
