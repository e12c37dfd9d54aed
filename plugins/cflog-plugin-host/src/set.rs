//! The plugins of one thread ([`PluginSet`]): instantiating them together, shaping a
//! [`Batch`] for their field lists, and running each on a batch in load order.

use cflog_core::{Field, Schema};

use crate::batch::{Batch, BatchWriter, Decoded, Enriched};
use crate::error::PluginError;
use crate::host::{CompiledPlugin, PluginHost};
use crate::plugin::{Plugin, PluginStats};

/// The plugins of one thread, run in order on each batch.
#[derive(Debug, Default)]
pub struct PluginSet {
    plugins: Vec<Plugin>,
}

impl PluginSet {
    /// Instantiates every compiled plugin. A plugin that cannot start is an error here
    /// (a configuration mistake the user should see at startup).
    pub fn instantiate(host: &PluginHost, compiled: &[CompiledPlugin]) -> Result<PluginSet, PluginError> {
        Ok(PluginSet { plugins: compiled.iter().map(|c| Plugin::new(host, c)).collect::<Result<_, _>>()? })
    }

    /// Whether the set holds no plugin.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// The plugins.
    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    /// Counters of every plugin, in load order.
    pub fn stats(&self) -> Vec<PluginStats> {
        self.plugins.iter().map(Plugin::stats).collect()
    }

    /// An empty batch shaped for these plugins (reuse it with [`Batch::clear`]).
    pub fn batch(&self) -> Batch {
        let mut projections: Vec<Vec<Field>> = Vec::new();
        let mut of_plugin = Vec::new();
        for p in &self.plugins {
            let i = projections.iter().position(|f| *f == p.fields).unwrap_or_else(|| {
                projections.push(p.fields.clone());
                projections.len() - 1
            });
            of_plugin.push(i);
        }
        Batch { writers: projections.iter().map(|_| BatchWriter::default()).collect(), projections, of_plugin }
    }

    /// Enriches `batch` with every plugin.
    pub fn enrich(&mut self, batch: &Batch) -> Enriched {
        let mut out = Enriched::default();
        self.enrich_into(batch, &mut out);
        out
    }

    /// Enriches `batch` with every plugin into `out` (buffers reused).
    pub fn enrich_into(&mut self, batch: &Batch, out: &mut Enriched) {
        out.len = batch.len();
        out.results.resize_with(self.plugins.len(), Decoded::default);
        out.ok.resize(self.plugins.len(), false);
        for (i, p) in self.plugins.iter_mut().enumerate() {
            let writer = &batch.writers[batch.of_plugin[i]];
            out.ok[i] = p.run(writer);
            std::mem::swap(&mut out.results[i], &mut p.result);
        }
    }

    /// Convenience: parses `lines` with `schema` and enriches them; a line that does
    /// not parse is sent with every field `-`.
    pub fn enrich_lines(&mut self, schema: &Schema, lines: &[&[u8]]) -> Enriched {
        let mut parser = cflog_core::Parser::with_schema(schema.clone());
        let mut buf = cflog_core::RecordBuf::new();
        let mut batch = self.batch();
        for line in lines {
            match parser.parse_line(line, &mut buf) {
                Ok(Some(r)) => batch.push(&r),
                _ => batch.push_empty(),
            }
        }
        self.enrich(&batch)
    }
}
