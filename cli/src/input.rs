//! Opening inputs: files, stdin, gzip (multi-member too) detected by its magic bytes.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use flate2::read::MultiGzDecoder;

/// Size of one read. Large reads amortise syscalls; the buffer is page-aligned because an
/// unaligned buffer of this size made `read()` several times slower on the build host.
pub const CHUNK: usize = 1 << 20;
const PAGE: usize = 4096;

/// One named input.
#[allow(missing_debug_implementations)]
pub struct Input {
    /// The name used in messages (`-` shows as `<stdin>`).
    pub name: String,
    /// Bytes on disk (compressed size for `.gz`), when known, for progress.
    pub size: Option<u64>,
    /// The decoded byte stream.
    pub reader: Box<dyn Read + Send>,
    /// Whether the input was gzip.
    pub gzip: bool,
    /// Raw bytes read so far (compressed bytes for gzip), for progress.
    pub consumed: Arc<AtomicU64>,
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `path` (`-` for stdin), decompressing gzip transparently.
pub fn open(path: &str) -> Result<Input> {
    let (name, size, raw): (String, Option<u64>, Box<dyn Read + Send>) = if path == "-" {
        ("<stdin>".into(), None, Box::new(io::stdin()))
    } else {
        let file = File::open(Path::new(path)).with_context(|| format!("cannot open {path}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (path.to_string(), size, Box::new(file))
    };
    let consumed = Arc::new(AtomicU64::new(0));
    let raw = Counting { inner: raw, count: consumed.clone() };
    let mut reader = BufReader::with_capacity(64 * 1024, raw);
    let head = io::BufRead::fill_buf(&mut reader).with_context(|| format!("cannot read {name}"))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read + Send> =
        if gzip { Box::new(MultiGzDecoder::new(reader)) } else { Box::new(reader) };
    Ok(Input { name, size, reader, gzip, consumed })
}

/// A page-aligned read buffer.
#[derive(Debug)]
pub struct ChunkBuf {
    storage: Vec<u8>,
    offset: usize,
}

impl ChunkBuf {
    /// A buffer of [`CHUNK`] bytes.
    pub fn new() -> Self {
        let storage = vec![0u8; CHUNK + PAGE];
        let offset = storage.as_ptr().align_offset(PAGE).min(PAGE);
        ChunkBuf { storage, offset }
    }

    /// The aligned window.
    pub fn window(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + CHUNK]
    }
}

impl Default for ChunkBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads `input` to the end in chunks, calling `on_chunk` with each. A truncated gzip
/// stream is an error naming the input.
pub fn for_each_chunk(input: &mut Input, mut on_chunk: impl FnMut(&[u8])) -> Result<()> {
    let mut buf = ChunkBuf::new();
    loop {
        let window = buf.window();
        let n = match input.reader.read(window) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if input.gzip && e.kind() == io::ErrorKind::UnexpectedEof => {
                anyhow::bail!("{}: truncated gzip stream (the file ends mid-member)", input.name)
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", input.name)),
        };
        on_chunk(&window[..n]);
    }
}

use cflog_core::{LineSplitter, ParseError, ParseStats, Parser, Record, RecordBuf};

use crate::layout::LayoutChoice;

/// Parses every line of `input`, choosing its layout from the first line, and calls
/// `on_record` with each record or line error (header and blank lines are skipped).
/// `on_bytes` sees the size of every decoded chunk, for progress.
pub fn for_each_record(
    input: &mut Input,
    layout: &LayoutChoice,
    mut on_bytes: impl FnMut(usize),
    mut on_record: impl FnMut(Result<Record<'_>, ParseError>),
) -> Result<ParseStats> {
    let name = input.name.clone();
    let mut parser: Option<Parser> = None;
    let mut head: Vec<u8> = Vec::new();
    let mut splitter = LineSplitter::new();
    let mut buf = RecordBuf::new();
    let mut failed = None;
    let mut feed = |parser: &mut Parser, bytes: &[u8], splitter: &mut LineSplitter| {
        splitter.push(bytes, |line| match parser.parse_line(line, &mut buf) {
            Ok(Some(r)) => on_record(Ok(r)),
            Ok(None) => {}
            Err(e) => on_record(Err(e)),
        });
    };
    for_each_chunk(input, |chunk| {
        on_bytes(chunk.len());
        if failed.is_some() {
            return;
        }
        match parser.as_mut() {
            Some(p) => feed(p, chunk, &mut splitter),
            None => {
                // Detect the layout from a whole first line, however small the reads are.
                head.extend_from_slice(chunk);
                if head.contains(&b'\n') {
                    match layout.parser_for(&name, &head) {
                        Ok(mut p) => {
                            feed(&mut p, &head, &mut splitter);
                            parser = Some(p);
                        }
                        Err(e) => failed = Some(e),
                    }
                }
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut parser = match parser {
        Some(p) => p,
        None if head.is_empty() => return Ok(ParseStats::default()),
        None => {
            let mut p = layout.parser_for(&name, &head)?;
            feed(&mut p, &head, &mut splitter);
            p
        }
    };
    let mut buf = RecordBuf::new();
    splitter.finish(|line| match parser.parse_line(line, &mut buf) {
        Ok(Some(r)) => on_record(Ok(r)),
        Ok(None) => {}
        Err(e) => on_record(Err(e)),
    });
    Ok(parser.stats().clone())
}
