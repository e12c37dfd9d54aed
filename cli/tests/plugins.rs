//! `cflog analyze --plugin`: tag breakdowns in the report, drop decisions, and a broken
//! rule reported on stderr without failing the run. Needs the example rules built
//! (`make plugins`).
#![cfg(feature = "plugins")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cflog_testkit::scratch::Scratch;
use serde_json::{Value, json};

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn fixture(name: &str) -> String {
    root().join("plugins/cflog-plugin-host/tests/fixtures").join(name).display().to_string()
}

fn rule(name: &str) -> String {
    let dir = match std::env::var_os("CFLOG_PLUGIN_WASM_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_BIN_EXE_cflog")).ancestors().nth(2).unwrap().join("wasm32-unknown-unknown/release"),
    };
    let p = dir.join(format!("cflog_rule_{name}.wasm"));
    assert!(p.is_file(), "{} missing: run `make plugins` first", p.display());
    p.display().to_string()
}

fn analyze(extra: &[&str]) -> (Value, String, Output) {
    let fields = format!("@{}", fixture("rules.fields"));
    let log = fixture("rules.log");
    let mut args = vec!["analyze", "--json", "--no-progress", "--threads", "1", "--fields", &fields];
    args.extend_from_slice(extra);
    args.push(&log);
    let out = cflog(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (report, stderr, out)
}

#[test]
fn tag_breakdowns_from_four_rules() {
    let (bots, paths, security) = (rule("bots"), rule("paths"), rule("security"));
    let wat = root().join("plugins/examples/wat/status_class.wat").display().to_string();
    let (r, stderr, out) =
        analyze(&["--plugin", &bots, "--plugin", &paths, "--plugin", &security, "--plugin", &wat]);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(r["records"], 6);
    // Worked out by hand from rules.log (see rules-expected.json beside it).
    assert_eq!(
        r["tags"],
        json!({
            "bot": {"googlebot": 1, "python-requests": 1, "curl": 1},
            "network": {"google": 1, "aws": 1},
            "path_class": {"html": 4, "api": 1, "static": 1},
            "threat": {"scanner": 1, "sqli": 1, "traversal": 1},
            "status_class": {"2xx": 3, "3xx": 1, "4xx": 1}
        })
    );
}

#[test]
fn configured_rule_and_drop_decisions() {
    let dir = Scratch::new("cli-plugins");
    let cfg = dir.join("security.json");
    std::fs::write(&cfg, r#"{"drop": true}"#).unwrap();
    let spec = format!("{}:{}", rule("security"), cfg.display());
    let (r, stderr, out) = analyze(&["--plugin", &spec]);
    assert!(out.status.success(), "{stderr}");
    // Three flagged records are dropped before counting.
    assert_eq!(r["records"], 3);
    assert_eq!(r["tags"], json!({}));
    assert!(stderr.contains("3 record(s) dropped by plugins"), "{stderr}");

    let bad_cfg = dir.join("bad.json");
    std::fs::write(&bad_cfg, r#"{"rules": 3}"#).unwrap();
    let spec = format!("{}:{}", rule("paths"), bad_cfg.display());
    let (_, stderr, out) = analyze(&["--plugin", &spec]);
    assert!(!out.status.success());
    assert!(stderr.contains("plugin cflog_rule_paths: init: cflog_init returned 1: config: rules: expected an array"), "{stderr}");
}

#[test]
fn a_trapping_rule_is_reported_and_the_run_goes_on() {
    let dir = Scratch::new("cli-trap");
    let wat = std::fs::read_to_string(root().join("plugins/examples/wat/status_class.wat")).unwrap();
    // Same rule, but cflog_enrich traps at once.
    let trapping = wat.replace(
        "(local.set $count (i32.load (local.get $ptr)))",
        "unreachable (local.set $count (i32.load (local.get $ptr)))",
    );
    assert_ne!(trapping, wat);
    let path = dir.join("trapper.wat");
    std::fs::write(&path, trapping).unwrap();
    let (r, stderr, out) = analyze(&["--plugin", path.to_str().unwrap(), "--plugin", &rule("paths")]);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(r["records"], 6);
    assert_eq!(r["tags"], json!({"path_class": {"html": 4, "api": 1, "static": 1}}));
    assert!(stderr.contains("cflog: plugin trapper: 1 failed batch(es) (1 trap), 6 record(s) left un-enriched"), "{stderr}");
}

/// A rule that drops nothing must not change anything but the tags, including across a
/// mid-file layout change (`#Fields:` lines end a batch) and on several threads.
#[test]
fn rules_change_only_the_tags() {
    let dir = Scratch::new("cli-plugins-gen");
    let generated = dir.join("gen.log");
    let g = generated.display().to_string();
    assert!(cflog(&["gen", "--format", "realtime", "--lines", "5000", "--seed", "3", "-o", &g]).status.success());
    let mixed = root().join("tests/fixtures/standard/concatenated-mixed.log").display().to_string();
    let paths = rule("paths");
    for (log, threads) in [(&mixed, "1"), (&mixed, "2"), (&g, "1"), (&g, "2")] {
        let base = cflog(&["analyze", "--json", "--no-progress", "--threads", threads, log]);
        let with = cflog(&["analyze", "--json", "--no-progress", "--threads", threads, "--plugin", &paths, log]);
        assert_eq!(base.status.code(), with.status.code());
        let mut base: Value = serde_json::from_slice(&base.stdout).unwrap();
        let mut with: Value = serde_json::from_slice(&with.stdout).unwrap();
        let tags = with["tags"]["path_class"].as_object().expect("path_class breakdown").clone();
        let tagged: u64 = tags.values().map(|v| v.as_u64().unwrap()).sum();
        // Every record has a URI path here, so every record gets a class.
        assert_eq!(tagged, with["records"].as_u64().unwrap());
        assert!(tagged > 0);
        // The binary state carries the tags too.
        for r in [&mut base, &mut with] {
            r.as_object_mut().unwrap().remove("tags");
            r.as_object_mut().unwrap().remove("state");
        }
        assert_eq!(base, with, "{log}, threads {threads}");
    }
}
