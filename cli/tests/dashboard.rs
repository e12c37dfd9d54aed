//! The terminal dashboard as a user sees it: the `cflog` binary's screen at 80, 100 and 160
//! columns compared byte for byte with the snapshots in `tests/snapshots/`, and the same
//! screen drawn under a real pseudo-terminal (util-linux `script`), whose size the binary
//! reads itself.
//!
//! After a deliberate change to the dashboard, regenerate the snapshots with
//! `UPDATE_SNAPSHOTS=1 cargo test -p cflog-cli --test dashboard` and review the diff.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use cflog_testkit::scratch::fresh_dir;

const CFLOG: &str = env!("CARGO_BIN_EXE_cflog");

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(dir)
}

/// A directory holding `two-days.log`: 3,000 generated real-time records over about 42
/// hours, so the screen has a per-day table, IPv6 clients and long user agents. The
/// dashboard names the file as given, so commands run in this directory.
fn data_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Emptied once a run, under the target dir: a OnceLock never drops.
        let dir = fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-tests"));
        let out = Command::new(CFLOG)
            .args(["gen", "--format", "realtime", "--lines", "3000", "--rate", "0.02", "--seed", "7", "-o", "two-days.log"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// `cflog ARGS` in `dir`, stdout a pipe, `COLUMNS` as given (unset otherwise), `NO_COLOR`
/// and `TERM` unset.
fn cflog_in(dir: &Path, columns: Option<usize>, args: &[&str]) -> Output {
    let mut cmd = Command::new(CFLOG);
    cmd.args(args).current_dir(dir).env_remove("COLUMNS").env_remove("NO_COLOR").env_remove("TERM");
    if let Some(c) = columns {
        cmd.env("COLUMNS", c.to_string());
    }
    cmd.output().unwrap()
}

fn screen(out: &Output) -> String {
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn dashboard(columns: usize, args: &[&str]) -> String {
    let args = [&["analyze", "--no-progress", "--threads", "1"][..], args, &["two-days.log"]].concat();
    screen(&cflog_in(data_dir(), Some(columns), &args))
}

/// Compares `actual` with `tests/snapshots/NAME.txt`, or writes it there when
/// `UPDATE_SNAPSHOTS=1`.
fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    if expected != actual {
        let first = expected.lines().zip(actual.lines()).position(|(e, a)| e != a).unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "the screen differs from {} from line {}:\n--- expected\n{}\n--- actual\n{}\n(UPDATE_SNAPSHOTS=1 rewrites the snapshot after a deliberate change)",
            path.display(),
            first + 1,
            expected.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
            actual.lines().skip(first).take(8).collect::<Vec<_>>().join("\n"),
        );
    }
}

/// Display columns of a line (every character the dashboard draws is one column wide,
/// except East Asian wide ones, which this data does not have).
fn columns_of(line: &str) -> usize {
    line.chars().count()
}

fn assert_fits(screen: &str, width: usize) {
    for line in screen.lines() {
        assert!(columns_of(line) <= width, "{} columns at width {width}: {line:?}", columns_of(line));
    }
}

fn is_one_column(screen: &str) -> bool {
    screen.lines().any(|l| l == "Status class") && screen.lines().any(|l| l == "Result type")
}

#[test]
fn the_screen_at_80_100_and_160_columns() {
    for width in [80, 100, 160] {
        let screen = dashboard(width, &[]);
        assert_fits(&screen, width);
        assert_eq!(is_one_column(&screen), width < 100, "{screen}");
        assert!(!screen.contains('\x1b'), "no colour into a pipe");
        snapshot(&format!("two-days-{width}"), &screen);
    }
    // A standard log: no country, ASN or origin latency fields, and the screen says so.
    let standard = screen(&cflog_in(&fixtures("standard"), Some(80), &["analyze", "--no-progress", "aws-doc-2019-33col.log"]));
    assert_fits(&standard, 80);
    snapshot("standard-aws-doc-80", &standard);
}

#[test]
fn without_a_terminal_or_columns_the_screen_is_100_wide() {
    let screen = screen(&cflog_in(data_dir(), None, &["analyze", "--no-progress", "two-days.log"]));
    assert_eq!(screen, dashboard(100, &[]));
}

/// The pseudo-terminal's output: `\r\n` line ends become `\n`.
fn under_a_pty(columns: usize, env: &[(&str, &str)], args: &str) -> String {
    let script = ["/usr/bin/script", "/bin/script"].into_iter().find(|p| Path::new(p).exists()).expect(
        "util-linux `script` runs the binary under a pseudo-terminal (Debian: bsdutils, installed by default)",
    );
    // `stty` sizes the terminal; cflog must read the size from it. The variables are set
    // after `stty`, since the shell (bash's checkwinsize) updates an exported COLUMNS.
    let vars: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let command = format!("stty cols {columns} rows 50 && exec env {} {CFLOG} {args}", vars.join(" "));
    let mut cmd = Command::new(script);
    cmd.args(["-qfec", &command, "/dev/null"]).current_dir(data_dir()).env_remove("COLUMNS").env_remove("NO_COLOR");
    cmd.env("TERM", "xterm-256color");
    let out = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n")
}

fn without_escapes(screen: &str) -> String {
    let mut out = String::new();
    let mut chars = screen.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn under_a_pseudo_terminal_the_terminal_sets_the_width_and_colour() {
    let args = "analyze --no-progress --threads 1 two-days.log";
    let tty80 = under_a_pty(80, &[], args);
    assert!(tty80.contains("\x1b["), "colour on a terminal:\n{tty80}");
    let plain80 = without_escapes(&tty80);
    assert_fits(&plain80, 80);
    assert!(is_one_column(&plain80), "{plain80}");
    // The same screen as through a pipe with COLUMNS=80, colour aside.
    assert_eq!(plain80, dashboard(80, &[]));

    let tty160 = without_escapes(&under_a_pty(160, &[], args));
    assert_fits(&tty160, 160);
    assert!(!is_one_column(&tty160));
    assert_eq!(tty160, dashboard(160, &[]));

    // NO_COLOR, or --color never: no escapes at all.
    assert!(!under_a_pty(80, &[("NO_COLOR", "1")], args).contains('\x1b'));
    assert!(!under_a_pty(80, &[], "analyze --no-progress --color never two-days.log").contains('\x1b'));
    // COLUMNS overrides the terminal.
    assert_eq!(without_escapes(&under_a_pty(80, &[("COLUMNS", "100")], args)), dashboard(100, &[]));
}

#[test]
fn colour_can_be_forced_into_a_pipe() {
    let coloured = dashboard(80, &["--color", "always"]);
    assert!(coloured.contains("\x1b[31m"), "5xx in red");
    assert_eq!(without_escapes(&coloured), dashboard(80, &[]));
}

/// The labels of the rows under TITLE (up to the blank line), in one-column layout.
fn rows_under<'a>(screen: &'a str, title: &str) -> Vec<&'a str> {
    // A title alone, or with its column headers after it (two spaces or more).
    let heads = |l: &str| l == title || l.starts_with(&format!("{title}  "));
    screen.lines().skip_while(|l| !heads(l)).skip(1).take_while(|l| !l.is_empty()).collect()
}

#[test]
fn top_lists_have_as_many_rows_as_top_asks() {
    for top in [3, 12] {
        let screen = dashboard(80, &["--top", &top.to_string()]);
        for title in ["Top URIs", "Top clients", "Top user agents", "Top edge locations", "Top countries", "Top referers"] {
            assert_eq!(rows_under(&screen, title).len(), top, "{title} with --top {top}:\n{screen}");
        }
    }
}

#[test]
fn every_4xx_and_5xx_code_present_is_on_the_screen() {
    let json = screen(&cflog_in(data_dir(), None, &["analyze", "--json", "two-days.log"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let status = report["status"].as_object().unwrap();
    let errors: Vec<&String> = status.keys().filter(|k| k.starts_with('4') || k.starts_with('5')).collect();
    let mut by_count: Vec<(&String, u64)> = status.iter().map(|(k, v)| (k, v.as_u64().unwrap())).collect();
    by_count.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let rare: Vec<&String> = errors.iter().copied().filter(|e| !by_count[..8].iter().any(|(k, _)| k == e)).collect();
    assert!(!rare.is_empty(), "some error codes are not among the eight most common: {by_count:?}");
    let screen = dashboard(80, &[]);
    let rows = rows_under(&screen, "Status");
    for code in errors {
        assert!(rows.iter().any(|r| r.starts_with(&format!(" {code} "))), "{code} missing:\n{}", rows.join("\n"));
    }
}

/// `Requests / 36m  ▆▇… max 60`: the span and the max, read off the screen.
fn sparkline(screen: &str) -> (u64, u64, usize) {
    let line = screen.lines().find(|l| l.starts_with("Requests / ")).unwrap();
    let span = line["Requests / ".len()..].split(' ').next().unwrap();
    let (n, unit) = span.split_at(span.find(|c: char| !c.is_ascii_digit()).unwrap());
    let unit_ms = match unit {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => panic!("unit {other}"),
    };
    let max = line.rsplit(' ').next().unwrap().replace(',', "").parse().unwrap();
    let bars = line.chars().filter(|c| ('▁'..='█').contains(c)).count();
    (n.parse::<u64>().unwrap() * unit_ms, max, bars)
}

#[test]
fn the_sparkline_label_gives_a_column_span_and_its_max_is_a_column_sum() {
    let json = screen(&cflog_in(data_dir(), None, &["analyze", "--json", "two-days.log"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let windows = report["windows"].as_array().unwrap();
    assert!(windows.len() > 1000, "many more windows than columns");
    for width in [80, 100, 160] {
        let screen = dashboard(width, &[]);
        let (span, max, bars) = sparkline(&screen);
        assert!(span > 60_000 && span.is_multiple_of(60_000), "{span}");
        // Recount: windows summed into columns of `span` from a multiple of it.
        let mut columns = std::collections::BTreeMap::<i64, u64>::new();
        for w in windows {
            let start = w["start_ms"].as_i64().unwrap();
            *columns.entry(start.div_euclid(span as i64)).or_default() += w["records"].as_u64().unwrap();
        }
        assert_eq!(max, *columns.values().max().unwrap(), "at {width} columns");
        let (first, last) = (*columns.keys().next().unwrap(), *columns.keys().last().unwrap());
        assert!(bars as i64 <= last - first + 1 && bars * 10 >= (last - first + 1) as usize * 9, "{bars} bars");
        // The time axis: the first column's start and the last one's end.
        let axis = screen.lines().skip_while(|l| !l.starts_with("5xx / ")).nth(1).unwrap();
        assert!(axis.trim_start().starts_with("2026-11-01 00:00") && axis.ends_with(" UTC"), "{axis}");
    }
}

#[test]
fn the_screen_says_what_was_read_and_why_panels_are_empty() {
    let standard = screen(&cflog_in(&fixtures("standard"), Some(80), &["analyze", "--no-progress", "aws-doc-2019-33col.log"]));
    assert_eq!(standard.lines().nth(1), Some("Read aws-doc-2019-33col.log (1.3 KiB): standard log, #Fields header, 33 columns."));
    assert_eq!(rows_under(&standard, "Top countries"), [" (no c-country field in this layout)"]);
    assert_eq!(rows_under(&standard, "Top referers"), [" (cs(Referer) is - on every record)"]);
    let realtime = dashboard(80, &[]);
    assert!(realtime.contains("\nRead two-days.log (3.4 MiB): real-time log, 46 fields, inferred from the field\n  count: the AWS field list of 2024 (s-ip).\n"), "{realtime}");
    // Two standard files, the second with an older layout.
    let both = screen(&cflog_in(
        &fixtures("standard"),
        Some(160),
        &["analyze", "--no-progress", "aws-doc-2019-33col.log", "legacy-2015-19col.log", "concatenated-mixed.log"],
    ));
    let both = both.replace("\n  ", " ");
    assert!(both.contains("\nRead 3 files ("), "{both}");
    assert!(both.contains("legacy-2015-19col.log (") && both.contains("), standard log, #Fields header, 19 columns;"), "{both}");
    // A merged report knows no layout, and says so.
    let report = data_dir().join("two-days.json");
    std::fs::write(&report, cflog_in(data_dir(), None, &["analyze", "--json", "two-days.log"]).stdout).unwrap();
    // (The same report twice is refused, so the second is of the 2xx records only.)
    let second = data_dir().join("two-days-2xx.json");
    std::fs::write(&second, cflog_in(data_dir(), None, &["analyze", "--json", "--status", "2xx", "two-days.log"]).stdout).unwrap();
    let merged = screen(&cflog_in(data_dir(), Some(100), &["merge", "two-days.json", "two-days-2xx.json"]));
    assert!(merged.contains("\nMerged 2 reports: two-days.json, two-days-2xx.json (their logs' layouts are not in the reports).\n"), "{merged}");
}

#[test]
fn a_one_day_window_is_accepted() {
    let json = screen(&cflog_in(data_dir(), None, &["analyze", "--json", "--window", "1d", "two-days.log"]));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["window"]["ms"], 86_400_000);
    assert_eq!(report["windows"].as_array().unwrap().len(), 2);
    let screen = dashboard(100, &["--window", "1d"]);
    assert!(screen.contains("\nRequests / 1d  "), "{screen}");
    assert!(screen.contains("\nPer day (UTC)  Requests"), "{screen}");
}

#[test]
fn runs_over_several_days_have_a_per_day_table() {
    let screen = dashboard(80, &[]);
    let json = screen_json();
    let rows = rows_under(&screen, "Per day (UTC)  Requests       Sent  4xx  5xx   5xx %   Hit %");
    assert_eq!(rows.len(), 2, "{screen}");
    // The rows add up to the report's totals.
    let total: u64 = rows.iter().map(|r| r.split_whitespace().nth(1).unwrap().replace(',', "").parse::<u64>().unwrap()).sum();
    assert_eq!(total, json["records"].as_u64().unwrap());
    let total_5xx: u64 = rows.iter().map(|r| r.split_whitespace().nth(5).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(total_5xx, json["status_class"]["5xx"].as_u64().unwrap());
    // Each day's hit ratio from its windows' hits and misses.
    let days: Vec<(u64, u64)> = (0..2)
        .map(|d| {
            let day = |w: &&serde_json::Value| w["start_ms"].as_i64().unwrap().div_euclid(86_400_000) % 2 == d;
            let ws: Vec<&serde_json::Value> = json["windows"].as_array().unwrap().iter().filter(day).collect();
            (ws.iter().map(|w| w["cache_hits"].as_u64().unwrap()).sum(), ws.iter().map(|w| w["cache_misses"].as_u64().unwrap()).sum())
        })
        .collect();
    let first_day = json["windows"][0]["start_ms"].as_i64().unwrap().div_euclid(86_400_000) % 2;
    for (i, row) in rows.iter().enumerate() {
        let (hits, misses) = days[(first_day as usize + i) % 2];
        assert_eq!(row.split_whitespace().last().unwrap(), format!("{:.1}%", 100.0 * hits as f64 / (hits + misses) as f64), "{row}");
    }
}

fn screen_json() -> serde_json::Value {
    serde_json::from_str(&screen(&cflog_in(data_dir(), None, &["analyze", "--json", "two-days.log"]))).unwrap()
}
