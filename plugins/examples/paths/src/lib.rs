//! Path classification: tag each request `path_class=<class>` from prefix and glob rules
//! on the URI path (first matching rule wins, then the default).
//!
//! Configuration (every key optional):
//!
//! ```json
//! {"key": "path_class",
//!  "rules": [{"prefix": "/api/", "class": "api"},
//!            {"glob": "*.css", "class": "static"},
//!            {"glob": "/img/*/thumb-??.jpg", "class": "thumb"}],
//!  "default": "html"}
//! ```
//!
//! A glob's `*` matches any run of bytes (slashes included) and `?` one byte; a glob
//! must match the whole path. Without `rules`, `/api/` is `api`, common asset
//! extensions are `static` and everything else is the default `html`. `"default": null`
//! leaves unmatched paths untagged.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use cflog_plugin::json::Value;
use cflog_plugin::{Output, Record, Rule};

const STATIC_EXT: &[&str] =
    &["*.js", "*.css", "*.png", "*.jpg", "*.jpeg", "*.gif", "*.svg", "*.webp", "*.ico", "*.woff", "*.woff2", "*.map"];

#[derive(Debug)]
enum Pattern {
    Prefix(Vec<u8>),
    /// A glob of the form `*suffix` (the common case), checked without backtracking.
    Suffix(Vec<u8>),
    Glob(Vec<u8>),
}

impl Pattern {
    fn glob(g: &str) -> Pattern {
        let b = g.as_bytes();
        if b.first() == Some(&b'*') && !b[1..].iter().any(|c| *c == b'*' || *c == b'?') {
            Pattern::Suffix(b[1..].to_vec())
        } else {
            Pattern::Glob(b.to_vec())
        }
    }

    fn matches(&self, path: &[u8]) -> bool {
        match self {
            Pattern::Prefix(p) => path.starts_with(p),
            Pattern::Suffix(s) => path.len() >= s.len() && path[path.len() - s.len()..].eq_ignore_ascii_case(s),
            Pattern::Glob(g) => glob_match(g, path),
        }
    }
}

/// Whole-string glob match with `*` and `?`, linear-time (single backtrack point).
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|c| *c == b'*')
}

/// The rule.
#[derive(Debug)]
pub struct Paths {
    key: &'static str,
    rules: Vec<(Pattern, String)>,
    default: Option<String>,
}

impl Rule for Paths {
    const FIELDS: &'static [&'static str] = &["cs-uri-stem"];

    fn new(config: &str) -> Result<Self, String> {
        let v: Value = if config.trim().is_empty() {
            Value::Null
        } else {
            cflog_plugin::json::from_str(config).map_err(|e| alloc::format!("config: {e}"))?
        };
        let key: &'static str = match v.get("key") {
            None => "path_class",
            Some(Value::String(k)) if cflog_plugin::abi::valid_key(k.as_bytes()) => {
                // One small leak per init: tag keys are 'static in the SDK.
                alloc::boxed::Box::leak(k.clone().into_boxed_str())
            }
            Some(_) => return Err("config: key: expected 1-64 characters of [A-Za-z0-9_.:-]".into()),
        };
        let rules = match v.get("rules") {
            None => {
                let mut r = alloc::vec![(Pattern::Prefix(b"/api/".to_vec()), "api".to_string())];
                r.extend(STATIC_EXT.iter().map(|g| (Pattern::glob(g), "static".to_string())));
                r
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let class = item
                        .get("class")
                        .and_then(Value::as_str)
                        .ok_or_else(|| alloc::format!("config: rules[{i}].class: expected a string"))?;
                    let pattern = match (item.get("prefix").and_then(Value::as_str), item.get("glob").and_then(Value::as_str)) {
                        (Some(p), None) => Pattern::Prefix(p.as_bytes().to_vec()),
                        (None, Some(g)) => Pattern::glob(g),
                        _ => return Err(alloc::format!("config: rules[{i}]: expected exactly one of prefix or glob")),
                    };
                    Ok((pattern, class.to_string()))
                })
                .collect::<Result<Vec<_>, String>>()?,
            Some(_) => return Err("config: rules: expected an array".into()),
        };
        let default = match v.get("default") {
            None => Some("html".to_string()),
            Some(Value::Null) => None,
            Some(Value::String(d)) => Some(d.clone()),
            Some(_) => return Err("config: default: expected a string or null".into()),
        };
        Ok(Paths { key, rules, default })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
        let Some(path) = record.uri_path_raw() else { return };
        match self.rules.iter().find(|(p, _)| p.matches(path)) {
            Some((_, class)) => out.tag(self.key, class),
            None => {
                if let Some(d) = &self.default {
                    out.tag(self.key, d);
                }
            }
        }
    }
}

cflog_plugin::export_rule!(Paths);

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_plugin::testing::run;

    fn classes(config: &str, paths: &[&[u8]]) -> Vec<Option<String>> {
        run::<Paths>(config, paths).unwrap().into_iter().map(|r| r.tags.first().map(|t| t.1.clone())).collect()
    }

    #[test]
    fn defaults() {
        let got = classes("", &[b"/api/v2/cart", b"/static/app.9f3.JS", b"/products/42", b"/", b"-"]);
        assert_eq!(got, [Some("api".into()), Some("static".into()), Some("html".into()), Some("html".into()), None]);
    }

    #[test]
    fn configured_rules_first_match_wins() {
        let cfg = r#"{"key": "area", "default": null, "rules": [
            {"glob": "/img/*/thumb-??.jpg", "class": "thumb"},
            {"prefix": "/img/", "class": "image"},
            {"glob": "*/admin*", "class": "admin"}]}"#;
        let got = classes(cfg, &[b"/img/a/b/thumb-01.jpg", b"/img/a/thumb-001.jpg", b"/x/admin/users", b"/about"]);
        assert_eq!(got, [Some("thumb".into()), Some("image".into()), Some("admin".into()), None]);
        let r = run::<Paths>(cfg, &[b"/img/x"]).unwrap();
        assert_eq!(r[0].tags[0].0, "area");
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"a*b*c", b"aXXbYYc"));
        assert!(!glob_match(b"a*b*c", b"aXXbYY"));
        assert!(glob_match(b"?x", b"ax"));
        assert!(!glob_match(b"?x", b"x"));
    }

    #[test]
    fn bad_rules_name_the_index() {
        let e = run::<Paths>(r#"{"rules": [{"prefix": "/a", "class": "a"}, {"class": "b"}]}"#, &[]).unwrap_err();
        assert!(e.contains("rules[1]"), "{e}");
    }
}
