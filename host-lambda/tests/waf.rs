//! The WAF sink against a real moto server (WAFv2 `CreateIPSet`, `GetIPSet`, `UpdateIPSet`
//! with lock tokens, and DynamoDB for the block times): a flood from one address, judged by
//! `cflog_core::suspicious` on real-time lines, gets it blocked once (not twice), and
//! unblocked once the TTL has passed (the clock is the `now_ms` argument); an allow-listed
//! address never; a dry run changes nothing; the operator's own entries are never touched.
//! Then the same through the Lambda path: the handler built from environment variables
//! ([`cflog_lambda::runtime::build`]) on Kinesis events, its clock moved past the TTL.

mod common;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};

use aws_sdk_wafv2::types::{IpAddressVersion, Scope};
use cflog_core::Schema;
use cflog_core::suspicious::{SuspectThresholds, judge};
use cflog_lambda::waf::{AllowList, Blocks, BlockStore, Candidate, Cidr, ClientFacts, IpSet, WafPolicy, apply, candidates_of};
use cflog_lambda::config::Config;
use cflog_lambda::ports::Clock;
use cflog_lambda::runtime::{AwsHandler, build};
use cflog_lambda::waf_aws::{DynamoBlocks, WafIpSet};
use common::*;

const TABLE: &str = "cflog-rollups";
const MIN: i64 = 60_000;
const T0: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z
const OPERATORS: &str = "192.0.2.1/32";

/// `n` requests of `ip` and one each of 50 quiet clients, in the minute from `T0`.
fn flood(ip: &str, n: usize) -> Vec<Vec<u8>> {
    flood_at(T0, &[(ip, n, "-")])
}

/// `n` requests of each `(ip, n, asn)` and one each of 50 quiet clients (no `asn`), in the
/// minute from `t0`.
fn flood_at(t0: i64, floods: &[(&str, usize, &str)]) -> Vec<Vec<u8>> {
    let floods: Vec<(&str, usize, &str, &str)> = floods.iter().map(|&(ip, n, asn)| (ip, n, asn, "-")).collect();
    flood_as(t0, &floods)
}

/// [`flood_at`] with a user agent (as logged: percent-encoded) per flood: `(ip, n, asn, ua)`.
fn flood_as(t0: i64, floods: &[(&str, usize, &str, &str)]) -> Vec<Vec<u8>> {
    let schema = Schema::realtime_release(46).unwrap();
    let names: Vec<&str> = schema.names().collect();
    let line = |k: usize, ip: &str, asn: &str, ua: &str| {
        let values: Vec<String> = names
            .iter()
            .map(|n| match *n {
                "timestamp" => format!("{}.{:03}", (t0 + k as i64) / 1000, (t0 + k as i64) % 1000),
                "c-ip" => ip.to_string(),
                "asn" => asn.to_string(),
                "cs-user-agent" => ua.to_string(),
                "sc-status" => "200".into(),
                "x-host-header" => "d111111abcdef8.cloudfront.net".into(),
                _ => "-".into(),
            })
            .collect();
        format!("{}\n", values.join("\t")).into_bytes()
    };
    let mut out: Vec<Vec<u8>> =
        floods.iter().flat_map(|&(ip, n, asn, ua)| (0..n).map(move |k| (k, ip, asn, ua))).map(|(k, ip, asn, ua)| line(k, ip, asn, ua)).collect();
    out.extend((0..50).map(|k| line(k, &format!("198.51.100.{k}"), "-", "-")));
    out
}

fn suspects_of(lines: &[Vec<u8>]) -> Vec<Candidate> {
    let summary = analyze_summary(lines, &Schema::realtime_release(46).unwrap());
    candidates_of(&judge(&summary, &SuspectThresholds::default()), |_| ClientFacts::default())
}

struct Setup {
    _moto: Moto,
    set: WafIpSet,
    store: DynamoBlocks,
}

async fn setup(version: IpAddressVersion) -> Setup {
    let moto = start_moto().await;
    let sdk = sdk(&moto.url()).await;
    create_table(&sdk, TABLE).await;
    let waf = aws_sdk_wafv2::Client::new(&sdk);
    let initial = if version == IpAddressVersion::Ipv4 { vec![OPERATORS.to_string()] } else { vec![] };
    let created = waf
        .create_ip_set()
        .name("cflog-suspicious")
        .scope(Scope::Cloudfront)
        .ip_address_version(version)
        .set_addresses(Some(initial))
        .send()
        .await
        .unwrap();
    let arn = created.summary().unwrap().arn().unwrap().to_string();
    assert!(arn.contains(":global/ipset/"), "{arn}");
    let set = WafIpSet::from_arn(waf, &arn).unwrap();
    let store = DynamoBlocks { client: aws_sdk_dynamodb::Client::new(&sdk), table: TABLE.into(), ip_set_arn: arn };
    Setup { _moto: moto, set, store }
}

fn policy(dry_run: bool, allow: AllowList) -> WafPolicy {
    WafPolicy { ttl_ms: 60 * MIN, max_addresses: 100, dry_run, allow }
}

async fn entries(set: &WafIpSet) -> Vec<String> {
    let mut e = set.get().await.unwrap().addresses;
    e.sort();
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_blocked_once_and_unblocked_after_the_ttl() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let candidates = suspects_of(&flood("203.0.113.66", 1500));
    assert_eq!(candidates, [Candidate { ip: "203.0.113.66".parse().unwrap(), asn: None, verified_bot: false }], "the flood, and only it, is suspicious");
    let pol = policy(false, AllowList::default());
    let backoff = Duration::from_millis(5);

    let first = apply(&s.set, &s.store, &candidates, &pol, T0 + MIN, backoff).await.unwrap();
    assert_eq!(first.add, ["203.0.113.66/32"]);
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.66/32"]);
    assert_eq!(s.store.load().await.unwrap(), Blocks::from([("203.0.113.66/32".to_string(), T0 + 61 * MIN)]));

    // The same flood in the next batch: a no-op, the address is in the set once.
    let token_before = s.set.get().await.unwrap().lock_token;
    let again = apply(&s.set, &s.store, &candidates, &pol, T0 + 2 * MIN, backoff).await.unwrap();
    assert!(again.add.is_empty() && again.remove.is_empty(), "{again:?}");
    assert_eq!(s.set.get().await.unwrap().lock_token, token_before, "no UpdateIPSet");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.66/32"]);

    // Quiet, before and after the TTL.
    let before = apply(&s.set, &s.store, &[], &pol, T0 + 61 * MIN - 1, backoff).await.unwrap();
    assert!(before.remove.is_empty());
    let after = apply(&s.set, &s.store, &[], &pol, T0 + 61 * MIN, backoff).await.unwrap();
    assert_eq!(after.remove, ["203.0.113.66/32"]);
    assert_eq!(entries(&s.set).await, [OPERATORS], "the operator's entry stays");
    // The block time of the removed address goes on the next run.
    apply(&s.set, &s.store, &[], &pol, T0 + 62 * MIN, backoff).await.unwrap();
    assert!(s.store.load().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_listed_address_is_never_blocked_and_a_dry_run_changes_nothing() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let candidates = suspects_of(&flood("203.0.113.66", 1500));
    let allow = AllowList { cidrs: vec![Cidr::parse("203.0.113.0/24").unwrap()], ..AllowList::default() };
    let p = apply(&s.set, &s.store, &candidates, &policy(false, allow), T0 + MIN, Duration::from_millis(5)).await.unwrap();
    assert_eq!(p.allowed.len(), 1);
    assert_eq!(entries(&s.set).await, [OPERATORS]);

    let token = s.set.get().await.unwrap().lock_token;
    let dry = apply(&s.set, &s.store, &candidates, &policy(true, AllowList::default()), T0 + MIN, Duration::from_millis(5)).await.unwrap();
    assert_eq!(dry.would_block, ["203.0.113.66/32"]);
    assert_eq!(entries(&s.set).await, [OPERATORS]);
    assert_eq!(s.set.get().await.unwrap().lock_token, token, "no UpdateIPSet");
    assert!(s.store.load().await.unwrap().is_empty(), "no block time stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_addresses_are_blocked_as_slash_128_in_an_ipv6_set() {
    let s = setup(IpAddressVersion::Ipv6).await;
    let ip: IpAddr = "2001:db8::66".parse().unwrap();
    let v4 = Candidate { ip: "203.0.113.66".parse().unwrap(), asn: None, verified_bot: false };
    let p = apply(&s.set, &s.store, &[v4, Candidate { ip, asn: None, verified_bot: false }], &policy(false, AllowList::default()), T0, Duration::from_millis(5))
        .await
        .unwrap();
    // The IPv4 address is for the IPv4 set: an IPv6 set would refuse it (and the whole update).
    assert_eq!(p.add, ["2001:db8::66/128"]);
    assert_eq!(entries(&s.set).await, ["2001:db8::66/128"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ip_set_is_a_permanent_error() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let gone = WafIpSet { id: "00000000-0000-0000-0000-000000000000".into(), ..s.set.clone() };
    let e = apply(&gone, &s.store, &[], &policy(false, AllowList::default()), T0, Duration::from_millis(5)).await.unwrap_err();
    assert!(!e.is_transient(), "{e:?}");
    assert!(e.message.contains("WAFNonexistentItemException"), "{e:?}");
}

// ---- the Lambda path -------------------------------------------------------------------

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/cloudfront-realtime";
const DIST: &str = "d111111abcdef8.cloudfront.net";

/// The handler's clock, moved by the test.
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The real handler, configured as the template does (`extra`: the WAF variables).
async fn lambda(s: &Setup, extra: &[(&str, &str)], clock: Arc<TestClock>) -> AwsHandler {
    let url = s._moto.url();
    let schema = Schema::realtime_release(46).unwrap();
    let fields: Vec<&str> = schema.names().collect();
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CFLOG_FIELDS".to_string(), fields.join(",")),
        ("CFLOG_TABLE".to_string(), TABLE.to_string()),
        ("CFLOG_ENDPOINT_URL".to_string(), url.clone()),
        ("CFLOG_MAX_ATTEMPTS".to_string(), "3".to_string()),
        ("CFLOG_BACKOFF_MS".to_string(), "5".to_string()),
        ("CFLOG_WAF_IP_SET".to_string(), s.store.ip_set_arn.clone()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    build(&config, &sdk(&url).await).await.unwrap().with_clock(clock)
}

/// One Kinesis event of `lines`, batch `b` (sequence numbers grow from batch to batch).
fn event(b: u64, lines: &[Vec<u8>]) -> cflog_lambda::handler::KinesisEvent {
    let records: Vec<(String, String, Vec<u8>)> =
        lines.iter().enumerate().map(|(i, l)| ("shardId-000000000000".to_string(), format!("4959{:016}{:06}", b, i), l.clone())).collect();
    kinesis_event(STREAM_ARN, &records)
}

/// The Sum of a metric of ours (`dims`) over two hours from `from_ms`, as moto's CloudWatch has it.
async fn metric_sum(s: &Setup, name: &str, dims: &[(&str, &str)], from_ms: i64) -> f64 {
    let cw = aws_sdk_cloudwatch::Client::new(&sdk(&s._moto.url()).await);
    let mut req = cw
        .get_metric_statistics()
        .namespace("CloudFront/RealTime")
        .metric_name(name)
        .start_time(DateTime::from_millis(from_ms))
        .end_time(DateTime::from_millis(from_ms + 7_200_000))
        .period(60)
        .statistics(Statistic::Sum);
    for (n, v) in dims {
        req = req.dimensions(Dimension::builder().name(*n).value(*v).build());
    }
    req.send().await.unwrap().datapoints().iter().map(|d| d.sum().unwrap()).sum()
}

/// The start of the minute five minutes ago: CloudWatch takes the metrics of its windows.
fn recent_minute() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    now - now % MIN - 5 * MIN
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_blocks_a_flood_once_never_an_allow_listed_one_and_unblocks_after_the_ttl() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let t0 = recent_minute();
    let clock = Arc::new(TestClock(AtomicI64::new(t0 + MIN)));
    let allow = [
        ("CFLOG_WAF_DRY_RUN", "false"),
        ("CFLOG_WAF_TTL_MINUTES", "60"),
        ("CFLOG_WAF_ALLOW_CIDRS", "198.18.0.0/15"),
        ("CFLOG_WAF_ALLOW_ASNS", "64500"),
    ];
    let h = lambda(&s, &allow, clock.clone()).await;
    // Three floods: one to block, one from an allow-listed network, one from an allow-listed AS.
    let lines = flood_at(t0, &[("203.0.113.66", 1500, "-"), ("198.18.0.7", 1500, "-"), ("192.0.2.200", 1500, "64500")]);

    let (response, stats) = h.handle_kinesis(event(1, &lines)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((stats.waf.blocked, stats.waf.allowed, stats.waf.errors), (1, 2, 0), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.66/32"]);
    assert_eq!(s.store.load().await.unwrap(), Blocks::from([("203.0.113.66/32".to_string(), t0 + 61 * MIN)]));
    assert_eq!(metric_sum(&s, "WafBlocked", &[("Distribution", DIST)], t0).await, 1.0);
    assert_eq!(metric_sum(&s, "WouldBlock", &[("Distribution", DIST)], t0).await, 0.0);

    // The flood goes on in the next batch: no second entry, no UpdateIPSet.
    clock.0.store(t0 + 2 * MIN, Ordering::SeqCst);
    let token = s.set.get().await.unwrap().lock_token;
    let (response, stats) = h.handle_kinesis(event(2, &lines)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((stats.waf.blocked, stats.waf.unblocked), (0, 0), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.66/32"]);
    assert_eq!(s.set.get().await.unwrap().lock_token, token, "no UpdateIPSet");

    // Quiet traffic: just before the TTL the block stays; at the TTL it goes.
    let quiet = flood_at(t0, &[]);
    clock.0.store(t0 + 61 * MIN - 1, Ordering::SeqCst);
    let (_, stats) = h.handle_kinesis(event(3, &quiet)).await;
    assert_eq!(stats.waf.unblocked, 0, "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.66/32"]);
    clock.0.store(t0 + 62 * MIN, Ordering::SeqCst);
    let (response, stats) = h.handle_kinesis(event(4, &quiet)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(stats.waf.unblocked, 1, "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS], "unblocked; the operator's entry stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_dry_runs_by_default_and_counts_would_block() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let t0 = recent_minute();
    let clock = Arc::new(TestClock(AtomicI64::new(t0 + MIN)));
    let h = lambda(&s, &[], clock.clone()).await;
    let token = s.set.get().await.unwrap().lock_token;
    let (response, stats) = h.handle_kinesis(event(1, &flood_at(t0, &[("203.0.113.66", 1500, "-")]))).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((stats.waf.would_block, stats.waf.blocked), (1, 0), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS], "the set is unchanged");
    assert_eq!(s.set.get().await.unwrap().lock_token, token, "no UpdateIPSet");
    assert!(s.store.load().await.unwrap().is_empty(), "no block time stored");
    assert_eq!(metric_sum(&s, "WouldBlock", &[("Distribution", DIST)], t0).await, 1.0);
    assert_eq!(metric_sum(&s, "WafBlocked", &[("Distribution", DIST)], t0).await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waf_failure_neither_fails_the_batch_nor_loses_its_rollups() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let t0 = recent_minute();
    let clock = Arc::new(TestClock(AtomicI64::new(t0 + MIN)));
    // An IP set that does not exist (deleted, or the wrong ARN): a permanent error.
    let mut gone = s.store.ip_set_arn.clone();
    gone.replace_range(gone.rfind('/').unwrap() + 1.., "00000000-0000-0000-0000-000000000000");
    let h = lambda(&s, &[("CFLOG_WAF_IP_SET", &gone), ("CFLOG_WAF_DRY_RUN", "false")], clock.clone()).await;
    let lines = flood_at(t0, &[("203.0.113.66", 1500, "-")]);
    let (response, stats) = h.handle_kinesis(event(1, &lines)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((stats.waf.errors, stats.waf.blocked), (1, 0), "{stats:?}");
    assert_eq!(stats.rollup_items, 1, "{stats:?}");
    let rollups: u64 = scan(&sdk(&s._moto.url()).await, TABLE).await.iter().map(|i| num(i, "records")).sum();
    assert_eq!(rollups, lines.len() as u64, "every record is in the rollups");
    assert_eq!(metric_sum(&s, "WafErrors", &[], t0).await, 1.0);
    assert_eq!(entries(&s.set).await, [OPERATORS]);
}

/// Googlebot's desktop user agent as a real-time log has it (percent-encoded).
const GOOGLEBOT: &str = "Mozilla/5.0%20(compatible;%20Googlebot/2.1;%20+http://www.google.com/bot.html)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_googlebot_flood_from_googles_as_is_never_blocked_one_from_another_as_is() {
    let s = setup(IpAddressVersion::Ipv4).await;
    let t0 = recent_minute();
    let clock = Arc::new(TestClock(AtomicI64::new(t0 + MIN)));
    // Verified bots are allow-listed by default; no ASN allow-list.
    let h = lambda(&s, &[("CFLOG_WAF_DRY_RUN", "false")], clock.clone()).await;
    // The same user agent: from Google's AS15169, and from AS16509 (a spoofer on a cloud VM).
    let lines = flood_as(t0, &[("66.249.66.1", 1500, "15169", GOOGLEBOT), ("203.0.113.77", 1500, "16509", GOOGLEBOT)]);
    let (response, stats) = h.handle_kinesis(event(1, &lines)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((stats.waf.blocked, stats.waf.allowed, stats.waf.errors), (1, 1, 0), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.77/32"], "the spoofer only");

    // The crawler goes on in the next batches: still never blocked.
    clock.0.store(t0 + 2 * MIN, Ordering::SeqCst);
    let (_, stats) = h.handle_kinesis(event(2, &lines)).await;
    assert_eq!((stats.waf.blocked, stats.waf.allowed), (0, 1), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.77/32"]);

    // With verified bots no longer allow-listed, the same crawler is blocked like anyone.
    let strict = lambda(&s, &[("CFLOG_WAF_DRY_RUN", "false"), ("CFLOG_WAF_ALLOW_VERIFIED_BOTS", "false")], clock.clone()).await;
    let (_, stats) = strict.handle_kinesis(event(3, &lines)).await;
    assert_eq!((stats.waf.blocked, stats.waf.allowed), (1, 0), "{stats:?}");
    assert_eq!(entries(&s.set).await, [OPERATORS, "203.0.113.77/32", "66.249.66.1/32"]);
}
