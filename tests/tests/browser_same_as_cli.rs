//! The inspector's engine must give the very bytes `cflog analyze --json --threads 1`
//! prints, whatever the chunking, and merged workers must agree with it on every counter.
//! (In the cross-host tests, so that `cflog-wasm`'s own tests need neither the CLI nor
//! wasmtime.)

use std::path::PathBuf;

use cflog_cli::cmd_analyze::{AnalyzeOptions, analyze};
use cflog_cli::layout::{FieldsOrder, FormatArg, LayoutChoice, parse_fields_spec};
use cflog_core::Format;
use cflog_core::summary::SummaryOptions;
use cflog_engine::Cutter;
use cflog_wasm::engine::{Engine, Options, layout_token};

fn fixture(rel: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel);
    root.to_string_lossy().into_owned()
}

fn cli_report(paths: &[String], fields: Option<&str>, window_ms: u64) -> String {
    let spec = fields.map(|f| parse_fields_spec(f).unwrap());
    let layout = LayoutChoice::new(FormatArg::Auto, spec.as_ref(), FieldsOrder::Canonical, false).unwrap();
    let options = AnalyzeOptions {
        summary: SummaryOptions { window_ms, sampling_rate: spec.as_ref().and_then(|s| s.sampling_rate), ..SummaryOptions::default() },
        ..AnalyzeOptions::default()
    };
    analyze(paths, &layout, &options).unwrap().summary.report(10).to_string()
}

fn options_json(fields: Option<&str>, window_ms: u64) -> String {
    serde_json::json!({"format": "auto", "fields": fields, "window_ms": window_ms}).to_string()
}

/// Streams every file through one engine in pieces of `piece` bytes.
fn streamed(paths: &[String], fields: Option<&str>, window_ms: u64, piece: usize) -> (String, Engine) {
    let mut engine = Engine::new(Options::from_json(&options_json(fields, window_ms)).unwrap());
    for p in paths {
        let bytes = std::fs::read(p).unwrap();
        engine.begin_file(p);
        for part in bytes.chunks(piece.max(1)) {
            engine.push(part).unwrap();
        }
        engine.end_file().unwrap();
    }
    (engine.report_json(), engine)
}

/// Streams every file through one engine by writing pieces into its window (a lone
/// worker's way): `fill` bytes per write (at most the window's room).
fn windowed(paths: &[String], fields: Option<&str>, window_ms: u64, fill: usize) -> String {
    let mut engine = Engine::new(Options::from_json(&options_json(fields, window_ms)).unwrap());
    for p in paths {
        let bytes = std::fs::read(p).unwrap();
        engine.begin_file(p);
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            let window = engine.window();
            let n = fill.min(window.len()).min(rest.len());
            window[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
            engine.filled(n).unwrap();
        }
        engine.end_file().unwrap();
    }
    engine.report_json()
}

/// Cuts files the way the page does (newline-aligned, `chunk` bytes) and deals chunks to
/// `workers` engines round-robin, then merges their states.
fn dealt(paths: &[String], fields: Option<&str>, window_ms: u64, chunk: usize, workers: usize) -> Engine {
    let opts = Options::from_json(&options_json(fields, window_ms)).unwrap();
    let mut engines: Vec<Engine> = (0..workers).map(|_| Engine::new(opts.clone())).collect();
    let mut cutter = Cutter::new(&opts.layout);
    let mut next = 0;
    for (i, p) in paths.iter().enumerate() {
        let bytes = std::fs::read(p).unwrap();
        cutter.begin(p);
        let mut rest: &[u8] = &bytes;
        while !rest.is_empty() {
            let cut = if rest.len() <= chunk {
                rest.len()
            } else {
                memchr::memrchr(b'\n', &rest[..chunk]).map_or(rest.len(), |n| n + 1)
            };
            let (piece, tail) = rest.split_at(cut);
            let start = cutter.take(piece).unwrap();
            engines[next % workers].push_chunk(piece, i as u32, start.first_line, &layout_token(&start.layout, start.double_decode), None).unwrap();
            next += 1;
            rest = tail;
        }
    }
    let mut merged = Engine::new(opts);
    for e in &engines {
        merged.merge_state(&e.state()).unwrap();
    }
    merged
}

fn generated(format: Format, lines: u64, name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(name);
    let opts = cflog_gen::GenOptions { format, lines, seed: 3, ..Default::default() };
    let file = std::fs::File::create(&path).unwrap();
    cflog_gen::generate(&opts, std::io::BufWriter::new(file)).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn fixtures_byte_identical_whatever_the_pieces() {
    let standard: Vec<String> = [
        "standard/aws-doc-2019-33col.log",
        "standard/aws-doc-2014-26col.log",
        "standard/legacy-2015-19col.log",
        "standard/concatenated-mixed.log",
        "standard/legacy-2016-23col-double-encoded.log",
    ]
    .iter()
    .map(|p| fixture(p))
    .collect();
    let expected = cli_report(&standard, None, 60_000);
    for piece in [1, 7, 4096, 1 << 22] {
        assert_eq!(streamed(&standard, None, 60_000, piece).0, expected, "piece {piece}");
    }
    let realtime = vec![fixture("realtime/snowplow-2020-40fields.log")];
    let expected = cli_report(&realtime, None, 300_000);
    assert_eq!(streamed(&realtime, None, 300_000, 13).0, expected);

    let fields = std::fs::read_to_string(fixture("realtime/gotchas.fields")).unwrap();
    let gotchas = vec![fixture("realtime/gotchas.log")];
    let expected = cli_report(&gotchas, Some(&fields), 60_000);
    let (report, engine) = streamed(&gotchas, Some(&fields), 60_000, 100);
    assert_eq!(report, expected);
    // The bad lines of the fixture are reported with their line numbers.
    let cli = cflog_cli::cmd_analyze::analyze(
        &gotchas,
        &LayoutChoice::new(FormatArg::Auto, Some(&parse_fields_spec(&fields).unwrap()), FieldsOrder::Canonical, false).unwrap(),
        &AnalyzeOptions::default(),
    )
    .unwrap();
    let bad: serde_json::Value = serde_json::from_str(&engine.bad_lines_json()).unwrap();
    let ours: Vec<(u64, String)> =
        bad.as_array().unwrap().iter().map(|b| (b["line"].as_u64().unwrap(), b["message"].as_str().unwrap().to_string())).collect();
    let theirs: Vec<(u64, String)> = cli.bad_lines.iter().map(|b| (b.line, b.message.clone())).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn generated_multi_chunk_inputs_identical_and_workers_agree() {
    let rt = generated(Format::RealTime, 6000, "rt.log");
    let st = generated(Format::Standard, 9000, "st.log");
    let paths = vec![rt, st];
    assert!(std::fs::metadata(&paths[0]).unwrap().len() > (1 << 20) * 5, "the real-time input spans several chunks");
    let expected = cli_report(&paths, None, 60_000);
    let (report, _) = streamed(&paths, None, 60_000, 65_536);
    assert_eq!(report, expected);
    // Written into the engine's window: whole windows, and short writes.
    for fill in [usize::MAX, 300_001] {
        assert_eq!(windowed(&paths, None, 60_000, fill), expected, "fill {fill}");
    }

    // Four workers with 256 KiB chunks: every exact aggregate equals the single pass.
    let merged = dealt(&paths, None, 60_000, 256 * 1024, 4);
    let a: serde_json::Value = serde_json::from_str(&merged.report_json()).unwrap();
    let b: serde_json::Value = serde_json::from_str(&expected).unwrap();
    for key in ["records", "bad_lines", "bytes_sent", "status_class", "cache_hit_ratio", "latency_ms", "unique_viewers", "windows", "time"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    // One worker fed by the cutter: the same bytes again.
    assert_eq!(dealt(&paths, None, 60_000, 300_000, 1).report_json(), expected);
}

#[test]
fn more_bytes_than_the_window_holds_are_refused() {
    let mut engine = Engine::new(Options::from_json(&options_json(None, 60_000)).unwrap());
    engine.begin_file("x");
    let room = engine.window().len();
    assert_eq!(room, cflog_engine::CHUNK);
    let err = engine.filled(room + 1).unwrap_err().to_string();
    assert_eq!(err, format!("{} bytes written into a window of {room} bytes", room + 1));
    assert_eq!(engine.lines(), 0);
}

#[test]
fn a_corrupted_worker_state_is_refused_and_changes_nothing() {
    let paths = vec![fixture("standard/aws-doc-2019-33col.log"), fixture("standard/aws-doc-2014-26col.log")];
    let (_, worker) = streamed(&paths, None, 60_000, 4096);
    let state = worker.state();
    let mut merged = Engine::new(Options::from_json(&options_json(None, 60_000)).unwrap());
    merged.merge_state(&state).unwrap();
    let before = merged.report_json();
    // Every single-bit flip, at every byte.
    let (mut accepted, mut other_reason) = (Vec::new(), Vec::new());
    for at in 0..state.len() {
        let mut bad = state.clone();
        bad[at] ^= 1 << (at % 8);
        match merged.merge_state(&bad) {
            Ok(()) => accepted.push(at),
            Err(e) if e.to_string().starts_with("cannot read a worker's state: corrupt aggregate state") => {}
            Err(e) => other_reason.push(e.to_string()),
        }
    }
    assert!(accepted.is_empty(), "{} of {} flipped states merged, at bytes {accepted:?}", accepted.len(), state.len());
    assert!(other_reason.is_empty(), "read, then refused: {other_reason:?}");
    let err = merged.merge_state(&state[..state.len() - 1]).unwrap_err().to_string();
    assert_eq!(err, "cannot read a worker's state: corrupt aggregate state: checksum mismatch (the state was corrupted or edited)");
    assert_eq!(merged.report_json(), before);
}

#[test]
fn filters_and_search() {
    let path = vec![fixture("standard/aws-doc-2019-33col.log")];
    let all = streamed(&path, None, 60_000, 4096).1;
    let total = all.summary().records;
    assert!(total > 0);
    let only = |filter: serde_json::Value| {
        let opts = serde_json::json!({"filter": filter}).to_string();
        let mut e = Engine::new(Options::from_json(&opts).unwrap());
        e.begin_file("x");
        e.push(&std::fs::read(&path[0]).unwrap()).unwrap();
        e.end_file().unwrap();
        e.summary().clone()
    };
    // Every record lands in exactly one status class.
    let mut by_class = 0;
    for class in ["2xx", "3xx", "4xx", "5xx", "000", "1xx", "other"] {
        let s = only(serde_json::json!({"status_classes": [class]}));
        let idx = cflog_core::summary::STATUS_CLASSES.iter().position(|c| *c == class).unwrap();
        assert_eq!(s.records, all.summary().status_class[idx], "{class}");
        by_class += s.records;
    }
    assert_eq!(by_class, total);
    // An impossible time range keeps nothing; a full one keeps everything.
    assert_eq!(only(serde_json::json!({"to_ms": 0})).records, 0);
    assert_eq!(only(serde_json::json!({"from_ms": 0})).records, total);

    let opts = serde_json::json!({"search": "\t200\t"}).to_string();
    let mut e = Engine::new(Options::from_json(&opts).unwrap());
    e.begin_file("x");
    let text = std::fs::read_to_string(&path[0]).unwrap();
    e.push(text.as_bytes()).unwrap();
    e.end_file().unwrap();
    let m: serde_json::Value = serde_json::from_str(&e.matches_json()).unwrap();
    let expected: Vec<u64> =
        text.lines().enumerate().filter(|(_, l)| l.contains("\t200\t")).map(|(i, _)| i as u64 + 1).collect();
    let got: Vec<u64> = m["matches"].as_array().unwrap().iter().map(|x| x["line"].as_u64().unwrap()).collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

#[test]
fn clear_errors() {
    let mut e = Engine::new(Options::from_json("{}").unwrap());
    e.begin_file("three.log");
    e.push(b"a\tb\tc\n").unwrap();
    let msg = e.end_file().unwrap_err().to_string();
    assert!(msg.contains("three.log") && msg.contains("has 3 fields"), "{msg}");
    let msg = Options::from_json(r#"{"fields": "timestamp,c-ipp"}"#).unwrap_err().to_string();
    assert!(msg.contains("c-ipp"), "{msg}");
    let msg = Options::from_json(r#"{"format": "w3c"}"#).unwrap_err().to_string();
    assert!(msg.contains("w3c"), "{msg}");
}

#[test]
fn the_page_filters_with_the_clis_filter() {
    let paths = vec![generated(Format::RealTime, 3000, "filters-rt.log")];
    let layout = LayoutChoice::new(FormatArg::Auto, None, FieldsOrder::Canonical, false).unwrap();
    let flags = cflog_cli::filter_args::FilterArgs {
        status: vec!["4xx,200".into()],
        edge: vec!["iad,FRA".into()],
        exclude_bots: true,
        since: Some("2026-11-01T00:00:05Z".into()),
        ..Default::default()
    };
    let options = AnalyzeOptions { filter: flags.filter_at(0).unwrap(), ..AnalyzeOptions::default() };
    let cli = analyze(&paths, &layout, &options).unwrap();
    assert!(cli.summary.records > 0 && cli.filtered_out > 0);
    let page = serde_json::json!({"filter": {"status": "4xx,200", "edge": "iad,FRA", "exclude_bots": true, "since": "2026-11-01T00:00:05Z"}});
    let mut engine = Engine::new(Options::from_json(&page.to_string()).unwrap());
    engine.begin_file("x");
    engine.push(&std::fs::read(&paths[0]).unwrap()).unwrap();
    engine.end_file().unwrap();
    assert_eq!(engine.report_json(), cli.summary.report(10).to_string());
    // A value the CLI refuses is refused in the same words.
    let e = Options::from_json(r#"{"filter": {"status": "6xx"}}"#).unwrap_err().to_string();
    assert_eq!(e, "filter: --status: expected status codes (404, 000) or classes (1xx to 5xx, other), separated by commas, e.g. 5xx,404");
    // Relative times count back from the page's clock.
    let now = 1_793_491_200_000i64 + 3_600_000;
    let o = Options::from_json(&serde_json::json!({"now_ms": now, "filter": {"since": "2h"}}).to_string()).unwrap();
    assert_eq!(o.filter.since_ms(), Some(now - 7_200_000));
}

#[test]
fn search_honours_the_filters_and_returns_parsed_records() {
    let path = generated(Format::Standard, 3000, "search-st.log");
    let text = std::fs::read_to_string(&path).unwrap();
    // Column of sc-status from the file's own #Fields header.
    let header = text.lines().find(|l| l.starts_with("#Fields:")).unwrap();
    let status_col = header.trim_start_matches("#Fields:").split_whitespace().position(|n| n == "sc-status").unwrap();
    let search = |filter: serde_json::Value| {
        let opts = serde_json::json!({"search": "GET", "max_matches": 100000, "filter": filter}).to_string();
        let mut e = Engine::new(Options::from_json(&opts).unwrap());
        e.begin_file("x");
        e.push(text.as_bytes()).unwrap();
        e.end_file().unwrap();
        serde_json::from_str::<serde_json::Value>(&e.matches_json()).unwrap()
    };
    let expected = |keep: &dyn Fn(&str) -> bool| -> Vec<u64> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.starts_with('#') && l.contains("GET") && keep(l.split('\t').nth(status_col).unwrap()))
            .map(|(i, _)| i as u64 + 1)
            .collect()
    };
    let lines = |m: &serde_json::Value| m["matches"].as_array().unwrap().iter().map(|x| x["line"].as_u64().unwrap()).collect::<Vec<_>>();
    let all = search(serde_json::Value::Null);
    assert_eq!(lines(&all), expected(&|_| true));
    let only_200 = search(serde_json::json!({"status": "200"}));
    let want = expected(&|s| s == "200");
    assert!(!want.is_empty() && want.len() < lines(&all).len());
    assert_eq!(lines(&only_200), want);
    assert_eq!(only_200["count"].as_u64().unwrap(), want.len() as u64);
    for m in only_200["matches"].as_array().unwrap() {
        assert_eq!(m["record"]["sc-status"], 200, "{m}");
    }
}

/// A 2016 standard log encodes user agents twice (`%2520`, format reference §2): the
/// engine decides so per file, as the CLI does, and its report lists the decoded text.
#[test]
fn double_encoding_is_decided_per_file_as_in_the_cli() {
    let legacy = fixture("standard/legacy-2016-23col-double-encoded.log");
    let doc = fixture("standard/aws-doc-2019-33col.log");
    let files = vec![legacy.clone(), doc.clone()];
    let (report, _) = streamed(&files, None, 60_000, 100);
    assert_eq!(report, cli_report(&files, None, 60_000));
    let r: serde_json::Value = serde_json::from_str(&report).unwrap();
    let mut agents: Vec<&str> = r["top"]["user_agent"].as_array().unwrap().iter().map(|e| e["key"].as_str().unwrap()).collect();
    agents.sort();
    assert_eq!(
        agents,
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36",
            "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36",
        ]
    );
    // The page's workers learn it from the layout token.
    let opts = Options::from_json("{}").unwrap();
    let mut cutter = Cutter::new(&opts.layout);
    for (path, twice) in [(&legacy, true), (&doc, false)] {
        cutter.begin(path);
        let start = cutter.take(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(start.double_decode, twice, "{path}");
        let token = layout_token(&start.layout, start.double_decode);
        assert_eq!(token.starts_with("S2\t"), twice, "{token}");
        assert_eq!(cflog_wasm::engine::layout_of_token(&token).unwrap(), (start.layout.clone(), twice));
    }
    assert_eq!(dealt(&files, None, 60_000, 1 << 20, 2).report_json(), report);
}

#[test]
fn top_lists_rank_as_asked() {
    use cflog_core::agg::Rank;
    assert_eq!(Options::from_json(r#"{"top_by": "bytes"}"#).unwrap().top_by, Rank::Bytes);
    assert_eq!(Options::from_json(r#"{"top_by": "errors"}"#).unwrap().top_by, Rank::Status5xx);
    assert!(Options::from_json(r#"{"top_by": "5xx"}"#).unwrap_err().to_string().contains("not requests, bytes or errors"));
    let file = generated(Format::RealTime, 3000, "top-by.log");
    let mut engine = Engine::new(Options::from_json(r#"{"top_by": "bytes"}"#).unwrap());
    engine.begin_file(&file);
    engine.push(&std::fs::read(&file).unwrap()).unwrap();
    engine.end_file().unwrap();
    let r: serde_json::Value = serde_json::from_str(&engine.report_json()).unwrap();
    let bytes: Vec<u64> = r["top"]["uri"].as_array().unwrap().iter().map(|e| e["bytes"].as_u64().unwrap()).collect();
    assert!(bytes.len() == 10 && bytes.windows(2).all(|p| p[0] >= p[1]), "{bytes:?}");
    assert_eq!(r["options"]["top_by"], "bytes");
}
