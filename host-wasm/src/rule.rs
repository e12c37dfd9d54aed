//! The browser's host side of enrichment rules (plugin ABI version 1, `docs/plugin-abi.md`).
//! The page only moves bytes (instantiates the rule's module, copies into and out of its
//! memory, calls its exports); every check and the failure policy are here, through
//! `cflog-plugin-abi`, the same code the wasmtime host runs: the module's shape, the ABI
//! version, the fields it asks for, the batch (a standard log's date + time sent as
//! `timestamp`), where the answer lies, the answer itself (counts, keys, values, finite
//! labels, sizes), and containment: a failed call leaves its records un-enriched, is
//! counted by kind, and after `MAX_CONSECUTIVE_FAILURES` in a row the rule is disabled.
//!
//! A batch carries one entry per line of the chunk, so results line up with lines; a line
//! that is not a record (header, blank, unparsable) goes as all `-`.

use cflog_core::{Field, Parser, RecordBuf, Schema};
use cflog_plugin_abi::{self as abi, FailureKind, Health};
use serde_json::json;

use crate::engine::Tags;
use crate::error::RuleError;

/// One line's verdict from the rule.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// The rule asks to drop the record.
    pub drop: bool,
    /// Tags.
    pub tags: Tags,
}

/// Builds the verdicts as the result is checked, in one pass ([`abi::decode_result`]).
struct Verdicts(Vec<Verdict>);

impl<'a> abi::Visit<'a> for Verdicts {
    fn record(&mut self, drop: bool) {
        self.0.push(Verdict { drop, tags: Tags::default() });
    }

    fn tag(&mut self, key: &'a str, value: &'a str) {
        if let Some(v) = self.0.last_mut() {
            v.tags.push((key.to_string(), value.to_string()));
        }
    }

    fn label(&mut self, _: &'a str, _: f64) {}
}

/// A rule's state in one worker: its fields, its health and the batch in flight.
#[derive(Debug)]
pub struct RuleHost {
    name: String,
    fields: Vec<Field>,
    health: Health,
    last_error: Option<String>,
    /// Kind of the last error a start step returned (for [`RuleHost::failed`]).
    start_kind: FailureKind,
    started: bool,
    live: bool,
    schema_len: usize,
    /// Records in the batch handed out last.
    pending: usize,
}

fn lines_of(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    body.split(|b| *b == b'\n').take(if bytes.is_empty() { 0 } else { usize::MAX })
}

impl RuleHost {
    /// A rule named `name` (its file name), not started yet.
    pub fn new(name: &str) -> RuleHost {
        RuleHost {
            name: name.to_string(),
            fields: Vec::new(),
            health: Health::default(),
            last_error: None,
            start_kind: FailureKind::Trap,
            started: false,
            live: false,
            schema_len: 0,
            pending: 0,
        }
    }

    fn refuse(&mut self, kind: FailureKind, error: RuleError) -> RuleError {
        self.start_kind = kind;
        error
    }

    /// Checks the module's imports and exports (names, one per line): no imports, every
    /// required export.
    pub fn check_module(&mut self, imports: &str, exports: &str) -> Result<(), RuleError> {
        if let Some(i) = imports.lines().find(|l| !l.is_empty()) {
            return Err(self.refuse(FailureKind::BadModule, RuleError::Imports(i.to_string())));
        }
        if let Some(missing) = abi::REQUIRED_EXPORTS.iter().find(|n| !exports.lines().any(|e| e == **n)) {
            return Err(self.refuse(FailureKind::BadModule, RuleError::MissingExport(missing)));
        }
        Ok(())
    }

    /// Checks `cflog_abi_version`'s answer and the `cflog_fields` bytes; returns the
    /// `cflog_init` input (schema text, then `config`; the schema's length is
    /// [`RuleHost::schema_len`]). A second start is a restart after a failure.
    pub fn init_input(&mut self, version: i32, fields: &[u8], config: &str) -> Result<Vec<u8>, RuleError> {
        if self.started {
            self.health.restarted();
        }
        if abi::check_version(version).is_err() {
            return Err(self.refuse(FailureKind::AbiVersion, RuleError::AbiVersion { found: version, speaks: abi::ABI_VERSION }));
        }
        let text = std::str::from_utf8(fields).map_err(|_| self.refuse(FailureKind::BadOutput, RuleError::FieldsNotUtf8))?;
        let fields: Vec<Field> =
            abi::record::rule_fields(text).collect::<Result<_, _>>().map_err(|e| self.refuse(FailureKind::Init, RuleError::Fields(e.to_string())))?;
        let mut out = Vec::new();
        abi::record::write_init_schema(&fields, &mut |b| out.extend_from_slice(b));
        self.schema_len = out.len();
        out.extend_from_slice(config.as_bytes());
        self.fields = fields;
        Ok(out)
    }

    /// Length of the schema part of the last [`RuleHost::init_input`].
    pub fn schema_len(&self) -> usize {
        self.schema_len
    }

    /// `cflog_init` returned `rc` (and the rule's last error `message`).
    pub fn init_done(&mut self, rc: i32, message: &str) -> Result<(), RuleError> {
        if rc != 0 {
            let detail = if message.is_empty() { format!("code {rc}") } else { message.to_string() };
            return Err(self.refuse(FailureKind::Init, RuleError::Init(detail)));
        }
        self.started = true;
        self.live = true;
        Ok(())
    }

    /// The fields the rule reads, one name per line.
    pub fn fields_text(&self) -> String {
        self.fields.iter().filter_map(|f| f.name(cflog_core::Format::RealTime)).collect::<Vec<_>>().join("\n")
    }

    /// Whether the instance must be re-created (and started) before the next call.
    pub fn needs_restart(&self) -> bool {
        self.started && !self.live && !self.health.disabled()
    }

    /// The batch for every line of `bytes` (a newline-aligned chunk laid out by
    /// `schema`), or `None` when the rule is disabled (the lines are counted as skipped).
    pub fn batch(&mut self, bytes: &[u8], schema: Schema, double_decode: bool) -> Option<Vec<u8>> {
        let mut parser = Parser::with_schema(schema).double_decode(double_decode);
        let mut buf = RecordBuf::new();
        let mut w = abi::BatchWriter::<Vec<u8>, Vec<u32>>::from_parts(Vec::with_capacity(bytes.len() / 4), Vec::new());
        for line in lines_of(bytes) {
            match parser.parse_line(line, &mut buf) {
                Ok(Some(record)) => w.push_record(&record, &self.fields),
                _ => w.push_absent(&self.fields),
            }
        }
        self.pending = w.len();
        if self.health.disabled() {
            self.health.skipped(self.pending);
            return None;
        }
        let mut out = Vec::with_capacity(w.encoded_len());
        w.encode_with(&mut |b| out.extend_from_slice(b));
        Some(out)
    }

    fn fail(&mut self, kind: FailureKind, message: String) {
        self.health.failed(kind, self.pending);
        self.last_error = Some(format!("rule {}: {kind}: {message}", self.name));
        // The instance's state is unknown after a failure: start afresh next time.
        self.live = false;
    }

    /// Checks `cflog_enrich`'s answer `packed` against the rule's memory (`memory_len`
    /// bytes after the call): `Some((ptr, len))` of the result to copy, or `None` after
    /// counting the failure.
    pub fn output(&mut self, packed: i64, memory_len: usize) -> Option<(u32, u32)> {
        if memory_len > abi::MAX_MEMORY_BYTES {
            self.fail(FailureKind::OutOfMemory, format!("memory grew to {memory_len} bytes"));
            return None;
        }
        match abi::check_enrich_answer(packed, memory_len, abi::MAX_OUTPUT_BYTES) {
            Ok(r) => Some((r.start as u32, r.len() as u32)),
            Err(e) => {
                self.fail(e.kind, e.what.to_string());
                None
            }
        }
    }

    /// The rule's own message for the failure just counted (`cflog_last_error`).
    pub fn detail(&mut self, message: &str) {
        if let Some(e) = self.last_error.as_mut().filter(|_| !message.is_empty()) {
            e.push_str(": ");
            e.push_str(&message.chars().take(4096).collect::<String>());
        }
    }

    /// A call (or a restart) threw: `error_name` is the JavaScript error's name
    /// (`RuntimeError` for a trap), `memory_len` the rule's memory size afterwards.
    pub fn failed(&mut self, error_name: &str, message: &str, memory_len: usize) {
        let kind = match error_name {
            _ if memory_len > abi::MAX_MEMORY_BYTES => FailureKind::OutOfMemory,
            "RuntimeError" | "RangeError" => FailureKind::Trap,
            "CompileError" | "LinkError" => FailureKind::BadModule,
            _ => self.start_kind,
        };
        self.fail(kind, message.to_string());
    }

    /// Reads the rule's result for the batch in flight: one verdict per line, or `None`
    /// (the failure counted) when the result breaks the ABI.
    pub fn verdicts(&mut self, result: &[u8]) -> Option<Vec<Verdict>> {
        let mut verdicts = Verdicts(Vec::with_capacity(self.pending));
        match abi::decode_result(result, self.pending as u32, &mut verdicts) {
            Ok(()) => {
                self.health.succeeded(self.pending);
                Some(verdicts.0)
            }
            Err(e) => {
                self.fail(FailureKind::BadOutput, format!("result: {e}"));
                None
            }
        }
    }

    /// The counters as JSON: `{"name", "batches", "records", "failures",
    /// "failures_by_kind": {kind: n}, "records_skipped", "restarts", "disabled",
    /// "last_error"}` (the fields of `cflog analyze`'s plugin stats).
    pub fn stats_json(&self) -> String {
        let h = &self.health;
        let kinds: serde_json::Map<String, serde_json::Value> = h.failures_by_kind().map(|(k, n)| (k.to_string(), json!(n))).collect();
        json!({
            "name": self.name, "batches": h.batches, "records": h.records, "failures": h.failures,
            "failures_by_kind": kinds, "records_skipped": h.records_skipped, "restarts": h.restarts,
            "disabled": h.disabled(), "last_error": self.last_error,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(fields: &str) -> RuleHost {
        let mut h = RuleHost::new("t.wasm");
        h.check_module("", &abi::REQUIRED_EXPORTS.join("\n")).unwrap();
        let input = h.init_input(1, fields.as_bytes(), "{}").unwrap();
        assert_eq!(&input[h.schema_len()..], b"{}");
        h.init_done(0, "").unwrap();
        h
    }

    #[test]
    fn batch_projects_fields_one_entry_per_line() {
        let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
        let mut h = started("sc-status\nc-ip\n");
        let b = h.batch(b"1.0\t192.0.2.1\t200\n\n1.5\t192.0.2.2\t404", schema, false).unwrap();
        // 3 entries in the rule's order: "200\t192.0.2.1", "-\t-", "404\t192.0.2.2".
        let mut expected = vec![3, 0, 0, 0, 13, 0, 0, 0, 16, 0, 0, 0, 29, 0, 0, 0];
        expected.extend_from_slice(b"200\t192.0.2.1-\t-404\t192.0.2.2");
        assert_eq!(b, expected);
        assert_eq!(h.fields_text(), "sc-status\nc-ip");
    }

    #[test]
    fn module_shape_version_and_fields_are_checked() {
        let mut h = RuleHost::new("t.wasm");
        assert!(h.check_module("env.f", "memory").unwrap_err().to_string().contains("imports env.f"));
        assert!(h.check_module("", "memory").unwrap_err().to_string().contains("does not export cflog_abi_version"));
        assert!(h.init_input(2, b"sc-status", "").unwrap_err().to_string().contains("ABI version 2"));
        assert!(h.init_input(1, b"sc-statuss", "").unwrap_err().to_string().contains("unknown real-time field"));
        assert!(h.init_done(1, "bad config").unwrap_err().to_string().contains("bad config"));
    }

    #[test]
    fn bad_answers_are_contained_counted_and_disable_the_rule() {
        let schema = || Schema::from_field_names(&["timestamp", "sc-status"]).unwrap();
        let mut h = started("sc-status");
        let chunk = b"1.0\t200\n1.5\t404\n";
        // A NaN label: refused (the browser used to skip labels unchecked).
        h.batch(chunk, schema(), false).unwrap();
        let mut nan = vec![2, 0, 0, 0, 0, 0, 1, 1, b'k'];
        nan.extend_from_slice(&f64::NAN.to_le_bytes());
        nan.extend_from_slice(&[0, 0, 0]);
        assert_eq!(h.verdicts(&nan), None);
        assert!(h.needs_restart());
        // A restart, then a bad label key; then a trap.
        h.init_input(1, b"sc-status", "").unwrap();
        h.init_done(0, "").unwrap();
        h.batch(chunk, schema(), false).unwrap();
        let mut key = vec![2, 0, 0, 0, 0, 0, 1, 1, b' '];
        key.extend_from_slice(&1f64.to_le_bytes());
        key.extend_from_slice(&[0, 0, 0]);
        assert_eq!(h.verdicts(&key), None);
        h.batch(chunk, schema(), false).unwrap();
        h.failed("RuntimeError", "unreachable", 65536);
        // Three in a row: disabled; the next chunk is skipped, not sent.
        assert!(!h.needs_restart());
        assert_eq!(h.batch(chunk, schema(), false), None);
        let s: serde_json::Value = serde_json::from_str(&h.stats_json()).unwrap();
        assert_eq!(s["failures"], 3);
        assert_eq!(s["failures_by_kind"], json!({"trap": 1, "bad_output": 2}));
        assert_eq!(s["records_skipped"], 8);
        assert_eq!(s["disabled"], true);
        assert_eq!(s["restarts"], 1);
        assert!(s["last_error"].as_str().unwrap().contains("rule t.wasm: trap: unreachable"));
    }

    #[test]
    fn good_answers_and_answer_ranges() {
        let mut h = started("sc-status");
        h.batch(b"1.0\t200\n", Schema::from_field_names(&["timestamp", "sc-status"]).unwrap(), false).unwrap();
        assert_eq!(h.output(abi::pack(64, 10), 1 << 16), Some((64, 10)));
        let mut r = vec![1, 0, 0, 0, 1, 1, 1, 3, b'b', b'o', b't', 3, 0, b'y', b'e', b's', 1, b'k'];
        r.extend_from_slice(&0.5f64.to_le_bytes());
        assert_eq!(h.verdicts(&r).unwrap(), [Verdict { drop: true, tags: vec![("bot".into(), "yes".into())] }]);
        assert_eq!(h.output(abi::pack(65530, 10), 1 << 16), None);
        assert_eq!(h.output(-1, 1 << 16), None);
        h.detail("no config");
        let s: serde_json::Value = serde_json::from_str(&h.stats_json()).unwrap();
        assert_eq!(s["failures_by_kind"], json!({"bad_output": 1, "guest_error": 1}));
        assert!(s["last_error"].as_str().unwrap().ends_with("cflog_enrich reported an error: no config"));
        assert_eq!(s["batches"], 1);
    }
}
