//! The progress spinner on a terminal: the report must finish and be the same as without it,
//! and warnings must still reach the terminal. (A spinner that shared the stderr lock with
//! the command once hung the report for good on any input big enough to show it.)
//!
//! Runs the binary under util-linux `script`, which gives it a pseudo-terminal.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mailsleuth")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Run `args` on a pseudo-terminal with the spinner forced on; fail after 60 s.
fn on_a_terminal(args: &[&str]) -> (i32, String) {
    let cmd = std::iter::once(bin())
        .chain(args.iter().copied())
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("MAILSLEUTH_PROGRESS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed for this test");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the report did not finish within 60 s on a terminal: {cmd}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_spinner_neither_hangs_nor_changes_the_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let samples = root.join("samples");
    let dir = tempfile::tempdir().expect("tempdir");
    let tty_json = dir.path().join("tty.json");
    let plain_json = dir.path().join("plain.json");
    // A file that is not a log makes the command warn while the spinner runs.
    let stray = dir.path().join("notes.txt");
    std::fs::write(&stray, "not a mail log\n").expect("write");
    let common = [
        "report",
        samples.to_str().expect("utf-8 path"),
        stray.to_str().expect("utf-8 path"),
        "--tz",
        "UTC",
        "--format",
        "json",
        "-o",
    ];

    let mut args = common.to_vec();
    args.push(tty_json.to_str().expect("utf-8 path"));
    let (code, terminal) = on_a_terminal(&args);
    assert_eq!(
        code, 1,
        "exit status (1: done, with an input warning); terminal: {terminal}"
    );
    assert!(
        terminal.contains("notes.txt"),
        "the warning about notes.txt reached the terminal: {terminal:?}"
    );

    let mut args = common.to_vec();
    args.push(plain_json.to_str().expect("utf-8 path"));
    let status = Command::new(bin())
        .args(&args)
        .stderr(Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(1));

    let tty = std::fs::read(&tty_json).expect("report written on a terminal");
    let plain = std::fs::read(&plain_json).expect("report written");
    let strip = |b: &[u8]| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_slice(b).expect("JSON");
        // The inputs' paths differ only by the output file, which is not an input; keep all.
        v.as_object_mut().expect("object").remove("generator");
        v
    };
    assert_eq!(strip(&tty), strip(&plain), "the spinner changed the report");
}
