//! `cflog top --stream` (feature `aws`): every shard of a Kinesis stream read directly, no
//! Lambda. ListShards, then GetShardIterator (LATEST, TRIM_HORIZON or AT_TIMESTAMP) and
//! GetRecords per shard at most five times a second; throttling and other transient errors
//! back off that shard alone (full jitter, as the sinks' [`RetryPolicy`]); an expired
//! iterator is renewed after the last record read. Resharding is followed: a shard that
//! ends (its iterator runs out) hands over to its children (GetRecords' `ChildShards`, or
//! ListShards when the endpoint leaves them out), and a child starts once all its parents
//! are read, so the records of one key stay in order. SDK clients are built as `replay`
//! and `consume` build them (`cflog_lambda::runtime::sdk_config`).

use std::collections::BTreeMap;
use std::sync::mpsc::SyncSender;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::error::ProvideErrorMetadata;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use cflog_lambda::aws::classify;
use cflog_lambda::sinks::RetryPolicy;

use super::Event;

/// Where reading starts (`--from`).
#[derive(Debug, Clone, PartialEq)]
pub enum StartAt {
    /// New records only (`LATEST`).
    Latest,
    /// Everything the stream holds (`TRIM_HORIZON`).
    Oldest,
    /// Records that arrived since this time (`AT_TIMESTAMP`).
    Since(SystemTime),
}

/// Parses `--from`: `latest`, `oldest`, or a time back from now (`15m`, `2h`, `90s`).
pub fn parse_start(s: &str) -> Result<StartAt, String> {
    match s.trim() {
        "latest" | "now" => Ok(StartAt::Latest),
        "oldest" | "start" | "trim-horizon" => Ok(StartAt::Oldest),
        t => {
            let ms = crate::cmd_analyze::parse_window(t)
                .map_err(|_| format!("{s:?}: expected latest, oldest, or a time back from now such as 15m or 2h"))?;
            Ok(StartAt::Since(SystemTime::now() - Duration::from_millis(ms)))
        }
    }
}

/// What `cflog top --stream` reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamOptions {
    /// Stream name or ARN.
    pub stream: String,
    /// Endpoint override.
    pub endpoint_url: Option<String>,
    /// Region override.
    pub region: Option<String>,
    /// Where to start.
    pub start: StartAt,
}

/// GetRecords calls a shard allows per second (AWS's limit is 5).
const POLL_BUSY: Duration = Duration::from_millis(200);
/// The wait after an empty GetRecords (AWS suggests about a second).
const POLL_IDLE: Duration = Duration::from_secs(1);
/// Records per GetRecords call (AWS's maximum).
const GET_RECORDS_LIMIT: i32 = 10_000;
/// How often the shard list is read again: to find shards no parent announced, and shards
/// closed by a reshard on endpoints whose GetRecords never ends a closed shard (moto).
const RELIST: Duration = Duration::from_secs(10);

/// Starts the thread that reads the stream and sends its records to `tx`.
pub fn spawn(options: StreamOptions, tx: SyncSender<Event>) -> Result<()> {
    std::thread::Builder::new().name("cflog-kinesis".into()).spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
            .and_then(|rt| rt.block_on(read_stream(&options, &tx)));
        if let Err(e) = result {
            let _ = tx.send(Event::Failed(e));
        }
    })?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not started: a parent is still being read.
    Waiting,
    Reading,
    /// Ended (closed and read to its end), or skipped (closed before a LATEST start).
    Done,
}

#[derive(Debug)]
struct Shard {
    parents: Vec<String>,
    state: State,
    iterator: Option<String>,
    last_sequence: Option<String>,
    next_poll: Instant,
    failures: u32,
    behind_ms: Option<i64>,
    /// ListShards gave the shard an ending sequence number.
    closed: bool,
}

impl Shard {
    fn new(parents: Vec<String>, state: State) -> Shard {
        Shard {
            parents,
            state,
            iterator: None,
            last_sequence: None,
            next_poll: Instant::now(),
            failures: 0,
            behind_ms: None,
            closed: false,
        }
    }
}

/// The waiting shards whose every parent is read to its end (or unknown: expired).
fn startable(shards: &BTreeMap<String, Shard>) -> Vec<String> {
    shards
        .iter()
        .filter(|(_, s)| s.state == State::Waiting)
        .filter(|(_, s)| s.parents.iter().all(|p| shards.get(p).is_none_or(|p| p.state == State::Done)))
        .map(|(id, _)| id.clone())
        .collect()
}

struct Reader<'a> {
    client: Client,
    options: &'a StreamOptions,
    tx: &'a SyncSender<Event>,
    policy: RetryPolicy,
}

impl Reader<'_> {
    fn is_arn(&self) -> bool {
        self.options.stream.starts_with("arn:")
    }

    fn send(&self, e: Event) -> Result<()> {
        self.tx.send(e).map_err(|_| anyhow!("the view has stopped"))
    }

    /// Every shard the stream lists: (id, parents, closed).
    async fn list_shards(&self) -> Result<Vec<(String, Vec<String>, bool)>> {
        let stream = &self.options.stream;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .policy
                .run("ListShards", || {
                    let req = self.client.list_shards();
                    let req = match &token {
                        Some(t) => req.next_token(t),
                        None if self.is_arn() => req.stream_arn(stream),
                        None => req.stream_name(stream),
                    };
                    async move { req.send().await.map_err(classify) }
                })
                .await
                .map_err(|e| anyhow!("stream {stream}: ListShards: {e}"))?;
            for s in page.shards() {
                let parents = s.parent_shard_id().into_iter().chain(s.adjacent_parent_shard_id()).map(str::to_string).collect();
                let closed = s.sequence_number_range().and_then(|r| r.ending_sequence_number()).is_some();
                out.push((s.shard_id().to_string(), parents, closed));
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(out),
            }
        }
    }

    /// An iterator for `shard`: after `after` when given, else as `kind` says.
    async fn iterator(&self, shard: &str, kind: &StartAt, after: Option<&str>) -> Result<Option<String>> {
        let stream = &self.options.stream;
        let out = self
            .policy
            .run("GetShardIterator", || {
                let req = self.client.get_shard_iterator().shard_id(shard);
                let req = if self.is_arn() { req.stream_arn(stream) } else { req.stream_name(stream) };
                let req = match (after, kind) {
                    (Some(seq), _) => {
                        req.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).starting_sequence_number(seq)
                    }
                    (None, StartAt::Latest) => req.shard_iterator_type(ShardIteratorType::Latest),
                    (None, StartAt::Oldest) => req.shard_iterator_type(ShardIteratorType::TrimHorizon),
                    (None, StartAt::Since(t)) => {
                        req.shard_iterator_type(ShardIteratorType::AtTimestamp).timestamp(DateTime::from(*t))
                    }
                };
                async move { req.send().await.map_err(classify) }
            })
            .await
            .map_err(|e| anyhow!("stream {stream}: GetShardIterator on {shard}: {e}"))?;
        Ok(out.shard_iterator().map(str::to_string))
    }
}

/// Where a shard starts once its parents are read: from its start, so nothing between the
/// parents' end and the child's start is lost (or, with `--from 15m`, from that time on).
fn child_start(start: &StartAt) -> StartAt {
    match start {
        StartAt::Since(t) => StartAt::Since(*t),
        StartAt::Latest | StartAt::Oldest => StartAt::Oldest,
    }
}

async fn read_stream(options: &StreamOptions, tx: &SyncSender<Event>) -> Result<()> {
    let sdk = cflog_lambda::runtime::sdk_config(options.endpoint_url.as_deref()).await;
    let mut config = aws_sdk_kinesis::config::Builder::from(&sdk);
    if let Some(region) = &options.region {
        config = config.region(aws_sdk_kinesis::config::Region::new(region.clone()));
    } else if sdk.region().is_none() {
        bail!("no AWS region: set AWS_REGION (or a profile's region), or pass --region");
    }
    let reader = Reader {
        client: Client::from_conf(config.build()),
        options,
        tx,
        policy: RetryPolicy { max_attempts: 6, base_delay: Duration::from_millis(200), max_delay: Duration::from_secs(5) },
    };
    let stream = &options.stream;
    let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
    for (id, parents, closed) in reader.list_shards().await? {
        // Starting at LATEST, a shard closed already has nothing new to give.
        let state = if closed && options.start == StartAt::Latest { State::Done } else { State::Waiting };
        let mut shard = Shard::new(parents, state);
        shard.closed = closed;
        shards.insert(id, shard);
    }
    if shards.is_empty() {
        bail!("stream {stream} has no shards");
    }
    // Shards present at the start begin where --from says; children of a shard that ends
    // later, from their start.
    let mut first_round = true;
    let mut listed = Instant::now();
    let mut described = String::new();
    loop {
        for id in startable(&shards) {
            let kind = if first_round { options.start.clone() } else { child_start(&options.start) };
            let iterator = reader.iterator(&id, &kind, None).await?;
            let shard = shards.get_mut(&id).expect("listed");
            shard.iterator = iterator;
            shard.state = if shard.iterator.is_some() { State::Reading } else { State::Done };
        }
        first_round = false;
        let reading = shards.values().filter(|s| s.state == State::Reading).count();
        let behind = shards.values().filter(|s| s.state == State::Reading).filter_map(|s| s.behind_ms).max();
        let description = format!(
            "stream {stream} · {reading} shard{} open{}",
            if reading == 1 { "" } else { "s" },
            behind.map_or(String::new(), |ms| format!(" · {:.1} s behind", ms as f64 / 1000.0))
        );
        if description != described {
            reader.send(Event::Source(description.clone()))?;
            described = description;
        }
        let due: Vec<String> = shards
            .iter()
            .filter(|(_, s)| s.state == State::Reading && s.next_poll <= Instant::now())
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            poll_shard(&reader, &mut shards, &id).await?;
        }
        if listed.elapsed() >= RELIST {
            listed = Instant::now();
            for (id, parents, closed) in reader.list_shards().await? {
                shards.entry(id).or_insert_with(|| Shard::new(parents, State::Waiting)).closed |= closed;
            }
        }
        let next = shards.values().filter(|s| s.state == State::Reading).map(|s| s.next_poll).min();
        let wait = next.map_or(POLL_IDLE, |t| t.saturating_duration_since(Instant::now())).min(POLL_IDLE);
        tokio::time::sleep(wait).await;
    }
}

/// One GetRecords on shard `id`.
async fn poll_shard(reader: &Reader<'_>, shards: &mut BTreeMap<String, Shard>, id: &str) -> Result<()> {
    let stream = &reader.options.stream;
    let Some(iterator) = shards[id].iterator.clone() else { return Ok(()) };
    let result = reader.client.get_records().shard_iterator(iterator).limit(GET_RECORDS_LIMIT).send().await;
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            let code = e.code().map(str::to_string);
            if code.as_deref() == Some("ExpiredIteratorException") {
                let after = shards[id].last_sequence.clone();
                let kind = child_start(&reader.options.start);
                let fresh = reader.iterator(id, &kind, after.as_deref()).await?;
                shards.get_mut(id).expect("listed").iterator = fresh;
                return Ok(());
            }
            let e = classify(e);
            if !e.is_transient() {
                bail!("stream {stream}: GetRecords on {id}: {e}");
            }
            let shard = shards.get_mut(id).expect("listed");
            shard.failures += 1;
            let delay = reader.policy.delay(shard.failures).max(POLL_BUSY);
            shard.next_poll = Instant::now() + delay;
            let what = if code.as_deref() == Some("ProvisionedThroughputExceededException") { "throttled" } else { "failed" };
            reader.send(Event::Note(format!("GetRecords on {id} {what} ({e}); retrying in {} ms", delay.as_millis())))?;
            return Ok(());
        }
    };
    let mut bytes = Vec::new();
    for r in out.records() {
        let data = r.data().as_ref();
        bytes.extend_from_slice(data);
        if !data.ends_with(b"\n") {
            bytes.push(b'\n');
        }
    }
    if !bytes.is_empty() {
        reader.send(Event::Bytes(bytes))?;
    }
    let shard = shards.get_mut(id).expect("listed");
    shard.failures = 0;
    shard.behind_ms = out.millis_behind_latest();
    if let Some(last) = out.records().last() {
        shard.last_sequence = Some(last.sequence_number().to_string());
    }
    shard.next_poll = Instant::now() + if out.records().is_empty() { POLL_IDLE } else { POLL_BUSY };
    shard.iterator = out.next_shard_iterator().map(str::to_string);
    // A closed shard has no new records: once it reads empty and not behind, it is read to
    // its end (AWS says so by ending the iterator; some endpoints never do).
    let drained = shard.closed && out.records().is_empty() && out.millis_behind_latest().unwrap_or(0) == 0;
    if shard.iterator.is_some() && !drained {
        return Ok(());
    }
    shard.iterator = None;
    // The shard is closed and read to its end: its children take over.
    shard.state = State::Done;
    let mut children: Vec<String> = Vec::new();
    for c in out.child_shards() {
        children.push(c.shard_id().to_string());
        shards.entry(c.shard_id().to_string()).or_insert_with(|| Shard::new(c.parent_shards().to_vec(), State::Waiting));
    }
    if children.is_empty() {
        for (child, parents, _) in reader.list_shards().await? {
            if parents.iter().any(|p| p == id) {
                children.push(child.clone());
            }
            shards.entry(child).or_insert_with(|| Shard::new(parents, State::Waiting));
        }
    }
    let note = if children.is_empty() {
        format!("shard {id} is closed")
    } else {
        format!("shard {id} is closed; reading its children {}", children.join(", "))
    };
    reader.send(Event::Note(note))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(parents: &[&str], state: State) -> Shard {
        Shard::new(parents.iter().map(|p| p.to_string()).collect(), state)
    }

    #[test]
    fn children_start_after_all_their_parents() {
        let mut shards = BTreeMap::new();
        shards.insert("a".to_string(), shard(&[], State::Reading));
        shards.insert("b".to_string(), shard(&[], State::Done));
        // A merge of a and b, and a split of b.
        shards.insert("ab".to_string(), shard(&["a", "b"], State::Waiting));
        shards.insert("b1".to_string(), shard(&["b"], State::Waiting));
        // A parent that expired from the stream is not waited for.
        shards.insert("x1".to_string(), shard(&["gone"], State::Waiting));
        assert_eq!(startable(&shards), ["b1", "x1"]);
        shards.get_mut("a").unwrap().state = State::Done;
        assert_eq!(startable(&shards), ["ab", "b1", "x1"]);
    }

    #[test]
    fn from_values() {
        assert_eq!(parse_start("latest"), Ok(StartAt::Latest));
        assert_eq!(parse_start("oldest"), Ok(StartAt::Oldest));
        let StartAt::Since(t) = parse_start("15m").unwrap() else { panic!("not a time") };
        let ago = SystemTime::now().duration_since(t).unwrap();
        assert!(ago >= Duration::from_secs(900) && ago < Duration::from_secs(960), "{ago:?}");
        assert!(parse_start("yesterday").unwrap_err().contains("15m"));
    }
}
