//! A real moto server on 127.0.0.1 (started and stopped by each test; killed on drop, also
//! on panic), and the environment a `cflog` process needs to reach it. The server is
//! `CFLOG_MOTO` (set by the Makefile) or the workspace's `.venv/bin/moto_server`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// A moto server, stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Its endpoint URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Region and static credentials for `cflog` (moto accepts any), and no instance
    /// metadata or shared config files to consult.
    pub fn env() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ]
    }
}

/// A port on 127.0.0.1 that was free a moment ago and that this process has not handed out
/// before. Tests in one binary run in parallel threads, and the kernel may give the same
/// ephemeral port to two `bind(0)` calls in a row once the first listener is closed: two
/// servers would then race for one port, the loser would exit, and both tests would talk to
/// the winner, which dies with the first test to finish.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if given.insert(port) {
            return port;
        }
    }
}

/// `CFLOG_MOTO` (set by the Makefile) or the workspace's `.venv`. Missing: the test fails.
pub fn moto_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CFLOG_MOTO") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    assert!(
        p.exists(),
        "moto_server not found: set CFLOG_MOTO or run `make setup-venv` (it creates .venv with moto[server]); looked at {}",
        p.display()
    );
    p
}

/// Whether an HTTP server answers on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 8];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// Whether the socket listening on `port` belongs to `child` (Linux `/proc`): the answer
/// may come from a server another process started on the same port, while ours is still
/// starting and will exit once its bind fails.
fn listens(child: &Child, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return false };
    let local = format!("0100007F:{port:04X}");
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    let inode = table.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        (cols.len() > 9 && cols[1] == local && cols[3] == "0A").then(|| cols[9].to_string())
    });
    let Some(inode) = inode else { return false };
    let want = format!("socket:[{inode}]");
    let Ok(fds) = std::fs::read_dir(format!("/proc/{}/fd", child.id())) else { return false };
    fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.to_str() == Some(want.as_str())))
}

/// Starts moto on a free port and waits until it answers (up to 10 s; five ports tried).
/// Blocks: async tests call it through `spawn_blocking`.
pub fn start() -> Moto {
    let path = moto_path();
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(&path)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let mut moto = Moto { child, port };
        for _ in 0..200 {
            // Only our own server's answer counts (see `listens`).
            if listens(&moto.child, port) && answers(port) {
                return moto;
            }
            if let Ok(Some(_)) = moto.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(moto);
    }
    panic!("moto_server did not come up");
}
