//! `cflog-plugin`: write a cflog enrichment rule in a few lines of Rust and build it to a
//! core wasm module that runs in `cflog analyze`, the Lambda and the browser alike.
//!
//! A rule names the fields it reads, builds itself from a JSON configuration string, and
//! looks at one [`Record`] at a time (the `cflog-core` view, with every typed getter),
//! writing tags, numeric labels or a drop decision into an [`Output`]. The SDK does the
//! rest: the exports of ABI version [`abi::ABI_VERSION`] (see `docs/plugin-abi.md`),
//! batch decoding, result encoding, an allocator and a panic handler, with no imports.
//!
//! ```
//! use cflog_plugin::{Output, Record, Rule, Field};
//!
//! struct Curl;
//!
//! impl Rule for Curl {
//!     const FIELDS: &'static [&'static str] = &["cs-user-agent"];
//!     fn new(_config: &str) -> Result<Self, String> {
//!         Ok(Curl)
//!     }
//!     fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
//!         if record.raw(Field::UserAgent).is_some_and(|ua| ua.starts_with(b"curl/")) {
//!             out.tag("client", "curl");
//!         }
//!     }
//! }
//! // In the cdylib: cflog_plugin::export_rule!(Curl);
//!
//! // Natively, the same rule runs through the same encoding for tests:
//! let results = cflog_plugin::testing::run::<Curl>("", &[&b"curl/8.4.0"[..], b"Mozilla/5.0"]).unwrap();
//! assert_eq!(results[0].tags, vec![("client".to_string(), "curl".to_string())]);
//! assert!(results[1].tags.is_empty());
//! ```
//!
//! Build with `cargo build --target wasm32-unknown-unknown --release` (crate type
//! `cdylib`). On `wasm32` the SDK installs a global allocator (dlmalloc over the module's
//! own memory) and a panic handler that traps; the host treats a trap as a failed batch.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod abi;

use alloc::string::String;
use alloc::vec::Vec;

pub use abi::Output;
pub use hashbrown;
pub use memchr;
pub use serde_json as json;
pub use cflog_core::{Field, Parser, Record, RecordBuf, Schema};

/// An enrichment rule.
pub trait Rule: Sized {
    /// Real-time field names the rule reads (`cs-user-agent`, `asn`, `cs-uri-stem`…).
    /// Only these travel to the guest, in this order, so name few.
    const FIELDS: &'static [&'static str];

    /// Builds the rule from its configuration (a JSON document, or `""` when none was
    /// given). An error disables the plugin before it sees a record.
    fn new(config: &str) -> Result<Self, String>;

    /// Looks at one record. `out` is empty on entry.
    fn enrich(&mut self, record: &Record<'_>, out: &mut Output);
}

/// The guest side of the ABI for a rule `R`: init, decode, enrich, encode. The export
/// macro keeps one in a static; tests drive it directly.
#[derive(Debug)]
pub struct Guest<R> {
    rule: Option<R>,
    parser: Option<Parser>,
    buf: RecordBuf,
    /// The batch's result, record by record (see [`Output`]).
    out: Output,
    /// Buffer the host writes into (`cflog_alloc`).
    pub input: Vec<u8>,
    error: String,
    fields: String,
}

impl<R: Rule> Default for Guest<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Rule> Guest<R> {
    /// A guest before init.
    pub fn new() -> Self {
        let mut fields = String::new();
        for (i, f) in R::FIELDS.iter().enumerate() {
            if i > 0 {
                fields.push('\n');
            }
            fields.push_str(f);
        }
        Guest {
            rule: None,
            parser: None,
            buf: RecordBuf::new(),
            out: Output::default(),
            input: Vec::new(),
            error: String::new(),
            fields,
        }
    }

    /// The `cflog_fields` answer: field names, one per line.
    pub fn fields(&self) -> &str {
        &self.fields
    }

    /// The last error message (`cflog_last_error`).
    pub fn last_error(&self) -> &str {
        &self.error
    }

    /// A buffer of `len` bytes for the host to write into. The host overwrites all of it,
    /// so bytes left from the last batch stay as they are and only new room is zeroed
    /// (zeroing the whole buffer cost a `memory.fill` of every batch's size).
    pub fn alloc(&mut self, len: usize) -> &mut [u8] {
        if len > self.input.len() {
            self.input.resize(len, 0);
        } else {
            self.input.truncate(len);
        }
        &mut self.input
    }

    /// `cflog_init`: `schema` is `realtime` then one field name per line. The error is
    /// also kept for `cflog_last_error`.
    pub fn init(&mut self, schema: &[u8], config: &[u8]) -> Result<(), &str> {
        self.rule = None;
        match self.try_init(schema, config) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.error = e;
                Err(&self.error)
            }
        }
    }

    fn try_init(&mut self, schema: &[u8], config: &[u8]) -> Result<(), String> {
        let schema = core::str::from_utf8(schema).map_err(|_| String::from("schema is not UTF-8"))?;
        let mut lines = schema.lines();
        match lines.next() {
            Some("realtime") => {}
            other => return Err(alloc::format!("unsupported schema format {other:?} (expected realtime)")),
        }
        let names: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        let schema = Schema::realtime_ordered(&names).map_err(|e| alloc::format!("schema: {e}"))?;
        let config = core::str::from_utf8(config).map_err(|_| String::from("config is not UTF-8"))?;
        self.rule = Some(R::new(config)?);
        self.parser = Some(Parser::realtime(schema));
        Ok(())
    }

    /// `cflog_enrich` on `batch`: the encoded result.
    pub fn enrich_bytes(&mut self, batch: &[u8]) -> Result<&[u8], &str> {
        let (Some(rule), Some(parser)) = (self.rule.as_mut(), self.parser.as_mut()) else {
            self.error = String::from("cflog_enrich called before a successful cflog_init");
            return Err(&self.error);
        };
        let reader = match abi::BatchReader::new(batch) {
            Ok(r) => r,
            Err(e) => {
                self.error = alloc::format!("bad batch: {e}");
                return Err(&self.error);
            }
        };
        self.out.start_batch();
        for line in reader.lines() {
            // A line the rule's parser rejects gets no output rather than failing the batch.
            if let Ok(Some(record)) = parser.parse_line(line, &mut self.buf) {
                rule.enrich(&record, &mut self.out);
            }
            self.out.close_record();
        }
        Ok(self.out.finish_batch())
    }
}

/// Exports rule type `$rule` through the ABI. Expands to nothing off `wasm32`, so the
/// crate still builds and tests natively.
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        #[cfg(target_arch = "wasm32")]
        mod __cflog_exports {
            use super::*;
            struct Slot(core::cell::UnsafeCell<Option<$crate::Guest<$rule>>>);
            // SAFETY: a core wasm module without the threads proposal runs on one thread.
            unsafe impl Sync for Slot {}
            static GUEST: Slot = Slot(core::cell::UnsafeCell::new(None));

            fn guest() -> &'static mut $crate::Guest<$rule> {
                // SAFETY: single-threaded, and no export re-enters another, so this is
                // the only live reference.
                let slot = unsafe { &mut *GUEST.0.get() };
                slot.get_or_insert_with($crate::Guest::new)
            }

            fn pack(bytes: &[u8]) -> i64 {
                (((bytes.as_ptr() as usize as u64) << 32) | bytes.len() as u64) as i64
            }

            // SAFETY (every `no_mangle` export below): these are the plugin ABI's symbols
            // (`abi.rs`), defined only here; invoking this macro twice in one crate is a
            // compile error (a duplicate symbol), so no two definitions of a name can clash.
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_abi_version() -> i32 {
                $crate::abi::ABI_VERSION
            }

            // SAFETY: a plugin ABI symbol, defined only here (see the first export).
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_fields() -> i64 {
                pack(guest().fields().as_bytes())
            }

            // SAFETY: a plugin ABI symbol, defined only here (see the first export).
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_alloc(len: i32) -> i32 {
                guest().alloc(len.max(0) as usize).as_mut_ptr() as usize as i32
            }

            // SAFETY: a plugin ABI symbol, defined only here (see the first export).
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_last_error() -> i64 {
                pack(guest().last_error().as_bytes())
            }

            /// The host's bytes at `ptr..ptr + len`, if they lie inside the buffer
            /// `cflog_alloc` handed out.
            fn region(g: &$crate::Guest<$rule>, ptr: i32, len: i32) -> Option<core::ops::Range<usize>> {
                let base = g.input.as_ptr() as usize;
                let start = (ptr as u32 as usize).checked_sub(base)?;
                let end = start.checked_add(len as u32 as usize)?;
                (end <= g.input.len()).then_some(start..end)
            }

            // SAFETY: a plugin ABI symbol, defined only here (see the first export).
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_init(schema_ptr: i32, schema_len: i32, config_ptr: i32, config_len: i32) -> i32 {
                let g = guest();
                let (Some(s), Some(c)) = (region(g, schema_ptr, schema_len), region(g, config_ptr, config_len)) else {
                    return 2;
                };
                let input = core::mem::take(&mut g.input);
                let ok = g.init(&input[s], &input[c]).is_ok();
                g.input = input;
                if ok { 0 } else { 1 }
            }

            // SAFETY: a plugin ABI symbol, defined only here (see the first export).
            #[unsafe(no_mangle)]
            pub extern "C" fn cflog_enrich(batch_ptr: i32, batch_len: i32) -> i64 {
                let g = guest();
                let Some(b) = region(g, batch_ptr, batch_len) else { return -1 };
                let input = core::mem::take(&mut g.input);
                let r = g.enrich_bytes(&input[b]).map(pack).unwrap_or(-1);
                g.input = input;
                r
            }
        }
    };
}

#[cfg(target_arch = "wasm32")]
mod wasm_runtime {
    #[global_allocator]
    static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}

/// Runs a rule natively through the real encoding, for unit tests of rule logic.
pub mod testing {
    use super::*;

    /// One record's result.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Result {
        /// `(key, value)` in the order the rule added them.
        pub tags: Vec<(String, String)>,
        /// `(key, value)`.
        pub labels: Vec<(String, f64)>,
        /// Drop requested.
        pub drop: bool,
    }

    /// Runs rule `R` with `config` over `lines`, each holding the rule's
    /// [`Rule::FIELDS`] (tab-separated, canonical real-time order). Returns the init
    /// error message on failure.
    pub fn run<R: Rule>(config: &str, lines: &[&[u8]]) -> core::result::Result<Vec<Result>, String> {
        let mut g = Guest::<R>::new();
        let mut schema = String::from("realtime");
        for f in R::FIELDS {
            schema.push('\n');
            schema.push_str(f);
        }
        if let Err(e) = g.init(schema.as_bytes(), config.as_bytes()) {
            return Err(String::from(e));
        }
        let mut w = abi::VecBatchWriter::default();
        for l in lines {
            w.push_line(l);
        }
        let mut batch = Vec::new();
        w.encode_with(&mut |b| batch.extend_from_slice(b));
        let bytes = match g.enrich_bytes(&batch) {
            Ok(b) => b.to_vec(),
            Err(e) => return Err(String::from(e)),
        };
        let r = abi::ResultReader::new(&bytes, lines.len() as u32).map_err(|e| alloc::format!("{e}"))?;
        Ok(r.records()
            .map(|rec| Result {
                tags: rec.tags().map(|(k, v)| (String::from(k), String::from(v))).collect(),
                labels: rec.labels().map(|(k, v)| (String::from(k), v)).collect(),
                drop: rec.drop,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags each record `n=<its field>`.
    struct Echo;

    impl Rule for Echo {
        const FIELDS: &'static [&'static str] = &["sc-status"];
        fn new(_: &str) -> core::result::Result<Self, String> {
            Ok(Echo)
        }
        fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
            if let Some(v) = record.raw(Field::Status) {
                out.tag("n", core::str::from_utf8(v).unwrap_or("?"));
            }
        }
    }

    fn batch(lines: &[&[u8]]) -> Vec<u8> {
        let mut w = abi::VecBatchWriter::default();
        for l in lines {
            w.push_line(l);
        }
        let mut b = Vec::new();
        w.encode_with(&mut |x| b.extend_from_slice(x));
        b
    }

    #[test]
    fn the_buffer_is_as_long_as_asked_and_a_shorter_batch_reads_only_its_own_bytes() {
        let mut g = Guest::<Echo>::new();
        g.init(b"realtime\nsc-status", b"").unwrap();
        let long = batch(&[b"200", b"404", b"503"]);
        let short = batch(&[b"301"]);
        let mut fresh = Guest::<Echo>::new();
        fresh.init(b"realtime\nsc-status", b"").unwrap();
        let expected = fresh.enrich_bytes(&short).unwrap().to_vec();
        for (b, n) in [(&long, 3u32), (&short, 1), (&long, 3), (&short, 1)] {
            // Through the buffer, as the export does: the host writes exactly `len` bytes.
            g.alloc(b.len()).copy_from_slice(b);
            assert_eq!(g.input.len(), b.len());
            let input = core::mem::take(&mut g.input);
            let got = g.enrich_bytes(&input).unwrap().to_vec();
            g.input = input;
            let r = abi::ResultReader::new(&got, n).unwrap();
            assert_eq!(r.len(), n as usize);
            if n == 1 {
                assert_eq!(got, expected);
            }
        }
    }
}
