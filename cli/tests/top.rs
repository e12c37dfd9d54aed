//! `cflog top --follow` through the real binary: plain snapshots while a file grows, is
//! rotated and truncated, and from stdin (counts checked against a naive reading of the
//! lines written); and the terminal dashboard under a pseudo-terminal (`script`): it draws,
//! quits on `q` and Ctrl-C, survives a tiny terminal, and restores the terminal on exit and
//! on error.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::live::{Live, PATIENCE, since_start_records};
use cflog_testkit::scratch::Scratch;
use common::tmp_dir;

fn cflog_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cflog")
}

/// A standard log of `lines` records (header included) whose times end about now.
fn standard_log(lines: u64, seed: u64) -> String {
    let out = Command::new(cflog_bin())
        .args(["gen", "--format", "standard", "--lines", &lines.to_string(), "--seed", &seed.to_string(), "--start", "now-1m"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// The records of a standard log, split naively: (header lines, record lines).
fn split_log(log: &str) -> (Vec<&str>, Vec<&str>) {
    log.lines().partition(|l| l.starts_with('#'))
}

/// Status codes of 400 and above, counted from the lines by splitting on tabs at the
/// `sc-status` column of the `#Fields:` header.
fn error_codes(log: &str) -> BTreeMap<String, u64> {
    let fields = log.lines().find_map(|l| l.strip_prefix("#Fields: ")).unwrap();
    let col = fields.split(' ').position(|f| f == "sc-status").unwrap();
    let mut codes = BTreeMap::new();
    for line in log.lines().filter(|l| !l.starts_with('#')) {
        let status = line.split('\t').nth(col).unwrap();
        if status.parse::<u16>().unwrap() >= 400 {
            *codes.entry(status.to_string()).or_insert(0) += 1;
        }
    }
    codes
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).create(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn follow_reads_growth_rotation_and_truncation() {
    let dir = tmp_dir("follow");
    let path = dir.join("access.log");
    let first = standard_log(500, 1);
    let (header, records) = split_log(&first);
    let head = format!("{}\n{}\n", header.join("\n"), records[..300].join("\n"));
    std::fs::write(&path, head).unwrap();
    let p = path.to_str().unwrap();
    let mut top = Live::start(&["top", "--follow", p, "--plain", "--interval", "0.2", "--window", "1d"], &[]);
    top.wait_for_total(300);

    // Growth, with a line split across two writes.
    let rest = format!("{}\n", records[300..].join("\n"));
    let (a, b) = rest.split_at(rest.len() / 2);
    append(&path, a);
    std::thread::sleep(Duration::from_millis(300));
    append(&path, b);
    top.wait_for_total(500);

    // Rotation: the old name now holds a new file, with its own header.
    std::fs::rename(&path, dir.join("access.log.1")).unwrap();
    std::fs::write(&path, standard_log(100, 2)).unwrap();
    top.wait_for_total(600);
    top.wait_for("the rotation noted", |l| l.starts_with("note:") && l.contains("was rotated"));

    // Truncation (copytruncate): the file shrinks and is read again from its start.
    std::fs::write(&path, standard_log(40, 3)).unwrap();
    let total = top.wait_for_total(640);
    top.wait_for("the truncation noted", |l| l.starts_with("note:") && l.contains("was truncated"));
    assert!(total.contains(" 0 bad lines"), "{total}");
}

#[test]
fn stdin_ends_with_a_final_snapshot_that_matches_the_lines() {
    let log = standard_log(2000, 7);
    let mut child = Command::new(cflog_bin())
        .args(["top", "--follow", "-", "--window", "1d", "--interval", "3600"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = log.clone();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // Only the final snapshot: the interval is an hour and stdin ended at once.
    assert_eq!(text.matches("=== cflog top").count(), 1, "{text}");
    assert!(text.lines().next().unwrap().contains("stdin") && text.contains("· final ==="), "{text}");
    let (_, records) = split_log(&log);
    let n = records.len() as u64;
    assert_eq!(text.lines().find_map(since_start_records), Some(n), "{text}");
    let in_window = text.lines().find_map(|l| l.strip_prefix("in window: ")).unwrap();
    assert_eq!(in_window.split(' ').next().unwrap().replace(',', "").parse::<u64>().unwrap(), n, "{text}");
    let codes = error_codes(&log);
    let mut expected: Vec<(&String, &u64)> = codes.iter().collect();
    expected.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let expected: Vec<String> = expected.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
    assert!(text.contains(&format!("errors: {}", expected.join(", "))), "expected {expected:?} in\n{text}");
}

#[test]
fn follow_refuses_what_it_cannot_follow() {
    let dir = tmp_dir("refuse");
    let missing = dir.join("nope.log");
    let out = Command::new(cflog_bin()).args(["top", "--follow", missing.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"), "{out:?}");
    let gz = dir.join("a.log.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).unwrap();
    let out = Command::new(cflog_bin()).args(["top", "--follow", gz.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gzip"), "{out:?}");
    let out = Command::new(cflog_bin()).args(["top"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `cflog top` under a pseudo-terminal of `cols`×`rows` (util-linux `script`), its
/// keyboard fed through script's stdin.
struct Pty {
    child: std::process::Child,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    fn start(cols: u16, rows: u16, args: &str) -> Pty {
        let command = format!("stty cols {cols} rows {rows}; exec {} {args}", cflog_bin());
        let mut child = Command::new("script")
            .args(["-qfec", &command, "/dev/null"])
            .env("TERM", "xterm-256color")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run script (util-linux)");
        let mut out = child.stdout.take().unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    return;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { child, output, reader: Some(reader) }
    }

    fn text(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &[u8]) {
        let deadline = Instant::now() + PATIENCE;
        while !self.text().windows(what.len()).any(|w| w == what) {
            assert!(Instant::now() < deadline, "no {:?} on the screen; got {:?}", String::from_utf8_lossy(what), String::from_utf8_lossy(&self.text()));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, keys: &[u8]) {
        self.child.stdin.as_mut().unwrap().write_all(keys).unwrap();
        self.child.stdin.as_mut().unwrap().flush().unwrap();
    }

    /// Waits for the end; returns the exit code and everything written to the terminal.
    fn finish(mut self) -> (Option<i32>, Vec<u8>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "cflog top did not exit; screen: {:?}", String::from_utf8_lossy(&self.text()));
            std::thread::sleep(Duration::from_millis(50));
        };
        self.reader.take().unwrap().join().unwrap();
        (status.code(), self.text())
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ENTER_ALT: &[u8] = b"\x1b[?1049h";
const LEAVE_ALT: &[u8] = b"\x1b[?1049l";
const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The terminal was put back: the alternate screen left and the cursor shown, after the
/// last frame drawn.
fn assert_restored(screen: &[u8]) {
    let text = String::from_utf8_lossy(screen);
    assert!(screen.starts_with(ENTER_ALT) || find_last(screen, ENTER_ALT).is_some(), "never entered the alternate screen: {text:?}");
    let leave = find_last(screen, LEAVE_ALT).unwrap_or_else(|| panic!("alternate screen not left: {text:?}"));
    let drawn = find_last(screen, b"Top URIs").unwrap_or_else(|| panic!("nothing drawn: {text:?}"));
    assert!(leave > drawn, "left the alternate screen before the last frame: {text:?}");
    assert!(find_last(screen, SHOW_CURSOR).is_some_and(|i| i > drawn), "cursor not shown again: {text:?}");
}

/// The test's directory (removed when dropped) and the log in it.
fn log_file(test: &str) -> (Scratch, PathBuf) {
    let dir = tmp_dir(test);
    let path = dir.join("access.log");
    std::fs::write(&path, standard_log(300, 4)).unwrap();
    (dir, path)
}

#[test]
fn terminal_dashboard_draws_and_quits_on_q() {
    let (_dir, path) = log_file("tty-q");
    let mut pty = Pty::start(120, 40, &format!("top --follow {} --window 1d", path.display()));
    pty.wait_for(b"Top URIs");
    pty.keys(b"q");
    let (code, screen) = pty.finish();
    assert_eq!(code, Some(0), "{:?}", String::from_utf8_lossy(&screen));
    // Single words: the screen is drawn in runs between cursor moves, which replace spaces.
    for title in ["Traffic", "Requests", "clients", "edge", "Errors", "quits", "/api/v1/session"] {
        assert!(find_last(&screen, title.as_bytes()).is_some(), "{title} not drawn");
    }
    assert_restored(&screen);
}

#[test]
fn terminal_dashboard_quits_on_ctrl_c_and_fits_a_tiny_terminal() {
    let (_dir, path) = log_file("tty-ctrl-c");
    let mut pty = Pty::start(24, 8, &format!("top --follow {}", path.display()));
    pty.wait_for(b"cflog top");
    // Drawn at least twice (the interval is a second), then Ctrl-C (raw mode: a key).
    pty.wait_for(b"since start");
    pty.keys(b"\x03");
    let (code, screen) = pty.finish();
    assert_eq!(code, Some(0), "{:?}", String::from_utf8_lossy(&screen));
    let leave = find_last(&screen, LEAVE_ALT).expect("alternate screen left");
    assert!(find_last(&screen, SHOW_CURSOR).is_some_and(|i| i > leave - 10));
    assert!(!String::from_utf8_lossy(&screen).contains("panicked"));
}

#[test]
fn terminal_is_restored_when_the_input_fails() {
    let (_dir, path) = log_file("tty-error");
    let pty = Pty::start(120, 40, &format!("top --follow {}", path.display()));
    pty.wait_for(b"Top URIs");
    // Truncated and refilled with binary data: the follower fails, the run ends with an error.
    std::fs::write(&path, [0u8; 64]).unwrap();
    let (code, screen) = pty.finish();
    assert_eq!(code, Some(1));
    assert_restored(&screen);
    let leave = find_last(&screen, LEAVE_ALT).unwrap();
    let after = String::from_utf8_lossy(&screen[leave..]).to_string();
    assert!(after.contains("binary file"), "the error is printed after the screen is restored: {after:?}");
}
