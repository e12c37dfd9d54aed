//! Baselines for `bench/analyze.py`, reading input exactly as `cflog` does (same 1 MiB
//! page-aligned reads, same gzip decoder):
//! `cflog-scan scan FILE` finds every line and every TAB (memchr), the least work any
//! parser of these logs must do; `cflog-scan decode FILE.gz` only decompresses.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: cflog-scan scan|decode FILE");
        return ExitCode::from(2);
    };
    if mode == "typed10" {
        // Whole file in memory, as the criterion bench does, for profiling.
        let data = std::fs::read(path).expect("read");
        let schema = cflog_core::Schema::realtime_release(46).expect("release 46");
        println!("{}", cflog_bench::parse_typed10(&data, cflog_core::Parser::realtime(schema)));
        return ExitCode::SUCCESS;
    }
    let mut input = match cflog_cli::input::open(path) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(1);
        }
    };
    let mut fields = 0u64;
    let mut bytes = 0u64;
    let mut carry: Vec<u8> = Vec::new();
    let result = cflog_cli::input::for_each_chunk(&mut input, |chunk| {
        bytes += chunk.len() as u64;
        if mode == "scan" {
            // Lines that straddle chunks are scanned once the rest arrives.
            let cut = memchr::memrchr(b'\n', chunk).map_or(0, |p| p + 1);
            if carry.is_empty() {
                fields += cflog_bench::memchr_scan(&chunk[..cut]);
            } else {
                carry.extend_from_slice(&chunk[..cut]);
                fields += cflog_bench::memchr_scan(&carry);
                carry.clear();
            }
            carry.extend_from_slice(&chunk[cut..]);
        }
    });
    if let Err(e) = result {
        eprintln!("{e:#}");
        return ExitCode::from(1);
    }
    println!("{bytes} bytes, {fields} fields");
    ExitCode::SUCCESS
}
