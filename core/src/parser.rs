//! Line-at-a-time parsing: find where a line's fields begin and hand out a [`Record`].

use alloc::vec::Vec;

use crate::error::{ParseError, ParseErrorKind};
use crate::field::{Field, Format};
use crate::record::{Record, RecordBuf};
use crate::schema::Schema;

/// Lines longer than this are refused: no real record comes close (cookies and headers are
/// truncated to 800 bytes each by CloudFront), and a missing newline in a corrupt file
/// must not turn into a gigabyte "line".
pub const MAX_LINE_LEN: usize = 1 << 20;

/// Counts kept while parsing. Bad lines are counted by the caller, because typed fields
/// are checked lazily, when the caller reads them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseStats {
    /// Lines seen (records, headers and blank lines).
    pub lines: u64,
    /// Lines handed out as records.
    pub records: u64,
    /// `#` lines (W3C headers, comments).
    pub header_lines: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Standard-log records with more columns than the header names.
    pub extra_column_lines: u64,
    /// Standard-log records with fewer columns than the header names.
    pub short_lines: u64,
}

/// Parses lines of one input. Build it once per input (a file, a Kinesis shard batch);
/// it tracks line numbers and, for standard logs, the current `#Fields:` layout, which
/// may change mid-stream when files were concatenated.
///
/// ```
/// use cflog_core::{Parser, RecordBuf, Schema};
/// let schema = Schema::from_field_names(&["timestamp", "c-ip", "sc-status"]).unwrap();
/// let mut parser = Parser::realtime(schema);
/// let mut buf = RecordBuf::new();
/// let record = parser.parse_line(b"1607374321.541\t192.0.2.10\t000\n", &mut buf).unwrap().unwrap();
/// assert_eq!(record.timestamp_ms().unwrap(), Some(1_607_374_321_541));
/// assert_eq!(record.status().unwrap(), Some(0));
/// ```
#[derive(Debug, Clone)]
pub struct Parser {
    schema: Schema,
    /// The fields the caller said it reads ([`Parser::reading`]); `None`: all.
    reads: Option<Vec<Field>>,
    /// How many leading columns to record the bounds of: past the last column of `reads`
    /// in the current layout, or all.
    split_columns: usize,
    double_decode: bool,
    line_no: u64,
    stats: ParseStats,
    /// The `date` column when the caller reads it (a standard log's layout has one), and
    /// the last `YYYY-MM-DD` seen there with its day number: a log repeats one date for
    /// hours, so a record whose date has the same ten bytes gets the days without parsing
    /// them again (issue 13).
    date_column: Option<usize>,
    last_date: Option<([u8; 10], i64)>,
}

impl Parser {
    /// A parser for real-time records laid out by `schema`.
    pub fn realtime(schema: Schema) -> Parser {
        Parser {
            schema,
            reads: None,
            split_columns: usize::MAX,
            double_decode: false,
            line_no: 0,
            stats: ParseStats::default(),
            date_column: None,
            last_date: None,
        }
        .with_date_column()
    }

    /// A parser for standard logs. It reads the layout from `#Fields:` headers and, until
    /// it sees one, assumes the 33-column layout.
    pub fn standard() -> Parser {
        Parser::realtime(Schema::standard_default())
    }

    /// A parser that starts with `schema`, whatever its format (a standard-log schema still
    /// switches at each `#Fields:` header).
    pub fn with_schema(schema: Schema) -> Parser {
        Parser::realtime(schema)
    }

    /// Tells the parser which fields the caller reads: it then records where columns begin
    /// only up to the last of them (in the current layout; a `#Fields:` header moves it) and
    /// only counts the TABs after it. Records read the same either way; a column past that
    /// point is found by a scan of the line each time it is asked for, so leave out only
    /// fields that are rarely read. The default is every column.
    ///
    /// ```
    /// use cflog_core::{Field, Parser, RecordBuf, Schema};
    /// let schema = Schema::from_field_names(&["timestamp", "sc-status", "cs-user-agent"]).unwrap();
    /// let mut parser = Parser::realtime(schema).reading(&[Field::Status]);
    /// let mut buf = RecordBuf::new();
    /// let record = parser.parse_line(b"1607374321.541\t503\tcurl/8.4.0", &mut buf).unwrap().unwrap();
    /// assert_eq!(record.status().unwrap(), Some(503));
    /// assert_eq!(record.raw(Field::UserAgent), Some(&b"curl/8.4.0"[..]));
    /// ```
    pub fn reading(mut self, fields: &[Field]) -> Parser {
        self.reads = Some(fields.to_vec());
        self.split_columns = self.columns_to_split();
        self.with_date_column()
    }

    /// Sets `date_column` for the current layout and reads.
    fn with_date_column(mut self) -> Parser {
        self.set_date_column();
        self
    }

    fn set_date_column(&mut self) {
        let read = self.reads.as_ref().is_none_or(|f| f.contains(&Field::Date));
        self.date_column = self.schema.column_of(Field::Date).filter(|_| read);
    }

    /// The day number of the record's `date` column when it is the ten bytes of the last
    /// date parsed, else parsed now (and remembered when valid); `None` when the column is
    /// missing, not ten bytes, or not a date, and the getter then reads it as usual.
    #[inline]
    fn date_days(&mut self, line: &[u8], bounds: &[u32]) -> Option<i64> {
        let c = self.date_column?;
        let (&start, &next) = (bounds.get(c)?, bounds.get(c + 1)?);
        let text: &[u8; 10] = line.get(start as usize..next as usize - 1)?.try_into().ok()?;
        match self.last_date {
            Some((last, days)) if last == *text => Some(days),
            _ => self.new_date(text),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_date(&mut self, text: &[u8; 10]) -> Option<i64> {
        let days = crate::grammar::parse_date_days(text)?;
        self.last_date = Some((*text, days));
        Some(days)
    }

    fn columns_to_split(&self) -> usize {
        match &self.reads {
            None => usize::MAX,
            Some(fields) => fields.iter().filter_map(|&f| self.schema.column_of(f)).max().map_or(0, |c| c + 1),
        }
    }

    /// Decode percent-escapes twice, for standard logs written before 2020 (`%2520`).
    /// The default is once.
    pub fn double_decode(mut self, on: bool) -> Parser {
        self.double_decode = on;
        self
    }

    /// Whether values are decoded twice.
    pub fn decodes_twice(&self) -> bool {
        self.double_decode
    }

    /// Numbers lines from `first + 1`: for a chunk that starts after `first` lines of its
    /// input, so errors still name the line in the whole input.
    pub fn after_line(mut self, first: u64) -> Parser {
        self.line_no = first;
        self
    }

    /// The current layout.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.schema.format()
    }

    /// Counts so far.
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }

    /// Number of the last line parsed (1-based; 0 before the first).
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// Parses one line (a trailing `\n` or `\r\n` is ignored). Returns `Ok(None)` for
    /// header and blank lines, and an error for a line that cannot be a record; either
    /// way the parser is ready for the next line.
    #[inline]
    pub fn parse_line<'a>(
        &'a mut self,
        line: &'a [u8],
        buf: &'a mut RecordBuf,
    ) -> Result<Option<Record<'a>>, ParseError> {
        self.line_no += 1;
        self.stats.lines += 1;
        let line = trim_line_end(line);
        if line.len() > MAX_LINE_LEN {
            return Err(ParseError::line(self.line_no, ParseErrorKind::TooLong { limit: MAX_LINE_LEN as u32 }));
        }
        if line.is_empty() || line.iter().all(|b| b.is_ascii_whitespace()) {
            self.stats.blank_lines += 1;
            return Ok(None);
        }
        if line[0] == b'#' {
            self.stats.header_lines += 1;
            return self.header(line).map(|()| None);
        }

        buf.fields.split(line, self.split_columns);
        self.record(line, buf)
    }

    /// Parses the line of `buf` that starts at `at` (`buf` holds many lines, as a read
    /// chunk does), and says where the next line starts: one past this line's `\n`, or
    /// `buf.len()` for a last line without one. `None` when `at` is `buf.len()` or past it.
    ///
    /// Records, errors, line numbers and [`stats`](Self::stats) are those of
    /// [`parse_line`](Self::parse_line) on each line of `buf` cut at `\n`; the difference
    /// is that a record's bytes are scanned once: the field splitter finds the line's end
    /// in the same pass as its TABs ([`cflog_simd::Fields::split_next`]), where a caller of
    /// `parse_line` has searched for the newline first. Header, blank and other lines that
    /// begin with `#` or white space take the `parse_line` way.
    ///
    /// Match the step by reference, as below, in a hot loop: destructuring it by value
    /// (`while let Some((result, next)) = ..`) moves the record, and the compiler copies it
    /// with 16-byte loads over the 8-byte stores that have just built it, which the CPU
    /// cannot forward: a stall a line, ~8 % of parsing with ten typed reads.
    ///
    /// ```
    /// use cflog_core::{Parser, RecordBuf, Schema};
    /// let schema = Schema::from_field_names(&["timestamp", "sc-status"]).unwrap();
    /// let mut parser = Parser::realtime(schema);
    /// let mut rec = RecordBuf::new();
    /// let chunk = b"1607374321.541\t200\r\n\n1607374322.000\t503";
    /// let mut statuses = Vec::new();
    /// let mut at = 0;
    /// loop {
    ///     let step = parser.parse_next(chunk, at, &mut rec);
    ///     let Some((result, next)) = &step else { break };
    ///     at = *next;
    ///     if let Some(record) = result.as_ref().unwrap() {
    ///         statuses.push((record.line_number(), record.status().unwrap()));
    ///     }
    /// }
    /// assert_eq!(statuses, [(1, Some(200)), (3, Some(503))]);
    /// assert_eq!(parser.stats().blank_lines, 1);
    /// ```
    #[inline]
    pub fn parse_next<'a>(
        &'a mut self,
        buf: &'a [u8],
        at: usize,
        rec: &'a mut RecordBuf,
    ) -> Option<(Result<Option<Record<'a>>, ParseError>, usize)> {
        let &first = buf.get(at)?;
        if first == b'#' || first.is_ascii_whitespace() {
            let end = line_end_from(buf, at);
            return Some((self.parse_line(&buf[at..end], rec), buf.len().min(end + 1)));
        }
        self.line_no += 1;
        self.stats.lines += 1;
        // A line longer than MAX_LINE_LEN (with its `\r`) is refused: the splitter need
        // not look past that; the rest of such a line is found afterwards.
        let window = &buf[..buf.len().min(at.saturating_add(MAX_LINE_LEN + 2))];
        let mut end = rec.fields.split_next(window, at, self.split_columns);
        if end == window.len() && end < buf.len() {
            end = line_end_from(buf, end);
        }
        let next = buf.len().min(end + 1);
        // `end` is at the line's `\n` (or the end of `buf`): only a `\r` may be left.
        let line = without_cr(&buf[at..end]);
        if line.len() > MAX_LINE_LEN {
            return Some((Err(ParseError::line(self.line_no, ParseErrorKind::TooLong { limit: MAX_LINE_LEN as u32 })), next));
        }
        Some((self.record(line, rec), next))
    }

    /// The record of a line `buf` has just been split for (the field count checked
    /// against the layout, the stats counted).
    #[inline]
    fn record<'a>(&'a mut self, line: &'a [u8], buf: &'a RecordBuf) -> Result<Option<Record<'a>>, ParseError> {
        let (found, expected) = (buf.fields.count(), self.schema.len());
        let date_days = match self.schema.format() {
            Format::RealTime if found != expected => {
                return Err(ParseError::line(
                    self.line_no,
                    ParseErrorKind::FieldCount { expected: expected as u32, found: found as u32 },
                ));
            }
            Format::RealTime => None,
            Format::Standard => {
                if found > expected {
                    self.stats.extra_column_lines += 1;
                } else if found < expected {
                    self.stats.short_lines += 1;
                }
                self.date_days(line, buf.fields.bounds())
            }
        };
        self.stats.records += 1;
        Ok(Some(Record {
            line,
            bounds: buf.fields.bounds(),
            columns: found,
            schema: &self.schema,
            line_no: self.line_no,
            double_decode: self.double_decode,
            date_days,
        }))
    }

    /// The record [`parse_line`](Self::parse_line) returned for `line` when it filled
    /// `buf`, rebuilt without scanning the line again (`line_no` as
    /// [`Record::line_number`] reported it). Valid only while the layout is the one
    /// `line` was parsed with: a standard log's `#Fields:` line changes it. For callers
    /// that parse a batch of lines first and look at the records afterwards (the
    /// enrichment plugins), so each line is parsed once.
    pub fn view<'a>(&'a self, line: &'a [u8], buf: &'a RecordBuf, line_no: u64) -> Record<'a> {
        Record {
            line: trim_line_end(line),
            bounds: buf.fields.bounds(),
            columns: buf.fields.count(),
            schema: &self.schema,
            line_no,
            double_decode: self.double_decode,
            date_days: None,
        }
    }

    fn header(&mut self, line: &[u8]) -> Result<(), ParseError> {
        match (self.schema.format(), Schema::from_w3c_fields(line)) {
            (_, None) => Ok(()),
            (Format::RealTime, Some(_)) => Err(ParseError::line(self.line_no, ParseErrorKind::UnexpectedHeader)),
            (Format::Standard, Some(Ok(schema))) => {
                self.schema = schema;
                self.split_columns = self.columns_to_split();
                self.set_date_column();
                Ok(())
            }
            (Format::Standard, Some(Err(e))) => Err(ParseError::line(self.line_no, ParseErrorKind::BadHeader(e))),
        }
    }
}

/// The next `\n` of `buf` from `from` (`buf.len()` when there is none): the end of a line
/// [`Parser::parse_next`] does not split (a header, a blank or white-space-led line) or
/// that runs past the splitter's window. Both are rare, hence out of line.
#[cold]
#[inline(never)]
fn line_end_from(buf: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &buf[from..]).map_or(buf.len(), |p| from + p)
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    without_cr(line.strip_suffix(b"\n").unwrap_or(line))
}

/// `line` without one trailing `\r`.
#[inline(always)]
fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Cuts a byte stream that arrives in arbitrary chunks into lines. Lines that lie inside
/// one chunk are handed out without copying; only a line that straddles two chunks is
/// assembled in the carry buffer.
#[derive(Debug, Clone, Default)]
pub struct LineSplitter {
    carry: Vec<u8>,
}

impl LineSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        LineSplitter::default()
    }

    /// Feeds a chunk; calls `on_line` with each complete line (without `\n`).
    pub fn push(&mut self, chunk: &[u8], mut on_line: impl FnMut(&[u8])) {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(nl) => {
                    self.carry.extend_from_slice(&rest[..nl]);
                    on_line(&self.carry);
                    self.carry.clear();
                    rest = &rest[nl + 1..];
                }
                None => {
                    self.carry.extend_from_slice(rest);
                    return;
                }
            }
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', rest) {
            on_line(&rest[start..nl]);
            start = nl + 1;
        }
        self.carry.extend_from_slice(&rest[start..]);
    }

    /// Ends the stream: hands out a last line that had no `\n`.
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.carry.is_empty() {
            on_line(&self.carry);
            self.carry.clear();
        }
    }

    /// Bytes held back waiting for the end of their line.
    pub fn pending(&self) -> usize {
        self.carry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    /// What a parser made of a line, with every column as `Record::column` gives it (and
    /// two past the end), for comparing parsers.
    fn outcome(parser: &mut Parser, buf: &mut RecordBuf, line: &[u8]) -> String {
        match parser.parse_line(line, buf) {
            Err(e) => format!("error {e}"),
            Ok(None) => String::from("none"),
            Ok(Some(r)) => {
                let columns: Vec<_> = (0..r.column_count() + 2).map(|i| r.column(i)).collect();
                format!("{} {} {:?} {:?} {:?}", r.column_count(), r.extra_columns(), columns, r.validate(), r.line())
            }
        }
    }

    /// A naive `split` on TAB, as `outcome` shows a record's columns.
    fn naive_columns(line: &[u8]) -> Vec<Option<&[u8]>> {
        let mut v: Vec<_> = line.split(|&b| b == b'\t').map(|f| (!f.is_empty() && f != b"-").then_some(f)).collect();
        v.extend([None, None]);
        v
    }

    #[test]
    fn split_matches_a_naive_split() {
        let lines: [&[u8]; 7] = [b"", b"\t", b"a", b"a\tb", b"\t\t\t\t\t\t\t\t\t", b"0123456\t89abcdef\t\x89\x09x", b"\xff\xfe\t\x80\x7f\x09\x08\x0a"];
        for line in lines {
            let mut fields = cflog_simd::Fields::new();
            fields.split(line, usize::MAX);
            let b = fields.bounds();
            let got: Vec<&[u8]> = b.windows(2).map(|w| &line[w[0] as usize..w[1] as usize - 1]).collect();
            let want: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
            assert_eq!(got, want, "{line:?}");
        }
    }

    #[test]
    fn parse_next_refuses_a_long_line_and_goes_on() {
        let long = [b'a'; MAX_LINE_LEN + 1];
        for (line, crlf, refused) in [(&long[..], false, true), (&long[1..], true, false), (&long[..], true, true)] {
            let data = [&b"x\ty\n"[..], line, if crlf { &b"\r\nz\n"[..] } else { &b"\nz\n"[..] }].concat();
            let mut parser = Parser::realtime(Schema::from_field_names(&["c-ip"]).unwrap());
            let mut rec = RecordBuf::new();
            let (first, second_at) = parser.parse_next(&data, 0, &mut rec).unwrap();
            assert!(matches!(first, Err(ParseError { line: 1, .. })), "two fields, not one");
            let (second, next) = parser.parse_next(&data, second_at, &mut rec).unwrap();
            match second {
                Err(e) => assert!(refused && matches!(e.kind, ParseErrorKind::TooLong { .. }) && e.line == 2, "{e}"),
                Ok(r) => assert!(!refused && r.unwrap().line().len() == MAX_LINE_LEN),
            }
            assert_eq!(&data[next..], b"z\n");
            let (third, _) = parser.parse_next(&data, next, &mut rec).unwrap();
            assert_eq!(third.unwrap().unwrap().column(0), Some(&b"z"[..]));
        }
        crate::fuzz::parse_next_agrees(&[&b"a\n"[..], &long[..], b"\nb"].concat());
    }

    #[test]
    fn reading_few_fields_still_finds_the_others() {
        let schema = Schema::realtime_release(46).unwrap();
        let line: Vec<u8> = (0..46).map(|i| format!("v{i}")).collect::<Vec<_>>().join("\t").into_bytes();
        let mut parser = Parser::realtime(schema).reading(&[Field::ClientIp]);
        let mut buf = RecordBuf::new();
        let record = parser.parse_line(&line, &mut buf).unwrap().unwrap();
        assert!(record.bounds.len() < 46, "bounds of every column were recorded");
        for i in 0..46 {
            assert_eq!(record.column(i), Some(format!("v{i}").as_bytes()), "column {i}");
        }
        assert_eq!(record.column(46), None);
        assert_eq!(record.column(usize::MAX), None);
        // An empty buffer (a view before any parse) has no columns.
        let empty = RecordBuf::new();
        assert_eq!(parser.view(b"a\tb", &empty, 1).column(0), None);
    }

    fn line_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![4 => Just(b'\t'), 2 => Just(b'-'), 2 => Just(b'1'), 1 => Just(b' '), 1 => Just(b'#'), 1 => Just(b'\r'), 4 => any::<u8>()],
            0..max,
        )
    }

    fn some_fields() -> impl Strategy<Value = Vec<Field>> {
        proptest::collection::vec(proptest::sample::select(Field::ALL.to_vec()), 0..6)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Standard logs (any column count is a record): with or without `reading`, every
        /// column, count and validation equals a naive split's; `#Fields:` lines change the
        /// layout (and how far to split) mid-stream.
        #[test]
        fn reading_parses_as_the_full_split(lines in proptest::collection::vec(line_bytes(300), 1..8), fields in some_fields(), header in 0usize..8) {
            let mut full = Parser::standard();
            let mut lazy = Parser::standard().reading(&fields);
            let mut naive = Parser::standard();
            let (mut full_buf, mut lazy_buf, mut naive_buf) = (RecordBuf::new(), RecordBuf::new(), RecordBuf::new());
            for (k, line) in lines.iter().enumerate() {
                let line: &[u8] = if k == header { b"#Fields: date time x-edge-location sc-bytes c-ip cs-method" } else { line };
                let want = outcome(&mut full, &mut full_buf, line);
                prop_assert_eq!(&outcome(&mut lazy, &mut lazy_buf, line), &want);
                if let Ok(Some(r)) = naive.parse_line(line, &mut naive_buf) {
                    let trimmed = r.line();
                    let columns: Vec<_> = (0..r.column_count() + 2).map(|i| r.column(i)).collect();
                    prop_assert_eq!(columns, naive_columns(trimmed));
                }
            }
        }

        /// The remembered date (`Parser::date_days`) gives what parsing the column gives: a
        /// stream of standard lines whose dates repeat, change, break and go missing (and a
        /// `#Fields:` line that moves the date column), each record's timestamp (value or
        /// error) against the same record rebuilt by `view`, which remembers nothing.
        #[test]
        fn remembered_dates_are_parsed_dates(
            lines in proptest::collection::vec((0usize..7, 0usize..4, any::<bool>()), 1..40),
            reading in any::<bool>(),
        ) {
            let dates: [&[u8]; 7] = [b"2026-11-01", b"2026-11-02", b"2024-02-29", b"2023-02-29", b"2026-1-010", b"-", b"2026-11-01x"];
            let times: [&[u8]; 4] = [b"00:00:00", b"23:59:60", b"24:00:00", b"-"];
            let mut parser = if reading { Parser::standard().reading(&[Field::Date, Field::Time]) } else { Parser::standard() };
            let mut buf = RecordBuf::new();
            for (k, &(d, t, moved)) in lines.iter().enumerate() {
                let line = if moved && k % 5 == 4 {
                    b"#Fields: time x-edge-location date".to_vec()
                } else if parser.schema().column_of(Field::Date) == Some(0) {
                    [dates[d], b"\t", times[t], b"\tLAX1"].concat()
                } else {
                    [times[t], b"\tLAX1\t", dates[d]].concat()
                };
                let got = match parser.parse_line(&line, &mut buf) {
                    Ok(Some(r)) => (r.line_number(), format!("{:?}", r.timestamp_ms())),
                    _ => continue,
                };
                let want = format!("{:?}", parser.view(&line, &buf, got.0).timestamp_ms());
                prop_assert_eq!(got.1, want, "line {:?}", String::from_utf8_lossy(&line));
            }
        }

        /// `parse_next` over a buffer of lines (CRLF, blank, `#`, white-space-led, long,
        /// short, a last line without `\n`) gives what `parse_line` gives line by line
        /// (`crate::fuzz::parse_next_agrees`, also run by the fuzz target and its corpus).
        #[test]
        fn parse_next_is_parse_line(lines in proptest::collection::vec(line_bytes(200), 0..12), crlf in any::<bool>(), last_newline in any::<bool>()) {
            let mut data = lines.join(if crlf { &b"\r\n"[..] } else { &b"\n"[..] });
            if last_newline {
                data.push(b'\n');
            }
            crate::fuzz::parse_next_agrees(&data);
        }

        /// Real-time records of 46 fields ± a few: the same counts, errors and columns.
        #[test]
        fn reading_realtime_as_the_full_split(values in proptest::collection::vec(line_bytes(40), 40..50), fields in some_fields()) {
            let values: Vec<Vec<u8>> = values.into_iter().map(|v| v.into_iter().filter(|&b| b != b'\t' && b != b'\n').collect()).collect();
            let line = values.join(&b'\t');
            let schema = Schema::realtime_release(46).unwrap();
            let mut full = Parser::realtime(schema.clone());
            let mut lazy = Parser::realtime(schema).reading(&fields);
            let (mut a, mut b) = (RecordBuf::new(), RecordBuf::new());
            prop_assert_eq!(outcome(&mut lazy, &mut b, &line), outcome(&mut full, &mut a, &line));
        }
    }
}
