//! Hostile and broken guests are contained: the run goes on, the records are left
//! un-enriched by that plugin, the failure is counted under the plugin's name, and a
//! plugin that keeps failing is disabled.

mod common;

use std::time::Duration;

use cflog_plugin_host::{FailureKind, Interrupt, Limits, PluginHost, PluginSet, Reason};

/// A guest in WAT that speaks the ABI except for what `enrich` (the body of
/// `cflog_enrich`, which must leave an i64) and `version` make it do. It reads
/// sc-status and, when it behaves, returns "no tags" for every record.
fn guest(version: i32, enrich: &str, extra: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 2)
  (data (i32.const 16) "sc-status")
  {extra}
  (func (export "cflog_abi_version") (result i32) (i32.const {version}))
  (func (export "cflog_fields") (result i64) (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 9)))
  (func (export "cflog_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "cflog_init") (param i32 i32 i32 i32) (result i32) (i32.const 0))
  (func $empty (param $ptr i32) (result i64)
    (local $n i32) (local $o i32)
    (local.set $n (i32.load (local.get $ptr)))
    (i32.store (i32.const 60000) (local.get $n))
    (memory.fill (i32.const 60004) (i32.const 0) (i32.mul (local.get $n) (i32.const 3)))
    (i64.or (i64.shl (i64.const 60000) (i64.const 32)) (i64.extend_i32_u (i32.add (i32.const 4) (i32.mul (local.get $n) (i32.const 3))))))
  (func (export "cflog_enrich") (param $ptr i32) (param $len i32) (result i64) {enrich})
)"#
    )
}

const WELL_BEHAVED: &str = "(call $empty (local.get $ptr))";

/// Both ways of stopping a runaway call; every containment test runs under each.
const MODES: [Interrupt; 2] = [Interrupt::Fuel, Interrupt::Deadline];

fn limits_for(interrupt: Interrupt) -> Limits {
    Limits {
        interrupt,
        fuel_per_batch: 1_000_000,
        fuel_per_record: 10_000,
        deadline_per_batch: Duration::from_millis(20),
        deadline_per_record: Duration::ZERO,
        memory_bytes: 4 << 20,
        ..Limits::default()
    }
}

fn limits() -> Limits {
    limits_for(Interrupt::Fuel)
}

/// Runs `batches` batches of the fixture through `wat` next to the status_class rule.
fn run(wat: &str, batches: usize, limits: Limits) -> (PluginSet, Vec<usize>) {
    let host = PluginHost::new(limits).unwrap();
    let bad = host.compile("hostile", wat.as_bytes(), None).unwrap();
    let good = host.compile_file(&common::example("status_class"), None).unwrap();
    let mut set = PluginSet::instantiate(&host, &[bad, good]).unwrap();
    let lines = common::fixture_lines();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let mut tagged = Vec::new();
    for _ in 0..batches {
        let e = set.enrich_lines(&common::fixture_schema(), &refs);
        // The well-behaved neighbour always gets through: records 0..5 have a status.
        assert_eq!((0..e.len()).filter(|i| e.tags(*i).any(|(k, _)| k == "status_class")).count(), 5);
        tagged.push((0..e.len()).map(|i| e.tags(i).count()).sum());
    }
    (set, tagged)
}

fn assert_contained(wat: &str, kind: FailureKind) {
    for mode in MODES {
        assert_contained_under(wat, kind, limits_for(mode));
    }
}

fn assert_contained_under(wat: &str, kind: FailureKind, limits: Limits) {
    let (set, tagged) = run(wat, 5, limits);
    let s = &set.stats()[0];
    assert_eq!(s.name, "hostile");
    assert_eq!(s.failures, 3, "{s:?}");
    assert_eq!(s.failures_by_kind.get(kind.name()), Some(&3), "{s:?}");
    assert!(s.disabled, "three failures in a row disable the plugin: {s:?}");
    assert_eq!(s.batches, 0);
    // 5 batches of 6 records: 3 failed, 2 skipped because disabled.
    assert_eq!(s.records_skipped, 30);
    let msg = s.last_error.as_deref().unwrap();
    assert!(msg.starts_with("plugin hostile: "), "{msg}");
    assert_eq!(tagged, [5; 5], "only the good plugin's tags");
    let good = &set.stats()[1];
    assert_eq!((good.batches, good.failures, good.disabled), (5, 0, false));
}

#[test]
fn a_well_behaved_guest_is_not_counted_as_failing() {
    let (set, _) = run(&guest(1, WELL_BEHAVED, ""), 2, limits());
    let s = &set.stats()[0];
    assert_eq!((s.batches, s.records, s.failures, s.disabled), (2, 12, 0, false));
}

#[test]
fn infinite_loop_times_out() {
    assert_contained(&guest(1, "(loop $l (br $l)) (i64.const 0)", ""), FailureKind::Timeout);
}

#[test]
fn memory_bomb_hits_the_limit() {
    let bomb = "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) unreachable";
    assert_contained(&guest(1, bomb, ""), FailureKind::OutOfMemory);
}

#[test]
fn trap_is_contained() {
    assert_contained(&guest(1, "unreachable", ""), FailureKind::Trap);
}

#[test]
fn stack_overflow_is_a_trap() {
    let recurse = r#"(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))"#;
    assert_contained(&guest(1, "(drop (call $r (i32.const 0))) (i64.const 0)", recurse), FailureKind::Trap);
}

#[test]
fn garbage_output_pointer_and_lengths() {
    // Past the end of memory, length near 4 GiB.
    assert_contained(&guest(1, "(i64.const 0x7ffffff0fffffff0)", ""), FailureKind::BadOutput);
    // Inside memory, but a result length longer than the output limit.
    assert_contained(&guest(1, "(i64.const 0x00000000ffffffff)", ""), FailureKind::BadOutput);
    // A count that does not match the batch.
    let wrong_count = "(i32.store (i32.const 60000) (i32.const 7)) (i64.or (i64.shl (i64.const 60000) (i64.const 32)) (i64.const 4))";
    assert_contained(&guest(1, wrong_count, ""), FailureKind::BadOutput);
    // Six records announced, the first claims 255 tags, in an 8-byte result.
    let lying = "(i32.store (i32.const 60000) (i32.const 6)) (i32.store (i32.const 60004) (i32.const 0x00ff0100)) \
                 (i64.or (i64.shl (i64.const 60000) (i64.const 32)) (i64.const 8))";
    assert_contained(&guest(1, lying, ""), FailureKind::BadOutput);
}

#[test]
fn guest_reported_error() {
    assert_contained(&guest(1, "(i64.const -1)", ""), FailureKind::GuestError);
}

#[test]
fn a_failure_then_recovery_restarts_the_instance() {
    // Traps on batches of exactly one record.
    let picky = "(if (i32.eq (i32.load (local.get $ptr)) (i32.const 1)) (then unreachable)) (call $empty (local.get $ptr))";
    let host = PluginHost::new(limits()).unwrap();
    let c = host.compile("picky", guest(1, picky, "").as_bytes(), None).unwrap();
    let mut set = PluginSet::instantiate(&host, &[c]).unwrap();
    let lines = common::fixture_lines();
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
    let mut ok = Vec::new();
    // Two failures, a success, two failures, a success: never three in a row.
    for n in [1, 1, 6, 1, 1, 6] {
        let e = set.enrich_lines(&common::fixture_schema(), &refs[..n]);
        ok.push(e.plugin_ok(0));
    }
    assert_eq!(ok, [false, false, true, false, false, true]);
    let s = &set.stats()[0];
    // Each failure discards the instance; the next batch starts a new one.
    assert_eq!((s.failures, s.batches, s.records, s.records_skipped, s.restarts, s.disabled), (4, 2, 12, 4, 4, false), "{s:?}");
}

fn load_error(wat: &str, limits: Limits) -> cflog_plugin_host::PluginError {
    let host = PluginHost::new(limits).unwrap();
    match host.compile("hostile", wat.as_bytes(), None) {
        Err(e) => e,
        Ok(c) => PluginSet::instantiate(&host, &[c]).unwrap_err(),
    }
}

#[test]
fn wrong_abi_version_is_refused_at_load() {
    let e = load_error(&guest(2, WELL_BEHAVED, ""), limits());
    assert_eq!(e.kind, FailureKind::AbiVersion);
    assert_eq!(e.reason, Reason::AbiVersion { found: 2 });
    assert_eq!(e.to_string(), "plugin hostile: abi_version: module speaks ABI version 2, this host speaks 1");
}

#[test]
fn imports_are_refused() {
    let wat = r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1))"#;
    let e = load_error(wat, limits());
    assert_eq!(e.kind, FailureKind::BadModule);
    assert_eq!(e.reason, Reason::Imports { module: "wasi_snapshot_preview1".into(), name: "fd_write".into() });
    assert_eq!(
        e.to_string(),
        "plugin hostile: bad_module: imports wasi_snapshot_preview1.fd_write; plugins may not import anything"
    );
}

#[test]
fn oversized_initial_memory_is_refused_at_load() {
    let wat = guest(1, WELL_BEHAVED, "").replace("(memory (export \"memory\") 2)", "(memory (export \"memory\") 1000)");
    let e = load_error(&wat, limits());
    assert_eq!(e.kind, FailureKind::OutOfMemory, "{e}");
}

#[test]
fn missing_exports_and_endless_init_are_refused() {
    let e = load_error(r#"(module (memory (export "memory") 1))"#, limits());
    assert_eq!(e.kind, FailureKind::BadModule);
    assert!(matches!(e.reason, Reason::Export { export: "cflog_abi_version", .. }), "{e}");
    assert!(e.to_string().starts_with("plugin hostile: bad_module: export cflog_abi_version: "), "{e}");
    let wat = guest(1, WELL_BEHAVED, "").replace(
        "(func (export \"cflog_init\") (param i32 i32 i32 i32) (result i32) (i32.const 0))",
        "(func (export \"cflog_init\") (param i32 i32 i32 i32) (result i32) (loop $l (br $l)) (i32.const 0))",
    );
    let e = load_error(&wat, Limits { fuel_init: 1_000_000, ..limits() });
    assert_eq!(e.kind, FailureKind::Timeout, "{e}");
    let e = load_error(&wat, Limits { deadline_init: Duration::from_millis(20), ..limits_for(Interrupt::Deadline) });
    assert_eq!(e.kind, FailureKind::Timeout, "{e}");
}

#[test]
fn a_rule_rejecting_its_config_names_the_reason() {
    let host = PluginHost::new(limits()).unwrap();
    let c = host.compile_file(&common::example("paths"), Some(r#"{"rules": 3}"#.into())).unwrap();
    let e = PluginSet::instantiate(&host, &[c]).unwrap_err();
    assert_eq!(e.kind, FailureKind::Init);
    assert_eq!(e.reason, Reason::InitFailed { code: 1, guest: Some("config: rules: expected an array".into()) });
    assert_eq!(e.to_string(), "plugin cflog_rule_paths: init: cflog_init returned 1: config: rules: expected an array");
}
