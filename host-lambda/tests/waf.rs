//! The WAF sink against a real moto server (WAFv2 `CreateIPSet`, `GetIPSet`, `UpdateIPSet`
//! with lock tokens, and DynamoDB for the block times): a flood from one address, judged by
//! `cflog_core::suspicious` on real-time lines, gets it blocked once (not twice), and
//! unblocked once the TTL has passed (the clock is the `now_ms` argument); an allow-listed
//! address never; a dry run changes nothing; the operator's own entries are never touched.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use aws_sdk_wafv2::types::{IpAddressVersion, Scope};
use cflog_core::Schema;
use cflog_core::suspicious::{SuspectThresholds, judge};
use cflog_lambda::waf::{AllowList, Blocks, BlockStore, Candidate, Cidr, IpSet, WafPolicy, apply, candidates_of};
use cflog_lambda::waf_aws::{DynamoBlocks, WafIpSet};
use common::*;

const TABLE: &str = "cflog-rollups";
const MIN: i64 = 60_000;
const T0: i64 = 1_793_491_200_000; // 2026-11-01T00:00:00Z
const OPERATORS: &str = "192.0.2.1/32";

/// `n` requests of `ip` and one each of 50 quiet clients, in the minute from `T0`.
fn flood(ip: &str, n: usize) -> Vec<Vec<u8>> {
    let schema = Schema::realtime_release(46).unwrap();
    let names: Vec<&str> = schema.names().collect();
    let line = |k: usize, ip: &str| {
        let values: Vec<String> = names
            .iter()
            .map(|n| match *n {
                "timestamp" => format!("{}.{:03}", (T0 + k as i64) / 1000, (T0 + k as i64) % 1000),
                "c-ip" => ip.to_string(),
                "sc-status" => "200".into(),
                "x-host-header" => "d111111abcdef8.cloudfront.net".into(),
                _ => "-".into(),
            })
            .collect();
        format!("{}\n", values.join("\t")).into_bytes()
    };
    let mut out: Vec<Vec<u8>> = (0..n).map(|k| line(k, ip)).collect();
    out.extend((0..50).map(|k| line(k, &format!("198.51.100.{k}"))));
    out
}

fn suspects_of(lines: &[Vec<u8>]) -> Vec<Candidate> {
    let summary = analyze_summary(lines, &Schema::realtime_release(46).unwrap());
    candidates_of(&judge(&summary, &SuspectThresholds::default()), |_| None)
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
