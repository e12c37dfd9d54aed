//! The bundle of every aggregate for one stream of records, and the report made from it.
//!
//! Every host builds a [`Summary`] per partition of its input (a CLI thread, a Kinesis
//! shard batch, a browser worker, a file) and merges them: counters, sketches and the
//! unique-viewer estimate merge exactly, heavy hitters within their stated error.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use crate::agg::codec::{Reader, Writer, base64_decode, base64_encode};
use crate::agg::{CounterMap, HyperLogLog, LatencySketch, Merge, MergeError, TopK};
use crate::enrich::geo::edge_geo;
use crate::enrich::ua::{BrowserFamily, UaClass, classify_user_agent};
use crate::error::ParseError;
use crate::field::Field;
use crate::record::Record;

/// The report format's version; bumped on any incompatible change (see `docs/report.md`).
pub const SCHEMA_VERSION: u64 = 1;
const STATE_VERSION: u8 = 1;

/// Status classes, in report order: `000` (viewer hung up), `1xx` … `5xx`, `other`.
pub const STATUS_CLASSES: [&str; 7] = ["000", "1xx", "2xx", "3xx", "4xx", "5xx", "other"];

fn status_class(status: u16) -> usize {
    match status {
        0 => 0,
        100..=599 => usize::from(status / 100),
        _ => 6,
    }
}

/// How a [`Summary`] aggregates. Summaries merge only with equal options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryOptions {
    /// Width of a time window in milliseconds. The default is 60,000 (one minute).
    pub window_ms: u64,
    /// Entries each heavy-hitter list tracks; the error of a count is at most
    /// `records / top_capacity`. The default is 1,000.
    pub top_capacity: u32,
    /// Distinct keys each breakdown (status, method, content type, …) keeps before the
    /// rest go to its `(other)` bucket. The default is 100.
    pub dimension_cap: u32,
    /// Windows kept; records for windows beyond it are counted in `windows_dropped`.
    /// The default is 10,080 (a week of minutes).
    pub max_windows: u32,
    /// The real-time log config's sampling rate (1–100 %), to scale estimates. The
    /// default is `None` (unsampled or unknown).
    pub sampling_rate: Option<u32>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions { window_ms: 60_000, top_capacity: 1_000, dimension_cap: 100, max_windows: 10_080, sampling_rate: None }
    }
}

/// The aggregates of one time window.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Records in the window.
    pub records: u64,
    /// Bytes sent to viewers.
    pub bytes_sent: u64,
    /// Records per status class (see [`STATUS_CLASSES`]).
    pub status_class: [u64; 7],
    /// Cache hits (`Hit`, `RefreshHit`).
    pub cache_hits: u64,
    /// Cache misses (`Miss`).
    pub cache_misses: u64,
    /// `time-taken` in microseconds.
    pub time_taken: LatencySketch,
}

impl Window {
    fn new() -> Self {
        Window { records: 0, bytes_sent: 0, status_class: [0; 7], cache_hits: 0, cache_misses: 0, time_taken: LatencySketch::new() }
    }
}

impl Merge for Window {
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        self.records += other.records;
        self.bytes_sent += other.bytes_sent;
        for (a, b) in self.status_class.iter_mut().zip(other.status_class) {
            *a += b;
        }
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.time_taken.merge(&other.time_taken)
    }
}

/// Latency sketches for the four timing fields, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latencies {
    /// `time-taken`.
    pub time_taken: LatencySketch,
    /// `time-to-first-byte`.
    pub ttfb: LatencySketch,
    /// `origin-fbl`.
    pub origin_fbl: LatencySketch,
    /// `origin-lbl`.
    pub origin_lbl: LatencySketch,
}

/// Heavy hitters per dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Tops {
    /// Request paths (encoded as logged, without the query).
    pub uri: TopK,
    /// Viewer addresses.
    pub client_ip: TopK,
    /// Referers (encoded as logged).
    pub referer: TopK,
    /// User agents (encoded as logged).
    pub user_agent: TopK,
    /// Edge locations.
    pub edge_location: TopK,
    /// Viewer countries.
    pub country: TopK,
    /// Viewer autonomous systems.
    pub asn: TopK,
    /// Distributions (domain, or v2 `DistributionId`).
    pub distribution: TopK,
}

impl Tops {
    fn new(k: usize) -> Self {
        Tops {
            uri: TopK::with_capacity(k),
            client_ip: TopK::with_capacity(k),
            referer: TopK::with_capacity(k),
            user_agent: TopK::with_capacity(k),
            edge_location: TopK::with_capacity(k),
            country: TopK::with_capacity(k),
            asn: TopK::with_capacity(k),
            distribution: TopK::with_capacity(k),
        }
    }

    fn all(&self) -> [(&'static str, &TopK); 8] {
        [
            ("uri", &self.uri),
            ("client_ip", &self.client_ip),
            ("referer", &self.referer),
            ("user_agent", &self.user_agent),
            ("edge_location", &self.edge_location),
            ("country", &self.country),
            ("asn", &self.asn),
            ("distribution", &self.distribution),
        ]
    }

    fn all_mut(&mut self) -> [&mut TopK; 8] {
        [
            &mut self.uri,
            &mut self.client_ip,
            &mut self.referer,
            &mut self.user_agent,
            &mut self.edge_location,
            &mut self.country,
            &mut self.asn,
            &mut self.distribution,
        ]
    }
}

/// Exact breakdowns, each capped with an `(other)` bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Breakdowns {
    /// Per status code.
    pub status: CounterMap,
    /// `x-edge-result-type`.
    pub result_type: CounterMap,
    /// `x-edge-detailed-result-type`.
    pub detailed_result_type: CounterMap,
    /// `cs-protocol`.
    pub protocol: CounterMap,
    /// `cs-protocol-version`.
    pub http_version: CounterMap,
    /// `cs-method`.
    pub method: CounterMap,
    /// `sc-content-type` (encoded as logged).
    pub content_type: CounterMap,
    /// User-agent class: browser, bot, tool, other.
    pub user_agent_class: CounterMap,
    /// Browser family.
    pub browser: CounterMap,
    /// Edge region, from the edge location's airport.
    pub edge_region: CounterMap,
}

impl Breakdowns {
    fn new(cap: usize) -> Self {
        Breakdowns {
            status: CounterMap::with_cap(cap),
            result_type: CounterMap::with_cap(cap),
            detailed_result_type: CounterMap::with_cap(cap),
            protocol: CounterMap::with_cap(cap),
            http_version: CounterMap::with_cap(cap),
            method: CounterMap::with_cap(cap),
            content_type: CounterMap::with_cap(cap),
            user_agent_class: CounterMap::with_cap(cap),
            browser: CounterMap::with_cap(cap),
            edge_region: CounterMap::with_cap(cap),
        }
    }

    fn all(&self) -> [(&'static str, &CounterMap); 10] {
        [
            ("status", &self.status),
            ("result_type", &self.result_type),
            ("detailed_result_type", &self.detailed_result_type),
            ("protocol", &self.protocol),
            ("http_version", &self.http_version),
            ("method", &self.method),
            ("content_type", &self.content_type),
            ("user_agent_class", &self.user_agent_class),
            ("browser", &self.browser),
            ("edge_region", &self.edge_region),
        ]
    }

    fn all_mut(&mut self) -> [&mut CounterMap; 10] {
        [
            &mut self.status,
            &mut self.result_type,
            &mut self.detailed_result_type,
            &mut self.protocol,
            &mut self.http_version,
            &mut self.method,
            &mut self.content_type,
            &mut self.user_agent_class,
            &mut self.browser,
            &mut self.edge_region,
        ]
    }
}

/// Every aggregate of a stream of records. Mergeable: see the module docs.
#[derive(Debug, Clone)]
pub struct Summary {
    options: SummaryOptions,
    /// Records aggregated.
    pub records: u64,
    /// Lines that were not records (parse errors), counted by the host.
    pub bad_lines: u64,
    /// Bytes sent to viewers (`sc-bytes`).
    pub bytes_sent: u64,
    /// Bytes received from viewers (`cs-bytes`).
    pub bytes_received: u64,
    /// Earliest record time (epoch ms).
    pub first_ms: Option<i64>,
    /// Latest record time (epoch ms).
    pub last_ms: Option<i64>,
    /// Records per status class (see [`STATUS_CLASSES`]).
    pub status_class: [u64; 7],
    /// Cache hits (`Hit`, `RefreshHit`).
    pub cache_hits: u64,
    /// Cache misses (`Miss`).
    pub cache_misses: u64,
    /// Bytes sent on hits.
    pub cache_hit_bytes: u64,
    /// Bytes sent on misses.
    pub cache_miss_bytes: u64,
    /// Exact breakdowns.
    pub breakdowns: Breakdowns,
    /// Latency sketches.
    pub latency: Latencies,
    /// Heavy hitters.
    pub top: Tops,
    /// Distinct viewer addresses.
    pub unique_viewers: HyperLogLog,
    /// Per-window aggregates, by window start (epoch ms).
    pub windows: BTreeMap<i64, Window>,
    /// Records that fell in windows beyond `max_windows`.
    pub windows_dropped: u64,
    /// Enrichment tags: counts per value, per tag key.
    pub tags: BTreeMap<String, CounterMap>,
    cache: Caches,
}

impl PartialEq for Summary {
    fn eq(&self, other: &Self) -> bool {
        // Everything but the classification cache, which is not state.
        self.encode_state() == other.encode_state()
    }
}

type Memo<V> = hashbrown::HashMap<Vec<u8>, V, foldhash::fast::FixedState>;

/// User agents and edge locations repeat heavily; classifying each distinct one once keeps
/// the per-record cost flat. Not state (never merged or encoded); bounded: cleared when full.
#[derive(Debug, Clone, Default)]
struct Caches {
    user_agent: Memo<(UaClass, BrowserFamily)>,
    edge_region: Memo<&'static str>,
}

const CACHE_LIMIT: usize = 4096;

fn memo<V: Copy>(map: &mut Memo<V>, key: &[u8], compute: impl FnOnce() -> V) -> V {
    if let Some(hit) = map.get(key) {
        return *hit;
    }
    let v = compute();
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(key.to_vec(), v);
    v
}

impl Caches {
    fn classify(&mut self, raw_user_agent: &[u8]) -> (UaClass, BrowserFamily) {
        memo(&mut self.user_agent, raw_user_agent, || {
            let info = classify_user_agent(&crate::decode::decode_str(raw_user_agent, false));
            (info.class, info.family)
        })
    }

    fn region(&mut self, edge: &str) -> &'static str {
        memo(&mut self.edge_region, edge.as_bytes(), || edge_geo(edge).map_or("unknown", |a| a.region.name()))
    }
}

/// The values of one record that the summary reads, all checked before any is counted,
/// so a bad record changes nothing but `bad_lines`.
struct Extract<'a> {
    ts: Option<i64>,
    status: Option<u16>,
    bytes_sent: Option<u64>,
    bytes_received: Option<u64>,
    time_taken: Option<u64>,
    ttfb: Option<u64>,
    origin_fbl: Option<u64>,
    origin_lbl: Option<u64>,
    client_ip: Option<core::net::IpAddr>,
    client_ip_raw: Option<&'a [u8]>,
    result_type: Option<crate::ResultType<'a>>,
    detailed: Option<&'a [u8]>,
    edge: Option<&'a str>,
    country: Option<&'a [u8]>,
    asn: Option<&'a [u8]>,
}

impl Summary {
    /// An empty summary.
    pub fn new(options: SummaryOptions) -> Self {
        Summary {
            options,
            records: 0,
            bad_lines: 0,
            bytes_sent: 0,
            bytes_received: 0,
            first_ms: None,
            last_ms: None,
            status_class: [0; 7],
            cache_hits: 0,
            cache_misses: 0,
            cache_hit_bytes: 0,
            cache_miss_bytes: 0,
            breakdowns: Breakdowns::new(options.dimension_cap as usize),
            latency: Latencies {
                time_taken: LatencySketch::new(),
                ttfb: LatencySketch::new(),
                origin_fbl: LatencySketch::new(),
                origin_lbl: LatencySketch::new(),
            },
            top: Tops::new(options.top_capacity as usize),
            unique_viewers: HyperLogLog::new(),
            windows: BTreeMap::new(),
            windows_dropped: 0,
            tags: BTreeMap::new(),
            cache: Caches::default(),
        }
    }

    /// The options the summary was built with.
    pub fn options(&self) -> &SummaryOptions {
        &self.options
    }

    /// Counts a line that was not a record.
    pub fn add_bad_line(&mut self) {
        self.bad_lines += 1;
    }

    fn extract<'a>(record: &Record<'a>) -> Result<Extract<'a>, ParseError> {
        Ok(Extract {
            ts: record.timestamp_ms()?,
            status: record.status()?,
            bytes_sent: record.bytes_sent()?,
            bytes_received: record.bytes_received()?,
            time_taken: record.time_taken_us()?,
            ttfb: record.time_to_first_byte_us()?,
            origin_fbl: record.seconds_us(Field::OriginFirstByteLatency)?,
            origin_lbl: record.seconds_us(Field::OriginLastByteLatency)?,
            client_ip: record.client_ip()?,
            client_ip_raw: record.raw(Field::ClientIp),
            result_type: record.result_type()?,
            detailed: record.raw(Field::DetailedResultType),
            edge: record.text(Field::EdgeLocation)?,
            country: record.raw(Field::Country),
            asn: record.integer(Field::Asn)?.and(record.raw(Field::Asn)),
        })
    }

    /// Aggregates one record. On error (a value its field's type does not allow) nothing
    /// is counted; the caller counts the line as bad with [`Summary::add_bad_line`].
    pub fn add(&mut self, record: &Record<'_>) -> Result<(), ParseError> {
        let x = Self::extract(record)?;
        self.records += 1;
        let sent = x.bytes_sent.unwrap_or(0);
        self.bytes_sent += sent;
        self.bytes_received += x.bytes_received.unwrap_or(0);
        let class = x.status.map(status_class);
        let b = &mut self.breakdowns;
        if let (Some(status), Some(class)) = (x.status, class) {
            self.status_class[class] += 1;
            let digits = [b'0' + (status / 100 % 10) as u8, b'0' + (status / 10 % 10) as u8, b'0' + (status % 10) as u8];
            b.status.add(&digits, 1);
        }
        let (hit, miss) = match x.result_type {
            Some(rt) => (rt.is_cache_hit(), rt == crate::ResultType::Miss),
            None => (false, false),
        };
        if let Some(rt) = x.result_type {
            b.result_type.add(rt.as_str().as_bytes(), 1);
        }
        if hit {
            self.cache_hits += 1;
            self.cache_hit_bytes += sent;
        } else if miss {
            self.cache_misses += 1;
            self.cache_miss_bytes += sent;
        }
        if let Some(d) = x.detailed {
            b.detailed_result_type.add(d, 1);
        }
        for (field, counter) in [
            (Field::Protocol, &mut b.protocol),
            (Field::ProtocolVersion, &mut b.http_version),
            (Field::Method, &mut b.method),
            (Field::ContentType, &mut b.content_type),
        ] {
            if let Some(v) = record.raw(field) {
                counter.add(v, 1);
            }
        }
        if let Some(ua) = record.raw(Field::UserAgent) {
            let (class, family) = self.cache.classify(ua);
            b.user_agent_class.add(class.name().as_bytes(), 1);
            if class == UaClass::Browser {
                b.browser.add(family.name().as_bytes(), 1);
            }
            self.top.user_agent.add(ua, 1);
        }
        if let Some(edge) = x.edge {
            self.top.edge_location.add(edge.as_bytes(), 1);
            let region = self.cache.region(edge);
            b.edge_region.add(region.as_bytes(), 1);
        }
        for (v, sketch) in [
            (x.time_taken, &mut self.latency.time_taken),
            (x.ttfb, &mut self.latency.ttfb),
            (x.origin_fbl, &mut self.latency.origin_fbl),
            (x.origin_lbl, &mut self.latency.origin_lbl),
        ] {
            if let Some(v) = v {
                sketch.add(v);
            }
        }
        if let Some(path) = record.uri_path_raw() {
            self.top.uri.add(path, 1);
        }
        if let Some(ip) = x.client_ip {
            let mut octets = [0u8; 16];
            let bytes: &[u8] = match ip {
                core::net::IpAddr::V4(v4) => {
                    octets[..4].copy_from_slice(&v4.octets());
                    &octets[..4]
                }
                core::net::IpAddr::V6(v6) => {
                    octets = v6.octets();
                    &octets
                }
            };
            self.unique_viewers.add_bytes(bytes);
        }
        if let Some(raw) = x.client_ip_raw {
            self.top.client_ip.add(raw, 1);
        }
        if let Some(referer) = record.raw(Field::Referer) {
            self.top.referer.add(referer, 1);
        }
        if let Some(country) = x.country {
            self.top.country.add(country, 1);
        }
        if let Some(asn) = x.asn {
            self.top.asn.add(asn, 1);
        }
        if let Some(d) = record.raw(Field::DistributionDomain).or_else(|| record.raw(Field::DistributionId)) {
            self.top.distribution.add(d, 1);
        }
        if let Some(ts) = x.ts {
            self.first_ms = Some(self.first_ms.map_or(ts, |f| f.min(ts)));
            self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
            let start = ts - ts.rem_euclid(self.options.window_ms as i64);
            let full = self.windows.len() >= self.options.max_windows as usize;
            match self.windows.get_mut(&start) {
                Some(w) => Self::add_to_window(w, sent, class, hit, miss, x.time_taken),
                None if full => self.windows_dropped += 1,
                None => {
                    let mut w = Window::new();
                    Self::add_to_window(&mut w, sent, class, hit, miss, x.time_taken);
                    self.windows.insert(start, w);
                }
            }
        }
        Ok(())
    }

    fn add_to_window(w: &mut Window, sent: u64, class: Option<usize>, hit: bool, miss: bool, tt: Option<u64>) {
        w.records += 1;
        w.bytes_sent += sent;
        if let Some(c) = class {
            w.status_class[c] += 1;
        }
        w.cache_hits += u64::from(hit);
        w.cache_misses += u64::from(miss);
        if let Some(tt) = tt {
            w.time_taken.add(tt);
        }
    }

    /// Counts one enrichment tag (`key` = `value`) for one record.
    pub fn add_tag(&mut self, key: &str, value: &[u8]) {
        let cap = self.options.dimension_cap as usize;
        match self.tags.get_mut(key) {
            Some(c) => c.add(value, 1),
            None => {
                let mut c = CounterMap::with_cap(cap);
                c.add(value, 1);
                self.tags.insert(key.to_string(), c);
            }
        }
    }

    /// Hit ratio over cacheable outcomes: (`Hit` + `RefreshHit`) / (those + `Miss`).
    /// Errors, redirects and generated responses are neither hits nor misses.
    pub fn cache_hit_ratio(&self) -> Option<f64> {
        ratio(self.cache_hits, self.cache_hits + self.cache_misses)
    }

    /// The same ratio weighted by bytes sent.
    pub fn cache_hit_ratio_bytes(&self) -> Option<f64> {
        ratio(self.cache_hit_bytes, self.cache_hit_bytes + self.cache_miss_bytes)
    }

    /// The compact binary state (versioned), for merging reports later.
    pub fn encode_state(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.write_u8(STATE_VERSION);
        let o = &self.options;
        w.write_varint(o.window_ms);
        w.write_varint(u64::from(o.top_capacity));
        w.write_varint(u64::from(o.dimension_cap));
        w.write_varint(u64::from(o.max_windows));
        w.write_varint(u64::from(o.sampling_rate.unwrap_or(0)));
        for v in [self.records, self.bad_lines, self.bytes_sent, self.bytes_received] {
            w.write_varint(v);
        }
        for t in [self.first_ms, self.last_ms] {
            w.write_u8(u8::from(t.is_some()));
            w.write_zigzag(t.unwrap_or(0));
        }
        for v in self.status_class {
            w.write_varint(v);
        }
        for v in [self.cache_hits, self.cache_misses, self.cache_hit_bytes, self.cache_miss_bytes] {
            w.write_varint(v);
        }
        for (_, c) in self.breakdowns.all() {
            c.encode(&mut w);
        }
        for s in [&self.latency.time_taken, &self.latency.ttfb, &self.latency.origin_fbl, &self.latency.origin_lbl] {
            s.encode(&mut w);
        }
        for (_, t) in self.top.all() {
            t.encode(&mut w);
        }
        self.unique_viewers.encode(&mut w);
        w.write_varint(self.windows.len() as u64);
        for (start, win) in &self.windows {
            w.write_zigzag(*start);
            for v in [win.records, win.bytes_sent, win.cache_hits, win.cache_misses] {
                w.write_varint(v);
            }
            for v in win.status_class {
                w.write_varint(v);
            }
            win.time_taken.encode(&mut w);
        }
        w.write_varint(self.windows_dropped);
        w.write_varint(self.tags.len() as u64);
        for (k, c) in &self.tags {
            w.write_str(k);
            c.encode(&mut w);
        }
        w.into_bytes()
    }

    /// Reads a state written by [`Summary::encode_state`]. Never panics on bad input.
    pub fn decode_state(bytes: &[u8]) -> Result<Summary, MergeError> {
        let mut r = Reader::new(bytes);
        if r.read_u8()? != STATE_VERSION {
            return Err(MergeError::Corrupt { what: "summary state version" });
        }
        let small = |v: u64, what| u32::try_from(v).map_err(|_| MergeError::Corrupt { what });
        let window_ms = r.read_varint()?;
        if window_ms == 0 || window_ms > i64::MAX as u64 {
            return Err(MergeError::Corrupt { what: "window width" });
        }
        let options = SummaryOptions {
            window_ms,
            top_capacity: small(r.read_varint()?, "top capacity")?,
            dimension_cap: small(r.read_varint()?, "dimension cap")?,
            max_windows: small(r.read_varint()?, "max windows")?,
            sampling_rate: Some(small(r.read_varint()?, "sampling rate")?).filter(|&s| s != 0),
        };
        let mut s = Summary::new(options);
        s.records = r.read_varint()?;
        s.bad_lines = r.read_varint()?;
        s.bytes_sent = r.read_varint()?;
        s.bytes_received = r.read_varint()?;
        let mut times = [None, None];
        for t in &mut times {
            let present = r.read_u8()? != 0;
            let v = r.read_zigzag()?;
            *t = present.then_some(v);
        }
        [s.first_ms, s.last_ms] = times;
        for v in &mut s.status_class {
            *v = r.read_varint()?;
        }
        s.cache_hits = r.read_varint()?;
        s.cache_misses = r.read_varint()?;
        s.cache_hit_bytes = r.read_varint()?;
        s.cache_miss_bytes = r.read_varint()?;
        for c in s.breakdowns.all_mut() {
            *c = CounterMap::decode(&mut r)?;
        }
        for sk in [&mut s.latency.time_taken, &mut s.latency.ttfb, &mut s.latency.origin_fbl, &mut s.latency.origin_lbl] {
            *sk = LatencySketch::decode(&mut r)?;
        }
        for t in s.top.all_mut() {
            *t = TopK::decode(&mut r)?;
        }
        s.unique_viewers = HyperLogLog::decode(&mut r)?;
        let n = r.read_len(6)?;
        for _ in 0..n {
            let start = r.read_zigzag()?;
            let mut w = Window::new();
            w.records = r.read_varint()?;
            w.bytes_sent = r.read_varint()?;
            w.cache_hits = r.read_varint()?;
            w.cache_misses = r.read_varint()?;
            for v in &mut w.status_class {
                *v = r.read_varint()?;
            }
            w.time_taken = LatencySketch::decode(&mut r)?;
            s.windows.insert(start, w);
        }
        s.windows_dropped = r.read_varint()?;
        let n = r.read_len(2)?;
        for _ in 0..n {
            let k = r.read_str()?.to_string();
            let c = CounterMap::decode(&mut r)?;
            s.tags.insert(k, c);
        }
        r.finish()?;
        Ok(s)
    }

    /// The versioned JSON report (documented in `docs/report.md`), with the `top_n` largest
    /// entries of each heavy-hitter list and the merge state. Deterministic: the same
    /// summary gives the same bytes on every platform.
    pub fn report(&self, top_n: usize) -> Value {
        let mut m = Map::new();
        m.insert("schema_version".into(), json!(SCHEMA_VERSION));
        m.insert("records".into(), json!(self.records));
        m.insert("bad_lines".into(), json!(self.bad_lines));
        m.insert("bytes_sent".into(), json!(self.bytes_sent));
        m.insert("bytes_received".into(), json!(self.bytes_received));
        m.insert("time".into(), json!({ "first_ms": self.first_ms, "last_ms": self.last_ms }));
        let scale = self.options.sampling_rate.map_or(1.0, |r| 100.0 / f64::from(r.clamp(1, 100)));
        m.insert(
            "sampling".into(),
            json!({
                "rate": self.options.sampling_rate,
                "scale": scale,
                "estimated_records": round_to(self.records as f64 * scale, 0),
                "estimated_bytes_sent": round_to(self.bytes_sent as f64 * scale, 0),
            }),
        );
        m.insert("status_class".into(), status_classes(&self.status_class));
        let total = self.records;
        m.insert(
            "error_rate".into(),
            json!({
                "4xx": ratio(self.status_class[4], total).map(|r| round_to(r, 6)),
                "5xx": ratio(self.status_class[5], total).map(|r| round_to(r, 6)),
            }),
        );
        for (name, counter) in self.breakdowns.all() {
            m.insert(name.into(), counter_json(counter, name == "content_type"));
        }
        m.insert("cache_hit_ratio".into(), json!(self.cache_hit_ratio().map(|r| round_to(r, 6))));
        m.insert("cache_hit_ratio_bytes".into(), json!(self.cache_hit_ratio_bytes().map(|r| round_to(r, 6))));
        m.insert(
            "cache".into(),
            json!({
                "hits": self.cache_hits, "misses": self.cache_misses,
                "hit_bytes": self.cache_hit_bytes, "miss_bytes": self.cache_miss_bytes,
            }),
        );
        m.insert(
            "latency_ms".into(),
            json!({
                "time_taken": latency_json(&self.latency.time_taken),
                "ttfb": latency_json(&self.latency.ttfb),
                "origin_fbl": latency_json(&self.latency.origin_fbl),
                "origin_lbl": latency_json(&self.latency.origin_lbl),
            }),
        );
        let mut top = Map::new();
        for (name, t) in self.top.all() {
            top.insert(name.into(), top_json(name, t, top_n));
        }
        m.insert("top".into(), Value::Object(top));
        m.insert("unique_viewers".into(), json!(self.unique_viewers.estimate()));
        let windows: Vec<Value> = self
            .windows
            .iter()
            .map(|(start, w)| {
                json!({
                    "start_ms": start,
                    "records": w.records,
                    "bytes_sent": w.bytes_sent,
                    "status_class": status_classes(&w.status_class),
                    "cache_hit_ratio": ratio(w.cache_hits, w.cache_hits + w.cache_misses).map(|r| round_to(r, 6)),
                    "latency_ms": { "time_taken": {
                        "p50": quantile_ms(&w.time_taken, 0.50),
                        "p95": quantile_ms(&w.time_taken, 0.95),
                        "p99": quantile_ms(&w.time_taken, 0.99),
                    }},
                })
            })
            .collect();
        m.insert("windows".into(), Value::Array(windows));
        m.insert("windows_dropped".into(), json!(self.windows_dropped));
        let mut tags = Map::new();
        for (k, c) in &self.tags {
            tags.insert(k.clone(), counter_json(c, false));
        }
        m.insert("tags".into(), Value::Object(tags));
        m.insert(
            "options".into(),
            json!({
                "window_ms": self.options.window_ms,
                "top_capacity": self.options.top_capacity,
                "dimension_cap": self.options.dimension_cap,
                "max_windows": self.options.max_windows,
                "top_n": top_n,
            }),
        );
        m.insert("state".into(), json!(base64_encode(&self.encode_state())));
        Value::Object(m)
    }

    /// Reads the summary back from a report's `state`, and the report's `top_n`.
    pub fn from_report(report: &Value) -> Result<(Summary, usize), MergeError> {
        let state = report.get("state").and_then(Value::as_str).ok_or(MergeError::Corrupt { what: "report has no state" })?;
        let top_n = report.pointer("/options/top_n").and_then(Value::as_u64).unwrap_or(10) as usize;
        Ok((Summary::decode_state(&base64_decode(state)?)?, top_n))
    }
}

impl Merge for Summary {
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        let (a, b) = (&self.options, &other.options);
        if a.window_ms != b.window_ms {
            return Err(MergeError::IncompatibleParameters { what: "window width" });
        }
        if a.top_capacity != b.top_capacity || a.dimension_cap != b.dimension_cap || a.max_windows != b.max_windows {
            return Err(MergeError::IncompatibleParameters { what: "summary capacities" });
        }
        if a.sampling_rate != b.sampling_rate {
            return Err(MergeError::IncompatibleParameters { what: "sampling rate" });
        }
        self.records += other.records;
        self.bad_lines += other.bad_lines;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        self.first_ms = min_opt(self.first_ms, other.first_ms, i64::min);
        self.last_ms = min_opt(self.last_ms, other.last_ms, i64::max);
        for (x, y) in self.status_class.iter_mut().zip(other.status_class) {
            *x += y;
        }
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
        self.cache_hit_bytes += other.cache_hit_bytes;
        self.cache_miss_bytes += other.cache_miss_bytes;
        for (x, (_, y)) in self.breakdowns.all_mut().into_iter().zip(other.breakdowns.all()) {
            x.merge(y)?;
        }
        self.latency.time_taken.merge(&other.latency.time_taken)?;
        self.latency.ttfb.merge(&other.latency.ttfb)?;
        self.latency.origin_fbl.merge(&other.latency.origin_fbl)?;
        self.latency.origin_lbl.merge(&other.latency.origin_lbl)?;
        for (x, (_, y)) in self.top.all_mut().into_iter().zip(other.top.all()) {
            x.merge(y)?;
        }
        self.unique_viewers.merge(&other.unique_viewers)?;
        for (start, w) in &other.windows {
            let full = self.windows.len() >= self.options.max_windows as usize;
            match self.windows.get_mut(start) {
                Some(mine) => mine.merge(w)?,
                None if full => self.windows_dropped += w.records,
                None => {
                    self.windows.insert(*start, w.clone());
                }
            }
        }
        self.windows_dropped += other.windows_dropped;
        for (k, c) in &other.tags {
            match self.tags.get_mut(k) {
                Some(mine) => mine.merge(c)?,
                None => {
                    self.tags.insert(k.clone(), c.clone());
                }
            }
        }
        Ok(())
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(pick(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Rounds to `digits` decimals so reports stay short and identical across platforms.
fn round_to(v: f64, digits: i32) -> f64 {
    let p = libm::pow(10.0, f64::from(digits));
    libm::round(v * p) / p
}

fn status_classes(counts: &[u64; 7]) -> Value {
    let mut m = Map::new();
    for (name, n) in STATUS_CLASSES.iter().zip(counts) {
        m.insert((*name).into(), json!(n));
    }
    Value::Object(m)
}

fn decoded(key: &[u8], decode: bool) -> String {
    if decode {
        crate::decode::decode_str(key, false).into_owned()
    } else {
        String::from_utf8_lossy(key).into_owned()
    }
}

fn counter_json(c: &CounterMap, decode: bool) -> Value {
    let mut m = Map::new();
    for (k, n) in c.iter() {
        m.insert(decoded(k, decode), json!(n));
    }
    if c.other() > 0 {
        m.insert("(other)".into(), json!(c.other()));
    }
    Value::Object(m)
}

fn quantile_ms(s: &LatencySketch, q: f64) -> Option<f64> {
    s.quantile(q).map(|us| round_to(us as f64 / 1000.0, 3))
}

fn latency_json(s: &LatencySketch) -> Value {
    json!({
        "count": s.count(),
        "p50": quantile_ms(s, 0.50),
        "p90": quantile_ms(s, 0.90),
        "p95": quantile_ms(s, 0.95),
        "p99": quantile_ms(s, 0.99),
        "min": s.min().map(|us| round_to(us as f64 / 1000.0, 3)),
        "max": s.max().map(|us| round_to(us as f64 / 1000.0, 3)),
        "mean": s.mean().map(|us| round_to(us / 1000.0, 3)),
    })
}

fn top_json(name: &str, t: &TopK, n: usize) -> Value {
    let decode = matches!(name, "uri" | "referer" | "user_agent");
    let entries: Vec<Value> = t
        .top(n)
        .into_iter()
        .map(|e| {
            let key: Cow<'_, str> = Cow::Owned(decoded(e.key, decode));
            let mut m = Map::new();
            m.insert("key".into(), json!(key));
            m.insert("count".into(), json!(e.count));
            m.insert("error".into(), json!(e.error));
            if name == "edge_location"
                && let Some(a) = edge_geo(&key) {
                    m.insert("city".into(), json!(a.city));
                    m.insert("country".into(), json!(a.country));
                    m.insert("region".into(), json!(a.region.name()));
                }
            Value::Object(m)
        })
        .collect();
    Value::Array(entries)
}
