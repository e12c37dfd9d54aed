//! The "Suspicious clients" panel: the report's `suspicious_clients` (judged in
//! `cflog_core::suspicious`), with the thresholds that made it, so an operator can tune
//! them on yesterday's logs (`--suspect-*`) before turning blocking on.

use serde_json::Value;

use super::table::{Clip, Row, Table, column};
use super::text::{bytes, thousands, time_utc_to, u};

/// The panel, or `None` for a report without `suspicious_clients` (schema 3 and older).
pub(super) fn suspects_table(r: &Value, top_n: usize) -> Option<Table> {
    let s = r.get("suspicious_clients")?;
    let t = |k: &str| u(s, &format!("/thresholds/{k}"));
    let found = u(s, "/found");
    let title = format!("Suspicious clients ({})", thousands(found));
    let thresholds = format!(
        "flood ≥{}/min; ≥{}/min with ≥{}% 4xx or ≥{}% 404; ≥{} threat/min; ASN ×{}",
        thousands(t("flood_per_min")),
        thousands(t("share_floor_per_min")),
        t("max_4xx_percent"),
        t("max_404_percent"),
        t("tagged_per_min"),
        t("asn_factor"),
    );
    let columns = vec![column("window", 0, 5), column("requests", 0, 5), column("4xx", 2, 4), column("404", 2, 4), column("bytes", 3, 5), column("why", 1, 3)];
    let mut table = Table::new(title, Clip::Never, columns);
    let clients = s.get("clients").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let share = |n: u64, of: u64| format!("{:.0}%", 100.0 * n as f64 / of.max(1) as f64);
    table.rows = clients
        .iter()
        .take(top_n)
        .map(|c| {
            let key = c.get("key").and_then(Value::as_str).unwrap_or("");
            let label = if c.get("kind").and_then(Value::as_str) == Some("asn") { format!("AS{key}") } else { key.to_string() };
            let requests = u(c, "/requests");
            let why: Vec<&str> = c.get("reasons").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            Row {
                label,
                cells: vec![
                    time_utc_to(c.get("window_start_ms").and_then(Value::as_i64).unwrap_or(0), 16)[5..].to_string(),
                    thousands(requests),
                    share(u(c, "/status_4xx"), requests),
                    share(u(c, "/status_404"), requests),
                    bytes(u(c, "/bytes")),
                    why.join(","),
                ],
                style: None,
            }
        })
        .collect();
    if table.rows.is_empty() {
        table.empty = Some(format!("none at {thresholds}; tune with --suspect-*"));
    } else {
        let shown = table.rows.len() as u64;
        let more = if found > shown { format!("… {} more (--top, or --json); ", thousands(found - shown)) } else { String::new() };
        table.more = Some(format!("{more}thresholds: {thresholds}"));
    }
    Some(table)
}
