//! `cflog parse`: typed NDJSON, one object per record.

use std::io::{self, BufWriter, Write};

use anyhow::Result;

use crate::input;
use crate::layout::LayoutChoice;
use crate::report_errors::ErrorReporter;

/// Runs `cflog parse` over `paths`; returns how many lines were bad.
pub fn run(paths: &[String], layout: &LayoutChoice, max_errors: Option<u64>) -> Result<u64> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut errors = ErrorReporter::new(max_errors);
    let mut json = Vec::with_capacity(4096);
    let mut write_err = None;
    for path in paths {
        let mut input = input::open(path)?;
        let name = input.name.clone();
        input::for_each_record(&mut input, layout, |_| {}, |record| {
            let record = match record {
                Ok(r) => r,
                Err(e) => return errors.report(&name, &e),
            };
            json.clear();
            match cflog_core::json::write_record(&record, &mut json) {
                Ok(()) => {
                    json.push(b'\n');
                    if write_err.is_none()
                        && let Err(e) = out.write_all(&json) {
                            write_err = Some(e);
                        }
                    errors.good();
                }
                Err(e) => errors.report(&name, &e),
            }
        })?;
        if let Some(e) = write_err.take() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(errors.bad());
            }
            return Err(e.into());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    errors.summary(paths.len());
    Ok(errors.bad())
}
