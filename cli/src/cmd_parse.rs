//! `cflog parse`: typed NDJSON, one object per record.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use cflog_core::filter::Filter;

use crate::input::{self, LineError};
use crate::layout::LayoutChoice;
use crate::report_errors::ErrorReporter;
use crate::sources::{self, Inputs};

/// What a `cflog parse` run ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Lines that were not records.
    pub bad_lines: u64,
    /// Inputs that could not be read, or not to the end (with `--keep-going`).
    pub bad_inputs: usize,
}

/// `parse` stops when this many lines in a row, from the first, are bad.
pub const GIVE_UP_AFTER: u64 = 1000;

/// How `cflog parse` runs.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Print at most this many bad lines (all are counted); `None` prints all.
    pub max_errors: Option<u64>,
    /// Records printed.
    pub filter: Filter,
    /// Print viewer addresses truncated (`--anonymize-ip`).
    pub anonymize_ip: bool,
}

/// Runs `cflog parse` over `inputs`.
pub fn run(inputs: Inputs, layout: &LayoutChoice, options: &ParseOptions) -> Result<Outcome> {
    let (max_errors, filter) = (options.max_errors, &options.filter);
    let json_options = cflog_core::json::JsonOptions::default().anonymize_ip(options.anonymize_ip);
    let Inputs { paths, mut problems } = inputs;
    let total = paths.len() + problems.count();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut errors = ErrorReporter::new(max_errors);
    let mut json = Vec::with_capacity(4096);
    let mut write_err = None;
    let mut filtered_out = 0u64;
    for path in &paths {
        let mut input = match input::open(path) {
            Ok(i) => i,
            Err(e) => {
                problems.input_failed(e)?;
                continue;
            }
        };
        let name = input.name.clone();
        let read = input::for_each_record_while(&mut input, layout, |_| {}, |record| {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errors.report(&name, &e);
                    // Every line so far bad: the layout is wrong, not the lines.
                    return errors.records() > 0 || errors.bad() < GIVE_UP_AFTER;
                }
            };
            match filter.keep(&record) {
                Ok(true) => {}
                // Bad lines are bad whatever the filter (what `parse` would print is checked).
                Ok(false) => {
                    match record.validate() {
                        Ok(()) => {
                            filtered_out += 1;
                            errors.good();
                        }
                        Err(e) => errors.report(&name, &LineError::Parse(e)),
                    }
                    return true;
                }
                Err(e) => {
                    errors.report(&name, &LineError::Parse(e));
                    return true;
                }
            }
            json.clear();
            match cflog_core::json::write_record_with(&record, json_options, &mut json) {
                Ok(()) => {
                    json.push(b'\n');
                    if write_err.is_none()
                        && let Err(e) = out.write_all(&json) {
                            write_err = Some(e);
                        }
                    errors.good();
                }
                Err(e) => errors.report(&name, &LineError::Parse(e)),
            }
            true
        });
        if errors.records() == 0 && errors.bad() >= GIVE_UP_AFTER {
            let _ = out.flush();
            anyhow::bail!(
                "{name}: the first {GIVE_UP_AFTER} lines are all bad, so cflog parse stopped: check --fields (the real-time \
                 log config's field set, e.g. --fields @config.json) or --format"
            );
        }
        if let Some(e) = write_err.take() {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(Outcome { bad_lines: errors.bad(), bad_inputs: problems.count() });
            }
            return Err(e.into());
        }
        if let Err(e) = read {
            problems.input_failed(e)?;
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    errors.summary(paths.len());
    problems.print(total);
    problems.all_failed(total, errors.records() + errors.bad() > 0)?;
    sources::note_no_records(errors.records(), errors.bad(), &paths);
    crate::filter_args::note_kept(filter, errors.records() - filtered_out, filtered_out);
    Ok(Outcome { bad_lines: errors.bad(), bad_inputs: problems.count() })
}
