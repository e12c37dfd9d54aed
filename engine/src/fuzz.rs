//! The body of the `chunk_walk` fuzz target, shared with the test that replays its corpus
//! (`tests/tests/fuzz_corpus.rs`) and with the engine's proptest: a chunk walked once by
//! the parser ([`Cutter::take_run`] + [`Worker::run`], `Parser::parse_next`) must give what
//! the same chunk gives with its lines found first ([`Cutter::take_found`] +
//! [`Worker::run_found`], each line parsed by `Parser::parse_line`: the oracle).

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;

use crate::{Cutter, LayoutChoice, Worker, lines};

/// Cuts `input` into chunks ending after the lines whose index is in `cuts` (and at its
/// end) and runs them the old way (`take_found` + `run_found`) and the new way
/// (`take_run` + `run`); panics unless they give the same chunk starts (layout, first
/// line, line ends) or the same error, cutter state (origin, layouts, where a next chunk
/// would start), lines seen, summary state and bad lines.
pub fn walked_as_found(choice: &LayoutChoice, input: &[u8], cuts: &[usize]) {
    let mut bounds: Vec<usize> = input.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect();
    bounds = bounds.iter().enumerate().filter(|(k, _)| cuts.contains(k)).map(|(_, &e)| e).filter(|&e| e < input.len()).collect();
    bounds.push(input.len());
    let (mut old, mut new) = (Cutter::new(choice), Cutter::new(choice));
    old.begin("in");
    new.begin("in");
    let (mut wo, mut wn) = (Worker::new(SummaryOptions::default(), 10_000, false), Worker::new(SummaryOptions::default(), 10_000, false));
    let mut at = 0;
    for end in bounds {
        let bytes = &input[at..end];
        let found: Vec<&[u8]> = lines(bytes).collect();
        let so = old.take_found(bytes, &found).inspect(|s| wo.run_found(1, s, &found, None));
        let sn = new.take_run(bytes, |s| wn.run(1, s, bytes, None));
        match (so, sn) {
            (Ok(so), Ok(sn)) => assert_eq!(so, sn, "chunk {at}..{end}"),
            (so, sn) => assert_eq!(so.map_err(|e| e.to_string()), sn.map_err(|e| e.to_string()), "chunk {at}..{end}"),
        }
        at = end;
    }
    assert_eq!((old.origin(), old.layouts()), (new.origin(), new.layouts()));
    let next = |c: &mut Cutter| c.take(b"").map(|s| (s.first_line, s.layout)).map_err(|e| e.to_string());
    assert_eq!(next(&mut old), next(&mut new), "where a next chunk starts");
    assert_eq!(wo.lines, wn.lines, "lines seen");
    assert_eq!((wo.summary.records, wo.summary.bad_lines), (wn.summary.records, wn.summary.bad_lines));
    assert!(wo.summary.encode_state() == wn.summary.encode_state(), "summary states differ");
    assert_eq!(std::mem::take(&mut wo.bad).into_sorted(), std::mem::take(&mut wn.bad).into_sorted());
}

/// The first lines of each kind of input (`kind` 0 to 3): given real-time fields
/// (`timestamp c-ip sc-status`), a standard log with its header, a real-time log whose
/// layout is inferred, a standard log without header.
pub fn preamble(kind: u8) -> (LayoutChoice, &'static str) {
    let given = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).expect("known fields");
    match kind {
        0 => (LayoutChoice { realtime: Some(given), ..Default::default() }, ""),
        1 => (LayoutChoice::default(), "#Version: 1.0\n#Fields: date time sc-status\n"),
        2 => (LayoutChoice::default(), "1607374321.541\t192.0.2.10\t200\n"),
        _ => (LayoutChoice::default(), "2019-12-04\t21:02:31\t200\n"),
    }
}

/// `data` as an input for [`walked_as_found`]: its first byte picks the [`preamble`] (mod 4),
/// its second where chunks end (line `k` ends one when bit `k % 8` is set), and the rest
/// follows the preamble. Panics where the two ways differ; must not panic otherwise,
/// whatever the bytes.
pub fn walk_agrees(data: &[u8]) {
    let (kind, cut_bits, rest) = match data {
        [kind, cut_bits, rest @ ..] => (*kind, *cut_bits, rest),
        _ => (0, 0, data),
    };
    let (choice, head) = preamble(kind % 4);
    let input = [head.as_bytes(), rest].concat();
    let newlines = input.iter().filter(|&&b| b == b'\n').count();
    let cuts: Vec<usize> = (0..newlines).filter(|k| cut_bits >> (k % 8) & 1 == 1).collect();
    walked_as_found(&choice, &input, &cuts);
}
