//! Baselines for `bench/compare.py` and `bench/analyze.py`:
//! `cflog-scan scan FILE` is the fastest honest scan of a plain file: 1 MiB reads straight
//! into a page-aligned buffer (no `BufReader`, no trait object, no copy of the chunk; only
//! a line that straddles two reads is moved, to just before the next read's window), then
//! memchr for each newline and memchr's counting of the TABs within that line: the least
//! work any parser of these logs must do. `cflog-scan decode FILE.gz` only decompresses,
//! with the decoder `cflog` uses. `cflog-scan typed10 FILE` parses a file held in memory
//! (real-time with the 46-field layout, or a standard log when the file starts with `#`)
//! and reads ten fields, with the parser told which ([`cflog_core::Parser::reading`]);
//! `typed10-all` the same with every column split. `min-typed10 FILE [ROUNDS]` (and
//! `min-typed10-all`, `min-memchr`) times the same in-process, fastest of ROUNDS.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: cflog-scan scan|decode|typed10|typed10-all FILE, or cflog-scan min-typed10|min-typed10-all|min-memchr FILE [ROUNDS]");
        return ExitCode::from(2);
    };
    if let Some(inner) = mode.strip_prefix("min-") {
        return min_of_rounds(inner, path, args.get(3).and_then(|r| r.parse().ok()).unwrap_or(50));
    }
    if mode == "typed10" || mode == "typed10-all" {
        // Whole file in memory, as the criterion bench does, for profiling.
        let data = std::fs::read(path).expect("read");
        let mut parser = if data.first() == Some(&b'#') {
            cflog_core::Parser::standard()
        } else {
            cflog_core::Parser::realtime(cflog_core::Schema::realtime_release(46).expect("release 46"))
        };
        if mode == "typed10" {
            parser = parser.reading(cflog_bench::TYPED10);
        }
        println!("{}", cflog_bench::parse_typed10(&data, parser));
        return ExitCode::SUCCESS;
    }
    if mode == "scan" {
        return match scan(path) {
            Ok((bytes, lines, fields)) => {
                println!("{bytes} bytes, {lines} lines, {fields} fields");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{path}: {e}");
                ExitCode::from(1)
            }
        };
    }
    let mut input = match cflog_cli::input::open(path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(1);
        }
    };
    let mut bytes = 0u64;
    let result = cflog_cli::input::for_each_chunk(&mut input, |chunk| bytes += chunk.len() as u64);
    if let Err(e) = result {
        eprintln!("{e:#}");
        return ExitCode::from(1);
    }
    println!("{bytes} bytes decoded");
    ExitCode::SUCCESS
}

/// `min-typed10 FILE [ROUNDS]`, `min-typed10-all`, `min-memchr`: the file held in memory,
/// parsed (or scanned by `cflog_bench::memchr_scan`) ROUNDS times in this process; prints
/// the fastest and the median round. On a shared, loaded machine the fastest of many
/// rounds moves far less than criterion's median.
fn min_of_rounds(mode: &str, path: &str, rounds: usize) -> ExitCode {
    let data = std::fs::read(path).expect("read");
    let standard = data.first() == Some(&b'#');
    let mut times = Vec::with_capacity(rounds);
    let mut check = 0u64;
    for _ in 0..rounds.max(1) {
        let parser = if standard {
            cflog_core::Parser::standard()
        } else {
            cflog_core::Parser::realtime(cflog_core::Schema::realtime_release(46).expect("release 46"))
        };
        let t = std::time::Instant::now();
        check = match mode {
            "typed10" => cflog_bench::parse_typed10(&data, parser.reading(cflog_bench::TYPED10)),
            "typed10-all" => cflog_bench::parse_typed10(&data, parser),
            "memchr" => cflog_bench::memchr_scan(&data),
            _ => {
                eprintln!("min-{mode}: not a mode (typed10, typed10-all, memchr)");
                return ExitCode::from(2);
            }
        };
        times.push(t.elapsed());
        std::hint::black_box(check);
    }
    times.sort();
    println!("{mode} min {:.3} ms median {:.3} ms ({} rounds, {check})", times[0].as_secs_f64() * 1e3, times[times.len() / 2].as_secs_f64() * 1e3, times.len());
    ExitCode::SUCCESS
}

const PAGE: usize = 4096;
const READ: usize = 1 << 20;
/// Room before the read window for the unfinished line of the previous read; a longer
/// line (none in real logs) goes through `long_line`.
const CARRY_ROOM: usize = 64 * 1024;

/// Bytes, lines and fields (TABs + 1 per line) of a plain file.
fn scan(path: &str) -> std::io::Result<(u64, u64, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut storage = vec![0u8; CARRY_ROOM + READ + PAGE];
    let window = storage.as_ptr().align_offset(PAGE).min(PAGE) + CARRY_ROOM;
    let (mut bytes, mut lines, mut fields) = (0u64, 0u64, 0u64);
    let mut carry = 0usize; // bytes of an unfinished line just before `window`
    let mut long_line: Vec<u8> = Vec::new();
    loop {
        let n = match file.read(&mut storage[window..window + READ]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        bytes += n as u64;
        let data = &storage[window - carry..window + n];
        let mut start = 0;
        if !long_line.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(nl) => {
                    long_line.extend_from_slice(&data[..nl]);
                    count_line(&long_line, &mut lines, &mut fields);
                    long_line.clear();
                    start = nl + 1;
                }
                None => {
                    long_line.extend_from_slice(data);
                    carry = 0;
                    continue;
                }
            }
        }
        let base = start;
        for nl in memchr::memchr_iter(b'\n', &data[base..]) {
            count_line(&data[start..base + nl], &mut lines, &mut fields);
            start = base + nl + 1;
        }
        let rest = data.len() - start;
        if rest > CARRY_ROOM {
            long_line.extend_from_slice(&data[start..]);
            carry = 0;
        } else {
            let from = window - carry + start;
            storage.copy_within(from..from + rest, window - rest);
            carry = rest;
        }
    }
    long_line.extend_from_slice(&storage[window - carry..window]);
    if !long_line.is_empty() {
        count_line(&long_line, &mut lines, &mut fields);
    }
    Ok((bytes, lines, fields))
}

fn count_line(line: &[u8], lines: &mut u64, fields: &mut u64) {
    *lines += 1;
    *fields += memchr::memchr_iter(b'\t', line).count() as u64 + 1;
}
