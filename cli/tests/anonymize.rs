//! `--anonymize-ip` through the real `cflog` binary: the top clients are /24 and /48
//! networks with the counts the generated lines give when grouped that way here, unique
//! viewers are what the exact addresses give, and `parse` prints truncated addresses.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::{Command, Output};

use cflog_testkit::scratch::Scratch;
use serde_json::Value;

const FIELDS: &str = "timestamp,c-ip,sc-status,x-forwarded-for";

fn cflog(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).output().expect("run cflog");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The network of an address, computed here from the prefix lengths: /24 for IPv4, /48
/// (three 16-bit groups) for IPv6.
fn network(ip: &str) -> String {
    match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
    }
}

#[test]
fn reports_and_parse_output_show_networks() {
    let dir = Scratch::new("anon");
    let file = dir.join("rt.log").display().to_string();
    cflog(&["gen", "--format", "realtime", "--fields", FIELDS, "--lines", "5000", "--seed", "8", "-o", &file]);
    // Addresses that share a network, next to the generated ones (which rarely do).
    let mut text = std::fs::read_to_string(&file).unwrap();
    for ip in ["203.0.113.5", "203.0.113.77", "203.0.113.200", "2001:db8:1:2::1", "2001:db8:1:3::9", "2001:db8:1::"] {
        text.push_str(&format!("1793491200.000\t{ip}\t200\t-\n"));
    }
    std::fs::write(&file, &text).unwrap();
    let ips: Vec<&str> = text.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    let mut by_network = BTreeMap::<String, u64>::new();
    for ip in &ips {
        *by_network.entry(network(ip)).or_default() += 1;
    }
    assert!(ips.iter().any(|ip| ip.contains(':')) && ips.iter().any(|ip| ip.contains('.')), "both families");
    assert!(by_network.len() < ips.iter().collect::<std::collections::BTreeSet<_>>().len(), "some addresses share a network");

    let report = |extra: &[&str]| -> Value {
        let out = cflog(&[&["analyze", "--json", "--no-progress", "--fields", FIELDS, "--top", "100000", "--top-capacity", "100000"][..], extra, &[&file]].concat());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let plain = report(&[]);
    let anon = report(&["--anonymize-ip"]);
    let top: BTreeMap<String, u64> =
        anon["top"]["client_ip"].as_array().unwrap().iter().map(|e| (e["key"].as_str().unwrap().to_string(), e["count"].as_u64().unwrap())).collect();
    assert_eq!(top, by_network);
    assert_eq!(anon["unique_viewers"], plain["unique_viewers"]);
    assert_eq!(anon["records"], plain["records"]);
    // The anonymised report's state merges like any other and keeps the networks.
    let saved = dir.join("anon.json");
    std::fs::write(&saved, serde_json::to_vec(&anon).unwrap()).unwrap();
    let merged: Value = serde_json::from_slice(&cflog(&["merge", "--json", "--top", "100000", saved.to_str().unwrap()]).stdout).unwrap();
    assert_eq!(merged["top"]["client_ip"], anon["top"]["client_ip"]);

    let parsed = cflog(&["parse", "--fields", FIELDS, "--anonymize-ip", &file]);
    let docs: Vec<Value> = parsed.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    assert_eq!(docs.len(), ips.len());
    for (doc, ip) in docs.iter().zip(&ips) {
        assert_eq!(doc["c-ip"].as_str().unwrap(), network(ip));
        if let Some(xff) = doc["x-forwarded-for"].as_str() {
            for part in xff.split(',') {
                let part = part.trim();
                if let Ok(addr) = part.parse::<IpAddr>() {
                    assert_eq!(part, network(&addr.to_string()), "{xff}");
                }
            }
        }
    }
    let parsed_plain = cflog(&["parse", "--fields", FIELDS, &file]);
    let first: Value = serde_json::from_slice(parsed_plain.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["c-ip"].as_str().unwrap(), ips[0]);
}
