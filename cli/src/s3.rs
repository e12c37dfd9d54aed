//! `s3://bucket/prefix` inputs of `parse` and `analyze` (feature `aws`): the objects under
//! each prefix are listed (ListObjectsV2), pruned by the hour in their names when a time
//! range is given, fetched with parallel GETs (at most [`S3Options::concurrency`] at once,
//! each retried with backoff when the failure is transient) into a temporary directory that
//! mirrors `bucket/key`, and read from there like any file (gzip, NDJSON, errors, all as
//! usual). The directory is removed when the returned [`Fetched`] is dropped. Region and
//! credentials come from the usual AWS chain, the endpoint from `--endpoint-url`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_s3::Client;
use cflog_lambda::aws::classify;
use cflog_lambda::sinks::RetryPolicy;

/// Whether an input argument names S3 objects.
pub fn is_s3(arg: &str) -> bool {
    arg.starts_with("s3://")
}

/// How S3 inputs are fetched.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Endpoint override (a local moto, MinIO): path-style addressing is used with it.
    pub endpoint_url: Option<String>,
    /// Keep only objects whose name dates them at or after this time (epoch ms)...
    pub since_ms: Option<i64>,
    /// ... and before this one. Objects whose names hold no date are always kept.
    pub until_ms: Option<i64>,
    /// GETs in flight at most. The default (0) is 16.
    pub concurrency: usize,
}

/// Objects fetched into a temporary directory, removed on drop.
#[derive(Debug)]
pub struct Fetched {
    /// The directory.
    pub dir: PathBuf,
    /// Objects and bytes fetched.
    pub objects: usize,
    /// Bytes fetched.
    pub bytes: u64,
    /// Objects left out by their date.
    pub pruned: usize,
}

impl Drop for Fetched {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix`).
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| anyhow!("{url}: not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        bail!("{url}: no bucket name (expected s3://BUCKET/PREFIX)");
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// The hour a standard log file covers, from its name `[prefix/]DISTID.YYYY-MM-DD-HH.ID.gz`
/// (epoch ms of the hour's start, UTC).
pub fn key_hour_ms(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next()?;
    name.split('.').find_map(|part| {
        let b = part.as_bytes();
        if b.len() != 13 || b[10] != b'-' || !b[11..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let days = cflog_core::grammar::parse_date_days(&b[..10])?;
        let hour: i64 = part[11..].parse().ok().filter(|h| *h < 24)?;
        Some((days * 24 + hour) * 3_600_000)
    })
}

/// The time a key's folders partition it into (standard logging v2's partitioning,
/// `…/{yyyy}/{MM}/{dd}/{HH}/…` or, with Hive-compatible names, `…/year=2025/month=02/day=02/hour=22/…`;
/// the hour is optional): (start, end) in epoch ms, UTC.
pub fn key_partition_ms(key: &str) -> Option<(i64, i64)> {
    let folders: Vec<&str> = key.split('/').collect();
    let folders = &folders[..folders.len().saturating_sub(1)];
    let value = |segment: &str, name: &str, width: usize| -> Option<String> {
        let v = segment.strip_prefix(name).and_then(|r| r.strip_prefix('=')).unwrap_or(segment);
        (v.len() == width && v.bytes().all(|b| b.is_ascii_digit())).then(|| v.to_string())
    };
    (0..folders.len()).find_map(|i| {
        let year = value(folders[i], "year", 4)?;
        let month = value(folders.get(i + 1)?, "month", 2)?;
        let day = value(folders.get(i + 2)?, "day", 2)?;
        let days = cflog_core::grammar::parse_date_days(format!("{year}-{month}-{day}").as_bytes())?;
        let start = days * 86_400_000;
        match folders.get(i + 3).and_then(|h| value(h, "hour", 2)).and_then(|h| h.parse::<i64>().ok()).filter(|h| *h < 24) {
            Some(h) => Some((start + h * 3_600_000, start + (h + 1) * 3_600_000)),
            None => Some((start, start + 86_400_000)),
        }
    })
}

/// Whether an object named `key` may hold records in `[since, until)`: the hour in its name
/// (CloudFront files each hold the records of the hour in their name, late ones included),
/// or else its date partition, overlaps the range; or its key has no date.
pub fn may_hold(key: &str, since_ms: Option<i64>, until_ms: Option<i64>) -> bool {
    let range = key_hour_ms(key).map(|h| (h, h + 3_600_000)).or_else(|| key_partition_ms(key));
    match range {
        None => true,
        Some((start, end)) => since_ms.is_none_or(|s| end > s) && until_ms.is_none_or(|u| start < u),
    }
}

/// Replaces every `s3://` entry in each of `lists` (the FILE arguments, the `--files-from`
/// list) by the local copies of its objects, in key order. `None` (and the lists unchanged)
/// when there is none.
pub fn fetch_inputs(lists: &mut [&mut Vec<String>], options: &S3Options) -> Result<Option<Fetched>> {
    if !lists.iter().any(|args| args.iter().any(|a| is_s3(a))) {
        return Ok(None);
    }
    let dir = std::env::temp_dir().join(format!("cflog-s3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut fetched = Fetched { dir, objects: 0, bytes: 0, pruned: 0 };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    rt.block_on(async {
        let client = client(options).await?;
        for args in lists.iter_mut() {
            let mut out = Vec::new();
            for arg in args.iter() {
                if !is_s3(arg) {
                    out.push(arg.clone());
                    continue;
                }
                let (bucket, prefix) = parse_url(arg)?;
                let keys = list(&client, &bucket, &prefix).await.with_context(|| format!("{arg}: cannot list the objects"))?;
                let listed = keys.len();
                let keys: Vec<String> = keys.into_iter().filter(|k| may_hold(k, options.since_ms, options.until_ms)).collect();
                fetched.pruned += listed - keys.len();
                if listed == 0 {
                    bail!("{arg}: no objects under this prefix");
                }
                let paths = get_all(&client, &bucket, &keys, &fetched.dir, options.concurrency, &mut fetched.bytes).await?;
                fetched.objects += paths.len();
                out.extend(paths.into_iter().map(|p| p.to_string_lossy().into_owned()));
            }
            **args = out;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    eprintln!(
        "cflog: fetched {} S3 object(s), {} bytes{}",
        fetched.objects,
        fetched.bytes,
        if fetched.pruned > 0 { format!("; {} left out by the date in their name", fetched.pruned) } else { String::new() }
    );
    Ok(Some(fetched))
}

async fn client(options: &S3Options) -> Result<Client> {
    let sdk = cflog_lambda::runtime::sdk_config(options.endpoint_url.as_deref()).await;
    if sdk.region().is_none() {
        bail!("no AWS region: set AWS_REGION (or a profile's region)");
    }
    // A custom endpoint rarely serves virtual-hosted buckets (bucket.host).
    let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(options.endpoint_url.is_some()).build();
    Ok(Client::from_conf(config))
}

fn policy() -> RetryPolicy {
    RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(5) }
}

/// Every key under `prefix`, in key order (folder markers left out).
async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = policy()
            .run("ListObjectsV2", || {
                let req = client.list_objects_v2().bucket(bucket).prefix(prefix).set_continuation_token(token.clone());
                async move { req.send().await.map_err(classify) }
            })
            .await?;
        keys.extend(page.contents().iter().filter_map(|o| o.key()).filter(|k| !k.ends_with('/')).map(str::to_string));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    keys.sort();
    Ok(keys)
}

/// Fetches `keys` with at most `concurrency` GETs at once; returns the local paths in the
/// order of `keys`.
async fn get_all(client: &Client, bucket: &str, keys: &[String], dir: &Path, concurrency: usize, bytes: &mut u64) -> Result<Vec<PathBuf>> {
    let limit = if concurrency == 0 { 16 } else { concurrency };
    let mut tasks = tokio::task::JoinSet::new();
    let mut paths = vec![PathBuf::new(); keys.len()];
    let mut next = 0;
    while next < keys.len() || !tasks.is_empty() {
        while next < keys.len() && tasks.len() < limit {
            let (client, bucket, key) = (client.clone(), bucket.to_string(), keys[next].clone());
            let path = dir.join(&bucket).join(&key);
            let index = next;
            tasks.spawn(async move { (index, get_one(&client, &bucket, &key, &path).await.map(|n| (path, n))) });
            next += 1;
        }
        let Some(done) = tasks.join_next().await else { break };
        let (index, result) = done.context("a download task failed")?;
        let (path, n) = result?;
        *bytes += n;
        paths[index] = path;
    }
    Ok(paths)
}

async fn get_one(client: &Client, bucket: &str, key: &str, path: &Path) -> Result<u64> {
    let data = policy()
        .run("GetObject", || {
            let req = client.get_object().bucket(bucket).key(key);
            async move {
                let out = req.send().await.map_err(classify)?;
                // A connection cut mid-body is worth another try.
                out.body.collect().await.map(|b| b.into_bytes()).map_err(|e| cflog_lambda::ports::SinkError::transient(e.to_string()))
            }
        })
        .await
        .with_context(|| format!("s3://{bucket}/{key}: cannot fetch"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, &data).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_from_standard_log_names() {
        // AWS's example name: EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz, 2019-11-14T20:00Z.
        assert_eq!(key_hour_ms("logs/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz"), Some(1_573_761_600_000));
        assert_eq!(key_hour_ms("E2.2025-02-02-22.a1b2c3d4.gz"), Some(1_738_533_600_000));
        assert_eq!(key_hour_ms("notes/readme.txt"), None);
        assert_eq!(key_hour_ms("E2.2025-13-02-22.x.gz"), None);
        assert_eq!(key_hour_ms("2025-02-02-22/E2.x.gz"), None);
    }

    #[test]
    fn pruning_keeps_hours_that_overlap() {
        let key = "E.2019-11-14-20.X.gz"; // 20:00-21:00
        let h = 1_573_761_600_000;
        assert!(may_hold(key, None, None));
        assert!(may_hold(key, Some(h + 3_599_999), None));
        assert!(!may_hold(key, Some(h + 3_600_000), None));
        assert!(may_hold(key, None, Some(h + 1)));
        assert!(!may_hold(key, None, Some(h)));
        assert!(may_hold("undated.log", Some(h), Some(h)));
    }

    #[test]
    fn partitions_of_v2_keys() {
        // 2025-02-02T22:00Z = 1738533600000 (the name test above).
        let h22 = 1_738_533_600_000;
        let day = h22 - 22 * 3_600_000;
        assert_eq!(key_partition_ms("AWSLogs/1/CloudFront/DistributionId=E2/year=2025/month=02/day=02/hour=22/x.parquet"), Some((h22, h22 + 3_600_000)));
        assert_eq!(key_partition_ms("AWSLogs/1/CloudFront/E2/2025/02/02/22/x.gz"), Some((h22, h22 + 3_600_000)));
        assert_eq!(key_partition_ms("logs/year=2025/month=02/day=02/x.gz"), Some((day, day + 86_400_000)));
        assert_eq!(key_partition_ms("year=2025/month=02/day=02"), None, "the last segment is the object's name");
        assert_eq!(key_partition_ms("logs/2025/13/02/x.gz"), None);
        assert_eq!(key_partition_ms("logs/x.gz"), None);
        assert!(!may_hold("p/year=2025/month=02/day=02/hour=21/x.gz", Some(h22), None));
        assert!(may_hold("p/year=2025/month=02/day=02/x.gz", Some(h22), Some(h22 + 1)));
    }

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://b/p/q/").unwrap(), ("b".into(), "p/q/".into()));
        assert_eq!(parse_url("s3://b").unwrap(), ("b".into(), "".into()));
        assert!(parse_url("s3:///x").is_err());
    }
}
