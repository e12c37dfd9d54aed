//! Writes generated logs to stdout: `cargo run --release -p cflog-gen --example gen -- [realtime|standard] [lines] [seed]`.

use std::io::{self, BufWriter};
use std::time::Instant;

use cflog_gen::{GenOptions, generate};
use cflog_core::Format;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let format = match args.first().map(String::as_str) {
        Some("standard") => Format::Standard,
        _ => Format::RealTime,
    };
    let lines = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let opts = GenOptions { format, lines, seed, ..GenOptions::default() };
    let started = Instant::now();
    let stdout = io::stdout();
    generate(&opts, BufWriter::with_capacity(1 << 20, stdout.lock()))?;
    eprintln!("{lines} lines in {:.3} s", started.elapsed().as_secs_f64());
    Ok(())
}
