//! `LatencySketch`: a DDSketch-style quantile sketch for latencies in whole microseconds.
//!
//! Values fall into logarithmic buckets `(γ^(i-1), γ^i]` with `γ = (1+a)/(1-a)`, `a = 1 %`,
//! so any value in a bucket is within 1 % of the bucket's representative. Bucket counts are
//! exact, so the bucket holding the value of a given rank is known exactly, which is what
//! makes the quantiles accurate and the merge exact (counts simply add).
//!
//! All floating-point work goes through `libm`, never the platform's maths library, so the
//! CLI and the browser build put every value in the same bucket and print the same numbers.

use alloc::vec::Vec;

use super::codec::{Reader, Writer};
use super::{Merge, MergeError, corrupt};

/// Relative accuracy, in basis points; stored in the encoding so a future sketch with another
/// accuracy is refused instead of being silently misread.
const ACCURACY_BP: u64 = 100;
/// `γ = (1 + 0.01) / (1 - 0.01)`; the code works with `ln γ`, the tests with γ itself.
#[cfg(test)]
const GAMMA: f64 = 1.01 / 0.99;
/// `ln γ`, spelled out because `libm::log` is not `const`; a test checks it against `libm`.
/// Only the tests' `libm` oracles use it: the code looks bucket bounds up in [`BOUNDS`].
#[cfg(test)]
const LN_GAMMA: f64 = 0.020000666706669435;
/// Bucket of `u64::MAX`: no value can land above it, so decoding refuses anything higher.
const MAX_INDEX: u16 = 2218;

const TAG: u8 = b'S';
const VERSION: u8 = 1;

mod bounds;
use bounds::BOUNDS;

/// Bucket index of a positive value as `libm` computes it: `ceil(log_γ v)`, so bucket `i`
/// holds `(γ^(i-1), γ^i]`. The definition; [`index_of`] is the fast form of it (the tests
/// check it is).
#[cfg(test)]
fn index_of_libm(v: u64) -> u16 {
    debug_assert!(v > 0);
    // `as` saturates, and the result is at most MAX_INDEX for any u64.
    libm::ceil(libm::log(v as f64) / LN_GAMMA) as u16
}

/// Slices per power of two in [`START`]: the value's 6 bits after its highest set bit. A
/// slice spans at most 1/64 of its start, less than a bucket (2 %), so it holds at most one
/// bucket's start and [`index_of`] steps at most once, without a loop whose length depends
/// on the value (4 bits took up to 3 steps, a mispredicted branch every few values; issue 13).
const SLICE_BITS: u32 = 6;

/// `START[k << SLICE_BITS | j]`: the bucket of the smallest value whose highest set bit is
/// `k` and whose next [`SLICE_BITS`] bits are `j` (for `k < SLICE_BITS`, the value itself):
/// a lower bound of the bucket of every value in that slice, at most 1 bucket below it.
static START: [u16; 64 << SLICE_BITS] = {
    let mut t = [0u16; 64 << SLICE_BITS];
    let (mut key, mut i) = (0, 0);
    while key < t.len() {
        // `least` grows with `key`, so the search goes on from the previous slice's bucket.
        let least = slice_start(key);
        // The largest i with BOUNDS[i] <= least is the bucket of `least`.
        while i + 1 < BOUNDS.len() && BOUNDS[i + 1] <= least {
            i += 1;
        }
        t[key] = i as u16;
        key += 1;
    }
    t
};

/// The smallest value of [`START`]'s slice `key` (for `k < SLICE_BITS`, the only one: `j`'s
/// top `k` bits are the value's bits after its highest).
const fn slice_start(key: usize) -> u64 {
    let (k, j) = ((key >> SLICE_BITS) as u32, (key & ((1 << SLICE_BITS) - 1)) as u64);
    if k < SLICE_BITS { (1u64 << k) | (j >> (SLICE_BITS - k)) } else { (1u64 << k) | (j << (k - SLICE_BITS)) }
}

/// Bucket index of a positive value, equal to [`index_of_libm`] (the tests check every
/// bound): the largest `i` with `BOUNDS[i] <= v`, [`START`]'s bucket or the next. A table
/// read and one comparison instead of a logarithm per value.
fn index_of(v: u64) -> u16 {
    debug_assert!(v > 0);
    let k = 63 - v.leading_zeros();
    let j = (v << (63 - k) >> (63 - SLICE_BITS)) & ((1 << SLICE_BITS) - 1);
    let i = usize::from(START[(k as usize) << SLICE_BITS | j as usize]);
    // Added, not branched on: whether the value is past its slice's one bucket start.
    let i = i + usize::from(BOUNDS.get(i + 1).is_some_and(|&b| b <= v));
    i as u16
}

/// Smallest integer value that lands in bucket `i` or above: [`BOUNDS`]`[i]`, `u64::MAX`
/// past [`MAX_INDEX`]. The table lookup is `tests::first_value_at_or_above_libm`, the definition
/// (the tests compare the two at every index); it replaced a bisection with a `libm` log per
/// step, which made `to_values_counts` ~4 M instructions a Lambda batch (issue 13).
fn first_value_at_or_above(i: u16) -> u64 {
    BOUNDS.get(usize::from(i)).copied().unwrap_or(u64::MAX)
}

/// The smallest and largest integers in bucket `i`.
fn bucket_range(i: u16) -> (u64, u64) {
    let lo = first_value_at_or_above(i);
    let hi = if i >= MAX_INDEX { u64::MAX } else { first_value_at_or_above(i + 1) - 1 };
    (lo, hi.max(lo))
}

/// The value that minimises the worst relative error over `[lo, hi]`: their harmonic mean,
/// which is off by `(hi - lo) / (hi + lo)` at either end and less inside.
fn representative(lo: u64, hi: u64) -> f64 {
    if lo == hi {
        return lo as f64;
    }
    let (l, h) = (lo as f64, hi as f64);
    2.0 * l * h / (l + h)
}

/// The 1-based rank that quantile `q` asks for among `n` values: `ceil(q * n)`, at least 1.
fn rank(q: f64, n: u64) -> u64 {
    (libm::ceil(q * n as f64) as u64).clamp(1, n)
}

/// Latency distribution in microseconds, with quantiles accurate to 1 % relative.
///
/// # Quantile definition and guarantee
///
/// [`quantile(q)`](Self::quantile) estimates the value of rank `ceil(q * count)` (1-based,
/// at least 1, the product computed in `f64`) in the sorted input: the "nearest rank"
/// definition, so `q = 0.5` of `[1, 2, 3, 4]` is `2`. The estimate `e` of the true value `x`
/// satisfies `|e - x| <= 0.01 * x + 0.5`: 1 % relative from the bucket width, plus at most
/// half a microsecond from reporting a whole number of microseconds. Values below 50 µs sit
/// alone in their bucket and come back exactly; `q = 0` and `q = 1` give the exact
/// [`min`](Self::min) and [`max`](Self::max), and every estimate lies within them.
///
/// Memory is one entry per non-empty bucket: about 115 buckets per factor of ten, at most
/// 2219 for the whole `u64` range.
#[derive(Debug, Clone, Default)]
pub struct LatencySketch {
    /// Values equal to zero, which have no logarithm.
    zero: u64,
    /// `(bucket index, count)`, sorted by index, counts never zero.
    buckets: Vec<(u16, u64)>,
    /// Where to look in `buckets`, for every group of [`GROUP`] bucket indices up to the
    /// highest one looked up so far: entry `g`'s low 16 bits are the position of the first
    /// bucket whose index is at least `g * GROUP` (the number of buckets below it), the next
    /// [`GROUP`] bits which of the group's buckets are in `buckets`. Derived from `buckets`,
    /// not part of the value: empty until the first [`add_n`](Self::add_n), emptied when
    /// `buckets` is replaced.
    groups: Vec<u32>,
    count: u64,
    sum: u128,
    /// Exact extremes; both 0 while empty so that equal contents compare equal.
    min: u64,
    max: u64,
}

/// Bucket indices per entry of `LatencySketch::groups` (as a shift, and as a count): 4, so
/// the table for latencies up to 10 s is about 200 entries.
const GROUP_BITS: u32 = 2;
const GROUP: usize = 1 << GROUP_BITS;

/// Set bits of each 4-bit number, a nibble each: `BITS4 >> (4 * m) & 15` is `m.count_ones()`
/// in a shift and a mask (`count_ones` without `popcnt` in the baseline x86-64 target is a
/// dozen instructions).
const BITS4: u64 = {
    let (mut t, mut m) = (0u64, 0u64);
    while m < 16 {
        let bits = (m & 1) + (m >> 1 & 1) + (m >> 2 & 1) + (m >> 3 & 1);
        t |= bits << (4 * m);
        m += 1;
    }
    t
};

/// Of a `groups` entry: buckets below the group, and which of its buckets are held.
fn group_parts(entry: u32) -> (usize, u32) {
    ((entry & 0xFFFF) as usize, entry >> 16)
}

/// Bucket `i`'s bit among its group's in a `groups` entry's held bits.
#[inline(always)]
fn group_bit(i: u16) -> u32 {
    1 << (usize::from(i) % GROUP)
}

/// By its group's `groups` entry, where bucket `i` is or goes in `buckets` (the buckets below
/// the group and the group's held buckets below `i`), and whether it is held.
#[inline(always)]
fn place(entry: u32, i: u16) -> (usize, bool) {
    let (start, held) = group_parts(entry);
    let bit = group_bit(i);
    (start + (BITS4 >> (4 * (held & (bit - 1))) & 15) as usize, held & bit != 0)
}

impl PartialEq for LatencySketch {
    /// Equal contents; the lookup table is a cache and does not count.
    fn eq(&self, other: &Self) -> bool {
        self.zero == other.zero
            && self.buckets == other.buckets
            && self.count == other.count
            && self.sum == other.sum
            && self.min == other.min
            && self.max == other.max
    }
}

impl Eq for LatencySketch {}

impl LatencySketch {
    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one value.
    #[inline(always)]
    pub fn add(&mut self, v: u64) {
        self.add_n(v, 1);
    }

    /// Records `n` occurrences of `v`.
    #[inline(always)]
    pub fn add_n(&mut self, v: u64, n: u64) {
        self.add_at(v, (v > 0).then(|| index_of(v)), n);
    }

    /// Records one value in two sketches (the summary's `time-taken` and its window's),
    /// finding its bucket once.
    #[inline]
    pub(crate) fn add_to_both(a: &mut Self, b: &mut Self, v: u64) {
        let bucket = (v > 0).then(|| index_of(v));
        a.add_at(v, bucket, 1);
        b.add_at(v, bucket, 1);
    }

    /// [`add_n`](Self::add_n) with `bucket` = `index_of(v)` for `v > 0`, `None` for 0.
    #[inline]
    fn add_at(&mut self, v: u64, bucket: Option<u16>, n: u64) {
        if n == 0 {
            return;
        }
        match bucket {
            None => self.zero = self.zero.saturating_add(n),
            Some(i) => self.add_to_bucket(i, n),
        }
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count = self.count.saturating_add(n);
        self.sum = self.sum.saturating_add(u128::from(v) * u128::from(n));
    }

    /// Adds `n` to bucket `i`, found through `groups` instead of a search over `buckets`:
    /// the group's first position plus its held buckets below `i`, with no loop whose length
    /// depends on the value (the same result as a binary search; a proptest checks). The
    /// common case, a held bucket in a group the table covers, is inlined; growing the table
    /// and inserting a bucket ([`add_to_new_bucket`](Self::add_to_new_bucket), at most once
    /// per bucket) are not, so the inlined part needs few registers.
    #[inline]
    fn add_to_bucket(&mut self, i: u16, n: u64) {
        if let Some(&entry) = self.groups.get(usize::from(i >> GROUP_BITS)) {
            let (pos, held) = place(entry, i);
            if held && let Some(b) = self.buckets.get_mut(pos) {
                b.1 = b.1.saturating_add(n);
                return;
            }
        }
        self.add_to_new_bucket(i, n);
    }

    /// [`add_to_bucket`](Self::add_to_bucket) in full: grows the table to cover `i`'s group,
    /// then inserts the bucket (or adds to it).
    #[cold]
    #[inline(never)]
    fn add_to_new_bucket(&mut self, i: u16, n: u64) {
        let g = usize::from(i >> GROUP_BITS);
        if g >= self.groups.len() {
            // Counted from `buckets`, so this also rebuilds a table emptied by a merge.
            for h in self.groups.len()..=g {
                let least = (h * GROUP) as u16;
                let below = self.buckets.partition_point(|&(j, _)| j < least);
                let held = self.buckets[below..].iter().take_while(|&&(j, _)| usize::from(j) < (h + 1) * GROUP).fold(0, |m, &(j, _)| m | group_bit(j));
                // At most MAX_INDEX + 1 buckets, so positions fit in 16 bits.
                self.groups.push(below as u32 | held << 16);
            }
        }
        let (pos, held) = place(self.groups[g], i);
        if held {
            self.buckets[pos].1 = self.buckets[pos].1.saturating_add(n);
        } else {
            self.buckets.insert(pos, (i, n));
            self.groups[g] |= group_bit(i) << 16;
            // One more bucket below every later group (positions stay under 16 bits).
            for entry in &mut self.groups[g + 1..] {
                *entry += 1;
            }
        }
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Exact sum of the values recorded.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Exact smallest value, `None` while empty.
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// Exact largest value, `None` while empty.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// Exact mean (up to `f64` rounding), `None` while empty.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// Number of non-empty buckets, the zero bucket included; a measure of the memory used.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len() + usize::from(self.zero > 0)
    }

    /// Estimated value at quantile `q` in `[0, 1]`; `None` while empty or for `q` outside
    /// `[0, 1]` (NaN included). See the type's documentation for the exact definition and
    /// error bound.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let r = rank(q, self.count);
        if r == 1 {
            return Some(self.min);
        }
        if r == self.count {
            return Some(self.max);
        }
        if r <= self.zero {
            return Some(0);
        }
        let mut seen = self.zero;
        for &(i, c) in &self.buckets {
            seen = seen.saturating_add(c);
            if seen >= r {
                // The true value is in this bucket and within [min, max]; the tighter that
                // range, the better the representative.
                let (lo, hi) = bucket_range(i);
                let (lo, hi) = (lo.max(self.min), hi.min(self.max).max(lo.max(self.min)));
                let est = libm::round(representative(lo, hi));
                // `as` saturates; clamping keeps rounding from leaving the range.
                return Some((est as u64).max(lo).min(hi));
            }
        }
        Some(self.max)
    }

    /// At most `max_pairs` `(value, count)` pairs describing the distribution, ascending by
    /// value, with counts summing to [`count`](Self::count): the shape CloudWatch's
    /// `PutMetricData` takes as `Values`/`Counts` (which allows 150 pairs).
    ///
    /// With no more non-empty buckets than pairs allowed, each bucket becomes a pair and the
    /// 1 % bound holds. Otherwise neighbouring buckets are coalesced into groups spanning at
    /// most `f` consecutive bucket indices, with the smallest `f` that fits: that is the
    /// coarsening which grows the worst-case error least, to `(γ^f - 1) / (γ^f + 1)`
    /// (about `f` %). Each value is the representative of the integers its group can hold,
    /// narrowed to `[min, max]`. Zero keeps a pair of its own unless `max_pairs` is 1, when a
    /// sketch holding both zeros and positive values becomes one pair at its mean. An empty
    /// sketch or `max_pairs == 0` gives no pairs.
    pub fn to_values_counts(&self, max_pairs: usize) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        if self.count == 0 || max_pairs == 0 {
            return out;
        }
        if max_pairs == 1 && self.zero > 0 && !self.buckets.is_empty() {
            // No single value is within any relative distance of both 0 and a positive
            // value; the mean at least keeps the sum right.
            out.push((self.sum as f64 / self.count as f64, self.count as f64));
            return out;
        }
        if self.zero > 0 {
            out.push((0.0, self.zero as f64));
        }
        if self.buckets.is_empty() {
            return out;
        }
        let budget = max_pairs - usize::from(self.zero > 0);
        let width = self.group_width(budget);
        let mut start = 0;
        while start < self.buckets.len() {
            let first = self.buckets[start].0;
            let mut end = start;
            let mut c = 0u64;
            while end < self.buckets.len() && u32::from(self.buckets[end].0) < u32::from(first) + width {
                c = c.saturating_add(self.buckets[end].1);
                end += 1;
            }
            let last = self.buckets[end - 1].0;
            let lo = bucket_range(first).0.max(self.min);
            let hi = bucket_range(last).1.min(self.max).max(lo);
            out.push((representative(lo, hi), c as f64));
            start = end;
        }
        out
    }

    /// Number of groups when buckets are covered greedily, left to right, by windows of
    /// `width` consecutive indices. Greedy is optimal for covering points on a line, so this
    /// is the fewest groups any coarsening of that width can give.
    fn groups_at(&self, width: u32) -> usize {
        let mut groups = 0;
        let mut end = 0u32;
        for &(i, _) in &self.buckets {
            if groups == 0 || u32::from(i) >= end {
                groups += 1;
                end = u32::from(i) + width;
            }
        }
        groups
    }

    /// The narrowest group width whose greedy cover fits in `budget` groups.
    fn group_width(&self, budget: usize) -> u32 {
        // Groups only shrink as the width grows, and one group spanning every index always
        // fits, so bisect between 1 and that.
        let first = u32::from(self.buckets[0].0);
        let last = u32::from(self.buckets[self.buckets.len() - 1].0);
        let (mut lo, mut hi) = (1u32, last - first + 1);
        if self.groups_at(lo) <= budget {
            return lo;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.groups_at(mid) <= budget { hi = mid } else { lo = mid }
        }
        hi
    }

    /// Appends the binary form.
    pub fn encode(&self, w: &mut Writer) {
        w.write_header(TAG, VERSION);
        w.write_varint(ACCURACY_BP);
        w.write_varint(self.zero);
        w.write_varint(self.min);
        w.write_varint(self.max);
        w.write_varint(self.sum as u64);
        w.write_varint((self.sum >> 64) as u64);
        w.write_varint(self.buckets.len() as u64);
        let mut prev = 0u16;
        for &(i, c) in &self.buckets {
            // Deltas keep dense runs of buckets to one byte of index each.
            w.write_varint(u64::from(i - prev));
            w.write_varint(c);
            prev = i;
        }
    }

    /// Reads what [`encode`](Self::encode) wrote, checking that it is self-consistent.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, MergeError> {
        r.read_header(TAG, VERSION)?;
        if r.read_varint()? != ACCURACY_BP {
            return Err(MergeError::IncompatibleParameters { what: "sketch accuracy" });
        }
        let zero = r.read_varint()?;
        let min = r.read_varint()?;
        let max = r.read_varint()?;
        let sum = u128::from(r.read_varint()?) | (u128::from(r.read_varint()?) << 64);
        let n = r.read_len(2)?;
        let mut buckets = Vec::with_capacity(n);
        let mut count = zero;
        let mut index = 0u64;
        for k in 0..n {
            let delta = r.read_varint()?;
            if k > 0 && delta == 0 {
                return Err(corrupt("sketch buckets out of order"));
            }
            index = index.saturating_add(delta);
            if index > u64::from(MAX_INDEX) {
                return Err(corrupt("sketch bucket index out of range"));
            }
            let c = r.read_varint()?;
            if c == 0 {
                return Err(corrupt("empty sketch bucket"));
            }
            count = count.checked_add(c).ok_or(corrupt("sketch count overflows"))?;
            buckets.push((index as u16, c));
        }
        let s = Self { zero, buckets, groups: Vec::new(), count, sum, min, max };
        s.check_consistent()?;
        Ok(s)
    }

    /// The invariants `add` and `merge` maintain, so that decoded state behaves like built
    /// state.
    fn check_consistent(&self) -> Result<(), MergeError> {
        if self.count == 0 {
            return if self.min == 0 && self.max == 0 && self.sum == 0 {
                Ok(())
            } else {
                Err(corrupt("empty sketch with extremes or sum"))
            };
        }
        let ok_min = match (self.zero > 0, self.buckets.first()) {
            (true, _) => self.min == 0,
            (false, Some(&(i, _))) => self.min > 0 && index_of(self.min) == i,
            (false, None) => false,
        };
        let ok_max = match self.buckets.last() {
            Some(&(i, _)) => self.max > 0 && index_of(self.max) == i,
            None => self.max == 0,
        };
        let c = u128::from(self.count);
        let ok_sum = self.sum >= u128::from(self.min) * c && self.sum <= u128::from(self.max) * c;
        if ok_min && ok_max && ok_sum {
            Ok(())
        } else {
            Err(corrupt("sketch extremes or sum disagree with its buckets"))
        }
    }
}

impl Merge for LatencySketch {
    /// Exact: bucket counts add, so the result equals one sketch fed both streams.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            *self = other.clone();
            return Ok(());
        }
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (self.buckets.iter().peekable(), other.buckets.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(i, c)), Some(&&(j, d))) => {
                    if i == j {
                        a.next();
                        b.next();
                        (i, c.saturating_add(d))
                    } else if i < j {
                        a.next();
                        (i, c)
                    } else {
                        b.next();
                        (j, d)
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&y)) => {
                    b.next();
                    y
                }
                (None, None) => break,
            };
            merged.push(next);
        }
        self.buckets = merged;
        self.groups.clear();
        self.zero = self.zero.saturating_add(other.zero);
        self.count = self.count.saturating_add(other.count);
        self.sum = self.sum.saturating_add(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    use crate::agg::testing::Rng;

    /// Smallest integer value that lands in bucket `i` or above, as `libm` computes it: the
    /// definition of [`BOUNDS`] and the tests' oracle for [`first_value_at_or_above`].
    fn first_value_at_or_above_libm(i: u16) -> u64 {
        if i == 0 {
            return 1;
        }
        // γ^(i-1) is where the bucket starts; floating-point noise makes it a guess, so settle
        // the exact integer by bisection on `index_of` near the guess, falling back to the whole
        // range if the guess was further off than expected.
        let guess = libm::exp(f64::from(i - 1) * LN_GAMMA);
        // `as` saturates at u64::MAX and sends NaN to 0, both safe starting points.
        let g = guess as u64;
        let slack = (g >> 20) + 4;
        let (mut lo, mut hi) = (g.saturating_sub(slack).max(1), g.saturating_add(slack));
        if index_of_libm(lo) >= i || index_of_libm(hi) < i {
            lo = 1;
            hi = u64::MAX;
            if index_of_libm(hi) < i {
                return u64::MAX;
            }
        }
        // Invariant: index_of_libm(lo) < i <= index_of_libm(hi) (index_of_libm(1) = 0 < i).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if index_of_libm(mid) >= i { hi = mid } else { lo = mid }
        }
        hi
    }

    fn oracle(sorted: &[u64], q: f64) -> u64 {
        let r = (libm::ceil(q * sorted.len() as f64) as usize).max(1);
        sorted[r - 1]
    }

    fn within_bound(est: u64, truth: u64, rel: f64) -> bool {
        (est as f64 - truth as f64).abs() <= rel * truth as f64 + 0.5
    }

    fn sketch_of(values: &[u64]) -> LatencySketch {
        let mut s = LatencySketch::new();
        for &v in values {
            s.add(v);
        }
        s
    }

    const QS: [f64; 6] = [0.5, 0.9, 0.95, 0.99, 0.999, 0.25];

    fn check_accuracy(name: &str, mut values: Vec<u64>) {
        let s = sketch_of(&values);
        values.sort_unstable();
        for q in QS {
            let (est, truth) = (s.quantile(q).unwrap(), oracle(&values, q));
            assert!(within_bound(est, truth, 0.01), "{name} q={q}: estimate {est}, true {truth}");
        }
        assert_eq!(s.min(), values.first().copied());
        assert_eq!(s.max(), values.last().copied());
        assert_eq!(s.sum(), values.iter().map(|&v| u128::from(v)).sum::<u128>());
        assert_eq!(s.count(), values.len() as u64);
    }

    #[test]
    fn bounds_table_matches_libm() {
        let want: Vec<u64> = (0..=MAX_INDEX).map(first_value_at_or_above_libm).collect();
        if BOUNDS[..] != want[..] {
            for c in want.chunks(6) {
                std::println!("    {},", c.iter().map(|x| alloc::format!("{x}")).collect::<Vec<_>>().join(", "));
            }
            panic!("sketch/bounds.rs is stale: the correct table is printed above");
        }
    }

    /// The table lookup answers what the `libm` bisection answers at every bucket index,
    /// and past the last one (`u64::MAX`: no value lands there).
    #[test]
    fn first_value_lookup_equals_libm_at_every_index() {
        for i in (0..=MAX_INDEX + 3).chain([u16::MAX - 1, u16::MAX]) {
            assert_eq!(first_value_at_or_above(i), first_value_at_or_above_libm(i), "bucket {i}");
        }
    }

    #[test]
    fn fast_bucket_index_equals_libm_at_every_bound_and_slice() {
        for (i, &b) in BOUNDS.iter().enumerate() {
            for v in [b.saturating_sub(1).max(1), b, b.saturating_add(1), b.saturating_add(2)] {
                assert_eq!(index_of(v), index_of_libm(v), "value {v} near the start of bucket {i}");
            }
        }
        for (key, &start) in START.iter().enumerate() {
            let least = slice_start(key);
            assert!(start <= index_of_libm(least), "slice {key} starts above its first value's bucket");
            // `index_of` steps at most once: the slice's last value is at most one bucket on.
            let last = START.get(key + 1).map_or(u64::MAX, |_| slice_start(key + 1).max(least + 1) - 1);
            assert!(index_of_libm(last) <= start + 1, "slice {key} ({least}..={last}) spans more than two buckets");
            for v in [least, least + 1, least.saturating_sub(1).max(1)] {
                assert_eq!(index_of(v), index_of_libm(v), "value {v}");
            }
        }
        for v in 1..=300_000u64 {
            assert_eq!(index_of(v), index_of_libm(v), "value {v}");
        }
        assert_eq!(index_of(u64::MAX), index_of_libm(u64::MAX));
    }

    proptest! {
        #[test]
        fn fast_bucket_index_equals_libm(v in 1u64.., shift in 0u32..64) {
            let v = (v >> shift).max(1);
            prop_assert_eq!(index_of(v), index_of_libm(v));
        }
    }

    #[test]
    fn ln_gamma_matches_libm() {
        assert_eq!(LN_GAMMA.to_bits(), libm::log(GAMMA).to_bits());
        assert_eq!(index_of(u64::MAX), MAX_INDEX);
    }

    #[test]
    fn every_bucket_is_narrower_than_the_accuracy() {
        let mut prev_hi = 0;
        for i in 0..=MAX_INDEX {
            let (lo, hi) = bucket_range(i);
            if index_of(lo) != i {
                // Buckets below 1/(γ-1) ≈ 50 can be empty of integers; then the range
                // collapses onto the next bucket's first value.
                assert!(lo < 100, "bucket {i} has no integer but starts at {lo}");
                continue;
            }
            assert_eq!(lo, prev_hi + 1, "bucket {i} does not continue the previous one");
            assert_eq!(index_of(hi), i);
            if hi < u64::MAX {
                assert!(index_of(hi + 1) > i);
            }
            let rep = representative(lo, hi);
            let worst = ((rep - lo as f64) / lo as f64).max((hi as f64 - rep) / hi as f64);
            assert!(worst <= 0.01 + 1e-12, "bucket {i} [{lo}, {hi}] error {worst}");
            prev_hi = hi;
        }
        assert_eq!(prev_hi, u64::MAX);
    }

    #[test]
    fn small_values_are_exact() {
        // Up to 1/(γ-1) ≈ 49.5 a bucket is narrower than 1, so it holds one integer at most.
        for v in 0..=49u64 {
            let mut s = sketch_of(&[v, v, v]);
            s.add(10_000);
            s.add(0);
            assert_eq!(s.quantile(0.5), Some(v), "value {v}");
        }
    }

    #[test]
    fn accuracy_uniform() {
        let mut rng = Rng(1);
        check_accuracy("uniform", (0..20_000).map(|_| rng.next() % 2_000_000).collect());
    }

    #[test]
    fn accuracy_lognormal() {
        let mut rng = Rng(2);
        // Median around 60 ms with a wide spread, like CloudFront time-taken.
        let values = (0..20_000).map(|_| libm::exp(11.0 + 1.5 * rng.normal()) as u64).collect();
        check_accuracy("lognormal", values);
    }

    #[test]
    fn accuracy_heavy_tail() {
        let mut rng = Rng(3);
        // Pareto with shape 1.1: most values small, a few enormous.
        let values = (0..20_000).map(|_| (1000.0 / libm::pow(rng.unit(), 1.0 / 1.1)) as u64).collect();
        check_accuracy("pareto", values);
    }

    #[test]
    fn accuracy_small_and_tied() {
        let mut rng = Rng(4);
        check_accuracy("small", (0..5_000).map(|_| rng.next() % 40).collect());
        check_accuracy("ties", vec![7; 100]);
        check_accuracy("single", vec![123_456_789]);
    }

    #[test]
    fn quantile_edges() {
        let s = sketch_of(&[1, 2, 3, 4]);
        assert_eq!(s.quantile(0.5), Some(2));
        assert_eq!(s.quantile(0.0), Some(1));
        assert_eq!(s.quantile(1.0), Some(4));
        assert_eq!(s.quantile(1.5), None);
        assert_eq!(s.quantile(-0.1), None);
        assert_eq!(s.quantile(f64::NAN), None);
        assert_eq!(LatencySketch::new().quantile(0.5), None);
        assert_eq!(LatencySketch::new().mean(), None);
        assert_eq!(s.mean(), Some(2.5));
        let big = sketch_of(&[u64::MAX, u64::MAX - 1, 0]);
        assert_eq!(big.quantile(1.0), Some(u64::MAX));
        assert!(within_bound(big.quantile(0.6).unwrap(), u64::MAX - 1, 0.01));
    }

    #[test]
    fn add_n_equals_repeated_add() {
        let mut a = LatencySketch::new();
        a.add_n(500, 3);
        a.add_n(9, 0);
        let b = sketch_of(&[500, 500, 500]);
        assert_eq!(a, b);
    }

    fn quantile_from_pairs(pairs: &[(f64, f64)], q: f64, n: u64) -> f64 {
        let r = (libm::ceil(q * n as f64) as u64).max(1);
        let mut seen = 0u64;
        for &(v, c) in pairs {
            seen += c as u64;
            if seen >= r {
                return v;
            }
        }
        pairs.last().unwrap().0
    }

    fn check_pairs(values: &mut [u64], max_pairs: usize) -> u32 {
        let s = sketch_of(values);
        values.sort_unstable();
        let pairs = s.to_values_counts(max_pairs);
        assert!(pairs.len() <= max_pairs);
        assert_eq!(pairs.iter().map(|&(_, c)| c as u64).sum::<u64>(), s.count());
        assert!(pairs.windows(2).all(|w| w[0].0 < w[1].0), "values must ascend");
        // Width the coarsening may need: a greedy cover with windows of this many indices
        // needs at most `span / width + 1` groups.
        let nb = s.buckets.len();
        let budget = max_pairs - usize::from(s.zero > 0);
        let span = u32::from(s.buckets[nb - 1].0 - s.buckets[0].0) + 1;
        let width = if nb <= budget { 1 } else { span.div_ceil(budget as u32) };
        let g = libm::pow(GAMMA, f64::from(width));
        let rel = (g - 1.0) / (g + 1.0);
        for q in QS {
            let est = quantile_from_pairs(&pairs, q, s.count());
            let truth = oracle(values, q) as f64;
            assert!((est - truth).abs() <= rel * truth + 1e-9 * truth, "q={q}: {est} vs {truth}, bound {rel}");
        }
        width
    }

    #[test]
    fn values_counts_within_two_percent() {
        let mut rng = Rng(5);
        // Log-uniform over 1 ms .. 400 ms: about 300 buckets, so pairs of buckets merge.
        let mut values: Vec<u64> =
            (0..50_000).map(|_| libm::exp(libm::log(1000.0) + rng.unit() * libm::log(400.0)) as u64).collect();
        let s = sketch_of(&values);
        assert!(s.bucket_count() > 150, "test needs more buckets than pairs: {}", s.bucket_count());
        let width = check_pairs(&mut values, 150);
        assert!(width <= 2, "width {width}");
        // The greedy width must not exceed what the bound promises, and must really be 2
        // here since one bucket per pair cannot fit.
        assert_eq!(s.group_width(150), 2);
    }

    #[test]
    fn values_counts_wide_and_with_zeros() {
        let mut rng = Rng(6);
        let mut values: Vec<u64> = (0..20_000).map(|_| rng.next() >> (rng.next() % 64)).collect();
        values.extend([0, 0, 0]);
        check_pairs(&mut values, 150);
        check_pairs(&mut values, 10);
        check_pairs(&mut values, 2);
        let s = sketch_of(&values);
        let one = s.to_values_counts(1);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1 as u64, s.count());
        assert!(s.to_values_counts(0).is_empty());
        // Few buckets: one pair each, values exact for single-integer buckets.
        let small = sketch_of(&[0, 3, 3, 7]);
        assert_eq!(small.to_values_counts(150), vec![(0.0, 1.0), (3.0, 2.0), (7.0, 1.0)]);
    }

    fn stream() -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::vec(
            prop_oneof![0u64..100, 0u64..10_000_000, any::<u64>(), Just(0u64)],
            0..300,
        )
    }

    /// The straightforward bucket list: a binary search per value, as `add_n` did before
    /// the `groups` lookup.
    fn searched_buckets(values: &[u64]) -> Vec<(u16, u64)> {
        let mut buckets: Vec<(u16, u64)> = Vec::new();
        for &v in values.iter().filter(|&&v| v > 0) {
            let i = index_of(v);
            match buckets.binary_search_by_key(&i, |&(j, _)| j) {
                Ok(pos) => buckets[pos].1 += 1,
                Err(pos) => buckets.insert(pos, (i, 1)),
            }
        }
        buckets
    }

    /// `groups` says, for every group it covers, how many buckets lie below the group and
    /// which of its own are held.
    fn check_groups(s: &LatencySketch) {
        for (g, &entry) in s.groups.iter().enumerate() {
            let below = s.buckets.iter().filter(|&&(j, _)| usize::from(j) < g << GROUP_BITS).count();
            let held = s.buckets.iter().filter(|&&(j, _)| usize::from(j) >> GROUP_BITS == g).fold(0u32, |m, &(j, _)| m | 1 << (j & 3));
            assert_eq!(group_parts(entry), (below, held), "group {g}");
        }
    }

    #[test]
    fn bits4_counts_the_set_bits() {
        for m in 0..16u32 {
            assert_eq!((BITS4 >> (4 * m) & 15) as u32, m.count_ones(), "{m:04b}");
        }
    }

    proptest! {
        #[test]
        fn bucket_lookup_equals_binary_search(
            values in stream(),
            before in stream(),
            merge_at in any::<usize>(),
            decode_at in any::<usize>(),
        ) {
            // Adds, with a merge and a decode part-way (both replace the buckets under the
            // lookup table), against one binary-searched list of everything.
            let mut s = sketch_of(&before);
            check_groups(&s);
            let (m, d) = (merge_at % (values.len() + 1), decode_at % (values.len() + 1));
            for (k, &v) in values.iter().enumerate() {
                if k == m {
                    s.merge(&sketch_of(&values[..3.min(values.len())])).unwrap();
                    check_groups(&s);
                }
                if k == d {
                    let mut w = Writer::new();
                    s.encode(&mut w);
                    let bytes = w.into_bytes();
                    s = LatencySketch::decode(&mut Reader::new(&bytes)).unwrap();
                }
                s.add(v);
                check_groups(&s);
            }
            let mut all = before.clone();
            all.extend_from_slice(&values);
            if m < values.len() {
                all.extend_from_slice(&values[..3.min(values.len())]);
            }
            prop_assert_eq!(&s.buckets, &searched_buckets(&all));
            prop_assert_eq!(s.count(), all.len() as u64);
        }

        /// `add_to_both` (one bucket lookup for two sketches, the summary's `time-taken`
        /// and its window's) leaves both exactly as two `add`s would, whatever each held
        /// before.
        #[test]
        fn add_to_both_equals_two_adds(values in stream(), first in stream(), second in stream()) {
            let (mut a, mut b) = (sketch_of(&first), sketch_of(&second));
            let (mut want_a, mut want_b) = (a.clone(), b.clone());
            for &v in &values {
                LatencySketch::add_to_both(&mut a, &mut b, v);
                want_a.add(v);
                want_b.add(v);
                check_groups(&a);
                check_groups(&b);
            }
            for (got, want) in [(&a, &want_a), (&b, &want_b)] {
                prop_assert_eq!(got, want);
                prop_assert_eq!(got.to_values_counts(usize::MAX), want.to_values_counts(usize::MAX));
            }
        }
    }

    /// Splits `values` at the given cut points and returns the parts in a shuffled order.
    use crate::agg::testing::parts;

    proptest! {
        #[test]
        fn merge_equals_one_pass(
            values in stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let whole = sketch_of(&values);
            let mut merged = LatencySketch::new();
            for p in parts(&values, &cuts, &order) {
                merged.merge(&sketch_of(&p)).unwrap();
            }
            prop_assert_eq!(&merged, &whole);
        }

        #[test]
        fn quantiles_within_bound(values in proptest::collection::vec(prop_oneof![0u64..1000, 0u64..u64::MAX], 1..300), q in 0.0f64..=1.0) {
            let s = sketch_of(&values);
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let (est, truth) = (s.quantile(q).unwrap(), oracle(&sorted, q));
            prop_assert!(within_bound(est, truth, 0.01), "estimate {} true {}", est, truth);
        }

        #[test]
        fn encode_round_trips(values in stream()) {
            let s = sketch_of(&values);
            let mut w = Writer::new();
            s.encode(&mut w);
            let bytes = w.into_bytes();
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(LatencySketch::decode(&mut r).unwrap(), s);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut prefixed = vec![TAG, VERSION, ACCURACY_BP as u8];
            prefixed.extend_from_slice(&bytes);
            for input in [&bytes[..], &prefixed[..]] {
                if let Ok(s) = LatencySketch::decode(&mut Reader::new(input)) {
                    // Whatever decodes must behave like built state.
                    let _ = s.quantile(0.5);
                    let _ = s.to_values_counts(3);
                    let mut m = s.clone();
                    m.merge(&s).unwrap();
                }
            }
        }

        #[test]
        fn decode_of_damaged_encoding_never_panics(values in stream(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
            let mut w = Writer::new();
            sketch_of(&values).encode(&mut w);
            let mut bytes = w.into_bytes();
            for (at, x) in flips {
                let n = bytes.len();
                bytes[at % n] ^= x;
            }
            if let Ok(s) = LatencySketch::decode(&mut Reader::new(&bytes)) {
                let _ = s.quantile(0.99);
                let _ = s.to_values_counts(2);
            }
        }
    }
}
