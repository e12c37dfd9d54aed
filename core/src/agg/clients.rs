//! `ClientTable`: per-client counters (requests, 4xx, 404, bytes, threat-tagged requests) for
//! the heaviest clients of one window, in bounded memory. The suspicious-client rules
//! (`crate::suspicious`) read it.
//!
//! It is Space-Saving (see [`super::TopK`]) with a payload: at most `capacity` clients are
//! held; a new client arriving at a full table takes over the slot with the fewest requests
//! and records that count as `missed_max` (how many of its requests it may have had before
//! it was monitored). Unlike `TopK`'s counts, the payload counters are what was *observed*
//! while the client was monitored, never more: a rule judged on them can miss a client
//! (one that was evicted and came back) but can never accuse one of requests it did not
//! make, which matters when the verdict blocks an address. Eviction is a linear scan for
//! the smallest slot: tables are small (64 by default) and a scan of a few cache lines
//! costs less than keeping a heap in step with five counters. The scan's result is kept:
//! the slots tied at the smallest count, sorted by key, are evicted one after the other
//! (an evicted slot's count only grows), so a table with many one-off clients (every
//! request an eviction) scans and sorts once per round of ties instead of once per request.

use alloc::vec::Vec;

use hashbrown::HashTable;

use super::codec::{Reader, Writer};
use super::{HashedKey, Merge, MergeError, corrupt, hash_key};

const TAG: u8 = b'K';
const VERSION: u8 = 1;

/// What was observed of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCounts {
    /// Requests.
    pub requests: u64,
    /// Requests answered with a 4xx status.
    pub status_4xx: u64,
    /// Requests answered with 404.
    pub status_404: u64,
    /// Bytes sent to the client.
    pub bytes: u64,
    /// Requests an enrichment rule tagged with the threat key (see
    /// [`crate::suspicious::THREAT_TAG_KEY`]).
    pub tagged: u64,
}

impl ClientCounts {
    fn add(&mut self, o: &ClientCounts) {
        self.requests = self.requests.saturating_add(o.requests);
        self.status_4xx = self.status_4xx.saturating_add(o.status_4xx);
        self.status_404 = self.status_404.saturating_add(o.status_404);
        self.bytes = self.bytes.saturating_add(o.bytes);
        self.tagged = self.tagged.saturating_add(o.tagged);
    }
}

/// One client held by a [`ClientTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientEntry<'a> {
    /// The key (an address or an ASN, as logged; a network with `anonymize_ip`).
    pub key: &'a [u8],
    /// Counts observed while the client was held (lower bounds of the true counts).
    pub counts: ClientCounts,
    /// Requests the client may have made before it was held (0 while nothing was evicted).
    pub missed_max: u64,
}

#[derive(Debug, Clone)]
struct Slot {
    key: Vec<u8>,
    hash: u64,
    counts: ClientCounts,
    missed_max: u64,
}

impl Slot {
    /// Space-Saving's count: an upper bound of the client's requests.
    fn upper(&self) -> u64 {
        self.counts.requests.saturating_add(self.missed_max)
    }
}

/// The heaviest clients of one window with their counters; see the module docs.
#[derive(Debug, Clone)]
pub struct ClientTable {
    capacity: usize,
    slots: Vec<Slot>,
    index: HashTable<usize>,
    /// Not state: the slots whose upper bound is `tied_upper`, the smallest held, sorted by
    /// key ascending (the next to evict last), while the table is full; empty when not
    /// known. Upper bounds only grow, so a slot leaves this list when its bound grows and
    /// none ever joins it; it is recomputed when it runs out.
    tied: Vec<usize>,
    tied_upper: u64,
}

impl PartialEq for ClientTable {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity && self.entries() == other.entries()
    }
}

impl ClientTable {
    /// A table holding at most `capacity` clients (0 is taken as 1). Memory grows with the
    /// clients seen, about 100 bytes plus the key each.
    pub fn with_capacity(capacity: usize) -> Self {
        ClientTable { capacity: capacity.max(1), slots: Vec::new(), index: HashTable::new(), tied: Vec::new(), tied_upper: 0 }
    }

    /// The most clients held.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of clients held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no client is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn find(&self, key: &[u8], hash: u64) -> Option<usize> {
        self.index.find(hash, |&i| self.slots[i].key == key).copied()
    }

    /// Counts one request of `key` with its status and bytes.
    pub fn add(&mut self, key: &[u8], status: Option<u16>, bytes: u64) {
        self.add_hashed(HashedKey::new(key), status, bytes);
    }

    /// [`add`](Self::add) of a key already hashed, for a key that goes to other tables too.
    /// A client that is held (the common case: few ASNs, heavy addresses) is counted here;
    /// a new one goes to [`add_new`](Self::add_new), out of line.
    #[inline]
    pub(crate) fn add_hashed(&mut self, key: HashedKey<'_>, status: Option<u16>, bytes: u64) {
        let one = ClientCounts {
            requests: 1,
            status_4xx: u64::from(matches!(status, Some(400..=499))),
            status_404: u64::from(status == Some(404)),
            bytes,
            tagged: 0,
        };
        if let Some(i) = self.find(key.key(), key.hash()) {
            let before = self.slots[i].upper();
            self.slots[i].counts.add(&one);
            self.bound_grew(i, before);
            return;
        }
        self.add_new(key, one);
    }

    /// Counts the first request of a client that is not held: in a free slot, else in the
    /// slot of the client with the fewest requests, which it takes over.
    #[inline(never)]
    fn add_new(&mut self, key: HashedKey<'_>, one: ClientCounts) {
        let (key, hash) = (key.key(), key.hash());
        if self.slots.len() < self.capacity {
            let i = self.slots.len();
            self.slots.push(Slot { key: key.to_vec(), hash, counts: one, missed_max: 0 });
            let slots = &self.slots;
            self.index.insert_unique(hash, i, |&j| slots[j].hash);
            self.tied.clear();
            return;
        }
        let i = self.smallest();
        if let Ok(e) = self.index.find_entry(self.slots[i].hash, |&j| j == i) {
            e.remove();
        }
        let s = &mut self.slots[i];
        let before = s.upper();
        s.missed_max = before;
        s.key.clear();
        s.key.extend_from_slice(key);
        s.hash = hash;
        s.counts = one;
        if s.upper() == before {
            // Saturated: the slot stays tied under a new key; sort again when needed.
            self.tied.clear();
        } else {
            self.bound_grew(i, before);
        }
        let slots = &self.slots;
        self.index.insert_unique(hash, i, |&j| slots[j].hash);
    }

    /// Slot `i`'s upper bound was `before` and may have grown: it leaves the tied list if
    /// it was on it.
    fn bound_grew(&mut self, i: usize, before: u64) {
        if self.tied.is_empty() || before != self.tied_upper || self.slots[i].upper() == before {
            return;
        }
        if self.tied.last() == Some(&i) {
            self.tied.pop();
        } else if let Some(at) = self.tied.iter().position(|&j| j == i) {
            self.tied.remove(at);
        }
    }

    /// Counts one threat-tagged request of `key`, when `key` is held (it is right after
    /// [`add`](Self::add) counted the request).
    pub fn add_tagged(&mut self, key: &[u8]) {
        if let Some(i) = self.find(key, hash_key(key)) {
            self.slots[i].counts.tagged = self.slots[i].counts.tagged.saturating_add(1);
        }
    }

    /// The slot to evict: fewest requests (upper bound), ties to the largest key, so the
    /// choice does not depend on the order slots happen to be in. Only for a full table.
    fn smallest(&mut self) -> usize {
        if self.tied.is_empty() {
            let slots = &self.slots;
            let least = slots.iter().map(Slot::upper).min().unwrap_or(0);
            self.tied.extend((0..slots.len()).filter(|&i| slots[i].upper() == least));
            super::sort_by_key(&mut self.tied, |i| &slots[i].key);
            self.tied_upper = least;
        }
        self.tied.last().copied().unwrap_or(0)
    }

    /// The clients held, by observed requests descending then key ascending.
    pub fn entries(&self) -> Vec<ClientEntry<'_>> {
        let mut out: Vec<ClientEntry<'_>> =
            self.slots.iter().map(|s| ClientEntry { key: &s.key, counts: s.counts, missed_max: s.missed_max }).collect();
        out.sort_unstable_by(|a, b| b.counts.requests.cmp(&a.counts.requests).then_with(|| a.key.cmp(b.key)));
        out
    }

    /// The entry for `key`, if it is held.
    pub fn get(&self, key: &[u8]) -> Option<ClientEntry<'_>> {
        self.find(key, hash_key(key)).map(|i| {
            let s = &self.slots[i];
            ClientEntry { key: &s.key, counts: s.counts, missed_max: s.missed_max }
        })
    }

    /// Smallest upper bound held once the table is full (what an unlisted client may have
    /// had), else 0.
    fn floor(&self) -> u64 {
        if self.slots.len() < self.capacity { 0 } else { self.slots.iter().map(Slot::upper).min().unwrap_or(0) }
    }

    fn rebuild(&mut self, mut slots: Vec<Slot>) {
        slots.sort_unstable_by(|a, b| b.upper().cmp(&a.upper()).then_with(|| a.key.cmp(&b.key)));
        slots.truncate(self.capacity);
        self.index.clear();
        self.tied.clear();
        for (i, s) in slots.iter().enumerate() {
            self.index.insert_unique(s.hash, i, |&j| slots[j].hash);
        }
        self.slots = slots;
    }

    /// Appends the binary form (slots in key order, so equal tables encode equally).
    pub fn encode(&self, w: &mut Writer) {
        w.write_header(TAG, VERSION);
        w.write_varint(self.capacity as u64);
        let mut order: Vec<&Slot> = self.slots.iter().collect();
        order.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        w.write_varint(order.len() as u64);
        for s in order {
            w.write_bytes(&s.key);
            let c = &s.counts;
            for v in [c.requests, c.status_4xx, c.status_404, c.bytes, c.tagged, s.missed_max] {
                w.write_varint(v);
            }
        }
    }

    /// Reads what [`encode`](Self::encode) wrote. Never panics on bad input.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, MergeError> {
        r.read_header(TAG, VERSION)?;
        let capacity = usize::try_from(r.read_varint()?).map_err(|_| corrupt("client capacity"))?;
        if capacity == 0 || capacity > 1 << 24 {
            return Err(corrupt("client capacity"));
        }
        let n = r.read_len(7)?;
        if n > capacity {
            return Err(corrupt("more clients than capacity"));
        }
        let mut t = ClientTable::with_capacity(capacity);
        let mut previous: Option<Vec<u8>> = None;
        for i in 0..n {
            let key = r.read_bytes()?.to_vec();
            if previous.as_ref().is_some_and(|p| *p >= key) {
                return Err(corrupt("client keys out of order"));
            }
            let mut v = [0u64; 6];
            for x in &mut v {
                *x = r.read_varint()?;
            }
            let counts = ClientCounts { requests: v[0], status_4xx: v[1], status_404: v[2], bytes: v[3], tagged: v[4] };
            if counts.status_404 > counts.status_4xx || counts.status_4xx > counts.requests || counts.tagged > counts.requests {
                return Err(corrupt("client counts"));
            }
            let hash = hash_key(&key);
            previous = Some(key.clone());
            t.slots.push(Slot { key, hash, counts, missed_max: v[5] });
            let slots = &t.slots;
            t.index.insert_unique(hash, i, |&j| slots[j].hash);
        }
        Ok(t)
    }
}

impl Merge for ClientTable {
    /// Mergeable Space-Saving: a client held on both sides adds up; a client held on one
    /// side only may have had up to the other side's floor there, which is added to its
    /// `missed_max`; the `capacity` largest upper bounds stay. Exact while the two sides
    /// together hold no more than `capacity` clients.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        if self.capacity != other.capacity {
            return Err(MergeError::IncompatibleParameters { what: "client table capacity" });
        }
        let (mine_floor, their_floor) = (self.floor(), other.floor());
        let mut slots = core::mem::take(&mut self.slots);
        let mut seen = alloc::vec![false; other.slots.len()];
        for s in &mut slots {
            match other.find(&s.key, s.hash) {
                Some(j) => {
                    seen[j] = true;
                    s.counts.add(&other.slots[j].counts);
                    s.missed_max = s.missed_max.saturating_add(other.slots[j].missed_max);
                }
                None => s.missed_max = s.missed_max.saturating_add(their_floor),
            }
        }
        for (j, s) in other.slots.iter().enumerate() {
            if !seen[j] {
                let mut s = s.clone();
                s.missed_max = s.missed_max.saturating_add(mine_floor);
                slots.push(s);
            }
        }
        self.rebuild(slots);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn table_of(cap: usize, keys: &[(&[u8], u16)]) -> ClientTable {
        let mut t = ClientTable::with_capacity(cap);
        for (k, status) in keys {
            t.add(k, Some(*status), 10);
        }
        t
    }

    #[test]
    fn counts_are_exact_under_capacity() {
        let t = table_of(4, &[(b"a", 200), (b"a", 404), (b"b", 403), (b"a", 500)]);
        let a = t.get(b"a").unwrap();
        assert_eq!(a.counts, ClientCounts { requests: 3, status_4xx: 1, status_404: 1, bytes: 30, tagged: 0 });
        assert_eq!(a.missed_max, 0);
        assert_eq!(t.get(b"b").unwrap().counts.status_4xx, 1);
        assert_eq!(t.entries().iter().map(|e| e.key).collect::<Vec<_>>(), [&b"a"[..], b"b"]);
    }

    #[test]
    fn a_flood_survives_many_one_off_clients_and_is_never_overcounted() {
        let mut t = ClientTable::with_capacity(8);
        let mut flood = 0;
        for i in 0..10_000u32 {
            if i % 3 == 0 {
                t.add(b"10.0.0.1", Some(404), 1);
                flood += 1;
            } else {
                t.add(alloc::format!("192.0.2.{}", i % 997).as_bytes(), Some(200), 1);
            }
        }
        let e = t.get(b"10.0.0.1").unwrap();
        assert_eq!(e.counts.requests, flood, "held from its first request: exact");
        assert_eq!(e.counts.status_404, flood);
        assert_eq!(t.len(), 8);
        for e in t.entries() {
            // The one-off clients: observed counts never exceed the truth (each key occurs
            // about 10,000 / 3 * 2 / 997 ≈ 7 times).
            assert!(e.counts.requests <= if e.key == b"10.0.0.1" { flood } else { 7 });
        }
    }

    #[test]
    fn merge_adds_and_encodes_canonically() {
        let a = table_of(4, &[(b"x", 404), (b"y", 200)]);
        let b = table_of(4, &[(b"x", 200), (b"z", 404)]);
        let mut ab = a.clone();
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        assert_eq!(ab, ba);
        let one = table_of(4, &[(b"x", 404), (b"y", 200), (b"x", 200), (b"z", 404)]);
        assert_eq!(ab, one);
        let mut w = Writer::new();
        ab.encode(&mut w);
        let mut w2 = Writer::new();
        one.encode(&mut w2);
        assert_eq!(w.as_bytes(), w2.as_bytes());
        let back = ClientTable::decode(&mut Reader::new(w.as_bytes())).unwrap();
        assert_eq!(back, ab);
        assert_eq!(ClientTable::with_capacity(3).merge(&a), Err(MergeError::IncompatibleParameters { what: "client table capacity" }));
    }

    #[test]
    fn merged_full_tables_keep_bounds() {
        let a = table_of(2, &[(b"p", 200), (b"p", 200), (b"q", 200), (b"r", 200)]);
        let b = table_of(2, &[(b"p", 200), (b"s", 200), (b"s", 200)]);
        let mut m = a.clone();
        m.merge(&b).unwrap();
        assert_eq!(m.len(), 2);
        let p = m.get(b"p").unwrap();
        assert_eq!(p.counts.requests, 3, "p is exact: seen on both sides");
        assert!(m.get(b"s").is_some());
    }

    /// The table as a plain list, evicting by a full scan: fewest requests (upper bound),
    /// ties to the largest key. `(key, counts, missed_max)`.
    type Naive = Vec<(Vec<u8>, ClientCounts, u64)>;

    fn naive_add(t: &mut Naive, cap: usize, key: &[u8], status: u16, bytes: u64) {
        let one = ClientCounts {
            requests: 1,
            status_4xx: u64::from((400..=499).contains(&status)),
            status_404: u64::from(status == 404),
            bytes,
            tagged: 0,
        };
        if let Some(e) = t.iter_mut().find(|e| e.0 == key) {
            e.1.add(&one);
        } else if t.len() < cap {
            t.push((key.to_vec(), one, 0));
        } else {
            let upper = |e: &(Vec<u8>, ClientCounts, u64)| e.1.requests + e.2;
            let victim = t.iter_mut().min_by(|a, b| upper(a).cmp(&upper(b)).then_with(|| b.0.cmp(&a.0))).unwrap();
            let m = upper(victim);
            *victim = (key.to_vec(), one, m);
        }
    }

    fn naive_entries(t: &Naive) -> Vec<(Vec<u8>, ClientCounts, u64)> {
        let mut v = t.clone();
        v.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(&b.0)));
        v
    }

    proptest::proptest! {
        /// The kept list of tied slots evicts exactly what a full scan would, through hits,
        /// evictions, tags, merges and a decode in between.
        #[test]
        fn evicts_exactly_as_a_full_scan(
            ops in proptest::collection::vec((0u8..24, 0u8..8, 0u64..50), 0..600),
            cap in 1usize..12,
        ) {
            let mut t = ClientTable::with_capacity(cap);
            let mut naive: Naive = Vec::new();
            for (i, &(k, op, bytes)) in ops.iter().enumerate() {
                let key = alloc::format!("10.0.{}.{}", k % 5, k).into_bytes();
                match op {
                    0 => {
                        // At most one tag per request, as a host tags (a decode checks it).
                        if let Some(e) = naive.iter_mut().find(|e| e.0 == key && e.1.tagged < e.1.requests) {
                            e.1.tagged += 1;
                            t.add_tagged(&key);
                        }
                    }
                    1 if i % 7 == 0 => {
                        // Merge with a small table, or a round trip through the encoding;
                        // the naive model continues from the result.
                        if bytes % 2 == 0 {
                            let other = table_of(cap, &[(&key, 404), (b"10.9.9.9", 200)]);
                            t.merge(&other).unwrap();
                        } else {
                            let mut w = Writer::new();
                            t.encode(&mut w);
                            t = ClientTable::decode(&mut Reader::new(w.as_bytes())).unwrap();
                        }
                        naive = t.entries().iter().map(|e| (e.key.to_vec(), e.counts, e.missed_max)).collect();
                    }
                    _ => {
                        let status = [200, 404, 403, 500, 301, 200, 200, 404][usize::from(op)];
                        t.add(&key, Some(status), bytes);
                        naive_add(&mut naive, cap, &key, status, bytes);
                    }
                }
                let got: Vec<_> = t.entries().iter().map(|e| (e.key.to_vec(), e.counts, e.missed_max)).collect();
                proptest::prop_assert_eq!(got, naive_entries(&naive));
            }
        }
    }

    #[test]
    fn decoding_refuses_bad_tables() {
        let t = table_of(4, &[(b"a", 404)]);
        let mut w = Writer::new();
        t.encode(&mut w);
        let good = w.into_bytes();
        for len in 0..good.len() {
            assert!(ClientTable::decode(&mut Reader::new(&good[..len])).is_err());
        }
        // 404s above 4xx.
        let mut bad = good.clone();
        let at = bad.len() - 6 + 2;
        bad[at] = 5;
        assert!(ClientTable::decode(&mut Reader::new(&bad)).is_err());
        let _ = vec![0u8];
    }
}
