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
//!
//! The module is split by concern: this file holds the model ([`Summary`], its options and
//! how a record is aggregated and merged); `window` the time series and its coarsening
//! ladder; `caches` what is remembered between records (classifications, result-type
//! outcomes); `dims` the per-dimension aggregates (breakdowns, heavy hitters, latencies) and
//! how each dimension's keys are shown; `state` the versioned, checksummed binary state;
//! `report` the JSON report.

mod caches;
mod dims;
mod report;
mod state;
mod window;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};

use crate::agg::{CounterMap, HashedKey, HyperLogLog, LatencySketch, Merge, MergeError, Sums};
use crate::error::ParseError;
use crate::field::Field;
use crate::record::Record;

pub use dims::{Breakdowns, Latencies, Tops};
pub use report::SCHEMA_VERSION;
pub(crate) use state::seal_state;
use caches::Caches;
pub use window::{Window, WindowClients, coarser_window};
use window::{LastClient, add_count, merge_window, window_start};

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
    /// Count viewer addresses in the top clients list by their /24 (IPv4) or /48 (IPv6)
    /// network ([`crate::anonymize`]); unique viewers still count exact addresses. Not
    /// part of the encoded state (a decoded summary's lists are what they were). The
    /// default is `false`. The per-window client tables (suspicious clients) count the
    /// same networks.
    pub anonymize_ip: bool,
    /// Clients (addresses, and separately ASNs) each window tracks for the
    /// suspicious-client rules (`crate::suspicious`): a client with more than
    /// `window records / client_capacity` requests is always tracked. The default is 64.
    pub client_capacity: u32,
    /// Keep only what a time series needs, for hosts that read nothing else (the Lambda):
    /// the windows (with their `time-taken` sketches and client tables), the tags, and the
    /// scalar totals (records, bytes, first/last time, status classes, cache outcomes).
    /// The whole-run aggregates (breakdowns, whole-run latency sketches, top lists,
    /// user-agent and edge-region classification, unique viewers) are not computed and stay
    /// empty. [`Summary::add`] still checks every value it checks in full, so a record is
    /// bad in one mode exactly when it is in the other. Such a summary merges only with
    /// another windows-only one, encodes as state version 6 (a full one still encodes as
    /// version 5, byte for byte as before), and its report leaves out the whole-run keys.
    /// The default is `false`.
    pub windows_only: bool,
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
            anonymize_ip: false,
            client_capacity: crate::suspicious::DEFAULT_CLIENT_CAPACITY,
            windows_only: false,
        }
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
    /// The client of the last record added (see [`LastClient`]). Not state.
    last_client: LastClient,
}

impl PartialEq for Summary {
    fn eq(&self, other: &Self) -> bool {
        // Everything but the classification cache, which is not state.
        self.encode_state() == other.encode_state()
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
    /// Checked to be UTF-8 (see [`utf8_text`]); [`Caches::outcome`] reads it.
    result_type: Option<&'a [u8]>,
    detailed: Option<&'a [u8]>,
    /// Checked to be UTF-8 (see [`utf8_text`]).
    edge: Option<&'a [u8]>,
    country: Option<&'a [u8]>,
    asn: Option<&'a [u8]>,
}

/// `field`'s text as bytes, and [`Record::text`]'s error where it fails (text that is not
/// UTF-8). A value of up to 16 bytes, which every real edge location and nearly every result
/// type is, is checked by one word test there (`cflog_simd::ascii`).
#[inline(always)]
fn utf8_text<'a>(record: &Record<'a>, field: Field) -> Result<Option<&'a [u8]>, ParseError> {
    Ok(record.text(field)?.map(str::as_bytes))
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


    /// Counts a line that was not a record.
    pub fn add_bad_line(&mut self) {
        self.bad_lines += 1;
    }

    /// The values [`Summary::add`] reads, or the first error among them; `cache` only saves
    /// work (a remembered address), it never changes the result.
    fn extract<'a>(record: &Record<'a>, cache: &mut Caches) -> Result<Extract<'a>, ParseError> {
        let client_ip_raw = record.raw(Field::ClientIp);
        Ok(Extract {
            ts: record.timestamp_ms()?,
            status: record.status()?,
            bytes_sent: record.bytes_sent()?,
            bytes_received: record.bytes_received()?,
            time_taken: record.time_taken_us()?,
            ttfb: record.time_to_first_byte_us()?,
            origin_fbl: record.seconds_us(Field::OriginFirstByteLatency)?,
            origin_lbl: record.seconds_us(Field::OriginLastByteLatency)?,
            client_ip: Self::client_ip(record, client_ip_raw, cache)?,
            client_ip_raw,
            result_type: utf8_text(record, Field::ResultType)?,
            detailed: record.raw(Field::DetailedResultType),
            edge: utf8_text(record, Field::EdgeLocation)?,
            country: record.raw(Field::Country),
            asn: record.integer(Field::Asn)?.and(record.raw(Field::Asn)),
        })
    }

    /// Checks the values [`Summary::add`] reads, counting nothing: a host that leaves a
    /// record out (a filter) still finds it bad exactly when `add` would.
    pub fn check(record: &Record<'_>) -> Result<(), ParseError> {
        Self::extract(record, &mut Caches::default()).map(|_| ())
    }

    /// `c-ip` as [`Record::client_ip`] gives it (`raw` is its text): an address longer than
    /// any dotted quad (IPv6, whose grammar costs ~560 instructions a parse) is parsed once
    /// while [`Caches::address`] remembers it, since viewers repeat. Only addresses that
    /// parsed are remembered, so the same text gives the same address or the same error.
    #[inline(always)]
    fn client_ip(record: &Record<'_>, raw: Option<&[u8]>, cache: &mut Caches) -> Result<Option<core::net::IpAddr>, ParseError> {
        let long = raw.filter(|r| r.len() > caches::DOTTED_QUAD_MAX).map(HashedKey::new);
        if let Some(raw) = long
            && let Some(ip) = cache.address(raw)
        {
            return Ok(Some(ip));
        }
        // One call of the getter, so that it stays inlined.
        let ip = record.client_ip()?;
        if let (Some(raw), Some(ip)) = (long, ip) {
            cache.remember_address(raw, ip);
        }
        Ok(ip)
    }

    /// Aggregates one record. On error (a value its field's type does not allow) nothing
    /// is counted; the caller counts the line as bad with [`Summary::add_bad_line`].
    pub fn add(&mut self, record: &Record<'_>) -> Result<(), ParseError> {
        let x = Self::extract(record, &mut self.cache)?;
        self.records += 1;
        let sent = x.bytes_sent.unwrap_or(0);
        // Byte sums saturate: two values near `u64::MAX` (valid to the grammar, forged in
        // practice) must not wrap a total to a small number, nor panic in a debug build.
        self.bytes_sent = self.bytes_sent.saturating_add(sent);
        self.bytes_received = self.bytes_received.saturating_add(x.bytes_received.unwrap_or(0));
        let class = x.status.map(status_class);
        if let Some(class) = class {
            self.status_class[class] += 1;
        }
        let (hit, miss) = x.result_type.map_or((false, false), |rt| self.cache.outcome(rt));
        if hit {
            self.cache_hits += 1;
            self.cache_hit_bytes = self.cache_hit_bytes.saturating_add(sent);
        } else if miss {
            self.cache_misses += 1;
            self.cache_miss_bytes = self.cache_miss_bytes.saturating_add(sent);
        }
        // The key the top clients list and the window's client table count the viewer by.
        let network;
        let client_key = match (x.client_ip, x.client_ip_raw) {
            (Some(ip), _) if self.options.anonymize_ip => {
                network = crate::anonymize::ip_text(crate::anonymize::truncate_ip(ip));
                Some(network.as_bytes())
            }
            (_, raw) => raw,
        }
        .map(HashedKey::new);
        let asn = x.asn.map(HashedKey::new);
        let whole_run = !self.options.windows_only;
        if whole_run {
            // What each top-list entry of this record sums.
            let sums = Sums { bytes: sent, status_5xx: u64::from(class == Some(5)) };
            self.add_whole_run(record, &x, sums, client_key, asn);
        }
        if let Some(ts) = x.ts {
            self.first_ms = Some(self.first_ms.map_or(ts, |f| f.min(ts)));
            self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
            let start = window_start(ts, self.window_ms);
            let capacity = self.options.client_capacity;
            // Records mostly arrive in time order: their window is the last one.
            let w = match self.windows.last_entry() {
                Some(e) if *e.key() == start => e.into_mut(),
                _ => self.windows.entry(start).or_insert_with(|| Window::new(capacity)),
            };
            Self::add_to_window(w, sent, class, hit, miss);
            if let Some(tt) = x.time_taken {
                if whole_run {
                    LatencySketch::add_to_both(&mut self.latency.time_taken, &mut w.time_taken, tt);
                } else {
                    w.time_taken.add(tt);
                }
            }
            if let Some(key) = client_key {
                w.clients.ip.add_hashed(key, x.status, sent);
            }
            if let Some(asn) = asn {
                w.clients.asn.add_hashed(asn, x.status, sent);
            }
            let added_window = w.records == 1;
            self.last_client.window = Some(ts);
            self.last_client.ip.set(client_key.map(|k| k.key()));
            self.last_client.asn.set(x.asn);
            if added_window {
                self.fit_windows();
            }
        } else {
            self.last_client.window = None;
        }
        Ok(())
    }

    fn add_to_window(w: &mut Window, sent: u64, class: Option<usize>, hit: bool, miss: bool) {
        w.records += 1;
        w.bytes_sent = w.bytes_sent.saturating_add(sent);
        if let Some(c) = class {
            w.status_class[c] += 1;
        }
        w.cache_hits += u64::from(hit);
        w.cache_misses += u64::from(miss);
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
        share(self.cache_hits, self.cache_misses)
    }

    /// The same ratio weighted by bytes sent.
    pub fn cache_hit_ratio_bytes(&self) -> Option<f64> {
        share(self.cache_hit_bytes, self.cache_miss_bytes)
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
        if a.windows_only != b.windows_only {
            return Err(MergeError::IncompatibleParameters { what: "windows-only and full summaries" });
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
        for (x, (_, _, y)) in self.breakdowns.all_mut().into_iter().zip(other.breakdowns.all()) {
            x.merge(y)?;
        }
        self.latency.time_taken.merge(&other.latency.time_taken)?;
        self.latency.ttfb.merge(&other.latency.ttfb)?;
        self.latency.origin_fbl.merge(&other.latency.origin_fbl)?;
        self.latency.origin_lbl.merge(&other.latency.origin_lbl)?;
        for (x, (_, _, y)) in self.top.all_mut().into_iter().zip(other.top.all()) {
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

/// `part / (part + rest)`, the sum taken in floating point: a decoded state's counts may be
/// anything (a forged `cache_hits` near `u64::MAX` overflowed the integer sum), and byte
/// sums saturate. Equal to `ratio(part, part + rest)` while the sum is below 2^53.
fn share(part: u64, rest: u64) -> Option<f64> {
    (part > 0 || rest > 0).then(|| part as f64 / (part as f64 + rest as f64))
}
