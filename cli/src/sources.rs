//! Which inputs a command reads: its FILE arguments (files, directories, glob patterns,
//! `-`) and `--files-from`, resolved once before anything is read; and what happens when
//! an input cannot be read (`--keep-going`). `cflog parse` and `cflog analyze` share it.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;

use crate::input;

/// The input arguments of `parse` and `analyze`.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Inputs: log files (plain or gzip, multi-member too, detected by content; cflog's
    /// NDJSON, standard logging v2 JSON and Parquet too), directories (read recursively:
    /// `*.gz`, `*.log`, `*.ndjson`, `*.jsonl`, and other files, Parquet too, whose first
    /// line or row is a CloudFront record), glob patterns that the
    /// shell did not expand (`'logs/*.gz'`, `'logs/**/*.gz'`), or `s3://BUCKET/PREFIX`
    /// (every object under it, fetched in parallel). `-` or nothing reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// Also read the inputs listed in FILE (`-`: stdin), one path or `s3://BUCKET/PREFIX`
    /// per line, as `find logs -name '*.gz' | cflog analyze --files-from -` does.
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<String>,
    /// The `--files-from` list once read (its `s3://` entries replaced by their local
    /// copies), so that it is read only once.
    #[arg(skip)]
    pub listed: Option<Vec<String>>,
    /// Report an input that cannot be read (missing, unreadable, binary, a truncated gzip)
    /// and go on with the others; the exit code is then 3. The default is to stop with
    /// exit code 1.
    #[arg(long)]
    pub keep_going: bool,
    /// AWS endpoint for `s3://` inputs (e.g. a local moto server); region and credentials
    /// come from the usual AWS chain.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

/// The inputs of one command, in order.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Paths to open (`-` is stdin).
    pub paths: Vec<String>,
    /// Inputs already known to be unusable (with `--keep-going`).
    pub problems: Problems,
}

/// Inputs that could not be read, or not to the end. With `--keep-going` each is recorded
/// and the run goes on; without it the first one ends the run.
#[derive(Debug, Default)]
pub struct Problems {
    keep_going: bool,
    messages: Vec<String>,
}

impl Problems {
    /// No problems yet.
    pub fn new(keep_going: bool) -> Self {
        Problems { keep_going, messages: Vec::new() }
    }

    /// With `--keep-going`, records `error` and returns `Ok`; otherwise returns it.
    pub fn input_failed(&mut self, error: anyhow::Error) -> Result<()> {
        if !self.keep_going {
            return Err(error);
        }
        self.messages.push(format!("{error:#}"));
        Ok(())
    }

    /// Adds the failures of `later` (a later stage of the same run).
    pub fn extend(&mut self, later: Problems) {
        self.messages.extend(later.messages);
    }

    /// How many inputs failed.
    pub fn count(&self) -> usize {
        self.messages.len()
    }

    /// The failures, as messages.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Prints each failure and a count on stderr. `inputs` is the number of inputs that
    /// were to be read.
    pub fn print(&self, inputs: usize) {
        if self.messages.is_empty() {
            return;
        }
        for m in &self.messages {
            eprintln!("cflog: {m}");
        }
        eprintln!(
            "cflog: {} of {} input(s) could not be read, or not to the end (--keep-going: the rest was read)",
            self.messages.len(),
            inputs
        );
    }

    /// An error when every input failed and nothing was read: there is nothing to report on.
    pub fn all_failed(&self, inputs: usize, anything_read: bool) -> Result<()> {
        if !anything_read && inputs > 0 && self.messages.len() >= inputs {
            bail!("no input could be read");
        }
        Ok(())
    }
}

/// Says "0 records" on stderr when nothing was read, so an empty input is not mistaken for
/// a hang or a crash (it is not an error).
pub fn note_no_records(records: u64, bad_lines: u64, names: &[String]) {
    if records > 0 || bad_lines > 0 {
        return;
    }
    match names {
        [one] => eprintln!("cflog: 0 records: {} holds no log lines", display_name(one)),
        many => eprintln!("cflog: 0 records in {} inputs", many.len()),
    }
}

/// The name of an input in messages (`-` is `<stdin>`).
pub fn display_name(path: &str) -> &str {
    if path == "-" { "<stdin>" } else { path }
}

/// Resolves the input arguments: `--files-from` lists, directories, patterns. A missing
/// input is an error, or with `--keep-going` a recorded problem.
pub fn resolve(args: &InputArgs) -> Result<Inputs> {
    let mut problems = Problems::new(args.keep_going);
    // (argument, whether it may be a pattern): lines of a --files-from list are paths.
    let mut listed: Vec<(String, bool)> = args.files.iter().map(|f| (f.clone(), true)).collect();
    match (&args.listed, &args.files_from) {
        (Some(list), _) => listed.extend(list.iter().map(|l| (l.clone(), false))),
        (None, Some(list)) => listed.extend(read_files_from(list, &args.files)?.into_iter().map(|l| (l, false))),
        (None, None) if listed.is_empty() => listed.push(("-".into(), false)),
        (None, None) => {}
    }
    let mut walk = Walk::default();
    let mut paths = Vec::new();
    for (arg, may_be_pattern) in listed {
        if arg == "-" {
            paths.push(arg);
            continue;
        }
        // Fetched before this when the binary can (feature `aws`).
        if arg.starts_with("s3://") {
            let message = crate::features::missing_feature(std::slice::from_ref(&arg), crate::features::enabled);
            problems.input_failed(anyhow!(message.unwrap_or_else(|| format!("{arg}: S3 inputs were not fetched"))))?;
            continue;
        }
        match fs::metadata(&arg) {
            Ok(m) if m.is_dir() => walk.dir(Path::new(&arg), &mut paths, &mut problems)?,
            Ok(_) => paths.push(arg),
            Err(e) if e.kind() == io::ErrorKind::NotFound && may_be_pattern && is_pattern(&arg) => {
                expand(&arg, &mut walk, &mut paths, &mut problems)?;
            }
            Err(e) => problems.input_failed(anyhow!(e).context(format!("cannot open {arg}")))?,
        }
    }
    walk.report();
    Ok(Inputs { paths, problems })
}

/// The entries of a `--files-from` list (`-`: stdin), one per line, blank lines left out.
/// `files` are the FILE arguments (stdin cannot be both the list and an input).
pub fn read_files_from(list: &str, files: &[String]) -> Result<Vec<String>> {
    if list == "-" && files.iter().any(|f| f == "-") {
        bail!("`--files-from -` reads the list from stdin, so stdin cannot also be an input");
    }
    let text = if list == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).context("cannot read the --files-from list from stdin")?;
        text
    } else {
        fs::read_to_string(list).with_context(|| format!("cannot read --files-from {list}"))?
    };
    Ok(text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).map(str::to_string).collect())
}

fn is_pattern(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

/// Expands a glob pattern (for shells that pass it unexpanded: quoted, or Windows).
fn expand(pattern: &str, walk: &mut Walk, paths: &mut Vec<String>, problems: &mut Problems) -> Result<()> {
    let options = glob::MatchOptions { require_literal_leading_dot: true, ..glob::MatchOptions::new() };
    let matches = glob::glob_with(pattern, options).map_err(|e| anyhow!("bad pattern {pattern:?}: {e}"))?;
    let mut any = false;
    for m in matches {
        any = true;
        let path = match m {
            Ok(p) => p,
            Err(e) => {
                problems.input_failed(anyhow!("{pattern}: cannot read {}: {}", e.path().display(), e.error()))?;
                continue;
            }
        };
        if path.is_dir() {
            walk.dir(&path, paths, problems)?;
        } else {
            paths.push(path_string(&path)?);
        }
    }
    if !any {
        problems.input_failed(anyhow!("no file matches {pattern}"))?;
    }
    Ok(())
}

fn path_string(path: &Path) -> Result<String> {
    path.to_str().map(str::to_string).ok_or_else(|| anyhow!("{}: the path is not UTF-8", path.display()))
}

/// Recursive directory reading, in name order; counts the files left out.
#[derive(Debug, Default)]
struct Walk {
    skipped: usize,
    dirs_with_skips: Vec<String>,
    seen: HashSet<PathBuf>,
}

impl Walk {
    fn dir(&mut self, dir: &Path, paths: &mut Vec<String>, problems: &mut Problems) -> Result<()> {
        // A symbolic link back up the tree must not loop.
        if let Ok(canonical) = fs::canonicalize(dir)
            && !self.seen.insert(canonical)
        {
            return Ok(());
        }
        let listing = match fs::read_dir(dir) {
            Ok(l) => l,
            Err(e) => return problems.input_failed(anyhow!(e).context(format!("cannot read directory {}", dir.display()))),
        };
        let mut entries: Vec<PathBuf> = Vec::new();
        for entry in listing {
            match entry {
                Ok(e) => entries.push(e.path()),
                Err(e) => problems.input_failed(anyhow!(e).context(format!("cannot read directory {}", dir.display())))?,
            }
        }
        entries.sort();
        let skipped_before = self.skipped;
        for path in entries {
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => self.dir(&path, paths, problems)?,
                Ok(m) if m.is_file() && is_log_file(&path) => paths.push(path_string(&path)?),
                Ok(_) => self.skipped += 1,
                Err(e) => problems.input_failed(anyhow!(e).context(format!("cannot open {}", path.display())))?,
            }
        }
        if self.skipped > skipped_before {
            self.dirs_with_skips.push(dir.display().to_string());
        }
        Ok(())
    }

    /// Says once how many files were left out, and where.
    fn report(&self) {
        if self.skipped == 0 {
            return;
        }
        let place = match self.dirs_with_skips.as_slice() {
            [one] => format!("in {one}"),
            many => format!("in {} directories", many.len()),
        };
        eprintln!(
            "cflog: skipped {} file(s) {place} that are not logs (name not *.gz, *.log, *.ndjson or *.jsonl, \
             and no CloudFront record on the first line; or binary)",
            self.skipped
        );
    }
}

/// Whether a file found in a directory is a log: named `*.gz`, `*.log`, `*.ndjson` or
/// `*.jsonl` and not binary, or named otherwise (CloudFront's own names, Firehose objects
/// without an extension, `*.json` and `*.parquet` files) with a CloudFront record on its
/// first line (gunzipped first; a Parquet file's first row, as a JSON line). A
/// file that cannot be opened is taken, so that reading it reports why.
pub fn is_log_file(path: &Path) -> bool {
    let by_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["gz", "log", "ndjson", "jsonl"].iter().any(|x| e.eq_ignore_ascii_case(x)));
    let Ok(mut input) = input::open(&path.to_string_lossy()) else { return true };
    let mut head = Vec::with_capacity(4096);
    if (&mut input.reader).take(4096).read_to_end(&mut head).is_err() {
        return true;
    }
    if by_name { !input::looks_binary(&head) } else { looks_like_log(&head) }
}

/// Whether `head` (the decoded start of a file) starts with a CloudFront log line: a W3C
/// header, a standard row (`YYYY-MM-DD<TAB>`), a real-time record (TAB-separated, starting
/// with an epoch timestamp or with as many fields as an AWS release), or one of cflog's
/// NDJSON records.
pub fn looks_like_log(head: &[u8]) -> bool {
    if input::looks_binary(head) {
        return false;
    }
    let line = cflog_core::layout::first_line(head);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"#") {
        return line.starts_with(b"#Version:") || line.starts_with(b"#Fields:");
    }
    if line.starts_with(b"{") {
        return cflog_engine::ndjson::looks_like_record(line);
    }
    if cflog_core::layout::detect(line) == cflog_core::Format::Standard {
        return true;
    }
    let fields = memchr::memchr_iter(b'\t', line).count() + 1;
    let first = line.split(|&b| b == b'\t').next().unwrap_or_default();
    let epoch = first.len() >= 12
        && first.iter().position(|&b| b == b'.').is_some_and(|dot| dot >= 9)
        && cflog_core::grammar::parse_epoch_seconds_ms(first).is_some();
    fields > 1 && (epoch || cflog_core::Schema::realtime_release(fields).is_some())
}

/// The input arguments with every `s3://` prefix replaced by local copies of its objects
/// (feature `aws`), and the guard that removes them.
#[cfg(feature = "aws")]
pub fn fetch_s3(inputs: &InputArgs, filter: &cflog_core::filter::Filter) -> anyhow::Result<(Option<crate::s3::Fetched>, InputArgs)> {
    let mut args = inputs.clone();
    // Keys whose hour lies outside --since/--until are not fetched.
    let options = crate::s3::S3Options {
        endpoint_url: inputs.endpoint_url.clone(),
        since_ms: filter.since_ms(),
        until_ms: filter.until_ms(),
        ..Default::default()
    };
    // The list is read here, once: its `s3://` entries are fetched with the others.
    let mut listed = match args.files_from.take() {
        Some(list) => read_files_from(&list, &args.files)?,
        None => Vec::new(),
    };
    let fetched = crate::s3::fetch_inputs(&mut [&mut args.files, &mut listed], &options)?;
    if inputs.files_from.is_some() {
        args.listed = Some(listed);
    }
    Ok((fetched, args))
}

#[cfg(not(feature = "aws"))]
pub fn fetch_s3(inputs: &InputArgs, _filter: &cflog_core::filter::Filter) -> anyhow::Result<(Option<()>, InputArgs)> {
    if let Some(message) = crate::features::missing_feature(&inputs.files, crate::features::enabled) {
        anyhow::bail!(message);
    }
    Ok((None, inputs.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_looks_like_a_log() {
        assert!(looks_like_log(b"#Version: 1.0\n#Fields: date time\n"));
        assert!(looks_like_log(b"2019-12-04\t21:02:31\tLAX1\n"));
        assert!(looks_like_log(b"1607374321.541\t192.0.2.1\t200\n"));
        assert!(looks_like_log(vec!["-"; 46].join("\t").as_bytes()));
        assert!(looks_like_log(br#"{"timestamp":1607374321.541,"c-ip":"192.0.2.1"}"#));
        assert!(!looks_like_log(b"#!/bin/sh\necho hi\n"));
        assert!(!looks_like_log(b"# cflog\n\nThe tool for watching...\n"));
        assert!(!looks_like_log(br#"{"schema_version":3}"#));
        assert!(!looks_like_log(b"a\tb\tc\n"));
        assert!(!looks_like_log(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
    }
}
