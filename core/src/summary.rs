//! The bundle of every aggregate for one stream of records, and the report made from it.
//!
//! Every host builds a [`Summary`] per partition of its input (a CLI thread, a Kinesis
//! shard batch, a browser worker, a file) and merges them: counters, sketches and the
//! unique-viewer estimate merge exactly, heavy hitters within their stated error.
//!
//! # Windows
//!
//! The time series keeps one [`Window`] per window that has records, starting at a
//! multiple of the window width from the epoch. When a summary would hold more than
//! [`SummaryOptions::max_windows`] windows, the width steps up [`coarser_window`]'s ladder
//! (1 m → 5 m → 15 m → 1 h → 6 h → 1 d → 2 d …) and neighbouring windows merge into the
//! wider ones; merging two summaries first brings both to the wider of their widths. Each
//! width on the ladder is a multiple of the one before, so a wider window is exactly a
//! union of narrower ones, and a summary ends at the narrowest width whose windows fit
//! under the cap *for all of its records*, whatever the order they arrived or merged in:
//! a part of the records never needs more windows than the whole at any width, so no part
//! steps past that width, and the whole cannot stop before it. Nothing is dropped.
//! [`SummaryOptions::fixed_windows`] turns this off for hosts whose window starts are keys
//! elsewhere (the Lambda's CloudWatch timestamps and DynamoDB rollups).

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::collections::btree_map::Entry;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use crate::agg::codec::{Reader, Writer, base64_decode, base64_encode};
use crate::agg::{ClientTable, CounterMap, HyperLogLog, LatencySketch, Merge, MergeError, TopK};
use crate::enrich::geo::edge_geo;
use crate::enrich::ua::{BrowserFamily, UaClass, classify_user_agent};
use crate::error::ParseError;
use crate::field::Field;
use crate::record::Record;

/// The report format's version; bumped on any incompatible change (see `docs/report.md`).
/// 2: windows coarsen instead of dropping records (`window`, no `windows_dropped`).
/// 3: a top-list entry's count bound is `overcount_max` (was `error`, read as HTTP errors).
/// 4: `suspicious_clients` (per-window client tables judged by `crate::suspicious`) and
/// `options.client_capacity`.
pub const SCHEMA_VERSION: u64 = 4;
/// 2 adds `fixed_windows` and the effective window width and drops `windows_dropped`;
/// 3 appends a checksum (see [`STATE_CHECKSUM_LEN`]); 4 adds the client capacity and each
/// window's client tables. Versions 3, 2 and 1 are still read (see [`Summary::decode_state`]).
const STATE_VERSION: u8 = 4;

/// A version 3 state ends with the xxh3-64 of every byte before it (the version byte
/// included), little-endian, so a report whose state was corrupted or edited is refused
/// rather than merged into wrong numbers: the field checks alone let a third of the
/// states with one to three random bytes changed through (`every_corrupted_state_is_refused`).
/// It detects accidents and careless edits, not forgeries: whoever edits a state on
/// purpose can recompute it.
const STATE_CHECKSUM_LEN: usize = 8;

/// `body` (a state without its checksum) followed by its checksum.
pub(crate) fn seal_state(mut body: Vec<u8>) -> Vec<u8> {
    let sum = xxhash_rust::xxh3::xxh3_64(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    body
}

/// The state without its checksum, when the checksum matches.
fn unseal_state(bytes: &[u8]) -> Result<&[u8], MergeError> {
    let body_len = (bytes.len().checked_sub(STATE_CHECKSUM_LEN))
        .ok_or(MergeError::Corrupt { what: "checksum missing (truncated state)" })?;
    let (body, sum) = bytes.split_at(body_len);
    let mut stored = [0u8; STATE_CHECKSUM_LEN];
    stored.copy_from_slice(sum);
    if u64::from_le_bytes(stored) != xxhash_rust::xxh3::xxh3_64(body) {
        return Err(MergeError::Corrupt { what: "checksum mismatch (the state was corrupted or edited)" });
    }
    Ok(body)
}

/// The widest window: starts are `i64` epoch milliseconds.
const MAX_WINDOW_MS: u64 = i64::MAX as u64;

/// The widths windows coarsen through: the periods CloudWatch offers (1, 5, 10 and 30 s,
/// 1 and 5 min, then 15 min, 1 h, 6 h, 1 d), so a coarsened series still reads naturally
/// and lines up with the Lambda's metrics. Each divides the next, and days divide whole
/// UTC days.
const LADDER_MS: [u64; 10] = [1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

/// The next wider window after `width_ms`: the smallest width of the ladder (1 s, 5 s,
/// 10 s, 30 s, 1 m, 5 m, 15 m, 1 h, 6 h, 1 d) that is a multiple of it, else twice it
/// (7 m → 14 m, 1 d → 2 d). Always a multiple of `width_ms`, so every wider window is a
/// union of whole narrower ones; `width_ms` itself once nothing wider fits in an `i64`.
pub fn coarser_window(width_ms: u64) -> u64 {
    let width_ms = width_ms.max(1);
    LADDER_MS
        .iter()
        .copied()
        .find(|&w| w > width_ms && w.is_multiple_of(width_ms))
        .unwrap_or_else(|| if width_ms <= MAX_WINDOW_MS / 2 { width_ms * 2 } else { width_ms })
}

/// The start of the `width_ms`-wide window holding `ts` (a multiple of the width).
fn window_start(ts: i64, width_ms: u64) -> i64 {
    ts - ts.rem_euclid(width_ms as i64)
}

/// Window starts below this are refused when decoding, so aligning any start to any width
/// up to [`MAX_WINDOW_MS`] stays within `i64` (record times are years 0–9999).
const MIN_WINDOW_START: i64 = -(1 << 62);

/// `60000` → `1m`, `90000` → `90s`, `86400000` → `1d`.
fn width_text(ms: u64) -> String {
    use core::fmt::Write;
    let mut out = String::new();
    let _ = match ms {
        0 => write!(out, "0ms"),
        _ if ms.is_multiple_of(86_400_000) => write!(out, "{}d", ms / 86_400_000),
        _ if ms.is_multiple_of(3_600_000) => write!(out, "{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => write!(out, "{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => write!(out, "{}s", ms / 1_000),
        _ => write!(out, "{ms}ms"),
    };
    out
}

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
    /// Windows kept (at least 1): when there would be more, windows widen (see the module
    /// docs) instead. Not enforced with `fixed_windows`. The default is 10,080 (a week of
    /// minutes).
    pub max_windows: u32,
    /// Keep every window exactly `window_ms` wide and never coarsen, for hosts whose window
    /// starts are keys elsewhere and whose batches are small (the Lambda: a batch of
    /// 10,000 records has at most 10,000 windows). Windows are then not capped: memory
    /// grows with the number of windows that have records. The default is `false`.
    pub fixed_windows: bool,
    /// The real-time log config's sampling rate (1–100 %), to scale estimates. The
    /// default is `None` (unsampled or unknown).
    pub sampling_rate: Option<u32>,
    /// Clients (addresses, and separately ASNs) each window tracks for the
    /// suspicious-client rules (`crate::suspicious`): a client with more than
    /// `window records / client_capacity` requests is always tracked. The default is 64.
    pub client_capacity: u32,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        SummaryOptions {
            window_ms: 60_000,
            top_capacity: 1_000,
            dimension_cap: 100,
            max_windows: 10_080,
            fixed_windows: false,
            sampling_rate: None,
            client_capacity: crate::suspicious::DEFAULT_CLIENT_CAPACITY,
        }
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
    /// The heaviest clients, for the suspicious-client rules.
    pub clients: WindowClients,
}

/// A window's heaviest clients, by address and by ASN.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowClients {
    /// By viewer address (`c-ip` as logged).
    pub ip: ClientTable,
    /// By autonomous system (real-time `asn`).
    pub asn: ClientTable,
}

impl Window {
    fn new(client_capacity: u32) -> Self {
        let k = client_capacity as usize;
        Window {
            records: 0,
            bytes_sent: 0,
            status_class: [0; 7],
            cache_hits: 0,
            cache_misses: 0,
            time_taken: LatencySketch::new(),
            clients: WindowClients { ip: ClientTable::with_capacity(k), asn: ClientTable::with_capacity(k) },
        }
    }
}

/// Adds a merged counter. Real counts never come near `u64::MAX`: a sum that overflows
/// comes from a forged or corrupted state, and is refused rather than wrapped (or a panic).
fn add_count(a: &mut u64, b: u64) -> Result<(), MergeError> {
    *a = a.checked_add(b).ok_or(MergeError::Corrupt { what: "counts overflow" })?;
    Ok(())
}

impl Merge for Window {
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        add_count(&mut self.records, other.records)?;
        add_count(&mut self.bytes_sent, other.bytes_sent)?;
        for (a, b) in self.status_class.iter_mut().zip(other.status_class) {
            add_count(a, b)?;
        }
        add_count(&mut self.cache_hits, other.cache_hits)?;
        add_count(&mut self.cache_misses, other.cache_misses)?;
        self.clients.ip.merge(&other.clients.ip)?;
        self.clients.asn.merge(&other.clients.asn)?;
        self.time_taken.merge(&other.time_taken)
    }
}

/// Folds `window` into the window starting at `start` (inserting it when there is none).
fn merge_window(windows: &mut BTreeMap<i64, Window>, start: i64, window: Window) -> Result<(), MergeError> {
    match windows.entry(start) {
        Entry::Occupied(mut mine) => mine.get_mut().merge(&window),
        Entry::Vacant(slot) => {
            slot.insert(window);
            Ok(())
        }
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
    /// Per-window aggregates, by window start (epoch ms, a multiple of
    /// [`Summary::window_ms`]).
    pub windows: BTreeMap<i64, Window>,
    /// The width of `windows`: `options.window_ms`, or wider once coarsened.
    window_ms: u64,
    /// Enrichment tags: counts per value, per tag key.
    pub tags: BTreeMap<String, CounterMap>,
    cache: Caches,
    /// The client of the last record added, so a threat tag added right after it is counted
    /// for that client. Not state.
    last_client: LastClient,
}

/// Where the last record added was counted: window start and keys, copied into fixed
/// buffers (no allocation per record).
#[derive(Debug, Clone, Default)]
struct LastClient {
    window: Option<i64>,
    ip: KeyBuf<48>,
    asn: KeyBuf<16>,
}

#[derive(Debug, Clone, Copy)]
struct KeyBuf<const N: usize> {
    bytes: [u8; N],
    /// 0: none (also when the key does not fit).
    len: usize,
}

impl<const N: usize> Default for KeyBuf<N> {
    fn default() -> Self {
        KeyBuf { bytes: [0; N], len: 0 }
    }
}

impl<const N: usize> KeyBuf<N> {
    fn set(&mut self, key: Option<&[u8]>) {
        self.len = 0;
        if let Some(k) = key.filter(|k| k.len() <= N) {
            self.bytes[..k.len()].copy_from_slice(k);
            self.len = k.len();
        }
    }

    fn get(&self) -> Option<&[u8]> {
        (self.len > 0).then(|| &self.bytes[..self.len])
    }
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
            window_ms: options.window_ms,
            tags: BTreeMap::new(),
            cache: Caches::default(),
            last_client: LastClient::default(),
        }
    }

    /// The options the summary was built with.
    pub fn options(&self) -> &SummaryOptions {
        &self.options
    }

    /// The width of the windows in [`Summary::windows`]: `options().window_ms` unless the
    /// series was coarsened to fit `max_windows` (see the module docs).
    pub fn window_ms(&self) -> u64 {
        self.window_ms
    }

    /// Why the windows are wider than asked, when they are: one line for reports and
    /// screens. Depends only on the options and the effective width, so it is the same
    /// for every order of records and merges.
    pub fn window_note(&self) -> Option<String> {
        let requested = self.options.window_ms;
        if self.window_ms == requested {
            return None;
        }
        // The width before the effective one had too many windows (and so did every
        // narrower width, the requested one included).
        let mut before = requested;
        loop {
            let next = coarser_window(before);
            if next >= self.window_ms || next == before {
                break;
            }
            before = next;
        }
        Some(alloc::format!(
            "window widened from {} to {}: at {} there would be more than {} windows (max_windows)",
            width_text(requested),
            width_text(self.window_ms),
            width_text(before),
            self.options.max_windows.max(1),
        ))
    }

    /// Regroups the windows at `width_ms`, a width on this summary's ladder at least as
    /// wide as the current one.
    fn coarsen_to(&mut self, width_ms: u64) {
        if width_ms == self.window_ms {
            return;
        }
        for (start, w) in core::mem::take(&mut self.windows) {
            // Window merges only add counters and sketch buckets: they cannot fail.
            let _ = merge_window(&mut self.windows, window_start(start, width_ms), w);
        }
        self.window_ms = width_ms;
    }

    /// Widens the windows step by step until they fit under `max_windows`.
    fn fit_windows(&mut self) {
        if self.options.fixed_windows {
            return;
        }
        let cap = self.options.max_windows.max(1) as usize;
        while self.windows.len() > cap {
            let next = coarser_window(self.window_ms);
            if next == self.window_ms {
                break;
            }
            self.coarsen_to(next);
        }
    }

    /// Whether `width_ms` is `options.window_ms` or a width its ladder reaches.
    fn on_ladder(&self, width_ms: u64) -> bool {
        let mut w = self.options.window_ms;
        while w < width_ms {
            let next = coarser_window(w);
            if next == w {
                break;
            }
            w = next;
        }
        w == width_ms
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
            let start = window_start(ts, self.window_ms);
            let capacity = self.options.client_capacity;
            let w = self.windows.entry(start).or_insert_with(|| Window::new(capacity));
            Self::add_to_window(w, sent, class, hit, miss, x.time_taken);
            if let Some(ip) = x.client_ip_raw {
                w.clients.ip.add(ip, x.status, sent);
            }
            if let Some(asn) = x.asn {
                w.clients.asn.add(asn, x.status, sent);
            }
            let added_window = w.records == 1;
            self.last_client.window = Some(ts);
            self.last_client.ip.set(x.client_ip_raw);
            self.last_client.asn.set(x.asn);
            if added_window {
                self.fit_windows();
            }
        } else {
            self.last_client.window = None;
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

    /// Counts one enrichment tag (`key` = `value`) for one record: the record
    /// [`add`](Self::add)ed last. A [`THREAT_TAG_KEY`](crate::suspicious::THREAT_TAG_KEY)
    /// tag also counts for that record's client (once per record).
    pub fn add_tag(&mut self, key: &str, value: &[u8]) {
        if key == crate::suspicious::THREAT_TAG_KEY
            && let Some(ts) = self.last_client.window.take()
            && let Some(w) = self.windows.get_mut(&window_start(ts, self.window_ms))
        {
            if let Some(ip) = self.last_client.ip.get() {
                w.clients.ip.add_tagged(ip);
            }
            if let Some(asn) = self.last_client.asn.get() {
                w.clients.asn.add_tagged(asn);
            }
        }
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

    /// The compact binary state (versioned, checksummed), for merging reports later.
    pub fn encode_state(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.write_u8(STATE_VERSION);
        let o = &self.options;
        w.write_varint(o.window_ms);
        w.write_varint(u64::from(o.top_capacity));
        w.write_varint(u64::from(o.dimension_cap));
        w.write_varint(u64::from(o.max_windows));
        w.write_varint(u64::from(o.sampling_rate.unwrap_or(0)));
        w.write_u8(u8::from(o.fixed_windows));
        w.write_varint(u64::from(o.client_capacity));
        w.write_varint(self.window_ms);
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
            win.clients.ip.encode(&mut w);
            win.clients.asn.encode(&mut w);
        }
        w.write_varint(self.tags.len() as u64);
        for (k, c) in &self.tags {
            w.write_str(k);
            c.encode(&mut w);
        }
        seal_state(w.into_bytes())
    }

    /// Reads a state written by [`Summary::encode_state`]. Never panics on bad input.
    ///
    /// A version 3 state whose checksum does not match is refused before anything else is
    /// read. Versions 2 and 1 carry no checksum and are read as before, so their
    /// corruption is caught only when it breaks the encoding's own checks.
    ///
    /// Version 1 states (schema 1 reports) are read as fixed-width-never-coarsened series
    /// when they dropped nothing, and refused when their `windows_dropped` was not 0: their
    /// series has holes that no merge can fill.
    pub fn decode_state(bytes: &[u8]) -> Result<Summary, MergeError> {
        let version = *bytes.first().ok_or(MergeError::Corrupt { what: "truncated" })?;
        let bytes = match version {
            3 | STATE_VERSION => unseal_state(bytes)?,
            1 | 2 => bytes,
            _ => return Err(MergeError::Corrupt { what: "summary state version" }),
        };
        let mut r = Reader::new(bytes);
        r.read_u8()?;
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
            fixed_windows: false,
            client_capacity: crate::suspicious::DEFAULT_CLIENT_CAPACITY,
        };
        let mut s = Summary::new(options);
        if version >= 2 {
            s.options.fixed_windows = match r.read_u8()? {
                0 => false,
                1 => true,
                _ => return Err(MergeError::Corrupt { what: "fixed windows flag" }),
            };
            if version >= 4 {
                s.options.client_capacity = small(r.read_varint()?, "client capacity")?;
                if s.options.client_capacity == 0 || s.options.client_capacity > 1 << 24 {
                    return Err(MergeError::Corrupt { what: "client capacity" });
                }
            }
            s.window_ms = r.read_varint()?;
            if !s.on_ladder(s.window_ms) || (s.options.fixed_windows && s.window_ms != window_ms) {
                return Err(MergeError::Corrupt { what: "effective window width" });
            }
        }
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
            if start < MIN_WINDOW_START || start.rem_euclid(s.window_ms as i64) != 0 {
                return Err(MergeError::Corrupt { what: "window start" });
            }
            let mut w = Window::new(s.options.client_capacity);
            w.records = r.read_varint()?;
            w.bytes_sent = r.read_varint()?;
            w.cache_hits = r.read_varint()?;
            w.cache_misses = r.read_varint()?;
            for v in &mut w.status_class {
                *v = r.read_varint()?;
            }
            w.time_taken = LatencySketch::decode(&mut r)?;
            if version >= 4 {
                w.clients.ip = ClientTable::decode(&mut r)?;
                w.clients.asn = ClientTable::decode(&mut r)?;
                if w.clients.ip.capacity() != s.options.client_capacity as usize || w.clients.asn.capacity() != s.options.client_capacity as usize {
                    return Err(MergeError::Corrupt { what: "client table capacity" });
                }
            }
            s.windows.insert(start, w);
        }
        if version == 1 && r.read_varint()? != 0 {
            return Err(MergeError::Unsupported {
                what: "a schema 1 report whose series dropped windows at max_windows (analyze the logs again)",
            });
        }
        let n = r.read_len(2)?;
        for _ in 0..n {
            let k = r.read_str()?.to_string();
            let c = CounterMap::decode(&mut r)?;
            s.tags.insert(k, c);
        }
        r.finish()?;
        // Encoded states already fit (and a version 1 state never held more than the cap).
        s.fit_windows();
        Ok(s)
    }

    /// The versioned JSON report (documented in `docs/report.md`), with the `top_n` largest
    /// entries of each heavy-hitter list and the merge state. Deterministic: the same
    /// summary gives the same bytes on every platform.
    pub fn report(&self, top_n: usize) -> Value {
        self.report_with(top_n, &crate::suspicious::SuspectThresholds::default())
    }

    /// [`report`](Self::report) with the suspicious-client table judged by `thresholds`.
    pub fn report_with(&self, top_n: usize, thresholds: &crate::suspicious::SuspectThresholds) -> Value {
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
        m.insert(
            "window".into(),
            json!({ "ms": self.window_ms, "requested_ms": self.options.window_ms, "note": self.window_note() }),
        );
        let mut tags = Map::new();
        for (k, c) in &self.tags {
            tags.insert(k.clone(), counter_json(c, false));
        }
        m.insert("tags".into(), Value::Object(tags));
        m.insert("suspicious_clients".into(), crate::suspicious::report_json(self, thresholds, top_n.max(100)));
        m.insert(
            "options".into(),
            json!({
                "window_ms": self.options.window_ms,
                "top_capacity": self.options.top_capacity,
                "dimension_cap": self.options.dimension_cap,
                "max_windows": self.options.max_windows,
                "fixed_windows": self.options.fixed_windows,
                "client_capacity": self.options.client_capacity,
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
        if a.top_capacity != b.top_capacity
            || a.dimension_cap != b.dimension_cap
            || a.max_windows != b.max_windows
            || a.fixed_windows != b.fixed_windows
            || a.client_capacity != b.client_capacity
        {
            return Err(MergeError::IncompatibleParameters { what: "summary capacities" });
        }
        if a.sampling_rate != b.sampling_rate {
            return Err(MergeError::IncompatibleParameters { what: "sampling rate" });
        }
        // Checked before anything changes, so a refused merge leaves `self` as it was.
        let mut counts = [self.records, self.bad_lines, self.bytes_sent, self.bytes_received, self.cache_hits, self.cache_misses, self.cache_hit_bytes, self.cache_miss_bytes];
        let theirs = [other.records, other.bad_lines, other.bytes_sent, other.bytes_received, other.cache_hits, other.cache_misses, other.cache_hit_bytes, other.cache_miss_bytes];
        for (x, y) in counts.iter_mut().zip(theirs) {
            add_count(x, y)?;
        }
        let mut status_class = self.status_class;
        for (x, y) in status_class.iter_mut().zip(other.status_class) {
            add_count(x, y)?;
        }
        [self.records, self.bad_lines, self.bytes_sent, self.bytes_received, self.cache_hits, self.cache_misses, self.cache_hit_bytes, self.cache_miss_bytes] = counts;
        self.status_class = status_class;
        self.first_ms = min_opt(self.first_ms, other.first_ms, i64::min);
        self.last_ms = min_opt(self.last_ms, other.last_ms, i64::max);
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
        // Both sides step up the same ladder from the same requested width: bring both to
        // the wider, merge, and widen further if the union needs it.
        let width = self.window_ms.max(other.window_ms);
        self.coarsen_to(width);
        for (start, w) in &other.windows {
            merge_window(&mut self.windows, window_start(*start, width), w.clone())?;
        }
        self.fit_windows();
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
            m.insert("overcount_max".into(), json!(e.error));
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

#[cfg(test)]
mod tests {
    use super::*;
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
        let mut a = one.clone();
        assert_eq!(a.merge(&huge), Err(MergeError::Corrupt { what: "counts overflow" }));
        assert_eq!(a, one, "nothing changed");
        // Through the encoding too: a sealed state (valid checksum) with such counts.
        let mut b = Summary::decode_state(&huge.encode_state()).unwrap();
        assert!(b.merge(&huge).is_err());
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
    const STATE_2_REPORT: &str = include_str!("../../tests/fixtures/reports/schema2-state2-aws-doc.json");

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
    fn the_checksum_guards_versions_3_and_4() {
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
        // The same body as version 2 is read without a checksum, as before.
        // Version 2 bodies (no checksum, no client tables) are read by
        // `version_2_states_are_still_read`; a version 4 body relabelled 2 is refused.
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
        // entry's `error` is `overcount_max`; 4 adds the suspicious clients, none here, and
        // the client capacity); the state is now version 4.
        assert_eq!(base64_decode(again["state"].as_str().unwrap()).unwrap()[0], 4);
        again["state"] = report["state"].clone();
        assert_eq!(again["suspicious_clients"]["found"], 0);
        again.as_object_mut().unwrap().remove("suspicious_clients");
        assert_eq!(again["options"].as_object_mut().unwrap().remove("client_capacity"), Some(json!(64)));
        let mut want = report.clone();
        want["schema_version"] = json!(SCHEMA_VERSION);
        for list in want["top"].as_object_mut().unwrap().values_mut() {
            for entry in list.as_array_mut().unwrap() {
                let e = entry.as_object_mut().unwrap();
                let bound = e.remove("error").unwrap();
                e.insert("overcount_max".into(), bound);
            }
        }
        assert_eq!(again, want);
    }

    /// A schema 1 report made by `cflog analyze` before windows coarsened.
    const SCHEMA_1_REPORT: &str = include_str!("../../tests/fixtures/reports/schema1-aws-doc.json");

    #[test]
    fn version_1_states_are_read_unless_they_dropped_windows() {
        let report: Value = serde_json::from_str(SCHEMA_1_REPORT).unwrap();
        let (s, _) = Summary::from_report(&report).unwrap();
        assert_eq!((s.records, s.window_ms(), s.windows.len(), s.options().fixed_windows), (4, 60_000, 2, false));
        assert_eq!(s.report(10)["windows"], report["windows"]);
        // The state ends with `windows_dropped` and the number of tag keys (none).
        let mut bytes = base64_decode(report["state"].as_str().unwrap()).unwrap();
        let n = bytes.len();
        assert_eq!((bytes[0], &bytes[n - 2..]), (1, &[0u8, 0][..]));
        bytes[n - 2] = 7;
        let err = Summary::decode_state(&bytes).unwrap_err();
        assert!(matches!(err, MergeError::Unsupported { .. }));
        assert!(err.to_string().contains("dropped windows at max_windows (analyze the logs again)"), "{err}");
    }
}
