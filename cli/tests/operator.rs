//! The operator's small comforts, through the real `cflog` binary: `merge -` and its
//! refusals, `parse` giving up on a wrong layout, AWS commands without a region or
//! credentials, `analyze` on a terminal with no input, shell completions.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use cflog_testkit::scratch::Scratch;
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cflog"))
}

fn cflog(args: &[&str]) -> Output {
    bin().args(args).output().expect("run cflog")
}

fn cflog_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = bin().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tmp(test: &str) -> Scratch {
    Scratch::new(&format!("operator-{test}"))
}

/// Two reports of two generated logs (`extra` applies to the second).
fn two_reports(d: &std::path::Path, extra: &[&str]) -> (String, String) {
    let mut paths = Vec::new();
    for (i, seed) in ["1", "2"].iter().enumerate() {
        let log = d.join(format!("{seed}.log")).display().to_string();
        assert!(cflog(&["gen", "--format", "realtime", "--lines", "500", "--seed", seed, "-o", &log]).status.success());
        let args: Vec<&str> = if i == 1 { extra.to_vec() } else { vec![] };
        let out = cflog(&[&["analyze", "--json", "--no-progress"][..], &args, &[&log]].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let report = d.join(format!("{seed}.json")).display().to_string();
        std::fs::write(&report, &out.stdout).unwrap();
        paths.push(report);
    }
    (paths.remove(0), paths.remove(0))
}

#[test]
fn merge_reads_stdin_and_refuses_the_same_report_twice() {
    let d = tmp("merge");
    let (a, b) = two_reports(&d, &[]);
    let both = [std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap()].concat();
    let from_files = cflog(&["merge", "--json", &a, &b]);
    assert!(from_files.status.success(), "{}", stderr(&from_files));
    let from_stdin = cflog_stdin(&["merge", "--json", "-"], &both);
    assert!(from_stdin.status.success(), "{}", stderr(&from_stdin));
    let r: Value = serde_json::from_slice(&from_stdin.stdout).unwrap();
    assert_eq!(r["records"], 1000);
    assert_eq!(from_stdin.stdout, from_files.stdout);
    // One report from stdin, one from a file.
    let mixed = cflog_stdin(&["merge", "--json", "-", &b], &std::fs::read(&a).unwrap());
    assert_eq!(mixed.stdout, from_files.stdout);

    for (args, stdin) in [(vec!["merge", &a, &a], vec![]), (vec!["merge", "-", &a], std::fs::read(&a).unwrap())] {
        let out = cflog_stdin(&args, &stdin);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains("is the same report as"), "{}", stderr(&out));
        assert!(stderr(&out).contains("would count its records twice"));
    }
    let empty = cflog_stdin(&["merge", "-"], b"");
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("<stdin>: empty, not a JSON report"), "{}", stderr(&empty));
}

#[test]
fn incompatible_merges_name_both_values_and_the_fix() {
    let d = tmp("incompatible");
    let (a, b) = two_reports(&d, &["--window", "5m"]);
    let out = cflog(&["merge", &a, &b]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!(
            "cannot merge {b} into {a}: their window differs ({a}: 1m, {b}: 5m); run cflog analyze --json with the same --window for both"
        )),
        "{}",
        stderr(&out)
    );
    let (a, b) = two_reports(&d, &["--top-capacity", "50"]);
    let out = cflog(&["merge", &a, &b]);
    assert!(stderr(&out).contains("top-list capacity differs (") && stderr(&out).contains(": 1000, ") && stderr(&out).contains(": 50);"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--top-capacity"));
}

#[test]
fn parse_stops_when_every_line_so_far_is_bad() {
    let d = tmp("parse");
    let log = d.join("five.log");
    let line = "1793491200.000\t192.0.2.1\t200\t/x\tIAD89-C1\n";
    std::fs::write(&log, line.repeat(5000)).unwrap();
    // A layout of three fields for lines of five: every line is bad.
    let out = cflog(&["parse", "--fields", "timestamp,c-ip,sc-status", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("the first 1000 lines are all bad, so cflog parse stopped: check --fields"), "{err}");
    let reported = err.lines().filter(|l| l.contains("five.log:") && l.contains("5 fields, but the layout has 3")).count();
    assert_eq!(reported, 1000);
    // One good line first: the bad lines are the lines' fault, and all are reported.
    let mut mixed = String::from("1793491200.000\t192.0.2.1\t200\n");
    mixed.push_str(&line.repeat(1500));
    std::fs::write(&log, mixed).unwrap();
    let out = cflog(&["parse", "--fields", "timestamp,c-ip,sc-status", "--max-errors", "3", log.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("1500 bad line(s) of 1501"), "{}", stderr(&out));
}

#[test]
fn aws_commands_say_what_is_missing() {
    let d = tmp("aws");
    let log = d.join("x.log");
    std::fs::write(&log, "1793491200.000\t192.0.2.1\t200\n").unwrap();
    for args in [vec!["replay", "--stream", "s", log.to_str().unwrap()], vec!["consume", "--stream", "s", "--fields", "timestamp,c-ip,sc-status"]] {
        let out = bin().args(&args).env_clear().env("HOME", d.path()).output().unwrap();
        if out.status.code() == Some(2) && stderr(&out).contains("feature") {
            return; // a build without the aws feature (cli/tests/features.rs covers it)
        }
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no AWS region or credentials"), "{}", stderr(&out));
        assert!(!stderr(&out).to_lowercase().contains("imds"), "no IMDS retries: {}", stderr(&out));
    }
}

#[test]
fn analyze_on_a_terminal_without_input_prints_usage() {
    // `script` runs the command under a pseudo-terminal (stdin, stdout and stderr).
    let cmd = format!("{} analyze; echo \"exit=$?\"", env!("CARGO_BIN_EXE_cflog"));
    let out = Command::new("script").args(["-qec", &cmd, "/dev/null"]).stdin(Stdio::null()).output().expect("script(1)");
    // Without the terminal's colour codes (ESC [ ... m).
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut text = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    assert!(text.contains("Usage: cflog analyze"), "{text}");
    assert!(text.contains("no input given and stdin is a terminal"), "{text}");
    assert!(text.contains("exit=2"), "{text}");
}

#[test]
fn shell_completions() {
    let d = tmp("completions");
    for (shell, marker) in [("bash", "_cflog()"), ("zsh", "#compdef cflog"), ("fish", "complete -c cflog")] {
        let out = cflog(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}");
        // (fish writes long options as `-l name`.)
        for word in ["analyze", "since", "anonymize-ip", "exclude-bots", "completions"] {
            assert!(text.contains(word), "{shell}: {word}");
        }
        if shell == "bash" {
            let path = d.join("cflog.bash");
            std::fs::write(&path, &text).unwrap();
            let check = Command::new("bash").args(["-n", path.to_str().unwrap()]).output().unwrap();
            assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
        }
    }
    assert_eq!(cflog(&["completions", "tcsh"]).status.code(), Some(2));
}
