//! The Lambda handler on a 10,000-record Kinesis batch of ~1 KB real-time lines (the
//! 46-field layout from `cflog gen`), every sink on but in memory: what is measured is
//! the handler's own work (base64, parse, aggregate, enriched JSON, rollups, metrics).
//! Also prints the batch's peak heap (a counting allocator), excluding the event itself.
//!
//! `cargo bench -p cflog-lambda --bench handler`

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::handler::{Handler, HandlerOptions, KinesisEvent};
use cflog_lambda::process::{ExtraDimensions, Processor};
use cflog_lambda::sinks::memory::{MemoryMetrics, MemoryRecords, MemoryState};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to `System` with the caller's own arguments, so
// `System`'s guarantees are this allocator's; the counters only add and subtract sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `layout` is the caller's, which `GlobalAlloc::alloc`'s contract makes valid.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by `alloc` above, that is by `System`, for `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const RECORDS: u64 = 10_000;

fn event() -> (KinesisEvent, usize) {
    // Timestamps of the last hour: older ones would go to LateRecords and skip the metrics.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let opts = cflog_gen::GenOptions { lines: RECORDS, seed: 3, start_ms: now - 3_600_000, ..Default::default() };
    let mut buf = Vec::new();
    cflog_gen::generate(&opts, &mut buf).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<_> = buf
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .map(|(i, l)| {
            serde_json::json!({
                "eventID": format!("shardId-000000000000:{}", 49_000_000_000u64 + i as u64),
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/cf",
                "kinesis": { "sequenceNumber": (49_000_000_000u64 + i as u64).to_string(), "data": b64.encode(l), "partitionKey": "k" }
            })
        })
        .collect();
    (serde_json::from_value(serde_json::json!({ "Records": records })).unwrap(), buf.len())
}

type MemHandler = Handler<MemoryMetrics, MemoryRecords, MemoryState>;

fn handler() -> MemHandler {
    // The deployed options (windows only, fixed windows), at the default window width.
    let options = cflog_lambda::runtime::summary_options(SummaryOptions::default().window_ms, None, false);
    let p = Processor::new(Schema::realtime_release(46).unwrap(), options, ExtraDimensions::default());
    Handler::new(
        p,
        Some(MemoryMetrics::default()),
        Some(MemoryRecords::default()),
        Some(MemoryState::default()),
        None,
        HandlerOptions::default(),
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (ev, bytes) = event();
    // Peak heap of one batch.
    {
        let h = handler();
        let e = ev.clone();
        let base = CURRENT.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        let (resp, stats) = rt.block_on(h.handle_kinesis(e));
        assert!(resp.batch_item_failures.is_empty());
        assert_eq!(stats.delivered as u64, RECORDS);
        let peak = PEAK.load(Ordering::SeqCst) - base;
        eprintln!(
            "lambda batch: {RECORDS} records, {:.1} KB mean line, peak heap during the handler {:.1} MiB (sinks keep their copies)",
            bytes as f64 / RECORDS as f64 / 1024.0,
            peak as f64 / (1024.0 * 1024.0)
        );
    }
    let mut g = c.benchmark_group("lambda");
    g.sample_size(20);
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("handle_kinesis_10k_all_sinks_in_memory", |b| {
        b.iter_batched(
            || (handler(), ev.clone()),
            |(h, e)| {
                let (resp, _) = rt.block_on(h.handle_kinesis(e));
                assert!(resp.batch_item_failures.is_empty());
                h
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
