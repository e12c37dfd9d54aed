//! `CounterMap`: exact counts per key for dimensions with few values (status codes, edge
//! locations, result types), with a hard cap so that a dimension with unexpectedly many
//! values cannot grow a report without bound.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hashbrown::HashTable;

use super::codec::{Reader, Writer};
use super::{Merge, MergeError, corrupt, hash_key};

/// One held key. Counting happens once or more per record, reading in key order only at
/// report time: a hash table (fixed seed, so nothing depends on the run) with sorting on
/// the way out is several times cheaper per add than an ordered map.
#[derive(Debug, Clone)]
struct Entry {
    key: Box<[u8]>,
    hash: u64,
    /// [`pack`] of the key: the key itself when it is at most [`PACKED_MAX`] bytes long.
    packed: u128,
    count: u64,
}

/// Slots of a [`CounterMap`]'s position cache: a breakdown's few frequent keys rarely share one.
const SLOTS: usize = 256;

/// The slot of a key packed as `packed`, `len` bytes long: its packing and length mixed by a
/// multiply, the top 8 bits.
#[inline(always)]
fn slot(packed: u128, len: usize) -> usize {
    let mixed = (packed as u64 ^ (packed >> 64) as u64).rotate_left(29) ^ len as u64;
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
}

/// What a slot holds for position `i`: `i + 1`, or 0 (nothing) for a position it cannot hold.
fn cached(i: usize) -> u8 {
    u8::try_from(i + 1).unwrap_or(0)
}

/// Longest key [`pack`] holds whole.
pub(crate) const PACKED_MAX: usize = 16;

/// Most held keys for which an add scans `entries` instead of hashing. Breakdowns (status,
/// method, protocol, result type, user-agent class…) mostly have fewer values than this, and
/// comparing one integer per key costs less than hashing the key and probing the table;
/// content types and detailed result types have a few more than 16 values, and long ones.
const SCAN_LONG_MAX: usize = 32;

/// A key of at most [`PACKED_MAX`] bytes as one integer holding every byte of it, so that
/// keys of the same length are equal exactly when their packings are (the length itself is
/// compared apart). Fixed-size reads that may overlap, never a `memcpy` of the key's length:
/// the first and last 8 bytes, the first and last 4, or bytes 0, `n / 2` and `n - 1`.
/// A longer key gives its first and last 8 bytes: a filter only, its bytes are compared
/// when the packing matches.
pub(crate) fn pack(key: &[u8]) -> u128 {
    let n = key.len();
    let (lo, hi) = match n {
        0 => (0, 0),
        1..=3 => (u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16, 0),
        4..=7 => (u64::from(le_u32(&key[..4])), u64::from(le_u32(&key[n - 4..]))),
        _ => (le_u64(&key[..8]), le_u64(&key[n - 8..])),
    };
    u128::from(lo) | u128::from(hi) << 64
}

/// The first 4 bytes of `b` as a little-endian integer.
fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

/// The first 8 bytes of `b` as a little-endian integer.
fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

impl Entry {
    /// Whether this entry holds `key`, packed as `packed`: packing and length compared
    /// together, then the bytes when the key is over [`PACKED_MAX`] bytes (its packing only
    /// filters).
    #[inline(always)]
    fn holds(&self, key: &[u8], packed: u128) -> bool {
        (self.packed == packed) & (self.key.len() == key.len()) && (key.len() <= PACKED_MAX || *self.key == *key)
    }
}

const TAG: u8 = b'C';
const VERSION: u8 = 1;

/// Exact counter keyed by bytes, holding at most `cap` keys plus an `other` bucket.
///
/// Keys are admitted first come, first served: once `cap` distinct keys are held, counts for
/// any new key go to [`other`](Self::other). Totals are always exact; a key's count is exact
/// if it was admitted before any of its occurrences were diverted, and never too high.
///
/// There is no `Default`: a cap has to be chosen, and 0 would divert everything.
#[derive(Debug, Clone)]
pub struct CounterMap {
    cap: usize,
    /// Held keys, in the order they were admitted.
    entries: Vec<Entry>,
    /// Positions in `entries`, by key hash.
    index: HashTable<usize>,
    /// A direct-mapped cache of positions in `entries`, by [`slot`] of the key's packing and
    /// length: position + 1 of the key counted last in that slot, 0 for none. An add finds
    /// its key here with one compare that is almost always true, where comparing with the
    /// key counted last and then scanning mispredicted a branch whenever the key changed
    /// from one record to the next (~7 a record over ten breakdowns, a fifth of
    /// `cflog analyze`'s mispredicts; issue 13). Positions past 254 are not cached.
    slots: [u8; SLOTS],
    other: u64,
    total: u64,
}

impl PartialEq for CounterMap {
    /// Equal settings, totals and counts; the admission order (history) does not count.
    fn eq(&self, other: &Self) -> bool {
        self.cap == other.cap && self.other == other.other && self.total == other.total && self.iter().eq(other.iter())
    }
}

impl Eq for CounterMap {}

impl CounterMap {
    /// A counter that holds at most `cap` distinct keys.
    pub fn with_cap(cap: usize) -> Self {
        Self { cap, entries: Vec::new(), index: HashTable::new(), slots: [0; SLOTS], other: 0, total: 0 }
    }

    /// The most distinct keys held.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Adds `n` to `key`, or to `other` if `key` is new and the cap is reached. The key's
    /// slot first (its packing and length compared, and its bytes when it is over
    /// [`PACKED_MAX`] bytes long); else, out of line, [`add_uncached`](Self::add_uncached).
    /// Inlined into each caller: the call cost more than the lookup (issue 13).
    #[inline(always)]
    pub fn add(&mut self, key: &[u8], n: u64) {
        self.total = self.total.saturating_add(n);
        let packed = pack(key);
        let s = slot(packed, key.len());
        if let Some(e) = self.entries.get_mut(usize::from(self.slots[s]).wrapping_sub(1))
            && e.holds(key, packed)
        {
            e.count = e.count.saturating_add(n);
            return;
        }
        self.add_uncached(key, packed, s, n);
    }

    /// [`add`](Self::add) of a key not in its slot. While at most [`SCAN_LONG_MAX`] keys are
    /// held, packings and lengths are compared with every held key's; beyond, the hash table
    /// is probed. A key found or admitted takes the slot.
    #[inline(never)]
    fn add_uncached(&mut self, key: &[u8], packed: u128, s: usize, n: u64) {
        // The key is hashed once, and only when the table is probed or the key is new.
        let (found, hash) = if self.entries.len() <= SCAN_LONG_MAX {
            (self.entries.iter().position(|e| e.holds(key, packed)), None)
        } else {
            let hash = hash_key(key);
            (self.find(key, hash), Some(hash))
        };
        match found {
            Some(i) => {
                self.entries[i].count = self.entries[i].count.saturating_add(n);
                self.slots[s] = cached(i);
            }
            None => self.add_new(key, hash.unwrap_or_else(|| hash_key(key)), n),
        }
    }

    /// Counts a key that is not held: admitted while there is room, else to `other`.
    fn add_new(&mut self, key: &[u8], hash: u64, n: u64) {
        if self.entries.len() < self.cap {
            self.admit(key.into(), hash, n);
        } else {
            self.other = self.other.saturating_add(n);
        }
    }

    fn find(&self, key: &[u8], hash: u64) -> Option<usize> {
        self.index.find(hash, |&i| *self.entries[i].key == *key).copied()
    }

    /// Holds a key that is not held yet.
    fn admit(&mut self, key: Box<[u8]>, hash: u64, count: u64) {
        let i = self.entries.len();
        let packed = pack(&key);
        self.slots[slot(packed, key.len())] = cached(i);
        self.entries.push(Entry { key, hash, packed, count });
        let entries = &self.entries;
        self.index.insert_unique(hash, i, |&j| entries[j].hash);
    }

    /// The count of `key`, `None` if it was never admitted.
    pub fn get(&self, key: &[u8]) -> Option<u64> {
        self.find(key, hash_key(key)).map(|i| self.entries[i].count)
    }

    /// Keys and counts, in ascending byte order of the key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], u64)> + '_ {
        let mut sorted: Vec<(&[u8], u64)> = self.entries.iter().map(|e| (&*e.key, e.count)).collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
        sorted.into_iter()
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is held (there may still be counts in `other` if the cap is 0).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts that arrived for keys beyond the cap.
    pub fn other(&self) -> u64 {
        self.other
    }

    /// Every count added, held keys and `other` together.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Appends the binary form: keys in ascending order, so equal maps encode equally.
    pub fn encode(&self, w: &mut Writer) {
        w.write_header(TAG, VERSION);
        w.write_varint(self.cap as u64);
        w.write_varint(self.other);
        w.write_varint(self.entries.len() as u64);
        for (k, c) in self.iter() {
            w.write_bytes(k);
            w.write_varint(c);
        }
    }

    /// Reads what [`encode`](Self::encode) wrote. The total is recomputed, and keys must be
    /// strictly ascending and within the cap.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, MergeError> {
        r.read_header(TAG, VERSION)?;
        let cap = usize::try_from(r.read_varint()?).map_err(|_| corrupt("counter cap out of range"))?;
        let other = r.read_varint()?;
        let n = r.read_len(2)?;
        if n > cap {
            return Err(corrupt("more counter keys than the cap"));
        }
        let mut map = Self::with_cap(cap);
        let mut total = other;
        let mut prev: Option<&[u8]> = None;
        for _ in 0..n {
            let k = r.read_bytes()?;
            if prev.is_some_and(|p| p >= k) {
                return Err(corrupt("counter keys not strictly ascending"));
            }
            let c = r.read_varint()?;
            total = total.checked_add(c).ok_or(corrupt("counter total overflows"))?;
            map.admit(Box::from(k), hash_key(k), c);
            prev = Some(k);
        }
        map.other = other;
        map.total = total;
        Ok(map)
    }
}

impl Merge for CounterMap {
    /// Adds `other`'s counts. Keys already held keep their place; `other`'s new keys are
    /// admitted in ascending order while there is room under `self`'s cap, and the rest go to
    /// `other`. Totals stay exact. Never fails.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        for (k, c) in other.iter() {
            self.add(k, c);
        }
        self.other = self.other.saturating_add(other.other);
        self.total = self.total.saturating_add(other.other);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn counter_of(cap: usize, items: &[(u8, u64)]) -> CounterMap {
        let mut c = CounterMap::with_cap(cap);
        for &(k, n) in items {
            c.add(&[k], n);
        }
        c
    }

    #[test]
    fn cap_diverts_new_keys() {
        let mut c = CounterMap::with_cap(2);
        c.add(b"b", 1);
        c.add(b"a", 2);
        c.add(b"c", 5);
        c.add(b"b", 3);
        let held: Vec<(&[u8], u64)> = c.iter().collect();
        assert_eq!(held, [(&b"a"[..], 2), (&b"b"[..], 4)]);
        assert_eq!(c.other(), 5);
        assert_eq!(c.total(), 11);
        assert_eq!(c.get(b"c"), None);
    }

    #[test]
    fn merge_keeps_own_keys_then_others_in_order() {
        let mut a = CounterMap::with_cap(3);
        a.add(b"m", 1);
        a.add(b"z", 1);
        let mut b = CounterMap::with_cap(4);
        for k in [b"y", b"b", b"a", b"z"] {
            b.add(k, 10);
        }
        a.merge(&b).unwrap();
        let held: Vec<(&[u8], u64)> = a.iter().collect();
        // "a" is the smallest of b's new keys, so it takes the one free place.
        assert_eq!(held, [(&b"a"[..], 10), (&b"m"[..], 1), (&b"z"[..], 11)]);
        assert_eq!(b.other(), 0);
        assert_eq!(a.other(), 20);
        assert_eq!(a.total(), 42);
    }

    /// Long keys are scanned by a packing of their first and last 8 bytes: keys that agree
    /// there (and in length) but not in between are still counted apart, whether few keys
    /// are held (the scan) or many (the hash table).
    #[test]
    fn long_keys_that_share_their_ends_count_apart() {
        for filler in [0usize, 40] {
            let mut c = CounterMap::with_cap(100);
            for i in 0..filler {
                c.add(alloc::format!("filler-key-number-{i:03}").as_bytes(), 1);
            }
            for (k, n) in [(&b"application/Xjson"[..], 3), (b"application/Yjson", 5), (b"application/Xjson", 1), (b"0123456789abcdef-middle-0123456789abcdef", 2), (b"0123456789abcdef-MIDDLE-0123456789abcdef", 7)] {
                c.add(k, n);
            }
            assert_eq!(
                [c.get(b"application/Xjson"), c.get(b"application/Yjson"), c.get(b"0123456789abcdef-middle-0123456789abcdef"), c.get(b"0123456789abcdef-MIDDLE-0123456789abcdef")],
                [Some(4), Some(5), Some(2), Some(7)],
                "{filler} other keys held"
            );
            assert_eq!(c.len(), filler + 4);
        }
    }

    /// Keys that share a slot of the position cache, and keys past the 255 positions it
    /// holds, are counted as a plain model counts them, in the scan (few keys held) and in
    /// the hash table (many), whatever order they come in.
    #[test]
    fn keys_sharing_a_slot_or_past_the_cached_positions_count_apart() {
        let key = |i: usize| alloc::format!("k{i}").into_bytes();
        let slot_of = |k: &[u8]| slot(pack(k), k.len());
        // Two keys in one slot, and a third in another.
        let a = key(0);
        let b = (1..).map(key).find(|k| slot_of(k) == slot_of(&a)).expect("a key in the same slot");
        let c = (1..).map(key).find(|k| slot_of(k) != slot_of(&a)).expect("a key in another slot");
        for filler in [0usize, 40, 400] {
            let keys: Vec<Vec<u8>> = [a.clone(), b.clone(), c.clone()].into_iter().chain((0..filler).map(|i| alloc::format!("filler-{i}").into_bytes())).collect();
            let mut counter = CounterMap::with_cap(1_000);
            let mut model: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
            for round in 0..6usize {
                for j in 0..keys.len() {
                    // a, b, a, c, b, … and the fillers in a different order each round.
                    let k = if j < 3 { &keys[(j * (round + 1)) % 3] } else { &keys[3 + (j * 7 + round * 13) % filler] };
                    let n = 1 + (j % 5) as u64;
                    counter.add(k, n);
                    *model.entry(k.clone()).or_default() += n;
                }
            }
            let held: Vec<(Vec<u8>, u64)> = counter.iter().map(|(k, n)| (k.to_vec(), n)).collect();
            assert_eq!(held, model.into_iter().collect::<Vec<_>>(), "{filler} fillers");
        }
    }

    use crate::agg::testing::parts;

    proptest! {
        #[test]
        fn merge_is_exact_under_the_cap(
            items in proptest::collection::vec((0u8..20, 0u64..1000), 0..200),
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            // 20 possible keys, cap 20: nothing is ever diverted, so merging is exact.
            let whole = counter_of(20, &items);
            let mut merged = CounterMap::with_cap(20);
            for p in parts(&items, &cuts, &order) {
                merged.merge(&counter_of(20, &p)).unwrap();
            }
            prop_assert_eq!(&merged, &whole);
            prop_assert_eq!(merged.other(), 0);
        }

        #[test]
        fn merge_over_the_cap_keeps_its_promises(
            items in proptest::collection::vec((0u8..30, 0u64..1000), 0..200),
            cap in 0usize..12,
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let mut truth: BTreeMap<u8, u64> = BTreeMap::new();
            for &(k, n) in &items {
                *truth.entry(k).or_default() += n;
            }
            let mut merged = CounterMap::with_cap(cap);
            for p in parts(&items, &cuts, &order) {
                merged.merge(&counter_of(cap, &p)).unwrap();
            }
            prop_assert_eq!(merged.total(), truth.values().sum::<u64>());
            prop_assert!(merged.len() <= cap);
            let held: u64 = merged.iter().map(|(_, c)| c).sum();
            prop_assert_eq!(held + merged.other(), merged.total());
            for (k, c) in merged.iter() {
                prop_assert!(c <= truth[&k[0]], "key {:?} counted {} of {}", k, c, truth[&k[0]]);
            }
            // Every key that fits is held: the cap only bites when it is full.
            prop_assert_eq!(merged.len(), cap.min(truth.len()));
        }

        #[test]
        fn adds_equal_a_plain_model(
            items in proptest::collection::vec(
                (proptest::collection::vec(prop_oneof![Just(0u8), Just(b'a'), any::<u8>()], 0..26), 0u64..5),
                0..300,
            ),
            distinct in 1usize..48,
            cap in 0usize..48,
        ) {
            // Keys of 0 to 25 bytes (either side of the 16 packed whole, zero bytes
            // included), drawn from `distinct` of them so the held count crosses the scan
            // limits (16, and 32 for long keys) or not:
            // counts, `other` and admission against a first-come-first-served list.
            let keys: Vec<&[u8]> = items.iter().map(|(k, _)| &k[..]).take(distinct).collect();
            let mut c = CounterMap::with_cap(cap);
            let mut model: Vec<(Vec<u8>, u64)> = Vec::new();
            let mut other = 0;
            for (j, (_, n)) in items.iter().enumerate() {
                let key = keys[j % keys.len().max(1)];
                c.add(key, *n);
                if let Some(e) = model.iter_mut().find(|(k, _)| k[..] == *key) {
                    e.1 += n;
                } else if model.len() < cap {
                    model.push((key.to_vec(), *n));
                } else {
                    other += n;
                }
            }
            model.sort();
            let held: Vec<(Vec<u8>, u64)> = c.iter().map(|(k, n)| (k.to_vec(), n)).collect();
            prop_assert_eq!(held, model);
            prop_assert_eq!(c.other(), other);
            for (k, n) in c.iter() {
                prop_assert_eq!(c.get(k), Some(n));
            }
        }

        #[test]
        fn pack_is_one_to_one(
            a in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..=PACKED_MAX),
            b in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..=PACKED_MAX),
            at in any::<usize>(),
            flip in 1u8..,
        ) {
            if a.len() == b.len() {
                prop_assert_eq!(pack(&a) == pack(&b), a == b);
            }
            // Any one byte changed changes the packing, at every position and length.
            if !a.is_empty() {
                let mut c = a.clone();
                c[at % a.len()] ^= flip;
                prop_assert_ne!(pack(&c), pack(&a), "byte {} of {:?}", at % a.len(), a);
            }
        }

        #[test]
        fn encode_round_trips(items in proptest::collection::vec((any::<u8>(), any::<u64>()), 0..50), cap in 0usize..40) {
            let mut c = CounterMap::with_cap(cap);
            for &(k, n) in &items {
                // Keep the total from saturating so the round trip checks real sums.
                c.add(&[k, k ^ 0x55], n >> 8);
            }
            let mut w = Writer::new();
            c.encode(&mut w);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(CounterMap::decode(&mut r).unwrap(), c);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut prefixed = alloc::vec![TAG, VERSION];
            prefixed.extend_from_slice(&bytes);
            for input in [&bytes[..], &prefixed[..]] {
                if let Ok(c) = CounterMap::decode(&mut Reader::new(input)) {
                    let held: u64 = c.iter().map(|(_, n)| n).sum();
                    prop_assert_eq!(held + c.other(), c.total());
                    prop_assert!(c.len() <= c.cap());
                }
            }
        }
    }
}
