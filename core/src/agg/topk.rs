//! `TopK`: heavy hitters (top URLs, client IPs, referers) in bounded memory, with the
//! Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005) and its mergeable form
//! (Agarwal, Cormode, Huang, Phillips, Wei, Yi, *Mergeable Summaries*, 2012).
//!
//! Keys are found through a `hashbrown` table hashed with foldhash's fixed-seed hasher; an
//! increment touches only its counter. The counter to evict (the smallest count, ties to
//! the largest key) comes from a list of the counters tied at the smallest count, sorted by
//! key: counts only grow, so a counter leaves that list when it is incremented or taken
//! over (and is skipped when met), none ever joins it, and it is rebuilt by a scan when it
//! runs out. With unit increments the tied lists are long (every counter taken over lands
//! on the next list), so a scan and a sort are shared by many evictions; a binary heap here
//! cost a tenth of `cflog analyze`'s instructions in key comparisons (issue 13). Which
//! counter is evicted depends only on counts and keys, never on hashes or layout, so two
//! runs (or the CLI and the browser) make identical choices.
//!
//! Each counter also sums the bytes and the 5xx responses of the occurrences it counted
//! since its key was listed, so a list ranks by requests, bytes or 5xx ([`Rank`]).
//!
//! A caller that meets a key again (the summary's memos) can count it where it was held
//! ([`Held`]: a slot and the stamp the slot got with that key) without finding it again.

use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use hashbrown::HashTable;

use super::codec::{Reader, Writer};
use super::{HashedKey, Merge, MergeError, corrupt, hash_key};

const TAG: u8 = b'T';
/// Version 2 adds each entry's bytes and 5xx sums; version 1 (no sums) is still read.
const VERSION: u8 = 2;

/// Capacity up to which [`TopK::with_capacity`] reserves memory up front; beyond it memory
/// grows with the keys actually seen.
const PREALLOCATE: usize = 4096;

/// One monitored key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TopEntry<'a> {
    /// The key, as added.
    pub key: &'a [u8],
    /// Upper bound on the key's true frequency.
    pub count: u64,
    /// How much `count` may overestimate: the true frequency is in `[count - error, count]`.
    pub error: u64,
    /// Bytes of the occurrences counted since the key was listed: all but at most `error`
    /// of its occurrences (all of them when `error` is 0).
    pub bytes: u64,
    /// 5xx responses among the same occurrences: the true number is in
    /// `[status_5xx, status_5xx + error]`.
    pub status_5xx: u64,
}

/// What a top list ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rank {
    /// Occurrences (requests), the order the summary keeps.
    #[default]
    Requests,
    /// Bytes sent.
    Bytes,
    /// 5xx responses.
    Status5xx,
}

impl Rank {
    /// `requests`, `bytes`, `errors`.
    pub fn name(self) -> &'static str {
        match self {
            Rank::Requests => "requests",
            Rank::Bytes => "bytes",
            Rank::Status5xx => "errors",
        }
    }

    /// The rank named by [`Rank::name`].
    pub fn from_name(name: &str) -> Option<Rank> {
        [Rank::Requests, Rank::Bytes, Rank::Status5xx].into_iter().find(|r| r.name() == name)
    }
}

/// What one occurrence adds to its key's sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sums {
    /// Bytes sent.
    pub bytes: u64,
    /// 5xx responses (0 or 1 per record).
    pub status_5xx: u64,
}

#[derive(Clone)]
struct Slot {
    /// A `Vec` rather than a boxed slice so that an evicted counter's buffer is reused.
    key: Vec<u8>,
    hash: u64,
    /// Not state: issued with `key` ([`next_stamp`]) and changed whenever the slot is
    /// given another key, so a [`Held`] names this key in this slot (see [`TopK::add_at`]).
    stamp: u64,
    count: u64,
    error: u64,
    sums: Sums,
}

/// Where the next stamp comes from: one counter for every `TopK` of the process, so no two
/// slot assignments anywhere get the same stamp, and a [`Held`] taken from one `TopK`
/// never matches a slot of another (or of the same one after a merge or a decoding, which
/// rebuild every slot). A clone copies each slot's key with its stamp, so there too a
/// stamp still names the key it was issued with. Stamps start at 1: [`Held::NONE`]'s 0
/// matches no slot.
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

fn next_stamp() -> u64 {
    NEXT_STAMP.fetch_add(1, Ordering::Relaxed)
}

/// Where a key was held in a [`TopK`]: its slot and that slot's stamp at the time. Kept by
/// a caller that meets the same key again (the summary's user-agent and edge-location
/// memos), so it can count the key with [`TopK::add_at`] without finding it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Held {
    slot: usize,
    stamp: u64,
}

impl Held {
    /// Names no key: [`TopK::add_at`] always refuses it.
    pub(crate) const NONE: Held = Held { slot: 0, stamp: 0 };
}

/// A slot's content before it has a heap position (decoding, merging).
struct Cand {
    key: Vec<u8>,
    hash: u64,
    count: u64,
    error: u64,
    sums: Sums,
}

/// Approximate top-k over byte-string keys, weighted, in memory proportional to `k`.
///
/// # Guarantees
///
/// With `N` = [`total`](Self::total) and `k` = [`capacity`](Self::capacity), both after any
/// sequence of [`add`](Self::add)s and [`merge`](Merge::merge)s of summaries of equal
/// capacity:
///
/// - at most `k` keys are held;
/// - every listed key's true frequency `f` satisfies `count - error <= f <= count`;
/// - `error <= max_unlisted() <= N / k`;
/// - every key not listed has `f <= max_unlisted()`, so every key with `f > N / k` is listed;
/// - while no more than `k` distinct keys have been seen, all counts are exact (error 0).
///
/// Consequently a key whose frequency exceeds that of the `k`-th most frequent key by more
/// than `N / k` is listed above it, and [`top`](Self::top) returns the true leaders whenever
/// they are that well separated.
#[derive(Clone)]
pub struct TopK {
    capacity: usize,
    total: u64,
    /// Whether any key has ever been dropped; until then every count is exact and keys not
    /// listed have frequency 0.
    lossy: bool,
    /// Whether the sums cover what [`TopEntry`] says; false once a version 1 state (which
    /// had no sums) has been read or merged in.
    sums_known: bool,
    slots: Vec<Slot>,
    /// Not state: slots that had the smallest count, `tied_count`, sorted by key
    /// ascending (the next to evict last), while the summary is full; entries whose count
    /// has since grown are stale and skipped. Empty when not known.
    tied: Vec<usize>,
    tied_count: u64,
    /// Slot indices, found by key hash.
    index: HashTable<usize>,
}

impl TopK {
    /// A summary keeping at most `k` keys (`k = 0` is taken as 1). Memory is about `k` times
    /// (key length + about 80 bytes).
    pub fn with_capacity(k: usize) -> Self {
        let capacity = k.max(1);
        let reserve = capacity.min(PREALLOCATE);
        Self {
            capacity,
            total: 0,
            lossy: false,
            sums_known: true,
            slots: Vec::with_capacity(reserve),
            tied: Vec::new(),
            tied_count: 0,
            index: HashTable::with_capacity(reserve),
        }
    }

    /// The most keys held, `k`.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing has been added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Sum of every `n` added, exact.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Whether each entry's `bytes` and `status_5xx` hold what [`TopEntry`] says: false for
    /// a summary read from, or merged with, a state written before they were kept.
    pub fn sums_known(&self) -> bool {
        self.sums_known
    }

    /// Upper bound on the true frequency of any key not listed: 0 until a key has been
    /// dropped, then the smallest count held (at most `total / k`).
    pub fn max_unlisted(&self) -> u64 {
        if self.lossy { self.slots.iter().map(|s| s.count).min().unwrap_or(0) } else { 0 }
    }

    fn find(&self, key: &[u8], hash: u64) -> Option<usize> {
        self.index.find(hash, |&i| self.slots[i].key == key).copied()
    }

    /// The entry for `key`, if it is held.
    pub fn get(&self, key: &[u8]) -> Option<TopEntry<'_>> {
        self.find(key, hash_key(key)).map(|i| self.entry(i))
    }

    fn entry(&self, i: usize) -> TopEntry<'_> {
        let s = &self.slots[i];
        TopEntry { key: &s.key, count: s.count, error: s.error, bytes: s.sums.bytes, status_5xx: s.sums.status_5xx }
    }

    /// Records `n` occurrences of `key`. Adding 0 changes nothing.
    pub fn add(&mut self, key: &[u8], n: u64) {
        self.add_with(key, n, Sums::default());
    }

    /// Records `n` occurrences of `key` that together sent `sums.bytes` bytes and had
    /// `sums.status_5xx` 5xx responses. Adding 0 occurrences changes nothing.
    #[inline(always)]
    pub fn add_with(&mut self, key: &[u8], n: u64, sums: Sums) {
        self.add_hashed(HashedKey::new(key), n, sums);
    }

    /// [`add_with`](Self::add_with) of a key already hashed, for a key that goes to other
    /// tables too.
    #[inline(always)]
    pub(crate) fn add_hashed(&mut self, key: HashedKey<'_>, n: u64, sums: Sums) {
        if n == 0 {
            return;
        }
        self.total = self.total.saturating_add(n);
        if let Some(i) = self.find(key.key(), key.hash()) {
            Self::count_in(&mut self.slots[i], n, sums);
            return;
        }
        self.add_new(key, n, sums);
    }

    /// [`add_hashed`](Self::add_hashed), telling where the key is held now (for
    /// [`add_at`](Self::add_at) of its next occurrences); [`Held::NONE`] when `n` is 0.
    #[inline(always)]
    pub(crate) fn add_held(&mut self, key: HashedKey<'_>, n: u64, sums: Sums) -> Held {
        if n == 0 {
            return Held::NONE;
        }
        self.total = self.total.saturating_add(n);
        let i = match self.find(key.key(), key.hash()) {
            Some(i) => {
                Self::count_in(&mut self.slots[i], n, sums);
                i
            }
            None => self.add_new(key, n, sums),
        };
        Held { slot: i, stamp: self.slots[i].stamp }
    }

    /// Records `n` occurrences of the key `held` names, as [`add_with`](Self::add_with)
    /// would, when its slot still holds it (the slot's stamp is unchanged), and says so;
    /// otherwise changes nothing and returns false. A slot's stamp changes with its key and
    /// no two slot assignments share one (see [`next_stamp`]), so a matching stamp proves
    /// the key without comparing it.
    #[inline(always)]
    pub(crate) fn add_at(&mut self, held: Held, n: u64, sums: Sums) -> bool {
        match self.slots.get_mut(held.slot) {
            Some(s) if s.stamp == held.stamp => {
                if n != 0 {
                    self.total = self.total.saturating_add(n);
                    Self::count_in(s, n, sums);
                }
                true
            }
            _ => false,
        }
    }

    /// Counts `n` more occurrences in a held slot.
    #[inline(always)]
    fn count_in(s: &mut Slot, n: u64, sums: Sums) {
        s.count = s.count.saturating_add(n);
        s.sums.bytes = s.sums.bytes.saturating_add(sums.bytes);
        s.sums.status_5xx = s.sums.status_5xx.saturating_add(sums.status_5xx);
        // A tied slot whose count grew is now stale on the list: skipped when met.
    }

    /// [`add_hashed`](Self::add_hashed) of a key that is not held: in a free slot, else in
    /// the smallest counter's. Out of line, so the inlined hit path stays small.
    /// Returns the key's slot.
    #[inline(never)]
    fn add_new(&mut self, key: HashedKey<'_>, n: u64, sums: Sums) -> usize {
        let (key, hash) = (key.key(), key.hash());
        if self.slots.len() < self.capacity {
            let i = self.slots.len();
            self.slots.push(Slot { key: key.to_vec(), hash, stamp: next_stamp(), count: n, error: 0, sums });
            self.tied.clear();
            let slots = &self.slots;
            self.index.insert_unique(hash, i, |&j| slots[j].hash);
            return i;
        }
        // Full: the new key takes over the smallest counter and inherits its count as
        // possible overestimate, which is what keeps every count an upper bound. Its sums
        // start afresh: they miss at most the inherited count's occurrences.
        let i = self.smallest();
        if let Ok(e) = self.index.find_entry(self.slots[i].hash, |&j| j == i) {
            e.remove();
        }
        let s = &mut self.slots[i];
        let m = s.count;
        s.key.clear();
        s.key.extend_from_slice(key);
        s.hash = hash;
        s.stamp = next_stamp();
        s.count = m.saturating_add(n);
        s.error = m;
        s.sums = sums;
        if s.count == m {
            // Saturated: the slot stays tied under a new key; sort again when needed.
            self.tied.clear();
        }
        let slots = &self.slots;
        self.index.insert_unique(hash, i, |&j| slots[j].hash);
        self.lossy = true;
        i
    }

    /// The `n` largest entries, by count descending then key ascending.
    pub fn top(&self, n: usize) -> Vec<TopEntry<'_>> {
        let mut out: Vec<TopEntry<'_>> = (0..self.slots.len()).map(|i| self.entry(i)).collect();
        // Keys are unique, so this order is total and the result does not depend on layout.
        out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(b.key)));
        out.truncate(n);
        out
    }

    /// The `n` largest entries by `rank`, ties by count descending then key ascending.
    /// Ranked by bytes or 5xx, the list is exact while every entry's `error` is 0 (no more
    /// distinct keys than the capacity); otherwise it ranks the listed keys (those frequent
    /// by requests) by lower bounds.
    pub fn top_by(&self, n: usize, rank: Rank) -> Vec<TopEntry<'_>> {
        let mut out = self.top(usize::MAX);
        let by = |e: &TopEntry<'_>| match rank {
            Rank::Requests => e.count,
            Rank::Bytes => e.bytes,
            Rank::Status5xx => e.status_5xx,
        };
        // Stable: equal values keep `top` order.
        out.sort_by_key(|e| core::cmp::Reverse(by(e)));
        if rank == Rank::Status5xx {
            out.retain(|e| e.status_5xx > 0);
        }
        out.truncate(n);
        out
    }

    /// The slot to evict: the smallest count, ties to the largest key (so the choice does
    /// not depend on the order slots happen to be in). Taken off the tied list. Only for a
    /// full summary.
    fn smallest(&mut self) -> usize {
        loop {
            if self.tied.is_empty() {
                let slots = &self.slots;
                let least = slots.iter().map(|s| s.count).min().unwrap_or(0);
                self.tied.extend((0..slots.len()).filter(|&i| slots[i].count == least));
                super::sort_by_key(&mut self.tied, |i| &slots[i].key);
                self.tied_count = least;
            }
            if let Some(i) = self.tied.pop()
                && self.slots[i].count == self.tied_count
            {
                return i;
            }
        }
    }

    /// Replaces the contents with `entries`, which must be in [`top`](Self::top) order
    /// (count descending, then key ascending) and hold unique keys, at most `capacity`.
    fn rebuild(&mut self, entries: Vec<Cand>) {
        self.slots.clear();
        self.index.clear();
        for Cand { key, hash, count, error, sums } in entries {
            self.slots.push(Slot { key, hash, stamp: next_stamp(), count, error, sums });
        }
        self.tied.clear();
        let slots = &self.slots;
        for (i, s) in slots.iter().enumerate() {
            self.index.insert_unique(s.hash, i, |&j| slots[j].hash);
        }
    }

    /// Appends the binary form; entries go in [`top`](Self::top) order so that equal
    /// summaries encode equally whatever their history.
    pub fn encode(&self, w: &mut Writer) {
        w.write_header(TAG, VERSION);
        w.write_varint(self.capacity as u64);
        w.write_varint(self.total);
        w.write_u8(u8::from(self.lossy) | u8::from(self.sums_known) << 1);
        w.write_varint(self.slots.len() as u64);
        for e in self.top(usize::MAX) {
            w.write_bytes(e.key);
            w.write_varint(e.count);
            w.write_varint(e.error);
            w.write_varint(e.bytes);
            w.write_varint(e.status_5xx);
        }
    }

    /// Reads what [`encode`](Self::encode) wrote, refusing state that breaks the invariants
    /// the guarantees rest on.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, MergeError> {
        let version = r.read_header_up_to(TAG, VERSION)?;
        let capacity = usize::try_from(r.read_varint()?)
            .ok()
            .filter(|&k| k > 0)
            .ok_or(corrupt("top-k capacity out of range"))?;
        let total = r.read_varint()?;
        let flags = r.read_u8()?;
        let known_flags = if version >= 2 { 0b11 } else { 0b01 };
        if flags & !known_flags != 0 {
            return Err(corrupt("top-k flag"));
        }
        let lossy = flags & 1 != 0;
        let sums_known = version >= 2 && flags & 2 != 0;
        // Each entry is at least a length byte and two varints.
        let n = r.read_len(3)?;
        if n > capacity || (lossy && n != capacity) {
            return Err(corrupt("top-k entry count disagrees with its capacity"));
        }
        let mut entries: Vec<Cand> = Vec::with_capacity(n);
        let mut sum = 0u64;
        for _ in 0..n {
            let key = r.read_bytes()?;
            let count = r.read_varint()?;
            let error = r.read_varint()?;
            if count == 0 || error > count {
                return Err(corrupt("top-k count below its error"));
            }
            let sums = if version >= 2 { Sums { bytes: r.read_varint()?, status_5xx: r.read_varint()? } } else { Sums::default() };
            if sums.status_5xx > count - error {
                return Err(corrupt("top-k 5xx above its count"));
            }
            // Strictly in `top` order, which also rules out duplicate keys.
            if let Some(last) = entries.last()
                && !(count < last.count || (count == last.count && key > last.key.as_slice()))
            {
                return Err(corrupt("top-k entries out of order"));
            }
            sum = sum.checked_add(count).ok_or(corrupt("top-k counts overflow"))?;
            entries.push(Cand { key: key.to_vec(), hash: hash_key(key), count, error, sums });
        }
        if sum > total || (!lossy && sum != total) {
            return Err(corrupt("top-k counts disagree with its total"));
        }
        let mut t = Self::with_capacity(capacity.min(n));
        t.capacity = capacity;
        t.total = total;
        t.lossy = lossy;
        t.sums_known = sums_known;
        t.rebuild(entries);
        Ok(t)
    }
}

impl Merge for TopK {
    /// The mergeable Space-Saving combine: counts of keys held on both sides add; a key held
    /// on one side only is charged the other side's [`max_unlisted`](TopK::max_unlisted) in
    /// both count and error (its true frequency there is at most that); then the `k` largest
    /// are kept. Sums add; a key held on one side only keeps that side's, missing at most
    /// the charged count. The guarantees on [`TopK`] survive any sequence of such merges. Summaries of
    /// different capacity are refused, since the bounds need the same `k` on both sides.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        if self.capacity != other.capacity {
            return Err(MergeError::IncompatibleParameters { what: "top-k capacity" });
        }
        let (floor_self, floor_other) = (self.max_unlisted(), other.max_unlisted());
        let mut cand = Vec::with_capacity(self.slots.len() + other.slots.len());
        for o in &other.slots {
            if self.find(&o.key, o.hash).is_none() {
                let count = o.count.saturating_add(floor_self);
                cand.push(Cand { key: o.key.clone(), hash: o.hash, count, error: o.error.saturating_add(floor_self), sums: o.sums });
            }
        }
        for s in core::mem::take(&mut self.slots) {
            let (count, error, sums) = match other.find(&s.key, s.hash) {
                Some(j) => (other.slots[j].count, other.slots[j].error, other.slots[j].sums),
                None => (floor_other, floor_other, Sums::default()),
            };
            let sums = Sums {
                bytes: s.sums.bytes.saturating_add(sums.bytes),
                status_5xx: s.sums.status_5xx.saturating_add(sums.status_5xx),
            };
            cand.push(Cand { key: s.key, hash: s.hash, count: s.count.saturating_add(count), error: s.error.saturating_add(error), sums });
        }
        cand.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        self.lossy = self.lossy || other.lossy || cand.len() > self.capacity;
        self.sums_known = self.sums_known && other.sums_known;
        cand.truncate(self.capacity);
        self.total = self.total.saturating_add(other.total);
        self.rebuild(cand);
        Ok(())
    }
}

impl PartialEq for TopK {
    /// Equal settings, totals and entries; the internal layout, which depends on history,
    /// does not count.
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity
            && self.total == other.total
            && self.lossy == other.lossy
            && self.sums_known == other.sums_known
            && self.top(usize::MAX) == other.top(usize::MAX)
    }
}

impl Eq for TopK {}

impl fmt::Debug for TopK {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopK")
            .field("capacity", &self.capacity)
            .field("total", &self.total)
            .field("lossy", &self.lossy)
            .field("sums_known", &self.sums_known)
            .field("entries", &self.top(usize::MAX))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec;
    use proptest::prelude::*;

    use crate::agg::testing::Rng;

    type Truth = BTreeMap<Vec<u8>, u64>;

    fn truth_of(stream: &[(Vec<u8>, u64)]) -> Truth {
        let mut t = Truth::new();
        for (k, n) in stream {
            *t.entry(k.clone()).or_default() += n;
        }
        t
    }

    /// Exact top `n` in the same order `top` uses.
    fn exact_top(t: &Truth, n: usize) -> Vec<(Vec<u8>, u64)> {
        let mut v: Vec<(Vec<u8>, u64)> = t.iter().map(|(k, &c)| (k.clone(), c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    fn summary_of(k: usize, stream: &[(Vec<u8>, u64)]) -> TopK {
        let mut s = TopK::with_capacity(k);
        for (key, n) in stream {
            s.add(key, *n);
        }
        s
    }

    /// Every documented guarantee, checked against the exact counts.
    fn check_guarantees(s: &TopK, t: &Truth) -> Result<(), TestCaseError> {
        let n = t.values().sum::<u64>();
        let k = s.capacity() as u64;
        prop_assert_eq!(s.total(), n);
        prop_assert!(s.len() <= s.capacity());
        prop_assert!(s.max_unlisted() * k <= n, "floor {} above N/k", s.max_unlisted());
        for e in s.top(usize::MAX) {
            let f = t.get(e.key).copied().unwrap_or(0);
            prop_assert!(e.count - e.error <= f && f <= e.count, "{:?}: true {}", e, f);
            prop_assert!(e.error <= s.max_unlisted(), "{:?}: error above floor {}", e, s.max_unlisted());
        }
        for (key, &f) in t {
            if s.get(key).is_none() {
                prop_assert!(f <= s.max_unlisted(), "unlisted {:?} has {} > {}", key, f, s.max_unlisted());
                prop_assert!(f * k <= n);
            }
        }
        // Internal consistency: the tied list and index agree with the slots.
        let least = s.slots.iter().map(|x| x.count).min().unwrap_or(0);
        let live: Vec<usize> = s.tied.iter().copied().filter(|&i| s.slots[i].count == s.tied_count).collect();
        if !live.is_empty() {
            prop_assert_eq!(s.tied_count, least);
            prop_assert_eq!(live.len(), s.slots.iter().filter(|x| x.count == least).count());
            prop_assert!(live.windows(2).all(|w| s.slots[w[0]].key < s.slots[w[1]].key), "tied list out of order");
        }
        prop_assert_eq!(s.index.len(), s.slots.len());
        Ok(())
    }

    fn key(i: usize) -> Vec<u8> {
        alloc::format!("/path/{i}").into_bytes()
    }

    #[test]
    fn exact_while_under_capacity() {
        let stream: Vec<(Vec<u8>, u64)> = [(b"a", 3), (b"b", 1), (b"a", 2), (b"c", 7)]
            .iter()
            .map(|&(k, n)| (k.to_vec(), n))
            .collect();
        let s = summary_of(3, &stream);
        let got: Vec<(&[u8], u64, u64)> = s.top(10).iter().map(|e| (e.key, e.count, e.error)).collect();
        assert_eq!(got, [(&b"c"[..], 7, 0), (&b"a"[..], 5, 0), (&b"b"[..], 1, 0)]);
        assert_eq!(s.max_unlisted(), 0);
        assert_eq!(s.top(1).len(), 1);
        assert_eq!(s.get(b"zzz"), None);
    }

    #[test]
    fn eviction_inherits_the_minimum() {
        let mut s = TopK::with_capacity(2);
        s.add(b"a", 5);
        s.add(b"b", 2);
        s.add(b"c", 1);
        // "b" was the minimum (2): "c" takes its place with count 2 + 1 and error 2.
        assert_eq!(s.get(b"c"), Some(TopEntry { key: b"c", count: 3, error: 2, bytes: 0, status_5xx: 0 }));
        assert_eq!(s.get(b"b"), None);
        assert_eq!(s.max_unlisted(), 3);
        assert_eq!(s.total(), 8);
    }

    #[test]
    fn bounded_size() {
        let mut s = TopK::with_capacity(7);
        let mut rng = Rng(9);
        for _ in 0..10_000 {
            s.add(&key(rng.below(5_000)), 1 + rng.below(3) as u64);
            assert!(s.len() <= 7);
        }
        assert_eq!(s.len(), 7);
        assert_eq!(TopK::with_capacity(0).capacity(), 1);
    }

    #[test]
    fn zipf_top_ten_is_exact() {
        // Zipf(1.1) over 50 000 keys by inverse CDF, 300 000 draws.
        let universe = 50_000;
        let mut cdf = Vec::with_capacity(universe);
        let mut acc = 0.0;
        for r in 1..=universe {
            acc += 1.0 / libm::pow(r as f64, 1.1);
            cdf.push(acc);
        }
        let mut rng = Rng(7);
        let stream: Vec<(Vec<u8>, u64)> = (0..300_000)
            .map(|_| {
                let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * acc;
                (key(cdf.partition_point(|&c| c < u)), 1)
            })
            .collect();
        let t = truth_of(&stream);
        let s = summary_of(1000, &stream);
        let got: Vec<Vec<u8>> = s.top(10).iter().map(|e| e.key.to_vec()).collect();
        let want: Vec<Vec<u8>> = exact_top(&t, 10).into_iter().map(|(k, _)| k).collect();
        assert_eq!(got, want);
        check_guarantees(&s, &t).unwrap();
        // Split into 5 shards and merged: still the exact leaders.
        let mut merged = TopK::with_capacity(1000);
        for shard in stream.chunks(60_000) {
            merged.merge(&summary_of(1000, shard)).unwrap();
        }
        let got: Vec<Vec<u8>> = merged.top(10).iter().map(|e| e.key.to_vec()).collect();
        assert_eq!(got, want);
        check_guarantees(&merged, &t).unwrap();
    }

    #[test]
    fn capacity_mismatch_is_refused() {
        let mut a = TopK::with_capacity(4);
        a.add(b"x", 1);
        let before = a.clone();
        let err = a.merge(&TopK::with_capacity(5)).unwrap_err();
        assert_eq!(err, MergeError::IncompatibleParameters { what: "top-k capacity" });
        assert_eq!(a, before);
    }

    /// A stream of a few heavy keys with frequencies far apart, buried in light noise, in a
    /// random order.
    fn separated_stream(heavy: usize, noise: &[(u16, u8)], seed: u64) -> Vec<(Vec<u8>, u64)> {
        let mut stream = Vec::new();
        for h in 0..heavy {
            for _ in 0..(h + 1) * 40 {
                stream.push((alloc::format!("heavy{h}").into_bytes(), 10));
            }
        }
        for &(k, n) in noise {
            stream.push((alloc::format!("noise{k}").into_bytes(), u64::from(n % 4) + 1));
        }
        Rng(seed).shuffle(&mut stream);
        stream
    }

    fn merged_parts(k: usize, stream: &[(Vec<u8>, u64)], cuts: &[usize], order: &[usize]) -> TopK {
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (stream.len() + 1)).collect();
        bounds.sort_unstable();
        bounds.push(stream.len());
        let mut parts = Vec::new();
        let mut start = 0;
        for b in bounds {
            parts.push(summary_of(k, &stream[start..b]));
            start = b;
        }
        let n = parts.len();
        for (i, &o) in order.iter().enumerate() {
            parts.swap(i % n, o % n);
        }
        // Merge half as a chain and half as a tree of merged halves, so merged summaries
        // also get merged with each other.
        let mid = n / 2;
        let mut left = TopK::with_capacity(k);
        for p in &parts[..mid] {
            left.merge(p).unwrap();
        }
        let mut right = TopK::with_capacity(k);
        for p in &parts[mid..] {
            right.merge(p).unwrap();
        }
        left.merge(&right).unwrap();
        left
    }

    #[test]
    fn sums_rank_by_bytes_and_5xx() {
        let mut s = TopK::with_capacity(3);
        // (key, bytes, 5xx) per request.
        for (key, bytes, fives) in [("/a", 10, 0), ("/a", 10, 0), ("/a", 10, 1), ("/b", 5000, 0), ("/c", 1, 1), ("/c", 1, 1)] {
            s.add_with(key.as_bytes(), 1, Sums { bytes, status_5xx: fives });
        }
        let keys = |r| s.top_by(10, r).iter().map(|e| e.key).collect::<Vec<_>>();
        assert_eq!(keys(Rank::Requests), [&b"/a"[..], b"/c", b"/b"]);
        assert_eq!(keys(Rank::Bytes), [&b"/b"[..], b"/a", b"/c"]);
        // Only keys with a 5xx; ties by requests.
        assert_eq!(keys(Rank::Status5xx), [&b"/c"[..], b"/a"]);
        assert_eq!(s.get(b"/a").map(|e| (e.count, e.bytes, e.status_5xx)), Some((3, 30, 1)));
        assert_eq!(Rank::from_name("errors"), Some(Rank::Status5xx));
        assert_eq!(Rank::from_name("5xx"), None);
        // A takeover starts the sums afresh: "/d" inherits /b's count (1) as error.
        s.add_with(b"/d", 1, Sums { bytes: 7, status_5xx: 1 });
        assert_eq!(s.get(b"/d"), Some(TopEntry { key: b"/d", count: 2, error: 1, bytes: 7, status_5xx: 1 }));
    }

    #[test]
    fn version_1_states_read_without_sums() {
        // capacity 4, total 3, not lossy, 2 entries: "b" 2 (error 0), "a" 1 (error 0).
        let v1 = [TAG, 1, 4, 3, 0, 2, 1, b'b', 2, 0, 1, b'a', 1, 0];
        let old = TopK::decode(&mut Reader::new(&v1)).unwrap();
        assert!(!old.sums_known());
        assert_eq!(old.get(b"b").map(|e| (e.count, e.bytes)), Some((2, 0)));
        // Unknown sums stay unknown through merges and a round trip.
        let mut new = TopK::with_capacity(4);
        new.add_with(b"a", 1, Sums { bytes: 9, status_5xx: 0 });
        assert!(new.sums_known());
        new.merge(&old).unwrap();
        assert!(!new.sums_known());
        let mut w = Writer::new();
        new.encode(&mut w);
        assert_eq!(TopK::decode(&mut Reader::new(&w.into_bytes())).unwrap(), new);
        // A version 1 state has no flag for sums.
        let mut bad = v1;
        bad[4] = 2;
        assert!(TopK::decode(&mut Reader::new(&bad)).is_err());
    }

    /// Requests of `(key, bytes, 5xx)`, with the true sums per key.
    fn sums_truth(stream: &[(Vec<u8>, u64, bool)]) -> BTreeMap<Vec<u8>, (u64, u64, u64)> {
        let mut t = BTreeMap::new();
        for (k, b, f) in stream {
            let e: &mut (u64, u64, u64) = t.entry(k.clone()).or_default();
            *e = (e.0 + 1, e.1 + b, e.2 + u64::from(*f));
        }
        t
    }

    fn with_sums(k: usize, stream: &[(Vec<u8>, u64, bool)]) -> TopK {
        let mut s = TopK::with_capacity(k);
        for (key, bytes, f) in stream {
            s.add_with(key, 1, Sums { bytes: *bytes, status_5xx: u64::from(*f) });
        }
        s
    }

    /// Space-Saving written the obvious way: a list, and on a new key when full, the
    /// counter with the smallest count (ties: the largest key) is taken over. The oracle
    /// for the exact choices `TopK` makes (reports depend on them, byte for byte).
    fn naive_space_saving(k: usize, stream: &[(Vec<u8>, u64)]) -> Vec<(Vec<u8>, u64, u64)> {
        let mut held: Vec<(Vec<u8>, u64, u64)> = Vec::new();
        for (key, n) in stream {
            if let Some(e) = held.iter_mut().find(|e| &e.0 == key) {
                e.1 += n;
            } else if held.len() < k {
                held.push((key.clone(), *n, 0));
            } else {
                let min = (0..held.len()).min_by(|&a, &b| held[a].1.cmp(&held[b].1).then_with(|| held[b].0.cmp(&held[a].0))).unwrap();
                let m = held[min].1;
                held[min] = (key.clone(), m + n, m);
            }
        }
        held.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        held
    }

    proptest! {
        #[test]
        fn evicts_exactly_as_naive_space_saving(items in proptest::collection::vec((0u16..60, 1u64..4), 0..400), k in 1usize..20) {
            let stream: Vec<(Vec<u8>, u64)> = items.iter().map(|&(i, n)| (key(usize::from(i)), n)).collect();
            let got: Vec<(Vec<u8>, u64, u64)> = summary_of(k, &stream).top(usize::MAX).iter().map(|e| (e.key.to_vec(), e.count, e.error)).collect();
            prop_assert_eq!(got, naive_space_saving(k, &stream));
        }

        /// The same through encode/decode round trips and merges with empty summaries in
        /// the middle of the stream (each rebuilds the slots and drops the tied list), with
        /// weights that leave short tied lists and a few unit-weight keys that leave long ones.
        #[test]
        fn evicts_exactly_as_naive_space_saving_across_rebuilds(
            items in proptest::collection::vec((0u16..80, proptest::prop_oneof![Just(1u64), 1u64..9]), 0..600),
            k in 1usize..24,
            cuts in proptest::collection::vec(0usize..600, 0..4),
        ) {
            let stream: Vec<(Vec<u8>, u64)> = items.iter().map(|&(i, n)| (key(usize::from(i)), n)).collect();
            let mut s = TopK::with_capacity(k);
            for (at, (key, n)) in stream.iter().enumerate() {
                if cuts.contains(&at) {
                    if at % 2 == 0 {
                        let mut w = Writer::new();
                        s.encode(&mut w);
                        let bytes = w.into_bytes();
                        s = TopK::decode(&mut Reader::new(&bytes)).unwrap();
                    } else {
                        s.merge(&TopK::with_capacity(k)).unwrap();
                    }
                }
                s.add(key, *n);
                check_guarantees(&s, &truth_of(&stream[..=at]))?;
            }
            let got: Vec<(Vec<u8>, u64, u64)> = s.top(usize::MAX).iter().map(|e| (e.key.to_vec(), e.count, e.error)).collect();
            prop_assert_eq!(got, naive_space_saving(k, &stream));
        }
    }

    proptest! {
        /// Counting through remembered slots ([`TopK::add_at`], [`Held`], as the summary's
        /// user-agent and edge-location memos do) gives exactly what plain adds give, while
        /// slots are taken over, rebuilt by decoding and merging, cloned, and the list is
        /// replaced by another one that filled its slots in the same order with other keys
        /// (a memo may outlive the list it was filled from): a remembered slot that holds
        /// another key now must never be counted.
        #[test]
        fn remembered_slots_count_exactly_as_plain_adds(
            items in proptest::collection::vec((0u16..50, 0u64..100, any::<bool>()), 0..500),
            k in 1usize..12,
            events in proptest::collection::vec((0usize..500, 0u8..4), 0..5),
        ) {
            let mut memo: BTreeMap<Vec<u8>, Held> = BTreeMap::new();
            let (mut s, mut plain) = (TopK::with_capacity(k), TopK::with_capacity(k));
            for (at, &(i, bytes, is_5xx)) in items.iter().enumerate() {
                for &(_, what) in events.iter().filter(|(when, _)| *when == at) {
                    match what {
                        0 => {
                            let mut w = Writer::new();
                            s.encode(&mut w);
                            let b = w.into_bytes();
                            s = TopK::decode(&mut Reader::new(&b)).unwrap();
                        }
                        1 => {
                            s.merge(&TopK::with_capacity(k)).unwrap();
                            plain.merge(&TopK::with_capacity(k)).unwrap();
                        }
                        2 => s = s.clone(),
                        _ => {
                            // Another list, its slots filled in the order this one's were
                            // (from slot 0), with keys this stream never has.
                            let mut other = TopK::with_capacity(k);
                            for j in 0..k {
                                other.add(&[b'x', j as u8], 1);
                            }
                            s = other.clone();
                            plain = other;
                        }
                    }
                }
                let key = key(usize::from(i));
                let sums = Sums { bytes, status_5xx: u64::from(is_5xx) };
                plain.add_with(&key, 1, sums);
                match memo.get(&key) {
                    Some(&held) if s.add_at(held, 1, sums) => {}
                    _ => {
                        memo.insert(key.clone(), s.add_held(HashedKey::new(&key), 1, sums));
                    }
                }
                prop_assert_eq!(&s, &plain);
            }
            prop_assert!(!s.add_at(Held::NONE, 1, Sums::default()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Sums miss at most `error` occurrences: true 5xx in `[s, s + error]`, bytes at
        /// most the true bytes, and exact while there is no error; one pass or merged.
        #[test]
        fn sums_are_bounded(
            items in proptest::collection::vec((0u8..40, 0u64..1000, any::<bool>()), 0..500),
            k in 1usize..30,
            cut in any::<usize>(),
        ) {
            let stream: Vec<(Vec<u8>, u64, bool)> = items.iter().map(|&(i, b, f)| (vec![i], b, f)).collect();
            let t = sums_truth(&stream);
            let cut = cut % (stream.len() + 1);
            let mut merged = with_sums(k, &stream[..cut]);
            merged.merge(&with_sums(k, &stream[cut..])).unwrap();
            for s in [with_sums(k, &stream), merged] {
                for e in s.top(usize::MAX) {
                    let (_, bytes, fives) = t[e.key];
                    prop_assert!(e.status_5xx <= fives && fives <= e.status_5xx + e.error, "{:?}: true 5xx {}", e, fives);
                    prop_assert!(e.bytes <= bytes, "{:?}: true bytes {}", e, bytes);
                    if e.error == 0 {
                        prop_assert_eq!((e.bytes, e.status_5xx), (bytes, fives));
                    }
                }
            }
        }

        #[test]
        fn merge_finds_separated_leaders(
            noise in proptest::collection::vec((0u16..2000, any::<u8>()), 0..600),
            seed in any::<u64>(),
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            // Heavy keys weigh 400, 800, ... 2400, noise at most 2400 in all, so N <= 10 800
            // and with k = 64, N/k <= 169: below the lightest leader and below the gap
            // between leaders, so one pass and any merge must rank the six heavy keys first
            // and in order.
            let stream = separated_stream(6, &noise, seed);
            let t = truth_of(&stream);
            let one = summary_of(64, &stream);
            let merged = merged_parts(64, &stream, &cuts, &order);
            check_guarantees(&one, &t)?;
            check_guarantees(&merged, &t)?;
            let want: Vec<Vec<u8>> = exact_top(&t, 6).into_iter().map(|(k, _)| k).collect();
            let keys = |s: &TopK| s.top(6).iter().map(|e| e.key.to_vec()).collect::<Vec<_>>();
            prop_assert_eq!(keys(&one), want.clone());
            prop_assert_eq!(keys(&merged), want);
        }

        #[test]
        fn merge_keeps_guarantees(
            items in proptest::collection::vec((0u16..300, 1u64..20), 0..800),
            k in 1usize..24,
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let stream: Vec<(Vec<u8>, u64)> =
                items.iter().map(|&(i, n)| (vec![(i >> 8) as u8, i as u8], n)).collect();
            let t = truth_of(&stream);
            check_guarantees(&summary_of(k, &stream), &t)?;
            let merged = merged_parts(k, &stream, &cuts, &order);
            check_guarantees(&merged, &t)?;
            if t.len() <= k {
                prop_assert_eq!(merged, summary_of(k, &stream));
            }
        }

        #[test]
        fn encode_round_trips(items in proptest::collection::vec((0u16..300, 1u64..20), 0..300), k in 1usize..24) {
            let stream: Vec<(Vec<u8>, u64)> =
                items.iter().map(|&(i, n)| (vec![b'k'; usize::from(i % 5)], n + u64::from(i))).collect();
            let s = summary_of(k, &stream);
            let mut w = Writer::new();
            s.encode(&mut w);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            let back = TopK::decode(&mut r).unwrap();
            prop_assert!(r.finish().is_ok());
            prop_assert_eq!(&back, &s);
            // The decoded summary keeps working like the original.
            let (mut a, mut b) = (s.clone(), back);
            for (key, n) in &stream[..stream.len() / 2] {
                a.add(key, *n);
                b.add(key, *n);
            }
            prop_assert_eq!(a, b);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), k in 0u8..5, lossy in 0u8..3) {
            let mut prefixed = vec![TAG, VERSION, k, 200, 1, lossy];
            prefixed.extend_from_slice(&bytes);
            for input in [&bytes[..], &prefixed[..]] {
                if let Ok(mut s) = TopK::decode(&mut Reader::new(input)) {
                    let _ = s.top(3);
                    s.add(b"x", 1);
                    let c = s.clone();
                    let _ = s.merge(&c);
                }
            }
        }
    }
}
