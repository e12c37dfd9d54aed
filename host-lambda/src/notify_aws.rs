//! AWS implementations of the notifier's outputs ([`crate::notify`]): the rollup items of a
//! window range by DynamoDB `Query`, and the message by SNS `Publish`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::aws::{classify, rfc3339};
use crate::names::table;
use crate::ports::{ContextStore, Publisher, Retry, SinkError, WindowItem};

/// Rollup items by DynamoDB `Query` (partition `dist#<distribution>`, sort keys
/// `window#<start>` in the range).
#[derive(Debug, Clone)]
pub struct DynamoContext {
    /// Client.
    pub client: aws_sdk_dynamodb::Client,
    /// The rollup table.
    pub table: String,
}

impl ContextStore for DynamoContext {
    async fn windows(&self, distribution: &str, from_ms: i64, to_ms: i64) -> Result<Vec<WindowItem>, SinkError> {
        let mut out = Vec::new();
        let mut start_key: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#pk", table::PK)
                .expression_attribute_names("#sk", table::SK)
                .expression_attribute_values(":pk", AttributeValue::S(format!("{}{distribution}", table::ROLLUP_PK_PREFIX)))
                .expression_attribute_values(":from", AttributeValue::S(format!("{}{}", table::ROLLUP_SK_PREFIX, rfc3339(from_ms))))
                .expression_attribute_values(":to", AttributeValue::S(format!("{}{}", table::ROLLUP_SK_PREFIX, rfc3339(to_ms))))
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let numbers: BTreeMap<String, u64> = item
                    .iter()
                    .filter_map(|(k, v)| v.as_n().ok().and_then(|n| n.parse::<f64>().ok()).map(|n| (k.clone(), n.max(0.0) as u64)))
                    .collect();
                let window_start_ms = numbers.get(table::WINDOW_START_MS).copied().unwrap_or(0) as i64;
                out.push(WindowItem { window_start_ms, numbers });
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start_key = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// SNS `Publish` with `MessageStructure=json`: text for e-mail and the default, the JSON
/// document for HTTPS, SQS and Lambda subscribers.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    /// Client.
    pub client: aws_sdk_sns::Client,
    /// Topic ARN.
    pub topic: String,
}

impl Publisher for SnsPublisher {
    async fn publish(&self, subject: &str, text: &str, json: &str) -> Result<(), SinkError> {
        let structured = serde_json::json!({
            "default": text, "email": text, "email-json": json, "https": json, "http": json, "sqs": json, "lambda": json,
        });
        self.client
            .publish()
            .topic_arn(&self.topic)
            .subject(subject)
            .message_structure("json")
            .message(structured.to_string())
            .send()
            .await
            .map_err(classify)
            .map(|_| ())
            .map_err(|e| if e.message.contains("InvalidParameter") { SinkError { retry: Retry::Permanent, ..e } } else { e })
    }
}
