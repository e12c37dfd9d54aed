//! The host's error: [`PluginError`] names the plugin and the [`FailureKind`] (which the
//! failure policy counts), and [`Reason`] says what exactly went wrong, typed. Wasmtime's
//! and the file system's errors are kept as their rendered text so that the error stays
//! `Clone` and comparable.

use std::path::PathBuf;

use cflog_plugin_abi::{ABI_VERSION, FailureKind, WireError};

/// A plugin failure: which plugin, what kind, and the details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin}: {kind}: {reason}")]
pub struct PluginError {
    /// The plugin's name (its file stem), `-` when no plugin is concerned (the engine).
    pub plugin: String,
    /// What went wrong, as the failure policy counts it.
    pub kind: FailureKind,
    /// Details.
    pub reason: Reason,
}

impl PluginError {
    pub(crate) fn new(plugin: &str, kind: FailureKind, reason: Reason) -> PluginError {
        PluginError { plugin: plugin.to_string(), kind, reason }
    }
}

/// What exactly went wrong in a [`PluginError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// The wasmtime engine could not be configured.
    #[error("engine: {0}")]
    Engine(String),
    /// A file (the module, or its configuration) cannot be read.
    #[error("{}: {error}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: String,
    },
    /// Wasmtime refused the module (compiling, loading cached code) or a store setting.
    #[error("{0}")]
    Wasmtime(String),
    /// The module imports something.
    #[error("imports {module}.{name}; plugins may not import anything")]
    Imports {
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
    },
    /// A required export is missing or has the wrong type.
    #[error("export {export}: {error}")]
    Export {
        /// The export's name.
        export: &'static str,
        /// Wasmtime's explanation.
        error: String,
    },
    /// The module exports no memory named `memory`.
    #[error("no exported memory \"memory\"")]
    NoMemory,
    /// A guest function (or the instantiation, `what` = `instantiation`) trapped, ran out
    /// of fuel or time, or failed to grow memory.
    #[error("{what}: {error}")]
    Call {
        /// The function called.
        what: &'static str,
        /// Wasmtime's explanation.
        error: String,
    },
    /// The module speaks another ABI version.
    #[error("module speaks ABI version {found}, this host speaks {speaks}", speaks = ABI_VERSION)]
    AbiVersion {
        /// The module's version.
        found: i32,
    },
    /// `cflog_fields` answered a region outside the guest's memory.
    #[error("cflog_fields: pointer outside memory")]
    FieldsOutside,
    /// `cflog_fields` answered bytes that are not UTF-8.
    #[error("cflog_fields: not UTF-8")]
    FieldsNotUtf8,
    /// `cflog_fields` named a field that does not exist (the ABI's message).
    #[error("{0}")]
    Fields(String),
    /// The buffer `cflog_alloc` gave for `cflog_init`'s input is outside memory.
    #[error("cflog_alloc returned a buffer outside memory")]
    InitBufferOutside,
    /// `cflog_init` returned non-zero, with the guest's message when it left one.
    #[error("cflog_init returned {code}{}", guest_suffix(.guest))]
    InitFailed {
        /// What `cflog_init` returned.
        code: i32,
        /// The guest's `cflog_last_error`.
        guest: Option<String>,
    },
    /// A batch was run on a plugin with no live instance.
    #[error("no instance")]
    NoInstance,
    /// The batch could not be encoded.
    #[error("batch: {0}")]
    Batch(WireError),
    /// The buffer `cflog_alloc` gave for a batch is outside memory.
    #[error("cflog_alloc({len}) returned {ptr:#x}, outside memory")]
    BatchBufferOutside {
        /// Bytes asked for.
        len: usize,
        /// The offset returned.
        ptr: usize,
    },
    /// `cflog_enrich`'s answer is refused by the ABI's checks (`what` says why).
    #[error("{what} ({ptr:#x}+{len})")]
    Answer {
        /// The ABI's reason.
        what: &'static str,
        /// The answer's offset.
        ptr: usize,
        /// The answer's length.
        len: usize,
    },
    /// `cflog_enrich` reported an error, with the guest's message when it left one.
    #[error("{what}{}", guest_suffix(.guest))]
    GuestError {
        /// The ABI's description.
        what: &'static str,
        /// The guest's `cflog_last_error`.
        guest: Option<String>,
    },
    /// The answer's bytes do not decode as a result for the batch.
    #[error("result: {0}")]
    Result(WireError),
}

/// `: message` when the guest left one, else nothing.
fn guest_suffix(guest: &Option<String>) -> String {
    guest.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason renders as the message text the host wrote before the errors were
    /// typed (the expected strings are those `format!` templates filled in by hand), so
    /// reports and tests matching on them see no change.
    #[test]
    fn reasons_render_the_messages_of_before() {
        let cases: [(Reason, &str); 22] = [
            (Reason::Engine("bad config".into()), "engine: bad config"),
            (Reason::Read { path: "r/bots.wasm".into(), error: "No such file".into() }, "r/bots.wasm: No such file"),
            (Reason::Wasmtime("failed to parse".into()), "failed to parse"),
            (
                Reason::Imports { module: "env".into(), name: "f".into() },
                "imports env.f; plugins may not import anything",
            ),
            (Reason::Export { export: "cflog_init", error: "missing".into() }, "export cflog_init: missing"),
            (Reason::NoMemory, "no exported memory \"memory\""),
            (Reason::Call { what: "cflog_enrich", error: "wasm trap".into() }, "cflog_enrich: wasm trap"),
            (Reason::AbiVersion { found: 2 }, "module speaks ABI version 2, this host speaks 1"),
            (Reason::FieldsOutside, "cflog_fields: pointer outside memory"),
            (Reason::FieldsNotUtf8, "cflog_fields: not UTF-8"),
            (Reason::Fields("unknown field x".into()), "unknown field x"),
            (Reason::InitBufferOutside, "cflog_alloc returned a buffer outside memory"),
            (Reason::InitFailed { code: 3, guest: None }, "cflog_init returned 3"),
            (Reason::InitFailed { code: 1, guest: Some("config: no".into()) }, "cflog_init returned 1: config: no"),
            (Reason::NoInstance, "no instance"),
            (Reason::Batch(WireError::BufferTooSmall), "batch: buffer too small"),
            (Reason::BatchBufferOutside { len: 16, ptr: 0xffff_0000 }, "cflog_alloc(16) returned 0xffff0000, outside memory"),
            (Reason::Answer { what: "too big", ptr: 0x10, len: 4 }, "too big (0x10+4)"),
            (Reason::GuestError { what: "the rule reported an error", guest: None }, "the rule reported an error"),
            (
                Reason::GuestError { what: "the rule reported an error", guest: Some("boom".into()) },
                "the rule reported an error: boom",
            ),
            (
                Reason::Result(WireError::CountMismatch { expected: 6, found: 5 }),
                "result: 5 results for 6 records",
            ),
            (Reason::Result(WireError::BadLabel), "result: label not finite"),
        ];
        for (reason, text) in cases {
            assert_eq!(reason.to_string(), text, "{reason:?}");
        }
        let e = PluginError::new("bots", FailureKind::Trap, Reason::NoInstance);
        assert_eq!(e.to_string(), "plugin bots: trap: no instance");
    }
}
