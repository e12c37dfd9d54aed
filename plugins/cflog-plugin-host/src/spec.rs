//! Naming plugins: a [`PluginSpec`] is a module path with an optional configuration file
//! (`rule.wasm:config.json`), parsed from the command line or expanded from the Lambda's
//! comma-separated list, and compiled with its configuration.

use std::path::{Path, PathBuf};

use crate::error::{PluginError, Reason};
use crate::host::{CompiledPlugin, PluginHost, plugin_name};
use crate::FailureKind;


/// What a plugin path on the command line or in configuration names: the module and
/// optionally a JSON configuration file (`rule.wasm:config.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The `.wasm` or `.wat` file.
    pub module: PathBuf,
    /// The configuration file, if any.
    pub config: Option<PathBuf>,
}

impl PluginSpec {
    /// Parses `PATH[:CONFIG]`: the split is at the last `:` that follows a `.wasm` or
    /// `.wat` file name.
    pub fn parse(spec: &str) -> PluginSpec {
        for ext in [".wasm:", ".wat:"] {
            if let Some(i) = spec.rfind(ext) {
                let cut = i + ext.len() - 1;
                return PluginSpec { module: spec[..cut].into(), config: Some(spec[cut + 1..].into()) };
            }
        }
        PluginSpec { module: spec.into(), config: None }
    }

    /// Expands a comma-separated list (the Lambda's `CFLOG_PLUGINS`): each item is a
    /// `PATH[:CONFIG]` or a directory, whose `*.wasm` and `*.wat` files are taken in
    /// name order, each with `NAME.json` beside it as configuration when present.
    pub fn list(text: &str) -> std::io::Result<Vec<PluginSpec>> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let p = Path::new(item);
            if p.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(p)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| matches!(f.extension().and_then(|x| x.to_str()), Some("wasm" | "wat")))
                    .collect();
                files.sort();
                for f in files {
                    let cfg = f.with_extension("json");
                    out.push(PluginSpec { config: cfg.is_file().then_some(cfg), module: f });
                }
            } else {
                out.push(PluginSpec::parse(item));
            }
        }
        Ok(out)
    }

    /// Reads the configuration file (if any) and compiles the module.
    pub fn compile(&self, host: &PluginHost, cache_dir: Option<&Path>) -> Result<CompiledPlugin, PluginError> {
        let name = plugin_name(&self.module);
        let config = match &self.config {
            Some(c) => Some(std::fs::read_to_string(c).map_err(|e| {
                PluginError::new(&name, FailureKind::Init, Reason::Read { path: c.clone(), error: e.to_string() })
            })?),
            None => None,
        };
        match cache_dir {
            Some(dir) => host.compile_file_cached(&self.module, config, dir),
            None => host.compile_file(&self.module, config),
        }
    }
}
