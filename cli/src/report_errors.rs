//! Bad lines on stderr as `FILE:LINE: field F: reason`, and the final count.

use crate::input::LineError;

/// Prints bad lines (up to a limit) and counts all of them.
#[derive(Debug)]
pub struct ErrorReporter {
    limit: Option<u64>,
    bad: u64,
    good: u64,
}

impl ErrorReporter {
    /// `limit`: how many bad lines to print; all are counted. `None` prints every one.
    pub fn new(limit: Option<u64>) -> Self {
        ErrorReporter { limit, bad: 0, good: 0 }
    }

    /// Counts a good record.
    pub fn good(&mut self) {
        self.good += 1;
    }

    /// Counts a bad line and prints it while under the limit.
    pub fn report(&mut self, file: &str, e: &LineError) {
        self.bad += 1;
        if self.limit.is_none_or(|l| self.bad <= l) {
            eprintln!("{file}:{}: {e}", e.line());
        }
    }

    /// Good records so far.
    pub fn records(&self) -> u64 {
        self.good
    }

    /// Bad lines so far.
    pub fn bad(&self) -> u64 {
        self.bad
    }

    /// Prints the final count when there were bad lines.
    pub fn summary(&self, files: usize) {
        if self.bad == 0 {
            return;
        }
        let total = self.bad + self.good;
        let hidden = self.limit.map_or(0, |l| self.bad.saturating_sub(l));
        let pct = 100.0 * self.bad as f64 / total.max(1) as f64;
        eprint!("cflog: {} bad line(s) of {total} ({pct:.2} %) in {files} file(s)", self.bad);
        if hidden > 0 {
            eprint!("; {hidden} not shown (raise --max-errors)");
        }
        eprintln!();
    }
}
