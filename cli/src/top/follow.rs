//! `cflog top --follow FILE`: read a file from its start, then follow it as it grows, like
//! `tail -F`: when the name points at a new file (rotation: the inode changed) the rest of
//! the old file is read and the new one is read from its start; a file that shrinks
//! (truncation, `copytruncate`) is read again from its start. `-` reads stdin to its end.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::Event;
use crate::input::looks_binary;

/// How often a file at its end is checked for growth, rotation and truncation.
pub const POLL: Duration = Duration::from_millis(250);

const READ: usize = 256 * 1024;

/// Starts the thread that reads `path` (`-`: stdin) and sends what it reads to `tx`. A
/// file that cannot be opened, or is gzip, fails here, before anything is drawn.
pub fn spawn(path: String, tx: SyncSender<Event>, poll: Duration) -> Result<()> {
    let thread = std::thread::Builder::new().name("cflog-follow".into());
    if path == "-" {
        thread.spawn(move || {
            let result = read_to_end(&mut std::io::stdin().lock(), &tx, "<stdin>");
            let _ = tx.send(match result {
                Ok(()) => Event::End,
                Err(e) => Event::Failed(e),
            });
        })?;
        return Ok(());
    }
    let mut file = File::open(&path).with_context(|| format!("cannot open {path}"))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).with_context(|| format!("cannot read {path}"))?;
    if n == 2 && magic == [0x1f, 0x8b] {
        bail!("{path}: gzip; `cflog top --follow` follows a log as it is written (for a finished .gz, use `cflog analyze`)");
    }
    file.seek(SeekFrom::Start(0))?;
    thread.spawn(move || {
        if let Err(e) = follow_file(&path, file, &tx, poll) {
            let _ = tx.send(Event::Failed(e));
        }
    })?;
    Ok(())
}

/// Sends everything `reader` has until its end. `Ok` also when the receiver is gone.
fn read_to_end(reader: &mut impl Read, tx: &SyncSender<Event>, name: &str) -> Result<()> {
    let mut buf = vec![0u8; READ];
    drain(reader, &mut buf, tx, &mut true, name).map(|_| ())
}

enum Drained {
    /// Read to the current end; this many bytes.
    AtEnd(u64),
    /// The receiver is gone: stop.
    Closed,
}

fn drain(reader: &mut impl Read, buf: &mut [u8], tx: &SyncSender<Event>, first: &mut bool, name: &str) -> Result<Drained> {
    let mut total = 0u64;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => return Ok(Drained::AtEnd(total)),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {name}")),
        };
        if *first && looks_binary(&buf[..n.min(8192)]) {
            bail!("{name}: a binary file (neither text nor gzip), not a log");
        }
        *first = false;
        total += n as u64;
        if tx.send(Event::Bytes(buf[..n].to_vec())).is_err() {
            return Ok(Drained::Closed);
        }
    }
}

/// What tells two files apart under one name.
#[cfg(unix)]
fn identity(m: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(m: &fs::Metadata) -> (u64, u64) {
    let created = m.created().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    (0, created.map_or(0, |d| d.as_nanos() as u64))
}

fn follow_file(path: &str, mut file: File, tx: &SyncSender<Event>, poll: Duration) -> Result<()> {
    let mut id = identity(&file.metadata().with_context(|| format!("cannot read {path}"))?);
    let mut pos = 0u64;
    let mut first = true;
    let mut buf = vec![0u8; READ];
    loop {
        match drain(&mut file, &mut buf, tx, &mut first, path)? {
            Drained::Closed => return Ok(()),
            Drained::AtEnd(n) => pos += n,
        }
        std::thread::sleep(poll);
        match fs::metadata(path) {
            Ok(m) if identity(&m) != id => {
                // Rotated: finish the old file (a writer may have added to it before it
                // moved), then read the new one from its start.
                if let Drained::Closed = drain(&mut file, &mut buf, tx, &mut first, path)? {
                    return Ok(());
                }
                let Ok(new) = File::open(path) else { continue };
                let Ok(m) = new.metadata() else { continue };
                file = new;
                id = identity(&m);
                pos = 0;
                first = true;
                if tx.send(Event::Restart(format!("{path} was rotated; reading the new file"))).is_err() {
                    return Ok(());
                }
            }
            Ok(m) if m.len() < pos => {
                file.seek(SeekFrom::Start(0)).with_context(|| format!("cannot read {path}"))?;
                pos = 0;
                first = true;
                if tx.send(Event::Restart(format!("{path} was truncated; reading it from its start"))).is_err() {
                    return Ok(());
                }
            }
            Ok(_) => {}
            // Moved away and not yet created again: keep reading the old file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot read {path}")),
        }
    }
}
