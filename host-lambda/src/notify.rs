//! The alarm notifier (`CFLOG_MODE=notify`): the same binary, subscribed to the alarm
//! topic. For each CloudWatch alarm an SNS event carries, it reads the alert context the
//! processor persisted in the rollup items of the alarm's distribution over the alarm's
//! evaluation range ([`crate::context`]) and publishes a readable message: what fired, the
//! traffic and error totals, 5xx by URI, top URIs, edge locations, countries, client
//! addresses and ASNs with counts, the suspicious clients (judged by the same rules as
//! `cflog analyze`, `cflog_core::suspicious`), and a link to the dashboard.
//!
//! One SNS publish per alarm, `MessageStructure=json`: e-mail (and the `default`) get plain
//! text, HTTPS, SQS and Lambda subscribers (chat webhooks, bots) get the JSON document.
//! Its two ports ([`ContextStore`], [`Publisher`]) are in [`crate::ports`], their AWS
//! implementations in [`crate::notify_aws`].

use std::collections::BTreeMap;

use cflog_core::agg::ClientCounts;
use cflog_core::grammar::{parse_date_days, parse_time_ms};
use cflog_core::suspicious::{ClientKind, SuspectThresholds, reasons_of};
use serde_json::{Value, json};

use crate::context::{self, LISTS, parse_attribute, set_counter};
use crate::ports::{ContextStore, Publisher, SinkError, WindowItem};

/// Why an SNS record's message is not a CloudWatch alarm (the record is skipped).
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    /// Not JSON at all.
    #[error("message is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// No `AlarmName`: some other SNS message (a subscription confirmation, …).
    #[error("no AlarmName: not a CloudWatch alarm")]
    NotAnAlarm,
    /// A field every alarm message carries is missing.
    #[error("no {0}")]
    Missing(&'static str),
    /// `StateChangeTime` is not a time.
    #[error("StateChangeTime {0:?}: not a time")]
    BadTime(String),
}

/// Entries of each list a message names.
pub const MESSAGE_TOP: usize = 5;
/// SNS subjects are at most 100 characters.
const SUBJECT_MAX: usize = 100;

/// A CloudWatch alarm state change, as the alarm action's SNS message carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// `AlarmName`.
    pub name: String,
    /// `NewStateValue`: `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// `NewStateReason`.
    pub reason: String,
    /// The `Distribution` dimension of the alarm's metric (or of any metric of its math).
    pub distribution: Option<String>,
    /// The metric (or `metric math`).
    pub metric: String,
    /// `StateChangeTime`, epoch milliseconds.
    pub changed_ms: i64,
    /// Period × evaluation periods, milliseconds: the range the alarm looked at.
    pub range_ms: i64,
}

/// `2026-11-01T00:05:12.345+0000` (CloudWatch's form) or `…Z`, to epoch milliseconds.
pub fn parse_alarm_time(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once('T')?;
    let days = parse_date_days(date.as_bytes())?;
    let time = rest.trim_end_matches('Z');
    let time = time.split_once('+').map_or(time, |(t, zone)| if zone.trim_start_matches('0').is_empty() { t } else { "" });
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let ms = parse_time_ms(hms.as_bytes())?;
    let frac_ms = if frac.is_empty() { 0 } else { frac.get(..3.min(frac.len()))?.parse::<i64>().ok()? * 10i64.pow(3 - frac.len().min(3) as u32) };
    Some(days * 86_400_000 + ms + frac_ms)
}

fn dimension_of(dims: Option<&Value>) -> Option<String> {
    dims?.as_array()?.iter().find_map(|d| {
        let name = d.get("name").or_else(|| d.get("Name"))?.as_str()?;
        (name == crate::names::metric::DIM_DISTRIBUTION).then(|| d.get("value").or_else(|| d.get("Value"))?.as_str().map(str::to_string))?
    })
}

/// The alarm in one SNS record's `Message`, or why it is not one.
pub fn parse_alarm(message: &str) -> Result<Alarm, AlarmError> {
    let v: Value = serde_json::from_str(message)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let name = text("AlarmName").ok_or(AlarmError::NotAnAlarm)?;
    let state = text("NewStateValue").ok_or(AlarmError::Missing("NewStateValue"))?;
    let changed = text("StateChangeTime").ok_or(AlarmError::Missing("StateChangeTime"))?;
    let changed_ms = parse_alarm_time(&changed).ok_or_else(|| AlarmError::BadTime(changed.clone()))?;
    let trigger = v.get("Trigger").cloned().unwrap_or(Value::Null);
    let metrics = trigger.get("Metrics").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut distribution = dimension_of(trigger.get("Dimensions"));
    let mut period = trigger.get("Period").and_then(Value::as_i64);
    for m in &metrics {
        let stat = m.get("MetricStat");
        distribution = distribution.or_else(|| dimension_of(stat.and_then(|s| s.pointer("/Metric/Dimensions"))));
        period = period.or_else(|| stat.and_then(|s| s.get("Period")).and_then(Value::as_i64));
    }
    let periods = trigger.get("EvaluationPeriods").and_then(Value::as_i64).unwrap_or(1).max(1);
    let metric = trigger.get("MetricName").and_then(Value::as_str).map_or_else(|| "metric math".to_string(), str::to_string);
    Ok(Alarm {
        name,
        state,
        reason: text("NewStateReason").unwrap_or_default(),
        distribution,
        metric,
        changed_ms,
        range_ms: period.unwrap_or(60).max(1) * periods * 1000,
    })
}

/// A window range summed: totals, top lists and the suspicious clients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// Windows read.
    pub windows: usize,
    /// Logged records.
    pub records: u64,
    /// 4xx and 5xx responses.
    pub status_4xx: u64,
    /// 5xx responses.
    pub status_5xx: u64,
    /// Per list ([`LISTS`], then `ip`, `asn` by requests): `(key, count)`, largest first.
    pub top: BTreeMap<&'static str, Vec<(String, u64)>>,
    /// Suspicious clients: window, kind, key, counts, reason names.
    pub suspects: Vec<(i64, ClientKind, String, ClientCounts, Vec<&'static str>)>,
}

/// Sums the items of a range and judges their clients, window by window (windows
/// `window_ms` wide).
pub fn summarize(items: &[WindowItem], thresholds: &SuspectThresholds, window_ms: u64) -> Context {
    let mut c = Context { windows: items.len(), ..Context::default() };
    let mut lists: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
    let status = crate::names::table::STATUS_CLASS;
    for item in items {
        let num = |k: &str| item.numbers.get(k).copied().unwrap_or(0);
        c.records += num(crate::names::table::RECORDS);
        c.status_4xx += num(status[4]);
        c.status_5xx += num(status[5]);
        let mut clients: BTreeMap<(ClientKind, String), ClientCounts> = BTreeMap::new();
        for (name, v) in &item.numbers {
            let Some((list, key, counter)) = parse_attribute(name) else { continue };
            match (list, counter) {
                ("ip" | "asn", Some(counter)) => {
                    let kind = if list == "ip" { ClientKind::Ip } else { ClientKind::Asn };
                    set_counter(clients.entry((kind, key.to_string())).or_default(), counter, *v);
                }
                _ => {
                    if let Some(l) = LISTS.iter().find(|l| **l == list) {
                        *lists.entry(l).or_default().entry(key.to_string()).or_default() += v;
                    }
                }
            }
        }
        for ((kind, key), counts) in clients {
            let list = if kind == ClientKind::Ip { "ip" } else { "asn" };
            *lists.entry(list).or_default().entry(key.clone()).or_default() += counts.requests;
            let reasons = reasons_of(thresholds, kind, &counts, window_ms);
            if !reasons.is_empty() {
                c.suspects.push((item.window_start_ms, kind, key, counts, reasons.names()));
            }
        }
    }
    for (name, counts) in lists {
        let mut v: Vec<(String, u64)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(MESSAGE_TOP);
        c.top.insert(name, v);
    }
    c
}

fn utc(ms: i64) -> String {
    let mut t = crate::aws::rfc3339(ms).replace('T', " ");
    t.truncate(16);
    t
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn percent(n: u64, of: u64) -> String {
    if of == 0 { "–".into() } else { format!("{:.1} %", n as f64 * 100.0 / of as f64) }
}

const TITLES: [(&str, &str); 6] = [
    ("uri_5xx", "5xx responses by URI"),
    ("uri", "Top URIs"),
    ("edge", "Top edge locations"),
    ("country", "Top countries"),
    ("ip", "Top client addresses (requests)"),
    ("asn", "Top ASNs (requests)"),
];

/// A message: SNS subject, plain text and the JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// At most 100 characters.
    pub subject: String,
    /// For e-mail.
    pub text: String,
    /// For chat webhooks and programs.
    pub json: Value,
}

/// The message for `alarm` over the range `from_ms..to_ms` with its context.
pub fn compose(alarm: &Alarm, from_ms: i64, to_ms: i64, ctx: &Context, thresholds: &SuspectThresholds, dashboard: Option<&str>) -> Message {
    let dist = alarm.distribution.as_deref().unwrap_or("(no Distribution dimension)");
    let mut subject = format!("{}: {} on {dist}", alarm.state, alarm.name);
    if subject.chars().count() > SUBJECT_MAX {
        subject = subject.chars().take(SUBJECT_MAX - 1).collect::<String>() + "…";
    }
    let mut t = String::new();
    t.push_str(&format!("{} — {} ({})\n", alarm.state, alarm.name, alarm.metric));
    t.push_str(&format!("Distribution: {dist}\n"));
    if !alarm.reason.is_empty() {
        t.push_str(&format!("Why: {}\n", alarm.reason));
    }
    t.push_str(&format!("Range: {} – {} UTC ({} window(s) with records)\n", utc(from_ms), utc(to_ms), ctx.windows));
    t.push_str(&format!(
        "Requests logged: {}   5xx: {} ({})   4xx: {} ({})\n",
        thousands(ctx.records),
        thousands(ctx.status_5xx),
        percent(ctx.status_5xx, ctx.records),
        thousands(ctx.status_4xx),
        percent(ctx.status_4xx, ctx.records)
    ));
    for (list, title) in TITLES {
        let entries = ctx.top.get(list).map(Vec::as_slice).unwrap_or_default();
        if entries.is_empty() {
            continue;
        }
        t.push_str(&format!("\n{title}:\n"));
        let width = entries.iter().map(|(_, n)| thousands(*n).len()).max().unwrap_or(1);
        for (key, n) in entries {
            let key = if list == "asn" { format!("AS{key}") } else { key.clone() };
            t.push_str(&format!("  {:>width$}  {key}\n", thousands(*n)));
        }
    }
    t.push_str(&format!(
        "\nSuspicious clients (flood ≥{}/min; ≥{}/min with ≥{} % 4xx or ≥{} % 404; ≥{} threat/min; ASN ×{}):\n",
        thousands(thresholds.flood_per_min),
        thousands(thresholds.share_floor_per_min),
        thresholds.max_4xx_percent,
        thresholds.max_404_percent,
        thresholds.tagged_per_min,
        thresholds.asn_factor
    ));
    if ctx.suspects.is_empty() {
        t.push_str("  none\n");
    }
    for (start, kind, key, c, why) in &ctx.suspects {
        let key = if *kind == ClientKind::Asn { format!("AS{key}") } else { key.clone() };
        t.push_str(&format!(
            "  {} {key}: {} requests, {} 4xx, {} 404 [{}]\n",
            &utc(*start)[11..],
            thousands(c.requests),
            percent(c.status_4xx, c.requests),
            percent(c.status_404, c.requests),
            why.join(", ")
        ));
    }
    if let Some(url) = dashboard {
        t.push_str(&format!("\nDashboard: {url}\n"));
    }
    t.push_str(&format!(
        "\nCounts are logged records (before sampling); each batch adds its top {} of each list, so a count is a lower bound.\n",
        context::CONTEXT_TOP
    ));
    let top: serde_json::Map<String, Value> = ctx
        .top
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|(key, n)| json!({"key": key, "count": n})).collect()))
        .collect();
    let suspects: Vec<Value> = ctx
        .suspects
        .iter()
        .map(|(start, kind, key, c, why)| {
            json!({"window_start_ms": start, "kind": kind.name(), "key": key, "requests": c.requests,
                   "status_4xx": c.status_4xx, "status_404": c.status_404, "bytes": c.bytes,
                   "threat_tagged": c.tagged, "reasons": why})
        })
        .collect();
    let json = json!({
        "alarm": alarm.name, "state": alarm.state, "reason": alarm.reason, "metric": alarm.metric,
        "distribution": alarm.distribution,
        "range": {"from_ms": from_ms, "to_ms": to_ms, "windows": ctx.windows},
        "totals": {"records": ctx.records, "status_4xx": ctx.status_4xx, "status_5xx": ctx.status_5xx},
        "top": top,
        "suspicious_clients": suspects,
        "thresholds": thresholds.to_json(),
        "dashboard": dashboard,
        "text": t,
    });
    Message { subject, text: t, json }
}

/// What the notifier did with one event.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NotifyReport {
    /// Messages published.
    pub published: usize,
    /// Records that were not alarms (logged and skipped: retrying cannot fix them).
    pub skipped: usize,
}

/// The notifier: configuration plus its two outputs.
#[derive(Debug)]
pub struct Notifier<S, P> {
    /// Reads the context.
    pub store: S,
    /// Publishes.
    pub publisher: P,
    /// Suspicious-client thresholds.
    pub thresholds: SuspectThresholds,
    /// Rollup window width, milliseconds.
    pub window_ms: u64,
    /// Linked from every message.
    pub dashboard_url: Option<String>,
}

impl<S: ContextStore, P: Publisher> Notifier<S, P> {
    /// Handles one SNS event (`{"Records": [{"Sns": {"Message": …}}]}`). A record that is
    /// not an alarm is skipped and logged; a failed read or publish is an error, so Lambda
    /// retries the event.
    pub async fn handle(&self, event: &Value) -> Result<NotifyReport, SinkError> {
        let mut report = NotifyReport::default();
        let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
        for r in records {
            let message = r.pointer("/Sns/Message").and_then(Value::as_str).unwrap_or("");
            let alarm = match parse_alarm(message) {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "SNS record is not a CloudWatch alarm; skipped");
                    report.skipped += 1;
                    continue;
                }
            };
            if alarm.state == "INSUFFICIENT_DATA" {
                tracing::info!(alarm = %alarm.name, "INSUFFICIENT_DATA: nothing to say");
                report.skipped += 1;
                continue;
            }
            let w = self.window_ms.max(1) as i64;
            let to = alarm.changed_ms - alarm.changed_ms.rem_euclid(w);
            let from = to - alarm.range_ms.max(w);
            let items = match &alarm.distribution {
                Some(d) => self.store.windows(d, from, to).await?,
                None => Vec::new(),
            };
            let ctx = summarize(&items, &self.thresholds, self.window_ms);
            let msg = compose(&alarm, from, to + w, &ctx, &self.thresholds, self.dashboard_url.as_deref());
            self.publisher.publish(&msg.subject, &msg.text, &msg.json.to_string()).await?;
            tracing::info!(alarm = %alarm.name, state = %alarm.state, windows = ctx.windows, suspects = ctx.suspects.len(), "notification published");
            report.published += 1;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_times_parse() {
        // 2026-11-01T00:00:00Z is 1,793,491,200 s (as in the rest of the tests).
        assert_eq!(parse_alarm_time("2026-11-01T00:05:12.345+0000"), Some(1_793_491_512_345));
        assert_eq!(parse_alarm_time("2026-11-01T00:05:12Z"), Some(1_793_491_512_000));
        assert_eq!(parse_alarm_time("2026-11-01T00:05:12.3+0000"), Some(1_793_491_512_300));
        assert_eq!(parse_alarm_time("2026-11-01T00:05:12+0200"), None, "only UTC is sent");
        assert_eq!(parse_alarm_time("yesterday"), None);
    }

    #[test]
    fn metric_math_alarms_name_their_distribution() {
        let m = json!({"AlarmName": "a", "NewStateValue": "ALARM", "StateChangeTime": "2026-11-01T00:05:00.000+0000",
            "Trigger": {"EvaluationPeriods": 3, "Metrics": [
                {"Id": "e1", "Expression": "IF(m2 > 100, m1, 0)"},
                {"Id": "m1", "MetricStat": {"Period": 60, "Stat": "Average", "Metric": {"MetricName": "5xxErrorRate",
                  "Dimensions": [{"value": "d1.cloudfront.net", "name": "Distribution"}]}}}]}});
        let a = parse_alarm(&m.to_string()).unwrap();
        assert_eq!((a.distribution.as_deref(), a.range_ms, a.metric.as_str()), (Some("d1.cloudfront.net"), 180_000, "metric math"));
        assert!(parse_alarm("{\"Type\":\"SubscriptionConfirmation\"}").unwrap_err().to_string().contains("AlarmName"));
    }
}
