//! Reports people can share: `cflog analyze --html FILE` (one self-contained page) and
//! `--csv DIR` (each top list and breakdown as a CSV file).
//!
//! The page is a template compiled into the binary (`report.html`, `render.js`), with the
//! browser inspector's number formats (`web-demo/src/format.js`) and stylesheet
//! (`web-demo/src/style.css`) inlined as plain files, so the page reads numbers as the
//! inspector does and `cargo install --path cli` needs no built site and no Node. The
//! charts are inline SVG (the inspector's uPlot would be a second copy of a library in
//! the binary). A Content-Security-Policy forbids every network request.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

const TEMPLATE: &str = include_str!("report.html");
const RENDER_JS: &str = include_str!("render.js");
const FORMAT_JS: &str = include_str!("../../../web-demo/src/format.js");
const STYLE: &str = include_str!("../../../web-demo/src/style.css");

/// Fills `{{NAME}}` placeholders in one pass (substituted text is not scanned again).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v))) {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The report page: the inspector's dashboard with `report` embedded.
pub fn html(report: &Value, title: &str, written: &str) -> String {
    // Inside <script>, `</script>` or `<!--` in a value would end or confuse the element:
    // `<` as \u003c is the same JSON.
    let json = report.to_string().replace('<', "\\u003c");
    fill(
        TEMPLATE,
        &[
            ("TITLE", &html_escape(title)),
            ("WRITTEN", &html_escape(written)),
            ("STYLE", STYLE),
            ("FORMAT_JS", FORMAT_JS),
            ("RENDER_JS", RENDER_JS),
            ("REPORT", &json),
        ],
    )
}

/// Writes [`html`] to `path`.
pub fn write_html(report: &Value, path: &Path, title: &str) -> Result<()> {
    let written = humantime_utc(std::time::SystemTime::now());
    std::fs::write(path, html(report, title, &written)).with_context(|| format!("cannot write {}", path.display()))
}

fn humantime_utc(t: std::time::SystemTime) -> String {
    let ms = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let (y, m, d) = cflog_core::grammar::civil_from_days(ms.div_euclid(86_400_000));
    let secs = ms.rem_euclid(86_400_000) / 1000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", secs / 3600, secs / 60 % 60)
}

/// Writes `--html` and `--csv` when asked, saying so on stderr; returns whether anything
/// was written. `inputs` name the page.
pub fn write_requested(report: &Value, html_path: Option<&Path>, csv_dir: Option<&Path>, inputs: &[String]) -> Result<bool> {
    if let Some(path) = html_path {
        let names: Vec<&str> = inputs.iter().take(3).map(|p| crate::sources::display_name(p)).collect();
        let more = inputs.len().saturating_sub(3);
        let title = format!("cflog report: {}{}", names.join(", "), if more > 0 { format!(" and {more} more") } else { String::new() });
        write_html(report, path, &title)?;
        eprintln!("cflog: wrote {}", path.display());
    }
    if let Some(dir) = csv_dir {
        let files = write_csv_dir(report, dir)?;
        eprintln!("cflog: wrote {} CSV files into {}", files.len(), dir.display());
    }
    Ok(html_path.is_some() || csv_dir.is_some())
}

/// One CSV field, quoted as RFC 4180 says when it holds a comma, a quote, CR or LF.
fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Rows as CSV text, CRLF line ends (RFC 4180).
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, v);
        }
        out.push_str("\r\n");
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The breakdowns written by `--csv`, as the report names them.
pub const BREAKDOWNS: [&str; 11] = [
    "status_class",
    "status",
    "result_type",
    "detailed_result_type",
    "protocol",
    "http_version",
    "method",
    "content_type",
    "user_agent_class",
    "browser",
    "edge_region",
];

/// Every CSV file `--csv` writes: (file name, rows with the header first). Top lists have
/// the columns of the inspector's CSV buttons (`key,count,overcount_max`, with `city,
/// country,region` for edge locations; keys as the report holds them, i.e. URIs, referers
/// and user agents percent-encoded as logged); breakdowns `key,count`, largest first;
/// `windows.csv` the time series.
pub fn csv_tables(report: &Value) -> Vec<(String, Vec<Vec<String>>)> {
    let mut files = Vec::new();
    if let Some(top) = report["top"].as_object() {
        for (key, list) in top {
            let geo = key == "edge_location";
            let mut rows = vec![if geo {
                ["key", "city", "country", "region", "count", "overcount_max"].map(String::from).to_vec()
            } else {
                ["key", "count", "overcount_max"].map(String::from).to_vec()
            }];
            for e in list.as_array().into_iter().flatten() {
                rows.push(if geo {
                    ["key", "city", "country", "region", "count", "overcount_max"].iter().map(|k| text(&e[*k])).collect()
                } else {
                    ["key", "count", "overcount_max"].iter().map(|k| text(&e[*k])).collect()
                });
            }
            files.push((format!("top_{key}.csv"), rows));
        }
    }
    let counts = |obj: &Value| {
        let mut entries: Vec<(String, u64)> =
            obj.as_object().into_iter().flatten().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect();
        entries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut rows = vec![vec!["key".to_string(), "count".to_string()]];
        rows.extend(entries.into_iter().map(|(k, n)| vec![k, n.to_string()]));
        rows
    };
    for name in BREAKDOWNS {
        if report[name].is_object() {
            files.push((format!("{name}.csv"), counts(&report[name])));
        }
    }
    if let Some(tags) = report["tags"].as_object() {
        for (key, values) in tags {
            let safe: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
            files.push((format!("tag_{safe}.csv"), counts(values)));
        }
    }
    let mut rows = vec![
        ["start", "records", "bytes_sent", "000", "1xx", "2xx", "3xx", "4xx", "5xx", "other", "cache_hit_ratio", "p50_ms", "p95_ms", "p99_ms"]
            .map(String::from)
            .to_vec(),
    ];
    for w in report["windows"].as_array().into_iter().flatten() {
        let mut start = String::new();
        if let Some(ms) = w["start_ms"].as_i64() {
            let (y, m, d) = cflog_core::grammar::civil_from_days(ms.div_euclid(86_400_000));
            let t = ms.rem_euclid(86_400_000);
            let _ = write!(start, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
        }
        let mut row = vec![start, text(&w["records"]), text(&w["bytes_sent"])];
        for c in ["000", "1xx", "2xx", "3xx", "4xx", "5xx", "other"] {
            row.push(text(&w["status_class"][c]));
        }
        row.push(text(&w["cache_hit_ratio"]));
        for q in ["p50", "p95", "p99"] {
            row.push(text(&w["latency_ms"]["time_taken"][q]));
        }
        rows.push(row);
    }
    files.push(("windows.csv".to_string(), rows));
    files
}

/// Writes [`csv_tables`] into `dir` (created if missing); returns the paths written.
pub fn write_csv_dir(report: &Value, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, rows) in csv_tables(report) {
        let path = dir.join(name);
        std::fs::write(&path, csv(&rows)).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_rfc_4180() {
        let rows = vec![vec!["a,b".into(), "say \"hi\"".into(), "plain".into(), "two\nlines".into()]];
        assert_eq!(csv(&rows), "\"a,b\",\"say \"\"hi\"\"\",plain,\"two\nlines\"\r\n");
    }

    #[test]
    fn placeholders_fill_once() {
        assert_eq!(fill("a{{X}}b{{Y}}c{{Z}}", &[("X", "{{Y}}"), ("Y", "2")]), "a{{Y}}b2c{{Z}}");
    }

    #[test]
    fn the_report_cannot_close_its_script_element() {
        let page = html(&serde_json::json!({"top": {"uri": [{"key": "</script><script>alert(1)</script>"}]}}), "t", "now");
        assert_eq!(page.matches("</script>").count(), 2, "only the page's own two script elements close");
    }
}
