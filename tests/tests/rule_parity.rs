//! The browser's rule path (`cflog_wasm::rule::RuleHost`, with the page's byte moving
//! done here by wasmtime exactly as `web-demo/src/rules.js` does it) must give every
//! record the enrichment the native host (`cflog-plugin-host`) gives it: the example
//! rules from `make plugins` and a rule that echoes its input, on the real-time and
//! standard fixtures of every era, including `timestamp` on classic standard logs.
//! (In the cross-host tests, so that `cflog-wasm`'s own tests need no wasmtime.)

use std::path::{Path, PathBuf};

use cflog_core::{Parser, RecordBuf};
use cflog_plugin_host::{CompiledPlugin, Limits, PluginHost, PluginSet};
use cflog_engine::{ChunkLayout, Cutter};
use cflog_wasm::engine::Options;
use wasmtime::{Engine, Module};

mod common;
use common::Page;

type Enrichment = (Vec<(String, String)>, bool);
/// A file's lines, each with the schema it is read with.
type Lines = Vec<(Vec<u8>, cflog_core::Schema)>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rules() -> Vec<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    let mut out: Vec<PathBuf> = ["cflog_rule_bots", "cflog_rule_paths", "cflog_rule_security"]
        .iter()
        .map(|r| target.join("wasm32-unknown-unknown/release").join(format!("{r}.wasm")))
        .collect();
    for r in &out {
        assert!(r.is_file(), "{} is missing: run `make plugins`", r.display());
    }
    out.push(root().join("tests/fixtures/rules/echo_input.wat"));
    out
}

/// Each line of `file` with the schema it is read with (headers switch layouts).
fn lines(file: &Path) -> Lines {
    let text = std::fs::read(file).unwrap();
    let fields = file.with_extension("fields");
    let fields = fields.is_file().then(|| std::fs::read_to_string(&fields).unwrap());
    let options = Options::from_json(&serde_json::json!({"format": "auto", "fields": fields}).to_string()).unwrap();
    let mut cutter = Cutter::new(&options.layout);
    cutter.begin(&file.display().to_string());
    let schema = |l: ChunkLayout| match l {
        ChunkLayout::Log(s) => cflog_core::Schema::clone(&s),
        ChunkLayout::Ndjson | ChunkLayout::V2Json => panic!("{} is not a CloudFront log", file.display()),
    };
    text.split_inclusive(|b| *b == b'\n').map(|l| (l.to_vec(), schema(cutter.take(l).unwrap().layout))).collect()
}

/// The native host: every record through `PluginSet`.
fn native(host: &PluginHost, compiled: &CompiledPlugin, lines: &[(Vec<u8>, cflog_core::Schema)]) -> Vec<Option<Enrichment>> {
    let mut set = PluginSet::instantiate(host, std::slice::from_ref(compiled)).unwrap();
    let mut buf = RecordBuf::new();
    lines
        .iter()
        .map(|(line, schema)| {
            let mut parser = Parser::with_schema(schema.clone());
            let Ok(Some(record)) = parser.parse_line(line.strip_suffix(b"\n").unwrap_or(line), &mut buf) else { return None };
            let mut batch = set.batch();
            batch.push(&record);
            let e = set.enrich(&batch);
            assert!(e.plugin_ok(0), "{:?}", set.stats());
            Some((e.tags(0).map(|(k, v)| (k.to_string(), v.to_string())).collect(), e.dropped(0)))
        })
        .collect()
}

/// The browser's path: `RuleHost` checks and builds, wasmtime stands in for the page.
fn browser(engine: &Engine, module: &Module, lines: &[(Vec<u8>, cflog_core::Schema)]) -> Vec<Option<Enrichment>> {
    let mut page = Page::start(engine, module);
    lines
        .iter()
        .map(|(line, schema)| {
            let batch = page.host.batch(line, schema.clone(), false).unwrap();
            let mut v = page.enrich(&batch).expect("a valid answer inside memory");
            assert_eq!(v.len(), 1);
            let mut parser = Parser::with_schema(schema.clone());
            let mut buf = RecordBuf::new();
            let is_record = matches!(parser.parse_line(line.strip_suffix(b"\n").unwrap_or(line), &mut buf), Ok(Some(_)));
            let v = v.pop().unwrap();
            is_record.then_some((v.tags, v.drop))
        })
        .collect()
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures/realtime", "tests/fixtures/standard"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "log") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn browser_and_native_hosts_enrich_every_record_alike() {
    let host = PluginHost::new(Limits::default()).unwrap();
    let engine = Engine::default();
    let files: Vec<(PathBuf, Lines)> = fixtures().into_iter().map(|f| (f.clone(), lines(&f))).collect();
    for rule in rules() {
        let compiled = host.compile_file(&rule, None).unwrap();
        let module = Module::from_file(&engine, &rule).unwrap();
        for (file, lines) in &files {
            let n = native(&host, &compiled, lines);
            assert!(n.iter().flatten().next().is_some(), "{} holds records", file.display());
            assert_eq!(n, browser(&engine, &module, lines), "{} with {}", file.display(), rule.display());
        }
    }
}

#[test]
fn classic_standard_logs_hand_rules_a_realtime_timestamp() {
    // aws-doc-2019-33col.log's first record: 2019-12-04 21:02:31 UTC = 1575493351 s
    // (`date -u -d '2019-12-04 21:02:31' +%s`), status 200, /index.html.
    let lines = lines(&root().join("tests/fixtures/standard/aws-doc-2019-33col.log"));
    let echo = root().join("tests/fixtures/rules/echo_input.wat");
    let host = PluginHost::new(Limits::default()).unwrap();
    let engine = Engine::default();
    let module = Module::from_file(&engine, &echo).unwrap();
    let compiled = host.compile_file(&echo, None).unwrap();
    for got in [native(&host, &compiled, &lines), browser(&engine, &module, &lines)] {
        let first = got.iter().flatten().next().unwrap();
        assert_eq!(first.0, [("input".to_string(), "1575493351.000\t200\t/index.html".to_string())]);
    }
}
