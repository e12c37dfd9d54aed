//! Parser throughput against the memchr line+tab scan of the same buffer, in one run.
//!
//! `parse_typed10` parses every line and reads the ten most used fields through their
//! typed getters: timestamp, c-ip, sc-status, sc-bytes, cs-method, cs-uri-stem (path),
//! x-edge-location, time-taken, x-edge-result-type, cs-user-agent (raw), with the parser
//! told which (`Parser::reading`: columns after the last of them are only counted);
//! `parse_typed10_all_columns` the same with every column split.

use std::hint::black_box;

use cflog_bench::{TYPED10, memchr_scan, parse_typed10, sample};
use cflog_core::{Format, Parser};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    for (name, format) in [("realtime", Format::RealTime), ("standard", Format::Standard)] {
        let data = sample(format, 20_000);
        let mut group = c.benchmark_group(format!("parse/{name}"));
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.sample_size(30);
        group.bench_function("memchr_scan", |b| b.iter(|| black_box(memchr_scan(black_box(&data)))));
        group.bench_function("parse_typed10", |b| {
            b.iter(|| {
                let parser = match format {
                    Format::RealTime => Parser::realtime(cflog_core::Schema::realtime_release(46).unwrap()),
                    Format::Standard => Parser::standard(),
                };
                black_box(parse_typed10(black_box(&data), parser.reading(TYPED10)))
            })
        });
        group.bench_function("parse_typed10_all_columns", |b| {
            b.iter(|| {
                let parser = match format {
                    Format::RealTime => Parser::realtime(cflog_core::Schema::realtime_release(46).unwrap()),
                    Format::Standard => Parser::standard(),
                };
                black_box(parse_typed10(black_box(&data), parser))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
