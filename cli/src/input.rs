//! Opening inputs: files, stdin, gzip (multi-member too) and standard logging v2 Parquet
//! (read as v2 JSON lines, `crate::parquet_input`), each detected by its magic bytes.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use cflog_engine::cut::{ChunkBytes, InPlaceChunker};
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
    /// Whether the input was a standard logging v2 Parquet file (its rows read as v2 JSON
    /// lines, whatever `--format` says: see [`Input::layout`]).
    pub parquet: bool,
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
    open_counted(path, Arc::new(AtomicU64::new(0)))
}

/// [`open`], adding the raw bytes read to `consumed` (one counter can serve every input of
/// a run, opened one after the other).
pub fn open_counted(path: &str, consumed: Arc<AtomicU64>) -> Result<Input> {
    let (name, size, raw): (String, Option<u64>, Box<dyn Read + Send>) = if path == "-" {
        ("<stdin>".into(), None, Box::new(io::stdin()))
    } else {
        let file = File::open(Path::new(path)).with_context(|| format!("cannot open {path}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (path.to_string(), size, Box::new(file))
    };
    let mut raw = BufReader::with_capacity(64 * 1024, raw);
    let head = io::BufRead::fill_buf(&mut raw).with_context(|| format!("cannot read {name}"))?;
    if head.starts_with(crate::parquet_input::MAGIC) {
        let stdin: Option<Box<dyn Read + Send>> = (path == "-").then(|| Box::new(raw) as Box<dyn Read + Send>);
        let reader = crate::parquet_input::open(&name, path, stdin, consumed.clone())?;
        return Ok(Input { name, size, reader, gzip: false, parquet: true, consumed });
    }
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let raw = Counting { inner: raw, count: consumed.clone() };
    let reader: Box<dyn Read + Send> = if gzip { Box::new(MultiGzDecoder::new(raw)) } else { Box::new(raw) };
    Ok(Input { name, size, reader, gzip, parquet: false, consumed })
}

impl Input {
    /// The layout choice for this input: `choice`, except that a Parquet file's rows are
    /// standard logging v2 JSON lines whatever `--format` says (the magic bytes decide).
    pub fn layout(&self, choice: &LayoutChoice) -> LayoutChoice {
        let mut choice = choice.clone();
        if self.parquet {
            choice.format = crate::layout::FormatArg::V2Json;
        }
        choice
    }
}

/// Whether the first bytes of an input are binary data rather than log text: a NUL byte,
/// or more than one byte in ten a control character other than TAB, CR and LF. Log lines
/// are percent-encoded text, so they have neither.
pub fn looks_binary(head: &[u8]) -> bool {
    let control = head.iter().filter(|&&b| (b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f).count();
    memchr::memchr(0, head).is_some() || control * 10 > head.len()
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
/// stream is an error naming the input, and so is binary data at the start (an image, an
/// archive): parsing it would only print a screen of meaningless bad lines.
pub fn for_each_chunk(input: &mut Input, mut on_chunk: impl FnMut(&[u8])) -> Result<()> {
    for_each_chunk_while(input, |chunk| {
        on_chunk(chunk);
        true
    })
}

/// [`for_each_chunk`] that stops reading once `on_chunk` returns `false`.
pub fn for_each_chunk_while(input: &mut Input, on_chunk: impl FnMut(&[u8]) -> bool) -> Result<()> {
    struct Fixed<F> {
        buf: ChunkBuf,
        on_chunk: F,
    }
    impl<F: FnMut(&[u8]) -> bool> ReadTarget for Fixed<F> {
        fn window(&mut self) -> &mut [u8] {
            self.buf.window()
        }
        fn filled(&mut self, n: usize) -> bool {
            let window = self.buf.window();
            (self.on_chunk)(&window[..n])
        }
    }
    read_all(input, &mut Fixed { buf: ChunkBuf::new(), on_chunk })
}

/// Reads `input` to the end straight into `chunker`'s windows (no copy into the chunks),
/// calling `on_chunk` with each chunk it cuts (not the last: call
/// [`InPlaceChunker::finish`]); stops once `on_chunk` returns `false`. The same checks as
/// [`for_each_chunk`].
pub fn read_in_place(input: &mut Input, chunker: &mut InPlaceChunker, on_chunk: impl FnMut(ChunkBytes, &mut InPlaceChunker) -> bool) -> Result<()> {
    struct InPlace<'c, F> {
        chunker: &'c mut InPlaceChunker,
        on_chunk: F,
    }
    impl<F: FnMut(ChunkBytes, &mut InPlaceChunker) -> bool> ReadTarget for InPlace<'_, F> {
        fn window(&mut self) -> &mut [u8] {
            self.chunker.window()
        }
        fn filled(&mut self, n: usize) -> bool {
            match self.chunker.filled(n) {
                Some(chunk) => (self.on_chunk)(chunk, self.chunker),
                None => true,
            }
        }
    }
    read_all(input, &mut InPlace { chunker, on_chunk })
}

/// Where reads go, and what is done with the bytes each read put there.
trait ReadTarget {
    /// The buffer the next read fills from its start.
    fn window(&mut self) -> &mut [u8];
    /// The last read put `n` bytes in the window; `false` stops reading.
    fn filled(&mut self, n: usize) -> bool;
}

fn read_all(input: &mut Input, target: &mut dyn ReadTarget) -> Result<()> {
    let mut first = true;
    loop {
        let window = target.window();
        let n = match input.reader.read(window) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if input.gzip && e.kind() == io::ErrorKind::UnexpectedEof => {
                anyhow::bail!("{}: truncated gzip stream (the file ends mid-member)", input.name)
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", input.name)),
        };
        if first && input.gzip && window[..n].starts_with(crate::parquet_input::MAGIC) {
            anyhow::bail!(
                "{}: a gzip-compressed standard logging v2 Parquet file: cflog reads Parquet files as AWS writes them \
                 (compressed inside); gunzip it first (`gunzip -c FILE > FILE.parquet`)",
                input.name
            );
        }
        if first && looks_binary(&window[..n.min(8192)]) {
            let what = if input.gzip { "gzip holding binary data" } else { "a binary file (neither text nor gzip)" };
            anyhow::bail!("{}: {what}, not a log", input.name);
        }
        first = false;
        if !target.filled(n) {
            return Ok(());
        }
    }
}

use std::fmt;

use cflog_core::{LineSplitter, ParseError, ParseStats, Parser, Record, RecordBuf, Schema};

use crate::layout::LayoutChoice;
use cflog_engine::ndjson::{Decoded, NdjsonDecoder, NdjsonError};

/// A line that is not a record: the parser's error, or why an NDJSON line is not one of
/// cflog's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// A log line (or the line rebuilt from an NDJSON record) that does not parse.
    Parse(ParseError),
    /// An NDJSON line that is not a record.
    Ndjson {
        /// 1-based line number in its input.
        line: u64,
        /// What is wrong.
        reason: NdjsonError,
    },
}

impl LineError {
    /// The 1-based line number in its input.
    pub fn line(&self) -> u64 {
        match self {
            LineError::Parse(e) => e.line,
            LineError::Ndjson { line, .. } => *line,
        }
    }
}

/// The reason, without the line number (callers print `FILE:LINE: reason`).
impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Parse(e) => write!(f, "{}", e.reason()),
            LineError::Ndjson { reason, .. } => write!(f, "{reason}"),
        }
    }
}

/// NDJSON records, rebuilt as log lines and parsed by an ordinary [`Parser`] (one per key
/// set, numbering lines as the NDJSON input does).
#[derive(Debug, Default)]
pub struct NdjsonRecords {
    decoder: NdjsonDecoder,
    parser: Option<(Arc<Schema>, Parser)>,
    line: Vec<u8>,
    line_no: u64,
    /// `_cflog.tags` of the last record.
    pub tags: Vec<(String, String)>,
}

impl NdjsonRecords {
    /// Reads the next line of an NDJSON input: `Ok(None)` for a blank line.
    pub fn parse<'a>(&'a mut self, json: &[u8], buf: &'a mut RecordBuf) -> Result<Option<Record<'a>>, LineError> {
        self.line_no += 1;
        let n = self.line_no;
        let schema = match self.decoder.decode(json, &mut self.line) {
            Ok(Decoded::Blank) => return Ok(None),
            Ok(Decoded::Record { schema, tags }) => {
                self.tags = tags;
                schema
            }
            Err(reason) => return Err(LineError::Ndjson { line: n, reason }),
        };
        let parser = match self.parser.take() {
            Some((s, p)) if Arc::ptr_eq(&s, &schema) => (s, p.after_line(n - 1)),
            _ => (schema.clone(), Parser::with_schema((*schema).clone()).after_line(n - 1)),
        };
        let (_, parser) = self.parser.insert(parser);
        parser.parse_line(&self.line, buf).map_err(LineError::Parse)
    }
}

/// How one input's lines become records: a log parser, or the NDJSON decoder.
#[allow(missing_debug_implementations)]
pub enum LineReader {
    /// CloudFront log lines.
    Log(Parser),
    /// cflog's NDJSON records.
    Ndjson(NdjsonRecords),
}

impl LineReader {
    /// The reader for an input whose first bytes (a whole first line) are `head`.
    pub fn for_input(layout: &LayoutChoice, name: &str, head: &[u8]) -> Result<LineReader> {
        layout.check_v2(name, head)?;
        Ok(match layout.json_dialect(head) {
            Some(dialect) => LineReader::Ndjson(NdjsonRecords { decoder: NdjsonDecoder::with_dialect(dialect), ..NdjsonRecords::default() }),
            None => LineReader::Log(layout.parser_for(name, head)?),
        })
    }

    /// Reads one line: `Ok(None)` for header and blank lines.
    pub fn parse<'a>(&'a mut self, line: &'a [u8], buf: &'a mut RecordBuf) -> Result<Option<Record<'a>>, LineError> {
        match self {
            LineReader::Log(p) => p.parse_line(line, buf).map_err(LineError::Parse),
            LineReader::Ndjson(n) => n.parse(line, buf),
        }
    }

    fn stats(&self) -> ParseStats {
        match self {
            LineReader::Log(p) => p.stats().clone(),
            LineReader::Ndjson(n) => {
                let mut stats = ParseStats::default();
                stats.lines = n.line_no;
                stats
            }
        }
    }
}

/// Parses every line of `input`, choosing its layout (or NDJSON) from the first line, and
/// calls `on_record` with each record or line error (header and blank lines are skipped).
/// `on_bytes` sees the size of every decoded chunk, for progress.
pub fn for_each_record(
    input: &mut Input,
    layout: &LayoutChoice,
    on_bytes: impl FnMut(usize),
    mut on_record: impl FnMut(Result<Record<'_>, LineError>),
) -> Result<ParseStats> {
    for_each_record_while(input, layout, on_bytes, |r| {
        on_record(r);
        true
    })
}

/// [`for_each_record`] that stops once `on_record` returns `false` (the rest of the chunk
/// in hand is skipped, and nothing more is read).
pub fn for_each_record_while(
    input: &mut Input,
    layout: &LayoutChoice,
    mut on_bytes: impl FnMut(usize),
    mut on_record: impl FnMut(Result<Record<'_>, LineError>) -> bool,
) -> Result<ParseStats> {
    let going = std::cell::Cell::new(true);
    let mut on_record = |r: Result<Record<'_>, LineError>| going.set(on_record(r));
    let name = input.name.clone();
    let layout = &input.layout(layout);
    let mut reader: Option<LineReader> = None;
    let mut head: Vec<u8> = Vec::new();
    let mut splitter = LineSplitter::new();
    let mut buf = RecordBuf::new();
    let mut failed = None;
    let mut feed = |reader: &mut LineReader, bytes: &[u8], splitter: &mut LineSplitter| {
        splitter.push(bytes, |line| {
            if !going.get() {
                return;
            }
            match reader.parse(line, &mut buf) {
                Ok(Some(r)) => on_record(Ok(r)),
                Ok(None) => {}
                Err(e) => on_record(Err(e)),
            }
        });
    };
    for_each_chunk_while(input, |chunk| {
        on_bytes(chunk.len());
        if failed.is_some() {
            return false;
        }
        match reader.as_mut() {
            Some(r) => feed(r, chunk, &mut splitter),
            None => {
                // Detect the layout (and a standard log's encoding) from whole lines,
                // however small the reads are.
                head.extend_from_slice(chunk);
                if layout.head_is_enough(&head, false) {
                    match LineReader::for_input(layout, &name, &head) {
                        Ok(mut r) => {
                            feed(&mut r, &head, &mut splitter);
                            reader = Some(r);
                        }
                        Err(e) => failed = Some(e),
                    }
                }
            }
        }
        going.get()
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut reader = match reader {
        Some(r) => r,
        None if head.is_empty() => return Ok(ParseStats::default()),
        None => {
            let mut r = LineReader::for_input(layout, &name, &head)?;
            feed(&mut r, &head, &mut splitter);
            r
        }
    };
    let mut buf = RecordBuf::new();
    splitter.finish(|line| match reader.parse(line, &mut buf) {
        _ if !going.get() => {}
        Ok(Some(r)) => on_record(Ok(r)),
        Ok(None) => {}
        Err(e) => on_record(Err(e)),
    });
    Ok(reader.stats())
}
