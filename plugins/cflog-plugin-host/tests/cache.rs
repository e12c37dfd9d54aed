//! The precompiled-module cache: written once, loaded next time, replaced when unusable.

mod common;

use cflog_plugin_host::{Limits, PluginHost, PluginSet, PluginSpec};

fn tags_of(host: &PluginHost, c: cflog_plugin_host::CompiledPlugin) -> Vec<String> {
    let mut set = PluginSet::instantiate(host, &[c]).unwrap();
    let lines = common::fixture_lines();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let e = set.enrich_lines(&common::fixture_schema(), &refs);
    (0..e.len()).flat_map(|i| e.tags(i).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()).collect()
}

#[test]
fn cached_modules_behave_like_fresh_ones() {
    let dir = std::env::temp_dir().join(format!("cflog-plugin-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let host = PluginHost::new(Limits::default()).unwrap();
    let module = common::example("paths");
    let fresh = tags_of(&host, host.compile_file(&module, None).unwrap());

    let first = host.compile_file_cached(&module, None, &dir).unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().unwrap().to_str().unwrap().starts_with("cflog_rule_paths-"));
    assert_eq!(tags_of(&host, first), fresh);

    let second = host.compile_file_cached(&module, None, &dir).unwrap();
    assert_eq!(tags_of(&host, second), fresh);

    // An unusable cache file (truncated, other engine) is recompiled and replaced.
    std::fs::write(&files[0], b"not machine code").unwrap();
    let third = host.compile_file_cached(&module, None, &dir).unwrap();
    assert_eq!(tags_of(&host, third), fresh);
    assert!(std::fs::metadata(&files[0]).unwrap().len() > 1000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plugin_specs() {
    assert_eq!(PluginSpec::parse("a/rule.wasm:cfg/x.json").config.unwrap().to_str(), Some("cfg/x.json"));
    assert_eq!(PluginSpec::parse("a/rule.wasm:cfg/x.json").module.to_str(), Some("a/rule.wasm"));
    assert_eq!(PluginSpec::parse("rule.wat").config, None);
    let dir = std::env::temp_dir().join(format!("cflog-plugin-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["b.wasm", "a.wat", "a.json", "notes.txt"] {
        std::fs::write(dir.join(f), b"").unwrap();
    }
    let list = PluginSpec::list(&format!("{}, x.wasm:y.json", dir.display())).unwrap();
    let names: Vec<(String, Option<String>)> = list
        .iter()
        .map(|s| {
            (
                s.module.file_name().unwrap().to_string_lossy().into_owned(),
                s.config.as_ref().map(|c| c.file_name().unwrap().to_string_lossy().into_owned()),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("a.wat".into(), Some("a.json".into())), ("b.wasm".into(), None), ("x.wasm".into(), Some("y.json".into()))]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
