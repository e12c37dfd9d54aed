//! Cutting an input into newline-aligned chunks that workers can parse independently.
//!
//! A [`Chunker`] turns bytes arriving in any pieces into chunks of about [`CHUNK`] bytes
//! that end at a line end (or the end of the input); an [`InPlaceChunker`] cuts the same
//! chunks from reads made straight into its buffers, which come back for reuse (no copy,
//! no zeroing per chunk: `cflog analyze` reads this way). A [`Cutter`] follows one input
//! through its chunks and tags each with what a parser needs to start there: the layout in
//! force (chosen at the first chunk; a standard log switches at each `#Fields:` line) and
//! the number of lines before it. It also notes how the first layout was chosen and every
//! layout met, for the screens.

use std::sync::Arc;

use cflog_core::layout::first_line;
use cflog_core::{Format, Schema};

use crate::layout::{LayoutChoice, LayoutError};
use crate::ndjson::Dialect;

/// Bytes per chunk.
pub const CHUNK: usize = 1 << 20;

/// The lines of a chunk (the last one may lack its `\n`; a final `\n` does not start an
/// empty line).
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    std::iter::from_fn(move || {
        let end = ends.next()?;
        if start >= bytes.len() && end == bytes.len() {
            return None;
        }
        let line = &bytes[start..end];
        start = end + 1;
        Some(line)
    })
}

/// How many of the `lines` lines of `bytes` (as [`lines`] finds them, or as
/// `Parser::parse_next` walks them) end in a `\n`: all but an unterminated last one. What
/// [`Cutter::take`] counts, without a pass over the bytes.
pub fn line_ends(bytes: &[u8], lines: usize) -> u64 {
    let open_end = !bytes.is_empty() && !bytes.ends_with(b"\n");
    (lines - usize::from(open_end)) as u64
}

/// Gathers bytes arriving in any pieces into newline-aligned chunks of about [`CHUNK`].
#[derive(Debug, Default)]
pub struct Chunker {
    pending: Vec<u8>,
}

impl Chunker {
    /// An empty chunker.
    pub fn new() -> Chunker {
        Chunker { pending: Vec::with_capacity(CHUNK * 2) }
    }

    /// Adds `data`; returns a chunk when at least [`CHUNK`] bytes ending at a line end are
    /// pending (the partial line after it stays for the next chunk).
    pub fn push(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.pending.extend_from_slice(data);
        if self.pending.len() < CHUNK {
            return None;
        }
        let last_nl = memchr::memrchr(b'\n', &self.pending)?;
        // The tail starts the next chunk, in a buffer sized so that filling it never
        // reallocates.
        let mut rest = Vec::with_capacity(CHUNK * 2);
        rest.extend_from_slice(&self.pending[last_nl + 1..]);
        self.pending.truncate(last_nl + 1);
        Some(std::mem::replace(&mut self.pending, rest))
    }

    /// The rest of the input, if any, as the last chunk.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

/// Page size the in-place windows are aligned to.
const PAGE: usize = 4096;

/// Spare buffers an [`InPlaceChunker`] keeps for reuse (more are dropped).
const SPARE_BUFFERS: usize = 8;

/// A chunk's bytes inside a reusable buffer (see [`InPlaceChunker`]): derefs to the
/// chunk; give it back with [`InPlaceChunker::give_back`] once done.
#[derive(Debug)]
pub struct ChunkBytes {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl std::ops::Deref for ChunkBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

/// [`Chunker`] without the copy: the host reads straight into [`window`](Self::window)
/// (page-aligned when the last cut left a short tail), and a chunk is the buffer itself.
/// Copying each read into the chunk cost a tenth of `cflog analyze`'s instructions
/// (issue 13). Buffers come back through [`give_back`](Self::give_back) and are reused, so
/// a buffer is zero-filled (by the allocator) only when it is first made, never per chunk.
/// Given the same reads it cuts exactly the chunks [`Chunker::push`] cuts.
#[derive(Debug, Default)]
pub struct InPlaceChunker {
    /// Fully initialised; the pending bytes are `buf[start..filled]`.
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    spare: Vec<Vec<u8>>,
}

impl InPlaceChunker {
    /// An empty chunker (no buffer is made before the first window).
    pub fn new() -> InPlaceChunker {
        InPlaceChunker::default()
    }

    /// Where the next read goes: [`CHUNK`] bytes right after the pending ones.
    pub fn window(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = self.fresh();
            let (start, filled) = aligned_start(&self.buf, 0);
            (self.start, self.filled) = (start, filled);
        }
        if self.buf.len() < self.filled + CHUNK {
            // Only a line longer than a chunk gets here; grows like `Vec::extend` would.
            let want = (self.filled + CHUNK).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
        &mut self.buf[self.filled..self.filled + CHUNK]
    }

    /// Notes that the last read put `n` bytes at the start of the window; returns a chunk
    /// when [`Chunker::push`] would have.
    pub fn filled(&mut self, n: usize) -> Option<ChunkBytes> {
        assert!(self.filled + n <= self.buf.len(), "more bytes than the window holds");
        self.filled += n;
        if self.filled - self.start < CHUNK {
            return None;
        }
        let last_nl = self.start + memchr::memrchr(b'\n', &self.buf[self.start..self.filled])?;
        // The tail starts the next chunk, ending where a page starts, so that the next
        // window is aligned.
        let mut next = self.fresh();
        let tail = last_nl + 1..self.filled;
        let (start, filled) = aligned_start(&next, tail.len());
        if next.len() < filled + CHUNK {
            next.resize(filled + CHUNK, 0);
        }
        next[start..filled].copy_from_slice(&self.buf[tail]);
        let chunk = ChunkBytes { buf: std::mem::replace(&mut self.buf, next), start: self.start, len: last_nl + 1 - self.start };
        (self.start, self.filled) = (start, filled);
        Some(chunk)
    }

    /// The rest of the input, if any, as the last chunk.
    pub fn finish(&mut self) -> Option<ChunkBytes> {
        if self.filled == self.start {
            return None;
        }
        let len = self.filled - self.start;
        let chunk = ChunkBytes { buf: std::mem::take(&mut self.buf), start: self.start, len };
        (self.start, self.filled) = (0, 0);
        Some(chunk)
    }

    /// Takes a chunk's buffer back for reuse.
    pub fn give_back(&mut self, chunk: ChunkBytes) {
        if self.spare.len() < SPARE_BUFFERS {
            self.spare.push(chunk.buf);
        }
    }

    fn fresh(&mut self) -> Vec<u8> {
        // `vec![0; n]` is a zeroed allocation: fresh pages from the system, no memset.
        self.spare.pop().unwrap_or_else(|| vec![0; 2 * CHUNK + 2 * PAGE])
    }
}

/// Where `tail` pending bytes start in `buf` so that they end on a page boundary (when
/// the buffer's address allows), and where they end.
fn aligned_start(buf: &[u8], tail: usize) -> (usize, usize) {
    let first_page = buf.as_ptr().align_offset(PAGE).min(PAGE);
    let end = if tail <= first_page { first_page } else { first_page + (tail - first_page).div_ceil(PAGE) * PAGE };
    (end - tail, end)
}

/// How a chunk's lines are read.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkLayout {
    /// Log lines in this layout (at the chunk's start: a standard log can switch).
    Log(Arc<Schema>),
    /// cflog's NDJSON records (each carries its field names).
    Ndjson,
    /// Standard logging v2 JSON records (each carries its field names).
    V2Json,
}

/// How the first layout of an input was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutOrigin {
    /// Real-time, from a given field set.
    Given,
    /// Real-time, inferred from the first record's field count.
    Inferred,
    /// Standard, from the `#Fields:` header.
    Header,
    /// Standard without a header: the 33-column default.
    NoHeader,
    /// cflog's NDJSON records (each carries its field names).
    Ndjson,
    /// Standard logging v2 JSON records (each carries its field names).
    V2Json,
    /// Nothing was read (an empty input).
    Empty,
}

/// Where a chunk starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkStart {
    /// The layout in force at the chunk's first line.
    pub layout: ChunkLayout,
    /// Lines of the input before the chunk.
    pub first_line: u64,
    /// Line ends in the chunk.
    pub lines: u64,
    /// Whether the input's values are decoded twice (decided at its first chunk: see
    /// [`LayoutChoice::decodes_twice`]).
    pub double_decode: bool,
}

/// Follows one input through its chunks (see the module docs).
#[derive(Debug, Clone)]
pub struct Cutter {
    choice: LayoutChoice,
    name: String,
    layout: Option<ChunkLayout>,
    lines_before: u64,
    origin: LayoutOrigin,
    layouts: Vec<Schema>,
    double_decode: bool,
}

impl Cutter {
    /// A cutter for inputs laid out by `choice`.
    pub fn new(choice: &LayoutChoice) -> Cutter {
        Cutter {
            choice: choice.clone(),
            name: String::new(),
            layout: None,
            lines_before: 0,
            origin: LayoutOrigin::Empty,
            layouts: Vec::new(),
            double_decode: false,
        }
    }

    /// Starts a new input named `name` (for errors).
    pub fn begin(&mut self, name: &str) {
        self.name = name.to_string();
        self.layout = None;
        self.lines_before = 0;
        self.origin = LayoutOrigin::Empty;
        self.layouts.clear();
        self.double_decode = false;
    }

    /// Whether the current input's values are decoded twice.
    pub fn decodes_twice(&self) -> bool {
        self.double_decode
    }

    /// How the current input's first layout was chosen.
    pub fn origin(&self) -> LayoutOrigin {
        self.origin
    }

    /// Every layout the current input has met so far, in order, each once.
    pub fn layouts(&self) -> &[Schema] {
        &self.layouts
    }

    fn add_layout(&mut self, schema: &Schema) {
        if !self.layouts.contains(schema) {
            self.layouts.push(schema.clone());
        }
    }

    fn first_layout(&mut self, bytes: &[u8]) -> Result<ChunkLayout, LayoutError> {
        self.choice.check_v2(&self.name, bytes)?;
        match self.choice.json_dialect(bytes) {
            Some(Dialect::Cflog) => {
                self.origin = LayoutOrigin::Ndjson;
                return Ok(ChunkLayout::Ndjson);
            }
            Some(Dialect::V2) => {
                self.origin = LayoutOrigin::V2Json;
                return Ok(ChunkLayout::V2Json);
            }
            None => {}
        }
        let s = self.choice.first_schema(&self.name, bytes)?;
        self.double_decode = self.choice.decodes_twice(&s, bytes);
        self.origin = match s.format() {
            Format::RealTime if self.choice.realtime.is_some() => LayoutOrigin::Given,
            Format::RealTime => LayoutOrigin::Inferred,
            _ if first_line(bytes).starts_with(b"#") => LayoutOrigin::Header,
            _ => LayoutOrigin::NoHeader,
        };
        if self.origin != LayoutOrigin::Header {
            self.add_layout(&s);
        }
        Ok(ChunkLayout::Log(Arc::new(s)))
    }

    /// Describes the next chunk of the current input (`bytes` ends at a line end, or at
    /// the end of the input) and advances past it.
    pub fn take(&mut self, bytes: &[u8]) -> Result<ChunkStart, LayoutError> {
        self.take_run(bytes, |_| memchr::memchr_iter(b'\n', bytes).count() as u64)
    }

    /// [`take`](Self::take) of a chunk whose [`lines`] the caller has already found (and
    /// hands on to [`crate::Worker::run_found`] or reads itself, as the browser's search
    /// does), so they are not counted again. `lines` must be `lines(bytes)`.
    pub fn take_found(&mut self, bytes: &[u8], lines: &[&[u8]]) -> Result<ChunkStart, LayoutError> {
        self.take_run(bytes, |_| line_ends(bytes, lines.len()))
    }

    /// [`take`](Self::take) of a chunk that `run` parses (on this thread) once it is
    /// described, and whose line ends `run` counts: `run` gets the chunk's start and
    /// returns the number of `\n` in `bytes` (what [`crate::Worker::run`] returns), so the
    /// cutter makes no pass of its own to count them. The start returned carries that
    /// count.
    pub fn take_run(&mut self, bytes: &[u8], run: impl FnOnce(&ChunkStart) -> u64) -> Result<ChunkStart, LayoutError> {
        let mut start = self.start(bytes)?;
        start.lines = run(&start);
        self.lines_before += start.lines;
        Ok(start)
    }

    /// The start of the next chunk (`lines` left at 0): its layout and the lines before
    /// it; notes the `#Fields:` lines it holds for the chunk after it.
    fn start(&mut self, bytes: &[u8]) -> Result<ChunkStart, LayoutError> {
        let current = match &self.layout {
            Some(l) => l.clone(),
            None => {
                let l = self.first_layout(bytes)?;
                self.layout = Some(l.clone());
                l
            }
        };
        if let ChunkLayout::Log(s) = &current
            && s.format() == Format::Standard
        {
            // Every `#Fields:` line at a line start: the parser switches at each, and the
            // last one is the layout the next chunk starts in.
            let mut last = None;
            // memchr for `#` (rare in log text, where it is percent-encoded), then a check:
            // a memmem pass over every chunk cost about a tenth of the run (issue 13).
            let headers = memchr::memchr_iter(b'#', bytes).filter(|&p| bytes[p..].starts_with(b"#Fields:"));
            for pos in headers.filter(|&p| p == 0 || bytes[p - 1] == b'\n') {
                let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |e| pos + e);
                let line = bytes[pos..end].strip_suffix(b"\r").unwrap_or(&bytes[pos..end]);
                if let Some(Ok(s)) = Schema::from_w3c_fields(line) {
                    self.add_layout(&s);
                    last = Some(s);
                }
            }
            if let Some(next) = last {
                self.layout = Some(ChunkLayout::Log(Arc::new(next)));
            }
        }
        Ok(ChunkStart { layout: current, first_line: self.lines_before, lines: 0, double_decode: self.double_decode })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_a_chunk() {
        assert_eq!(lines(b"a\nb\n").collect::<Vec<_>>(), [b"a".as_slice(), b"b"]);
        assert_eq!(lines(b"a\n\nb").collect::<Vec<_>>(), [b"a".as_slice(), b"", b"b"]);
        assert_eq!(lines(b"").count(), 0);
    }

    #[test]
    fn chunks_end_at_line_ends_and_lose_nothing() {
        let line = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"; // 64 bytes
        let input: Vec<u8> = line.iter().copied().cycle().take(line.len() * 40_000).collect();
        let mut c = Chunker::new();
        let mut out = Vec::new();
        for piece in input.chunks(7_777) {
            out.extend(c.push(piece));
        }
        out.extend(c.finish());
        assert!(out.len() >= 2);
        assert!(out.iter().all(|ch| ch.ends_with(b"\n")));
        assert_eq!(out.concat(), input);
    }

    /// Bytes of `total` length: lines of up to `max_line` bytes (some longer than a chunk
    /// when `max_line` is), from a seed; no final newline when `open_end`.
    fn input_of(seed: u64, total: usize, max_line: usize, open_end: bool) -> Vec<u8> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut out = Vec::with_capacity(total + 1);
        while out.len() < total {
            let len = (next() % max_line as u64) as usize;
            out.extend((0..len.min(total - out.len())).map(|i| b'a' + (i % 26) as u8));
            out.push(b'\n');
        }
        out.truncate(total);
        if open_end && out.last() == Some(&b'\n') {
            out.pop();
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Reading in place cuts exactly the chunks `Chunker::push` cuts from the same
        /// reads, whatever their sizes, with buffers given back and reused.
        #[test]
        fn in_place_cuts_what_push_cuts(
            seed in proptest::prelude::any::<u64>(),
            total in 0usize..(4 * CHUNK),
            max_line in proptest::prop_oneof![1usize..64, 64usize..4096, (CHUNK / 2)..(3 * CHUNK / 2)],
            open_end in proptest::prelude::any::<bool>(),
            reads in proptest::collection::vec(proptest::prop_oneof![1usize..100, 1usize..=CHUNK, proptest::strategy::Just(CHUNK), proptest::strategy::Just(CHUNK - 1)], 1..8),
            give_back in proptest::prelude::any::<bool>(),
        ) {
            let input = input_of(seed, total, max_line.max(1), open_end);
            let mut plain = Chunker::new();
            let mut in_place = InPlaceChunker::new();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            let mut at = 0;
            for &size in reads.iter().cycle() {
                if at == input.len() {
                    break;
                }
                let window = in_place.window();
                proptest::prop_assert_eq!(window.len(), CHUNK);
                let n = size.min(input.len() - at);
                window[..n].copy_from_slice(&input[at..at + n]);
                want.extend(plain.push(&input[at..at + n]));
                if let Some(c) = in_place.filled(n) {
                    got.push(c.to_vec());
                    if give_back {
                        in_place.give_back(c);
                    }
                }
                at += n;
            }
            want.extend(plain.finish());
            got.extend(in_place.finish().map(|c| c.to_vec()));
            proptest::prop_assert_eq!(got.len(), want.len());
            proptest::prop_assert!(got == want, "chunks differ");
        }
    }

    #[test]
    fn standard_layout_follows_fields_lines_across_chunks() {
        let mut cutter = Cutter::new(&LayoutChoice::default());
        cutter.begin("s.log");
        let a = b"#Version: 1.0\n#Fields: date time sc-status\n2019-12-04\t21:02:31\t200\n";
        let b = b"2019-12-04\t21:02:32\t200\n#Fields: date time c-ip\n2019-12-04\t21:02:33\t1.2.3.4\n";
        let c = b"2019-12-04\t21:02:34\t5.6.7.8\n";
        let first = cutter.take(a).unwrap();
        assert_eq!(first.first_line, 0);
        assert_eq!(cutter.origin(), LayoutOrigin::Header);
        let second = cutter.take(b).unwrap();
        assert_eq!(second.first_line, 3);
        let third = cutter.take(c).unwrap();
        assert_eq!(third.first_line, 6);
        let names = |l: &ChunkLayout| match l {
            ChunkLayout::Log(s) => s.names().map(str::to_string).collect::<Vec<_>>(),
            ChunkLayout::Ndjson | ChunkLayout::V2Json => vec![],
        };
        assert_eq!(names(&second.layout), ["date", "time", "sc-status"]);
        assert_eq!(names(&third.layout), ["date", "time", "c-ip"]);
        assert_eq!(cutter.layouts().len(), 2);
    }
}
