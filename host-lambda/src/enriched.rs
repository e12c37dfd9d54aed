//! The enriched NDJSON record's own part: after the typed record object
//! (`cflog_core::json::RecordWriter`), `@timestamp` and the `_cflog` object (distribution,
//! status class, cache hit, edge geography, user-agent class, rule tags and labels, the
//! source shard and sequence number). [`crate::process`] calls [`enrich`] per record.

use hashbrown::HashMap;

use cflog_core::Field;
use cflog_core::enrich::geo::{Airport, airport, iata_prefix};
use cflog_core::enrich::ua::{UaClass, classify_user_agent};
use cflog_engine::worker::Tags;

/// `s` as a JSON string, escaped exactly as serde_json escapes it (the records' format
/// since they were first written): cflog-core's `write_str` writes the same bytes for every
/// `&str` except backspace and form feed, which serde_json writes as `\b` and `\f`.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Digits only (the sequence numbers, 56 of them): nothing to escape or look for (the
    // scans were ~330 instructions a record; issue 13). A fold, not `all`, so it is
    // vectorised rather than a branch a byte.
    if s.bytes().fold(true, |all, b| all & b.is_ascii_digit()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else if memchr::memchr2(0x08, 0x0c, s.as_bytes()).is_some() {
        out.extend_from_slice(serde_json::to_string(s).expect("strings serialize").as_bytes());
    } else {
        cflog_core::json::write_str(out, s.as_bytes());
    }
}


/// What [`enrich`] keeps from record to record.
#[derive(Debug, Default)]
pub(crate) struct EnrichState {
    /// The decoded user agent of the record being enriched (reused).
    ua_scratch: Vec<u8>,
    /// The `_cflog` geography text per edge location code (see [`EdgeGeoText`]).
    geo_text: EdgeGeoText,
    /// The `_cflog` user-agent text per raw user agent (see [`UaText`]).
    ua_text: UaText,
    /// The JSON strings of the last distribution and shard written, which rarely change
    /// from record to record (escaping them was ~700 instructions a record; issue 13).
    dist_json: JsonByText,
    shard_json: LastJson,
}

/// The JSON strings ([`push_json_str`]) of texts that repeat but interleave (the
/// distributions of a batch: a [`LastJson`] missed ~60 % of the bench's records, ~270
/// instructions a record; issue 13). Emptied when it holds [`JsonByText::CAP`] texts.
#[derive(Debug, Default)]
struct JsonByText(HashMap<Box<str>, Box<[u8]>>);

impl JsonByText {
    const CAP: usize = 1024;

    /// Appends `s` as [`push_json_str`] does, from the table when `s` was seen before.
    fn push(&mut self, out: &mut Vec<u8>, s: &str) {
        if let Some(json) = self.0.get(s) {
            out.extend_from_slice(json);
            return;
        }
        if self.0.len() >= Self::CAP {
            self.0.clear();
        }
        let mut json = Vec::with_capacity(s.len() + 2);
        push_json_str(&mut json, s);
        out.extend_from_slice(&json);
        self.0.insert(s.into(), json.into_boxed_slice());
    }
}

/// A text and its JSON string ([`push_json_str`]), for the next record of the same text.
#[derive(Debug, Default)]
struct LastJson {
    text: String,
    json: Vec<u8>,
}

impl LastJson {
    /// Appends `s` as [`push_json_str`] does, from the last text's when `s` is that text.
    fn push(&mut self, out: &mut Vec<u8>, s: &str) {
        if self.json.is_empty() || self.text != s {
            self.text.clear();
            self.text.push_str(s);
            self.json.clear();
            push_json_str(&mut self.json, s);
        }
        out.extend_from_slice(&self.json);
    }
}

/// Closes the typed record object in `out` with `@timestamp` (`timestamp_ms`: the
/// record's `record.timestamp_ms().ok().flatten()`, which the caller parsed already) and
/// an `_cflog` object of enrichments. Every key `_cflog` can carry is listed in [`crate::opensearch`], which
/// maps it for OpenSearch; a key added here without a mapping fails the document tests.
#[allow(clippy::too_many_arguments, reason = "one call site, in the record loop; a struct of borrowed arguments built per record would only rename them")]
pub(crate) fn enrich(
    record: &cflog_core::Record<'_>,
    timestamp_ms: Option<i64>,
    dist: &str,
    shard: &str,
    seq: &str,
    rules: Option<Tags<'_>>,
    state: &mut EnrichState,
    out: &mut Vec<u8>,
) {
    let EnrichState { ua_scratch, geo_text, ua_text, dist_json, shard_json } = state;
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    if let Some(ms) = timestamp_ms {
        out.extend_from_slice(b"\"@timestamp\":\"");
        push_iso8601_ms(out, ms);
        out.extend_from_slice(b"\",");
    }
    out.extend_from_slice(b"\"_cflog\":{\"distribution\":");
    dist_json.push(out, dist);
    if let Some(status) = record.status().ok().flatten() {
        // `000` (the viewer hung up first) is class `0xx`.
        out.extend_from_slice(b",\"status_class\":\"");
        out.push(b'0' + (status / 100 % 10) as u8);
        out.extend_from_slice(b"xx\"");
    }
    if let Some(rt) = record.result_type().ok().flatten() {
        // The same test as the summaries' cache hit ratio (Hit or RefreshHit).
        out.extend_from_slice(if rt.is_cache_hit() { b",\"cache_hit\":true" } else { b",\"cache_hit\":false" });
    }
    if let Some(edge) = record.text(Field::EdgeLocation).ok().flatten() {
        geo_text.append(edge, out);
    }
    if let Some(raw) = record.raw(Field::UserAgent) {
        ua_text.append(raw, record.decodes_twice(), ua_scratch, out);
    }
    if let Some(rules) = rules {
        // Dots in rule keys would be object paths to OpenSearch (see document_key).
        use crate::opensearch::document_key;
        let mut tags = serde_json::Map::new();
        rules.for_each(|key, value| {
            tags.insert(document_key(key).into_owned(), serde_json::Value::from(value));
        });
        let mut labels = serde_json::Map::new();
        rules.for_each_label(|key, value| {
            // A non-finite label would be a JSON null: absent values stay absent.
            if value.is_finite() {
                labels.insert(document_key(key).into_owned(), serde_json::json!(value));
            }
        });
        out.extend_from_slice(b",\"tags\":");
        out.extend_from_slice(serde_json::Value::Object(tags).to_string().as_bytes());
        out.extend_from_slice(b",\"labels\":");
        out.extend_from_slice(serde_json::Value::Object(labels).to_string().as_bytes());
    }
    out.extend_from_slice(b",\"source\":{\"shard\":");
    shard_json.push(out, shard);
    out.extend_from_slice(b",\"seq\":");
    push_json_str(out, seq);
    out.extend_from_slice(b"}}}\n");
}

/// The `_cflog` geography of an edge location (`,"edge_city":…,"edge_point":{…}`), kept
/// per IATA code: formatting the coordinates' floats was ~1,750 instructions a record
/// (issue 13); a code is formatted once per processor. The table is bounded by the
/// 26³ possible codes.
#[derive(Debug, Default)]
struct EdgeGeoText(HashMap<[u8; 3], Option<Box<[u8]>>>);

impl EdgeGeoText {
    /// Appends the geography of `edge` (an `x-edge-location` value) to `out`; nothing
    /// when [`edge_geo`](cflog_core::enrich::geo::edge_geo) does not know it.
    fn append(&mut self, edge: &str, out: &mut Vec<u8>) {
        let Some(code) = iata_prefix(edge) else { return };
        let key: [u8; 3] = code.as_bytes().try_into().expect("an IATA prefix is three bytes");
        // `edge_geo` is `airport` of the prefix.
        if let Some(text) = self.0.entry(key).or_insert_with(|| airport(code).map(geo_text_of)) {
            out.extend_from_slice(text);
        }
    }
}

/// The `_cflog` user-agent fields (`,"ua_class":…,"mobile":…`) per raw (still
/// percent-encoded) user agent: classifying was ~4,000 instructions a record and decoding
/// ~1,250 (issue 13), and a batch holds few distinct user agents. Bounded: the table is
/// emptied when it reaches [`UaText::CAP`] entries (~1 MB at most).
#[derive(Debug, Default)]
struct UaText {
    /// Index 1 for layouts whose values are encoded twice.
    by_raw: [TextByRaw; 2],
}

/// A text kept per raw value.
type TextByRaw = HashMap<Box<[u8]>, Box<[u8]>>;

impl UaText {
    const CAP: usize = 4096;

    /// Appends the fields for the raw user agent `raw` to `out`; `scratch` is reused for
    /// decoding it.
    fn append(&mut self, raw: &[u8], double: bool, scratch: &mut Vec<u8>, out: &mut Vec<u8>) {
        let table = &mut self.by_raw[usize::from(double)];
        if let Some(text) = table.get(raw) {
            out.extend_from_slice(text);
            return;
        }
        if table.len() >= Self::CAP {
            table.clear();
        }
        let text = ua_text_of(raw, double, scratch);
        out.extend_from_slice(&text);
        table.insert(raw.into(), text);
    }
}

/// The text [`UaText`] keeps for one raw user agent: what `record.decoded_str` gives,
/// classified.
fn ua_text_of(raw: &[u8], double: bool, scratch: &mut Vec<u8>) -> Box<[u8]> {
    scratch.clear();
    cflog_core::decode::decode_into(raw, double, scratch);
    let info = match std::str::from_utf8(scratch) {
        Ok(ua) => classify_user_agent(ua),
        Err(_) => classify_user_agent(&String::from_utf8_lossy(scratch)),
    };
    let mut out = Vec::new();
    out.extend_from_slice(b",\"ua_class\":");
    push_json_str(&mut out, info.class.name());
    if info.class == UaClass::Browser {
        out.extend_from_slice(b",\"browser\":");
        push_json_str(&mut out, info.family.name());
    }
    out.extend_from_slice(if info.mobile { b",\"mobile\":true" } else { b",\"mobile\":false" });
    out.into_boxed_slice()
}

/// The text [`EdgeGeoText`] keeps for one airport.
fn geo_text_of(geo: Airport) -> Box<[u8]> {
    use std::io::Write as _;
    let mut out = Vec::new();
    out.extend_from_slice(b",\"edge_city\":");
    push_json_str(&mut out, geo.city);
    out.extend_from_slice(b",\"edge_country\":");
    push_json_str(&mut out, geo.country);
    out.extend_from_slice(b",\"edge_region\":");
    push_json_str(&mut out, geo.region.name());
    // A geo_point as an object: `{"lat", "lon"}` cannot be mistaken for [lon, lat].
    write!(out, ",\"edge_point\":{{\"lat\":{},\"lon\":{}}}", geo.latitude, geo.longitude).expect("writes to a Vec");
    out.into_boxed_slice()
}

/// Epoch milliseconds as ISO-8601 UTC with milliseconds (`2020-12-07T20:52:01.541Z`),
/// the form OpenSearch's default `date` format (`strict_date_optional_time`) reads.
/// Proleptic Gregorian calendar. Years are meant to have four digits (a log timestamp is
/// after 1970 and before 10000); others would print longer and not parse as dates.
pub fn push_iso8601_ms(out: &mut Vec<u8>, ms: i64) {
    let (year, month, day) = cflog_core::grammar::civil_from_days(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    if !(0..=9999).contains(&year) {
        out.extend_from_slice(format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z").as_bytes());
        return;
    }
    // Four-digit years (every log timestamp) without a formatter call, into one fixed-size
    // text copied once (a push and a power-of-ten division a digit were ~250 instructions
    // a record; issue 13).
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, n: i64, width: usize| {
        let mut n = n as u32;
        for k in (at..at + width).rev() {
            text[k] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, year, 4);
    put(5, month as i64, 2);
    put(8, day as i64, 2);
    put(11, h, 2);
    put(14, m, 2);
    put(17, s, 2);
    put(20, milli, 3);
    out.extend_from_slice(&text);
}

#[cfg(test)]
mod tests {
    use proptest::strategy::Strategy as _;

    /// The geography text as `enrich` wrote it per record before the cache (issue 13).
    fn geo_text_uncached(edge: &str) -> Vec<u8> {
        use std::io::Write as _;
        let mut out = Vec::new();
        if let Some(geo) = cflog_core::enrich::geo::edge_geo(edge) {
            out.extend_from_slice(b",\"edge_city\":");
            super::push_json_str(&mut out, geo.city);
            out.extend_from_slice(b",\"edge_country\":");
            super::push_json_str(&mut out, geo.country);
            out.extend_from_slice(b",\"edge_region\":");
            super::push_json_str(&mut out, geo.region.name());
            write!(out, ",\"edge_point\":{{\"lat\":{},\"lon\":{}}}", geo.latitude, geo.longitude).unwrap();
        }
        out
    }

    proptest::proptest! {
        /// The kept JSON string of the last text is `push_json_str` of the text given, for
        /// any sequence of texts, repeated or not (quotes, controls, `\b`/`\f`, non-ASCII).
        #[test]
        fn last_json_is_push_json_str(texts in proptest::collection::vec(proptest::sample::select(vec![
            "E1ABCDEF", "E1ABCDEG", "d1.cloudfront.net", "a\"b", "tab\there", "\u{8}b\u{c}f", "é", "",
        ]), 0..12)) {
            let mut last = super::LastJson::default();
            for t in texts {
                let (mut got, mut want) = (b"[".to_vec(), b"[".to_vec());
                last.push(&mut got, t);
                super::push_json_str(&mut want, t);
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    proptest::proptest! {
        /// The table's JSON string of a text is `push_json_str` of the text, for any
        /// sequence of texts (repeated, new, escapes, `\b`/`\f`, non-ASCII), fresh, warm and
        /// across the emptying at `CAP` texts.
        #[test]
        fn json_by_text_is_push_json_str(texts in proptest::collection::vec(proptest::prop_oneof![
            proptest::sample::select(vec!["E1ABCDEF", "E1ABCDEG", "d1.cloudfront.net", "a\"b", "tab\there", "\u{8}b\u{c}f", "é", "", "0123"]).prop_map(String::from),
            "(\\PC|[\\x00-\\x1f\"\\\\])*",
        ], 0..12), fill in 0usize..2) {
            let mut table = super::JsonByText::default();
            // Warm the table up to (or past) its emptying first.
            for i in 0..fill * (super::JsonByText::CAP - 3) {
                table.push(&mut Vec::new(), &format!("x{i}"));
            }
            for _round in 0..2 {
                for t in &texts {
                    let (mut got, mut want) = (b"[".to_vec(), b"[".to_vec());
                    table.push(&mut got, t);
                    super::push_json_str(&mut want, t);
                    proptest::prop_assert_eq!(got, want);
                }
            }
        }

        /// Digit strings (the sequence numbers' fast path) are written as serde_json writes them.
        #[test]
        fn digit_strings_equal_serde(s in "[0-9]{0,70}", other in "[0-9]{0,5}[^0-9][0-9]{0,5}") {
            for s in [&s, &other] {
                let mut v = b"x".to_vec();
                super::push_json_str(&mut v, s);
                proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), format!("x{}", serde_json::to_string(s).unwrap()));
            }
        }
    }

    /// Every three-letter code, as a fresh and as a warm cache gives it, in every
    /// suffix style, is the text written before the cache; so are values without a code.
    #[test]
    fn cached_edge_geography_is_the_uncached_text() {
        let mut cache = super::EdgeGeoText::default();
        let mut known = 0;
        for code in 0..26u32 * 26 * 26 {
            let letters = [code / 676, code / 26 % 26, code % 26].map(|l| (b'A' + l as u8) as char);
            let prefix: String = letters.iter().collect();
            for (round, edge) in [format!("{prefix}57-C1"), format!("{prefix}50-P2"), format!("{prefix}3")].iter().enumerate() {
                let want = geo_text_uncached(edge);
                let mut got = b"x".to_vec();
                cache.append(edge, &mut got);
                assert_eq!(&got[..1], b"x", "{edge}: appends");
                assert_eq!(String::from_utf8_lossy(&got[1..]), String::from_utf8_lossy(&want), "{edge} (lookup {round})");
                let mut fresh = Vec::new();
                super::EdgeGeoText::default().append(edge, &mut fresh);
                assert_eq!(fresh, want, "{edge} in a fresh cache");
                known += usize::from(round == 0 && !want.is_empty());
            }
        }
        assert!(known > 5000, "only {known} codes have a geography");
        for edge in ["-", "", "NRT", "nrt57-C1", "NR57", "N\u{e9}T57", "NRTX-C1"] {
            let mut got = Vec::new();
            cache.append(edge, &mut got);
            assert_eq!(got, geo_text_uncached(edge), "{edge:?}");
            assert!(got.is_empty(), "{edge:?}");
        }
    }

    /// The user-agent fields as `enrich` wrote them per record before the cache (issue 13).
    fn ua_text_uncached(raw: &[u8], double: bool) -> Vec<u8> {
        let decoded = cflog_core::decode::decode(raw, double);
        let ua = String::from_utf8_lossy(&decoded);
        let info = cflog_core::enrich::ua::classify_user_agent(&ua);
        let mut out = format!(",\"ua_class\":{}", serde_json::to_string(info.class.name()).unwrap());
        if info.class == cflog_core::enrich::ua::UaClass::Browser {
            out += &format!(",\"browser\":{}", serde_json::to_string(info.family.name()).unwrap());
        }
        out += if info.mobile { ",\"mobile\":true" } else { ",\"mobile\":false" };
        out.into_bytes()
    }

    const USER_AGENTS: &[&str] = &[
        "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36%20(KHTML,%20like%20Gecko)%20Chrome/120.0.0.0%20Safari/537.36",
        "Mozilla/5.0%2520(iPhone;%2520CPU%2520iPhone%2520OS%252017_0%2520like%2520Mac%2520OS%2520X)%2520AppleWebKit/605.1.15",
        "Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)",
        "curl/8.4.0",
        "python-requests/2.31.0",
        "-",
        "",
        "Mozilla/5.0%20(Linux;%20Android%2014)%20Firefox/121.0",
        "%FF%FE%20broken",
        "Amazon%20CloudFront",
        // `curl/8.4.0` only when decoded twice: the two decodings must not share entries.
        "%2563url/8.4.0",
    ];

    /// Every user agent, in both decodings, from a fresh and a warm cache and across the
    /// cap's emptying, gives the text written before the cache.
    #[test]
    fn cached_user_agent_text_is_the_uncached_text() {
        let mut cache = super::UaText::default();
        let mut scratch = Vec::new();
        for round in 0..3 {
            for double in [false, true] {
                for ua in USER_AGENTS {
                    let mut got = b"x".to_vec();
                    cache.append(ua.as_bytes(), double, &mut scratch, &mut got);
                    assert_eq!(&got[..1], b"x", "{ua}: appends");
                    assert_eq!(String::from_utf8_lossy(&got[1..]), String::from_utf8_lossy(&ua_text_uncached(ua.as_bytes(), double)), "{ua} double={double} round {round}");
                }
            }
        }
        // Past the cap: the table is emptied, never grows beyond it, and stays right.
        for i in 0..super::UaText::CAP + 10 {
            let ua = format!("agent-{i}%20Chrome/1.{i}");
            let mut got = Vec::new();
            cache.append(ua.as_bytes(), false, &mut scratch, &mut got);
            assert_eq!(got, ua_text_uncached(ua.as_bytes(), false), "{ua}");
            assert!(cache.by_raw[0].len() <= super::UaText::CAP);
        }
        // USER_AGENTS + CAP + 10 distinct agents: emptied once, when CAP were kept.
        assert_eq!(cache.by_raw[0].len(), USER_AGENTS.len() + 10, "emptied at the cap");
    }

    proptest::proptest! {
        /// Any bytes as the raw user agent, written twice (a miss, then a hit).
        #[test]
        fn any_user_agent_text_is_the_uncached_text(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80), double in proptest::prelude::any::<bool>()) {
            let (mut cache, mut scratch) = (super::UaText::default(), Vec::new());
            for _ in 0..2 {
                let mut got = Vec::new();
                cache.append(&raw, double, &mut scratch, &mut got);
                proptest::prop_assert_eq!(&got, &ua_text_uncached(&raw, double));
            }
        }
    }

    #[test]
    fn iso8601() {
        let f = |ms| {
            let mut v = Vec::new();
            super::push_iso8601_ms(&mut v, ms);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(f(1_607_374_321_541), "2020-12-07T20:52:01.541Z");
        // 2024-02-29 (a leap day) and the last millisecond of 1999.
        assert_eq!(f(1_709_208_000_007), "2024-02-29T12:00:00.007Z");
        assert_eq!(f(946_684_799_999), "1999-12-31T23:59:59.999Z");
        assert_eq!(f(-1), "1969-12-31T23:59:59.999Z");
    }

    /// The straightforward forms the fast writers replaced: `format!` of the civil date,
    /// and serde_json's string escaping.
    fn iso8601_by_format(ms: i64) -> String {
        let (year, month, day) = cflog_core::grammar::civil_from_days(ms.div_euclid(86_400_000));
        let in_day = ms.rem_euclid(86_400_000);
        let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn iso8601_equals_format(ms in proptest::prop_oneof![
            -400_000_000_000_000i64..400_000_000_000_000, -62_167_219_200_000i64..253_402_300_800_000]) {
            let mut v = Vec::new();
            super::push_iso8601_ms(&mut v, ms);
            proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), iso8601_by_format(ms));
        }

        #[test]
        fn json_str_equals_serde(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f])*") {
            let mut v = b"x".to_vec();
            super::push_json_str(&mut v, &s);
            proptest::prop_assert_eq!(String::from_utf8(v).unwrap(), format!("x{}", serde_json::to_string(&s).unwrap()));
        }
    }
}
