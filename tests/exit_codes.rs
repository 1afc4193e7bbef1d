//! Every exit status that `mailsleuth --help` and the README document, each produced by the
//! binary on real fixtures (tests/fixtures/throttle and the lab corpus in ../shared): 0 done,
//! 1 done with input warnings, 2 fatal; a `queue --warn/--crit` check: 0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN. The corpus is required: without it these tests fail, never skip.
//!
//! Each case also checks where its words go: the result on stdout, nothing else there;
//! warnings and errors on stderr (a monitoring check's one line is its result).

mod common;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use common::*;

fn mailsleuth() -> Command {
    let mut c = Command::cargo_bin("mailsleuth").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    mailsleuth().args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn expect(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

// --- 0: done -----------------------------------------------------------------------------

#[test]
fn exit_0_report_on_clean_inputs_writes_only_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("postmortem.md");
    let o = run(&[
        "report",
        "tests/fixtures/throttle/mail.log",
        "tests/fixtures/throttle/queue",
        "--tz",
        "UTC",
        "-o",
        s(&out),
    ]);
    expect(&o, 0);
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("# Postfix postmortem"));
}

#[test]
fn exit_0_trace_finds_the_queue_id() {
    let log = corpus("lab/dns/mail-rfc3339.log");
    let o = run(&["trace", s(&log), "6202BB6499", "--color", "never"]);
    expect(&o, 0);
    assert!(stdout(&o).contains("6202BB6499 mx1"), "{}", stdout(&o));
}

#[test]
fn exit_0_queue_shape_of_saved_dumps() {
    let o = run(&["queue", s(&corpus("lab/cleanup/queue")), "--tz", "UTC"]);
    expect(&o, 0);
    assert!(stdout(&o).starts_with("Queue "), "{}", stdout(&o));
}

// --- 1: done, but some input had problems ------------------------------------------------

#[test]
fn exit_1_report_when_an_input_is_not_ours() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let o = run(&[
        "report",
        s(&corpus("lab/throttle/mail.log")),
        s(&corpus("lab/throttle/notes.md")),
        "--tz",
        "UTC",
        "-o",
        s(&out),
    ]);
    expect(&o, 1);
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert!(stderr(&o).contains("notes.md: skipped"), "{}", stderr(&o));
    // The report is still complete.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    assert_eq!(v["schema"], "mailsleuth/report/1");
}

#[test]
fn exit_1_report_when_a_gzip_is_truncated() {
    let full = std::fs::read(corpus("lab/combined/mail.log.2.gz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("mail.log.2.gz");
    std::fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let o = run(&["report", s(&cut), "--tz", "UTC", "--format", "json"]);
    expect(&o, 1);
    assert!(stderr(&o).contains("gzip stream broken"), "{}", stderr(&o));
    serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("the report on stdout");
}

#[test]
fn exit_1_trace_when_no_message_matches() {
    let o = run(&[
        "trace",
        "tests/fixtures/throttle/mail.log",
        "--to",
        "nobody@nowhere.test",
    ]);
    expect(&o, 1);
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert!(stderr(&o).contains("no message matches"), "{}", stderr(&o));
}

#[test]
fn exit_1_queue_when_an_input_is_not_a_dump() {
    let o = run(&[
        "queue",
        "tests/fixtures/throttle/queue",
        "tests/fixtures/throttle/notes.md",
    ]);
    expect(&o, 1);
    assert!(stdout(&o).starts_with("Queue "), "{}", stdout(&o));
    assert!(stderr(&o).contains("notes.md: skipped"), "{}", stderr(&o));
}

// --- 2: fatal ----------------------------------------------------------------------------

#[test]
fn exit_2_when_nothing_is_usable() {
    let o = run(&["report", s(&corpus("lab/throttle/notes.md")), "--tz", "UTC"]);
    expect(&o, 2);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("nothing usable"), "{}", stderr(&o));
    let o = run(&["queue", "tests/fixtures/throttle/mail.log"]);
    expect(&o, 2);
    assert!(stderr(&o).contains("no queue dump"), "{}", stderr(&o));
}

#[test]
fn exit_2_on_wrong_usage_with_what_to_type() {
    // Clap's errors: what was wrong, the usage line, and where to read more.
    for (args, says) in [
        (&["report"][..], "Usage: mailsleuth report"),
        (&["reprot", "x"][..], "similar subcommand exists: 'report'"),
        (
            &[
                "report",
                "tests/fixtures/throttle/mail.log",
                "--format",
                "pdf",
            ][..],
            "[possible values: md, html, json]",
        ),
        (
            &["queue", "x", "--threads", "many"][..],
            "invalid value 'many'",
        ),
    ] {
        let o = run(args);
        expect(&o, 2);
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("--help"), "{args:?}: {err}");
    }
    // Ours: a bad value, and a trace that does not say which message.
    let o = run(&[
        "report",
        "tests/fixtures/throttle/mail.log",
        "--tz",
        "Mars/Olympus",
    ]);
    expect(&o, 2);
    assert!(stderr(&o).contains("--tz"), "{}", stderr(&o));
    let o = run(&["trace", "tests/fixtures/throttle/mail.log"]);
    expect(&o, 2);
    assert!(
        stderr(&o).contains("mailsleuth trace /var/log/mail.log 6202BB6499"),
        "{}",
        stderr(&o)
    );
    // No arguments at all: the help, on stderr.
    let o = run(&[]);
    expect(&o, 2);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("Exit status:"), "{}", stderr(&o));
}

// --- queue --warn/--crit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN --------------------------

/// The cleanup scenario's dump at its peak, and its message count.
fn cleanup_dump() -> (String, u64) {
    let d = corpus("lab/cleanup/queue/postqueue-j-20261130T021150Z.jsonl");
    let n = std::fs::read_to_string(&d).unwrap().lines().count() as u64;
    (d.to_str().unwrap().to_string(), n)
}

#[track_caller]
fn check(args: &[&str], code: i32, state: &str) -> Output {
    let o = run(args);
    expect(&o, code);
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "one line: {out}");
    assert!(out.starts_with(&format!("{state}: ")), "{out}");
    o
}

#[test]
fn monitoring_0_ok_1_warning_2_critical() {
    let (d, n) = cleanup_dump();
    let (above, above2) = ((n + 1).to_string(), (n + 2).to_string());
    let o = check(&["queue", &d, "--warn", &above, "--crit", &above2], 0, "OK");
    // Performance data after the `|`, as plugins print it.
    assert!(
        stdout(&o).contains(&format!("| messages={n};{above};{above2}")),
        "{}",
        stdout(&o)
    );
    check(
        &["queue", &d, "--warn", &n.to_string(), "--crit", &above],
        1,
        "WARNING",
    );
    check(
        &["queue", &d, "--warn", "1", "--crit", &n.to_string()],
        2,
        "CRITICAL",
    );
}

#[test]
fn monitoring_0_for_an_empty_queue_read_from_a_pipe() {
    // `postqueue -p | mailsleuth queue - …` on a quiet server: "Mail queue is empty".
    let empty = corpus("lab/bounces/queue/postqueue-p-20261130T022613Z.txt");
    assert_eq!(
        std::fs::read_to_string(&empty).unwrap().trim(),
        "Mail queue is empty"
    );
    let o = mailsleuth()
        .args(["queue", "-", "--warn", "1", "--crit", "2"])
        .write_stdin(std::fs::read(&empty).unwrap())
        .output()
        .unwrap();
    expect(&o, 0);
    assert!(stdout(&o).starts_with("OK: Postfix queue 0 messages"));
}

#[test]
fn monitoring_3_unknown_never_2_for_its_own_failures() {
    // No dump among the inputs.
    check(
        &[
            "queue",
            s(&corpus("lab/throttle/notes.md")),
            "--warn",
            "1",
            "--crit",
            "2",
        ],
        3,
        "UNKNOWN",
    );
    // Wrong usage, which outside a check is exit 2 (CRITICAL to a monitoring system).
    let (d, _) = cleanup_dump();
    let o = check(
        &["queue", &d, "--warn", "many", "--crit", "2"],
        3,
        "UNKNOWN",
    );
    assert!(
        stdout(&o).contains("invalid value 'many'"),
        "{}",
        stdout(&o)
    );
    check(&["queue", "--warn", "1", "--crit", "2"], 3, "UNKNOWN");
    // A fatal error after parsing.
    check(
        &["queue", &d, "--warn=1", "--crit=2", "--tz", "Mars/Olympus"],
        3,
        "UNKNOWN",
    );
}

// --- the documentation names exactly these -----------------------------------------------

#[test]
fn help_and_readme_document_every_code_tested_here() {
    let help = stdout(&run(&["--help"]));
    let status = help
        .split("Exit status:")
        .nth(1)
        .expect("an Exit status section in --help");
    for line in [
        "  0  done",
        "  1  done, but some input had problems",
        "  2  fatal: wrong usage, or nothing usable",
        "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    ] {
        assert!(status.contains(line), "--help lacks {line:?}:\n{status}");
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Exit status")
        .nth(1)
        .expect("an Exit status section in the README")
        .split("\n## ")
        .next()
        .unwrap();
    for code in ["| `0` |", "| `1` |", "| `2` |", "| `3` |"] {
        assert!(section.contains(code), "README lacks {code}:\n{section}");
    }
    for word in ["OK", "WARNING", "CRITICAL", "UNKNOWN"] {
        assert!(section.contains(word), "README lacks {word}:\n{section}");
    }
}
