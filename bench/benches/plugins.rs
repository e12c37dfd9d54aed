//! Enrichment rules (wasm plugins): added cost per record on ~1 KB real-time lines, and
//! module compile / cache load / instantiation costs.
//!
//! Needs the example rules built: `make plugins` (wasm32-unknown-unknown, release).
//!
//! * `plugins/analyze/*`: the `cflog analyze` worker loop (parse, aggregate, tag) over
//!   20,000 generated lines, in 1 MiB chunks (one batch per chunk, as the CLI does), with
//!   no rule, each rule alone, and three rules (bots + paths + security).
//! * `plugins/enrich_only/*`: just `PluginSet::enrich` on a prepared batch of 1,000
//!   records (copy in, guest work, copy out, decode).
//! * `plugins/module/*`: compile from `.wasm` (cold), load from the precompiled cache, and
//!   instantiate + init.

use std::hint::black_box;
use std::path::PathBuf;

use cflog_bench::plugins::{analyze_plain, analyze_rules, chunks, lines};
use cflog_bench::sample;
use cflog_core::{Format, Parser, RecordBuf, Schema};
use cflog_engine::wasmtime_rules::WasmRules;
use cflog_plugin_host::{CompiledPlugin, Interrupt, Limits, PluginHost, PluginSet};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn rule(name: &str) -> PathBuf {
    let dir = match std::env::var_os("CFLOG_PLUGIN_WASM_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_exe().unwrap().ancestors().nth(3).unwrap().join("wasm32-unknown-unknown/release"),
    };
    let p = dir.join(format!("cflog_rule_{name}.wasm"));
    assert!(p.is_file(), "{} missing: run `make plugins` first", p.display());
    p
}

fn bench(c: &mut Criterion) {
    let host = PluginHost::new(Limits::default()).unwrap();
    let compile = |name: &str| host.compile_file(&rule(name), None).unwrap();
    let (bots, paths, security) = (compile("bots"), compile("paths"), compile("security"));
    let wat = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/wat/status_class.wat");
    let status_class = host.compile_file(&wat, None).unwrap();
    let sets: Vec<(&str, Vec<CompiledPlugin>)> = vec![
        ("status_class_wat", vec![status_class]),
        ("paths", vec![paths.clone()]),
        ("bots", vec![bots.clone()]),
        ("security", vec![security.clone()]),
        ("three_rules", vec![bots.clone(), paths.clone(), security.clone()]),
    ];

    let n = 20_000u64;
    let data = sample(Format::RealTime, n);
    let schema = Schema::realtime_release(46).unwrap();
    let cs = chunks(&data, &schema);
    let mut group = c.benchmark_group("plugins/analyze");
    group.throughput(Throughput::Elements(n));
    group.sample_size(10);
    group.bench_function("no_rules", |b| b.iter(|| black_box(analyze_plain(black_box(&cs)))));
    for (name, compiled) in &sets {
        let mut rules = WasmRules::new(PluginSet::instantiate(&host, compiled).unwrap());
        group.bench_function(*name, |b| b.iter(|| black_box(analyze_rules(black_box(&cs), &mut rules))));
        assert!(rules.stats().iter().all(|s| s.failures == 0), "{:?}", rules.stats());
    }
    group.finish();

    let first = lines(&cs[0]);
    let mut group = c.benchmark_group("plugins/enrich_only");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(20);
    // The same modules under epoch deadlines instead of the (default) fuel.
    let deadline_host = PluginHost::new(Limits { interrupt: Interrupt::Deadline, ..Limits::default() }).unwrap();
    let deadline_sets: Vec<(String, Vec<CompiledPlugin>)> = sets
        .iter()
        .filter(|(n, _)| *n != "three_rules")
        .map(|(n, _)| {
            let path = if *n == "status_class_wat" { wat.clone() } else { rule(n) };
            (format!("deadline_{n}"), vec![deadline_host.compile_file(&path, None).unwrap()])
        })
        .collect();
    let all: Vec<(String, &PluginHost, &Vec<CompiledPlugin>)> = sets
        .iter()
        .map(|(n, c)| (n.to_string(), &host, c))
        .chain(deadline_sets.iter().map(|(n, c)| (n.clone(), &deadline_host, c)))
        .collect();
    for (name, host, compiled) in &all {
        let mut set = PluginSet::instantiate(host, compiled).unwrap();
        let mut batch = set.batch();
        let mut parser = Parser::with_schema(schema.clone());
        let mut buf = RecordBuf::new();
        for line in first.iter().take(1000) {
            if let Ok(Some(r)) = parser.parse_line(line, &mut buf) {
                batch.push(&r);
            }
        }
        let mut out = Default::default();
        group.bench_function(name.as_str(), |b| b.iter(|| set.enrich_into(black_box(&batch), &mut out)));
    }
    group.finish();

    let mut group = c.benchmark_group("plugins/module");
    group.sample_size(10);
    let bytes = std::fs::read(rule("bots")).unwrap();
    group.bench_function("compile_cold_bots", |b| b.iter(|| black_box(host.compile("bots", &bytes, None).unwrap())));
    let cache = std::env::temp_dir().join(format!("cflog-bench-cache-{}", std::process::id()));
    host.compile_file_cached(&rule("bots"), None, &cache).unwrap();
    group.bench_function("load_cached_bots", |b| b.iter(|| black_box(host.compile_file_cached(&rule("bots"), None, &cache).unwrap())));
    group.bench_function("instantiate_init_bots", |b| {
        b.iter(|| black_box(PluginSet::instantiate(&host, std::slice::from_ref(&bots)).unwrap()))
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&cache);
}

criterion_group!(benches, bench);
criterion_main!(benches);
