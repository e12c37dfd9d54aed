//! Shared helpers: where the example rules are, and the fixture.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cflog_core::Schema;

/// `plugins/` in the source tree.
pub fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The example rule modules: the three Rust ones built by `make plugins`
/// (wasm32-unknown-unknown, release, in this build's target directory) and the `.wat` one.
pub fn example(name: &str) -> PathBuf {
    if name == "status_class" {
        return plugins_dir().join("examples/wat/status_class.wat");
    }
    let dir = match std::env::var_os("CFLOG_PLUGIN_WASM_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            // <target>/debug/deps/<test binary> -> <target>/wasm32-unknown-unknown/release
            let exe = std::env::current_exe().unwrap();
            exe.ancestors().nth(3).unwrap().join("wasm32-unknown-unknown/release")
        }
    };
    let path = dir.join(format!("cflog_rule_{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: build the example rules first with `make plugins` \
         (cargo build --target wasm32-unknown-unknown --release -p cflog-rule-{name})",
        path.display()
    );
    path
}

pub const RULES: [&str; 4] = ["bots", "paths", "security", "status_class"];

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture_schema() -> Schema {
    let text = std::fs::read_to_string(fixture_dir().join("rules.fields")).unwrap();
    let names: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    Schema::realtime_ordered(&names).unwrap()
}

pub fn fixture_lines() -> Vec<Vec<u8>> {
    std::fs::read(fixture_dir().join("rules.log")).unwrap().split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

pub fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("rules-expected.json")).unwrap()).unwrap()
}
