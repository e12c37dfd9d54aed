//! What `cflog top` does with the bytes its source reads: cut them into lines, choose the
//! layout from the first line (as `analyze` does, NDJSON included), parse, filter, and add
//! each record to the sliding window; count what is not a record.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use cflog_core::{Field, LineSplitter, Record, RecordBuf};

use super::window::SlidingWindow;
use crate::input::{LineError, LineReader};
use crate::layout::LayoutChoice;

/// Which records the view keeps. The hook for the shared filters (`--status`,
/// `--uri-prefix`, …): a record for which it returns `false` is counted in
/// [`Totals::filtered`] and not shown.
pub type RecordFilter = Arc<dyn Fn(&Record<'_>) -> bool + Send + Sync>;

/// Error responses kept for the "recent errors" list.
pub const RECENT_ERRORS: usize = 8;

/// Counts since `cflog top` started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Records read (in the window or not, filtered or not).
    pub records: u64,
    /// Lines that are not records.
    pub bad_lines: u64,
    /// Records the filter left out.
    pub filtered: u64,
}

/// One error response (status 400 and above), as the list of recent errors shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentError {
    /// Record time (epoch ms), when the layout has one.
    pub ts_ms: Option<i64>,
    /// HTTP status.
    pub status: u16,
    /// The URI path, decoded (`-` when absent).
    pub uri: String,
    /// The edge location code (`-` when absent).
    pub edge: String,
}

/// The window and the counts, fed line by line.
pub struct Tally {
    /// The sliding window.
    pub window: SlidingWindow,
    /// Counts since the start.
    pub totals: Totals,
    /// The last error responses, newest last.
    pub recent_errors: VecDeque<RecentError>,
    /// The last bad line: `line N: reason`.
    pub last_bad: Option<String>,
    filter: Option<RecordFilter>,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally").field("totals", &self.totals).field("filtered", &self.filter.is_some()).finish_non_exhaustive()
    }
}

impl Tally {
    fn line(&mut self, reader: &mut LineReader, buf: &mut RecordBuf, line: &[u8], now: Instant) {
        match reader.parse(line, buf) {
            Ok(None) => {}
            Ok(Some(record)) => {
                self.totals.records += 1;
                if self.filter.as_ref().is_some_and(|keep| !keep(&record)) {
                    self.totals.filtered += 1;
                    return;
                }
                match self.window.add(&record, now) {
                    Ok(()) => self.note_error(&record),
                    Err(e) => {
                        self.totals.records -= 1;
                        self.bad(&LineError::Parse(e));
                    }
                }
            }
            Err(e) => self.bad(&e),
        }
    }

    fn bad(&mut self, e: &LineError) {
        self.totals.bad_lines += 1;
        self.last_bad = Some(format!("line {}: {e}", e.line()));
    }

    fn note_error(&mut self, record: &Record<'_>) {
        let Ok(Some(status)) = record.status() else { return };
        if status < 400 {
            return;
        }
        if self.recent_errors.len() == RECENT_ERRORS {
            self.recent_errors.pop_front();
        }
        self.recent_errors.push_back(RecentError {
            ts_ms: record.timestamp_ms().ok().flatten(),
            status,
            uri: record.uri_path().map_or_else(|| "-".into(), |u| u.into_owned()),
            edge: record.text(Field::EdgeLocation).ok().flatten().unwrap_or("-").to_string(),
        });
    }
}

/// Bytes in, records into the [`Tally`].
pub struct Feed {
    name: String,
    layout: LayoutChoice,
    reader: Option<LineReader>,
    head: Vec<u8>,
    splitter: LineSplitter,
    buf: RecordBuf,
    /// What was read.
    pub tally: Tally,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("name", &self.name).field("tally", &self.tally).finish_non_exhaustive()
    }
}

impl Feed {
    /// A feed for the input called `name`, with a window `span_ms` wide.
    pub fn new(name: &str, layout: LayoutChoice, span_ms: u64, filter: Option<RecordFilter>) -> Feed {
        Feed {
            name: name.to_string(),
            layout,
            reader: None,
            head: Vec::new(),
            splitter: LineSplitter::new(),
            buf: RecordBuf::new(),
            tally: Tally {
                window: SlidingWindow::new(span_ms),
                totals: Totals::default(),
                recent_errors: VecDeque::new(),
                last_bad: None,
                filter,
            },
        }
    }

    /// Adds bytes of the input (lines may straddle calls). Fails only when no layout fits
    /// the first line (a real-time log without `--fields` whose field count is unknown).
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Result<()> {
        if self.reader.is_none() {
            self.head.extend_from_slice(bytes);
            if !self.head.contains(&b'\n') {
                return Ok(());
            }
            self.reader = Some(LineReader::for_input(&self.layout, &self.name, &self.head)?);
            let head = std::mem::take(&mut self.head);
            return self.push(&head, now);
        }
        let (Some(reader), tally, buf) = (self.reader.as_mut(), &mut self.tally, &mut self.buf) else { return Ok(()) };
        self.splitter.push(bytes, |line| tally.line(reader, buf, line, now));
        Ok(())
    }

    /// Ends the input: a last line without `\n` is read; the next bytes start a new input
    /// (a rotated or truncated file), whose layout is chosen again from its first line.
    pub fn restart(&mut self, now: Instant) -> Result<()> {
        if self.reader.is_none() && !self.head.is_empty() {
            self.head.push(b'\n');
            let head = std::mem::take(&mut self.head);
            self.push(&head, now)?;
        }
        if let Some(mut reader) = self.reader.take() {
            let (tally, buf) = (&mut self.tally, &mut self.buf);
            self.splitter.finish(|line| tally.line(&mut reader, buf, line, now));
        }
        self.splitter = LineSplitter::new();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::FormatArg;

    fn feed() -> Feed {
        Feed::new("t", LayoutChoice { format: FormatArg::Auto, realtime: None, double_decode: false }, 60_000, None)
    }

    const HEADER: &str = "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status\n";

    #[test]
    fn lines_straddling_pushes_and_a_last_line_without_newline() {
        let now = Instant::now();
        let mut f = feed();
        let text = format!("{HEADER}2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td.net\t/a\t200\n2019-12-04\t21:02:32\tIAD2\t1\t192.0.2.1\tGET\td.net\t/b\t503\n2019-12-04\t21:02:33\tLAX1\tx\t192.0.2.1\tGET\td.net\t/c\t200\nnot a line");
        for piece in text.as_bytes().chunks(7) {
            f.push(piece, now).unwrap();
        }
        assert_eq!(f.tally.totals.records, 2);
        f.restart(now).unwrap();
        assert_eq!(f.tally.totals, Totals { records: 2, bad_lines: 2, filtered: 0 });
        assert_eq!(f.tally.recent_errors.len(), 1);
        let e = &f.tally.recent_errors[0];
        assert_eq!((e.status, e.uri.as_str(), e.edge.as_str()), (503, "/b", "IAD2"));
        assert_eq!(f.tally.window.view(now).summary.records, 2);
    }

    #[test]
    fn filter_hook_leaves_records_out() {
        let now = Instant::now();
        let keep: RecordFilter = Arc::new(|r: &Record<'_>| r.status().ok().flatten() == Some(200));
        let mut f = Feed::new("t", LayoutChoice { format: FormatArg::Auto, realtime: None, double_decode: false }, 60_000, Some(keep));
        let text = format!("{HEADER}2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td.net\t/a\t200\n2019-12-04\t21:02:32\tIAD2\t1\t192.0.2.1\tGET\td.net\t/b\t503\n");
        f.push(text.as_bytes(), now).unwrap();
        assert_eq!(f.tally.totals, Totals { records: 2, bad_lines: 0, filtered: 1 });
        assert_eq!(f.tally.window.view(now).summary.records, 1);
    }
}
