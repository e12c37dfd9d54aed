//! What the summary remembers between records to skip repeated work: classifications of
//! user agents and edge locations (with where each is held in its top list), what result
//! types mean for the hit ratio, and parsed IPv6 viewer addresses. Not state: never merged
//! or encoded, and bounded.

use alloc::boxed::Box;
use core::net::IpAddr;

use hashbrown::HashTable;

use crate::agg::{HashedKey, Held, PACKED_MAX, Sums, TopK, hash_key, pack};
use crate::enrich::geo::edge_geo;
use crate::enrich::ua::{BrowserFamily, UaClass, classify_user_agent};

/// A memo of values computed from a key, found by the key's [`HashedKey`] hash (the one the
/// key's top list uses too, so the key is hashed once), with where the key was last held in
/// its top list ([`Held`]), so a key found here is counted there without a second lookup
/// and comparison (a user agent is ~130 bytes).
#[derive(Debug, Clone)]
pub(super) struct Memo<V> {
    table: HashTable<(Box<[u8]>, V, Held)>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo { table: HashTable::new() }
    }
}

/// User agents and edge locations repeat heavily; classifying each distinct one once keeps
/// the per-record cost flat. Not state (never merged or encoded); bounded: cleared when full.
#[derive(Debug, Clone)]
pub(super) struct Caches {
    user_agent: Memo<(UaClass, BrowserFamily)>,
    edge_region: Memo<&'static str>,
    /// The result types met last (there are a handful), with [`Outcome`].
    outcomes: [(u128, usize, Outcome); OUTCOMES],
    /// Where the next result type met goes in `outcomes` (round robin).
    next_outcome: usize,
    /// Viewer addresses longer than [`DOTTED_QUAD_MAX`] that parsed, with their value.
    addresses: HashTable<(Box<[u8]>, IpAddr)>,
}

/// The longest dotted quad (`255.255.255.255`): longer addresses are IPv6.
pub(super) const DOTTED_QUAD_MAX: usize = 15;

impl Default for Caches {
    fn default() -> Self {
        // No text has length `usize::MAX`: the empty places match nothing.
        Caches {
            user_agent: Memo::default(),
            edge_region: Memo::default(),
            outcomes: [(0, usize::MAX, (false, false)); OUTCOMES],
            next_outcome: 0,
            addresses: HashTable::new(),
        }
    }
}

/// What a result type means for the hit ratio: (a hit, a miss).
pub(super) type Outcome = (bool, bool);

/// Result types [`Caches::outcome`] remembers.
const OUTCOMES: usize = 4;

const CACHE_LIMIT: usize = 4096;

impl<V: Copy> Memo<V> {
    /// `compute`'s value for `key` (computed once while remembered), and one occurrence of
    /// `key` counted in `top` with `sums`: where the memo last saw it held when that slot
    /// still holds it ([`TopK::add_at`]), else found and counted there afresh.
    #[inline]
    fn get_and_count(&mut self, key: HashedKey<'_>, top: &mut TopK, sums: Sums, compute: impl FnOnce() -> V) -> V {
        let k = key.key();
        if let Some((_, v, at)) = self.table.find_mut(key.hash(), |(held, _, _)| **held == *k) {
            if !top.add_at(*at, 1, sums) {
                *at = top.add_held(key, 1, sums);
            }
            return *v;
        }
        let v = compute();
        let at = top.add_held(key, 1, sums);
        if self.table.len() >= CACHE_LIMIT {
            self.table.clear();
        }
        self.table.insert_unique(key.hash(), (k.into(), v, at), |(held, _, _)| hash_key(held));
        v
    }
}

impl Caches {
    /// The class and browser family of user agent `raw_user_agent` (as logged), which is
    /// counted once in `top` with `sums` too.
    #[inline]
    pub(super) fn classify(&mut self, raw_user_agent: HashedKey<'_>, top: &mut TopK, sums: Sums) -> (UaClass, BrowserFamily) {
        self.user_agent.get_and_count(raw_user_agent, top, sums, || {
            let info = classify_user_agent(&crate::decode::decode_str(raw_user_agent.key(), false));
            (info.class, info.family)
        })
    }

    /// Whether `x-edge-result-type` text `rt` (checked to be UTF-8) is a cache hit and
    /// whether it is a miss, as [`ResultType`](crate::ResultType) says: remembered for the
    /// last few types of at most [`PACKED_MAX`] bytes, compared as [`pack`]ed integers, so
    /// most records skip the UTF-8 decoding and the match on the name.
    #[inline]
    pub(super) fn outcome(&mut self, rt: &[u8]) -> Outcome {
        let short = rt.len() <= PACKED_MAX;
        let packed = if short { pack(rt) } else { 0 };
        if short && let Some((_, _, o)) = self.outcomes.iter().find(|(p, n, _)| *p == packed && *n == rt.len()) {
            return *o;
        }
        let o = match core::str::from_utf8(rt).map(crate::ResultType::parse) {
            Ok(t) => (t.is_cache_hit(), t == crate::ResultType::Miss),
            Err(_) => (false, false),
        };
        if short {
            self.outcomes[self.next_outcome % OUTCOMES] = (packed, rt.len(), o);
            self.next_outcome = self.next_outcome.wrapping_add(1);
        }
        o
    }

    /// The address `text` parsed to, if it is remembered (see [`Caches::remember_address`]).
    #[inline]
    pub(super) fn address(&self, text: HashedKey<'_>) -> Option<IpAddr> {
        let k = text.key();
        self.addresses.find(text.hash(), |(held, _)| **held == *k).map(|(_, ip)| *ip)
    }

    /// Remembers that `text` parsed to `ip` (only text that parsed: the same bytes always
    /// parse the same way). Cleared when full, as the memos are.
    #[cold]
    pub(super) fn remember_address(&mut self, text: HashedKey<'_>, ip: IpAddr) {
        if self.addresses.len() >= CACHE_LIMIT {
            self.addresses.clear();
        }
        self.addresses.insert_unique(text.hash(), (text.key().into(), ip), |(held, _)| hash_key(held));
    }

    /// The region of edge location `edge`, which is counted once in `top` with `sums` too.
    #[inline]
    pub(super) fn region(&mut self, edge: HashedKey<'_>, top: &mut TopK, sums: Sums) -> &'static str {
        self.edge_region.get_and_count(edge, top, sums, || {
            // The key is the `edge` text the record gave, so it is UTF-8.
            core::str::from_utf8(edge.key()).ok().and_then(edge_geo).map_or("unknown", |a| a.region.name())
        })
    }
}
