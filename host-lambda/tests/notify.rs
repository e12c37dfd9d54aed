//! The alarm notifier against a real moto server: the processor writes a window with 5xx
//! injected on two URLs and a flooding client (three batches, so the context accumulates
//! across them); an SNS alarm event for that window goes to the notifier; the message it
//! publishes, read back from an SQS queue subscribed to the topic, names the two URLs with
//! their counts (counted here, from the lines) and the flooding client.

mod common;
#[path = "common/runtime_api.rs"]
mod runtime_api;

use std::collections::HashMap;

use cflog_core::Schema;
use cflog_lambda::config::Config;
use cflog_lambda::runtime::{build, build_notifier};
use common::*;
use serde_json::{Value, json};

const TABLE: &str = "cflog-rollups";
const DIST: &str = "d111111abcdef8.cloudfront.net";
const FIELDS: [&str; 8] = ["timestamp", "c-ip", "sc-status", "cs-uri-stem", "x-edge-location", "x-host-header", "c-country", "asn"];

fn config(url: &str, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CFLOG_TABLE".to_string(), TABLE.to_string()),
        ("CFLOG_ENDPOINT_URL".to_string(), url.to_string()),
        ("CFLOG_METRICS".to_string(), "off".to_string()),
        ("CFLOG_MAX_ATTEMPTS".to_string(), "3".to_string()),
        ("CFLOG_BACKOFF_MS".to_string(), "5".to_string()),
    ]);
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| vars.get(k).cloned()).unwrap()
}

/// One line in the schema's canonical order.
fn line(schema: &Schema, ts_ms: i64, ip: &str, status: u16, uri: &str, edge: &str, country: &str) -> Vec<u8> {
    let values: Vec<String> = schema
        .names()
        .map(|n| match n {
            "timestamp" => format!("{}.{:03}", ts_ms / 1000, ts_ms % 1000),
            "c-ip" => ip.to_string(),
            "sc-status" => status.to_string(),
            "cs-uri-stem" => uri.to_string(),
            "x-edge-location" => edge.to_string(),
            "x-host-header" => DIST.to_string(),
            "c-country" => country.to_string(),
            "asn" => "64500".to_string(),
            other => panic!("{other}"),
        })
        .collect();
    format!("{}\n", values.join("\t")).into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_message_names_the_failing_urls_with_their_counts() {
    let moto = start_moto().await;
    let sdk = sdk(&moto.url()).await;
    create_table(&sdk, TABLE).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let topic = sns.create_topic().name("cflog-notifications").send().await.unwrap().topic_arn().unwrap().to_string();
    let queue_url = sqs.create_queue().queue_name("inbox").send().await.unwrap().queue_url().unwrap().to_string();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&queue_arn).send().await.unwrap();

    // A window ten minutes ago: 40 × 503 on /api/checkout, 16 × 500 on /api/cart, 300 good
    // requests over five pages, and 1,300 requests from one address.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let window = (now - 600_000) - (now - 600_000).rem_euclid(60_000);
    let schema = Schema::from_field_names(&FIELDS).unwrap();
    let mut lines = Vec::new();
    let mut expected_5xx: HashMap<&str, u64> = HashMap::new();
    for i in 0..40 {
        lines.push(line(&schema, window + i * 700, &format!("192.0.2.{}", i % 50 + 1), 503, "/api/checkout", "IAD89-C1", "US"));
        *expected_5xx.entry("/api/checkout").or_default() += 1;
    }
    for i in 0..16 {
        lines.push(line(&schema, window + i * 900 + 5, &format!("192.0.2.{}", i + 100), 500, "/api/cart", "FRA56-P5", "DE"));
        *expected_5xx.entry("/api/cart").or_default() += 1;
    }
    for i in 0..300 {
        lines.push(line(&schema, window + i * 150 + 7, &format!("198.18.{}.{}", i / 200, i % 200 + 1), 200, &format!("/page/{}", i % 5), "IAD89-C1", "US"));
    }
    for i in 0..1_300 {
        lines.push(line(&schema, window + (i * 46) % 60_000, "203.0.113.66", 200, "/search", "LHR61-C2", "GB"));
    }
    // Interleave deterministically, then three batches of one shard.
    let n = lines.len();
    let order: Vec<usize> = (0..n).map(|i| (i * 7919) % n).collect();
    let records: Vec<(String, String, Vec<u8>)> =
        order.iter().enumerate().map(|(seq, &i)| ("shardId-000000000000".to_string(), format!("{:021}", seq + 1), lines[i].clone())).collect();
    let fields = FIELDS.join(",");
    let handler = build(&config(&moto.url(), &[("CFLOG_FIELDS", &fields)]), &sdk).await.unwrap();
    let arn = "arn:aws:kinesis:us-east-1:123456789012:stream/cloudfront-realtime";
    for batch in records.chunks(n / 3 + 1) {
        let (response, _) = handler.handle_kinesis(kinesis_event(arn, batch)).await;
        assert!(response.batch_item_failures.is_empty());
    }

    // The alarm CloudWatch would send 90 s into the next window, over two 1-minute periods.
    let alarm = json!({
        "AlarmName": "cflog-5xx-rate", "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [3.4] was greater than the threshold (1.0).",
        "StateChangeTime": cflog_lambda::aws::rfc3339(window + 90_000).replace('Z', ".000+0000"),
        "Trigger": {"MetricName": "5xxErrorRate", "Namespace": "CloudFront/RealTime", "Period": 60, "EvaluationPeriods": 2,
                    "Dimensions": [{"value": DIST, "name": "Distribution"}]},
    });
    let event = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "Sns": {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms", "Subject": "ALARM", "Message": alarm.to_string()}}]});
    let notify_config = config(
        &moto.url(),
        &[("CFLOG_MODE", "notify"), ("CFLOG_NOTIFY_TOPIC", &topic), ("CFLOG_DASHBOARD_URL", "https://console.aws.amazon.com/cloudwatch/home#dashboards:name=cflog")],
    );
    let notifier = build_notifier(&notify_config, &sdk);
    let report = notifier.handle(&event).await.unwrap();
    assert_eq!((report.published, report.skipped), (1, 0));

    let received = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    sqs.delete_message().queue_url(&queue_url).receipt_handle(messages[0].receipt_handle().unwrap()).send().await.unwrap();
    assert_eq!(envelope["Subject"], format!("ALARM: cflog-5xx-rate on {DIST}"));
    let doc: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).expect("SQS subscribers get the JSON document");
    let by_uri: Vec<(String, u64)> =
        doc["top"]["uri_5xx"].as_array().unwrap().iter().map(|e| (e["key"].as_str().unwrap().to_string(), e["count"].as_u64().unwrap())).collect();
    assert_eq!(by_uri, [("/api/checkout".to_string(), expected_5xx["/api/checkout"]), ("/api/cart".to_string(), expected_5xx["/api/cart"])]);
    assert_eq!(doc["totals"]["status_5xx"], 56);
    assert_eq!(doc["totals"]["records"], n as u64);
    // The flooding address (1,300 requests in one minute) is a suspicious client.
    let flood = doc["suspicious_clients"].as_array().unwrap().iter().find(|c| c["key"] == "203.0.113.66").expect("the flood is listed");
    assert_eq!((flood["requests"].as_u64(), flood["reasons"].clone()), (Some(1_300), json!(["flood"])));
    assert_eq!(doc["top"]["edge"][0], json!({"key": "LHR61-C2", "count": 1_300}));
    // The e-mail text says the same in lines a person reads.
    let text = doc["text"].as_str().unwrap();
    assert!(text.contains("5xx responses by URI:\n  40  /api/checkout\n  16  /api/cart\n"), "{text}");
    assert!(text.contains("203.0.113.66: 1,300 requests") && text.contains("Dashboard: https://console.aws.amazon.com"), "{text}");
    assert!(text.contains("5xx: 56 (3.4 %)"), "{text}");

    // A record that is not an alarm is skipped, not retried.
    let junk = json!({"Records": [{"Sns": {"Message": "{\"hello\": 1}"}}]});
    assert_eq!(notifier.handle(&junk).await.unwrap().skipped, 1);

    // The same event through the compiled bootstrap (CFLOG_MODE=notify) under the Runtime
    // API emulator: the same message arrives.
    let api = runtime_api::RuntimeApi::start().await;
    let vars = [
        ("CFLOG_MODE", "notify".to_string()),
        ("CFLOG_TABLE", TABLE.to_string()),
        ("CFLOG_NOTIFY_TOPIC", topic.clone()),
        ("CFLOG_ENDPOINT_URL", moto.url()),
    ];
    let _boot = runtime_api::Bootstrap::start(&api, &vars);
    let response = api.invoke_ok(&event).await;
    assert_eq!(response, json!({"published": 1, "skipped": 0}));
    let received = sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.unwrap();
    assert_eq!(received.messages().len(), 1);
    let envelope: Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    let again: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(again["top"]["uri_5xx"], doc["top"]["uri_5xx"]);
    assert_eq!(again["dashboard"], Value::Null, "no CFLOG_DASHBOARD_URL here");
}
