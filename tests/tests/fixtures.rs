//! Real CloudFront lines of every era, with expected values worked out by hand.

use std::borrow::Cow;
use std::net::IpAddr;

use cflog_core::{DetailedResultType, Field, ParseErrorKind, Parser, RecordBuf, ResultType, Schema};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if v.last() == Some(&&b""[..]) {
        v.pop();
    }
    v
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn aws_doc_2019_33_columns() {
    let data = fixture("standard/aws-doc-2019-33col.log");
    let mut parser = Parser::standard();
    let mut buf = RecordBuf::new();
    let all = lines(&data);
    assert!(parser.parse_line(all[0], &mut buf).unwrap().is_none());
    assert!(parser.parse_line(all[1], &mut buf).unwrap().is_none());
    let r = parser.parse_line(all[2], &mut buf).unwrap().unwrap();
    assert_eq!(r.schema().len(), 33);
    assert_eq!(r.line_number(), 3);
    // 2019-12-04 = 18234 days after 1970-01-01; 21:02:31 = 75751 s.
    assert_eq!(r.timestamp_ms().unwrap(), Some(1_575_493_351_000));
    assert_eq!(r.edge_location().unwrap().unwrap().code(), "LAX1");
    assert_eq!(r.edge_location().unwrap().unwrap().iata(), Some("LAX"));
    assert_eq!(r.bytes_sent().unwrap(), Some(392));
    assert_eq!(r.client_ip().unwrap(), Some(ip("192.0.2.100")));
    assert_eq!(r.text(Field::Method).unwrap(), Some("GET"));
    // Standard logs: cs(Host) is the distribution; x-host-header the viewer's Host.
    assert_eq!(r.distribution_domain().unwrap(), Some("d111111abcdef8.cloudfront.net"));
    assert_eq!(r.viewer_host().unwrap(), Some("d111111abcdef8.cloudfront.net"));
    assert_eq!(r.uri_path().as_deref(), Some("/index.html"));
    assert_eq!(r.status().unwrap(), Some(200));
    assert_eq!(r.raw(Field::Referer), None);
    assert_eq!(
        r.decoded_str(Field::UserAgent).as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36")
    );
    assert_eq!(r.uri_query_raw(), None);
    assert_eq!(r.result_type().unwrap(), Some(ResultType::Hit));
    assert_eq!(r.text(Field::RequestId).unwrap(), Some("SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ=="));
    assert_eq!(r.text(Field::Protocol).unwrap(), Some("https"));
    assert_eq!(r.bytes_received().unwrap(), Some(23));
    assert_eq!(r.time_taken_us().unwrap(), Some(1_000));
    assert_eq!(r.forwarded_for().count(), 0);
    assert_eq!(r.text(Field::SslProtocol).unwrap(), Some("TLSv1.2"));
    assert_eq!(r.response_result_type().unwrap(), Some(ResultType::Hit));
    assert_eq!(r.text(Field::ProtocolVersion).unwrap(), Some("HTTP/2.0"));
    assert_eq!(r.fle_status().unwrap(), None);
    assert_eq!(r.integer(Field::ClientPort).unwrap(), Some(11040));
    assert_eq!(r.time_to_first_byte_us().unwrap(), Some(1_000));
    assert_eq!(r.detailed_result_type().unwrap(), Some(DetailedResultType::Hit));
    assert_eq!(r.decoded_str(Field::ContentType).as_deref(), Some("text/html"));
    assert_eq!(r.integer(Field::ContentLength).unwrap(), Some(78));
    assert_eq!(r.integer(Field::RangeStart).unwrap(), None);
    r.validate().unwrap();
    let r = parser.parse_line(all[3], &mut buf).unwrap().unwrap();
    assert_eq!(r.time_taken_us().unwrap(), Some(0));
}

#[test]
fn aws_doc_2014_26_columns_with_fle() {
    let data = fixture("standard/aws-doc-2014-26col.log");
    let mut parser = Parser::standard();
    let mut buf = RecordBuf::new();
    let all = lines(&data);
    for l in &all[..2] {
        assert!(parser.parse_line(l, &mut buf).unwrap().is_none());
    }
    assert_eq!(parser.schema().len(), 26);
    let r = parser.parse_line(all[2], &mut buf).unwrap().unwrap();
    // 2014-05-23 = 16213 days; 01:13:11 = 4391 s.
    assert_eq!(r.timestamp_ms().unwrap(), Some(1_400_807_591_000));
    assert_eq!(r.decoded_str(Field::Referer).as_deref(), Some("www.displaymyfiles.com"));
    assert_eq!(r.decoded_str(Field::UserAgent).as_deref(), Some("Mozilla/4.0 (compatible; MSIE 5.0b1; Mac_PowerPC)"));
    assert_eq!(r.decoded_str(Field::Cookie).as_deref(), Some("zip=98101"));
    assert_eq!(r.result_type().unwrap(), Some(ResultType::RefreshHit));
    assert!(r.result_type().unwrap().unwrap().is_cache_hit());
    assert_eq!(r.bytes_received().unwrap(), None);
    assert_eq!(r.fle_status().unwrap(), Some(cflog_core::FleStatus::Processed));
    assert_eq!(r.integer(Field::FleEncryptedFields).unwrap(), Some(1));
    // Fields the 26-column layout does not have are absent, not errors.
    assert_eq!(r.time_to_first_byte_us().unwrap(), None);
    assert_eq!(r.detailed_result_type().unwrap(), None);
    let r = parser.parse_line(all[3], &mut buf).unwrap().unwrap();
    assert_eq!(r.status().unwrap(), Some(304));
    assert_eq!(r.bytes_sent().unwrap(), Some(2_390_282));
    assert_eq!(r.uri_query_raw(), Some(&b"a=b&c=d"[..]));
    assert_eq!(r.time_taken_us().unwrap(), Some(2_000));
}

#[test]
fn legacy_2016_double_encoded_user_agent() {
    let data = fixture("standard/legacy-2016-23col-double-encoded.log");
    let all = lines(&data);
    let ua_once = "Mozilla/5.0%20(Windows%20NT%206.1;%20WOW64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/51.0.2704.79%20Safari/537.36";
    let ua_twice = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36";
    for (double, expected) in [(false, ua_once), (true, ua_twice)] {
        let mut parser = Parser::standard().double_decode(double);
        let mut buf = RecordBuf::new();
        parser.parse_line(all[0], &mut buf).unwrap();
        parser.parse_line(all[1], &mut buf).unwrap();
        let r = parser.parse_line(all[2], &mut buf).unwrap().unwrap();
        assert_eq!(r.decoded_str(Field::UserAgent).as_deref(), Some(expected));
        assert_eq!(r.schema().len(), 23);
        assert_eq!(r.viewer_host().unwrap(), Some("host.example.com"));
        assert_eq!(r.distribution_domain().unwrap(), Some("d27enomp470abc.cloudfront.net"));
        assert_eq!(r.time_taken_us().unwrap(), Some(36_000));
        assert_eq!(r.response_result_type().unwrap(), Some(ResultType::Miss));
        assert_eq!(r.client_ip().unwrap(), Some(ip("192.168.1.1")));
    }
}

/// The format reference (§2, "Double-encoding quirk"): standard logs from 2016, 2018 and
/// December 2019 log a space as `%2520`, logs from 2021 on as `%20`, and the AWS examples as
/// printed since the 2020-01-28 doc change use `%20`. Each file is judged by its own first
/// records; only the user agent is evidence (URIs keep viewers' escapes in every era).
#[test]
fn double_encoding_is_detected_per_file() {
    use cflog_core::layout::{double_encoded, sniff_double_encoding};
    let sniff = |path: &str| sniff_double_encoding(&fixture(path));
    assert_eq!(sniff("standard/legacy-2016-23col-double-encoded.log"), Some(true));
    assert_eq!(sniff("standard/aws-doc-2014-26col.log"), Some(false));
    assert_eq!(sniff("standard/aws-doc-2019-33col.log"), Some(false));
    // `curl/7.35.0` holds no space: no evidence either way, so decoded once.
    assert_eq!(sniff("standard/legacy-2015-19col.log"), None);
    assert!(!double_encoded(&fixture("standard/legacy-2015-19col.log")));
    // Its first section says nothing; the 2019 section's `%20` decides.
    assert_eq!(sniff("standard/concatenated-mixed.log"), Some(false));
    // The same `%2520` user agent dated 2021 is a literal `%20` in a user agent: once.
    let modern = String::from_utf8(fixture("standard/legacy-2016-23col-double-encoded.log")).unwrap().replace("2016-06-10", "2021-06-10");
    assert_eq!(sniff_double_encoding(modern.as_bytes()), Some(false));
    // A cut line is not evidence (its `%2520` could be a cut `%252520`).
    let data = fixture("standard/legacy-2016-23col-double-encoded.log");
    let cut = data.len() - 20;
    assert_eq!(sniff_double_encoding(&data[..cut]), None);
}

#[test]
fn legacy_2015_19_columns() {
    let data = fixture("standard/legacy-2015-19col.log");
    let mut parser = Parser::standard();
    let mut buf = RecordBuf::new();
    let all = lines(&data);
    parser.parse_line(all[0], &mut buf).unwrap();
    parser.parse_line(all[1], &mut buf).unwrap();
    let r = parser.parse_line(all[2], &mut buf).unwrap().unwrap();
    assert_eq!(r.schema().len(), 19);
    assert_eq!(r.decoded_str(Field::UserAgent).as_deref(), Some("curl/7.35.0"));
    assert_eq!(r.bytes_received().unwrap(), Some(154));
    assert_eq!(r.time_taken_us().unwrap(), Some(1_000));
    assert_eq!(r.text(Field::SslProtocol).unwrap(), None);
    r.validate().unwrap();
}

#[test]
fn concatenated_files_switch_layout_mid_stream() {
    let data = fixture("standard/concatenated-mixed.log");
    let mut parser = Parser::standard();
    let mut buf = RecordBuf::new();
    let mut seen = Vec::new();
    for l in lines(&data) {
        if let Some(r) = parser.parse_line(l, &mut buf).unwrap() {
            seen.push((r.schema().len(), r.column_count(), r.status().unwrap(), r.timestamp_ms().unwrap()));
        }
    }
    let t2015 = Some(1_422_470_507_000); // 2015-01-28 = 16463 days; 18:41:47 = 67307 s.
    let t2019 = Some(1_575_493_351_000);
    assert_eq!(
        seen,
        [(19, 19, Some(200), t2015), (33, 31, Some(200), t2019), (33, 34, Some(200), t2019), (33, 33, Some(200), t2019)]
    );
    let stats = parser.stats();
    assert_eq!((stats.records, stats.header_lines, stats.blank_lines), (4, 4, 1));
    assert_eq!((stats.short_lines, stats.extra_column_lines), (1, 1));
}

#[test]
fn realtime_2020_record_40_fields() {
    let data = fixture("realtime/snowplow-2020-40fields.log");
    let schema = Schema::realtime_release(40).unwrap();
    let mut parser = Parser::realtime(schema);
    let mut buf = RecordBuf::new();
    let r = parser.parse_line(&data, &mut buf).unwrap().unwrap();
    assert_eq!(r.timestamp_ms().unwrap(), Some(1_607_374_321_541));
    assert_eq!(r.client_ip().unwrap(), Some(ip("127.0.0.1")));
    assert_eq!(r.time_to_first_byte_us().unwrap(), Some(42_000));
    assert_eq!(r.status().unwrap(), Some(200));
    assert_eq!(r.bytes_sent().unwrap(), Some(485));
    // Real-time: cs-host is the viewer's Host header, x-host-header the distribution.
    assert_eq!(r.viewer_host().unwrap(), Some("test.cloudfront.net"));
    assert_eq!(r.distribution_domain().unwrap(), Some("test.cloudfront.net"));
    // The stem carries the query; the path accessor strips it.
    assert_eq!(r.uri_path().as_deref(), Some("/i"));
    let query = r.uri_query_raw().unwrap();
    assert!(query.starts_with(b"stm=1607374321563&e=pp&url=http%253A%252F%252Flocalhost"));
    // The viewer's own escapes, re-escaped: decoding once gives them back.
    let decoded = cflog_core::decode::percent_decode(query);
    assert!(decoded.starts_with(b"stm=1607374321563&e=pp&url=http%3A%2F%2Flocalhost%3A5000%2Fpage-2"));
    assert_eq!(r.bytes_received().unwrap(), Some(745));
    assert_eq!(r.edge_location().unwrap().unwrap().iata(), Some("EWR"));
    assert_eq!(r.time_taken_us().unwrap(), Some(42_000));
    assert_eq!(r.text(Field::ClientIpVersion).unwrap(), Some("IPv4"));
    assert_eq!(
        r.decoded_str(Field::UserAgent).as_deref(),
        Some("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:83.0) Gecko/20100101 Firefox/83.0")
    );
    assert_eq!(r.decoded_str(Field::Referer).as_deref(), Some("http://localhost:5000/page-2"));
    assert_eq!(r.result_type().unwrap(), Some(ResultType::Miss));
    assert_eq!(r.decoded_str(Field::ContentType).as_deref(), Some("image/gif"));
    assert_eq!(r.integer(Field::ContentLength).unwrap(), Some(35));
    assert_eq!(r.integer(Field::ClientPort).unwrap(), Some(49323));
    assert_eq!(r.text(Field::Country).unwrap(), Some("US"));
    assert_eq!(r.decoded_str(Field::AcceptEncoding).as_deref(), Some("gzip, deflate"));
    let headers: Vec<(Cow<str>, Cow<str>)> = r.headers().collect();
    assert_eq!(headers.len(), 8);
    assert_eq!(headers[0], (Cow::from("Host"), Cow::from("test.cloudfront.net")));
    assert_eq!(headers[5], (Cow::from("DNT"), Cow::from("1")));
    assert_eq!(headers[7], (Cow::from("Referer"), Cow::from("http://localhost:5000/page-2")));
    let names: Vec<Cow<str>> = r.header_names().collect();
    assert_eq!(names.len(), 8);
    assert_eq!(names[1], "User-Agent");
    assert_eq!(r.integer(Field::HeadersCount).unwrap(), Some(8));
    r.validate().unwrap();
}

fn gotcha_parser() -> Parser {
    let spec = String::from_utf8(fixture("realtime/gotchas.fields")).unwrap();
    let names: Vec<&str> = spec.split([',', ' ', '\n']).filter(|s| !s.is_empty()).collect();
    Parser::realtime(Schema::from_field_names(&names).unwrap())
}

#[test]
fn realtime_gotchas() {
    let data = fixture("realtime/gotchas.log");
    let all = lines(&data);
    let mut parser = gotcha_parser();
    let mut buf = RecordBuf::new();

    let r = parser.parse_line(all[0], &mut buf).unwrap().unwrap();
    assert_eq!(r.timestamp_ms().unwrap(), Some(1_700_000_000_123));
    assert_eq!(r.client_ip().unwrap(), Some(ip("2001:db8:85a3::8a2e:370:7334")));
    assert_eq!(r.ip(Field::ServerIp).unwrap(), Some(ip("198.51.100.7")));
    assert_eq!(r.status().unwrap(), Some(0), "000: the viewer hung up");
    assert_eq!(r.uri_path().as_deref(), Some("/search"));
    assert_eq!(r.uri_query_raw(), Some(&b"q=a%2520b"[..]));
    assert_eq!(r.edge_location().unwrap().unwrap().iata(), Some("SEA"));
    assert_eq!(r.time_taken_us().unwrap(), None);
    assert_eq!(
        r.decoded_str(Field::UserAgent).as_deref(),
        Some("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
        "+ stays +"
    );
    let xff: Vec<Cow<str>> = r.forwarded_for().collect();
    assert_eq!(xff, ["203.0.113.5", "198.51.100.1"]);
    assert_eq!(r.result_type().unwrap(), Some(ResultType::Error));
    assert_eq!(r.headers().count(), 0);

    let r = parser.parse_line(all[1], &mut buf).unwrap().unwrap();
    assert_eq!(r.ip(Field::ServerIp).unwrap(), None);
    assert_eq!(r.status().unwrap(), Some(206));
    assert_eq!(r.uri_path().as_deref(), Some("/video/seg 01.ts"));
    assert_eq!(r.uri_query_raw(), None);
    assert_eq!(r.time_taken_us().unwrap(), Some(140_000));
    let headers: Vec<(Cow<str>, Cow<str>)> = r.headers().collect();
    assert_eq!(
        headers,
        [("host".into(), "www.example.com".into()), ("accept".into(), "*/*".into()), ("x-note".into(), "a:b".into())]
    );
}

#[test]
fn errors_name_line_field_and_reason() {
    let mut parser = gotcha_parser();
    let mut buf = RecordBuf::new();
    let short = b"1700000000.123\t192.0.2.1\t-\t200\n";
    let err = parser.parse_line(short, &mut buf).unwrap_err();
    assert_eq!(err.line, 1);
    assert_eq!(err.kind, ParseErrorKind::FieldCount { expected: 11, found: 4 });
    assert!(err.to_string().starts_with("line 1: 4 fields, but the layout has 11"), "{err}");

    let bad_status = "1700000000.123\t192.0.2.1\t-\t2x0\t/\tLAX1\t0.1\tua\t-\tHit\t-";
    let r = parser.parse_line(bad_status.as_bytes(), &mut buf).unwrap().unwrap();
    let err = r.status().unwrap_err();
    assert_eq!((err.line, err.column, err.field), (2, Some(4), Some("sc-status")));
    assert_eq!(err.to_string(), "line 2: field sc-status: expected a three-digit status");
    assert_eq!(r.validate().unwrap_err(), err);

    let bad_ip = "1700000000.123\t999.1.1.1\t-\t200\t/\tLAX1\t0.1\tua\t-\tHit\t-";
    let r = parser.parse_line(bad_ip.as_bytes(), &mut buf).unwrap().unwrap();
    assert_eq!(r.client_ip().unwrap_err().to_string(), "line 3: field c-ip: expected an IPv4 or IPv6 address");

    let header = parser.parse_line(b"#Fields: date time", &mut buf).unwrap_err();
    assert_eq!(header.kind, ParseErrorKind::UnexpectedHeader);
    // The stream goes on after every error.
    let ok = "1700000000.123\t192.0.2.1\t-\t200\t/\tLAX1\t0.1\tua\t-\tHit\t-";
    assert!(parser.parse_line(ok.as_bytes(), &mut buf).unwrap().is_some());
    assert_eq!(parser.line_number(), 5);
}
