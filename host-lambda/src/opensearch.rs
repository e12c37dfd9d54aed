//! The OpenSearch index template for the enriched records.
//!
//! Every enriched record is also an OpenSearch document: the typed columns of the
//! real-time layout (named as AWS names them), `@timestamp`, and the `_cflog` object that
//! [`crate::process`] adds. [`index_template`] maps every key a document can carry, from
//! the field list of `cflog-core` (each [`Kind`] has one mapping type) and [`ENRICHMENTS`];
//! `deploy/opensearch/index-template.json` is its output, and a test fails when the two
//! differ (`CFLOG_BLESS=1` rewrites the file), so the mapping cannot drift from the code.
//!
//! `dynamic` is `false`, not `strict`: a key the template does not map is kept in
//! `_source` but not indexed, instead of the whole document being rejected. Which keys
//! are written is checked where it can be fixed, in the tests (every document the
//! processor writes must have every key mapped); at ingest, a function deployed before its
//! template should cost searchability of a new field, never the log lines themselves.
//! Only the rule outputs are dynamic, because their keys are the rules' to choose: tags
//! are keywords, labels doubles (the two `dynamic_templates`).

use std::borrow::Cow;

use cflog_core::Kind;
use cflog_core::field::REALTIME_FIELDS;
use serde_json::{Value, json};

/// The index pattern the template applies to (Firehose's index name plus its rotation
/// suffix, e.g. `cflog-2026-12-03`).
pub const INDEX_PATTERN: &str = "cflog-*";

/// The keys of `_cflog` and their mapping types, in the order [`crate::process`] writes
/// them. `tags` and `labels` are objects whose keys the enrichment rules choose; `source`
/// is `{shard, seq}`; `error` and `line` appear only on forwarded bad lines.
pub const ENRICHMENTS: &[(&str, &str)] = &[
    ("distribution", "keyword"),
    ("status_class", "keyword"),
    ("cache_hit", "boolean"),
    ("edge_city", "keyword"),
    ("edge_country", "keyword"),
    ("edge_region", "keyword"),
    ("edge_point", "geo_point"),
    ("ua_class", "keyword"),
    ("browser", "keyword"),
    ("mobile", "boolean"),
    ("tags", "object"),
    ("labels", "object"),
    ("source", "object"),
    ("suspicious", "keyword"),
    ("error", "text"),
    ("line", "text"),
];

/// The document key of an enrichment rule's tag or label key.
///
/// Rule keys may contain `.` (the plugin ABI allows `[A-Za-z0-9_.:-]`), but OpenSearch reads
/// a dot in a field name as an object path: a tag `bot.kind` is the field `kind` of an
/// object `bot`, and next to a tag `bot` (a keyword) the whole document fails to index.
/// In documents (OpenSearch and the S3 archive alike) a dot becomes `_`: `bot.kind` is
/// `_cflog.tags.bot_kind`. Summaries, metrics (`TagKey`) and rollups keep the key as the
/// rule wrote it. Two keys of one record that coincide this way (`a.b` and `a_b`) keep the
/// later value, as two rules writing the same key do.
pub fn document_key(key: &str) -> Cow<'_, str> {
    if key.contains('.') { Cow::Owned(key.replace('.', "_")) } else { Cow::Borrowed(key) }
}

/// The mapping of a column of this kind.
pub fn kind_mapping(kind: Kind) -> Value {
    match kind {
        // Epoch seconds with milliseconds: `@timestamp` is the date; this keeps the
        // number as logged, for range queries in the log's own unit.
        Kind::EpochSeconds | Kind::Seconds | Kind::Decimal => json!({"type": "double"}),
        Kind::EpochMillis | Kind::Integer => json!({"type": "long"}),
        Kind::Status => json!({"type": "short"}),
        Kind::Ip => json!({"type": "ip"}),
        // A comma list (`203.0.113.1, 10.0.0.1`, sometimes `unknown`): not an `ip`.
        Kind::IpList | Kind::Token | Kind::Date | Kind::Time => json!({"type": "keyword"}),
        Kind::Bool => json!({"type": "boolean"}),
        // URIs, user agents, referers, headers: full text, plus a keyword for top-N
        // aggregations of values short enough to be one term.
        Kind::Encoded => json!({"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}),
        _ => json!({"type": "keyword"}),
    }
}

/// The composable index template (`PUT _index_template/cflog`).
pub fn index_template() -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("@timestamp".into(), json!({"type": "date", "format": "strict_date_optional_time"}));
    for (name, field) in REALTIME_FIELDS {
        properties.insert((*name).into(), kind_mapping(field.kind()));
    }
    let mut cflog = serde_json::Map::new();
    for (name, ty) in ENRICHMENTS {
        let mapping = match *name {
            "tags" | "labels" => json!({"type": "object", "dynamic": true}),
            "source" => json!({"properties": {"shard": {"type": "keyword"}, "seq": {"type": "keyword"}}}),
            _ => json!({"type": ty}),
        };
        cflog.insert((*name).into(), mapping);
    }
    properties.insert("_cflog".into(), json!({"properties": cflog}));
    json!({
        "index_patterns": [INDEX_PATTERN],
        "priority": 100,
        "_meta": {
            "description": "cflog enriched CloudFront real-time log records",
            "generated_by": "host-lambda/src/opensearch.rs (index_template); do not edit by hand",
        },
        "template": {
            "mappings": {
                "dynamic": false,
                "dynamic_templates": [
                    {"rule_tags": {"path_match": "_cflog.tags.*", "mapping": {"type": "keyword"}}},
                    {"rule_labels": {"path_match": "_cflog.labels.*", "mapping": {"type": "double"}}},
                ],
                "properties": properties,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::document_key;

    #[test]
    fn dotted_rule_keys_become_flat_field_names() {
        assert_eq!(document_key("bot.kind"), "bot_kind");
        assert_eq!(document_key("a.b.c"), "a_b_c");
        assert_eq!(document_key("geo:asn-name"), "geo:asn-name");
        assert!(matches!(document_key("status_class"), std::borrow::Cow::Borrowed("status_class")));
    }
}
