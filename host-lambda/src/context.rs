//! Alert context: what an alarm notification names (top URIs, 5xx by URI, edge locations,
//! countries, client addresses and ASNs with their counters), kept per (distribution,
//! window) and persisted as counters in the rollup item, so the notifier
//! ([`crate::notify`]) can say what was wrong over an alarm's window.
//!
//! Each batch adds its own [`CONTEXT_TOP`] heaviest entries of each list to the window's
//! rollup item with DynamoDB `ADD`, in the same transaction as the rollup counters (so a
//! re-delivered batch adds nothing twice). A window's counts are therefore sums over the
//! batches in whose top lists an entry was: exact for what dominates every batch, a lower
//! bound otherwise. Each item grows by at most [`CONTEXT_TOP`] entries per list per batch.
//!
//! Attribute names are `ctx|<list>|<key>` for the top lists and
//! `ctx|<ip|asn>|<key>|<counter>` for clients ([`attribute`], [`parse_attribute`]).

use std::collections::BTreeMap;

use cflog_core::agg::{ClientCounts, ClientTable, TopK};
use cflog_core::suspicious::{ClientKind, SuspectThresholds, judge_window};
use cflog_core::summary::Window;
use cflog_core::{Field, Record};
use hashbrown::HashMap;

/// Entries of each list a batch adds to a window's rollup item.
pub const CONTEXT_TOP: usize = 5;
/// Keys tracked per list per window within a batch (the top [`CONTEXT_TOP`] of them are
/// written).
const TRACKED: usize = 32;
/// Keys longer than this are cut (at a character boundary) in attribute names.
const MAX_KEY_BYTES: usize = 200;
/// Prefix of every context attribute.
pub const PREFIX: &str = "ctx|";

/// The top lists of the context, in message order.
pub const LISTS: [&str; 4] = ["uri", "uri_5xx", "edge", "country"];
/// Client counters, in [`ClientCounts`] order.
pub const CLIENT_COUNTERS: [&str; 5] = ["requests", "4xx", "404", "bytes", "threat"];

/// The per-window top lists a batch tracks (the clients are in the core window's tables).
#[derive(Debug, Clone)]
pub struct WindowContext {
    lists: [TopK; 4],
    status_404: u64,
}

impl WindowContext {
    fn new() -> Self {
        WindowContext { lists: std::array::from_fn(|_| TopK::with_capacity(TRACKED)), status_404: 0 }
    }

    /// Records of the window answered 404 (exact, for `404Rate`).
    pub fn status_404(&self) -> u64 {
        self.status_404
    }

    /// Counts one record in the window's lists (its path, the path again when it is a 5xx,
    /// its edge location and country) and its 404.
    #[inline]
    fn count(&mut self, record: &Record<'_>) {
        let [uri, uri_5xx, edge, country] = &mut self.lists;
        let status = record.status();
        if matches!(status, Ok(Some(404))) {
            self.status_404 += 1;
        }
        if let Some(path) = record.uri_path_raw() {
            uri.add(path, 1);
            if matches!(status, Ok(Some(500..=599))) {
                uri_5xx.add(path, 1);
            }
        }
        if let Some(e) = record.raw(Field::EdgeLocation) {
            edge.add(e, 1);
        }
        if let Some(k) = record.raw(Field::Country) {
            country.add(k, 1);
        }
    }
}

/// Distributions a batch holds up to which [`ContextBuilder`] finds one by comparing the
/// names in turn rather than by hash: a stream carries the logs of a few distributions, and
/// comparing a name with two or three others costs less than hashing it (~126 instructions
/// a record in the handler bench, issue 13).
const SCANNED: usize = 8;

/// Tracks the context of one batch, per distribution and window.
#[derive(Debug, Clone, Default)]
pub struct ContextBuilder {
    /// Each distribution's windows, in the order the distributions were first met.
    per: Vec<(String, BTreeMap<i64, WindowContext>)>,
    /// Index into `per` by name, built only once it holds more than [`SCANNED`].
    index: HashMap<String, usize>,
}

impl ContextBuilder {
    /// Counts one record (already added to its distribution's summary) of `dist` in the
    /// window starting at `window_start`.
    pub fn add(&mut self, dist: &str, window_start: i64, record: &Record<'_>) {
        let at = self.distribution(dist);
        self.per[at].1.entry(window_start).or_insert_with(WindowContext::new).count(record);
    }

    /// Where `dist` is in `per`, added if new.
    fn distribution(&mut self, dist: &str) -> usize {
        let found = if self.per.len() <= SCANNED {
            self.per.iter().position(|(d, _)| d == dist)
        } else {
            self.index.get(dist).copied()
        };
        if let Some(at) = found {
            return at;
        }
        let at = self.per.len();
        self.per.push((dist.to_string(), BTreeMap::new()));
        if self.per.len() == SCANNED + 1 {
            self.index = self.per.iter().enumerate().map(|(i, (d, _))| (d.clone(), i)).collect();
        } else if self.per.len() > SCANNED {
            self.index.insert(dist.to_string(), at);
        }
        at
    }

    /// Takes what was tracked: `(distribution, window start) → context`.
    pub fn finish(self) -> BTreeMap<(String, i64), WindowContext> {
        let mut out = BTreeMap::new();
        for (dist, windows) in self.per {
            for (start, c) in windows {
                out.insert((dist.clone(), start), c);
            }
        }
        out
    }
}

fn cut(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    if text.len() <= MAX_KEY_BYTES {
        return text.into_owned();
    }
    let mut end = MAX_KEY_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The attribute of `key` in `list` (`counter` for a client list).
pub fn attribute(list: &str, key: &str, counter: Option<&str>) -> String {
    match counter {
        Some(c) => format!("{PREFIX}{list}|{key}|{c}"),
        None => format!("{PREFIX}{list}|{key}"),
    }
}

/// A context attribute read back: `(list, key, counter)`; `None` for other attributes.
pub fn parse_attribute(name: &str) -> Option<(&str, &str, Option<&str>)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (list, rest) = rest.split_once('|')?;
    if list == "ip" || list == "asn" {
        let (key, counter) = rest.rsplit_once('|')?;
        return Some((list, key, Some(counter)));
    }
    Some((list, rest, None))
}

/// The counters a batch adds to one window's rollup item: its top lists and the
/// [`CONTEXT_TOP`] heaviest addresses and ASNs of the window's client tables.
pub fn counters(context: Option<&WindowContext>, window: &Window) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    if let Some(c) = context {
        for (name, list) in LISTS.iter().zip(&c.lists) {
            for e in list.top(CONTEXT_TOP) {
                // A count here is an upper bound only once the list evicted; the lower bound
                // (`count - error`) is what the message may claim.
                let n = e.count - e.error;
                if n > 0 {
                    out.push((attribute(name, &cut(e.key), None), n));
                }
            }
        }
    }
    for (name, table) in [("ip", &window.clients.ip), ("asn", &window.clients.asn)] {
        for e in table.entries().into_iter().take(CONTEXT_TOP) {
            let key = cut(e.key);
            let c = e.counts;
            for (counter, v) in CLIENT_COUNTERS.iter().zip([c.requests, c.status_4xx, c.status_404, c.bytes, c.tagged]) {
                if v > 0 {
                    out.push((attribute(name, &key, Some(counter)), v));
                }
            }
        }
    }
    out
}

/// Client counters read back from attributes.
pub fn set_counter(c: &mut ClientCounts, counter: &str, v: u64) {
    match counter {
        "requests" => c.requests += v,
        "4xx" => c.status_4xx += v,
        "404" => c.status_404 += v,
        "bytes" => c.bytes += v,
        "threat" => c.tagged += v,
        _ => {}
    }
}

/// Marks the enriched records of suspicious addresses: `_cflog.suspicious` lists the rules
/// their address matched in its distribution's windows of this batch (judged on this
/// batch, like the `SuspiciousClients` metric). Costs nothing while no address is suspicious
/// (the common case): the records are only scanned when one is.
pub fn flag_suspicious(agg: &crate::process::Aggregate, thresholds: &SuspectThresholds, out: &mut crate::process::OutBatch) {
    let mut suspects: Vec<(String, String, Vec<&'static str>)> = Vec::new();
    for (dist, s) in &agg.per_distribution {
        let mut found = Vec::new();
        for (start, w) in &s.windows {
            judge_window(thresholds, *start, s.window_ms(), [(ClientKind::Ip, &w.clients.ip), (ClientKind::Asn, &ClientTable::with_capacity(1))], &mut found);
        }
        for f in found {
            let needle = format!("\"c-ip\":\"{}\"", f.key);
            match suspects.iter_mut().find(|(d, n, _)| d == dist && *n == needle) {
                Some((_, _, why)) => {
                    for r in f.reasons.names() {
                        if !why.contains(&r) {
                            why.push(r);
                        }
                    }
                }
                None => suspects.push((dist.clone(), needle, f.reasons.names())),
            }
        }
    }
    if suspects.is_empty() {
        return;
    }
    // The batch is written again, each flagged record with its flag inserted.
    let all = std::mem::take(out);
    for r in all.iter() {
        let data = r.data;
        let why = suspects.iter().find(|(dist, needle, _)| {
            contains(data, needle.as_bytes()) && contains(data, format!("\"_cflog\":{{\"distribution\":{}", serde_json::Value::from(dist.as_str())).as_bytes())
        });
        // Every enriched record ends with `…"source":{…}}}\n`: insert before the last `}}\n`.
        match why {
            Some((_, _, why)) if data.ends_with(b"}}}\n") => {
                let at = data.len() - 3;
                let flag = format!(",\"suspicious\":{}", serde_json::json!(why));
                let _ = out.push_with(r.source_index, |buf| {
                    buf.extend_from_slice(&data[..at]);
                    buf.extend_from_slice(flag.as_bytes());
                    buf.extend_from_slice(&data[at..]);
                    Ok::<(), ()>(())
                });
            }
            _ => out.push(r.source_index, data),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1,300 requests in a minute from one address: each of its enriched records says so,
    /// the other address's does not, and every record is still one JSON object.
    #[test]
    fn enriched_records_of_a_flooding_address_are_flagged() {
        use crate::process::{ExtraDimensions, InRecord, Processor};
        let schema = cflog_core::Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "x-host-header"]).unwrap();
        let mut p = Processor::new(schema, cflog_core::summary::SummaryOptions { fixed_windows: true, ..Default::default() }, ExtraDimensions::default());
        let mut records: Vec<InRecord> = (0..1_300)
            .map(|i| InRecord { seq: format!("{i:05}"), data: Ok(format!("1793491200.{:03}\t203.0.113.66\t200\td1.cloudfront.net\n", i % 1000).into_bytes()) })
            .collect();
        records.push(InRecord { seq: "99999".into(), data: Ok(b"1793491201.000\t192.0.2.1\t200\td1.cloudfront.net\n".to_vec()) });
        let mut out = crate::process::OutBatch::new();
        let agg = p.run("shard-1", &records, Some(&mut out), false, &mut Vec::new());
        assert_eq!(agg.per_distribution["d1.cloudfront.net"].records, 1_301);
        assert_eq!(out.len(), 1_301);
        for r in out.iter() {
            let doc: serde_json::Value = serde_json::from_slice(r.data).unwrap();
            let flagged = doc["_cflog"]["suspicious"].clone();
            if doc["c-ip"] == "203.0.113.66" {
                assert_eq!(flagged, serde_json::json!(["flood"]), "{doc}");
            } else {
                assert!(flagged.is_null(), "{doc}");
            }
        }
    }

    /// Records of two distributions and three windows, interleaved (so the previous
    /// record's window is sometimes the next one's, sometimes not): each window's lists
    /// hold exactly the counts of its own records, counted by hand here.
    #[test]
    fn interleaved_windows_count_their_own_records() {
        let schema = cflog_core::Schema::from_field_names(&["timestamp", "cs-uri-stem", "sc-status", "x-edge-location", "c-country"]).unwrap();
        // The layout puts the fields in real-time log order: each line is written in it.
        let names: Vec<String> = schema.names().map(str::to_string).collect();
        let mut parser = cflog_core::Parser::realtime(schema);
        let mut buf = cflog_core::RecordBuf::new();
        // (distribution, window start, uri, status, edge, country)
        let rows: [(&str, i64, &str, u16, &str, &str); 9] = [
            ("d1", 0, "/a", 200, "IAD", "US"),
            ("d1", 0, "/a", 503, "IAD", "US"),
            ("d2", 0, "/b", 404, "FRA", "DE"),
            ("d1", 0, "/c", 200, "FRA", "US"),
            ("d1", 60_000, "/a", 500, "IAD", "FR"),
            ("d2", 0, "/b", 200, "FRA", "DE"),
            ("d1", 60_000, "/a", 404, "LHR", "GB"),
            ("d1", 0, "/a", 200, "IAD", "US"),
            ("d2", 120_000, "/z?q=1", 404, "NRT", "JP"),
        ];
        let mut builder = ContextBuilder::default();
        for (dist, start, uri, status, edge, country) in rows {
            let value = |name: &str| match name {
                "timestamp" => format!("{}.000", 1_793_491_200 + start / 1000),
                "cs-uri-stem" => uri.to_string(),
                "sc-status" => status.to_string(),
                "x-edge-location" => edge.to_string(),
                _ => country.to_string(),
            };
            let line = names.iter().map(|n| value(n)).collect::<Vec<_>>().join("\t");
            let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
            builder.add(dist, start, &record);
        }
        let got = builder.finish();
        let lists = |c: &WindowContext| -> Vec<Vec<(String, u64)>> {
            c.lists.iter().map(|l| {
                let mut v: Vec<(String, u64)> = l.top(100).iter().map(|e| (String::from_utf8_lossy(e.key).into_owned(), e.count)).collect();
                v.sort();
                v
            }).collect()
        };
        let own = |v: &[(&str, u64)]| v.iter().map(|(k, n)| (k.to_string(), *n)).collect::<Vec<_>>();
        // (distribution, window start), the four lists, 404s.
        type Want<'a> = ((&'a str, i64), [Vec<(String, u64)>; 4], u64);
        let want: [Want<'_>; 4] = [
            (("d1", 0), [own(&[("/a", 3), ("/c", 1)]), own(&[("/a", 1)]), own(&[("FRA", 1), ("IAD", 3)]), own(&[("US", 4)])], 0),
            (("d1", 60_000), [own(&[("/a", 2)]), own(&[("/a", 1)]), own(&[("IAD", 1), ("LHR", 1)]), own(&[("FR", 1), ("GB", 1)])], 1),
            (("d2", 0), [own(&[("/b", 2)]), own(&[]), own(&[("FRA", 2)]), own(&[("DE", 2)])], 1),
            (("d2", 120_000), [own(&[("/z", 1)]), own(&[]), own(&[("NRT", 1)]), own(&[("JP", 1)])], 1),
        ];
        assert_eq!(got.len(), want.len());
        for ((dist, start), lists_want, status_404) in want {
            let c = &got[&(dist.to_string(), start)];
            assert_eq!(lists(c), lists_want.to_vec(), "{dist} {start}");
            assert_eq!(c.status_404(), status_404, "{dist} {start}");
        }
    }

    /// The builder as it was before distributions were found by comparing names (one
    /// hash map by name, each holding its windows): the oracle of the test below.
    #[derive(Default)]
    struct HashedBuilder {
        per: HashMap<String, BTreeMap<i64, WindowContext>>,
    }

    impl HashedBuilder {
        fn add(&mut self, dist: &str, window_start: i64, record: &Record<'_>) {
            self.per.entry(dist.to_string()).or_default().entry(window_start).or_insert_with(WindowContext::new).count(record);
        }
    }

    /// Every entry of every list (key, count, error, sums) in `top` order, and the 404s.
    type Seen = (Vec<Vec<(Vec<u8>, u64, u64, u64, u64)>>, u64);

    fn seen(c: &WindowContext) -> Seen {
        let lists = c.lists.iter().map(|l| l.top(usize::MAX).iter().map(|e| (e.key.to_vec(), e.count, e.error, e.bytes, e.status_5xx)).collect()).collect();
        (lists, c.status_404)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
        /// Random batches over up to 20 distributions (so the name scan, the switch to the
        /// index past `SCANNED` in mid-batch, and the index are all met), three windows,
        /// 60 paths (lists of 32 evict), statuses with 404s and 5xx, absent values: the
        /// builder tracks exactly what the hash-map builder did, entry by entry.
        #[test]
        fn builder_tracks_what_the_hash_map_builder_did(
            dists in 1usize..=20,
            rows in proptest::collection::vec((0usize..20, 0i64..3, 0usize..60, proptest::sample::select(vec![200u16, 404, 500, 503, 302]), 0usize..40, 0usize..6), 0..500),
        ) {
            let schema = cflog_core::Schema::from_field_names(&["timestamp", "cs-uri-stem", "sc-status", "x-edge-location", "c-country"]).unwrap();
            let names: Vec<String> = schema.names().map(str::to_string).collect();
            let mut parser = cflog_core::Parser::realtime(schema);
            let mut buf = cflog_core::RecordBuf::new();
            let mut builder = ContextBuilder::default();
            let mut oracle = HashedBuilder::default();
            for (d, w, uri, status, edge, country) in rows {
                // Names of one length, so only their last bytes tell them apart.
                let dist = format!("E{:012}", d % dists);
                let start = w * 60_000;
                let value = |name: &str| match name {
                    "timestamp" => format!("{}.000", 1_793_491_200 + start / 1000),
                    "cs-uri-stem" if uri >= 55 => "-".to_string(),
                    "cs-uri-stem" => format!("/p{uri}?q={}", uri % 3),
                    "sc-status" => status.to_string(),
                    "x-edge-location" if edge >= 38 => "-".to_string(),
                    "x-edge-location" => format!("E{edge}-C1"),
                    _ if country == 5 => "-".to_string(),
                    _ => ["US", "DE", "FR", "JP", "BR"][country].to_string(),
                };
                let line = names.iter().map(|n| value(n)).collect::<Vec<_>>().join("\t");
                let record = parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
                builder.add(&dist, start, &record);
                oracle.add(&dist, start, &record);
            }
            let got: Vec<((String, i64), Seen)> = builder.finish().iter().map(|(k, c)| (k.clone(), seen(c))).collect();
            let mut want: Vec<((String, i64), Seen)> =
                oracle.per.iter().flat_map(|(d, ws)| ws.iter().map(|(s, c)| ((d.clone(), *s), seen(c)))).collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn attributes_round_trip() {
        assert_eq!(parse_attribute(&attribute("uri", "/a|b", None)), Some(("uri", "/a|b", None)));
        assert_eq!(parse_attribute(&attribute("ip", "2001:db8::1", Some("404"))), Some(("ip", "2001:db8::1", Some("404"))));
        assert_eq!(parse_attribute("records"), None);
        let long = "x".repeat(300);
        assert_eq!(cut(long.as_bytes()).chars().count(), MAX_KEY_BYTES + 1);
        assert_eq!(cut("é".repeat(150).as_bytes()).len(), 200 + "…".len());
    }
}
