//! The time series: one [`Window`] per window that has records, and the ladder of widths
//! windows coarsen through when a summary would hold more than `max_windows` (see the
//! parent module's docs).

use alloc::collections::BTreeMap;
use alloc::collections::btree_map::Entry;
use alloc::string::String;

use super::Summary;
use crate::agg::{ClientTable, LatencySketch, Merge, MergeError};

/// The widest window: starts are `i64` epoch milliseconds.
pub(super) const MAX_WINDOW_MS: u64 = i64::MAX as u64;

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
pub(super) fn window_start(ts: i64, width_ms: u64) -> i64 {
    ts - ts.rem_euclid(width_ms as i64)
}

/// Window starts below this are refused when decoding, so aligning any start to any width
/// up to [`MAX_WINDOW_MS`] stays within `i64` (record times are years 0–9999).
pub(super) const MIN_WINDOW_START: i64 = -(1 << 62);

/// `60000` → `1m`, `90000` → `90s`, `86400000` → `1d`.
pub(super) fn width_text(ms: u64) -> String {
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
    /// By viewer address (`c-ip` as logged, or its network with `anonymize_ip`).
    pub ip: ClientTable,
    /// By autonomous system (real-time `asn`).
    pub asn: ClientTable,
}

impl Window {
    pub(super) fn new(client_capacity: u32) -> Self {
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

/// Where the last record added was counted: window start and keys, copied into fixed
/// buffers (no allocation per record), so a threat tag added right after it is counted
/// for that client. Not state.
#[derive(Debug, Clone, Default)]
pub(super) struct LastClient {
    pub(super) window: Option<i64>,
    pub(super) ip: KeyBuf<48>,
    pub(super) asn: KeyBuf<16>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct KeyBuf<const N: usize> {
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
    pub(super) fn set(&mut self, key: Option<&[u8]>) {
        self.len = 0;
        if let Some(k) = key.filter(|k| k.len() <= N) {
            self.bytes[..k.len()].copy_from_slice(k);
            self.len = k.len();
        }
    }

    pub(super) fn get(&self) -> Option<&[u8]> {
        (self.len > 0).then(|| &self.bytes[..self.len])
    }
}

/// Adds a merged counter. Real counts never come near `u64::MAX`: a sum that overflows
/// comes from a forged or corrupted state, and is refused rather than wrapped (or a panic).
pub(super) fn add_count(a: &mut u64, b: u64) -> Result<(), MergeError> {
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
pub(super) fn merge_window(windows: &mut BTreeMap<i64, Window>, start: i64, window: Window) -> Result<(), MergeError> {
    match windows.entry(start) {
        Entry::Occupied(mut mine) => mine.get_mut().merge(&window),
        Entry::Vacant(slot) => {
            slot.insert(window);
            Ok(())
        }
    }
}

impl Summary {
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
    pub(super) fn coarsen_to(&mut self, width_ms: u64) {
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
    pub(super) fn fit_windows(&mut self) {
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
    pub(super) fn on_ladder(&self, width_ms: u64) -> bool {
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

}
