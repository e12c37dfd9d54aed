//! A small Lambda Runtime API emulator (the 2018-06-01 API a `provided.al2023` bootstrap
//! talks to) and a handle on the compiled `bootstrap` process.
//!
//! The emulator serves, over hand-written HTTP/1.1 (keep-alive, Content-Length or chunked
//! request bodies, Content-Length answers):
//! - `GET /2018-06-01/runtime/invocation/next`: long-polls until [`RuntimeApi::invoke`]
//!   queues an event, then answers it with `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`: completes the
//!   invocation `id` (202);
//! - `POST /2018-06-01/runtime/init/error`: records the init error (202).
//!
//! Anything else is a 404 and is recorded, so a test can assert that nothing unexpected
//! was called.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};

pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:cflog";

/// How an invocation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `POST .../response`: the function's answer.
    Response(serde_json::Value),
    /// `POST .../error`: the error type header and the diagnostic body.
    Error { error_type: Option<String>, body: serde_json::Value },
}

/// Queued invocations (request id, event), taken by one `/next` poll at a time.
type Queue = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Vec<u8>)>>>;

/// One request the emulator did not expect (method, path).
pub type Unexpected = (String, String);

#[derive(Default)]
struct Shared {
    pending: HashMap<String, oneshot::Sender<Outcome>>,
    init_errors: Vec<(Option<String>, serde_json::Value)>,
    unexpected: Vec<Unexpected>,
    next_polls: u64,
}

/// The emulator; stops serving when dropped.
pub struct RuntimeApi {
    pub port: u16,
    queue: mpsc::UnboundedSender<(String, Vec<u8>)>,
    shared: Arc<Mutex<Shared>>,
    changed: Arc<Notify>,
    ids: AtomicU64,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request from `conn`; `None` at a clean or broken end of the connection.
/// `buf` carries bytes read past the previous request (pipelining).
async fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let mut tmp = [0u8; 65536];
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end - 4]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    buf.drain(..head_end);
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let body = if get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        // Chunked: size line, data, CRLF ... 0-size chunk, optional trailers, CRLF.
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                match conn.read(&mut tmp).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            };
            let size_hex = String::from_utf8_lossy(&buf[..line_end]).split(';').next().unwrap_or("").trim().to_string();
            let size = usize::from_str_radix(&size_hex, 16).ok()?;
            buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers (ignored) up to the empty line.
                loop {
                    if buf.starts_with(b"\r\n") {
                        buf.drain(..2);
                        break;
                    }
                    if let Some(i) = find(buf, b"\r\n\r\n") {
                        buf.drain(..i + 4);
                        break;
                    }
                    match conn.read(&mut tmp).await {
                        Ok(0) | Err(_) => return None,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                break;
            }
            while buf.len() < size + 2 {
                match conn.read(&mut tmp).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
            }
            body.extend_from_slice(&buf[..size]);
            buf.drain(..size + 2);
        }
        body
    } else {
        let len: usize = get("content-length").map_or(Some(0), |v| v.parse().ok())?;
        while buf.len() < len {
            match conn.read(&mut tmp).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&tmp[..n]),
            }
        }
        buf.drain(..len).collect()
    };
    Some(Request { method, path, headers, body })
}

async fn write_response(conn: &mut TcpStream, status: &str, extra_headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body).await?;
    conn.flush().await
}

fn json_or_text(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

impl RuntimeApi {
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (queue, rx) = mpsc::unbounded_channel::<(String, Vec<u8>)>();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let shared = Arc::new(Mutex::new(Shared::default()));
        let changed = Arc::new(Notify::new());
        let (sh, ch) = (shared.clone(), changed.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = listener.accept().await else { return };
                tokio::spawn(serve(conn, rx.clone(), sh.clone(), ch.clone()));
            }
        });
        RuntimeApi { port, queue, shared, changed, ids: AtomicU64::new(1), task }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Queues `event` for the next `/next` poll and waits (at most `timeout`) for the
    /// function's response or error.
    pub async fn invoke_raw(&self, event: Vec<u8>, timeout: Duration) -> Outcome {
        let id = format!("8476a536-e9f4-11e8-9739-{:012x}", self.ids.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        self.shared.lock().unwrap().pending.insert(id.clone(), tx);
        self.queue.send((id.clone(), event)).unwrap();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => {
                let s = self.shared.lock().unwrap();
                panic!(
                    "invocation {id}: no response or error within {timeout:?} (init errors {:?}, unexpected requests {:?}, /next polls {})",
                    s.init_errors, s.unexpected, s.next_polls
                )
            }
        }
    }

    pub async fn invoke(&self, event: &serde_json::Value) -> Outcome {
        self.invoke_raw(serde_json::to_vec(event).unwrap(), Duration::from_secs(120)).await
    }

    /// Invokes and expects a response (not an error).
    pub async fn invoke_ok(&self, event: &serde_json::Value) -> serde_json::Value {
        match self.invoke(event).await {
            Outcome::Response(v) => v,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// The init errors posted so far.
    pub fn init_errors(&self) -> Vec<(Option<String>, serde_json::Value)> {
        self.shared.lock().unwrap().init_errors.clone()
    }

    /// Requests the emulator did not know.
    pub fn unexpected(&self) -> Vec<Unexpected> {
        self.shared.lock().unwrap().unexpected.clone()
    }

    /// How many `/next` polls arrived.
    pub fn next_polls(&self) -> u64 {
        self.shared.lock().unwrap().next_polls
    }

    /// Waits until `/next` has been polled at least `n` times (the runtime is ready).
    pub async fn wait_for_polls(&self, n: u64, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.next_polls() >= n {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.next_polls() >= n;
            }
        }
    }
}

async fn serve(
    mut conn: TcpStream,
    queue: Queue,
    shared: Arc<Mutex<Shared>>,
    changed: Arc<Notify>,
) {
    const BASE: &str = "/2018-06-01/runtime";
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut conn, &mut buf).await {
        let path = req.path.split('?').next().unwrap_or("").to_string();
        let rest = path.strip_prefix(BASE).unwrap_or("");
        let accepted = br#"{"status":"OK"}"#;
        let result = if req.method == "GET" && rest == "/invocation/next" {
            shared.lock().unwrap().next_polls += 1;
            changed.notify_waiters();
            // Long poll: one waiter at a time takes the next queued event.
            let next = queue.lock().await.recv().await;
            let Some((id, event)) = next else { return };
            let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 60_000;
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", id.clone()),
                ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
                ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN.to_string()),
                ("Lambda-Runtime-Trace-Id", format!("Root=1-5bef4de7-{id:.24};Parent=9a9197af755a6419;Sampled=1")),
            ];
            write_response(&mut conn, "200 OK", &headers, &event).await
        } else if req.method == "POST" && rest == "/init/error" {
            shared.lock().unwrap().init_errors.push((req.header("lambda-runtime-function-error-type").map(str::to_string), json_or_text(&req.body)));
            changed.notify_waiters();
            write_response(&mut conn, "202 Accepted", &[], accepted).await
        } else if let Some((id, kind)) = (req.method == "POST")
            .then(|| rest.strip_prefix("/invocation/"))
            .flatten()
            .and_then(|r| r.rsplit_once('/'))
            .filter(|(_, k)| *k == "response" || *k == "error")
        {
            let outcome = if kind == "response" {
                Outcome::Response(json_or_text(&req.body))
            } else {
                Outcome::Error { error_type: req.header("lambda-runtime-function-error-type").map(str::to_string), body: json_or_text(&req.body) }
            };
            let waiter = shared.lock().unwrap().pending.remove(id);
            match waiter {
                Some(tx) => {
                    let _ = tx.send(outcome);
                    write_response(&mut conn, "202 Accepted", &[], accepted).await
                }
                // Unknown or already completed request id: Lambda answers 400.
                None => {
                    shared.lock().unwrap().unexpected.push((req.method.clone(), req.path.clone()));
                    write_response(&mut conn, "400 Bad Request", &[], br#"{"errorMessage":"invalid request id","errorType":"InvalidRequestID"}"#).await
                }
            }
        } else {
            shared.lock().unwrap().unexpected.push((req.method.clone(), req.path.clone()));
            write_response(&mut conn, "404 Not Found", &[], br#"{"errorMessage":"not found","errorType":"NotFound"}"#).await
        };
        if result.is_err() || req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")) {
            return;
        }
    }
}

/// The compiled `bootstrap`, started with a clean environment; killed when dropped.
/// Its stdout and stderr lines are collected.
pub struct Bootstrap {
    child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
    home: std::path::PathBuf,
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        // A failing test shows what the function logged (the harness captures this).
        if std::thread::panicking() {
            for l in self.stdout.lock().unwrap().iter() {
                eprintln!("[bootstrap stdout] {l}");
            }
            for l in self.stderr.lock().unwrap().iter() {
                eprintln!("[bootstrap stderr] {l}");
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn collect(r: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            into.lock().unwrap().push(line);
        }
    });
}

impl Bootstrap {
    /// Starts `bootstrap` against `api` with only the variables Lambda sets (plus test
    /// credentials) and `vars`.
    pub fn start(api: &RuntimeApi, vars: &[(&str, String)]) -> Bootstrap {
        let home = std::env::temp_dir().join(format!("cflog-bootstrap-home-{}-{}", std::process::id(), api.port));
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bootstrap"));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "cflog")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cflog")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[$LATEST]0123456789abcdef")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("LAMBDA_TASK_ROOT", "/var/task")
            .env("_HANDLER", "bootstrap")
            .env("TZ", ":UTC")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // No ~/.aws of the machine running the tests.
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot start the bootstrap binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), stdout.clone());
        collect(child.stderr.take().unwrap(), stderr.clone());
        Bootstrap { child, stdout, stderr, home }
    }

    /// The exit status, if the process has ended.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits (at most `timeout`) for the process to end.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(s) = self.try_exit() {
                // Let the reader threads drain the pipes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Some(s);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// stdout lines that are JSON log records, with their message and fields.
    pub fn log_records(&self) -> Vec<serde_json::Value> {
        self.stdout.lock().unwrap().iter().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).collect()
    }

    /// The fields of every JSON log line whose message is `message` (`tracing`'s JSON
    /// format nests them under `fields`; a flattened layout is accepted too).
    pub fn logged(&self, message: &str) -> Vec<serde_json::Value> {
        self.log_records()
            .into_iter()
            .filter_map(|v| {
                let fields = if v.get("fields").is_some_and(|f| f.is_object()) { v["fields"].clone() } else { v };
                (fields.get("message").and_then(|m| m.as_str()) == Some(message)).then_some(fields)
            })
            .collect()
    }

    /// Waits until `message` has been logged at least `n` times; returns those lines.
    pub async fn wait_logged(&self, message: &str, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let end = Instant::now() + timeout;
        loop {
            let found = self.logged(message);
            if found.len() >= n || Instant::now() >= end {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
