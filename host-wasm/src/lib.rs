//! `cflog-wasm`: cflog-core in the browser, behind an opaque [`Inspector`] handle.
//!
//! ```js
//! const insp = new Inspector(JSON.stringify({ format: "auto", window_ms: 60000 }));
//! insp.begin_file("a.log");
//! for await (const chunk of stream) insp.push(chunk);
//! insp.end_file();
//! // or, without copying each piece twice: write it at `wasm.memory.buffer`
//! // [insp.window(), + insp.window_size()) and call insp.filled(its length).
//! const report = insp.finish(); // same bytes as `cflog analyze --json --threads 1 a.log`
//! ```
//!
//! Several workers: a [`Cutter`] on the page describes each newline-aligned chunk (layout
//! and first line number); each worker's `Inspector.push_chunk` aggregates its chunks; the
//! page merges the workers' `state()` into one `Inspector` with `merge_state` and calls
//! `finish`. Errors are `JsError`s whose message names the file, line, field and reason.

pub mod engine;
pub mod error;
pub mod options;
pub mod rule;

use engine::{Engine, Options, layout_token};
use rule::RuleHost;
use wasm_bindgen::prelude::*;

fn err(e: impl Into<error::Error>) -> JsError {
    JsError::new(&e.into().to_string())
}

/// The inspector: configure, push bytes, finish with the report of `cflog analyze --json`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Inspector {
    engine: Engine,
    rule: Option<RuleHost>,
}

#[wasm_bindgen]
impl Inspector {
    /// A new inspector configured by `options` (JSON; see `engine::Options::from_json`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<Inspector, JsError> {
        Ok(Inspector { engine: Engine::new(Options::from_json(options).map_err(err)?), rule: None })
    }

    /// Starts streaming a new input.
    pub fn begin_file(&mut self, name: &str) {
        self.engine.begin_file(name);
    }

    /// Streams bytes of the current input (any chunking).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        self.engine.push(bytes).map_err(err)
    }

    /// Where the next bytes of the current input go: an offset into the wasm memory
    /// (`memory.buffer` of the module's exports) with room for [`Inspector::window_size`]
    /// bytes. Write up to that many there, then call [`Inspector::filled`]: the same as
    /// [`Inspector::push`] of those bytes, without a second copy inside the wasm memory
    /// (nor an allocation per call). Any call in between may move the window.
    pub fn window(&mut self) -> u32 {
        // wasm32: an address in the linear memory fits in 32 bits.
        self.engine.window().as_ptr().addr() as u32
    }

    /// The bytes [`Inspector::window`] has room for.
    pub fn window_size(&mut self) -> u32 {
        self.engine.window().len() as u32
    }

    /// The last `n` bytes of the current input were written at [`Inspector::window`]; a
    /// chunk is aggregated when one is complete.
    pub fn filled(&mut self, n: u32) -> Result<(), JsError> {
        self.engine.filled(n as usize).map_err(err)
    }

    /// Ends the current input.
    pub fn end_file(&mut self) -> Result<(), JsError> {
        self.engine.end_file().map_err(err)
    }

    /// Aggregates a chunk described by a [`Cutter`]: `layout` and `first_line` come from
    /// `Cutter.take`. `rule_result`, when given, is the rule's answer (plugin ABI result)
    /// to the batch [`Inspector::rule_batch`] built from the same chunk; an answer that
    /// breaks the ABI is counted as the rule's failure and the chunk aggregated un-enriched.
    pub fn push_chunk(&mut self, bytes: &[u8], file: u32, first_line: f64, layout: &str, rule_result: Option<Vec<u8>>) -> Result<(), JsError> {
        let verdicts = match (rule_result, self.rule.as_mut()) {
            (Some(r), Some(rule)) => rule.verdicts(&r),
            _ => None,
        };
        self.engine.push_chunk(bytes, file, first_line as u64, layout, verdicts.as_deref()).map_err(err)
    }

    /// Starts (or, after a failure, restarts) the enrichment rule `name`: checks the
    /// module's `imports` and `exports` (names, one per line), its `cflog_abi_version`
    /// answer and its `cflog_fields` bytes; returns the `cflog_init` input (schema then
    /// `config`, split at [`Inspector::rule_schema_len`]).
    pub fn rule_start(&mut self, name: &str, imports: &str, exports: &str, version: i32, fields: &[u8], config: &str) -> Result<Vec<u8>, JsError> {
        let rule = self.rule.get_or_insert_with(|| RuleHost::new(name));
        rule.check_module(imports, exports).map_err(err)?;
        rule.init_input(version, fields, config).map_err(err)
    }

    /// Where the schema ends in the last [`Inspector::rule_start`] answer.
    pub fn rule_schema_len(&self) -> u32 {
        self.rule.as_ref().map_or(0, |r| r.schema_len() as u32)
    }

    /// `cflog_init` returned `rc`; `message` is the rule's `cflog_last_error` text.
    pub fn rule_init_done(&mut self, rc: i32, message: &str) -> Result<(), JsError> {
        self.rule.as_mut().map_or(Ok(()), |r| r.init_done(rc, message)).map_err(err)
    }

    /// The fields the rule reads, one name per line.
    pub fn rule_fields(&self) -> String {
        self.rule.as_ref().map(RuleHost::fields_text).unwrap_or_default()
    }

    /// Whether the rule's instance must be re-created and started before the next call.
    pub fn rule_needs_restart(&self) -> bool {
        self.rule.as_ref().is_some_and(RuleHost::needs_restart)
    }

    /// The plugin-ABI batch for the rule: one entry per line of the chunk, each holding
    /// the rule's fields (`-` where absent; a standard log's date + time as `timestamp`).
    /// `undefined` when there is no rule or it was disabled after repeated failures.
    pub fn rule_batch(&mut self, bytes: &[u8], layout: &str) -> Result<Option<Vec<u8>>, JsError> {
        let forced = self.engine.options().layout.double_decode;
        let Some(rule) = self.rule.as_mut() else { return Ok(None) };
        // The layout token carries the per-file decoding decision.
        let schema = match engine::layout_of_token(layout).map_err(err)? {
            (cflog_engine::ChunkLayout::Log(schema), twice) => (cflog_core::Schema::clone(&schema), twice),
            (cflog_engine::ChunkLayout::Ndjson | cflog_engine::ChunkLayout::V2Json, _) => {
                return Err(err(error::Error::RuleOnNdjson));
            }
        };
        Ok(rule.batch(bytes, schema.0, schema.1 || forced))
    }

    /// Checks `cflog_enrich`'s packed answer against the rule's memory size after the
    /// call: `[ptr, len]` of the result to copy out, or `[]` (the failure is counted; pass
    /// the rule's `cflog_last_error` text to [`Inspector::rule_detail`]).
    pub fn rule_output(&mut self, packed: i64, memory_len: f64) -> Vec<u32> {
        match self.rule.as_mut().and_then(|r| r.output(packed, memory_len as usize)) {
            Some((p, l)) => vec![p, l],
            None => Vec::new(),
        }
    }

    /// Adds the rule's own message to the failure just counted.
    pub fn rule_detail(&mut self, message: &str) {
        if let Some(r) = self.rule.as_mut() {
            r.detail(message);
        }
    }

    /// A rule call or restart threw `error_name` (`RuntimeError` for a trap) with
    /// `message`; `memory_len` is the rule's memory size afterwards. Counted, contained.
    pub fn rule_failed(&mut self, error_name: &str, message: &str, memory_len: f64) {
        if let Some(r) = self.rule.as_mut() {
            r.failed(error_name, message, memory_len as usize);
        }
    }

    /// The rule's counters as JSON (see `rule::RuleHost::stats_json`), or `null`.
    pub fn rule_stats(&self) -> String {
        self.rule.as_ref().map_or_else(|| "null".to_string(), RuleHost::stats_json)
    }

    /// Records an enrichment rule asked to drop.
    pub fn rule_dropped(&self) -> f64 {
        self.engine.rule_dropped() as f64
    }

    /// The report JSON, byte for byte what `cflog analyze --json` prints (without the
    /// newline).
    pub fn finish(&self) -> String {
        self.engine.report_json()
    }

    /// The summary's binary state, to merge into another inspector.
    pub fn state(&self) -> Vec<u8> {
        self.engine.state()
    }

    /// Merges a state from [`Inspector::state`] (e.g. another worker's).
    pub fn merge_state(&mut self, state: &[u8]) -> Result<(), JsError> {
        self.engine.merge_state(state).map_err(err)
    }

    /// The first bad lines: `[{"file", "line", "message"}]` (message: `field F: reason`).
    pub fn bad_lines(&self) -> String {
        self.engine.bad_lines_json()
    }

    /// Raw-line search results: `{"count", "matches": [{"file", "line", "text"}]}`.
    pub fn matches(&self) -> String {
        self.engine.matches_json()
    }

    /// Records aggregated so far.
    pub fn records(&self) -> f64 {
        self.engine.summary().records as f64
    }

    /// Lines seen so far.
    pub fn lines(&self) -> f64 {
        self.engine.lines() as f64
    }
}

/// The reader side for several workers: per input, the layout and the line number where
/// each newline-aligned chunk starts.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Cutter {
    cutter: cflog_engine::Cutter,
    last_first_line: u64,
}

#[wasm_bindgen]
impl Cutter {
    /// A cutter for the layout options in `options` (same JSON as the inspector's).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<Cutter, JsError> {
        let o = Options::from_json(options).map_err(err)?;
        Ok(Cutter { cutter: cflog_engine::Cutter::new(&o.layout), last_first_line: 0 })
    }

    /// Starts a new input.
    pub fn begin_file(&mut self, name: &str) {
        self.cutter.begin(name);
    }

    /// Describes the next chunk (which must end at a line end or at the end of the
    /// input): returns its layout token; `first_line()` then gives the lines before it.
    pub fn take(&mut self, bytes: &[u8]) -> Result<String, JsError> {
        let start = self.cutter.take(bytes).map_err(err)?;
        self.last_first_line = start.first_line;
        Ok(layout_token(&start.layout, start.double_decode))
    }

    /// Lines of the input before the chunk last described by [`Cutter::take`].
    pub fn first_line(&self) -> f64 {
        self.last_first_line as f64
    }
}

/// Checks a field set (names, or `get-realtime-log-config` JSON) and returns the layout as
/// `{"fields": [...canonical order], "sampling_rate"}`; the error names the bad field.
#[wasm_bindgen]
pub fn check_field_set(spec: &str) -> Result<String, JsError> {
    let (names, rate) = engine::parse_fields_spec(spec).map_err(err)?;
    let schema = cflog_core::Schema::from_field_names(&names).map_err(|e| err(error::Error::FieldSet(e)))?;
    let fields: Vec<&str> = schema.names().collect();
    Ok(serde_json::json!({"fields": fields, "sampling_rate": rate}).to_string())
}

/// The complete real-time field list of each AWS release, as `[{"count", "fields"}]`.
#[wasm_bindgen]
pub fn realtime_releases() -> String {
    let list: Vec<serde_json::Value> = cflog_core::field::REALTIME_RELEASES
        .iter()
        .filter_map(|r| cflog_core::Schema::realtime_release(r.count))
        .map(|s| serde_json::json!({"count": s.len(), "fields": s.names().collect::<Vec<_>>()}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

/// Region, country and city of an edge location code (`IAD89-C1`), as JSON or `null`.
#[wasm_bindgen]
pub fn edge_info(code: &str) -> String {
    match cflog_core::enrich::geo::edge_geo(code) {
        Some(a) => serde_json::json!({"region": a.region.name(), "country": a.country, "city": a.city}).to_string(),
        None => "null".to_string(),
    }
}
