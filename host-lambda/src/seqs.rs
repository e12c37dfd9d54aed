//! Kinesis sequence numbers padded so that they compare as strings: one function for one
//! number ([`pad_seq`]) and one buffer for a batch's ([`PaddedSeqs`]), which the progress
//! markers of [`crate::handler`] are read and written with.

use crate::names::limits;

/// Kinesis sequence numbers padded so they compare as strings: what
/// `format!("{seq:0>64}")` writes (zeros before, up to 64 characters), without the
/// formatting machinery (~3,300 instructions a record through `format!`; issue 13).
pub fn pad_seq(seq: &str) -> String {
    let mut s = String::new();
    push_padded(&mut s, seq);
    s
}

fn push_padded(out: &mut String, seq: &str) {
    let chars = if seq.is_ascii() { seq.len() } else { seq.chars().count() };
    let zeros = limits::SEQUENCE_DIGITS.saturating_sub(chars);
    const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const _: () = assert!(ZEROS.len() == limits::SEQUENCE_DIGITS);
    out.reserve(zeros + seq.len());
    out.push_str(&ZEROS[..zeros]);
    out.push_str(seq);
}

/// The padded sequence numbers of a batch ([`pad_seq`] of each), one after the other in
/// one buffer: no allocation per record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaddedSeqs {
    text: String,
    ends: Vec<usize>,
}

impl PaddedSeqs {
    /// The padded sequence numbers of `seqs`, in order.
    pub fn new<'a>(seqs: impl ExactSizeIterator<Item = &'a str>) -> Self {
        let mut p = PaddedSeqs { text: String::with_capacity(seqs.len() * limits::SEQUENCE_DIGITS), ends: Vec::with_capacity(seqs.len()) };
        for seq in seqs {
            push_padded(&mut p.text, seq);
            p.ends.push(p.text.len());
        }
        p
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many, from `from` on, compare at most `last` before the first that does not
    /// (`partition_point` of `self[from..]`).
    pub fn count_up_to(&self, from: usize, last: &str) -> usize {
        let (mut lo, mut hi) = (from, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if &self[mid] <= last {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo - from
    }
}

impl std::ops::Index<usize> for PaddedSeqs {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Each is `pad_seq` of its number (the batch's padded numbers were a `Vec` of
        /// them), and `count_up_to` is `partition_point` over that `Vec`.
        #[test]
        fn batch_buffer_holds_pad_seq_of_each(
            seqs in proptest::collection::vec("[0-9]{1,5}|[0-9]{60,70}|\\PC{0,8}", 0..12),
            from in 0usize..12,
            last in "[0-9]{0,6}",
        ) {
            let mut sorted = seqs.clone();
            sorted.sort_by_key(|s| pad_seq(s));
            let p = PaddedSeqs::new(sorted.iter().map(String::as_str));
            let want: Vec<String> = sorted.iter().map(|s| pad_seq(s)).collect();
            proptest::prop_assert_eq!(p.len(), want.len());
            for (i, w) in want.iter().enumerate() {
                proptest::prop_assert_eq!(&p[i], w.as_str());
            }
            let from = from.min(want.len());
            let last = pad_seq(&last);
            proptest::prop_assert_eq!(p.count_up_to(from, &last), want[from..].partition_point(|s| s <= &last));
        }
    }
}
