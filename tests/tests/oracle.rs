//! The fast parser against a naive `split('\t')` reference, chunked input against
//! line-by-line input, and windows-only summaries against full ones.

use std::net::IpAddr;

use cflog_core::field::REALTIME_FIELDS;
use cflog_core::summary::{Summary, SummaryOptions};
use cflog_core::{Field, Kind, LineSplitter, Parser, RecordBuf, Schema};
use proptest::prelude::*;

/// A value for a field of `kind`: usually valid, sometimes `-`, sometimes junk.
fn value(kind: Kind) -> BoxedStrategy<String> {
    value_for(kind, false)
}

/// [`value`], or with `summary` values that make summaries interesting: times within ten
/// minutes (records share windows), a few viewer addresses and small integers (clients and
/// ASNs repeat; sums of `sc-bytes` near `u64::MAX` would overflow a summary's counters,
/// which no real log comes near), result types among the tokens (hits and misses).
fn value_for(kind: Kind, summary: bool) -> BoxedStrategy<String> {
    let valid: BoxedStrategy<String> = match kind {
        Kind::EpochSeconds if summary => (1_793_491_200u64..1_793_491_800, 0u32..1000)
            .prop_map(|(s, ms)| format!("{s}.{ms:03}"))
            .boxed(),
        Kind::EpochSeconds => (1_500_000_000u64..1_900_000_000, 0u32..1000)
            .prop_map(|(s, ms)| format!("{s}.{ms:03}"))
            .boxed(),
        Kind::Seconds => (0u64..100, 0u32..1000).prop_map(|(s, ms)| format!("{s}.{ms:03}")).boxed(),
        Kind::Status => prop_oneof![Just("000".to_string()), (100u16..600).prop_map(|s| s.to_string())].boxed(),
        Kind::Integer if summary => (0u64..2_000).prop_map(|n| (n * n).to_string()).boxed(),
        Kind::Integer | Kind::EpochMillis => any::<u64>().prop_map(|n| n.to_string()).boxed(),
        Kind::Ip if summary => proptest::sample::select(&["10.0.0.1", "10.0.0.2", "192.0.2.9", "2001:db8::1", "2001:db8:0:1::1"][..])
            .prop_map(str::to_string)
            .boxed(),
        Kind::Ip => prop_oneof![
            any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
            any::<[u16; 8]>().prop_map(|s| std::net::Ipv6Addr::from(s).to_string()),
        ]
        .boxed(),
        Kind::Token if summary => prop_oneof![
            proptest::sample::select(&["Hit", "RefreshHit", "Miss", "Error", "Redirect"][..]).prop_map(str::to_string),
            "[A-Za-z0-9%/:.,;()=&+*-]{1,40}",
        ]
        .boxed(),
        _ => "[A-Za-z0-9%/:.,;()=&+*-]{1,40}".boxed(),
    };
    prop_oneof![8 => valid, 1 => Just("-".to_string()), 1 => "[ -~&&[^\t]]{0,12}".boxed()].boxed()
}

fn schema_and_line() -> impl Strategy<Value = (Vec<&'static str>, Vec<String>)> {
    proptest::sample::subsequence(REALTIME_FIELDS.to_vec(), 1..REALTIME_FIELDS.len()).prop_flat_map(|fields| {
        let names: Vec<&'static str> = fields.iter().map(|(n, _)| *n).collect();
        let values: Vec<BoxedStrategy<String>> = fields.iter().map(|(_, f)| value(f.kind())).collect();
        (Just(names), values)
    })
}

fn naive_status(s: &str) -> Option<u16> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().unwrap())
}

fn naive_seconds_us(s: &str) -> Option<u64> {
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    if w.is_empty() || !w.bytes().all(|b| b.is_ascii_digit()) || (s.contains('.') && f.is_empty()) {
        return None;
    }
    if !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
    w.parse::<u64>().ok()?.checked_mul(1_000_000)?.checked_add(frac.parse().ok()?)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn fast_parser_agrees_with_naive_split((names, values) in schema_and_line()) {
        let schema = Schema::from_field_names(&names).unwrap();
        let line = values.join("\t");
        let mut parser = Parser::realtime(schema.clone());
        let mut buf = RecordBuf::new();
        // The reference's rule for comments: a line starting with `#` is not a record (real
        // records never do: CloudFront writes `#` as %23), and `#Fields:` in a real-time
        // log is an error.
        if line.starts_with('#') {
            let outcome = parser.parse_line(line.as_bytes(), &mut buf);
            prop_assert_eq!(outcome.is_err(), line.starts_with("#Fields:"));
            prop_assert!(matches!(outcome, Ok(None) | Err(_)));
            return Ok(());
        }
        // And a line of nothing but whitespace is blank, not a record.
        if line.bytes().all(|b| b.is_ascii_whitespace()) {
            prop_assert!(matches!(parser.parse_line(line.as_bytes(), &mut buf), Ok(None)));
            return Ok(());
        }
        let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        let naive: Vec<&str> = line.split('\t').collect();
        prop_assert_eq!(naive.len(), schema.len());
        for (i, column) in schema.columns().iter().enumerate() {
            let field = column.field.unwrap();
            let text = naive[i];
            let expect_raw = (!text.is_empty() && text != "-").then_some(text.as_bytes());
            prop_assert_eq!(record.raw(field), expect_raw);
            let present = expect_raw.is_some();
            match field.kind() {
                Kind::Status => {
                    let got = record.status();
                    prop_assert_eq!(got.as_ref().ok().copied().flatten(), if present { naive_status(text) } else { None });
                    prop_assert_eq!(got.is_err(), present && naive_status(text).is_none());
                }
                Kind::Integer => {
                    let got = record.integer(field);
                    let want = text.parse::<u64>().ok().filter(|_| text.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert_eq!(got.as_ref().ok().copied().flatten(), if present { want } else { None });
                    prop_assert_eq!(got.is_err(), present && want.is_none());
                }
                Kind::Seconds => {
                    let got = record.seconds_us(field);
                    let want = naive_seconds_us(text);
                    prop_assert_eq!(got.as_ref().ok().copied().flatten(), if present { want } else { None });
                    prop_assert_eq!(got.is_err(), present && want.is_none());
                }
                Kind::Ip => {
                    let got = record.ip(field);
                    let want = text.parse::<IpAddr>().ok();
                    prop_assert_eq!(got.as_ref().ok().copied().flatten(), if present { want } else { None });
                    prop_assert_eq!(got.is_err(), present && want.is_none());
                }
                _ => {}
            }
        }
        if schema.has(Field::Timestamp) {
            let text = naive[schema.column_of(Field::Timestamp).unwrap()];
            if let Some(us) = naive_seconds_us(text).filter(|_| text != "-") {
                prop_assert_eq!(record.timestamp_ms().unwrap(), Some((us / 1000) as i64));
            }
        }
    }

    #[test]
    fn any_bytes_never_panic(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        for schema in [Schema::realtime_release(46).unwrap(), Schema::standard_default()] {
            let mut parser = Parser::realtime(schema);
            let mut buf = RecordBuf::new();
            if let Ok(Some(r)) = parser.parse_line(&line, &mut buf) {
                let _ = r.validate();
                let _ = r.timestamp_ms();
                let _ = r.headers().count();
                let _ = r.forwarded_for().count();
                let mut out = Vec::new();
                let _ = cflog_core::json::write_record(&r, &mut out);
            }
        }
    }
}

const FIXTURES: &[(&str, &str)] = &[
    ("standard/legacy-2015-19col.log", "standard"),
    ("standard/aws-doc-2014-26col.log", "standard"),
    ("standard/legacy-2016-23col-double-encoded.log", "standard"),
    ("standard/aws-doc-2019-33col.log", "standard"),
    ("standard/concatenated-mixed.log", "standard"),
    ("realtime/snowplow-2020-40fields.log", "realtime40"),
    ("realtime/gotchas.log", "gotchas"),
];

fn parser_for(kind: &str) -> Parser {
    match kind {
        "standard" => Parser::standard(),
        "realtime40" => Parser::realtime(Schema::realtime_release(40).unwrap()),
        _ => {
            let spec = std::fs::read_to_string(format!("{}/fixtures/realtime/gotchas.fields", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
            let names: Vec<&str> = spec.split([',', ' ', '\n']).filter(|s| !s.is_empty()).collect();
            Parser::realtime(Schema::from_field_names(&names).unwrap())
        }
    }
}

/// What a line turned into, comparable across ways of feeding the input.
fn summarize(parser: &mut Parser, buf: &mut RecordBuf, line: &[u8], out: &mut Vec<String>) {
    match parser.parse_line(line, buf) {
        Ok(Some(r)) => {
            let mut json = Vec::new();
            let res = cflog_core::json::write_record(&r, &mut json);
            out.push(format!("{} {:?} {}", r.line_number(), res, String::from_utf8_lossy(&json)));
        }
        Ok(None) => out.push(format!("{} skip", parser.line_number())),
        Err(e) => out.push(format!("{e}")),
    }
}

fn by_lines(kind: &str, data: &[u8]) -> Vec<String> {
    let mut parser = parser_for(kind);
    let mut buf = RecordBuf::new();
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if lines.last() == Some(&&b""[..]) {
        lines.pop();
    }
    for l in lines {
        summarize(&mut parser, &mut buf, l, &mut out);
    }
    out
}

fn by_chunks(kind: &str, data: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut parser = parser_for(kind);
    let mut buf = RecordBuf::new();
    let mut out = Vec::new();
    let mut splitter = LineSplitter::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    for c in cuts.into_iter().chain([data.len()]) {
        splitter.push(&data[start..c], |l| summarize(&mut parser, &mut buf, l, &mut out));
        start = c;
    }
    splitter.finish(|l| summarize(&mut parser, &mut buf, l, &mut out));
    out
}

#[test]
fn whole_buffer_equals_line_by_line() {
    for (path, kind) in FIXTURES {
        let data = std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let expected = by_lines(kind, &data);
        assert!(expected.iter().any(|s| s.contains("Ok(())")), "{path} yields records");
        assert_eq!(by_chunks(kind, &data, &[]), expected, "{path}");
    }
}

proptest! {
    #[test]
    fn random_chunk_boundaries_equal_line_by_line(cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        for (path, kind) in FIXTURES {
            let data = std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            prop_assert_eq!(by_chunks(kind, &data, &cuts), by_lines(kind, &data), "{}", path);
        }
    }
}

/// What a windows-only summary ([`SummaryOptions::windows_only`]) must share with a full
/// one built from the same records: everything but the whole-run aggregates.
fn windows_part(s: &Summary) -> String {
    format!(
        "records {} bad {} bytes {} {} time {:?} {:?} status {:?} cache {} {} {} {} width {}\nwindows {:?}\ntags {:?}",
        s.records,
        s.bad_lines,
        s.bytes_sent,
        s.bytes_received,
        s.first_ms,
        s.last_ms,
        s.status_class,
        s.cache_hits,
        s.cache_misses,
        s.cache_hit_bytes,
        s.cache_miss_bytes,
        s.window_ms(),
        s.windows,
        s.tags
    )
}

/// Adds every line to a full and a windows-only summary of `options` (tagging the records
/// `tag` says, with a threat tag when it is odd, so client tables count tagged requests),
/// checks both accepted or refused each record with the same error, and returns both.
fn both_modes(schema: &Schema, lines: &[String], tags: &[u8], options: SummaryOptions) -> Result<(Summary, Summary), TestCaseError> {
    let mut parser = Parser::realtime(schema.clone());
    let mut buf = RecordBuf::new();
    let mut full = Summary::new(SummaryOptions { windows_only: false, ..options });
    let mut windows = Summary::new(SummaryOptions { windows_only: true, ..options });
    for (i, line) in lines.iter().enumerate() {
        let Ok(Some(record)) = parser.parse_line(line.as_bytes(), &mut buf) else { continue };
        let (a, b) = (full.add(&record), windows.add(&record));
        prop_assert_eq!(a.as_ref().map_err(ToString::to_string), b.as_ref().map_err(ToString::to_string), "line {}: {}", i, line);
        match a {
            Ok(()) => {
                let tag = tags.get(i).copied().unwrap_or(0);
                for s in [&mut full, &mut windows] {
                    if tag % 2 == 1 {
                        s.add_tag(cflog_core::suspicious::THREAT_TAG_KEY, b"scanner");
                    }
                    if tag % 3 == 0 {
                        s.add_tag("rule", &[b'a' + tag % 5]);
                    }
                }
            }
            Err(_) => {
                full.add_bad_line();
                windows.add_bad_line();
            }
        }
    }
    Ok((full, windows))
}

fn summary_options() -> impl Strategy<Value = SummaryOptions> {
    (prop_oneof![Just(1_000u64), Just(60_000), Just(86_400_000)], prop_oneof![Just(2u32), Just(10_080)], any::<bool>(), any::<bool>(), prop_oneof![Just(2u32), Just(64)])
        .prop_map(|(window_ms, max_windows, fixed_windows, anonymize_ip, client_capacity)| SummaryOptions {
            window_ms,
            max_windows,
            fixed_windows,
            anonymize_ip,
            client_capacity,
            ..SummaryOptions::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Lines of random values (some `-`, some junk the field's type refuses): a record is
    /// refused by both modes with the same error or by neither, and windows, tags and
    /// totals are equal (the windows coarsen alike under a small `max_windows`).
    #[test]
    fn windows_only_summaries_equal_full_ones_on_random_lines(
        (names, lines) in proptest::sample::subsequence(REALTIME_FIELDS.to_vec(), 1..REALTIME_FIELDS.len()).prop_flat_map(|fields| {
            let names: Vec<&'static str> = fields.iter().map(|(n, _)| *n).collect();
            let line: Vec<BoxedStrategy<String>> = fields.iter().map(|(_, f)| value_for(f.kind(), true)).collect();
            (Just(names), proptest::collection::vec(line.prop_map(|v| v.join("\t")), 1..30))
        }),
        tags in proptest::collection::vec(any::<u8>(), 30),
        options in summary_options(),
    ) {
        let schema = Schema::from_field_names(&names).unwrap();
        let (full, windows) = both_modes(&schema, &lines, &tags, options)?;
        prop_assert_eq!(windows_part(&windows), windows_part(&full));
    }
}

/// `cflog gen` lines (the 46-field layout, every value valid, ~200 requests a second: 15
/// one-second windows), a few of them broken: the same in both modes, and the windows-only
/// summary's whole-run aggregates stay empty.
#[test]
fn windows_only_summaries_equal_full_ones_on_generated_lines() {
    let opts = cflog_gen::GenOptions { lines: 3_000, seed: 7, ..Default::default() };
    let mut data = Vec::new();
    cflog_gen::generate(&opts, &mut data).unwrap();
    let mut lines: Vec<String> = String::from_utf8(data).unwrap().lines().map(str::to_string).collect();
    let schema = opts.effective_schema();
    // Broken values in fields the summary reads.
    for (i, name, bad) in [(10, "time-taken", "1.2.3"), (20, "sc-status", "99"), (30, "c-ip", "1.2.3.999"), (40, "timestamp", "x")] {
        let column = schema.columns().iter().position(|c| c.name == name).unwrap();
        let mut cols: Vec<&str> = lines[i].split('\t').collect();
        cols[column] = bad;
        lines[i] = cols.join("\t");
    }
    let tags: Vec<u8> = (0..lines.len()).map(|i| (i * 7 % 11) as u8).collect();
    for anonymize_ip in [false, true] {
        let options = SummaryOptions { window_ms: 1_000, fixed_windows: true, anonymize_ip, client_capacity: 8, ..SummaryOptions::default() };
        let (full, windows) = both_modes(&schema, &lines, &tags, options).unwrap();
        assert_eq!(windows_part(&windows), windows_part(&full));
        assert_eq!(full.bad_lines, 4, "each broken line is refused");
        assert!(full.windows.len() >= 3 && full.tags.len() == 2, "several windows, both tags");
        assert!(windows.top.uri.is_empty() && windows.latency.ttfb.count() == 0 && windows.breakdowns.status.iter().next().is_none());
    }
}
