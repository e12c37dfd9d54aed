//! `CFLOG_ANONYMIZE_IP=true`: the enriched records carry viewer addresses truncated to
//! their /24 (IPv4) or /48 (IPv6) network; the expected texts are written by hand.

use cflog_core::Schema;
use cflog_core::summary::SummaryOptions;
use cflog_lambda::config::Config;
use cflog_lambda::process::{ExtraDimensions, InRecord, Processor};
use serde_json::Value;

fn enriched(anonymize_ip: bool) -> Vec<Value> {
    let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status", "x-forwarded-for"]).unwrap();
    let options = SummaryOptions { anonymize_ip, ..SummaryOptions::default() };
    let mut processor = Processor::new(schema, options, ExtraDimensions::default());
    let lines = [
        "1793491200.000\t203.0.113.77\t200\t198.51.100.9,%20203.0.113.200",
        "1793491201.000\t2001:db8:abcd:12:1:2:3:4\t404\t-",
        "1793491202.000\t::ffff:198.51.100.23\t200\tunknown,%202001:db8::1",
    ];
    let records: Vec<InRecord> =
        lines.iter().enumerate().map(|(i, l)| InRecord { seq: format!("{:056}", i + 1), data: Ok(format!("{l}\n").into_bytes()) }).collect();
    let (mut out, mut bad) = (cflog_lambda::process::OutBatch::new(), Vec::new());
    processor.run("shardId-000000000000", &records, Some(&mut out), false, &mut bad);
    assert!(bad.is_empty());
    out.iter().map(|r| serde_json::from_slice(r.data.trim_ascii_end()).unwrap()).collect()
}

#[test]
fn enriched_records_carry_truncated_addresses() {
    let docs = enriched(true);
    let ips: Vec<&str> = docs.iter().map(|d| d["c-ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["203.0.113.0", "2001:db8:abcd::", "::ffff:198.51.100.0"]);
    assert_eq!(docs[0]["x-forwarded-for"], "198.51.100.0, 203.0.113.0");
    assert_eq!(docs[2]["x-forwarded-for"], "unknown, 2001:db8::");
    // Off by default: the addresses as logged.
    let plain = enriched(false);
    assert_eq!(plain[0]["c-ip"], "203.0.113.77");
    assert_eq!(plain[0]["x-forwarded-for"], "198.51.100.9, 203.0.113.200");
}

#[test]
fn the_variable_is_read_and_checked() {
    let config = |v: Option<&str>| {
        Config::from_lookup(|k| match k {
            "CFLOG_FIELDS" => Some("timestamp,c-ip,sc-status".into()),
            "CFLOG_ANONYMIZE_IP" => v.map(str::to_string),
            _ => None,
        })
    };
    assert!(config(Some("true")).unwrap().anonymize_ip);
    assert!(!config(None).unwrap().anonymize_ip);
    let e = config(Some("maybe")).unwrap_err().to_string();
    assert_eq!(e, "CFLOG_ANONYMIZE_IP=\"maybe\": expected true or false");
}
