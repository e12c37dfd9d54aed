//! The generator's randomness: xoshiro256** seeded through SplitMix64, the distributions
//! drawn from it (uniform, normal, lognormal, exponential, weighted picks) and `Cdf`, a
//! discrete distribution from integer weights (Zipf included). Floats go through `libm` only.

/// xoshiro256** seeded through SplitMix64.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    pub(crate) s: [u64; 4],
    pub(crate) spare: Option<f64>,
}

pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        Rng { s, spare: None }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (`n > 0`), by the multiply-shift method.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Marsaglia's polar method: only `ln` and `sqrt`).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.unit() - 1.0;
            let v = 2.0 * self.unit() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * libm::log(s) / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// Lognormal with the given median and shape.
    pub(crate) fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.normal())
    }

    /// Exponential with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * libm::log(1.0 - self.unit())
    }

    pub(crate) fn pick<'t, T>(&mut self, table: &'t [(T, u32)]) -> &'t T {
        let total: u32 = table.iter().map(|(_, w)| *w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in table {
            if r < *w {
                return item;
            }
            r -= *w;
        }
        &table[table.len() - 1].0
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// A discrete distribution over `0..n` from integer weights, sampled by binary search.
#[derive(Debug, Clone)]
pub(crate) struct Cdf {
    pub(crate) cum: Vec<u64>,
}

impl Cdf {
    pub(crate) fn new(weights: impl IntoIterator<Item = u64>) -> Cdf {
        let mut total = 0u64;
        let cum = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Cdf { cum }
    }

    /// Zipf weights `k^-s`, k = 1..=n, scaled to integers (via pure-Rust `libm`).
    pub(crate) fn zipf(n: usize, s: f64) -> Cdf {
        Cdf::new((1..=n).map(|k| (libm::exp(-s * libm::log(k as f64)) * (1u64 << 40) as f64) as u64 + 1))
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> usize {
        let total = *self.cum.last().expect("non-empty distribution");
        let r = rng.below(total);
        self.cum.partition_point(|&c| c <= r)
    }
}
