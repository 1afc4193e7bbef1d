//! The binary, run as users run it: exit codes, stdin, warnings on stderr, output files, and
//! a snapshot of the JSON report on a real fixture.

mod common;

use assert_cmd::Command;
use common::*;

fn mailsleuth() -> Command {
    let mut c = Command::cargo_bin("mailsleuth").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("JSON on stdout")
}

#[test]
fn report_json_snapshot_of_the_throttle_fixture() {
    let out = mailsleuth()
        .args([
            "report",
            "tests/fixtures/throttle/mail.log",
            "tests/fixtures/throttle/queue",
            "--tz",
            "UTC",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let mut v = json(&out);
    v["generator"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("report_throttle", v);
}

#[test]
fn the_bundled_sample_runs_clean() {
    let out = mailsleuth()
        .args(["report", "samples/", "--tz", "UTC", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(v["schema"], "mailsleuth/report/1");
    let logs: Vec<&serde_json::Value> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "maillog")
        .collect();
    assert_eq!(logs.len(), 5);
    let lines: u64 = logs.iter().map(|i| i["lines"].as_u64().unwrap()).sum();
    assert_eq!(v["totals"]["log_lines"].as_u64().unwrap(), lines);
    assert_eq!(v["totals"]["hosts"], 1);
    assert!(v["span"]["start"].as_str().unwrap().ends_with("+00:00"));
}

#[test]
fn stdin_and_threads_give_the_same_report() {
    let log = std::fs::read(fixture("throttle/mail-rfc3339.log")).unwrap();
    let from_stdin = mailsleuth()
        .args([
            "report",
            "-",
            "--tz",
            "UTC",
            "--threads",
            "1",
            "--format",
            "json",
        ])
        .write_stdin(log)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v = json(&from_stdin);
    assert_eq!(v["inputs"][0]["path"], "<stdin>");
    assert_eq!(v["inputs"][0]["timestamp_format"], "rfc3339");
    let file = mailsleuth()
        .args([
            "report",
            "tests/fixtures/throttle/mail-rfc3339.log",
            "--tz",
            "UTC",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let mut w = json(&file);
    // Only the path and the size as stored differ.
    w["inputs"][0]["path"] = "<stdin>".into();
    assert_eq!(w["totals"], v["totals"]);
    assert_eq!(w["inputs"][0]["lines"], v["inputs"][0]["lines"]);
    assert_eq!(w["span"], v["span"]);
}

#[test]
fn nothing_usable_is_fatal_and_says_what_was_looked_at() {
    let out = mailsleuth()
        .args(["report", "tests/fixtures/throttle/notes.md", "--tz", "UTC"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing usable"), "{err}");
    assert!(err.contains("notes.md"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_truncated_gzip_warns_with_file_and_offset_and_exits_1() {
    let full = std::fs::read(corpus("lab/combined/mail.log.3.gz")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("mail.log.3.gz");
    std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
    let out = mailsleuth()
        .args([
            "report",
            cut.to_str().unwrap(),
            "--tz",
            "UTC",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mail.log.3.gz: gzip stream broken at compressed byte"),
        "{err}"
    );
    let v = json(&out.stdout);
    assert!(v["inputs"][0]["lines"].as_u64().unwrap() > 1000);
    assert_eq!(v["inputs"][0]["warning_counts"]["corrupt-compression"], 1);
    assert!(v["inputs"][0]["warnings"][0]["offset"].as_u64().unwrap() > 0);
}

#[test]
fn missing_inputs_and_bad_arguments() {
    let out = mailsleuth()
        .args([
            "report",
            "no/such/file.log",
            "tests/fixtures/throttle/mail.log",
            "--tz",
            "UTC",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.log"));
    mailsleuth()
        .args([
            "report",
            "tests/fixtures/throttle/mail.log",
            "--tz",
            "Mars/Olympus",
        ])
        .assert()
        .code(2);
    mailsleuth().args(["report"]).assert().code(2);
    // A bad output path fails before any work.
    mailsleuth()
        .args([
            "report",
            "tests/fixtures/throttle/mail.log",
            "-o",
            "/nonexistent-dir/report.json",
        ])
        .assert()
        .code(2);
}

#[test]
fn output_file_and_list_unparsed() {
    let dir = tempfile::tempdir().unwrap();
    let messy = dir.path().join("messy.log");
    let mut text = std::fs::read(fixture("throttle/mail.log")).unwrap();
    text.extend_from_slice(b"-0600\nAmerica/Boise]\n");
    std::fs::write(&messy, text).unwrap();
    let out_file = dir.path().join("r.json");
    let out = mailsleuth()
        .args([
            "report",
            messy.to_str().unwrap(),
            "--tz",
            "UTC",
            "--list-unparsed",
            "-o",
            out_file.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let n = std::fs::read_to_string(fixture("throttle/mail.log"))
        .unwrap()
        .lines()
        .count();
    assert!(
        err.contains(&format!("messy.log:{}: America/Boise]", n + 2)),
        "{err}"
    );
    let v = json(&std::fs::read(out_file).unwrap());
    assert_eq!(v["inputs"][0]["skipped"]["not_syslog"], 2);
}

#[test]
fn trace_follows_a_requeued_message_to_its_delivery() {
    let log = corpus("lab/dns/mail-rfc3339.log");
    let out = mailsleuth()
        .args([
            "trace",
            log.to_str().unwrap(),
            "6202BB6499",
            "--color",
            "never",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // The old queue file, then the new one it was requeued as, in that order.
    let old = text.find("6202BB6499 mx1").unwrap();
    let new = text.find("0A65DB6531 mx1").unwrap();
    assert!(old < new, "{text}");
    assert!(
        text.contains("heidi28@partner.test delivered via 0A65DB6531 (4 attempts)"),
        "{text}"
    );
    assert!(text.contains("requeue of 6202BB6499"), "{text}");
    // Every line cites its file and line.
    assert!(text.contains("mail-rfc3339.log:1538]"), "{text}");

    let out = mailsleuth()
        .args([
            "trace",
            log.to_str().unwrap(),
            "--to",
            "heidi28@partner.test",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"]["queue_id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"6202BB6499") && ids.contains(&"0A65DB6531"),
        "{ids:?}"
    );
    let first = &v[0];
    assert_eq!(
        first["events"].as_array().unwrap().len(),
        first["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["file"].as_str().unwrap().ends_with("mail-rfc3339.log"))
            .count()
    );
}

#[test]
fn trace_says_when_nothing_matches_and_escapes_control_characters() {
    mailsleuth()
        .args([
            "trace",
            "tests/fixtures/throttle/mail.log",
            "--queue-id",
            "0000000000",
        ])
        .assert()
        .code(1);
    mailsleuth()
        .args(["trace", "tests/fixtures/throttle/mail.log"])
        .assert()
        .code(2);
    // A real line with an escape sequence smuggled into its text.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("evil.log");
    let text = std::fs::read_to_string(fixture("throttle/mail.log")).unwrap();
    let line = text.lines().find(|l| l.contains(": client=")).unwrap();
    let qid = line.split(": ").nth(1).unwrap();
    std::fs::write(&f, format!("{line}\x1b[31mRED\n")).unwrap();
    let out = mailsleuth()
        .args(["trace", f.to_str().unwrap(), qid, "--color", "always"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let s = String::from_utf8(out).unwrap();
    assert!(s.contains("\\x1b[31mRED"), "{s}");
    assert!(!s.contains("\x1b[31mRED"));
}
