//! `cflog-deploy-names`: the names `host-lambda/src/names.rs` defines, as one JSON object on
//! stdout. `deploy/check_template.py` checks `deploy/template.yaml` against it, so the
//! template can only use environment variables the function reads, metrics and dimensions
//! it emits, the table layout it writes and the IAM actions it calls.
//!
//! The module is the Lambda's own source file, compiled in with `#[path]`: there is one
//! definition, and printing it does not need the AWS SDKs the Lambda crate depends on.

#[path = "../../../host-lambda/src/names.rs"]
#[allow(dead_code)]
mod names;

use cflog_core::Schema;
use serde_json::json;

/// Every real-time log field name cflog knows, over all AWS releases of the field list.
fn realtime_fields() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for count in 1..=200 {
        if let Some(schema) = Schema::realtime_release(count) {
            for name in schema.names() {
                if !out.iter().any(|n| n == name) {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

fn main() {
    let iam = json!({
        "SOURCE_STREAM": names::iam::SOURCE_STREAM,
        "LAYOUT": names::iam::LAYOUT,
        "METRICS": names::iam::METRICS,
        "TABLE": names::iam::TABLE,
        "OUTPUT_STREAM": names::iam::OUTPUT_STREAM,
        "NOTIFY": names::iam::NOTIFY,
        "WAF": names::iam::WAF,
    });
    let out = json!({
        "env": names::env::ALL,
        "metrics": names::metric::ALL,
        "dimensions": names::metric::DIMENSIONS,
        "default_namespace": names::metric::DEFAULT_NAMESPACE,
        "table": {
            "pk": names::table::PK,
            "sk": names::table::SK,
            "ttl": names::table::EXPIRES_AT,
        },
        "iam": iam,
        "aws_actions": names::aws_actions(),
        "realtime_fields": realtime_fields(),
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON of string lists"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_group_is_printed() {
        // The JSON lists the groups by name; a group added to names::iam::AWS_ACTIONS
        // without being printed here would let the template checker miss its actions.
        let printed = [
            names::iam::SOURCE_STREAM,
            names::iam::LAYOUT,
            names::iam::METRICS,
            names::iam::TABLE,
            names::iam::OUTPUT_STREAM,
            names::iam::NOTIFY,
            names::iam::WAF,
        ];
        assert_eq!(printed.len(), names::iam::AWS_ACTIONS.len());
        for group in names::iam::AWS_ACTIONS {
            assert!(printed.contains(group), "names::iam group {group:?} is not printed");
        }
    }

    #[test]
    fn realtime_fields_cover_the_distribution_domain() {
        let fields = realtime_fields();
        assert!(fields.iter().any(|f| f == "x-host-header"), "{fields:?}");
        assert!(fields.iter().any(|f| f == "timestamp"));
    }
}
