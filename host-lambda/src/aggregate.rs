//! The aggregation layer: what the processor keeps per slice of records ([`Aggregate`]):
//! one `Summary` per distribution, the capped per-window counters of the extra dimensions
//! (typed keys, [`DimKey`]), the alert context, and the rollup items built from it. No
//! sink's naming lives here: CloudWatch metric and dimension names are given to these keys
//! in [`crate::cloudwatch`], DynamoDB attribute names in [`crate::aws`].

use std::collections::{BTreeMap, HashMap, HashSet};

use cflog_core::agg::{LatencySketch, Merge};
use cflog_core::summary::{Summary, SummaryOptions};

use crate::ports::Rollup;

/// Which extra per-dimension counters to aggregate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtraDimensions {
    /// Per edge location.
    pub edge_location: bool,
    /// Per viewer country.
    pub country: bool,
    /// Distinct values kept per dimension per batch; the rest are [`DimValue::Other`].
    pub cap: usize,
    /// Per cache behavior (`cache-behavior-path-pattern`): the busiest this many patterns
    /// per distribution per batch, the rest [`DimValue::Other`]; 0 turns it off. Each
    /// kept pattern also carries a latency sketch.
    pub behaviors: usize,
}

impl ExtraDimensions {
    /// Whether any extra dimension is on.
    pub fn any(&self) -> bool {
        self.edge_location || self.country || self.behaviors > 0
    }

    /// Values kept per (distribution, `dimension`) per batch.
    pub fn cap_of(&self, dimension: Dimension) -> usize {
        match dimension {
            Dimension::CacheBehavior => self.behaviors,
            Dimension::EdgeLocation | Dimension::Country => self.cap,
        }
    }
}

/// An extra dimension counts can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dimension {
    /// The edge location (`x-edge-location`, e.g. `IAD89-C1`).
    EdgeLocation,
    /// The viewer country (`c-country`).
    Country,
    /// The cache behavior's path pattern (`cache-behavior-path-pattern`, e.g. `/api/*`).
    CacheBehavior,
}

/// A value of an extra dimension: one the record carried (`-` when absent), or every
/// value beyond the cap folded together.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DimValue {
    /// A value as logged.
    Value(String),
    /// The values beyond [`ExtraDimensions::cap`].
    Other,
}

/// Counters of one extra-dimension value in one window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DimCounters {
    /// Records.
    pub records: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// 4xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// time-taken in microseconds, for the dimensions that publish latency
    /// ([`Dimension::CacheBehavior`]); `None` for the others.
    pub time_taken: Option<LatencySketch>,
}

impl DimCounters {
    /// Empty counters for a value of `dimension`.
    pub fn of(dimension: Dimension) -> Self {
        let time_taken = (dimension == Dimension::CacheBehavior).then(LatencySketch::new);
        DimCounters { time_taken, ..DimCounters::default() }
    }

    /// Counts one response of `status` that sent `bytes_sent` and took `time_taken_us`.
    pub fn add(&mut self, status: u16, bytes_sent: u64, time_taken_us: Option<u64>) {
        self.records += 1;
        // Saturates as the summaries' byte sums do (forged values near `u64::MAX`).
        self.bytes_sent = self.bytes_sent.saturating_add(bytes_sent);
        self.status_4xx += u64::from(status / 100 == 4);
        self.status_5xx += u64::from(status / 100 == 5);
        if let (Some(sketch), Some(us)) = (&mut self.time_taken, time_taken_us) {
            sketch.add(us);
        }
    }

    fn merge(&mut self, other: &DimCounters) {
        self.records += other.records;
        self.bytes_sent = self.bytes_sent.saturating_add(other.bytes_sent);
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
        match (&mut self.time_taken, &other.time_taken) {
            (Some(mine), Some(theirs)) => mine.merge(theirs).expect("latency sketches share their parameters"),
            (None, Some(theirs)) => self.time_taken = Some(theirs.clone()),
            _ => {}
        }
    }
}

/// Key of an extra-dimension counter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DimKey {
    /// The distribution.
    pub distribution: String,
    /// The dimension.
    pub dimension: Dimension,
    /// Its value.
    pub value: DimValue,
    /// Window start, epoch milliseconds.
    pub window_start_ms: i64,
}

/// What a slice of records aggregates to.
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// One summary per distribution.
    pub per_distribution: BTreeMap<String, Summary>,
    /// Extra-dimension counters (empty unless configured), capped.
    pub dimensions: BTreeMap<DimKey, DimCounters>,
    /// Lines that did not parse.
    pub bad_lines: u64,
    /// Of those, lines whose field count did not match the layout.
    pub field_count_mismatches: u64,
    /// Records in the slice.
    pub source_records: usize,
    /// Records an enrichment rule asked to drop (not counted, not forwarded).
    pub dropped_by_plugins: u64,
    /// The sampling rate of these records (1–100 %), when known: counts published from
    /// this aggregate are scaled by 100 / rate.
    pub sampling_rate: Option<u32>,
    /// Alert context per (distribution, window start): see [`crate::context`].
    pub context: BTreeMap<(String, i64), crate::context::WindowContext>,
}

impl Aggregate {
    /// An empty aggregate of `source_records` records at `sampling_rate`.
    pub fn new(source_records: usize, sampling_rate: Option<u32>) -> Self {
        Aggregate {
            per_distribution: BTreeMap::new(),
            dimensions: BTreeMap::new(),
            bad_lines: 0,
            field_count_mismatches: 0,
            source_records,
            dropped_by_plugins: 0,
            sampling_rate,
            context: BTreeMap::new(),
        }
    }

    /// Every distribution merged into one summary (bad lines included).
    pub fn total(&self, options: SummaryOptions) -> Summary {
        let mut total = Summary::new(options);
        for s in self.per_distribution.values() {
            total.merge(s).expect("summaries share options");
        }
        total.bad_lines += self.bad_lines;
        total
    }

    /// The suspicious clients of every window of every distribution, judged on this
    /// slice's records (as the `SuspiciousClients` metric is): `(distribution, suspect)`,
    /// windows starting before `since_ms` left out.
    pub fn suspects(&self, thresholds: &cflog_core::suspicious::SuspectThresholds, since_ms: i64) -> Vec<(String, cflog_core::suspicious::Suspect)> {
        use cflog_core::suspicious::{ClientKind, judge_window};
        let mut out = Vec::new();
        for (dist, s) in &self.per_distribution {
            let mut found = Vec::new();
            for (&start, w) in s.windows.range(since_ms..) {
                judge_window(thresholds, start, s.window_ms(), [(ClientKind::Ip, &w.clients.ip), (ClientKind::Asn, &w.clients.asn)], &mut found);
            }
            out.extend(found.into_iter().map(|x| (dist.clone(), x)));
        }
        out
    }

    /// `100 / sampling rate`: what one logged record stands for.
    pub fn scale(&self) -> f64 {
        self.sampling_rate.map_or(1.0, |r| 100.0 / f64::from(r.clamp(1, 100)))
    }

    /// Rollup items: one per (distribution, window).
    pub fn rollups(&self) -> Vec<Rollup> {
        let scale = self.scale();
        let mut out = Vec::new();
        for (dist, s) in &self.per_distribution {
            for (start, w) in &s.windows {
                out.push(Rollup {
                    distribution: dist.clone(),
                    window_start_ms: *start,
                    records: w.records,
                    bytes_sent: w.bytes_sent,
                    est_records: w.records as f64 * scale,
                    est_bytes_sent: w.bytes_sent as f64 * scale,
                    sampling_rate: self.sampling_rate,
                    status_class: w.status_class,
                    cache_hits: w.cache_hits,
                    cache_misses: w.cache_misses,
                    time_taken_us_sum: w.time_taken.sum() as u64,
                    time_taken_count: w.time_taken.count(),
                    context: crate::context::counters(self.context.get(&(dist.clone(), *start)), w),
                });
            }
        }
        out
    }
}

/// Keeps the busiest values of each (distribution, dimension) over the batch (`cap_of` of
/// the dimension); folds the rest into [`DimValue::Other`].
pub fn cap_dimensions(raw: HashMap<DimKey, DimCounters>, cap_of: impl Fn(Dimension) -> usize) -> BTreeMap<DimKey, DimCounters> {
    let mut totals: HashMap<(&str, Dimension, &DimValue), u64> = HashMap::new();
    for (k, c) in &raw {
        *totals.entry((k.distribution.as_str(), k.dimension, &k.value)).or_default() += c.records;
    }
    let mut ranked: BTreeMap<(&str, Dimension), Vec<(u64, &DimValue)>> = BTreeMap::new();
    for ((dist, dimension, value), n) in totals {
        ranked.entry((dist, dimension)).or_default().push((n, value));
    }
    let mut keep: HashSet<(String, Dimension, DimValue)> = HashSet::new();
    for ((dist, dimension), mut values) in ranked {
        values.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        for (_, v) in values.into_iter().take(cap_of(dimension)) {
            keep.insert((dist.to_string(), dimension, v.clone()));
        }
    }
    let mut out: BTreeMap<DimKey, DimCounters> = BTreeMap::new();
    for (mut k, c) in raw {
        if !keep.contains(&(k.distribution.clone(), k.dimension, k.value.clone())) {
            k.value = DimValue::Other;
        }
        let dimension = k.dimension;
        out.entry(k).or_insert_with(|| DimCounters::of(dimension)).merge(&c);
    }
    out
}
