//! `cflog top --stream` against a real moto server, fed by `cflog replay`: the plain
//! snapshots count every record replayed, across shards; `--from
//! oldest` reads what the stream already holds; a missing stream is a clear error.
#![cfg(feature = "aws")]

mod common;

use std::process::Command;

use aws_sdk_kinesis::config::{BehaviorVersion, Credentials, Region};
use common::live::Live;
use common::tmp_dir;
use common::moto::{self, Moto};

fn cflog(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).envs(Moto::env()).output().unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn kinesis(moto: &Moto) -> aws_sdk_kinesis::Client {
    let config = aws_sdk_kinesis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .build();
    aws_sdk_kinesis::Client::from_conf(config)
}

fn create_stream(moto: &Moto, name: &str, shards: i32) {
    rt().block_on(kinesis(moto).create_stream().stream_name(name).shard_count(shards).send()).unwrap();
}

/// A real-time log of `lines` records (the 46-field layout) whose times end about now.
fn realtime_log(dir: &std::path::Path, name: &str, lines: u64, seed: u64) -> String {
    let path = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(["gen", "--format", "realtime", "--lines", &lines.to_string(), "--seed", &seed.to_string(), "--start", "now-1m"])
        .args(["-o", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count() as u64, lines);
    path.to_str().unwrap().to_string()
}

fn replay(moto: &Moto, stream: &str, file: &str) {
    let out = cflog(&["replay", "--stream", stream, "--endpoint-url", &moto.url(), file]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn snapshots_count_every_record_replayed_across_shards() {
    let moto = moto::start();
    let dir = tmp_dir("live");
    create_stream(&moto, "live", 2);
    let url = moto.url();
    let mut top = Live::start(
        &["top", "--stream", "live", "--endpoint-url", &url, "--plain", "--interval", "0.3", "--window", "1d"],
        &Moto::env(),
    );
    // Iterators at LATEST are in place once the source says how many shards it reads.
    top.wait_for("both shards open", |l| l.contains("stream live · 2 shards open"));
    replay(&moto, "live", &realtime_log(&dir, "a.log", 700, 1));
    let total = top.wait_for_total(700);
    assert!(total.contains(" 0 bad lines"), "{total}");

    // More records into a stream the view has been reading for a while.
    replay(&moto, "live", &realtime_log(&dir, "b.log", 300, 2));
    top.wait_for_total(1000);
    // Not tested here: following a split or merge. moto keeps routing records to a split
    // shard's closed parent (its shard lookup includes closed shards) and never ends a
    // closed shard's iterator, so it cannot show what AWS does; the order in which children
    // start is unit-tested in top::kinesis.
}

#[test]
fn from_oldest_reads_what_the_stream_holds() {
    let moto = moto::start();
    let dir = tmp_dir("oldest");
    create_stream(&moto, "held", 3);
    replay(&moto, "held", &realtime_log(&dir, "a.log", 450, 3));
    let url = moto.url();
    let mut top = Live::start(
        &["top", "--stream", "held", "--endpoint-url", &url, "--from", "oldest", "--plain", "--interval", "0.3", "--window", "1d"],
        &Moto::env(),
    );
    let total = top.wait_for_total(450);
    assert!(total.contains(" 0 bad lines"), "{total}");
    // The window holds them all, and their rate is over the seconds they span.
    top.wait_for("the window count", |l| l.starts_with("in window: 450 records"));
}

#[test]
fn a_missing_stream_is_an_error_naming_it() {
    let moto = moto::start();
    let out = cflog(&["top", "--stream", "nope", "--endpoint-url", &moto.url(), "--plain"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stream nope") && err.contains("ResourceNotFound"), "{err}");
}
