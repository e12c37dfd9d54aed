//! `HyperLogLog`: distinct counts (unique viewers, IPs, URLs) in fixed, small memory.
//!
//! The estimator is Ertl's "improved raw estimator" (O. Ertl, *New cardinality estimation
//! algorithms for HyperLogLog sketches*, 2017, algorithm 6). It needs neither the empirical
//! bias tables of HLL++ nor a switch-over threshold to linear counting, is accurate from
//! zero to far beyond any log's cardinality, and uses only `+ * / sqrt`, so (with `libm`'s
//! `sqrt`) every target computes the same estimate.

use alloc::vec;
use alloc::vec::Vec;

use super::codec::{Reader, Writer};
use super::{Merge, MergeError, corrupt};

const TAG: u8 = b'H';
const VERSION: u8 = 1;

const DEFAULT_PRECISION: u8 = 14;
const MIN_PRECISION: u8 = 4;
const MAX_PRECISION: u8 = 18;

/// Approximate distinct counter over 64-bit hashes.
///
/// Register `j` keeps the largest "position of the first 1 bit" seen among hashes whose top
/// `p` bits are `j`. Merge takes the register-wise maximum, which is exactly the state one
/// counter would reach on both streams, in any order and with any duplication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HyperLogLog {
    precision: u8,
    registers: Vec<u8>,
}

impl Default for HyperLogLog {
    fn default() -> Self {
        Self::new()
    }
}

impl HyperLogLog {
    /// Precision of [`new`](Self::new): 2^14 registers, about 0.81 % standard error in 16 KiB.
    pub const DEFAULT_PRECISION: u8 = DEFAULT_PRECISION;

    /// A counter with the default precision of 14 (16384 registers).
    pub fn new() -> Self {
        Self { precision: DEFAULT_PRECISION, registers: vec![0; 1 << DEFAULT_PRECISION] }
    }

    /// A counter with `2^precision` registers; `None` outside `4..=18`. Standard error is
    /// about `1.04 / sqrt(2^precision)`. Only counters of equal precision merge.
    pub fn with_precision(precision: u8) -> Option<Self> {
        (MIN_PRECISION..=MAX_PRECISION)
            .contains(&precision)
            .then(|| Self { precision, registers: vec![0; 1 << precision] })
    }

    /// The precision `p` (there are `2^p` registers).
    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// The largest value a register can hold: the hash bits below the index, plus one.
    fn max_rank(&self) -> u8 {
        64 - self.precision + 1
    }

    /// Records an item by its 64-bit hash. The hash must be well mixed (all 64 bits), and
    /// every party whose counters will be merged must hash the same way.
    pub fn add_hash(&mut self, hash: u64) {
        let p = u32::from(self.precision);
        let j = (hash >> (64 - p)) as usize;
        let rest = hash << p;
        let rank = if rest == 0 { self.max_rank() } else { rest.leading_zeros() as u8 + 1 };
        let r = &mut self.registers[j];
        if rank > *r {
            *r = rank;
        }
    }

    /// Records an item by its bytes, hashed with XXH3-64 (seed 0).
    pub fn add_bytes(&mut self, item: &[u8]) {
        self.add_hash(xxhash_rust::xxh3::xxh3_64(item));
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.registers.iter().all(|&r| r == 0)
    }

    /// Estimated number of distinct items recorded, rounded to an integer.
    pub fn estimate(&self) -> u64 {
        let q = usize::from(64 - self.precision);
        let m = self.registers.len() as f64;
        let mut hist = [0u32; 66];
        for &r in &self.registers {
            hist[usize::from(r)] += 1;
        }
        if hist[0] as usize == self.registers.len() {
            return 0;
        }
        let mut z = m * tau(1.0 - f64::from(hist[q + 1]) / m);
        for k in (1..=q).rev() {
            z = 0.5 * (z + f64::from(hist[k]));
        }
        z += m * sigma(f64::from(hist[0]) / m);
        let alpha_inf = 0.5 / core::f64::consts::LN_2;
        libm::round(alpha_inf * m * m / z) as u64
    }

    /// Appends the binary form: sparse `(index delta, value)` pairs when few registers are
    /// set, the raw registers otherwise, whichever is shorter.
    pub fn encode(&self, w: &mut Writer) {
        w.write_header(TAG, VERSION);
        w.write_u8(self.precision);
        let set = self.registers.iter().filter(|&&r| r != 0).count();
        // A sparse entry costs at most 4 bytes (3-byte delta for p <= 18, 1-byte value).
        if set * 4 < self.registers.len() {
            w.write_u8(0);
            w.write_varint(set as u64);
            let mut prev = 0usize;
            for (j, &r) in self.registers.iter().enumerate().filter(|&(_, &r)| r != 0) {
                w.write_varint((j - prev) as u64);
                w.write_u8(r);
                prev = j;
            }
        } else {
            w.write_u8(1);
            w.write_raw(&self.registers);
        }
    }

    /// Reads what [`encode`](Self::encode) wrote.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, MergeError> {
        r.read_header(TAG, VERSION)?;
        let mut hll = Self::with_precision(r.read_u8()?).ok_or(corrupt("HLL precision out of range"))?;
        let max = hll.max_rank();
        match r.read_u8()? {
            0 => {
                let n = r.read_len(2)?;
                let mut j = 0usize;
                for k in 0..n {
                    let delta = r.read_varint()?;
                    if k > 0 && delta == 0 {
                        return Err(corrupt("HLL registers out of order"));
                    }
                    j = usize::try_from(delta)
                        .ok()
                        .and_then(|d| j.checked_add(d))
                        .filter(|&j| j < hll.registers.len())
                        .ok_or(corrupt("HLL register index out of range"))?;
                    let v = r.read_u8()?;
                    if v == 0 || v > max {
                        return Err(corrupt("HLL register value out of range"));
                    }
                    hll.registers[j] = v;
                }
            }
            1 => {
                let raw = r.read_raw(hll.registers.len())?;
                if raw.iter().any(|&v| v > max) {
                    return Err(corrupt("HLL register value out of range"));
                }
                hll.registers.copy_from_slice(raw);
            }
            _ => return Err(corrupt("HLL layout")),
        }
        Ok(hll)
    }
}

/// Ertl's σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), the correction for empty registers.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if z == prev {
            return z;
        }
    }
}

/// Ertl's τ(x), the correction for saturated registers.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = libm::sqrt(x);
        let prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == prev {
            return z / 3.0;
        }
    }
}

impl Merge for HyperLogLog {
    /// Register-wise maximum; counters of different precision are refused.
    fn merge(&mut self, other: &Self) -> Result<(), MergeError> {
        if self.precision != other.precision {
            return Err(MergeError::IncompatibleParameters { what: "HLL precision" });
        }
        for (a, &b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(b);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn relative_error(est: u64, truth: u64) -> f64 {
        (est as f64 - truth as f64).abs() / truth as f64
    }

    #[test]
    fn empty_and_tiny() {
        let mut h = HyperLogLog::new();
        assert_eq!(h.estimate(), 0);
        assert!(h.is_empty());
        h.add_bytes(b"a");
        h.add_bytes(b"a");
        assert_eq!(h.estimate(), 1);
        for i in 0..10u32 {
            h.add_bytes(&i.to_le_bytes());
        }
        assert_eq!(h.estimate(), 11);
    }

    #[test]
    fn accuracy_over_magnitudes() {
        let mut h = HyperLogLog::new();
        let mut n = 0u64;
        for target in [1_000u64, 10_000, 100_000, 1_000_000] {
            while n < target {
                // Every value twice: duplicates must not count.
                h.add_bytes(&n.to_le_bytes());
                h.add_bytes(&n.to_le_bytes());
                n += 1;
            }
            let est = h.estimate();
            assert!(relative_error(est, n) <= 0.02, "{n} distinct estimated as {est}");
        }
    }

    #[test]
    fn accuracy_across_seeds() {
        // Many independent runs: the mean error should be near zero and the spread near the
        // theoretical 1.04 / sqrt(m), which catches a biased or mis-scaled estimator that a
        // single run could pass by luck.
        for n in [300u64, 5_000, 40_000] {
            let runs = 40u64;
            let (mut bias, mut sq) = (0.0, 0.0);
            for seed in 0..runs {
                let mut h = HyperLogLog::with_precision(10).unwrap();
                for i in 0..n {
                    h.add_hash(mix((seed << 32) | i));
                }
                let e = (h.estimate() as f64 - n as f64) / n as f64;
                bias += e;
                sq += e * e;
            }
            let (bias, rmse) = (bias / runs as f64, libm::sqrt(sq / runs as f64));
            assert!(bias.abs() < 0.015, "n={n}: bias {bias}");
            assert!(rmse < 0.05, "n={n}: rmse {rmse} (expected about 0.033)");
        }
    }

    #[test]
    fn precision_mismatch_is_refused() {
        let mut a = HyperLogLog::new();
        let b = HyperLogLog::with_precision(12).unwrap();
        a.add_hash(42);
        let before = a.clone();
        assert_eq!(a.merge(&b), Err(MergeError::IncompatibleParameters { what: "HLL precision" }));
        assert_eq!(a, before);
        assert!(HyperLogLog::with_precision(3).is_none());
        assert!(HyperLogLog::with_precision(19).is_none());
    }

    #[test]
    fn extreme_hashes() {
        let mut h = HyperLogLog::new();
        h.add_hash(0);
        h.add_hash(u64::MAX);
        h.add_hash(1);
        assert_eq!(h.registers[0], h.max_rank());
        assert_eq!(h.registers[(1 << 14) - 1], 1);
        let mut w = Writer::new();
        h.encode(&mut w);
        assert_eq!(HyperLogLog::decode(&mut Reader::new(w.as_bytes())).unwrap(), h);
    }

    fn split_merge(items: &[u64], cuts: &[usize], order: &[usize]) -> (HyperLogLog, HyperLogLog) {
        let mut whole = HyperLogLog::new();
        for &i in items {
            whole.add_hash(mix(i));
        }
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (items.len() + 1)).collect();
        bounds.sort_unstable();
        bounds.push(items.len());
        let mut parts = Vec::new();
        let mut start = 0;
        for b in bounds {
            let mut h = HyperLogLog::new();
            for &i in &items[start..b] {
                h.add_hash(mix(i));
            }
            parts.push(h);
            start = b;
        }
        let n = parts.len();
        for (i, &o) in order.iter().enumerate() {
            parts.swap(i % n, o % n);
        }
        let mut merged = HyperLogLog::new();
        for p in &parts {
            merged.merge(p).unwrap();
        }
        (whole, merged)
    }

    proptest! {
        #[test]
        fn merge_equals_one_pass(
            items in proptest::collection::vec(0u64..5_000, 0..2_000),
            cuts in proptest::collection::vec(any::<usize>(), 0..7),
            order in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let (whole, merged) = split_merge(&items, &cuts, &order);
            prop_assert_eq!(merged.estimate(), whole.estimate());
            prop_assert_eq!(merged, whole);
        }

        #[test]
        fn encode_round_trips(items in proptest::collection::vec(any::<u64>(), 0..6_000)) {
            let mut h = HyperLogLog::new();
            for &i in &items {
                h.add_hash(i);
            }
            let mut w = Writer::new();
            h.encode(&mut w);
            let bytes = w.into_bytes();
            // Sparse while few registers are set, and never larger than raw registers.
            prop_assert!(bytes.len() <= 4 + (1 << 14));
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(HyperLogLog::decode(&mut r).unwrap(), h);
            prop_assert!(r.finish().is_ok());
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), p in 0u8..24, layout in 0u8..3) {
            let mut prefixed = alloc::vec![TAG, VERSION, p, layout];
            prefixed.extend_from_slice(&bytes);
            for input in [&bytes[..], &prefixed[..]] {
                if let Ok(h) = HyperLogLog::decode(&mut Reader::new(input)) {
                    let _ = h.estimate();
                }
            }
        }
    }
}
