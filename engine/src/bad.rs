//! Keeping the first bad lines: every bad line is counted (in the summary), and the `keep`
//! lowest by (input, line) are kept with their messages, whatever order chunks arrive in.

/// A bad line, located.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BadLine {
    /// Index of the input, in the order given.
    pub input: usize,
    /// 1-based line number in that input.
    pub line: u64,
    /// `field F: reason`.
    pub message: String,
}

/// The `keep` lowest bad lines seen.
#[derive(Debug, Clone, Default)]
pub struct BadLines {
    keep: usize,
    lines: Vec<BadLine>,
}

impl BadLines {
    /// Keeps at most `keep` lines.
    pub fn new(keep: usize) -> BadLines {
        BadLines { keep, lines: Vec::new() }
    }

    /// Offers one bad line.
    pub fn add(&mut self, entry: BadLine) {
        // Chunks arrive roughly in order, so once the list is full a later line rarely
        // displaces one.
        if self.lines.len() < self.keep {
            self.lines.push(entry);
        } else if let Some(max) = self.lines.iter_mut().max().filter(|m| **m > entry) {
            *max = entry;
        }
    }

    /// Offers every line of `other` (another worker's).
    pub fn merge(&mut self, other: BadLines) {
        for entry in other.lines {
            self.add(entry);
        }
    }

    /// The kept lines, sorted by input, then line.
    pub fn into_sorted(mut self) -> Vec<BadLine> {
        self.lines.sort();
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(input: usize, line: u64) -> BadLine {
        BadLine { input, line, message: String::new() }
    }

    #[test]
    fn keeps_the_lowest_in_any_order() {
        let mut a = BadLines::new(3);
        for l in [9, 2, 7, 1, 8] {
            a.add(bad(0, l));
        }
        let mut b = BadLines::new(3);
        b.add(bad(1, 1));
        b.add(bad(0, 5));
        a.merge(b);
        let kept: Vec<(usize, u64)> = a.into_sorted().into_iter().map(|b| (b.input, b.line)).collect();
        assert_eq!(kept, [(0, 1), (0, 2), (0, 5)]);
        let mut none = BadLines::new(0);
        none.add(bad(0, 1));
        assert!(none.into_sorted().is_empty());
    }
}
