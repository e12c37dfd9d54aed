//! Security signals: scanners probing well-known paths, path traversal, SQL injection
//! and script injection in the URI path or query string.
//!
//! Tags: `threat=<kind>` for the first signal found, in the order `scanner`,
//! `traversal`, `sqli`, `xss`. Label `threat_score`: 1 when a signal was found.
//! With `"drop": true` flagged records are also marked to be dropped (for pipelines that
//! keep such traffic out of the main metrics).
//!
//! Configuration (every key optional):
//!
//! ```json
//! {"paths": ["/.env", "/wp-login.php"], "extra_paths": ["/internal/debug"], "drop": false}
//! ```
//!
//! `paths` replaces the built-in list of probed paths, `extra_paths` adds to it. Paths
//! match case-insensitively anywhere in the (percent-decoded) URI path.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use cflog_plugin::json::Value;
use cflog_plugin::memchr::memmem::Finder;
use cflog_plugin::{Field, Output, Record, Rule};

const PROBED: &[&str] = &[
    "/.env", "/.git/", "/wp-login.php", "/wp-admin", "/xmlrpc.php", "/phpmyadmin", "/.aws/", "/.ssh/",
    "/etc/passwd", "/cgi-bin/", "/vendor/phpunit", "/server-status", "/.ds_store", "/config.json",
];
const TRAVERSAL: &[&str] = &["../", "..\\", "/etc/passwd", "c:\\windows"];
const SQLI: &[&str] = &["union select", "union all select", "' or '1'='1", "' or 1=1", "\" or 1=1", "or 1=1--", "sleep(", "benchmark(", "information_schema", "waitfor delay", "; drop table", "xp_cmdshell"];
const XSS: &[&str] = &["<script", "javascript:", "onerror=", "onload=", "<svg/onload", "<img src"];

/// The set of byte values in a string, as a 256-bit mask.
type ByteSet = [u64; 4];

fn byte_set(bytes: &[u8]) -> ByteSet {
    let mut set = [0u64; 4];
    for &b in bytes {
        set[(b >> 6) as usize] |= 1 << (b & 63);
    }
    set
}

/// A pattern and the bytes it contains: a haystack lacking any of them cannot contain
/// the pattern, which rules out most patterns for most requests without a search.
#[derive(Debug)]
struct Pattern {
    finder: Finder<'static>,
    bytes: ByteSet,
}

fn finders(list: impl IntoIterator<Item = String>) -> Vec<Pattern> {
    list.into_iter()
        .map(|s| {
            let lower = s.to_ascii_lowercase();
            Pattern { bytes: byte_set(lower.as_bytes()), finder: Finder::new(lower.as_bytes()).into_owned() }
        })
        .collect()
}

/// The rule.
#[derive(Debug)]
pub struct Security {
    probed: Vec<Pattern>,
    traversal: Vec<Pattern>,
    sqli: Vec<Pattern>,
    xss: Vec<Pattern>,
    drop: bool,
    path: Vec<u8>,
    query: Vec<u8>,
}

fn strings(v: &Value, key: &str) -> Result<Option<Vec<String>>, String> {
    match v.get(key) {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, s)| s.as_str().map(str::to_string).ok_or_else(|| alloc::format!("config: {key}[{i}]: expected a string")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(alloc::format!("config: {key}: expected an array of strings")),
    }
}

/// Lower-cases and percent-decodes `raw` into `out` (twice-encoded input is decoded
/// twice: scanners encode `../` as `%252e%252e%252f`), with `+` as a space.
fn normalize(raw: &[u8], out: &mut Vec<u8>, plus_is_space: bool) {
    out.clear();
    out.extend_from_slice(raw);
    for _ in 0..2 {
        if !out.contains(&b'%') {
            break;
        }
        let src = core::mem::take(out);
        let mut i = 0;
        while i < src.len() {
            let c = src[i];
            if c == b'%'
                && i + 2 < src.len()
                && let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2]))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(c);
            i += 1;
        }
    }
    for c in out.iter_mut() {
        *c = if plus_is_space && *c == b'+' { b' ' } else { c.to_ascii_lowercase() };
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn any(patterns: &[Pattern], hay: &[u8], set: &ByteSet) -> bool {
    !hay.is_empty()
        && patterns.iter().any(|p| (0..4).all(|i| p.bytes[i] & !set[i] == 0) && p.finder.find(hay).is_some())
}

impl Rule for Security {
    const FIELDS: &'static [&'static str] = &["cs-uri-stem", "cs-uri-query"];

    fn new(config: &str) -> Result<Self, String> {
        let v: Value = if config.trim().is_empty() {
            Value::Null
        } else {
            cflog_plugin::json::from_str(config).map_err(|e| alloc::format!("config: {e}"))?
        };
        let mut probed = strings(&v, "paths")?.unwrap_or_else(|| PROBED.iter().map(|s| s.to_string()).collect());
        probed.extend(strings(&v, "extra_paths")?.unwrap_or_default());
        let drop = match v.get("drop") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("config: drop: expected true or false".into()),
        };
        let owned = |l: &[&str]| finders(l.iter().map(|s| s.to_string()));
        Ok(Security {
            probed: finders(probed),
            traversal: owned(TRAVERSAL),
            sqli: owned(SQLI),
            xss: owned(XSS),
            drop,
            path: Vec::new(),
            query: Vec::new(),
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
        normalize(record.uri_path_raw().unwrap_or(b""), &mut self.path, false);
        normalize(record.raw(Field::UriQuery).unwrap_or(b""), &mut self.query, true);
        let (path, query) = (&self.path[..], &self.query[..]);
        let (ps, qs) = (byte_set(path), byte_set(query));
        let threat = if any(&self.probed, path, &ps) {
            Some("scanner")
        } else if any(&self.traversal, path, &ps) || any(&self.traversal, query, &qs) {
            Some("traversal")
        } else if any(&self.sqli, query, &qs) || any(&self.sqli, path, &ps) {
            Some("sqli")
        } else if any(&self.xss, query, &qs) || any(&self.xss, path, &ps) {
            Some("xss")
        } else {
            None
        };
        if let Some(t) = threat {
            out.tag("threat", t);
            out.label("threat_score", 1.0);
            if self.drop {
                out.drop_record();
            }
        }
    }
}

cflog_plugin::export_rule!(Security);

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_plugin::testing::run;

    fn threats(config: &str, lines: &[&[u8]]) -> Vec<Option<String>> {
        run::<Security>(config, lines).unwrap().into_iter().map(|r| r.tags.first().map(|t| t.1.clone())).collect()
    }

    #[test]
    fn signals() {
        let lines: [&[u8]; 9] = [
            b"/.env\t-",
            b"/blog/WP-LOGIN.PHP\t-",
            b"/static/..%2f..%2fetc/shadow\t-",
            b"/download\tfile=%252e%252e%252fsecret",
            b"/products\tid=1%27%20UNION%20SELECT%20password%20FROM%20users",
            b"/search\tq=1'+or+'1'='1",
            b"/search\tq=%3Cscript%3Ealert(1)%3C/script%3E",
            b"/products/42\tcolor=red&size=m",
            b"-\t-",
        ];
        let got = threats("", &lines);
        let want = [
            Some("scanner"),
            Some("scanner"),
            Some("traversal"),
            Some("traversal"),
            Some("sqli"),
            Some("sqli"),
            Some("xss"),
            None,
            None,
        ];
        assert_eq!(got, want.map(|w| w.map(String::from)));
    }

    #[test]
    fn drop_and_extra_paths() {
        let r = run::<Security>(r#"{"extra_paths": ["/internal/"], "drop": true}"#, &[b"/internal/debug\t-", b"/ok\t-"]).unwrap();
        assert_eq!(r[0].tags, [("threat".to_string(), "scanner".to_string())]);
        assert!(r[0].drop);
        assert_eq!(r[0].labels, [("threat_score".to_string(), 1.0)]);
        assert!(!r[1].drop && r[1].tags.is_empty());
        // `paths` replaces the list: /.env is no longer probed.
        assert_eq!(threats(r#"{"paths": ["/secret"]}"#, &[b"/.env\t-"]), [None]);
    }

    #[test]
    fn bad_config() {
        assert!(run::<Security>(r#"{"paths": [1]}"#, &[]).unwrap_err().contains("paths[0]"));
    }
}
