//! Suspicious clients: the rules that judge a window's heaviest clients (by address and by
//! autonomous system), shared by `cflog analyze`, the Lambda (metric, alert context, WAF
//! sink) and the browser, so a threshold tuned on yesterday's files means the same live.
//!
//! Each window of a [`Summary`](crate::summary::Summary) keeps a bounded
//! [`ClientTable`](crate::agg::ClientTable) per address and per ASN; [`judge`] applies
//! [`SuspectThresholds`] to them. Thresholds are per minute and scale with the window width
//! (a 5-minute window needs five times the requests). A client is judged on the requests
//! *observed* for it, never on Space-Saving's upper bound, so bounded memory can hide a
//! client but never accuse one of more than it did.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::agg::{ClientCounts, ClientTable};

/// The tag key whose tagged requests count for [`SuspectThresholds::tagged_per_min`]: the
/// security rule's (`threat=scanner`, `traversal`, `sqli`, `xss`; docs/report.md).
pub const THREAT_TAG_KEY: &str = "threat";

/// Clients held per window per table (addresses, ASNs) unless configured otherwise.
pub const DEFAULT_CLIENT_CAPACITY: u32 = 64;

/// When a client is suspicious. Every rule is "at least"; a client matching any rule is
/// suspicious. Per-minute numbers scale with the window width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuspectThresholds {
    /// Requests per minute from one address that are suspicious whatever they get (a
    /// flood). The default is 1,200 (20 per second for the whole minute: more than a
    /// browser loading pages, less than a cheap scraper).
    pub flood_per_min: u64,
    /// Requests per minute from one address before the share rules apply (a browser that
    /// meets two broken links is not a scanner). The default is 60.
    pub share_floor_per_min: u64,
    /// 4xx share (percent) at or above which an address past the floor is suspicious. The
    /// default is 50.
    pub max_4xx_percent: u32,
    /// 404 share (percent) at or above which an address past the floor is suspicious
    /// (scanners probe paths that do not exist). The default is 30.
    pub max_404_percent: u32,
    /// Threat-tagged requests (tag key [`THREAT_TAG_KEY`]) per minute from one address that
    /// are suspicious. The default is 5 (one odd URL is a typo; five are a probe).
    pub tagged_per_min: u64,
    /// ASNs carry many users: the request numbers above are multiplied by this for them
    /// (shares are the same). The default is 20.
    pub asn_factor: u64,
}

impl Default for SuspectThresholds {
    fn default() -> Self {
        SuspectThresholds {
            flood_per_min: 1_200,
            share_floor_per_min: 60,
            max_4xx_percent: 50,
            max_404_percent: 30,
            tagged_per_min: 5,
            asn_factor: 20,
        }
    }
}

impl SuspectThresholds {
    /// These thresholds as a JSON object (the report's `suspicious_clients.thresholds`).
    pub fn to_json(&self) -> Value {
        json!({
            "flood_per_min": self.flood_per_min,
            "share_floor_per_min": self.share_floor_per_min,
            "max_4xx_percent": self.max_4xx_percent,
            "max_404_percent": self.max_404_percent,
            "tagged_per_min": self.tagged_per_min,
            "asn_factor": self.asn_factor,
        })
    }
}

/// Whether a client is an address or an autonomous system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientKind {
    /// A viewer address (`c-ip`).
    Ip,
    /// An autonomous system (real-time `asn`).
    Asn,
}

impl ClientKind {
    /// `ip` or `asn`.
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Ip => "ip",
            ClientKind::Asn => "asn",
        }
    }
}

/// Why a client is suspicious (bit flags, in [`Reasons::names`] order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reasons(u8);

impl Reasons {
    /// At or above the flood rate.
    pub const FLOOD: Reasons = Reasons(1);
    /// Past the floor with a 4xx share at or above the limit.
    pub const ERRORS_4XX: Reasons = Reasons(2);
    /// Past the floor with a 404 share at or above the limit.
    pub const NOT_FOUND: Reasons = Reasons(4);
    /// At or above the threat-tagged rate.
    pub const TAGGED: Reasons = Reasons(8);
    const NAMES: [&'static str; 4] = ["flood", "4xx", "404", "threat"];

    /// Whether no rule matched.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every reason of `other` is in `self`.
    pub fn contains(self, other: Reasons) -> bool {
        self.0 & other.0 == other.0
    }

    /// The reasons' names: `flood`, `4xx`, `404`, `threat`.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES.iter().enumerate().filter(|(i, _)| self.0 & (1 << i) != 0).map(|(_, n)| *n).collect()
    }
}

impl core::ops::BitOr for Reasons {
    type Output = Reasons;
    fn bitor(self, o: Reasons) -> Reasons {
        Reasons(self.0 | o.0)
    }
}

/// One suspicious client in one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// Window start, epoch milliseconds.
    pub window_start_ms: i64,
    /// Address or ASN.
    pub kind: ClientKind,
    /// The address or ASN as logged.
    pub key: String,
    /// What was observed of it in the window.
    pub counts: ClientCounts,
    /// Requests it may have made before it was tracked (0 unless the table was full).
    pub missed_max: u64,
    /// The rules it matched.
    pub reasons: Reasons,
}

impl Suspect {
    /// 4xx share in percent.
    pub fn percent_4xx(&self) -> f64 {
        percent(self.counts.status_4xx, self.counts.requests)
    }

    /// 404 share in percent.
    pub fn percent_404(&self) -> f64 {
        percent(self.counts.status_404, self.counts.requests)
    }

    /// The suspect as a JSON object (an entry of the report's `suspicious_clients.clients`).
    pub fn to_json(&self) -> Value {
        let c = &self.counts;
        json!({
            "window_start_ms": self.window_start_ms,
            "kind": self.kind.name(),
            "key": self.key,
            "requests": c.requests,
            "status_4xx": c.status_4xx,
            "status_404": c.status_404,
            "bytes": c.bytes,
            "threat_tagged": c.tagged,
            "missed_max": self.missed_max,
            "reasons": self.reasons.names(),
        })
    }
}

fn percent(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 * 100.0 / of as f64 }
}

/// `per_min` scaled to a window of `window_ms` (at least 1, so a zero threshold does not
/// flag silence).
fn scaled(per_min: u64, factor: u64, window_ms: u64) -> u64 {
    let v = (per_min as u128 * factor as u128 * window_ms as u128).div_ceil(60_000);
    u64::try_from(v).unwrap_or(u64::MAX).max(1)
}

/// The rules `counts` matches in a window `window_ms` wide.
pub fn reasons_of(t: &SuspectThresholds, kind: ClientKind, counts: &ClientCounts, window_ms: u64) -> Reasons {
    let factor = if kind == ClientKind::Asn { t.asn_factor.max(1) } else { 1 };
    let mut r = Reasons::default();
    if counts.requests >= scaled(t.flood_per_min, factor, window_ms) {
        r = r | Reasons::FLOOD;
    }
    if counts.requests >= scaled(t.share_floor_per_min, factor, window_ms) {
        // Integer comparisons: `n * 100 >= limit * requests` is exact.
        let at_least = |n: u64, limit: u32| u128::from(n) * 100 >= u128::from(limit) * u128::from(counts.requests);
        if at_least(counts.status_4xx, t.max_4xx_percent) {
            r = r | Reasons::ERRORS_4XX;
        }
        if at_least(counts.status_404, t.max_404_percent) {
            r = r | Reasons::NOT_FOUND;
        }
    }
    if counts.tagged >= scaled(t.tagged_per_min, factor, window_ms) {
        r = r | Reasons::TAGGED;
    }
    r
}

/// The suspicious clients of one window's tables.
pub fn judge_window(t: &SuspectThresholds, window_start_ms: i64, window_ms: u64, tables: [(ClientKind, &ClientTable); 2], out: &mut Vec<Suspect>) {
    for (kind, table) in tables {
        for e in table.entries() {
            let reasons = reasons_of(t, kind, &e.counts, window_ms);
            if !reasons.is_empty() {
                out.push(Suspect {
                    window_start_ms,
                    kind,
                    key: String::from_utf8_lossy(e.key).into_owned(),
                    counts: e.counts,
                    missed_max: e.missed_max,
                    reasons,
                });
            }
        }
    }
}

/// Every suspicious client of a summary, by window, then addresses before ASNs, then
/// requests descending.
pub fn judge(summary: &crate::summary::Summary, t: &SuspectThresholds) -> Vec<Suspect> {
    let mut out = Vec::new();
    for (start, w) in &summary.windows {
        judge_window(t, *start, summary.window_ms(), [(ClientKind::Ip, &w.clients.ip), (ClientKind::Asn, &w.clients.asn)], &mut out);
    }
    out
}

/// The report's `suspicious_clients` object: the thresholds used, how many were found, and
/// the first `limit` of them.
pub fn report_json(summary: &crate::summary::Summary, t: &SuspectThresholds, limit: usize) -> Value {
    let all = judge(summary, t);
    let clients: Vec<Value> = all.iter().take(limit).map(Suspect::to_json).collect();
    json!({
        "thresholds": t.to_json(),
        "client_capacity": summary.options().client_capacity,
        "found": all.len(),
        "clients": clients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(requests: u64, s4xx: u64, s404: u64, tagged: u64) -> ClientCounts {
        ClientCounts { requests, status_4xx: s4xx, status_404: s404, bytes: 0, tagged }
    }

    #[test]
    fn each_rule_at_its_edge() {
        let t = SuspectThresholds::default();
        let m = 60_000;
        let ip = |c: ClientCounts| reasons_of(&t, ClientKind::Ip, &c, m).names();
        assert_eq!(ip(counts(1_199, 0, 0, 0)), [] as [&str; 0]);
        assert_eq!(ip(counts(1_200, 0, 0, 0)), ["flood"]);
        // The floor: 59 requests all 404 are not judged by share.
        assert_eq!(ip(counts(59, 59, 59, 0)), [] as [&str; 0]);
        assert_eq!(ip(counts(60, 30, 0, 0)), ["4xx"]);
        assert_eq!(ip(counts(60, 29, 0, 0)), [] as [&str; 0]);
        assert_eq!(ip(counts(100, 30, 30, 0)), ["404"]);
        assert_eq!(ip(counts(100, 29, 29, 0)), [] as [&str; 0]);
        assert_eq!(ip(counts(3, 0, 0, 5)), ["threat"]);
        assert_eq!(ip(counts(3, 0, 0, 4)), [] as [&str; 0]);
        // Five-minute windows need five times the requests; ASNs twenty times.
        assert_eq!(reasons_of(&t, ClientKind::Ip, &counts(1_200, 0, 0, 0), 5 * m).names(), [] as [&str; 0]);
        assert_eq!(reasons_of(&t, ClientKind::Ip, &counts(6_000, 0, 0, 0), 5 * m).names(), ["flood"]);
        assert_eq!(reasons_of(&t, ClientKind::Asn, &counts(1_200, 1_200, 0, 0), m).names(), ["4xx"]);
        assert_eq!(reasons_of(&t, ClientKind::Asn, &counts(23_999, 0, 0, 0), m).names(), [] as [&str; 0]);
        assert_eq!(reasons_of(&t, ClientKind::Asn, &counts(24_000, 0, 0, 0), m).names(), ["flood"]);
    }

    /// Threat tags count for the client of the record added just before, once per record;
    /// other tag keys do not.
    #[test]
    fn threat_tags_count_for_the_last_records_client() {
        use crate::summary::{Summary, SummaryOptions};
        use crate::{Parser, RecordBuf, Schema};
        let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "asn"]).unwrap();
        let mut parser = Parser::realtime(schema);
        let mut buf = RecordBuf::new();
        let mut s = Summary::new(SummaryOptions::default());
        for i in 0..7 {
            let line = alloc::format!("1793491200.{i:03}\t192.0.2.{}\t404\t64496", if i < 6 { 1 } else { 2 });
            s.add(&parser.parse_line(line.as_bytes(), &mut buf).unwrap().unwrap()).unwrap();
            if i < 5 || i == 6 {
                s.add_tag(THREAT_TAG_KEY, b"scanner");
                s.add_tag(THREAT_TAG_KEY, b"sqli");
            }
            s.add_tag("bot", b"curl");
        }
        let found = judge(&s, &SuspectThresholds::default());
        let keys: Vec<(&str, &str, u64, Vec<&str>)> =
            found.iter().map(|f| (f.kind.name(), f.key.as_str(), f.counts.tagged, f.reasons.names())).collect();
        // 192.0.2.1: 6 requests, 5 tagged; 192.0.2.2: 1 tagged. The ASN: 6 tagged of 7, but
        // its threshold is 20 × 5.
        assert_eq!(keys, [("ip", "192.0.2.1", 5, alloc::vec!["threat"])]);
        let back = Summary::decode_state(&s.encode_state()).unwrap();
        assert_eq!(judge(&back, &SuspectThresholds::default()), found);
    }

    #[test]
    fn zero_thresholds_never_flag_silence() {
        let t = SuspectThresholds { flood_per_min: 0, share_floor_per_min: 0, max_4xx_percent: 0, max_404_percent: 0, tagged_per_min: 0, asn_factor: 0 };
        assert!(reasons_of(&t, ClientKind::Ip, &counts(0, 0, 0, 0), 60_000).is_empty());
        assert_eq!(reasons_of(&t, ClientKind::Ip, &counts(1, 0, 0, 0), 60_000).names(), ["flood", "4xx", "404"]);
    }
}
