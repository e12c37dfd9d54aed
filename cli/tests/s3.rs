//! `s3://` inputs against a real moto S3: `analyze` and `parse` of a prefix give exactly
//! what they give for the same files on disk; folder markers and other prefixes are not
//! read; a missing bucket or an empty prefix is a clear error.
#![cfg(feature = "aws")]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use cflog_testkit::scratch::Scratch;
use common::moto::{self, Moto};

fn cflog(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cflog")).args(args).envs(Moto::env()).output().unwrap()
}

fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.url())
        .force_path_style(true)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

/// The bucket `logs` with three standard log files under `cf/` as CloudFront names them,
/// a folder marker, and an unrelated object under another prefix; and the same three files
/// on disk, in key order.
fn setup(moto: &Moto, dir: &Path) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = s3(moto);
    let objects = [
        ("cf/E2EXAMPLE.2019-12-04-21.A1B2C3D4.gz", gzip(&fixture("standard/aws-doc-2019-33col.log"))),
        ("cf/E2EXAMPLE.2019-12-04-22.E5F6A7B8.gz", gzip(&fixture("standard/concatenated-mixed.log"))),
        ("cf/E2EXAMPLE.2019-12-05-00.C9D0E1F2.gz", gzip(&fixture("standard/aws-doc-2014-26col.log"))),
    ];
    rt.block_on(async {
        client.create_bucket().bucket("logs").send().await.unwrap();
        for (key, body) in &objects {
            client.put_object().bucket("logs").key(*key).body(ByteStream::from(body.clone())).send().await.unwrap();
        }
        client.put_object().bucket("logs").key("cf/").body(ByteStream::from_static(b"")).send().await.unwrap();
        client.put_object().bucket("logs").key("other/notes.txt").body(ByteStream::from_static(b"not a log")).send().await.unwrap();
    });
    objects
        .iter()
        .map(|(key, body)| {
            let path = dir.join(key.replace('/', "_"));
            std::fs::write(&path, body).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn analyze_and_parse_of_a_prefix_equal_the_local_files() {
    let moto = moto::start();
    let dir = Scratch::new("s3-same");
    let local = setup(&moto, &dir);
    let url = moto.url();
    let mut args = vec!["analyze", "--json", "--threads", "1"];
    let remote = cflog(&[&args[..], &["--endpoint-url", &url, "s3://logs/cf/"]].concat());
    assert!(remote.status.success(), "{}", String::from_utf8_lossy(&remote.stderr));
    let stderr = String::from_utf8_lossy(&remote.stderr);
    assert!(stderr.contains("fetched 3 S3 object(s)"), "{stderr}");
    args.extend(local.iter().map(String::as_str));
    let on_disk = cflog(&args);
    assert!(on_disk.status.success());
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_slice(&remote.stdout).unwrap(), serde_json::from_slice(&on_disk.stdout).unwrap());
    assert!(a["records"].as_u64().unwrap() > 0);
    assert_eq!(a, b);

    let remote = cflog(&["parse", "--endpoint-url", &url, "s3://logs/cf/"]);
    assert!(remote.status.success(), "{}", String::from_utf8_lossy(&remote.stderr));
    let on_disk = cflog(&[&["parse"][..], &local.iter().map(String::as_str).collect::<Vec<_>>()].concat());
    assert_eq!(String::from_utf8(remote.stdout).unwrap(), String::from_utf8(on_disk.stdout).unwrap());
}

#[test]
fn missing_bucket_and_empty_prefix_are_errors() {
    let moto = moto::start();
    let dir = Scratch::new("s3-errors");
    setup(&moto, &dir);
    let url = moto.url();
    let out = cflog(&["analyze", "--endpoint-url", &url, "s3://no-such-bucket/cf/"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s3://no-such-bucket/cf/") && err.contains("NoSuchBucket"), "{err}");
    let out = cflog(&["analyze", "--endpoint-url", &url, "s3://logs/nothing-here/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no objects under this prefix"), "{out:?}");
}

/// Puts `objects` (key, body) into a new bucket.
fn put_all(moto: &Moto, bucket: &str, objects: &[(&str, Vec<u8>)]) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = s3(moto);
    rt.block_on(async {
        client.create_bucket().bucket(bucket).send().await.unwrap();
        for (key, body) in objects {
            client.put_object().bucket(bucket).key(*key).body(ByteStream::from(body.clone())).send().await.unwrap();
        }
    });
}

/// The v2 W3C fixture's header and the records whose `time` starts with `hour`.
fn v2_records_of_hour(hour: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture("standard/v2-w3c-41col.log")).unwrap();
    let mut out: String = text.lines().filter(|l| l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    out.extend(text.lines().filter(|l| l.split('\t').nth(3).is_some_and(|t| t.starts_with(hour))).map(|l| format!("{l}\n")));
    out.into_bytes()
}

#[test]
fn since_and_until_prune_objects_by_the_dates_in_their_keys_before_fetching() {
    let moto = moto::start();
    // A gzip header and nothing else: reading it fails the run ("truncated gzip"), so an
    // object like this that was fetched would show.
    let corrupt = gzip(b"2025-02-02\t00:00:00\n")[..12].to_vec();
    let (h22, h23) = (v2_records_of_hour("22:"), v2_records_of_hour("23:"));
    put_all(
        &moto,
        "v2logs",
        &[
            // Legacy names, hour in the name.
            ("cf/E2EXAMPLE.2025-02-02-22.A1B2C3D4.gz", gzip(&h22)),
            ("cf/E2EXAMPLE.2025-02-02-21.0BAD0BAD.gz", corrupt.clone()),
            ("cf/E2EXAMPLE.2025-02-03-00.0BAD0BAD.gz", corrupt.clone()),
            // Hive-compatible partitions, names without a date.
            ("hive/DistributionId=E2EXAMPLE/year=2025/month=02/day=02/hour=23/part-0001.gz", gzip(&h23)),
            ("hive/DistributionId=E2EXAMPLE/year=2025/month=02/day=03/hour=00/part-0002.gz", corrupt.clone()),
            ("hive/DistributionId=E2EXAMPLE/year=2025/month=01/day=31/hour=22/part-0003.gz", corrupt.clone()),
            ("hive/DistributionId=E2EXAMPLE/year=2025/month=02/day=01/part-0004.gz", corrupt.clone()),
        ],
    );
    let url = moto.url();
    let window = ["--since", "2025-02-02T22:00:00Z", "--until", "2025-02-03T00:00:00Z"];
    // The fixture's 6 records all lie in the window: 4 at 22:xx, 2 at 23:xx.
    let local = cflog(&[&["analyze", "--json"][..], &window, &[&format!("{}/../tests/fixtures/standard/v2-w3c-41col.log", env!("CARGO_MANIFEST_DIR"))]].concat());
    let local: serde_json::Value = serde_json::from_slice(&local.stdout).unwrap();
    assert_eq!(local["records"], 6);
    for prefixes in [&["s3://v2logs/"][..], &["s3://v2logs/cf/", "s3://v2logs/hive/"]] {
        let out = cflog(&[&["analyze", "--json", "--endpoint-url", &url][..], &window, prefixes].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{prefixes:?}: {err}");
        assert!(err.contains("fetched 2 S3 object(s)") && err.contains("5 left out by the date in their name"), "{err}");
        let remote: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(remote, local, "{prefixes:?}");
    }
    // `parse` prunes the same way: the 6 records, nothing else.
    let out = cflog(&[&["parse", "--endpoint-url", &url][..], &window, &["s3://v2logs/"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 6);
    // Without the window every object is fetched, and the corrupt ones fail the run.
    let out = cflog(&["analyze", "--json", "--endpoint-url", &url, "s3://v2logs/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated gzip"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn files_from_mixes_s3_prefixes_and_local_paths() {
    let moto = moto::start();
    let dir = Scratch::new("s3-files-from");
    let local = setup(&moto, &dir);
    let url = moto.url();
    // The same three files: the first two from S3 (a prefix that holds only them), the third
    // from disk; and the v2 fixture from disk.
    let v2 = format!("{}/../tests/fixtures/standard/v2-w3c-41col.log", env!("CARGO_MANIFEST_DIR"));
    let list = format!("s3://logs/cf/E2EXAMPLE.2019-12-04-\n{}\n\n{v2}\n", local[2]);
    let list_file = dir.join("list.txt");
    std::fs::write(&list_file, &list).unwrap();
    let mut expected_args = vec!["analyze", "--json"];
    expected_args.extend(local.iter().map(String::as_str));
    expected_args.push(&v2);
    let expected: serde_json::Value = serde_json::from_slice(&cflog(&expected_args).stdout).unwrap();
    assert!(expected["records"].as_u64().unwrap() > 6);
    let from_file = cflog(&["analyze", "--json", "--endpoint-url", &url, "--files-from", list_file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&from_file.stderr);
    assert!(from_file.status.success() && err.contains("fetched 2 S3 object(s)"), "{err}");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&from_file.stdout).unwrap(), expected);
    // From stdin, with an s3:// FILE argument too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_cflog"))
        .args(["analyze", "--json", "--endpoint-url", &url, "--files-from", "-", "s3://logs/cf/E2EXAMPLE.2019-12-05-"])
        .envs(Moto::env())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("s3://logs/cf/E2EXAMPLE.2019-12-04-\n{v2}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("fetched 3 S3 object(s)"), "{err}");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(), expected);
    // `parse` too.
    let parsed = cflog(&["parse", "--endpoint-url", &url, "--files-from", list_file.to_str().unwrap()]);
    let mut parse_args = vec!["parse"];
    parse_args.extend(local.iter().map(String::as_str));
    parse_args.push(&v2);
    assert!(parsed.status.success());
    assert_eq!(parsed.stdout, cflog(&parse_args).stdout);
    // A missing prefix in the list is an error naming it.
    std::fs::write(&list_file, format!("{}\ns3://logs/nothing-here/\n", local[0])).unwrap();
    let out = cflog(&["analyze", "--endpoint-url", &url, "--files-from", list_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("s3://logs/nothing-here/: no objects under this prefix"), "{out:?}");
}
