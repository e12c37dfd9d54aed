//! The WAF sink in the handler (issue 14): what one invocation does with the suspicious
//! clients the processor found ([`crate::aggregate::Aggregate::suspects`], the same
//! judgement as the `SuspiciousClients` metric): one [`crate::waf::apply`] per IP set, each
//! call retried with the handler's [`RetryPolicy`] when transient, then a log line and the
//! `WouldBlock` / `WafBlocked` / `WafErrors` metrics. A failure here never fails the batch:
//! blocking is best effort, and the next invocation judges the traffic again.
//!
//! [`Blocker`] is the object-safe face of the sink, so the handler holds it without another
//! type parameter; [`WafSink`] implements it over any [`IpSet`] and [`BlockStore`].

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use cflog_core::suspicious::{ClientKind, Suspect, SuspectThresholds};
use serde::Serialize;

use crate::aggregate::Aggregate;
use crate::names::metric;
use crate::ports::{MetricDatum, MetricsSink, SinkError, Unit};
use crate::sinks::RetryPolicy;
use crate::waf::{BlockStore, Candidate, ClientFacts, IpSet, Plan, WafPolicy, apply, candidates_of, datums_of, entry_of};

/// The outcome of one IP set: its name (the ARN) and the plan applied, or why not.
pub type Outcome = (String, Result<Plan, SinkError>);

/// The WAF sink as the handler sees it.
pub trait Blocker: Send + Sync {
    /// What the sink does (TTL, cap, dry run, allow-lists).
    fn policy(&self) -> &WafPolicy;
    /// Applies `candidates` (worst first) to every IP set at `now_ms`, each call retried
    /// by `retry` while transient.
    fn apply_all<'a>(&'a self, candidates: &'a [Candidate], now_ms: i64, retry: RetryPolicy) -> Pin<Box<dyn Future<Output = Vec<Outcome>> + Send + 'a>>;
}

/// One IP set with its block times.
#[derive(Debug, Clone)]
pub struct WafTarget<S, B> {
    /// The IP set's ARN (logs name it).
    pub name: String,
    /// The set.
    pub set: S,
    /// Its block times.
    pub store: B,
}

/// The sink: IP sets (an IPv4 and an IPv6 one, typically) and the policy.
#[derive(Debug, Clone)]
pub struct WafSink<S, B> {
    /// The IP sets.
    pub targets: Vec<WafTarget<S, B>>,
    /// The policy.
    pub policy: WafPolicy,
    /// Base delay after a lost `UpdateIPSet` lock ([`apply`]).
    pub lock_backoff: Duration,
}

impl<S: IpSet, B: BlockStore> Blocker for WafSink<S, B> {
    fn policy(&self) -> &WafPolicy {
        &self.policy
    }

    fn apply_all<'a>(&'a self, candidates: &'a [Candidate], now_ms: i64, retry: RetryPolicy) -> Pin<Box<dyn Future<Output = Vec<Outcome>> + Send + 'a>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(self.targets.len());
            for t in &self.targets {
                let result = retry.run("waf", || apply(&t.set, &t.store, candidates, &self.policy, now_ms, self.lock_backoff)).await;
                out.push((t.name.clone(), result));
            }
            out
        })
    }
}

/// How often IP sets are read only to expire blocks (an invocation without suspects):
/// at most once a minute per container.
pub const EXPIRY_INTERVAL_MS: i64 = 60_000;

/// The sink and when this container last ran it.
pub struct WafRunner {
    blocker: Box<dyn Blocker>,
    last_run_ms: Mutex<Option<i64>>,
}

impl std::fmt::Debug for WafRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WafRunner").field("policy", self.blocker.policy()).finish_non_exhaustive()
    }
}

/// What the sink found in one batch: suspicious clients by distribution, and what the
/// allow-lists need to know about the suspicious addresses (ASN, verified bot) when an
/// ASN allow-list or the verified-bot one needs it.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// `(distribution, suspect)`.
    pub suspects: Vec<(String, Suspect)>,
    /// Address → its AS and whether it is a verified bot.
    pub clients: HashMap<IpAddr, ClientFacts>,
}

/// What the sink did in one invocation (part of the invocation's log line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WafStats {
    /// Addresses a dry run would have added.
    pub would_block: usize,
    /// Addresses added.
    pub blocked: usize,
    /// Addresses removed (expired, or allow-listed since).
    pub unblocked: usize,
    /// Suspicious addresses not blocked because they are allow-listed.
    pub allowed: usize,
    /// Suspicious addresses not blocked because the IP set was full.
    pub over_cap: usize,
    /// IP sets not read or changed.
    pub errors: usize,
}

impl Found {
    /// Adds the suspicious clients of `agg` (one shard's parse) judged by `thresholds`:
    /// windows that started more than the block TTL before `now_ms` are left out (a
    /// backlog's old flood is over by the time a block would end), and the addresses'
    /// [`ClientFacts`] (`clients_of(ips, bots)`, which parses the records again; `bots`:
    /// whether to judge verified bots too) are looked up only when an allow-list needs them.
    pub fn add(
        &mut self,
        waf: &WafRunner,
        agg: &Aggregate,
        thresholds: &SuspectThresholds,
        now_ms: i64,
        clients_of: impl FnOnce(&[IpAddr], bool) -> HashMap<IpAddr, ClientFacts>,
    ) {
        let suspects = agg.suspects(thresholds, now_ms - waf.policy().ttl_ms);
        if waf.needs_asns() || waf.needs_bots() {
            let ips: Vec<IpAddr> = suspects.iter().filter(|(_, s)| s.kind == ClientKind::Ip).filter_map(|(_, s)| s.key.parse().ok()).collect();
            if !ips.is_empty() {
                self.clients.extend(clients_of(&ips, waf.needs_bots()));
            }
        }
        self.suspects.extend(suspects);
    }
}

impl WafRunner {
    /// Runs `blocker` from the handler.
    pub fn new(blocker: Box<dyn Blocker>) -> Self {
        WafRunner { blocker, last_run_ms: Mutex::new(None) }
    }

    /// The policy.
    pub fn policy(&self) -> &WafPolicy {
        self.blocker.policy()
    }

    /// Whether a batch's suspicious addresses need their ASN ([`Found::clients`]).
    pub fn needs_asns(&self) -> bool {
        !self.policy().allow.asns.is_empty()
    }

    /// Whether a batch's suspicious addresses need to be judged as verified bots or not
    /// ([`Found::clients`]): when verified bots are allow-listed (the default).
    pub fn needs_bots(&self) -> bool {
        self.policy().allow.verified_bots
    }

    /// Applies what the batch found: always when it found suspicious addresses, else at
    /// most every [`EXPIRY_INTERVAL_MS`] to expire blocks (never in a dry run, which has
    /// nothing to expire). Publishes the metrics to `metrics` (if on) and logs.
    pub async fn run<M: MetricsSink>(&self, found: &Found, now_ms: i64, retry: RetryPolicy, metrics: Option<&M>) -> WafStats {
        let ips: Vec<Suspect> = found.suspects.iter().filter(|(_, s)| s.kind == ClientKind::Ip).map(|(_, s)| s.clone()).collect();
        let candidates = candidates_of(&ips, |ip| found.clients.get(ip).copied().unwrap_or_default());
        {
            let mut last = self.last_run_ms.lock().unwrap();
            let due = last.is_none_or(|t| now_ms - t >= EXPIRY_INTERVAL_MS) && !self.policy().dry_run;
            if candidates.is_empty() && !due {
                return WafStats::default();
            }
            *last = Some(now_ms);
        }
        let outcomes = self.blocker.apply_all(&candidates, now_ms, retry).await;
        let mut stats = WafStats::default();
        let mut plans = Vec::new();
        for (ip_set, result) in &outcomes {
            match result {
                Ok(p) => {
                    stats.would_block += p.would_block.len();
                    stats.blocked += p.add.len();
                    stats.unblocked += p.remove.len();
                    stats.allowed += p.allowed.len();
                    stats.over_cap += p.over_cap.len();
                    if p.changes_set() || !p.would_block.is_empty() || !p.over_cap.is_empty() || !p.allowed.is_empty() {
                        tracing::info!(
                            ip_set = %ip_set,
                            dry_run = self.policy().dry_run,
                            would_block = ?p.would_block,
                            blocked = ?p.add,
                            unblocked = ?p.remove,
                            allowed = ?p.allowed,
                            over_cap = ?p.over_cap,
                            "WAF sink"
                        );
                    }
                    if !p.over_cap.is_empty() {
                        tracing::warn!(ip_set = %ip_set, over_cap = p.over_cap.len(), max_addresses = self.policy().max_addresses, "WAF sink: the IP set is full; suspicious addresses not blocked");
                    }
                    plans.push(p);
                }
                Err(e) => {
                    stats.errors += 1;
                    tracing::error!(ip_set = %ip_set, error = %e, permanent = !e.is_transient(), "WAF sink: IP set not read or changed; records, rollups and metrics are not affected");
                }
            }
        }
        if let Some(sink) = metrics {
            let dist_of: HashMap<String, &str> =
                found.suspects.iter().filter_map(|(d, s)| Some((entry_of(s.key.parse::<IpAddr>().ok()?), d.as_str()))).collect();
            let mut datums = datums_of(plans, |e| dist_of.get(e).map(|d| d.to_string()), now_ms);
            if stats.errors > 0 {
                datums.push(MetricDatum { name: metric::WAF_ERRORS, dimensions: Vec::new(), timestamp_ms: now_ms, unit: Unit::Count, values: vec![stats.errors as f64], counts: vec![1.0] });
            }
            if !datums.is_empty()
                && let Err(e) = retry.run("metrics", || sink.put(&datums)).await
            {
                tracing::error!(error = %e, "WAF sink metrics not published");
            }
        }
        stats
    }
}
