//! Running `cflog top` as a child and reading its plain snapshots as they come.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long a test waits for output it expects before failing (a guard against a hang,
/// not a speed assertion: the expected output normally comes within a second or two).
pub const PATIENCE: Duration = Duration::from_secs(90);

/// A running `cflog top --plain`, killed when dropped.
pub struct Live {
    pub child: Child,
    lines: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Live {
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Live {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cflog"))
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run cflog top");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Live { child, lines, seen: Vec::new() }
    }

    /// Reads lines until one satisfies `want`; panics (showing the output) when none does.
    pub fn wait_for(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {what} after {PATIENCE:?}; output:\n{}", self.tail()),
                Err(RecvTimeoutError::Disconnected) => panic!("cflog top ended before {what}; output:\n{}", self.tail()),
            }
        }
    }

    /// Waits for a snapshot whose "since start" count is `n` records.
    pub fn wait_for_total(&mut self, n: u64) -> String {
        self.wait_for(&format!("a snapshot with {n} records"), |l| since_start_records(l) == Some(n))
    }

    /// The lines of the last snapshot read, from its `===` line on.
    pub fn last_snapshot(&self) -> Vec<String> {
        let start = self.seen.iter().rposition(|l| l.starts_with("=== cflog top")).unwrap_or(0);
        self.seen[start..].to_vec()
    }

    fn tail(&self) -> String {
        self.seen[self.seen.len().saturating_sub(40)..].join("\n")
    }
}

/// `since start: 1,234 records, ...` → 1234.
pub fn since_start_records(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("since start: ")?;
    let n = rest.split(' ').next()?;
    n.replace(',', "").parse().ok()
}
