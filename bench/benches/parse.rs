//! Parser throughput against the memchr line+tab scan of the same buffer, in one run.
//!
//! `parse_typed10` parses every line and reads the ten most used fields through their
//! typed getters: timestamp, c-ip, sc-status, sc-bytes, cs-method, cs-uri-stem (path),
//! x-edge-location, time-taken, x-edge-result-type, cs-user-agent (raw).

use std::hint::black_box;

use cflog_bench::{memchr_scan, sample};
use cflog_core::{Field, Format, Parser, RecordBuf};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn parse_typed10(data: &[u8], mut parser: Parser) -> u64 {
    let mut buf = RecordBuf::new();
    let mut acc = 0u64;
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', data) {
        let line = &data[start..nl];
        start = nl + 1;
        let Ok(Some(r)) = parser.parse_line(line, &mut buf) else { continue };
        acc = acc.wrapping_add(r.timestamp_ms().ok().flatten().unwrap_or(0) as u64);
        acc = acc.wrapping_add(r.client_ip().ok().flatten().map_or(0, |ip| ip.is_ipv4() as u64));
        acc = acc.wrapping_add(u64::from(r.status().ok().flatten().unwrap_or(0)));
        acc = acc.wrapping_add(r.bytes_sent().ok().flatten().unwrap_or(0));
        acc = acc.wrapping_add(r.raw(Field::Method).map_or(0, |m| m.len() as u64));
        acc = acc.wrapping_add(r.uri_path_raw().map_or(0, |p| p.len() as u64));
        acc = acc.wrapping_add(r.edge_location().ok().flatten().map_or(0, |e| e.code().len() as u64));
        acc = acc.wrapping_add(r.time_taken_us().ok().flatten().unwrap_or(0));
        acc = acc.wrapping_add(r.result_type().ok().flatten().map_or(0, |t| t.is_cache_hit() as u64));
        acc = acc.wrapping_add(r.raw(Field::UserAgent).map_or(0, |u| u.len() as u64));
    }
    acc
}

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
                black_box(parse_typed10(black_box(&data), parser))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
