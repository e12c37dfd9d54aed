//! Bot and crawler detection from the user agent and the client's network (ASN).
//!
//! Tags: `bot=<name>` when the user agent matches a configured pattern (first match
//! wins; a generic `bot`/`crawl`/`spider` fallback tags `bot=other`), and
//! `network=<name>` when the client's ASN is in the configured list (hosting and cloud
//! networks, where humans rarely browse from). Label `bot_score`: 1 for a named bot, 0.5
//! for a generic one or a hosting network, 0 otherwise.
//!
//! Configuration (every key optional; the defaults below apply when absent):
//!
//! ```json
//! {"user_agents": {"googlebot": "googlebot", "bingbot": "bingbot"},
//!  "asns": {"16509": "aws", "15169": "google"},
//!  "generic": true}
//! ```
//!
//! `user_agents` maps a lower-case substring of the user agent to the bot's name.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use cflog_plugin::hashbrown::HashMap;
use cflog_plugin::json::Value;
use cflog_plugin::memchr::memmem;
use cflog_plugin::{Field, Output, Record, Rule};

const DEFAULT_AGENTS: &[(&str, &str)] = &[
    ("googlebot", "googlebot"),
    ("bingbot", "bingbot"),
    ("ahrefsbot", "ahrefsbot"),
    ("facebookexternalhit", "facebook"),
    ("slackbot", "slackbot"),
    ("gptbot", "gptbot"),
    ("python-requests", "python-requests"),
    ("go-http-client", "go-http-client"),
    ("curl/", "curl"),
];
const DEFAULT_ASNS: &[(u64, &str)] = &[(16509, "aws"), (14618, "aws"), (15169, "google"), (8075, "microsoft"), (396982, "google")];
const GENERIC: &[&str] = &["bot", "crawl", "spider"];

/// The rule.
#[derive(Debug)]
pub struct Bots {
    agents: Vec<(memmem::Finder<'static>, String)>,
    asns: Vec<(u64, String)>,
    generic: Vec<memmem::Finder<'static>>,
    lower: Vec<u8>,
    /// User agent → verdict. Traffic repeats a small set of user agents, so most
    /// records cost one hash lookup instead of a dozen substring searches.
    seen: HashMap<Vec<u8>, Verdict>,
}

#[derive(Debug, Clone, Copy)]
enum Verdict {
    Named(usize),
    Generic,
    Human,
}

/// Entries the user-agent memo holds before it starts afresh (bounds guest memory).
const MEMO: usize = 4096;

impl Rule for Bots {
    const FIELDS: &'static [&'static str] = &["cs-user-agent", "asn"];

    fn new(config: &str) -> Result<Self, String> {
        let v: Value = if config.trim().is_empty() {
            Value::Null
        } else {
            cflog_plugin::json::from_str(config).map_err(|e| alloc::format!("config: {e}"))?
        };
        let agents = match v.get("user_agents") {
            None => DEFAULT_AGENTS.iter().map(|(p, n)| (p.to_string(), n.to_string())).collect(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(p, n)| match n.as_str() {
                    Some(n) => Ok((p.to_ascii_lowercase(), n.to_string())),
                    None => Err(alloc::format!("config: user_agents.{p}: expected a string")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err("config: user_agents: expected an object".into()),
        };
        let asns = match v.get("asns") {
            None => DEFAULT_ASNS.iter().map(|(a, n)| (*a, n.to_string())).collect(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(a, n)| match (a.parse::<u64>(), n.as_str()) {
                    (Ok(a), Some(n)) => Ok((a, n.to_string())),
                    _ => Err(alloc::format!("config: asns.{a}: expected a number mapped to a string")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err("config: asns: expected an object".into()),
        };
        let generic = match v.get("generic") {
            None | Some(Value::Bool(true)) => true,
            Some(Value::Bool(false)) => false,
            Some(_) => return Err("config: generic: expected true or false".into()),
        };
        Ok(Bots {
            agents: agents.into_iter().map(|(p, n)| (memmem::Finder::new(p.as_bytes()).into_owned(), n)).collect(),
            asns,
            generic: if generic { GENERIC.iter().map(|g| memmem::Finder::new(g.as_bytes()).into_owned()).collect() } else { Vec::new() },
            lower: Vec::new(),
            seen: HashMap::new(),
        })
    }

    fn enrich(&mut self, record: &Record<'_>, out: &mut Output) {
        let mut score = 0.0;
        if let Some(ua) = record.raw(Field::UserAgent) {
            let verdict = match self.seen.get(ua) {
                Some(v) => *v,
                None => {
                    let v = self.classify(ua);
                    if self.seen.len() >= MEMO {
                        self.seen.clear();
                    }
                    self.seen.insert(ua.to_vec(), v);
                    v
                }
            };
            match verdict {
                Verdict::Named(i) => {
                    out.tag("bot", &self.agents[i].1);
                    score = 1.0;
                }
                Verdict::Generic => {
                    out.tag("bot", "other");
                    score = 0.5;
                }
                Verdict::Human => {}
            }
        }
        if let Ok(Some(asn)) = record.integer(Field::Asn)
            && let Some((_, name)) = self.asns.iter().find(|(a, _)| *a == asn)
        {
            out.tag("network", name);
            if score < 0.5 {
                score = 0.5;
            }
        }
        out.label("bot_score", score);
    }
}

impl Bots {
    fn classify(&mut self, ua: &[u8]) -> Verdict {
        self.lower.clear();
        self.lower.extend(ua.iter().map(u8::to_ascii_lowercase));
        if let Some(i) = self.agents.iter().position(|(f, _)| f.find(&self.lower).is_some()) {
            Verdict::Named(i)
        } else if self.generic.iter().any(|f| f.find(&self.lower).is_some()) {
            Verdict::Generic
        } else {
            Verdict::Human
        }
    }
}

cflog_plugin::export_rule!(Bots);

#[cfg(test)]
mod tests {
    use super::*;
    use cflog_plugin::testing::run;

    fn tags(r: &cflog_plugin::testing::Result) -> Vec<(&str, &str)> {
        r.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn defaults() {
        let lines: [&[u8]; 5] = [
            b"Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)\t15169",
            b"Mozilla/5.0%20(Windows%20NT%2010.0)%20Chrome/142.0.0.0\t7922",
            b"Mozilla/5.0%20(compatible;%20SuperSpider/1.0)\t3320",
            b"Mozilla/5.0%20(X11)\t16509",
            b"-\t-",
        ];
        let r = run::<Bots>("", &lines).unwrap();
        assert_eq!(tags(&r[0]), [("bot", "googlebot"), ("network", "google")]);
        assert_eq!(r[0].labels, [("bot_score".to_string(), 1.0)]);
        assert!(tags(&r[1]).is_empty());
        assert_eq!(r[1].labels, [("bot_score".to_string(), 0.0)]);
        assert_eq!(tags(&r[2]), [("bot", "other")]);
        assert_eq!(tags(&r[3]), [("network", "aws")]);
        assert_eq!(r[3].labels, [("bot_score".to_string(), 0.5)]);
        assert!(tags(&r[4]).is_empty());
        assert!(r.iter().all(|x| !x.drop));
    }

    #[test]
    fn memoized_verdicts_match_fresh_ones() {
        let ua: &[u8] = b"Mozilla/5.0%20(compatible;%20Googlebot/2.1)";
        let lines: Vec<Vec<u8>> = [(ua, "15169"), (ua, "7922"), (&b"curl/8.4.0"[..], "1"), (ua, "16509")]
            .iter()
            .map(|(u, a)| [*u, b"\t", a.as_bytes()].concat())
            .collect();
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        let r = run::<Bots>("", &refs).unwrap();
        assert_eq!(tags(&r[0]), [("bot", "googlebot"), ("network", "google")]);
        assert_eq!(tags(&r[1]), [("bot", "googlebot")]);
        assert_eq!(tags(&r[2]), [("bot", "curl")]);
        assert_eq!(tags(&r[3]), [("bot", "googlebot"), ("network", "aws")]);
    }

    #[test]
    fn configured_lists_replace_the_defaults() {
        let cfg = r#"{"user_agents": {"MyCrawler": "mine"}, "asns": {"64500": "lab"}, "generic": false}"#;
        let lines: [&[u8]; 3] =
            [b"mycrawler/1.0\t64500", b"Mozilla/5.0%20(compatible;%20Googlebot/2.1)\t15169", b"somebot\t1"];
        let r = run::<Bots>(cfg, &lines).unwrap();
        assert_eq!(tags(&r[0]), [("bot", "mine"), ("network", "lab")]);
        assert!(tags(&r[1]).is_empty());
        assert!(tags(&r[2]).is_empty());
    }

    #[test]
    fn bad_config_is_an_error_naming_the_key() {
        let e = run::<Bots>(r#"{"asns": {"x": "y"}}"#, &[]).unwrap_err();
        assert!(e.contains("asns.x"), "{e}");
        assert!(run::<Bots>("{not json", &[]).unwrap_err().starts_with("config:"));
    }
}
