//! The generator's tests: determinism (same seed, same bytes; a golden digest), every
//! field well-formed and parseable by the core's grammars, consistency between fields,
//! the status mix, Zipf URLs, custom and v2 schemas, refused options.

use super::*;
use crate::rng::Rng;
use crate::text::{cf_encode, push_i64, push_secs3, push_u64, request_id};
use cflog_core::grammar::{
    parse_date_days, parse_epoch_seconds_ms, parse_ip, parse_seconds_us, parse_status, parse_time_ms, parse_u64,
};

fn run(opts: &GenOptions) -> Vec<u8> {
    let mut out = Vec::new();
    generate(opts, &mut out).expect("generation succeeds");
    out
}

fn realtime(lines: u64, seed: u64) -> GenOptions {
    GenOptions { lines, seed, ..GenOptions::default() }
}

fn standard(lines: u64, seed: u64) -> GenOptions {
    GenOptions { format: Format::Standard, lines, seed, ..GenOptions::default() }
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("output is UTF-8")
}

/// The default 46-field real-time schema's names, and the rows split into fields.
fn rows(out: &[u8]) -> (Vec<String>, Vec<Vec<&str>>) {
    let names = Schema::realtime_release(46).unwrap().names().map(String::from).collect();
    let rows = text(out).lines().map(|l| l.split('\t').collect()).collect();
    (names, rows)
}

fn col(names: &[String], name: &str) -> usize {
    names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run(&realtime(2_000, 42));
    assert_eq!(a, run(&realtime(2_000, 42)));
    assert_ne!(a, run(&realtime(2_000, 43)));
    let s = run(&standard(2_000, 42));
    assert_eq!(s, run(&standard(2_000, 42)));
    assert_ne!(s, run(&standard(2_000, 43)));
    // A prefix of a longer run is the shorter run.
    let longer = run(&realtime(3_000, 42));
    assert!(longer.starts_with(&a));
}

#[test]
fn golden_digest_is_stable() {
    // Guards the determinism promise: any change to the model changes this value, so
    // update it deliberately (and only with a reason).
    let out = run(&realtime(500, 1));
    let digest =
        out.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    assert_eq!(digest, GOLDEN_FNV1A_500_SEED1, "output changed; got {digest:#018x}");
}

const GOLDEN_FNV1A_500_SEED1: u64 = 0x9f4e_a28c_0669_07c1;

#[test]
fn realtime_lines_have_every_field() {
    let schema = Schema::realtime_release(46).unwrap();
    let out = run(&realtime(5_000, 3));
    assert!(out.ends_with(b"\n"));
    let mut count = 0;
    for line in out.split_inclusive(|&b| b == b'\n') {
        assert!(line.ends_with(b"\n"));
        let body = &line[..line.len() - 1];
        let fields: Vec<&[u8]> = body.split(|&b| b == b'\t').collect();
        assert_eq!(fields.len(), schema.len(), "{}", text(line));
        for f in &fields {
            assert!(!f.is_empty(), "empty value in {}", text(line));
            assert!(!f.iter().any(|&b| b == b' ' || b == b'\r' || b >= 127), "unencoded byte in {}", text(f));
        }
        count += 1;
    }
    assert_eq!(count, 5_000);
}

#[test]
fn realtime_line_length_is_about_a_kilobyte() {
    for seed in [1, 2, 3] {
        let out = run(&realtime(10_000, seed));
        let avg = out.len() as f64 / 10_000.0;
        assert!((800.0..=1300.0).contains(&avg), "seed {seed}: average line is {avg} bytes");
    }
}

#[test]
fn standard_has_the_w3c_header_and_33_columns() {
    let out = run(&standard(2_000, 5));
    let t = text(&out);
    let mut lines = t.lines();
    assert_eq!(lines.next(), Some("#Version: 1.0"));
    let fields = lines.next().unwrap();
    let names: Vec<&str> = fields.strip_prefix("#Fields: ").expect("a #Fields: line").split(' ').collect();
    let expected = Schema::standard_default();
    assert!(names.iter().copied().eq(expected.names()), "{names:?}");
    assert_eq!(names.len(), 33);
    let parsed = Schema::from_w3c_fields(fields.as_bytes()).unwrap().unwrap();
    assert_eq!(parsed, Schema::standard_default());
    let mut n = 0;
    let mut last_day = 0;
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 33, "{line}");
        let day = parse_date_days(f[0].as_bytes()).expect("date");
        assert!(day >= DEFAULT_START_MS / 86_400_000);
        last_day = last_day.max(day);
        assert!(parse_time_ms(f[1].as_bytes()).is_some(), "time {}", f[1]);
        assert_eq!(f[1].len(), 8);
        assert!(f[6].ends_with(".cloudfront.net"), "cs(Host) is the distribution: {}", f[6]);
        assert!(!f[15].ends_with(".cloudfront.net"), "x-host-header is the viewer's Host: {}", f[15]);
        assert!(!f[7].contains('?'), "standard cs-uri-stem is the path only: {}", f[7]);
        assert!(parse_status(f[8].as_bytes()).is_some());
        n += 1;
    }
    assert_eq!(n, 2_000);
    assert_eq!(last_day, DEFAULT_START_MS / 86_400_000, "2,000 lines at 200/s stay on the first day");
}

#[test]
fn standard_date_and_time_match_the_clock() {
    let start = DEFAULT_START_MS + 86_400_000 * 60 + 3_723_000; // 2026-12-31T01:02:03Z
    let opts = GenOptions { start_ms: start, ..standard(1, 1) };
    let out = run(&opts);
    let row = text(&out).lines().nth(2).unwrap();
    assert!(row.starts_with("2026-12-31\t01:02:0"), "{row}");
    assert_eq!(cflog_core::grammar::civil_from_days(0), (1970, 1, 1));
    assert_eq!(cflog_core::grammar::civil_from_days(20_758), (2026, 11, 1));
    assert_eq!(cflog_core::grammar::civil_from_days(-1), (1969, 12, 31));
    assert_eq!(cflog_core::grammar::civil_from_days(11_016), (2000, 2, 29));
}

#[test]
fn timestamps_parse_and_are_mostly_in_order() {
    let out = run(&realtime(10_000, 9));
    let mut max_seen = i64::MIN;
    let mut behind = 0;
    for line in text(&out).lines() {
        let ts = line.split('\t').next().unwrap();
        let (_, frac) = ts.split_once('.').expect("a fraction");
        assert_eq!(frac.len(), 3, "{ts}");
        let ms = parse_epoch_seconds_ms(ts.as_bytes()).expect("epoch.sss");
        assert!(ms >= DEFAULT_START_MS);
        if ms < max_seen {
            behind += 1;
            assert!(max_seen - ms <= 5_000, "out of order by {} ms", max_seen - ms);
        }
        max_seen = max_seen.max(ms);
    }
    assert!(behind > 50 && behind < 1_000, "{behind} records out of order");
    // 10,000 requests at 200/s span about 50 s.
    let span = max_seen - DEFAULT_START_MS;
    assert!((45_000..=55_000).contains(&span), "span {span} ms");
}

#[test]
fn status_mix() {
    let out = run(&realtime(10_000, 11));
    let (names, rows) = rows(&out);
    let (st, rt, dt) =
        (col(&names, "sc-status"), col(&names, "x-edge-result-type"), col(&names, "x-edge-detailed-result-type"));
    let mut by_class = [0u32; 6];
    let (mut s304, mut s206, mut s000, mut hits) = (0, 0, 0, 0);
    for r in &rows {
        let s = parse_status(r[st].as_bytes()).expect("status");
        by_class[usize::from(s / 100)] += 1;
        match s {
            304 => s304 += 1,
            206 => s206 += 1,
            0 => {
                s000 += 1;
                assert_eq!((r[rt], r[dt]), ("Error", "ClientHungUpRequest"));
            }
            _ => {}
        }
        if r[rt] == "Hit" {
            hits += 1;
        }
    }
    let pct = |n: u32| f64::from(n) / 100.0;
    assert!((85.0..=91.5).contains(&pct(by_class[2])), "2xx {}%", pct(by_class[2]));
    assert!((3.5..=7.0).contains(&pct(by_class[4])), "4xx {}%", pct(by_class[4]));
    assert!((0.5..=1.8).contains(&pct(by_class[5])), "5xx {}%", pct(by_class[5]));
    assert!((2.5..=7.0).contains(&pct(s304)), "304 {}%", pct(s304));
    assert!(s206 > 20, "206: {s206}");
    assert!(s000 > 5 && pct(s000) < 1.0, "000: {s000}");
    assert!((58.0..=75.0).contains(&pct(hits)), "Hit {}%", pct(hits));
}

#[test]
fn realtime_fields_are_consistent() {
    let out = run(&realtime(20_000, 13));
    let (names, rows) = rows(&out);
    let c = |n: &str| col(&names, n);
    let secs = |v: &str| parse_seconds_us(v.as_bytes()).unwrap_or_else(|| panic!("seconds {v}"));
    let (mut v6, mut xff_list, mut bing, mut staging, mut shield) = (0, 0, 0, 0, 0);
    for r in &rows {
        // Addresses and their version.
        let ip = parse_ip(r[c("c-ip")].as_bytes()).expect("c-ip");
        assert_eq!(r[c("c-ip-version")], if ip.is_ipv6() { "IPv6" } else { "IPv4" });
        assert_eq!(parse_ip(r[c("s-ip")].as_bytes()).expect("s-ip").is_ipv6(), ip.is_ipv6());
        v6 += usize::from(ip.is_ipv6());
        let xff = r[c("x-forwarded-for")];
        if xff != "-" {
            for a in xff.split(',') {
                assert!(parse_ip(a.as_bytes()).is_some(), "xff {xff}");
            }
            xff_list += usize::from(xff.contains(','));
        }
        // Latencies.
        let taken = secs(r[c("time-taken")]);
        let ttfb = r[c("time-to-first-byte")];
        if ttfb != "-" {
            assert!(secs(ttfb) <= taken, "ttfb {ttfb} > time-taken");
        }
        let (fbl, lbl) = (r[c("origin-fbl")], r[c("origin-lbl")]);
        assert_eq!(fbl == "-", lbl == "-");
        if fbl != "-" {
            assert!(secs(fbl) <= secs(lbl));
            assert!(secs(lbl) <= taken);
        }
        if r[c("x-edge-response-result-type")] == "Hit" {
            assert_eq!(fbl, "-", "no origin latency on a Hit");
        }
        shield += usize::from(r[c("x-edge-detailed-result-type")] == "OriginShieldHit");
        // TLS only on https/wss.
        let tls = matches!(r[c("cs-protocol")], "https" | "wss");
        assert_eq!(r[c("ssl-protocol")] != "-", tls);
        assert_eq!(r[c("ssl-cipher")] != "-", tls);
        if r[c("cs-protocol-version")] == "HTTP/3.0" {
            assert_eq!(r[c("ssl-protocol")], "TLSv1.3");
        }
        // URI: the real-time stem carries the query.
        let (stem, query) = (r[c("cs-uri-stem")], r[c("cs-uri-query")]);
        if query == "-" {
            assert!(!stem.contains('?'), "{stem}");
        } else {
            assert!(stem.ends_with(&format!("?{query}")), "{stem} vs {query}");
        }
        // Ids, hosts.
        let id = r[c("x-edge-request-id")];
        assert_eq!(id.len(), 56);
        assert!(id.ends_with("=="));
        assert!(id[..54].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(r[c("x-host-header")].starts_with('d') && r[c("x-host-header")].ends_with(".cloudfront.net"));
        assert!(!r[c("cs-host")].ends_with(".cloudfront.net"));
        if r[c("primary-distribution-id")] != "-" {
            staging += 1;
            assert_ne!(r[c("primary-distribution-dns-name")], r[c("x-host-header")]);
        }
        // Headers.
        let (hv, hn) = (r[c("cs-headers")], r[c("cs-header-names")]);
        assert!(hv.ends_with("%0A") && hn.ends_with("%0A"));
        assert!(hv.len() <= 800 && hn.len() <= 800);
        assert!(hv.starts_with(&format!("host:{}%0A", r[c("cs-host")])));
        assert_eq!(parse_u64(r[c("cs-headers-count")].as_bytes()), Some(hn.matches("%0A").count() as u64));
        // Ranges.
        let (rs, re) = (r[c("sc-range-start")], r[c("sc-range-end")]);
        assert_eq!(rs == "-", re == "-");
        if rs != "-" {
            assert_eq!(r[c("sc-status")], "206");
            let (a, b) = (parse_u64(rs.as_bytes()).unwrap(), parse_u64(re.as_bytes()).unwrap());
            assert!(a <= b);
            assert_eq!(parse_u64(r[c("sc-content-len")].as_bytes()), Some(b - a + 1));
        }
        let port = parse_u64(r[c("c-port")].as_bytes()).unwrap();
        assert!((1024..=65_535).contains(&port));
        assert!(parse_u64(r[c("asn")].as_bytes()).is_some());
        assert_eq!(r[c("c-country")].len(), 2);
        assert!(r[c("x-edge-location")].contains('-'));
        let ua = r[c("cs-user-agent")];
        if ua.contains("bingbot") {
            bing += 1;
            assert!(ua.contains("+http://www.bing.com/bingbot.htm"), "{ua}");
        }
    }
    let n = rows.len() as f64;
    assert!((0.08..0.25).contains(&(v6 as f64 / n)), "IPv6 share {}", v6 as f64 / n);
    assert!(xff_list > 0 && bing > 0 && staging > 0 && shield > 0);
}

#[test]
fn urls_follow_a_zipf_law_and_carry_escapes() {
    let out = run(&realtime(20_000, 17));
    let (names, rows) = rows(&out);
    let stem = col(&names, "cs-uri-stem");
    let mut counts = std::collections::HashMap::new();
    for r in &rows {
        *counts.entry(r[stem]).or_insert(0u32) += 1;
    }
    let mut freq: Vec<u32> = counts.values().copied().collect();
    freq.sort_unstable_by(|a, b| b.cmp(a));
    assert!(counts.len() > 2_000, "{} distinct URLs", counts.len());
    assert!(freq[0] > 20 * freq[50], "head {} vs rank 50 {}", freq[0], freq[50]);
    let all = text(&out);
    for needle in ["%20", "%2520", "%253A%252F%252F", "%22", "%0A", "?"] {
        assert!(all.contains(needle), "no {needle} in the output");
    }
}

#[test]
fn custom_schema_writes_exactly_its_fields() {
    let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
    let opts = GenOptions { schema: Some(schema), ..realtime(1_000, 21) };
    let out = run(&opts);
    for line in text(&out).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 3, "{line}");
        assert!(parse_epoch_seconds_ms(f[0].as_bytes()).is_some());
        assert!(parse_ip(f[1].as_bytes()).is_some());
        assert!(parse_status(f[2].as_bytes()).is_some());
    }
    assert_eq!(text(&out).lines().count(), 1_000);
}

#[test]
fn every_realtime_field_can_be_generated() {
    let schema = Schema::realtime_all();
    let n = schema.len();
    let cmcd = schema.column_of(Field::CmcdObjectType).unwrap();
    let opts = GenOptions { schema: Some(schema), ..realtime(5_000, 23) };
    let out = run(&opts);
    let mut with_cmcd = 0;
    for line in text(&out).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), n);
        with_cmcd += usize::from(f[cmcd] != "-");
    }
    assert!(with_cmcd > 0 && with_cmcd < 1_000, "{with_cmcd} records with CMCD");
}

#[test]
fn standard_v2_and_unknown_columns() {
    let schema =
        Schema::standard(&["date", "time", "timestamp", "timestamp(ms)", "x-future", "DistributionId", "asn"])
            .unwrap();
    let opts = GenOptions { schema: Some(schema), ..standard(100, 1) };
    let out = run(&opts);
    let t = text(&out);
    assert!(t.lines().nth(1).unwrap() == "#Fields: date time timestamp timestamp(ms) x-future DistributionId asn");
    for line in t.lines().skip(2) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7);
        assert!(!f[2].contains('.'), "v2 timestamp has no fraction: {}", f[2]);
        let ms = parse_u64(f[3].as_bytes()).unwrap() as i64;
        assert_eq!(parse_u64(f[2].as_bytes()).unwrap() as i64, ms / 1000);
        let day_ms =
            parse_date_days(f[0].as_bytes()).unwrap() * 86_400_000 + parse_time_ms(f[1].as_bytes()).unwrap();
        assert_eq!(day_ms, ms / 1000 * 1000);
        assert_eq!(f[4], "-");
        assert!(f[5].starts_with('E') && f[5].len() == 14);
    }
}

#[test]
fn bad_options_are_rejected() {
    let opts = GenOptions { schema: Some(Schema::standard_default()), ..realtime(1, 1) };
    assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let opts = GenOptions { requests_per_second: 0.0, ..realtime(1, 1) };
    assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    let opts = GenOptions { requests_per_second: f64::NAN, ..realtime(1, 1) };
    assert!(generate(&opts, Vec::new()).is_err());
    let opts = GenOptions { start_ms: -1, ..realtime(1, 1) };
    assert_eq!(generate(&opts, Vec::new()).unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert!(run(&realtime(0, 1)).is_empty());
    assert_eq!(run(&standard(0, 1)).iter().filter(|&&b| b == b'\n').count(), 2);
}

#[test]
fn helpers() {
    let mut b = Vec::new();
    push_secs3(&mut b, 0);
    b.push(b' ');
    push_secs3(&mut b, 1_234_567);
    b.push(b' ');
    push_u64(&mut b, u64::MAX);
    b.push(b' ');
    push_i64(&mut b, -42);
    assert_eq!(text(&b), "0.000 1234.567 18446744073709551615 -42");
    assert_eq!(cf_encode("a b\"%~+/é"), "a%20b%22%25%7E+/%C3%A9");
    let mut id = [0u8; 56];
    request_id(&mut Rng::new(1), &mut id);
    // The last character before the padding encodes 2 bits followed by 4 zero bits.
    assert!(b"AQgw".contains(&id[53]), "{}", text(&id));
}
