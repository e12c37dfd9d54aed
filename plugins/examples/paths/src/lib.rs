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
//!
//! Matching tries only the rules that can match a path ending in its last byte (a
//! `*suffix` glob needs that byte, in either case; prefix and other glob rules are always
//! tried), in configuration order, so the first match is the one a plain scan finds.
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

/// Which rules a path can match, by its last byte folded to lower case (slot 256: the
/// empty path): rule indices `rules[starts[b]..starts[b + 1]]`, in configuration order.
#[derive(Debug, Default)]
struct ByLastByte {
    starts: Vec<u32>,
    rules: Vec<u32>,
}

impl ByLastByte {
    fn new(patterns: &[(Pattern, String)]) -> ByLastByte {
        let mut t = ByLastByte { starts: Vec::with_capacity(258), rules: Vec::new() };
        for slot in 0..=256usize {
            t.starts.push(t.rules.len() as u32);
            for (i, (p, _)) in patterns.iter().enumerate() {
                let may = match p {
                    Pattern::Suffix(s) => match s.last() {
                        None => true,
                        Some(last) => slot < 256 && usize::from(last.to_ascii_lowercase()) == slot,
                    },
                    Pattern::Prefix(_) | Pattern::Glob(_) => true,
                };
                if may {
                    t.rules.push(i as u32);
                }
            }
        }
        t.starts.push(t.rules.len() as u32);
        t
    }

    /// The indices of the rules `path` may match, in order.
    fn candidates(&self, path: &[u8]) -> &[u32] {
        let slot = path.last().map_or(256, |b| usize::from(b.to_ascii_lowercase()));
        match (self.starts.get(slot), self.starts.get(slot + 1)) {
            (Some(&a), Some(&b)) => self.rules.get(a as usize..b as usize).unwrap_or_default(),
            _ => &[],
        }
    }
}

/// The rule.
#[derive(Debug)]
pub struct Paths {
    key: &'static str,
    rules: Vec<(Pattern, String)>,
    by_last: ByLastByte,
    default: Option<String>,
}

impl Paths {
    /// The class of the first rule `path` matches.
    fn class(&self, path: &[u8]) -> Option<&str> {
        let rules = &self.rules;
        let hit = self.by_last.candidates(path).iter().filter_map(|&i| rules.get(i as usize)).find(|(p, _)| p.matches(path));
        hit.map(|(_, class)| class.as_str())
    }
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
        Ok(Paths { key, by_last: ByLastByte::new(&rules), rules, default })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
        let Some(path) = record.uri_path_raw() else { return };
        match self.class(path) {
            Some(class) => out.tag(self.key, class),
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
    fn the_last_byte_table_finds_what_a_plain_first_match_scan_finds() {
        // The oracle: every rule tried in order. Paths end in each case of the suffixes'
        // last bytes, in bytes no suffix ends with, in non-ASCII bytes, or are empty.
        let configs = [
            "",
            r#"{"rules": [{"glob": "*.Jpg", "class": "jpg"}, {"prefix": "/a", "class": "a"},
                {"glob": "*S", "class": "s"}, {"glob": "/x/*/y?", "class": "xy"},
                {"glob": "*.css", "class": "css"}, {"glob": "*\u00e9", "class": "e"},
                {"glob": "*", "class": "any"}]}"#,
            r#"{"rules": [{"glob": "*.map", "class": "map"}, {"prefix": "", "class": "all"}]}"#,
        ];
        let stems = ["", "/", "/a", "/api/", "/x/q/yz", "/img/a.", "/b/c.Css", "/Z.JS", "/é"];
        let tails = ["", "s", "S", "js", "JPG", "jpg", "css", "map", "woff2", "l", "\u{e9}", "é", "?", "1"];
        let plain = |p: &Paths, path: &[u8]| p.rules.iter().find(|(r, _)| r.matches(path)).map(|(_, c)| c.clone());
        let mut tried = 0;
        for cfg in configs {
            let rule = Paths::new(cfg).unwrap();
            for stem in stems {
                for tail in tails {
                    let path = alloc::format!("{stem}{tail}");
                    assert_eq!(rule.class(path.as_bytes()).map(String::from), plain(&rule, path.as_bytes()), "{cfg} {path:?}");
                    tried += 1;
                }
            }
        }
        assert_eq!(tried, 3 * 9 * 14);
        // The defaults filter: a path ending in `l` tries only the prefix rule.
        let rule = Paths::new("").unwrap();
        assert_eq!(rule.by_last.candidates(b"/index.html"), [0]);
        assert_eq!(rule.by_last.candidates(b"/app.JS"), [0, 1, 2]);
    }

    #[test]
    fn bad_rules_name_the_index() {
        let e = run::<Paths>(r#"{"rules": [{"prefix": "/a", "class": "a"}, {"class": "b"}]}"#, &[]).unwrap_err();
        assert!(e.contains("rules[1]"), "{e}");
    }
}
