//! Parity across hosts: `cflog analyze` (the CLI), the browser's engine run natively
//! (`cflog-wasm`) and the Lambda processor (`cflog-lambda`; real-time logs only, since the
//! Lambda reads Kinesis) give the same report for every fixture in tests/fixtures, cut at
//! random chunk boundaries, and all three agree with an enrichment rule too (the browser's
//! rule run as the page runs it: `common::Page`).
//! Each host's own tests check it against independent oracles; this checks they agree.

use std::path::PathBuf;

use cflog_cli::cmd_analyze::{AnalyzeOptions, Plugins, analyze};
use cflog_cli::layout::{FieldsOrder, FormatArg, LayoutChoice, parse_fields_spec};
use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::process::{ExtraDimensions, InRecord, Processor};
use cflog_engine::{ChunkLayout, Cutter};
use cflog_wasm::engine::{Engine, Options, layout_token};

mod common;

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel).display().to_string()
}

/// The rule every host can load: tags each record with its status class.
fn rule() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/examples/wat/status_class.wat").display().to_string()
}

/// Top lists large enough to be exact, so summaries merged per distribution (the Lambda)
/// or per worker equal one pass.
fn options() -> SummaryOptions {
    SummaryOptions { top_capacity: 100_000, ..SummaryOptions::default() }
}

/// A fixed-seed xorshift: reproducible "random" chunk sizes.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn cli(path: &str, fields: Option<&str>, with_rule: bool) -> String {
    let spec = fields.map(|f| parse_fields_spec(f).unwrap());
    let layout = LayoutChoice::new(FormatArg::Auto, spec.as_ref(), FieldsOrder::Canonical, false).unwrap();
    let options = AnalyzeOptions {
        summary: options(),
        plugins: with_rule.then(|| Plugins::load(&[rule()]).unwrap()),
        ..AnalyzeOptions::default()
    };
    analyze(&[path.to_string()], &layout, &options).unwrap().summary.report(10).to_string()
}

/// The browser's engine, fed pieces of random sizes (any boundary, mid-line included).
fn browser(path: &str, fields: Option<&str>, rng: &mut Rng) -> String {
    let json = serde_json::json!({"format": "auto", "fields": fields, "top_capacity": 100_000}).to_string();
    let mut engine = Engine::new(Options::from_json(&json).unwrap());
    let bytes = std::fs::read(path).unwrap();
    engine.begin_file(path);
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let n = (1 + rng.below(300)).min(rest.len());
        engine.push(&rest[..n]).unwrap();
        rest = &rest[n..];
    }
    engine.end_file().unwrap();
    engine.report_json()
}

/// The browser's engine with the rule, as the page runs it: newline-aligned chunks of
/// random sizes from the engine's `Cutter`, each chunk's batch built by the browser's rule
/// host, run by the rule (wasmtime standing in for the page), and its verdicts handed to
/// `push_chunk` with the chunk.
fn browser_with_rule(path: &str, fields: Option<&str>, rng: &mut Rng) -> String {
    let json = serde_json::json!({"format": "auto", "fields": fields, "top_capacity": 100_000}).to_string();
    let options = Options::from_json(&json).unwrap();
    let mut engine = Engine::new(options.clone());
    let wasm = wasmtime::Engine::default();
    let module = wasmtime::Module::from_file(&wasm, rule()).unwrap();
    let mut page = common::Page::start(&wasm, &module);
    let mut cutter = Cutter::new(&options.layout);
    let bytes = std::fs::read(path).unwrap();
    cutter.begin(path);
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        let mut want = (1 + rng.below(2000)).min(rest.len());
        let line_end = |want: usize| if want == rest.len() { want } else { memchr::memchr(b'\n', &rest[want - 1..]).map_or(rest.len(), |i| want + i) };
        // The page's first chunk is 1 MiB or the whole file, always enough to choose the
        // layout and the encoding from; a smaller first chunk grows until it is.
        while rest.len() == bytes.len() && !options.layout.head_is_enough(&rest[..line_end(want)], line_end(want) == rest.len()) {
            want = line_end(want) + 1;
        }
        let cut = line_end(want);
        let (chunk, tail) = rest.split_at(cut);
        let start = cutter.take(chunk).unwrap();
        let ChunkLayout::Log(schema) = &start.layout else { panic!("{path} is not a CloudFront log") };
        let batch = page.host.batch(chunk, Schema::clone(schema), start.double_decode).expect("the rule is live");
        let verdicts = page.enrich(&batch).expect("a valid answer");
        engine.push_chunk(chunk, 0, start.first_line, &layout_token(&start.layout, start.double_decode), Some(&verdicts)).unwrap();
        rest = tail;
    }
    engine.report_json()
}

/// The Lambda processor: one Kinesis record per line, in batches of random sizes, each
/// batch's per-distribution summaries merged.
fn lambda(path: &str, schema: Schema, with_rule: bool, rng: &mut Rng) -> String {
    use cflog_core::agg::Merge;
    let mut p = Processor::new(schema, options(), ExtraDimensions::default());
    if with_rule {
        p = p.with_plugins(cflog_lambda::runtime::load_plugins(&rule()).unwrap());
    }
    let text = std::fs::read(path).unwrap();
    let records: Vec<InRecord> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, l)| InRecord { seq: i.to_string(), data: Ok([l, b"\n"].concat()) })
        .collect();
    let mut total = cflog_core::summary::Summary::new(options());
    let mut rest: &[InRecord] = &records;
    while !rest.is_empty() {
        let n = (1 + rng.below(40)).min(rest.len());
        let agg = p.run("shardId-000000000000", &rest[..n], None, false, &mut Vec::new());
        total.merge(&agg.total(options())).unwrap();
        rest = &rest[n..];
    }
    total.report(10).to_string()
}

/// The summary parts of a report that every host fills the same way: all of it but the
/// merge state (whose bytes record the order windows and lists were built in).
fn comparable(report: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(report).unwrap();
    v.as_object_mut().unwrap().remove("state");
    v
}

#[test]
fn realtime_fixtures_agree_across_cli_browser_and_lambda() {
    let gotchas_fields = std::fs::read_to_string(fixture("realtime/gotchas.fields")).unwrap();
    let cases = [(fixture("realtime/gotchas.log"), Some(gotchas_fields.trim().to_string())), (fixture("realtime/snowplow-2020-40fields.log"), None)];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (path, fields) in &cases {
        let schema = match fields {
            Some(f) => Schema::from_field_names(&parse_fields_spec(f).unwrap().names).unwrap(),
            None => cflog_core::layout::infer_realtime(&std::fs::read(path).unwrap()).unwrap(),
        };
        let want = comparable(&cli(path, fields.as_deref(), false));
        assert!(want["records"].as_u64().unwrap() > 0, "{path}");
        for round in 0..3 {
            assert_eq!(comparable(&browser(path, fields.as_deref(), &mut rng)), want, "browser, {path}, round {round}");
            assert_eq!(comparable(&lambda(path, schema.clone(), false, &mut rng)), want, "lambda, {path}, round {round}");
        }
        let with_rule = comparable(&cli(path, fields.as_deref(), true));
        assert!(!with_rule["tags"].as_object().unwrap().is_empty(), "the rule tagged nothing in {path}");
        assert_eq!(comparable(&lambda(path, schema, true, &mut rng)), with_rule, "lambda with the rule, {path}");
        for round in 0..3 {
            assert_eq!(comparable(&browser_with_rule(path, fields.as_deref(), &mut rng)), with_rule, "browser with the rule, {path}, round {round}");
        }
    }
}

#[test]
fn standard_fixtures_of_every_era_agree_across_cli_and_browser_with_and_without_a_rule() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for name in ["aws-doc-2014-26col.log", "aws-doc-2019-33col.log", "concatenated-mixed.log", "legacy-2015-19col.log", "legacy-2016-23col-double-encoded.log"] {
        let path = fixture(&format!("standard/{name}"));
        let want = comparable(&cli(&path, None, false));
        assert!(want["records"].as_u64().unwrap() > 0, "{name}");
        for round in 0..3 {
            assert_eq!(comparable(&browser(&path, None, &mut rng)), want, "browser, {name}, round {round}");
        }
        let with_rule = comparable(&cli(&path, None, true));
        assert!(!with_rule["tags"].as_object().unwrap().is_empty(), "the rule tagged nothing in {name}");
        for round in 0..3 {
            assert_eq!(comparable(&browser_with_rule(&path, None, &mut rng)), with_rule, "browser with the rule, {name}, round {round}");
        }
    }
}
