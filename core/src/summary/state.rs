//! The compact binary state of a [`Summary`]: versioned, checksummed, and read back without
//! panicking on any input (see `fuzz/` and `decode_state`).

use alloc::string::ToString;
use alloc::vec::Vec;

use super::window::{MIN_WINDOW_START, Window};
use super::{Summary, SummaryOptions};
use crate::agg::codec::{Reader, Writer};
use crate::agg::{ClientTable, CounterMap, HyperLogLog, LatencySketch, MergeError, TopK};

/// 2 adds `fixed_windows` and the effective window width and drops `windows_dropped`;
/// 3 appends a checksum (see [`STATE_CHECKSUM_LEN`]); 4 holds top lists of version 2 (each
/// entry's bytes and 5xx); 5 adds the client capacity and each window's client tables
/// (suspicious clients). Versions 4, 3, 2 and 1 are still read (see
/// [`Summary::decode_state`]; their windows' client tables are empty, at the default capacity).
pub(super) const STATE_VERSION: u8 = 5;

/// Version 5 followed, after the client capacity, by a byte saying the summary is
/// windows-only ([`SummaryOptions::windows_only`]; its whole-run parts are encoded, empty).
/// Written only for windows-only summaries, so every full summary's state is the version
/// 5 state it always was.
pub(super) const STATE_VERSION_WINDOWS_ONLY: u8 = 6;

/// A version 3 state ends with the xxh3-64 of every byte before it (the version byte
/// included), little-endian, so a report whose state was corrupted or edited is refused
/// rather than merged into wrong numbers: the field checks alone let a third of the
/// states with one to three random bytes changed through (`every_corrupted_state_is_refused`).
/// It detects accidents and careless edits, not forgeries: whoever edits a state on
/// purpose can recompute it.
pub(super) const STATE_CHECKSUM_LEN: usize = 8;

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

impl Summary {
    /// The compact binary state (versioned, checksummed), for merging reports later.
    pub fn encode_state(&self) -> Vec<u8> {
        let mut w = Writer::new();
        let o = &self.options;
        w.write_u8(if o.windows_only { STATE_VERSION_WINDOWS_ONLY } else { STATE_VERSION });
        w.write_varint(o.window_ms);
        w.write_varint(u64::from(o.top_capacity));
        w.write_varint(u64::from(o.dimension_cap));
        w.write_varint(u64::from(o.max_windows));
        w.write_varint(u64::from(o.sampling_rate.unwrap_or(0)));
        w.write_u8(u8::from(o.fixed_windows));
        w.write_varint(u64::from(o.client_capacity));
        if o.windows_only {
            w.write_u8(1);
        }
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
        for (_, _, c) in self.breakdowns.all() {
            c.encode(&mut w);
        }
        for s in [&self.latency.time_taken, &self.latency.ttfb, &self.latency.origin_fbl, &self.latency.origin_lbl] {
            s.encode(&mut w);
        }
        for (_, _, t) in self.top.all() {
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
    /// A version 3, 4, 5 or 6 state whose checksum does not match is refused before anything else is
    /// read. Versions 2 and 1 carry no checksum and are read as before, so their
    /// corruption is caught only when it breaks the encoding's own checks.
    ///
    /// Version 1 states (schema 1 reports) are read as fixed-width-never-coarsened series
    /// when they dropped nothing, and refused when their `windows_dropped` was not 0: their
    /// series has holes that no merge can fill.
    pub fn decode_state(bytes: &[u8]) -> Result<Summary, MergeError> {
        let version = *bytes.first().ok_or(MergeError::Corrupt { what: "truncated" })?;
        let bytes = match version {
            3 | 4 | STATE_VERSION | STATE_VERSION_WINDOWS_ONLY => unseal_state(bytes)?,
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
            anonymize_ip: false,
            client_capacity: crate::suspicious::DEFAULT_CLIENT_CAPACITY,
            windows_only: false,
        };
        let mut s = Summary::new(options);
        if version >= 2 {
            s.options.fixed_windows = match r.read_u8()? {
                0 => false,
                1 => true,
                _ => return Err(MergeError::Corrupt { what: "fixed windows flag" }),
            };
            if version >= 5 {
                s.options.client_capacity = small(r.read_varint()?, "client capacity")?;
                if s.options.client_capacity == 0 || s.options.client_capacity > 1 << 24 {
                    return Err(MergeError::Corrupt { what: "client capacity" });
                }
            }
            if version == STATE_VERSION_WINDOWS_ONLY {
                s.options.windows_only = match r.read_u8()? {
                    1 => true,
                    _ => return Err(MergeError::Corrupt { what: "windows-only flag" }),
                };
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
            if version >= 5 {
                w.clients.ip = ClientTable::decode(&mut r)?;
                w.clients.asn = ClientTable::decode(&mut r)?;
                let k = s.options.client_capacity as usize;
                if w.clients.ip.capacity() != k || w.clients.asn.capacity() != k {
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

}
