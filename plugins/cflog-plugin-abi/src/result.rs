//! The result (guest → host): [`encode_record`] writes one record's answer through a
//! closure (the reference encoding: the guest SDK writes the same bytes in place, and its
//! tests compare against this); [`decode_result`] validates a whole answer in one pass
//! and hands each record, tag and label to a [`Visit`]or as it goes (the wasmtime host
//! and the browser keep them in their own tables, so nothing is read or checked twice; a
//! record repeating a recent one byte for byte is handed out again unread, or named by
//! the slot it was remembered in, [`Visit::repeat`]);
//! [`ResultReader`] validates a whole answer and hands out borrowed per-record views.

use crate::{FLAG_DROP, MAX_PER_RECORD, MAX_VALUE_LEN, WireError, read_u32, valid_key};

/// Writes the result header for `count` records (patch it in place at offset 0 once the
/// count is known: the header is the count, little-endian).
pub fn encode_count(count: u32) -> [u8; 4] {
    count.to_le_bytes()
}

/// Writes one record's answer through `put`. Entries the ABI forbids (invalid keys,
/// values over [`MAX_VALUE_LEN`], non-finite labels, more than [`MAX_PER_RECORD`] of
/// either) are left out, so an encoded result always validates.
pub fn encode_record<'k, T, L>(put: &mut impl FnMut(&[u8]), drop: bool, tags: T, labels: L)
where
    T: Iterator<Item = (&'k str, &'k str)> + Clone,
    L: Iterator<Item = (&'k str, f64)> + Clone,
{
    let ok_tag = |(k, v): &(&str, &str)| valid_key(k.as_bytes()) && v.len() <= MAX_VALUE_LEN;
    let ok_label = |(k, v): &(&str, f64)| valid_key(k.as_bytes()) && v.is_finite();
    let nt = tags.clone().filter(ok_tag).take(MAX_PER_RECORD).count() as u8;
    let nl = labels.clone().filter(ok_label).take(MAX_PER_RECORD).count() as u8;
    put(&[if drop { FLAG_DROP } else { 0 }, nt, nl]);
    for (k, v) in tags.filter(ok_tag).take(MAX_PER_RECORD) {
        put(&[k.len() as u8]);
        put(k.as_bytes());
        put(&(v.len() as u16).to_le_bytes());
        put(v.as_bytes());
    }
    for (k, v) in labels.filter(ok_label).take(MAX_PER_RECORD) {
        put(&[k.len() as u8]);
        put(k.as_bytes());
        put(&v.to_le_bytes());
    }
}

/// A validated result: every record present, every flag, key, value and label checked.
#[derive(Debug, Clone, Copy)]
pub struct ResultReader<'a> {
    bytes: &'a [u8],
    count: u32,
}

/// One record's answer, borrowed from the result bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordView<'a> {
    /// The rule asks for the record to be dropped.
    pub drop: bool,
    tag_count: u8,
    label_count: u8,
    body: &'a [u8],
    offset: u32,
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let s = self.b.get(self.at..self.at.checked_add(n).ok_or(WireError::Truncated)?).ok_or(WireError::Truncated)?;
        self.at += n;
        Ok(s)
    }

    fn key(&mut self) -> Result<&'a str, WireError> {
        self.key_seen("")
    }

    /// A key; `seen` is a key checked before: bytes equal to it are taken as it,
    /// unchecked again.
    fn key_seen(&mut self, seen: &'a str) -> Result<&'a str, WireError> {
        let len = self.take(1)?[0] as usize;
        let key = self.take(len)?;
        if !seen.is_empty() && key == seen.as_bytes() {
            return Ok(seen);
        }
        if !valid_key(key) {
            return Err(WireError::BadKey);
        }
        core::str::from_utf8(key).map_err(|_| WireError::BadKey)
    }

    fn tag(&mut self) -> Result<(&'a str, &'a str), WireError> {
        self.tag_seen(&mut ("", ""))
    }

    /// A tag; `seen` is a tag checked before (updated to this one): a key or value whose
    /// bytes equal it is taken as it, unchecked again. Rules repeat the same few keys and
    /// values record after record, so most are compared, not validated.
    fn tag_seen(&mut self, seen: &mut (&'a str, &'a str)) -> Result<(&'a str, &'a str), WireError> {
        let key = self.key_seen(seen.0)?;
        let l = self.take(2)?;
        let len = u16::from_le_bytes([l[0], l[1]]) as usize;
        let value = self.take(len)?;
        if len > MAX_VALUE_LEN {
            return Err(WireError::BadValue);
        }
        let value = if value == seen.1.as_bytes() { seen.1 } else { core::str::from_utf8(value).map_err(|_| WireError::BadValue)? };
        *seen = (key, value);
        Ok((key, value))
    }

    fn label(&mut self) -> Result<(&'a str, f64), WireError> {
        let key = self.key()?;
        let v = self.take(8)?;
        let value = f64::from_le_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]]);
        if !value.is_finite() {
            return Err(WireError::BadLabel);
        }
        Ok((key, value))
    }

    /// Reads and checks one record.
    fn record(&mut self) -> Result<RecordView<'a>, WireError> {
        self.visit_record(&mut (), &mut Seen::default())
    }

    /// Reads and checks one record, handing its parts to `v` as they are checked.
    fn visit_record(&mut self, v: &mut impl Visit<'a>, seen: &mut Seen<'a>) -> Result<RecordView<'a>, WireError> {
        let offset = self.at as u32;
        let h = self.take(3)?;
        let (flags, tag_count, label_count) = (h[0], h[1], h[2]);
        if flags & !FLAG_DROP != 0 {
            return Err(WireError::BadFlags);
        }
        v.record(flags & FLAG_DROP != 0);
        let start = self.at;
        for t in 0..tag_count as usize {
            let mut none = ("", "");
            let (key, value) = self.tag_seen(seen.tags.get_mut(t).unwrap_or(&mut none))?;
            v.tag(key, value);
        }
        for _ in 0..label_count {
            let (key, value) = self.label()?;
            v.label(key, value);
        }
        Ok(RecordView { drop: flags & FLAG_DROP != 0, tag_count, label_count, body: &self.b[start..self.at], offset })
    }
}

/// The tags of earlier records, by position in their record (the first few), whose
/// bytes need only be compared when they come again.
#[derive(Default)]
struct Seen<'a> {
    tags: [(&'a str, &'a str); 4],
}

/// What [`decode_result`] hands out, in result order: each record, then its tags, then
/// its labels, every one already checked. On an error the calls made so far stand
/// for nothing (the caller discards what it kept).
pub trait Visit<'a> {
    /// A new record starts; `drop`: the rule asks for it to be dropped.
    fn record(&mut self, drop: bool);
    /// A tag of the current record.
    fn tag(&mut self, key: &'a str, value: &'a str);
    /// A numeric label of the current record.
    fn label(&mut self, key: &'a str, value: f64);
    /// The record just visited (its `record`, tags and labels) is now remembered as
    /// `slot` (below [`RECENT`], replacing what that slot held): a later record that
    /// repeats its bytes may come as [`repeat`](Self::repeat)`(slot)`. The default does
    /// nothing.
    fn remembered(&mut self, slot: usize) {
        let _ = slot;
    }
    /// A record repeats, byte for byte, the one remembered as `slot`. Return `true` when
    /// the visitor took it as that record again (a host that kept what it made of
    /// `slot` reuses it); `false`, the default, hands the record out again through
    /// [`record`](Self::record), [`tag`](Self::tag) and [`label`](Self::label).
    fn repeat(&mut self, slot: usize) -> bool {
        let _ = slot;
        false
    }
}

/// Validation only.
impl<'a> Visit<'a> for () {
    fn record(&mut self, _: bool) {}
    fn tag(&mut self, _: &'a str, _: &'a str) {}
    fn label(&mut self, _: &'a str, _: f64) {}
}

/// Validates `bytes` as a guest's result for `expected` records in one pass, handing
/// every record, tag and label to `v` as it is checked (the same checks as
/// [`ResultReader::new`]).
///
/// Rules answer the same few ways record after record (`status_class=2xx`, no tag, …):
/// a record whose bytes repeat one of the last four distinct small records byte for
/// byte is handed out again from that one, unchecked (the same bytes decode to the same
/// answer and pass the same checks); any other record is read and checked in full (an
/// empty one, three header bytes, always: reading it costs less than comparing it).
pub fn decode_result<'a>(bytes: &'a [u8], expected: u32, v: &mut impl Visit<'a>) -> Result<(), WireError> {
    let found = read_u32(bytes, 0)?;
    if found != expected {
        return Err(WireError::CountMismatch { expected, found });
    }
    let mut c = Cursor { b: bytes, at: 4 };
    let mut seen = Seen::default();
    let mut recent = Recent::default();
    for _ in 0..found {
        let start = c.at;
        // A record without tags or labels is its three header bytes: read at once.
        if bytes.get(start + 1..start + 3) == Some(&[0, 0]) {
            c.visit_record(v, &mut seen)?;
            continue;
        }
        if let Some((slot, r)) = recent.find(bytes, start) {
            if !v.repeat(slot) {
                r.replay(v);
            }
            c.at = start + r.len as usize;
            continue;
        }
        let mut kept = Kept { v, answer: Answer::default() };
        c.visit_record(&mut kept, &mut seen)?;
        let answer = kept.answer;
        if let Some(slot) = recent.remember(bytes, start, c.at, answer) {
            v.remembered(slot);
        }
    }
    if c.at != bytes.len() {
        return Err(WireError::TrailingBytes);
    }
    Ok(())
}

/// How many distinct earlier records [`decode_result`] compares a record with (the
/// slots of [`Visit::remembered`]).
pub const RECENT: usize = 4;
/// Most tags (and, separately, labels) of a record [`decode_result`] remembers.
const SMALL: usize = 4;

/// One checked record's answer, if it is small enough to remember.
#[derive(Clone, Copy, Default)]
struct Answer<'a> {
    /// Where its bytes lie in the result (set when remembered).
    start: u32,
    len: u32,
    drop: bool,
    tags: [(&'a str, &'a str); SMALL],
    tag_count: u8,
    labels: [(&'a str, f64); SMALL],
    label_count: u8,
    /// More than [`SMALL`] tags or labels: not remembered.
    large: bool,
}

impl<'a> Answer<'a> {
    fn replay(&self, v: &mut impl Visit<'a>) {
        v.record(self.drop);
        for &(key, value) in &self.tags[..usize::from(self.tag_count)] {
            v.tag(key, value);
        }
        for &(key, value) in &self.labels[..usize::from(self.label_count)] {
            v.label(key, value);
        }
    }
}

/// Passes each visit on to `v` and keeps the record's answer.
struct Kept<'v, 'a, V> {
    v: &'v mut V,
    answer: Answer<'a>,
}

impl<'a, V: Visit<'a>> Visit<'a> for Kept<'_, 'a, V> {
    fn record(&mut self, drop: bool) {
        self.answer.drop = drop;
        self.v.record(drop);
    }

    fn tag(&mut self, key: &'a str, value: &'a str) {
        match self.answer.tags.get_mut(usize::from(self.answer.tag_count)) {
            Some(slot) => {
                *slot = (key, value);
                self.answer.tag_count += 1;
            }
            None => self.answer.large = true,
        }
        self.v.tag(key, value);
    }

    fn label(&mut self, key: &'a str, value: f64) {
        match self.answer.labels.get_mut(usize::from(self.answer.label_count)) {
            Some(slot) => {
                *slot = (key, value);
                self.answer.label_count += 1;
            }
            None => self.answer.large = true,
        }
        self.v.label(key, value);
    }
}

/// The last [`RECENT`] distinct small records of a result, newest in `next - 1`.
#[derive(Default)]
struct Recent<'a> {
    answers: [Answer<'a>; RECENT],
    filled: usize,
    next: usize,
    /// The slot the last record found or remembered took: compared first (answers come
    /// in runs; most records of a rule repeat its most common answer).
    last: usize,
}

impl<'a> Recent<'a> {
    /// A remembered record whose bytes the ones at `at` repeat, and its slot.
    fn find(&mut self, bytes: &[u8], at: usize) -> Option<(usize, &Answer<'a>)> {
        let repeats = |a: &Answer<'a>| {
            let (start, len) = (a.start as usize, a.len as usize);
            match (at.checked_add(len).and_then(|end| bytes.get(at..end)), bytes.get(start..start + len)) {
                (Some(x), Some(y)) => same(x, y),
                _ => false,
            }
        };
        let last = self.last;
        let slot = match self.answers[..self.filled].get(last) {
            Some(a) if repeats(a) => last,
            _ => self.answers[..self.filled].iter().enumerate().position(|(i, a)| i != last && repeats(a))?,
        };
        self.last = slot;
        Some((slot, &self.answers[slot]))
    }

    /// Remembers the checked record at `start..end` (unless it is large); the slot it
    /// took.
    fn remember(&mut self, bytes: &[u8], start: usize, end: usize, mut answer: Answer<'a>) -> Option<usize> {
        if answer.large || end > bytes.len() {
            return None;
        }
        answer.start = start as u32;
        answer.len = (end - start) as u32;
        let slot = self.next;
        self.answers[slot] = answer;
        self.last = slot;
        self.next = (slot + 1) % RECENT;
        self.filled = (self.filled + 1).min(RECENT);
        Some(slot)
    }
}

/// `x == y` for slices of one length, compared eight bytes at a time (records are a few
/// dozen bytes: cheaper than a call to `memcmp`).
#[inline]
fn same(x: &[u8], y: &[u8]) -> bool {
    let n = x.len();
    if n != y.len() {
        return false;
    }
    if n < 8 {
        return x == y;
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]));
    let mut i = 0;
    while i + 8 < n {
        if word(x, i) != word(y, i) {
            return false;
        }
        i += 8;
    }
    // The last eight bytes (overlapping the previous word when `n` is not a multiple of 8).
    word(x, n - 8) == word(y, n - 8)
}

impl<'a> ResultReader<'a> {
    /// Validates `bytes` as a guest's result for `expected` records.
    pub fn new(bytes: &'a [u8], expected: u32) -> Result<Self, WireError> {
        decode_result(bytes, expected, &mut ())?;
        Ok(ResultReader { bytes, count: expected })
    }

    /// Records in the result.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the result is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, in order.
    pub fn records(&self) -> impl Iterator<Item = RecordView<'a>> + 'a {
        let mut c = Cursor { b: self.bytes, at: 4 };
        (0..self.count).map_while(move |_| c.record().ok())
    }

    /// The record starting at `offset` (a [`RecordView::offset`] of this result), for
    /// hosts that index records; `None` for an offset that starts no record.
    pub fn record_at(&self, offset: u32) -> Option<RecordView<'a>> {
        record_at(self.bytes, offset)
    }

    /// The validated bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The record starting at `offset` of result `bytes` (checked again on its own), for
/// hosts that keep a validated result's bytes and record offsets rather than a reader.
pub fn record_at(bytes: &[u8], offset: u32) -> Option<RecordView<'_>> {
    Cursor { b: bytes, at: offset as usize }.record().ok()
}

impl<'a> RecordView<'a> {
    /// Where the record starts in the result bytes (see [`ResultReader::record_at`]).
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The tags, in the order the rule added them.
    pub fn tags(self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let mut c = Cursor { b: self.body, at: 0 };
        (0..self.tag_count).map_while(move |_| c.tag().ok())
    }

    /// The numeric labels, in order.
    pub fn labels(self) -> impl Iterator<Item = (&'a str, f64)> + 'a {
        let mut c = Cursor { b: self.body, at: 0 };
        for _ in 0..self.tag_count {
            if c.tag().is_err() {
                break;
            }
        }
        (0..self.label_count).map_while(move |_| c.label().ok())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// `(drop, tags, labels)` of one record.
    type Answer<'a> = (bool, &'a [(&'a str, &'a str)], &'a [(&'a str, f64)]);

    fn encode(records: &[Answer<'_>]) -> Vec<u8> {
        let mut out = Vec::from(encode_count(records.len() as u32));
        for (drop, tags, labels) in records {
            encode_record(&mut |b| out.extend_from_slice(b), *drop, tags.iter().copied(), labels.iter().copied());
        }
        out
    }

    #[test]
    fn result_round_trip_and_hand_encoding() {
        let bytes = encode(&[(true, &[("bot", "googlebot"), ("bad key!", "left out")], &[("score", 0.5), ("nan", f64::NAN)]), (false, &[], &[])]);
        // The layout of the crate docs, written out by hand.
        let mut expected = vec![2, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 9, 0];
        expected.extend_from_slice(b"googlebot");
        expected.extend_from_slice(&[5, b's', b'c', b'o', b'r', b'e']);
        expected.extend_from_slice(&0.5f64.to_le_bytes());
        expected.extend_from_slice(&[0, 0, 0]);
        assert_eq!(bytes, expected);
        let r = ResultReader::new(&bytes, 2).unwrap();
        let recs: Vec<RecordView<'_>> = r.records().collect();
        assert_eq!(recs.len(), 2);
        assert!(recs[0].drop && !recs[1].drop);
        assert_eq!(recs[0].tags().collect::<Vec<_>>(), [("bot", "googlebot")]);
        assert_eq!(recs[0].labels().collect::<Vec<_>>(), [("score", 0.5)]);
        assert_eq!(recs[1].tags().count() + recs[1].labels().count(), 0);
        assert_eq!(r.record_at(recs[1].offset()), Some(recs[1]));
    }

    /// Records every visit as text, for comparing against a hand-written sequence.
    #[derive(Default)]
    struct Log(Vec<std::string::String>);

    impl<'a> Visit<'a> for Log {
        fn record(&mut self, drop: bool) {
            self.0.push(std::format!("record drop={drop}"));
        }
        fn tag(&mut self, key: &'a str, value: &'a str) {
            self.0.push(std::format!("tag {key}={value}"));
        }
        fn label(&mut self, key: &'a str, value: f64) {
            self.0.push(std::format!("label {key}={value}"));
        }
    }

    #[test]
    fn one_pass_decoding_visits_in_result_order() {
        let bytes = encode(&[(true, &[("bot", "googlebot"), ("net", "aws")], &[("score", 0.5)]), (false, &[], &[]), (false, &[("k", "")], &[])]);
        let mut log = Log::default();
        decode_result(&bytes, 3, &mut log).unwrap();
        let want = ["record drop=true", "tag bot=googlebot", "tag net=aws", "label score=0.5", "record drop=false", "record drop=false", "tag k="];
        assert_eq!(log.0, want);
        // The same checks as the reader: a wrong count and a bad value are refused.
        assert_eq!(decode_result(&bytes, 2, &mut ()), Err(WireError::CountMismatch { expected: 2, found: 3 }));
        assert_eq!(decode_result(&[1, 0, 0, 0, 0, 1, 0, 1, b'k', 1, 0, 0xff], 1, &mut ()), Err(WireError::BadValue));
        // A tag that repeats an earlier one is taken without a second check, but one that
        // differs from it in any byte is checked in full.
        let good = [0, 1, 0, 2, b'k', b'1', 1, 0, b'v'];
        let two = |second: &[u8]| {
            let mut b = vec![2, 0, 0, 0];
            b.extend_from_slice(&good);
            b.extend_from_slice(second);
            b
        };
        let mut log = Log::default();
        assert_eq!(decode_result(&two(&good), 2, &mut log), Ok(()));
        assert_eq!(log.0, ["record drop=false", "tag k1=v", "record drop=false", "tag k1=v"]);
        assert_eq!(decode_result(&two(&[0, 1, 0, 2, b'k', b'1', 1, 0, 0xff]), 2, &mut ()), Err(WireError::BadValue));
        assert_eq!(decode_result(&two(&[0, 1, 0, 2, b'k', b' ', 1, 0, b'v']), 2, &mut ()), Err(WireError::BadKey));
        assert_eq!(decode_result(&two(&[0, 1, 0, 1, b'k', 2, 0, b'v', 0x80]), 2, &mut ()), Err(WireError::BadValue));
        assert_eq!(decode_result(&two(&[0, 1, 0, 0, 1, 0, b'v']), 2, &mut ()), Err(WireError::BadKey));
    }

    /// The plain decoder: each record read and checked on its own, nothing remembered
    /// (the oracle for `decode_result`'s handing out of repeated records).
    fn plain(bytes: &[u8], n: u32) -> Result<Vec<std::string::String>, WireError> {
        let found = read_u32(bytes, 0)?;
        if found != n {
            return Err(WireError::CountMismatch { expected: n, found });
        }
        let (mut c, mut log) = (Cursor { b: bytes, at: 4 }, Log::default());
        for _ in 0..found {
            let rec = c.record()?;
            log.record(rec.drop);
            rec.tags().for_each(|(k, v)| log.tag(k, v));
            rec.labels().for_each(|(k, v)| log.label(k, v));
        }
        if c.at != bytes.len() {
            return Err(WireError::TrailingBytes);
        }
        Ok(log.0)
    }

    fn one_pass(bytes: &[u8], n: u32) -> Result<Vec<std::string::String>, WireError> {
        let mut log = Log::default();
        decode_result(bytes, n, &mut log).map(|()| log.0)
    }

    #[test]
    fn repeated_records_are_handed_out_again_and_near_misses_are_checked() {
        let a: Answer<'_> = (false, &[("status_class", "2xx")], &[]);
        let b: Answer<'_> = (true, &[("bot", "googlebot"), ("network", "aws")], &[("bot_score", 1.0)]);
        let e: Answer<'_> = (false, &[], &[]);
        let many: Answer<'_> = (false, &[("t", "1"), ("t", "2"), ("t", "3"), ("t", "4"), ("t", "5")], &[("l", 1.0)]);
        let c: Answer<'_> = (false, &[("status_class", "3xx")], &[]);
        let d: Answer<'_> = (false, &[("status_class", "4xx")], &[("x", -0.0)]);
        let f: Answer<'_> = (false, &[("path_class", "html")], &[]);
        // Repeats of the newest, of older ones, of a record too large to remember, and
        // more distinct records in turn than are remembered.
        let answers = [a, b, e, a, b, a, e, many, many, a, c, d, f, a, c, d, f, b, e, b];
        let bytes = encode(&answers);
        let n = answers.len() as u32;
        let got = one_pass(&bytes, n).unwrap();
        assert_eq!(got, plain(&bytes, n).unwrap());
        // The hand-written start of that sequence.
        let want = ["record drop=false", "tag status_class=2xx", "record drop=true", "tag bot=googlebot", "tag network=aws", "label bot_score=1"];
        assert_eq!(got[..6], want);
        assert_eq!(got.iter().filter(|l| l.starts_with("record")).count(), answers.len());
        // A record that differs from a remembered one in any byte is checked in full.
        let after = |prefix: &[Answer<'_>], second: &[u8]| {
            let mut b = encode(prefix);
            b[..4].copy_from_slice(&encode_count(prefix.len() as u32 + 1));
            b.extend_from_slice(second);
            b
        };
        let mut one = Vec::new();
        encode_record(&mut |x| one.extend_from_slice(x), a.0, a.1.iter().copied(), a.2.iter().copied());
        let mut bad_value = one.clone();
        *bad_value.last_mut().unwrap() = 0xff;
        assert_eq!(one_pass(&after(&[a], &bad_value), 2), Err(WireError::BadValue));
        let mut bad_key = one.clone();
        bad_key[4] = b' ';
        assert_eq!(one_pass(&after(&[a, e], &bad_key), 3), Err(WireError::BadKey));
        let mut bad_flags = one.clone();
        bad_flags[0] = 2;
        assert_eq!(one_pass(&after(&[a], &bad_flags), 2), Err(WireError::BadFlags));
        let mut two = Vec::new();
        encode_record(&mut |x| two.extend_from_slice(x), b.0, b.1.iter().copied(), b.2.iter().copied());
        let mut bad_label = two.clone();
        let end = bad_label.len();
        bad_label[end - 8..].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(one_pass(&after(&[b, a], &bad_label), 3), Err(WireError::BadLabel));
        // A repeat cut short is truncated, not read past the end.
        assert_eq!(one_pass(&after(&[a], &one[..one.len() - 1]), 2), Err(WireError::Truncated));
        // A repeat followed by more bytes: trailing bytes.
        let mut longer = one.clone();
        longer.push(0);
        assert_eq!(one_pass(&after(&[a], &longer), 2), Err(WireError::TrailingBytes));
    }

    #[test]
    fn every_validation_failure_is_named() {
        let bad = |b: &[u8], n| ResultReader::new(b, n).unwrap_err();
        assert_eq!(bad(&[1, 0, 0], 1), WireError::Truncated);
        assert_eq!(bad(&[1, 0, 0, 0], 2), WireError::CountMismatch { expected: 2, found: 1 });
        assert_eq!(bad(&[1, 0, 0, 0, 0, 1], 1), WireError::Truncated);
        assert_eq!(bad(&[1, 0, 0, 0, 2, 0, 0], 1), WireError::BadFlags);
        assert_eq!(bad(&[1, 0, 0, 0, 0, 1, 0, 1, b' ', 0, 0], 1), WireError::BadKey);
        assert_eq!(bad(&[1, 0, 0, 0, 0, 1, 0, 0, 0, 0], 1), WireError::BadKey);
        assert_eq!(bad(&[1, 0, 0, 0, 0, 1, 0, 1, b'k', 1, 0, 0xff], 1), WireError::BadValue);
        assert_eq!(bad(&[1, 0, 0, 0, 0, 0, 0, 7], 1), WireError::TrailingBytes);
        let mut long = vec![1, 0, 0, 0, 0, 1, 0, 1, b'k', 0x01, 0x04];
        long.extend_from_slice(&[b'v'; 1025]);
        assert_eq!(bad(&long, 1), WireError::BadValue);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut l = vec![1, 0, 0, 0, 0, 0, 1, 1, b'k'];
            l.extend_from_slice(&v.to_le_bytes());
            assert_eq!(bad(&l, 1), WireError::BadLabel);
        }
        let mut key = vec![1, 0, 0, 0, 0, 0, 1, 2, b'k', b'/'];
        key.extend_from_slice(&1.0f64.to_le_bytes());
        assert_eq!(bad(&key, 1), WireError::BadKey);
        // A length far past the buffer is an error, not a panic.
        assert_eq!(bad(&[1, 0, 0, 0, 0, 1, 0, 0xff], 1), WireError::Truncated);
    }

    #[test]
    fn word_compare_equals_slice_equality() {
        // Every length up to 40 and a differing byte at every position (first, middle of a
        // word, the overlapped tail), against `==`.
        for n in 0..40usize {
            let x: Vec<u8> = (0..n as u8).map(|b| b.wrapping_mul(37)).collect();
            assert!(same(&x, &x.clone()), "len {n}");
            for at in 0..n {
                let mut y = x.clone();
                y[at] ^= 0x40;
                assert_eq!(same(&x, &y), x == y, "len {n}, byte {at}");
                assert!(!same(&x, &y), "len {n}, byte {at}");
            }
            assert!(!same(&x, &[x.as_slice(), &[0]].concat()), "len {n} vs {}", n + 1);
        }
    }

    proptest::proptest! {
        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), n in 0u32..4) {
            if let Ok(r) = ResultReader::new(&bytes, n) {
                for rec in r.records() {
                    let _ = (rec.tags().count(), rec.labels().count(), r.record_at(rec.offset()));
                }
            }
            let _ = crate::BatchReader::new(&bytes).map(|b| b.lines().count());
        }

        #[test]
        fn decoding_corrupted_answers_never_panics(at in 0usize..400, byte: u8, cut in 0usize..400) {
            // Valid answers with one byte changed and cut short: near-misses that reach deep
            // into the decoder, where random bytes stop at the count.
            // Records that repeat: the change may land in a remembered record or in a repeat.
            let (a, b): (Answer<'_>, Answer<'_>) = ((true, &[("bot", "googlebot"), ("net", "aws")], &[("score", 0.5)]), (false, &[("k", "v")], &[]));
            let mut bytes = encode(&[a, b, a, b, b]);
            let i = at % bytes.len();
            bytes[i] = byte;
            bytes.truncate(bytes.len() - cut % bytes.len());
            if let Ok(r) = ResultReader::new(&bytes, 5) {
                for rec in r.records() {
                    let _ = (rec.tags().count(), rec.labels().count(), r.record_at(rec.offset()));
                }
            }
            // One-pass decoding accepts exactly what the plain decoder accepts, and sees the same.
            proptest::prop_assert_eq!(one_pass(&bytes, 5), plain(&bytes, 5));
        }

        #[test]
        fn what_encodes_decodes(tags in proptest::collection::vec(("[a-z]{1,8}", ".{0,20}"), 0..5), label in -1e9f64..1e9, drop: bool) {
            let t: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let bytes = encode(&[(drop, &t, &[("x", label)])]);
            let r = ResultReader::new(&bytes, 1).unwrap();
            let rec = r.records().next().unwrap();
            proptest::prop_assert_eq!(rec.drop, drop);
            proptest::prop_assert_eq!(rec.tags().collect::<Vec<_>>(), t);
            proptest::prop_assert_eq!(rec.labels().collect::<Vec<_>>(), vec![("x", label)]);
        }
    }
}
