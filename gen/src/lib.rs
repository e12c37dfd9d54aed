//! Synthetic CloudFront logs for demos, tests and benchmarks.
//!
//! [`generate`] writes real-time records (TAB-separated, one per line, no header) or a
//! standard W3C log (`#Version`/`#Fields` header, then TAB-separated rows) from a seeded
//! model of a small web property: four sites behind four distributions (plus a
//! continuous-deployment staging copy of one), ~5,000 URLs drawn from a Zipf law, a few
//! thousand viewers with a scraper and two crawlers among the heavy hitters, ~26 edge
//! locations with matching countries and ASNs, realistic status/cache mixes and
//! lognormal latencies.
//!
//! The output is a pure function of [`GenOptions`]: the PRNG (xoshiro256**) is
//! implemented here, integers are formatted by hand, and the only transcendental
//! functions come from the pure-Rust `libm` crate, so the bytes do not depend on the
//! platform's C math library or on the Rust release.
//!
//! Its own crate, below every host, because the CLI (`cflog gen`), the tests of the
//! CLI, the Lambda, the browser engine and the cross-host tests, and the benchmarks all
//! need it. Split by concern: `rng` the PRNG and distributions, `text` the
//! log encoding of values, `tables` the static model, `world` the pools built once per
//! run, `record` and `headers` one record being drawn, `generator` the drawing, `write`
//! the line.
//!
//! ```
//! use cflog_gen::{GenOptions, generate};
//!
//! let mut out = Vec::new();
//! generate(&GenOptions { lines: 3, seed: 7, ..GenOptions::default() }, &mut out).unwrap();
//! assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
//! ```

mod generator;
mod headers;
mod record;
mod rng;
mod tables;
mod text;
mod world;
mod write;
#[cfg(test)]
mod tests;

use std::io::{self, Write};

use cflog_core::{Field, Format, Schema};

use crate::generator::Generator;
use crate::record::Rec;

/// 2026-11-01T00:00:00Z in epoch milliseconds, the default start of the generated traffic.
pub const DEFAULT_START_MS: i64 = 1_793_491_200_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Real-time records or a standard (W3C) log.
    pub format: Format,
    /// The columns to write. `None`: the 46-field real-time release
    /// ([`Schema::realtime_release`]`(46)`) or the 33-column standard layout
    /// ([`Schema::standard_default`]). Its format must match `format`.
    pub schema: Option<Schema>,
    /// How many records.
    pub lines: u64,
    /// PRNG seed: the same options always give the same bytes.
    pub seed: u64,
    /// Time of the first request, epoch milliseconds (UTC); from 1970 to year 9999.
    pub start_ms: i64,
    /// Mean request rate; inter-arrival times are exponential.
    pub requests_per_second: f64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            format: Format::RealTime,
            schema: None,
            lines: 1000,
            seed: 1,
            start_ms: DEFAULT_START_MS,
            requests_per_second: 200.0,
        }
    }
}

impl GenOptions {
    /// The schema that will be written: the given one or the format's default.
    pub fn effective_schema(&self) -> Schema {
        match (&self.schema, self.format) {
            (Some(s), _) => s.clone(),
            (None, Format::RealTime) => Schema::realtime_release(46).expect("release 46 exists"),
            (None, Format::Standard) => Schema::standard_default(),
        }
    }
}

/// Writes `opts.lines` generated records to `out` (flushed at the end).
///
/// Output is assembled in an internal 64 KiB buffer and handed to `out` in large
/// `write_all` calls; wrap files or stdout in a `BufWriter` anyway if they are written
/// elsewhere too.
pub fn generate<W: Write>(opts: &GenOptions, mut out: W) -> io::Result<()> {
    let schema = opts.effective_schema();
    if schema.format() != opts.format {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the schema is a {} schema but the format is {}", schema.format().name(), opts.format.name()),
        ));
    }
    if !(0..MAX_START_MS).contains(&opts.start_ms) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "start_ms must be between 1970 and year 9999"));
    }
    if !(opts.requests_per_second.is_finite() && opts.requests_per_second > 0.0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "requests_per_second must be a positive number"));
    }
    let plan: Vec<Option<Field>> = schema.columns().iter().map(|c| c.field).collect();
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8192);
    if opts.format == Format::Standard {
        buf.extend_from_slice(b"#Version: 1.0\n#Fields:");
        for name in schema.names() {
            buf.push(b' ');
            buf.extend_from_slice(name.as_bytes());
        }
        buf.push(b'\n');
    }
    let mut g = Generator::new(opts);
    let mut rec = Rec::default();
    for _ in 0..opts.lines {
        g.next_record(&mut rec);
        g.write_record(&rec, &plan, &mut buf);
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()
}

const FLUSH_AT: usize = 64 * 1024;

/// 9000-01-01T00:00:00Z: leaves room for the traffic to run on without reaching year 10000.
const MAX_START_MS: i64 = 221_845_392_000_000;
