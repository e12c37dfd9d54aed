//! Mergeable aggregates: the state a report keeps per group, built so that partial results
//! (per file, per worker, per browser tab) combine into exactly what one pass would give, or,
//! for the bounded-memory summaries, into something with the same documented guarantees.
//!
//! Every type here implements [`Merge`] and has a compact binary form (`encode`/`decode`
//! over [`Writer`]/[`Reader`]) so that the state can travel inside a JSON report as base64 and
//! be merged again later. Nothing iterates a hash map into an output: the CLI and the browser
//! must produce byte-identical reports from the same input.

use alloc::vec::Vec;
use core::fmt;

mod clients;
pub mod codec;
mod counter;
mod hll;
mod sketch;
mod topk;

pub use clients::{ClientCounts, ClientEntry, ClientTable};
pub use codec::{Reader, Writer, base64_decode, base64_encode};
pub use counter::CounterMap;
pub(crate) use counter::{PACKED_MAX, pack};
pub use hll::HyperLogLog;
pub use sketch::LatencySketch;
pub use topk::{Rank, Sums, TopEntry, TopK};
pub(crate) use topk::Held;

/// The hash of the tables keyed by bytes (top-k, breakdown counters): foldhash with its
/// fixed seed, so nothing depends on the run. Nothing output depends on it either (outputs
/// are sorted by count and key).
///
/// The key's bytes are written to the hasher alone (`Hasher::write`), not as a slice
/// (`Hash for [u8]` writes the length first): `write` already mixes the length in, and the
/// length prefix costs a 128-bit shift into foldhash's buffer and a second multiply in
/// `finish`. On wasm32 that shift is a call (`__ashlti3`), a few percent of the browser
/// engine's time (bench/RESULTS.md, issue 13).
#[inline]
pub(crate) fn hash_key(key: &[u8]) -> u64 {
    use core::hash::{BuildHasher, Hasher};
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    hasher.write(key);
    hasher.finish()
}

/// A key with its [`hash_key`], hashed once for every table one record's key goes to (a
/// client address counts in the top clients list and in its window's client table; a user
/// agent is looked up in the classification memo and counted in its top list). Made only
/// by [`HashedKey::new`], so the hash always belongs to the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashedKey<'a> {
    key: &'a [u8],
    hash: u64,
}

impl<'a> HashedKey<'a> {
    /// `key` and its hash.
    #[inline]
    pub(crate) fn new(key: &'a [u8]) -> Self {
        HashedKey { key, hash: hash_key(key) }
    }

    /// The key.
    #[inline]
    pub(crate) fn key(&self) -> &'a [u8] {
        self.key
    }

    /// [`hash_key`] of the key.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }
}

/// Combining two partial aggregates of the same kind.
///
/// After `a.merge(&b)`, `a` summarises the concatenation of the streams that built `a` and
/// `b`. On error `a` is left unchanged.
pub trait Merge {
    /// Folds `other` into `self`.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError>;
}

/// Why two aggregates cannot be merged, or why stored state cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeError {
    /// The two sides were built with different settings (sketch accuracy, HLL precision,
    /// top-k capacity, window width), so their states do not line up.
    IncompatibleParameters {
        /// Which setting differs.
        what: &'static str,
    },
    /// Encoded state that is truncated, malformed or internally inconsistent.
    Corrupt {
        /// What was wrong, in a few words.
        what: &'static str,
    },
    /// Well-formed state of an older format that cannot be read faithfully any more.
    Unsupported {
        /// What it is and what to do instead.
        what: &'static str,
    },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeError::IncompatibleParameters { what } => {
                write!(f, "cannot merge aggregates: different {what}")
            }
            MergeError::Corrupt { what } => write!(f, "corrupt aggregate state: {what}"),
            MergeError::Unsupported { what } => write!(f, "unsupported aggregate state: {what}"),
        }
    }
}

impl core::error::Error for MergeError {}

/// Shorthand for the decode paths, which all fail the same way.
pub(crate) const fn corrupt(what: &'static str) -> MergeError {
    MergeError::Corrupt { what }
}

/// Sorts `indices` by `key(i)` ascending, comparing the keys' first 8 bytes as one
/// big-endian integer (zero-padded, [`key_prefix`]) before the bytes themselves. A smaller prefix means a
/// smaller key, so the order is exactly the keys' byte order; most pairs of addresses
/// differ in their first bytes and so compare without a `memcmp` call. The eviction lists
/// of `TopK` and `ClientTable` are sorted with it (issue 13).
pub(crate) fn sort_by_key<'a>(indices: &mut [usize], key: impl Fn(usize) -> &'a [u8]) {
    let mut keyed: Vec<(u64, usize)> = indices.iter().map(|&i| (key_prefix(key(i)), i)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(key(b.1))));
    for (slot, (_, i)) in indices.iter_mut().zip(keyed) {
        *slot = i;
    }
}

/// The first 8 bytes of `key` as a big-endian integer, zero-padded. One fixed-size read for
/// keys of 8 bytes or more (most), never a `memcpy` call of the key's length (issue 13).
fn key_prefix(key: &[u8]) -> u64 {
    if let Some(head) = key.first_chunk::<8>() {
        return u64::from_be_bytes(*head);
    }
    let mut prefix = 0u64;
    for (i, &b) in key.iter().enumerate() {
        prefix |= u64::from(b) << (56 - 8 * i);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        /// The prefix-first sort gives exactly the order of the keys' bytes, for keys that
        /// share long prefixes, end in zeros or are shorter than the prefix.
        #[test]
        fn sort_by_key_is_byte_order(keys in proptest::collection::btree_set(proptest::collection::vec(prop_oneof![Just(0u8), Just(b'1'), Just(b'.'), any::<u8>()], 0..40), 0..60)) {
            let keys: Vec<Vec<u8>> = keys.into_iter().rev().collect();
            let mut got: Vec<usize> = (0..keys.len()).collect();
            super::sort_by_key(&mut got, |i| &keys[i]);
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
            prop_assert_eq!(got, want);
        }
    }

    use super::*;
    use alloc::string::ToString;

    #[test]
    fn error_messages_name_the_problem() {
        let e = MergeError::IncompatibleParameters { what: "HLL precision" };
        assert_eq!(e.to_string(), "cannot merge aggregates: different HLL precision");
        assert_eq!(corrupt("truncated").to_string(), "corrupt aggregate state: truncated");
        let _: &dyn core::error::Error = &e;
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use alloc::vec::Vec;

    /// splitmix64: a small deterministic generator, so test data needs no extra crate.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in (0, 1).
        pub(crate) fn unit(&mut self) -> f64 {
            ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        /// Standard normal (Box–Muller).
        pub(crate) fn normal(&mut self) -> f64 {
            let (u, v) = (self.unit(), self.unit());
            libm::sqrt(-2.0 * libm::log(u)) * libm::cos(core::f64::consts::TAU * v)
        }

        /// Uniform in `0..n`.
        pub(crate) fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        /// Fisher–Yates.
        pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                v.swap(i, self.below(i + 1));
            }
        }
    }

    /// Splits `values` at `cuts` (taken modulo the length) and shuffles the parts by
    /// `order`: the input of every merge-law test.
    pub(crate) fn parts<T: Clone>(values: &[T], cuts: &[usize], order: &[usize]) -> Vec<Vec<T>> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c % (values.len() + 1)).collect();
        cuts.sort_unstable();
        let mut out = Vec::new();
        let mut start = 0;
        for c in cuts.into_iter().chain([values.len()]) {
            out.push(values[start..c].to_vec());
            start = c;
        }
        let n = out.len();
        for (i, &o) in order.iter().enumerate() {
            out.swap(i % n, o % n);
        }
        out
    }
}

