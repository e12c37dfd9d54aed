//! The enriched records as OpenSearch documents, checked against the committed index
//! template (`deploy/opensearch/index-template.json`) without an OpenSearch server (none
//! can run on these machines): every key mapped, every value of its field's type (dates
//! ISO-8601 UTC with milliseconds, `ip` fields IPv4/IPv6, geo points in range, numbers
//! numbers, booleans booleans), no nulls. The checker below reads the mapping JSON, not
//! the code that generated it, and its own tests show it fails on each kind of mistake.

use std::net::IpAddr;

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::process::{ExtraDimensions, InRecord, OutBatch, Processor};
use serde_json::{Map, Value, json};

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/opensearch/index-template.json");

fn template() -> Value {
    serde_json::from_str(&std::fs::read_to_string(TEMPLATE).expect("deploy/opensearch/index-template.json")).unwrap()
}

/// A small checker of documents against an OpenSearch mapping (`template.mappings`).
struct Mapping<'a> {
    root: &'a Value,
    /// (path_match glob, mapping) of `dynamic_templates`.
    dynamic: Vec<(&'a str, &'a Value)>,
}

const KNOWN_TYPES: &[&str] =
    &["keyword", "text", "ip", "date", "geo_point", "boolean", "long", "integer", "short", "byte", "double", "float", "object"];

impl<'a> Mapping<'a> {
    fn new(template: &'a Value) -> Mapping<'a> {
        let root = &template["template"]["mappings"];
        assert!(root["properties"].is_object(), "the template has template.mappings.properties");
        let dynamic = root["dynamic_templates"]
            .as_array()
            .map(|list| {
                list.iter()
                    .flat_map(|t| t.as_object().unwrap().values())
                    .map(|t| (t["path_match"].as_str().expect("path_match"), &t["mapping"]))
                    .collect()
            })
            .unwrap_or_default();
        let m = Mapping { root, dynamic };
        m.check_types(root, "");
        m
    }

    /// Every `type` in the mapping is one this checker knows how to check.
    fn check_types(&self, m: &Value, path: &str) {
        if let Some(ty) = m.get("type").and_then(Value::as_str) {
            assert!(KNOWN_TYPES.contains(&ty), "{path}: the checker does not know type {ty}");
        }
        if let Some(props) = m.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                self.check_types(v, &format!("{path}{k}."));
            }
        }
    }

    fn validate(&self, doc: &Value) -> Result<(), String> {
        let obj = doc.as_object().ok_or("a document is a JSON object")?;
        self.object(self.root, obj, "", false)
    }

    fn object(&self, mapping: &Value, obj: &Map<String, Value>, prefix: &str, inherited_dynamic: bool) -> Result<(), String> {
        let dynamic = match mapping.get("dynamic") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => inherited_dynamic,
        };
        let empty = Map::new();
        let props = mapping.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        for (key, value) in obj {
            let path = format!("{prefix}{key}");
            if key.is_empty() {
                return Err(format!("{path}: empty key"));
            }
            if key.contains('.') {
                // OpenSearch expands `a.b` to the object path a -> b: not the field it says.
                return Err(format!("{path}: a dot in a key is an object path to OpenSearch"));
            }
            if let Some(m) = props.get(key) {
                self.value(m, value, &path, dynamic)?;
            } else if dynamic {
                let m = self
                    .dynamic
                    .iter()
                    .find(|(glob, _)| glob_match(glob, &path))
                    .map(|(_, m)| *m)
                    .ok_or_else(|| format!("{path}: dynamic object but no dynamic template matches"))?;
                self.value(m, value, &path, dynamic)?;
            } else {
                return Err(format!("{path}: not in the mapping"));
            }
        }
        Ok(())
    }

    fn value(&self, m: &Value, v: &Value, path: &str, dynamic: bool) -> Result<(), String> {
        if v.is_null() {
            return Err(format!("{path}: null (absent values must be absent)"));
        }
        let ty = m.get("type").and_then(Value::as_str).unwrap_or("object");
        let bad = |what: &str| Err(format!("{path}: {v} is not {what}"));
        match ty {
            "object" => match v.as_object() {
                Some(o) => self.object(m, o, &format!("{path}."), dynamic),
                None => bad("an object"),
            },
            "keyword" | "text" => if v.is_string() { Ok(()) } else { bad("a string") },
            "ip" => match v.as_str().map(str::parse::<IpAddr>) {
                Some(Ok(_)) => Ok(()),
                _ => bad("an IPv4 or IPv6 address"),
            },
            "date" => match v.as_str().and_then(iso8601_ms) {
                Some(_) => Ok(()),
                None => bad("an ISO-8601 UTC date with milliseconds"),
            },
            "geo_point" => {
                let o = v.as_object();
                let lat = o.and_then(|o| o.get("lat")).and_then(Value::as_f64);
                let lon = o.and_then(|o| o.get("lon")).and_then(Value::as_f64);
                match (lat, lon, o.map(Map::len)) {
                    (Some(lat), Some(lon), Some(2)) if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) => Ok(()),
                    _ => bad("a geo point {lat, lon} in range"),
                }
            }
            "boolean" => if v.is_boolean() { Ok(()) } else { bad("a boolean") },
            "long" | "integer" | "short" | "byte" => {
                let (lo, hi) = match ty {
                    "byte" => (i8::MIN as i64, i8::MAX as i64),
                    "short" => (i16::MIN as i64, i16::MAX as i64),
                    "integer" => (i32::MIN as i64, i32::MAX as i64),
                    _ => (i64::MIN, i64::MAX),
                };
                match v.as_i64() {
                    Some(n) if (lo..=hi).contains(&n) => Ok(()),
                    _ => bad(&format!("an integer for {ty}")),
                }
            }
            "double" | "float" => if v.as_f64().is_some_and(f64::is_finite) { Ok(()) } else { bad("a number") },
            other => Err(format!("{path}: unknown mapping type {other}")),
        }
    }
}

/// `*` matches any run of characters (OpenSearch's `path_match` simple glob).
fn glob_match(glob: &str, s: &str) -> bool {
    match glob.split_once('*') {
        None => glob == s,
        Some((head, tail)) => {
            s.starts_with(head) && (0..=s.len() - head.len()).any(|i| s.is_char_boundary(head.len() + i) && glob_match(tail, &s[head.len() + i..]))
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` to epoch milliseconds, or `None`; read independently of the
/// writer (days from civil, not the writer's civil from days).
fn iso8601_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r).filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?.parse().ok() };
    let (y, mo, d, h, mi, sec, ms) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] || h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let days_before_year = (1970..y).map(|yy| if (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0 { 366 } else { 365 }).sum::<i64>();
    let days = days_before_year + month_days[..(mo - 1) as usize].iter().sum::<i64>() + d - 1;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

fn docs(out: &OutBatch) -> Vec<Value> {
    out.iter()
        .map(|o| {
            assert!(o.data.ends_with(b"\n") && o.data.iter().filter(|&&b| b == b'\n').count() == 1, "one JSON line");
            serde_json::from_slice(o.data).unwrap()
        })
        .collect()
}

/// Runs `lines` through a processor of `schema` (bad lines forwarded too) and checks
/// every document it writes; returns them.
const EXAMPLE_RULE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/examples/wat/status_class.wat");

fn check_all(m: &Mapping<'_>, schema: Schema, lines: &[Vec<u8>], plugins: bool) -> Vec<Value> {
    check_all_with(m, schema, lines, plugins.then_some(EXAMPLE_RULE))
}

fn check_all_with(m: &Mapping<'_>, schema: Schema, lines: &[Vec<u8>], rule: Option<&str>) -> Vec<Value> {
    let mut p = Processor::new(schema, SummaryOptions::default(), ExtraDimensions::default());
    if let Some(rule) = rule {
        p = p.with_plugins(cflog_lambda::runtime::load_plugins(rule).expect("the rule loads"));
    }
    let records: Vec<InRecord> = lines.iter().enumerate().map(|(i, l)| InRecord { seq: format!("{}", 1000 + i), data: Ok(l.clone()) }).collect();
    let (mut out, mut bad) = (OutBatch::new(), Vec::new());
    p.run("shardId-000000000000", &records, Some(&mut out), true, &mut bad);
    let docs = docs(&out);
    assert_eq!(docs.len(), lines.len(), "one document per line, good or bad");
    for d in &docs {
        if let Err(e) = m.validate(d) {
            panic!("{e}\nin {d}");
        }
        // @timestamp is the record's own timestamp, to the millisecond.
        if let Some(t) = d.get("timestamp") {
            let want = (t.as_f64().unwrap() * 1000.0).round() as i64;
            assert_eq!(iso8601_ms(d["@timestamp"].as_str().unwrap()), Some(want), "{d}");
        }
    }
    docs
}

fn generated(fields: usize, lines: u64, seed: u64) -> Vec<Vec<u8>> {
    let opts = cflog_gen::GenOptions {
        lines,
        seed,
        schema: Some(Schema::realtime_release(fields).unwrap()),
        start_ms: 1_764_000_000_000,
        ..Default::default()
    };
    let mut buf = Vec::new();
    cflog_gen::generate(&opts, &mut buf).unwrap();
    buf.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../tests/fixtures/realtime/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn fixture_lines(name: &str) -> Vec<Vec<u8>> {
    fixture(name).split_inclusive(|&b| b == b'\n').filter(|l| l.iter().any(|b| !b.is_ascii_whitespace())).map(<[u8]>::to_vec).collect()
}

#[test]
fn committed_template_is_the_generated_one() {
    let want = cflog_lambda::opensearch::index_template();
    let text = serde_json::to_string_pretty(&want).unwrap() + "\n";
    if std::env::var_os("CFLOG_BLESS").is_some() {
        std::fs::write(TEMPLATE, &text).unwrap();
    }
    assert_eq!(template(), want, "deploy/opensearch/index-template.json is stale: rerun with CFLOG_BLESS=1");
}

#[test]
fn the_template_maps_every_realtime_field_by_its_kind() {
    let t = template();
    let props = t["template"]["mappings"]["properties"].as_object().unwrap();
    for (name, field) in cflog_core::field::REALTIME_FIELDS {
        assert!(props.contains_key(*name), "{name} unmapped");
        let ty = props[*name]["type"].as_str().unwrap();
        use cflog_core::Kind::*;
        let want = match field.kind() {
            Ip => "ip",
            IpList => "keyword",
            Integer | EpochMillis => "long",
            Status => "short",
            EpochSeconds | Seconds | Decimal => "double",
            Encoded => "text",
            _ => "keyword",
        };
        assert_eq!(ty, want, "{name}");
    }
    assert_eq!(props["@timestamp"]["type"], "date");
    assert_eq!(props["_cflog"]["properties"]["edge_point"]["type"], "geo_point");
    assert_eq!(t["template"]["mappings"]["dynamic"], false);
}

#[test]
fn generated_documents_validate() {
    let t = template();
    let m = Mapping::new(&t);
    // Every release layout the generator writes, with and without an enrichment rule.
    for (fields, seed) in [(40, 1), (46, 2), (64, 3), (69, 4)] {
        let docs = check_all(&m, Schema::realtime_release(fields).unwrap(), &generated(fields, 1500, seed), fields == 46);
        let c = &docs[0]["_cflog"];
        assert!(docs.iter().all(|d| d["@timestamp"].is_string() && d["_cflog"]["distribution"].is_string()));
        assert!(docs.iter().any(|d| d["_cflog"]["edge_point"].is_object()), "some edge has a point");
        assert!(docs.iter().any(|d| d["_cflog"]["cache_hit"] == true) && docs.iter().any(|d| d["_cflog"]["cache_hit"] == false));
        assert!(c["status_class"].as_str().unwrap().ends_with("xx"));
        if fields == 46 {
            // The rule tags 1xx..5xx (not `000`) with the class the processor derives too.
            assert!(docs.iter().all(|d| d["_cflog"]["tags"].is_object()));
            let tagged = docs.iter().filter(|d| d["_cflog"]["tags"]["status_class"].is_string()).count();
            assert!(tagged > docs.len() / 2, "{tagged} tagged");
            assert!(docs.iter().all(|d| d["_cflog"]["tags"].get("status_class").is_none_or(|t| *t == d["_cflog"]["status_class"])));
        }
    }
}

#[test]
fn dotted_rule_keys_are_flat_fields_in_documents() {
    // The example rule with its tag key spelled `status.class` (same length, so its
    // hand-written offsets hold): the rule ABI allows the dot; OpenSearch would read it as
    // the path status -> class.
    let wat = std::fs::read_to_string(EXAMPLE_RULE).unwrap();
    let dotted = wat.replace(r#"(data (i32.const 32) "status_class")"#, r#"(data (i32.const 32) "status.class")"#);
    assert_ne!(wat, dotted, "the rule's key moved: update this test");
    let dir = std::env::temp_dir().join(format!("cflog-dotted-rule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rule = dir.join("status_dotted.wat");
    std::fs::write(&rule, dotted).unwrap();

    let t = template();
    let m = Mapping::new(&t);
    let docs = check_all_with(&m, Schema::realtime_release(46).unwrap(), &generated(46, 200, 5), Some(rule.to_str().unwrap()));
    std::fs::remove_dir_all(&dir).ok();
    let tagged: Vec<_> = docs.iter().filter_map(|d| d["_cflog"]["tags"].as_object()).filter(|t| !t.is_empty()).collect();
    assert!(tagged.len() > docs.len() / 2, "{} tagged", tagged.len());
    for tags in tagged {
        assert_eq!(tags.keys().collect::<Vec<_>>(), ["status_class"], "{tags:?}");
    }
}

#[test]
fn fixture_documents_validate() {
    let t = template();
    let m = Mapping::new(&t);
    let snowplow = check_all(&m, Schema::realtime_release(40).unwrap(), &fixture_lines("snowplow-2020-40fields.log"), false);
    // Read off the fixture by hand: 2020-12-07 20:52:01.541 UTC at EWR52-C4 (Newark).
    let d = &snowplow[0];
    assert_eq!(d["@timestamp"], "2020-12-07T20:52:01.541Z");
    assert_eq!(d["c-ip"], "127.0.0.1");
    let p = &d["_cflog"]["edge_point"];
    assert!((p["lat"].as_f64().unwrap() - 40.69).abs() < 0.01 && (p["lon"].as_f64().unwrap() + 74.17).abs() < 0.01, "{p}");
    assert_eq!(d["_cflog"]["status_class"], "2xx");

    let spec = String::from_utf8(fixture("gotchas.fields")).unwrap();
    let names: Vec<&str> = spec.split([',', ' ', '\n']).filter(|s| !s.is_empty()).collect();
    let gotchas = check_all(&m, Schema::from_field_names(&names).unwrap(), &fixture_lines("gotchas.log"), false);
    // Line 1: an IPv6 c-ip (an `ip` value), status 000 (class 0xx), time-taken `-` (left
    // out), an x-forwarded-for list (kept whole, a keyword).
    let g = &gotchas[0];
    assert_eq!(g["c-ip"], "2001:0db8:85a3::8a2e:0370:7334");
    assert_eq!(g["sc-status"], 0);
    assert_eq!(g["_cflog"]["status_class"], "0xx");
    assert_eq!(g["x-forwarded-for"], "203.0.113.5,198.51.100.1");
    assert!(g.get("time-taken").is_none(), "`-` is absent, not null: {g}");
    assert_eq!(gotchas[1]["_cflog"]["cache_hit"], true, "x-edge-result-type Hit");
}

#[test]
fn the_checker_catches_mistakes() {
    let t = template();
    let m = Mapping::new(&t);
    let good = json!({
        "@timestamp": "2020-12-07T20:52:01.541Z", "timestamp": 1607374321.541, "c-ip": "2001:db8::1",
        "sc-status": 200, "cs-uri-stem": "/a",
        "_cflog": {"distribution": "d", "cache_hit": true, "edge_point": {"lat": 40.7, "lon": -74.2},
                   "tags": {"status_class": "2xx"}, "labels": {"score": 0.5}, "source": {"shard": "s", "seq": "1"}},
    });
    m.validate(&good).unwrap();
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut d = good.clone();
        f(&mut d);
        m.validate(&d).expect_err(&format!("should fail: {d}"))
    };
    assert!(broken(&|d| d["c-ip"] = json!("999.1.1.1")).contains("IPv4 or IPv6"));
    assert!(broken(&|d| d["c-ip"] = json!("203.0.113.5,198.51.100.1")).contains("c-ip"));
    assert!(broken(&|d| d["unmapped-field"] = json!("x")).contains("not in the mapping"));
    assert!(broken(&|d| d["_cflog"]["edge_lat"] = json!(1)).contains("_cflog.edge_lat: not in the mapping"));
    assert!(broken(&|d| d["_cflog"]["source"]["extra"] = json!("x")).contains("not in the mapping"));
    assert!(broken(&|d| d["cs-uri-stem"] = Value::Null).contains("null"));
    assert!(broken(&|d| d["sc-status"] = json!("200")).contains("integer"));
    assert!(broken(&|d| d["sc-status"] = json!(70000)).contains("short"));
    assert!(broken(&|d| d["timestamp"] = json!("1607374321.541")).contains("number"));
    assert!(broken(&|d| d["_cflog"]["cache_hit"] = json!("true")).contains("boolean"));
    assert!(broken(&|d| d["_cflog"]["edge_point"] = json!({"lat": 91.0, "lon": 0.0})).contains("geo point"));
    assert!(broken(&|d| d["_cflog"]["edge_point"] = json!([-74.2, 40.7])).contains("geo point"));
    assert!(broken(&|d| d["_cflog"]["labels"]["score"] = json!("high")).contains("number"));
    assert!(broken(&|d| d["_cflog"]["tags"]["bot.kind"] = json!("crawler")).contains("_cflog.tags.bot.kind: a dot in a key is an object path"));
    for date in ["2020-12-07T20:52:01Z", "2020-12-07 20:52:01.541Z", "2020-02-30T00:00:00.000Z", "2020-12-07T20:52:01.541+01:00", "1607374321541"] {
        assert!(broken(&|d| d["@timestamp"] = json!(date)).contains("ISO-8601"), "{date}");
    }
    assert_eq!(iso8601_ms("2024-02-29T12:00:00.007Z"), Some(1_709_208_000_007));
    assert!(glob_match("_cflog.tags.*", "_cflog.tags.a") && !glob_match("_cflog.tags.*", "_cflog.labels.a"));
}
