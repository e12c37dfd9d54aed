//! The sliding window of `cflog top`: per-bucket [`Summary`]s (the core's mergeable
//! aggregates), merged into one on each redraw and dropped once they slide out.
//!
//! Records are placed by their own timestamp, not by arrival, so a backlog read at once
//! (`--from 15m`, a file read from its start) lands where it happened. The window ends at
//! the *log clock*: the newest record time seen, moved on by the wall time since that record
//! arrived. For live traffic that is "now" less the delivery delay; for an old file it is
//! the file's last minutes; when traffic stops, the window slides on and empties, as a
//! live view should.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cflog_core::agg::Merge;
use cflog_core::summary::{Summary, SummaryOptions, coarser_window};
use cflog_core::{ParseError, Record};

/// Buckets in a window at most: the width of a bucket is the window divided by this,
/// rounded up to the core's window ladder (1 s, 5 s, 10 s, 30 s, 1 m, …).
pub const MAX_BUCKETS: u64 = 60;

/// Entries each heavy-hitter list of a bucket tracks (the merged lists keep the same
/// bound: a count is off by at most records/capacity).
pub const TOP_CAPACITY: u32 = 500;

/// The milliseconds since the epoch, now.
pub fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The bucket width for a window of `span_ms`: the smallest width on the core's ladder
/// from 1 s that splits the window into at most [`MAX_BUCKETS`].
pub fn bucket_width(span_ms: u64) -> u64 {
    let mut width = 1_000;
    while span_ms.div_ceil(width) > MAX_BUCKETS {
        let next = coarser_window(width);
        if next == width {
            break;
        }
        width = next;
    }
    width
}

/// The window's summaries by bucket, and the log clock.
#[derive(Debug)]
pub struct SlidingWindow {
    span_ms: u64,
    options: SummaryOptions,
    buckets: BTreeMap<i64, Summary>,
    /// The newest record time seen and when it arrived.
    newest: Option<(i64, Instant)>,
    /// Records that were older than the window when they arrived.
    pub too_old: u64,
}

/// The window as of one redraw.
#[derive(Debug)]
pub struct WindowView {
    /// Every bucket of the window merged.
    pub summary: Summary,
    /// Start and end of the window (epoch ms).
    pub start_ms: i64,
    /// The log clock.
    pub end_ms: i64,
    /// The width of a bucket (the per-bucket series is `summary.windows`).
    pub bucket_ms: u64,
    /// Seconds of the window that can hold records: the window, or less before the first
    /// record in it (so a rate does not start near zero and climb for a whole window).
    pub covered_s: f64,
}

impl SlidingWindow {
    /// An empty window `span_ms` wide.
    pub fn new(span_ms: u64) -> SlidingWindow {
        let options = SummaryOptions {
            window_ms: bucket_width(span_ms),
            top_capacity: TOP_CAPACITY,
            // Every bucket holds one window of exactly its width: never coarsened.
            fixed_windows: true,
            ..SummaryOptions::default()
        };
        SlidingWindow { span_ms, options, buckets: BTreeMap::new(), newest: None, too_old: 0 }
    }

    /// The window's width.
    pub fn span_ms(&self) -> u64 {
        self.span_ms
    }

    /// The width of one bucket.
    pub fn bucket_ms(&self) -> u64 {
        self.options.window_ms
    }

    /// The log clock at `now` (wall time until a record with a time arrives).
    pub fn end_ms(&self, now: Instant) -> i64 {
        match self.newest {
            Some((ts, at)) => ts + now.saturating_duration_since(at).as_millis() as i64,
            None => wall_ms(),
        }
    }

    /// Adds a record, in the bucket of its time (a record without one, in the bucket of
    /// the clock). A record older than the window is counted in [`SlidingWindow::too_old`]
    /// only. A record whose fields do not parse changes nothing and is returned as an error.
    pub fn add(&mut self, record: &Record<'_>, now: Instant) -> Result<(), ParseError> {
        let ts = record.timestamp_ms()?;
        if let Some(ts) = ts
            && self.newest.is_none_or(|(newest, at)| ts > newest + now.saturating_duration_since(at).as_millis() as i64)
        {
            self.newest = Some((ts, now));
        }
        let end = self.end_ms(now);
        let ts = ts.unwrap_or(end);
        if ts < end - self.span_ms as i64 {
            // Validate it all the same: a bad line is a bad line, wherever it falls.
            record.validate()?;
            self.too_old += 1;
            return Ok(());
        }
        let width = self.options.window_ms as i64;
        let start = ts - ts.rem_euclid(width);
        let options = self.options;
        self.buckets.entry(start).or_insert_with(|| Summary::new(options)).add(record)
    }

    /// Drops the buckets that slid out and merges the rest.
    pub fn view(&mut self, now: Instant) -> WindowView {
        let end = self.end_ms(now);
        let start = end - self.span_ms as i64;
        let width = self.options.window_ms as i64;
        // A bucket stays while any of it is inside the window.
        self.buckets = self.buckets.split_off(&(start - width + 1));
        let mut summary = Summary::new(self.options);
        for bucket in self.buckets.values() {
            // Same options throughout and counts far below u64::MAX: merging cannot fail.
            if let Err(e) = summary.merge(bucket) {
                debug_assert!(false, "window buckets do not merge: {e}");
            }
        }
        let first = summary.first_ms.unwrap_or(end).max(start);
        let covered_s = ((end - first) as f64 / 1000.0).clamp(1.0, self.span_ms as f64 / 1000.0);
        WindowView { summary, start_ms: start, end_ms: end, bucket_ms: self.options.window_ms, covered_s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_core::{Parser, RecordBuf, Schema};
    use std::time::Duration;

    fn parser() -> Parser {
        Parser::realtime(Schema::from_field_names(&["timestamp", "sc-status", "cs-uri-stem"]).unwrap())
    }

    fn add(w: &mut SlidingWindow, line: &str, now: Instant) {
        let mut p = parser();
        let mut buf = RecordBuf::new();
        let record = p.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap();
        w.add(&record, now).unwrap();
    }

    #[test]
    fn bucket_widths() {
        assert_eq!(bucket_width(60_000), 1_000);
        assert_eq!(bucket_width(300_000), 5_000);
        assert_eq!(bucket_width(3_600_000), 60_000);
        assert_eq!(bucket_width(10_000), 1_000);
    }

    #[test]
    fn slides_on_the_log_clock() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(60_000);
        // Three records at 1,000.0 s, 1,030.5 s and 1,059.9 s of log time.
        add(&mut w, "1000.000\t200\t/a", t0);
        add(&mut w, "1030.500\t404\t/b", t0);
        add(&mut w, "1059.900\t503\t/b", t0);
        let v = w.view(t0);
        assert_eq!(v.end_ms, 1_059_900);
        assert_eq!(v.summary.records, 3);
        assert_eq!(v.summary.status_class[4], 1);
        assert_eq!(v.summary.status_class[5], 1);
        // 20.0 s later the window is 1,019.9 s – 1,079.9 s: the first record (and its
        // bucket) has slid out.
        let v = w.view(t0 + Duration::from_millis(20_000));
        assert_eq!(v.end_ms, 1_079_900);
        assert_eq!(v.summary.records, 2);
        // A record older than the window counts only as too old.
        add(&mut w, "1000.000\t200\t/a", t0 + Duration::from_millis(20_000));
        assert_eq!(w.too_old, 1);
        assert_eq!(w.view(t0 + Duration::from_millis(20_000)).summary.records, 2);
        // Two minutes on, nothing is left.
        assert_eq!(w.view(t0 + Duration::from_secs(120)).summary.records, 0);
    }

    #[test]
    fn covered_seconds_start_at_the_first_record() {
        let t0 = Instant::now();
        let mut w = SlidingWindow::new(300_000);
        add(&mut w, "1000.000\t200\t/a", t0);
        add(&mut w, "1010.000\t200\t/a", t0);
        let v = w.view(t0);
        assert_eq!(v.covered_s, 10.0);
        // 200 s on: from the first record to the clock.
        assert_eq!(w.view(t0 + Duration::from_secs(200)).covered_s, 210.0);
        // 293 s on: the window starts after the first record (still in a bucket): all of it counts.
        assert_eq!(w.view(t0 + Duration::from_secs(293)).covered_s, 300.0);
    }
}
