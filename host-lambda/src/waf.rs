//! The WAF sink (issue 14): suspicious client addresses (`cflog_core::suspicious`) go to an
//! AWS WAFv2 IP set the operator attaches to the distribution's web ACL, and leave it after
//! a TTL. This module owns the decision ([`plan`], a pure function: what to add and remove
//! given the set, our block times, the TTL, the allow-lists, the cap and dry-run), the
//! configuration ([`WafConfig::from_lookup`]) and the apply loop ([`apply`]: read the set,
//! plan, record the block times, write the set with its lock token, retrying a lost lock
//! with backoff). The AWS adapters are in [`crate::waf_aws`].
//!
//! WAF IP sets have no per-entry expiry, so the block times are kept in one item of the
//! rollup table (`waf#<IP set ARN>`), which also tells our entries from the operator's: an
//! entry without a block time is never removed. The item is written before the set, so a
//! failed `UpdateIPSet` leaves a block time for an address not in the set, which the next
//! plan drops (an entry in the set without a time would never expire).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use crate::names::{env, metric};
use crate::ports::{MetricDatum, SinkError, Unit};

/// An allow-listed network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `203.0.113.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (a, p) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = a.parse().map_err(|_| format!("{s:?} is not an IP address or CIDR"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|&n| n <= max).ok_or_else(|| format!("{s:?}: prefix length must be 0–{max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the network (an IPv4 address is never in an IPv6 network).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, bits) = match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        let host_bits = bits - u32::from(self.prefix);
        host_bits >= bits || (net >> host_bits) == (ip >> host_bits)
    }
}

/// The IP set entry of one address: `a.b.c.d/32` or `x:…/128` (canonical text).
pub fn entry_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    }
}

/// Who is never blocked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    /// Networks.
    pub cidrs: Vec<Cidr>,
    /// Autonomous systems.
    pub asns: Vec<u32>,
    /// Verified bots ([`Candidate::verified_bot`]).
    pub verified_bots: bool,
}

/// What the sink does.
#[derive(Debug, Clone, PartialEq)]
pub struct WafPolicy {
    /// How long an address stays in the set, milliseconds.
    pub ttl_ms: i64,
    /// Most entries in the set, ours and the operator's.
    pub max_addresses: usize,
    /// Log and count, change nothing.
    pub dry_run: bool,
    /// Never blocked.
    pub allow: AllowList,
}

/// The sink's configuration: the IP sets and the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct WafConfig {
    /// ARNs of the IP sets (an IPv4 and an IPv6 one, typically).
    pub ip_set_arns: Vec<String>,
    /// The policy.
    pub policy: WafPolicy,
}

impl WafConfig {
    /// From the environment ([`env::WAF_IP_SET`] and the `CFLOG_WAF_*` variables); `None`
    /// without an IP set. A bad value is an error naming the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<WafConfig>, String> {
        let ip_set_arns: Vec<String> = get(env::WAF_IP_SET).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        if ip_set_arns.is_empty() {
            return Ok(None);
        }
        let num = |name: &str, default: u64, max: u64| -> Result<u64, String> {
            match get(name).filter(|s| !s.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v.trim().parse::<u64>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| format!("{name}: {v:?} is not a number in 1–{max}")),
            }
        };
        let list = |name: &str| get(name).unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>();
        let cidrs = list(env::WAF_ALLOW_CIDRS).iter().map(|c| Cidr::parse(c).map_err(|e| format!("{}: {e}", env::WAF_ALLOW_CIDRS))).collect::<Result<_, _>>()?;
        let asns = list(env::WAF_ALLOW_ASNS)
            .iter()
            .map(|a| a.trim_start_matches("AS").parse::<u32>().map_err(|_| format!("{}: {a:?} is not an AS number", env::WAF_ALLOW_ASNS)))
            .collect::<Result<_, _>>()?;
        let no = |name: &str| get(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
        Ok(Some(WafConfig {
            ip_set_arns,
            policy: WafPolicy {
                ttl_ms: num(env::WAF_TTL_MINUTES, 60, 7 * 24 * 60)? as i64 * 60_000,
                // WAF allows 10,000 addresses per IP set.
                max_addresses: num(env::WAF_MAX_ADDRESSES, 100, 10_000)? as usize,
                dry_run: !no(env::WAF_DRY_RUN),
                allow: AllowList { cidrs, asns, verified_bots: !no(env::WAF_ALLOW_VERIFIED_BOTS) },
            },
        }))
    }
}

/// A suspicious address.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The client address.
    pub ip: IpAddr,
    /// Its autonomous system, when the logs carry it.
    pub asn: Option<u32>,
    /// A verified bot: its requests claim a crawler and come from that crawler operator's
    /// AS ([`cflog_core::enrich::crawler::verified_crawler`]).
    pub verified_bot: bool,
}

/// What the allow-lists need to know about a suspicious address, read from its lines in
/// the batch (`crate::process::Processor::clients_of`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// The autonomous system it requested from (the first of its lines with an `asn`).
    pub asn: Option<u32>,
    /// Every one of its lines claims a crawler from that crawler operator's AS.
    pub verified_bot: bool,
}

/// The addresses among `suspects` (their ASN suspects are not addresses), worst (most
/// requests) first. Keys that are not addresses, such as networks when `CFLOG_ANONYMIZE_IP`
/// cut the last octet (`203.0.113.0`, which is a real address too), are the caller's to
/// leave out: with anonymized addresses the sink must stay off.
pub fn candidates_of(suspects: &[cflog_core::suspicious::Suspect], facts_of: impl Fn(&IpAddr) -> ClientFacts) -> Vec<Candidate> {
    let mut ips: Vec<(&cflog_core::suspicious::Suspect, IpAddr)> = suspects
        .iter()
        .filter(|s| s.kind == cflog_core::suspicious::ClientKind::Ip)
        .filter_map(|s| Some((s, s.key.parse::<IpAddr>().ok()?)))
        .collect();
    ips.sort_by(|a, b| b.0.counts.requests.cmp(&a.0.counts.requests).then(a.1.cmp(&b.1)));
    ips.into_iter()
        .map(|(_, ip)| {
            let f = facts_of(&ip);
            Candidate { ip, asn: f.asn, verified_bot: f.verified_bot }
        })
        .collect()
}

/// Our blocks: IP set entry → blocked until (epoch milliseconds).
pub type Blocks = BTreeMap<String, i64>;

/// What [`plan`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Entries to add to the set.
    pub add: Vec<String>,
    /// Entries to remove: ours, expired or allow-listed since.
    pub remove: Vec<String>,
    /// Dry run: the entries it would have added.
    pub would_block: Vec<String>,
    /// Not blocked: allow-listed, with the reason.
    pub allowed: Vec<(String, &'static str)>,
    /// Not blocked: the set was full.
    pub over_cap: Vec<String>,
    /// Block times once the change is made (ours still in the set, and the additions).
    pub blocks: Blocks,
}

impl Plan {
    /// Whether the IP set changes.
    pub fn changes_set(&self) -> bool {
        !self.add.is_empty() || !self.remove.is_empty()
    }

    /// The set's entries after the change.
    pub fn addresses(&self, current: &[String]) -> Vec<String> {
        let mut out: Vec<String> = current.iter().filter(|e| !self.remove.contains(e)).cloned().collect();
        out.extend(self.add.iter().cloned());
        out
    }
}

fn allowed(c: &Candidate, allow: &AllowList) -> Option<&'static str> {
    if allow.cidrs.iter().any(|n| n.contains(c.ip)) {
        Some("allow-listed network")
    } else if c.asn.is_some_and(|a| allow.asns.contains(&a)) {
        Some("allow-listed AS")
    } else if c.verified_bot && allow.verified_bots {
        Some("verified bot")
    } else {
        None
    }
}

/// Decides the change: `current` is the IP set's entries, `blocks` the stored block times,
/// `candidates` the suspicious addresses, worst first (the cap keeps the first).
///
/// * An entry of ours (with a block time) that expired at `now_ms`, or whose address is
///   allow-listed now, is removed; an entry without a block time is the operator's and is
///   never touched.
/// * A candidate already in the set is left alone (blocking twice is a no-op; its time
///   is not extended); an allow-listed one is reported in `allowed`; the others are
///   added, blocked until `now_ms + ttl`, while the set holds fewer than the cap.
/// * Dry run: nothing is added or removed; the would-be additions are `would_block`.
/// * Block times of addresses not in the set (removed by the operator, or an add that
///   failed) are dropped.
pub fn plan(current: &[String], blocks: &Blocks, candidates: &[Candidate], policy: &WafPolicy, now_ms: i64) -> Plan {
    let in_set: BTreeSet<&str> = current.iter().map(String::as_str).collect();
    let mut p = Plan::default();
    let allowed_now: BTreeSet<String> =
        candidates.iter().filter(|c| allowed(c, &policy.allow).is_some()).map(|c| entry_of(c.ip)).collect();
    for (entry, &until) in blocks {
        if !in_set.contains(entry.as_str()) {
            continue;
        }
        let listed = entry.split_once('/').and_then(|(a, _)| a.parse::<IpAddr>().ok()).is_some_and(|ip| policy.allow.cidrs.iter().any(|n| n.contains(ip)));
        if !policy.dry_run && (until <= now_ms || listed || allowed_now.contains(entry)) {
            p.remove.push(entry.clone());
        } else {
            p.blocks.insert(entry.clone(), until);
        }
    }
    let mut size = current.len() - p.remove.len();
    let mut seen = BTreeSet::new();
    for c in candidates {
        let entry = entry_of(c.ip);
        if !seen.insert(entry.clone()) {
            continue;
        }
        if let Some(why) = allowed(c, &policy.allow) {
            p.allowed.push((entry, why));
        } else if in_set.contains(entry.as_str()) && !p.remove.contains(&entry) {
            // Already blocked (by us or the operator): nothing to do.
        } else if policy.dry_run {
            p.would_block.push(entry);
        } else if size >= policy.max_addresses {
            p.over_cap.push(entry);
        } else if p.remove.contains(&entry) {
            // Expired and suspicious again: stays in the set, with a new time.
            p.remove.retain(|e| *e != entry);
            p.blocks.insert(entry, now_ms + policy.ttl_ms);
            size += 1;
        } else {
            p.blocks.insert(entry.clone(), now_ms + policy.ttl_ms);
            p.add.push(entry);
            size += 1;
        }
    }
    p
}

/// Why an `UpdateIPSet` failed.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateError {
    /// `WAFOptimisticLockException`: the set changed since it was read; read and retry.
    Lock,
    /// Anything else, classified.
    Other(SinkError),
}

/// An IP set as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// Its entries.
    pub addresses: Vec<String>,
    /// The token `UpdateIPSet` needs.
    pub lock_token: String,
    /// An `IPV6` set (an IP set holds one address family).
    pub ipv6: bool,
}

/// The IP set: its entries with a lock token, and a conditional write.
pub trait IpSet: Send + Sync {
    /// Entries, lock token and address family (`GetIPSet`).
    fn get(&self) -> impl Future<Output = Result<Listing, SinkError>> + Send;
    /// Replaces the entries if the lock token is current (`UpdateIPSet`).
    fn update(&self, addresses: Vec<String>, lock_token: String) -> impl Future<Output = Result<(), UpdateError>> + Send;
}

/// Where the block times live.
pub trait BlockStore: Send + Sync {
    /// The stored block times (none yet: empty).
    fn load(&self) -> impl Future<Output = Result<Blocks, SinkError>> + Send;
    /// Replaces them; the item may expire after `expires_ms`.
    fn save(&self, blocks: &Blocks, expires_ms: i64) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// `UpdateIPSet` attempts before a lost lock is given up (as a transient error).
pub const LOCK_ATTEMPTS: u32 = 5;

/// Reads the set and the block times, plans, and applies: block times first, then the set
/// with the lock token. A lost lock (someone else changed the set) re-reads and re-plans
/// after `backoff × 2^attempt` (with jitter), up to [`LOCK_ATTEMPTS`] times; other errors
/// are returned as they are classified (the SDK has retried throttling already).
pub async fn apply<S: IpSet, B: BlockStore>(set: &S, store: &B, candidates: &[Candidate], policy: &WafPolicy, now_ms: i64, backoff: Duration) -> Result<Plan, SinkError> {
    let mut attempt = 0;
    loop {
        let Listing { addresses: current, lock_token: token, ipv6 } = set.get().await?;
        let blocks = store.load().await?;
        // An IP set holds one family: the other family's candidates go to the other set.
        let mine: Vec<Candidate> = candidates.iter().filter(|c| c.ip.is_ipv6() == ipv6).cloned().collect();
        let p = plan(&current, &blocks, &mine, policy, now_ms);
        if !p.changes_set() {
            if p.blocks != blocks && !policy.dry_run {
                store.save(&p.blocks, expiry(&p.blocks, now_ms)).await?;
            }
            return Ok(p);
        }
        let mut intent = p.blocks.clone();
        for e in &p.remove {
            intent.insert(e.clone(), blocks.get(e).copied().unwrap_or(now_ms));
        }
        store.save(&intent, expiry(&intent, now_ms)).await?;
        match set.update(p.addresses(&current), token).await {
            Ok(()) => return Ok(p),
            Err(UpdateError::Lock) if attempt + 1 < LOCK_ATTEMPTS => {
                let base = backoff.saturating_mul(1 << attempt);
                tokio::time::sleep(base + base.mul_f64(fastrand::f64() * 0.5)).await;
                attempt += 1;
            }
            Err(UpdateError::Lock) => return Err(SinkError::transient(format!("WAFOptimisticLockException: the IP set kept changing ({LOCK_ATTEMPTS} attempts)"))),
            Err(UpdateError::Other(e)) => return Err(e),
        }
    }
}

/// The block item may go a day after its last block ends.
fn expiry(blocks: &Blocks, now_ms: i64) -> i64 {
    blocks.values().copied().max().unwrap_or(now_ms).max(now_ms) + 86_400_000
}

/// `WouldBlock` (dry run) or `WafBlocked`: how many addresses of `plans` (one per IP set),
/// per distribution (`distribution_of` an IP set entry; an entry it does not know is
/// counted under [`metric::OTHER`]), stamped `now_ms`.
pub fn datums_of<'a>(plans: impl IntoIterator<Item = &'a Plan>, distribution_of: impl Fn(&str) -> Option<String>, now_ms: i64) -> Vec<MetricDatum> {
    let mut counts: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
    for p in plans {
        for (name, entries) in [(metric::WOULD_BLOCK, &p.would_block), (metric::WAF_BLOCKED, &p.add)] {
            for e in entries {
                *counts.entry((name, distribution_of(e).unwrap_or_else(|| metric::OTHER.to_string()))).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|((name, dist), n)| MetricDatum {
            name,
            dimensions: vec![(metric::DIM_DISTRIBUTION, dist)],
            timestamp_ms: now_ms,
            unit: Unit::Count,
            values: vec![n as f64],
            counts: vec![1.0],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn policy(dry_run: bool) -> WafPolicy {
        WafPolicy { ttl_ms: 60 * MIN, max_addresses: 3, dry_run, allow: AllowList::default() }
    }

    fn cand(ip: &str) -> Candidate {
        Candidate { ip: ip.parse().unwrap(), asn: None, verified_bot: false }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn cidrs_parse_and_match() {
        let n = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(n.contains("203.0.113.200".parse().unwrap()));
        assert!(!n.contains("203.0.114.1".parse().unwrap()));
        assert!(!n.contains("2001:db8::1".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("198.51.100.7".parse().unwrap()));
        assert!(Cidr::parse("198.51.100.7").unwrap().contains("198.51.100.7".parse().unwrap()));
        assert!(!Cidr::parse("198.51.100.7").unwrap().contains("198.51.100.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("0–32"));
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn entries_are_slash_32_and_slash_128() {
        assert_eq!(entry_of("198.51.100.7".parse().unwrap()), "198.51.100.7/32");
        assert_eq!(entry_of("2001:0db8:0000::0001".parse().unwrap()), "2001:db8::1/128");
    }

    #[test]
    fn a_new_suspect_is_added_with_its_expiry_and_twice_is_a_no_op() {
        let p = plan(&[], &Blocks::new(), &[cand("198.51.100.7"), cand("198.51.100.7")], &policy(false), 1000);
        assert_eq!(p.add, strings(&["198.51.100.7/32"]));
        assert_eq!(p.blocks, Blocks::from([("198.51.100.7/32".to_string(), 1000 + 60 * MIN)]));
        // Next batch: in the set already.
        let again = plan(&p.add, &p.blocks, &[cand("198.51.100.7")], &policy(false), 1000 + MIN);
        assert!(!again.changes_set(), "{again:?}");
        assert_eq!(again.blocks, p.blocks, "the expiry is not extended");
    }

    #[test]
    fn expired_entries_of_ours_go_and_the_operators_stay() {
        let current = strings(&["198.51.100.7/32", "192.0.2.1/32"]); // the second is the operator's
        let blocks = Blocks::from([("198.51.100.7/32".to_string(), 10 * MIN)]);
        let before = plan(&current, &blocks, &[], &policy(false), 10 * MIN - 1);
        assert!(!before.changes_set());
        let at = plan(&current, &blocks, &[], &policy(false), 10 * MIN);
        assert_eq!(at.remove, strings(&["198.51.100.7/32"]));
        assert!(at.blocks.is_empty());
        assert_eq!(at.addresses(&current), strings(&["192.0.2.1/32"]));
    }

    #[test]
    fn an_expired_entry_suspicious_again_stays_with_a_new_expiry() {
        let current = strings(&["198.51.100.7/32"]);
        let blocks = Blocks::from([("198.51.100.7/32".to_string(), 10 * MIN)]);
        let p = plan(&current, &blocks, &[cand("198.51.100.7")], &policy(false), 11 * MIN);
        assert!(!p.changes_set(), "{p:?}");
        assert_eq!(p.blocks["198.51.100.7/32"], 71 * MIN);
    }

    #[test]
    fn allow_lists_win() {
        let mut pol = policy(false);
        pol.allow = AllowList { cidrs: vec![Cidr::parse("203.0.113.0/24").unwrap()], asns: vec![15169], verified_bots: true };
        let bot = Candidate { verified_bot: true, ..cand("198.51.100.9") };
        let google = Candidate { asn: Some(15169), ..cand("198.51.100.8") };
        let p = plan(&[], &Blocks::new(), &[cand("203.0.113.5"), google, bot, cand("198.51.100.7")], &pol, 0);
        assert_eq!(p.add, strings(&["198.51.100.7/32"]));
        let why: Vec<&str> = p.allowed.iter().map(|a| a.1).collect();
        assert_eq!(why, ["allow-listed network", "allow-listed AS", "verified bot"]);
        // A block of ours whose network was allow-listed since is lifted.
        let lifted = plan(&strings(&["203.0.113.5/32"]), &Blocks::from([("203.0.113.5/32".to_string(), 99 * MIN)]), &[], &pol, 0);
        assert_eq!(lifted.remove, strings(&["203.0.113.5/32"]));
        // Verified bots are blocked like anyone when the operator says so.
        pol.allow.verified_bots = false;
        let p = plan(&[], &Blocks::new(), &[Candidate { verified_bot: true, ..cand("198.51.100.9") }], &pol, 0);
        assert_eq!(p.add, strings(&["198.51.100.9/32"]));
    }

    #[test]
    fn the_cap_counts_every_entry_and_keeps_the_worst() {
        let current = strings(&["192.0.2.1/32"]); // the operator's
        let p = plan(&current, &Blocks::new(), &[cand("198.51.100.1"), cand("198.51.100.2"), cand("198.51.100.3")], &policy(false), 0);
        assert_eq!(p.add, strings(&["198.51.100.1/32", "198.51.100.2/32"]));
        assert_eq!(p.over_cap, strings(&["198.51.100.3/32"]));
        assert_eq!(p.addresses(&current).len(), 3);
    }

    #[test]
    fn dry_run_changes_nothing() {
        let current = strings(&["198.51.100.7/32"]);
        let blocks = Blocks::from([("198.51.100.7/32".to_string(), 0)]); // expired
        let p = plan(&current, &blocks, &[cand("2001:db8::66"), cand("198.51.100.7")], &policy(true), MIN);
        assert!(!p.changes_set());
        assert_eq!(p.would_block, strings(&["2001:db8::66/128"]));
        assert_eq!(p.blocks, blocks);
        let datums = datums_of([&p], |e| (e == "2001:db8::66/128").then(|| "d".to_string()), 5);
        assert_eq!(datums.len(), 1, "{datums:?}");
        assert_eq!((datums[0].name, &datums[0].dimensions[0].1, datums[0].values[0]), (metric::WOULD_BLOCK, &"d".to_string(), 1.0));
    }

    #[test]
    fn blocks_of_addresses_not_in_the_set_are_dropped() {
        let blocks = Blocks::from([("198.51.100.7/32".to_string(), 99 * MIN)]);
        let p = plan(&[], &blocks, &[], &policy(false), 0);
        assert!(!p.changes_set());
        assert!(p.blocks.is_empty());
    }

    #[test]
    fn config_from_the_environment() {
        let vars = |v: &'static [(&'static str, &'static str)]| move |k: &str| v.iter().find(|(n, _)| *n == k).map(|(_, x)| x.to_string());
        assert_eq!(WafConfig::from_lookup(vars(&[])).unwrap(), None);
        let c = WafConfig::from_lookup(vars(&[(env::WAF_IP_SET, "arn:aws:wafv2:us-east-1:1:global/ipset/s/i, arn:aws:wafv2:us-east-1:1:global/ipset/s6/j")])).unwrap().unwrap();
        assert_eq!(c.ip_set_arns.len(), 2);
        assert!(c.policy.dry_run, "dry run by default");
        assert_eq!((c.policy.ttl_ms, c.policy.max_addresses, c.policy.allow.verified_bots), (60 * MIN, 100, true));
        let c = WafConfig::from_lookup(vars(&[
            (env::WAF_IP_SET, "arn"),
            (env::WAF_DRY_RUN, "false"),
            (env::WAF_TTL_MINUTES, "15"),
            (env::WAF_ALLOW_CIDRS, "10.0.0.0/8, 2001:db8::/32"),
            (env::WAF_ALLOW_ASNS, "AS15169,8075"),
        ]))
        .unwrap()
        .unwrap();
        assert!(!c.policy.dry_run);
        assert_eq!(c.policy.ttl_ms, 15 * MIN);
        assert_eq!(c.policy.allow.asns, [15169, 8075]);
        assert_eq!(c.policy.allow.cidrs.len(), 2);
        let e = WafConfig::from_lookup(vars(&[(env::WAF_IP_SET, "arn"), (env::WAF_MAX_ADDRESSES, "20000")])).unwrap_err();
        assert!(e.contains("CFLOG_WAF_MAX_ADDRESSES"), "{e}");
        let e = WafConfig::from_lookup(vars(&[(env::WAF_IP_SET, "arn"), (env::WAF_ALLOW_CIDRS, "10.0.0.0/40")])).unwrap_err();
        assert!(e.contains("CFLOG_WAF_ALLOW_CIDRS"), "{e}");
    }

    /// An IP set that loses the lock `locks` times, then takes the update; or fails for good.
    struct Fake {
        entries: std::sync::Mutex<(Vec<String>, u32)>,
        locks: std::sync::atomic::AtomicU32,
        permanent: bool,
        updates: std::sync::atomic::AtomicU32,
    }

    impl IpSet for Fake {
        async fn get(&self) -> Result<Listing, SinkError> {
            let e = self.entries.lock().unwrap();
            Ok(Listing { addresses: e.0.clone(), lock_token: e.1.to_string(), ipv6: false })
        }
        async fn update(&self, addresses: Vec<String>, token: String) -> Result<(), UpdateError> {
            use std::sync::atomic::Ordering::SeqCst;
            self.updates.fetch_add(1, SeqCst);
            if self.permanent {
                return Err(UpdateError::Other(SinkError::permanent("AccessDeniedException")));
            }
            if self.locks.load(SeqCst) > 0 {
                self.locks.fetch_sub(1, SeqCst);
                // Someone else changed the set meanwhile.
                let mut e = self.entries.lock().unwrap();
                e.0.push("192.0.2.99/32".into());
                e.1 += 1;
                return Err(UpdateError::Lock);
            }
            let mut e = self.entries.lock().unwrap();
            assert_eq!(token, e.1.to_string());
            *e = (addresses, e.1 + 1);
            Ok(())
        }
    }

    #[derive(Default)]
    struct MemStore(std::sync::Mutex<Blocks>);

    impl BlockStore for MemStore {
        async fn load(&self) -> Result<Blocks, SinkError> {
            Ok(self.0.lock().unwrap().clone())
        }
        async fn save(&self, b: &Blocks, _: i64) -> Result<(), SinkError> {
            *self.0.lock().unwrap() = b.clone();
            Ok(())
        }
    }

    fn fake(locks: u32, permanent: bool) -> Fake {
        Fake { entries: Default::default(), locks: locks.into(), permanent, updates: 0.into() }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn a_lost_lock_rereads_and_retries_keeping_the_other_writers_entry() {
        let (set, store) = (fake(2, false), MemStore::default());
        let p = rt().block_on(apply(&set, &store, &[cand("198.51.100.7")], &policy(false), 0, Duration::from_millis(1))).unwrap();
        assert_eq!(p.add, strings(&["198.51.100.7/32"]));
        assert_eq!(set.updates.load(std::sync::atomic::Ordering::SeqCst), 3);
        let entries = set.entries.lock().unwrap().0.clone();
        assert_eq!(entries.iter().filter(|e| *e == "192.0.2.99/32").count(), 2, "both concurrent additions kept: {entries:?}");
        assert!(entries.contains(&"198.51.100.7/32".to_string()));
        assert!(store.0.lock().unwrap().contains_key("198.51.100.7/32"));
    }

    #[test]
    fn a_lock_lost_every_time_gives_up_as_transient_and_permanent_errors_are_not_retried() {
        let set = fake(LOCK_ATTEMPTS, false);
        let roomy = WafPolicy { max_addresses: 100, ..policy(false) };
        let e = rt().block_on(apply(&set, &MemStore::default(), &[cand("198.51.100.7")], &roomy, 0, Duration::from_millis(1))).unwrap_err();
        assert!(e.is_transient() && e.message.contains("WAFOptimisticLockException"), "{e:?}");
        assert_eq!(set.updates.load(std::sync::atomic::Ordering::SeqCst), LOCK_ATTEMPTS);
        let set = fake(0, true);
        let e = rt().block_on(apply(&set, &MemStore::default(), &[cand("198.51.100.7")], &policy(false), 0, Duration::from_millis(1))).unwrap_err();
        assert!(!e.is_transient());
        assert_eq!(set.updates.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
