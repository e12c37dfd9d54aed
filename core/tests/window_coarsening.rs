//! Merge laws when the time series coarsens: however the records are split into parts and
//! in whatever order (or tree) the parts merge, the summary is the one a single pass gives,
//! and its window is the narrowest on the ladder that fits under the cap.

use std::collections::BTreeSet;

use cflog_core::agg::Merge;
use cflog_core::summary::{Summary, SummaryOptions, coarser_window};
use cflog_core::{Parser, RecordBuf, Schema};
use proptest::prelude::*;

/// 2026-11-01T00:00:00Z.
const START_S: i64 = 1_793_491_200;

fn line(offset_ms: i64, status: u16) -> String {
    let ms = START_S * 1000 + offset_ms;
    format!("{}.{:03}\t{status}\t{}\t0.{:03}\tHit\n", ms / 1000, ms % 1000, offset_ms % 5000, offset_ms % 997)
}

fn summarize(options: SummaryOptions, lines: &[&String]) -> Summary {
    let schema = Schema::from_field_names(&["timestamp", "sc-status", "sc-bytes", "time-taken", "x-edge-result-type"]).unwrap();
    let mut parser = Parser::realtime(schema);
    let mut buf = RecordBuf::new();
    let mut s = Summary::new(options);
    for l in lines {
        let r = parser.parse_line(l.trim_end().as_bytes(), &mut buf).unwrap().unwrap();
        s.add(&r).unwrap();
    }
    s
}

/// Deals the lines to `parts` summaries by `owner`, then merges them pairwise in the order
/// `picks` chooses (any merge tree), folding the last two together until one is left.
fn dealt_and_merged(options: SummaryOptions, lines: &[String], parts: usize, owner: &[usize], picks: &[(usize, usize)]) -> Summary {
    let mut pool: Vec<Summary> = (0..parts)
        .map(|p| {
            let mine: Vec<&String> = lines.iter().enumerate().filter(|(i, _)| owner[i % owner.len()] % parts == p).map(|(_, l)| l).collect();
            summarize(options, &mine)
        })
        .collect();
    let mut picks = picks.iter();
    while pool.len() > 1 {
        let (a, b) = picks.next().map_or((0, 1), |&(a, b)| (a % pool.len(), b % pool.len()));
        let b = if a == b { (a + 1) % pool.len() } else { b };
        let other = pool.remove(b);
        let a = if a > b { a - 1 } else { a };
        pool[a].merge(&other).unwrap();
    }
    pool.pop().unwrap()
}

fn cases() -> impl Strategy<Value = (Vec<(i64, u16)>, u64, u32)> {
    (
        // Record times over up to ~3 days, clustered or spread.
        proptest::collection::vec((0i64..260_000_000, prop_oneof![Just(200u16), Just(404), Just(503)]), 1..200),
        prop_oneof![Just(1_000u64), Just(60_000), Just(90_000), Just(420_000)],
        1u32..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Split, dealt, merged in any tree: identical state to one pass, whenever coarsening
    /// happens (small caps make it happen in most cases).
    #[test]
    fn coarsening_is_independent_of_split_and_merge_order(
        (records, window_ms, max_windows) in cases(),
        parts in 1usize..6,
        owner in proptest::collection::vec(0usize..6, 1..50),
        picks in proptest::collection::vec((0usize..6, 0usize..6), 0..6),
    ) {
        let options = SummaryOptions { window_ms, max_windows, ..SummaryOptions::default() };
        let lines: Vec<String> = records.iter().map(|&(t, s)| line(t, s)).collect();
        let whole = summarize(options, &lines.iter().collect::<Vec<_>>());
        let merged = dealt_and_merged(options, &lines, parts, &owner, &picks);
        prop_assert_eq!(merged.report(10), whole.report(10));
        prop_assert!(merged == whole);
        // The same records in reverse order.
        let reversed = summarize(options, &lines.iter().rev().collect::<Vec<_>>());
        prop_assert!(reversed == whole);
    }

    /// The window is the narrowest ladder width whose windows fit under the cap, every
    /// record is in the series, and starts are multiples of the window.
    #[test]
    fn the_window_is_the_narrowest_that_fits((records, window_ms, max_windows) in cases()) {
        let options = SummaryOptions { window_ms, max_windows, ..SummaryOptions::default() };
        let lines: Vec<String> = records.iter().map(|&(t, s)| line(t, s)).collect();
        let s = summarize(options, &lines.iter().collect::<Vec<_>>());
        let mut width = window_ms;
        let windows_at = |w: u64| records.iter().map(|&(t, _)| (START_S * 1000 + t).div_euclid(w as i64)).collect::<BTreeSet<_>>().len();
        while windows_at(width) > max_windows as usize {
            width = coarser_window(width);
        }
        prop_assert_eq!(s.window_ms(), width);
        prop_assert_eq!(s.windows.values().map(|w| w.records).sum::<u64>(), records.len() as u64);
        prop_assert!(s.windows.keys().all(|k| k.rem_euclid(width as i64) == 0));
        prop_assert_eq!(s.windows.len(), windows_at(width));
        prop_assert_eq!(s.window_note().is_some(), width != window_ms);
    }
}
