//! `mailsleuth digest` as users run it: the JSON contract, text that fits a mail and an
//! 80-column terminal, Markdown and HTML, `--day`, the README's cron line and the Logwatch
//! service in `contrib/logwatch/` (its script always; Logwatch itself when installed).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::corpus;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mailsleuth")
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn json_exposes_the_totals_under_pflogsumms_names() {
    let f = corpus("lab/bounces/mail.log");
    let v = json(&["digest", "--format", "json", "--tz", "UTC", s(&f)]);
    assert_eq!(v["schema"], "mailsleuth/digest/1");
    let t = &v["digest"]["totals"];
    for name in [
        "received",
        "delivered",
        "forwarded",
        "deferred",
        "deferrals",
        "bounced",
        "rejected",
        "reject_warnings",
        "held",
        "discarded",
        "bytes_received",
        "bytes_delivered",
        "senders",
        "sending_domains",
        "recipients",
        "recipient_domains",
        "expired",
        "deleted",
    ] {
        assert!(t[name].is_u64(), "digest.totals.{name}: {t:#}");
    }
    // The bounces scenario: 550 5.1.1 and 552 5.2.2 bounces, relay-denied rejects.
    assert!(t["bounced"].as_u64().unwrap() > 0);
    assert!(t["rejected"].as_u64().unwrap() > 0);
    let classes: Vec<&str> = v["digest"]["bounces"]["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert!(classes.contains(&"unknown-user") && classes.contains(&"mailbox-full"));
    assert_eq!(v["digest"]["period"]["day"], serde_json::Value::Null);
}

/// Every text line fits: 78 characters, for a mail body and inside Logwatch's indent.
#[test]
fn text_fits_a_mail_and_an_80_column_terminal() {
    let combined = corpus("lab/combined");
    let mut inputs: Vec<PathBuf> = common::combined_set("mail.log");
    inputs.push(combined.join("queue"));
    for args in [
        inputs,
        vec![corpus("public/fail2ban/postfix")],
        vec![corpus("public/kdent-postfix_log_analysis/mail.log")],
        vec![corpus(
            "public/lightmeter-controlcenter/individual_files/5_zimbra_amavisd.log",
        )],
        vec![corpus("public/infohtreasure-Postfix-Maillog-Dump/maillog")],
    ] {
        let mut a = vec!["digest", "--tz", "UTC", "--quiet"];
        a.extend(args.iter().map(|p| s(p)));
        let out = run(&a);
        let text = String::from_utf8(out.stdout).unwrap();
        for heading in ["Grand Totals", "Per-Hour Traffic", "Deferrals", "Warnings"] {
            assert!(text.contains(heading), "{heading} missing:\n{text}");
        }
        for l in text.lines() {
            assert!(l.chars().count() <= 78, "{} chars: {l}", l.chars().count());
        }
    }
}

#[test]
fn the_digest_says_what_pflogsumm_would_count_differently() {
    let f = corpus("public/lightmeter-controlcenter/individual_files/18_expired.log");
    let out = run(&["digest", "--tz", "UTC", s(&f)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Where pflogsumm would differ"), "{text}");
    assert!(text.contains("postfix-239.58.50.50"), "{text}");
    assert!(text.contains("received 0 (here 1)"), "{text}");
}

#[test]
fn markdown_and_html() {
    let f = corpus("lab/throttle/mail.log");
    let md =
        String::from_utf8(run(&["digest", "--format", "md", "--tz", "UTC", s(&f)]).stdout).unwrap();
    assert!(md.starts_with("# Mail digest for 2026-11-30"), "{md}");
    assert!(md.contains("| sent | bytes | defers | avg dly | max dly | domain |"));
    let html = String::from_utf8(run(&["digest", "--format", "html", "--tz", "UTC", s(&f)]).stdout)
        .unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<h2>Grand Totals (pflogsumm&#39;s definitions)</h2>")
            || html.contains("<h2>Grand Totals (pflogsumm's definitions)</h2>")
    );
    // Reply texts carry `<addr>` placeholders: escaped, never markup.
    assert!(!html.contains("<addr>") && !html.contains("<host>"));
}

/// Old data: `yesterday` and `today` count back from the newest line, and say so.
#[test]
fn yesterday_is_relative_to_the_newest_line_when_the_data_is_old() {
    let f = corpus("public/kdent-postfix_log_analysis/mail2.log");
    let y = json(&[
        "digest",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--year",
        "2015",
        "--day",
        "yesterday",
        s(&f),
    ]);
    let p = &y["digest"]["period"];
    assert_eq!(p["day"], "2015-11-01");
    assert!(p["note"]
        .as_str()
        .unwrap()
        .contains("the newest line is from 2015-11-02"));
    let d = json(&[
        "digest",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--year",
        "2015",
        "--day",
        "2015-11-01",
        s(&f),
    ]);
    assert_eq!(y["digest"]["totals"], d["digest"]["totals"]);
    let t = json(&[
        "digest",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--year",
        "2015",
        "--day",
        "today",
        s(&f),
    ]);
    assert_eq!(t["digest"]["period"]["day"], "2015-11-02");
    let all = json(&[
        "digest",
        "--format",
        "json",
        "--tz",
        "UTC",
        "--year",
        "2015",
        s(&f),
    ]);
    let n = |v: &serde_json::Value| v["digest"]["totals"]["received"].as_u64().unwrap();
    assert_eq!(n(&y) + n(&t), n(&all));
    assert!(n(&y) > 0 && n(&t) > 0);
}

#[test]
fn a_bad_day_is_a_usage_error() {
    let f = corpus("lab/throttle/mail.log");
    let out = run(&["digest", "--day", "30.11.2026", s(&f)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
}

/// The day the README's cron line summarises: the clock's yesterday, or the day before the
/// newest line when the logs stop earlier.
fn expected_yesterday(newest: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let today = now.div_euclid(86_400);
    let (y, m, d) = (
        newest[..4].parse().unwrap(),
        newest[5..7].parse().unwrap(),
        newest[8..10].parse().unwrap(),
    );
    let newest = mailsleuth::time::days_from_civil(y, m, d);
    let day = if newest < today - 1 {
        newest - 1
    } else {
        today - 1
    };
    let (y, m, d) = mailsleuth::time::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A stub `mail` that keeps its arguments and the body, and a PATH with it and mailsleuth.
fn stub_mail(dir: &Path) -> String {
    let stub = dir.join("bin");
    std::fs::create_dir_all(&stub).unwrap();
    let mail = stub.join("mail");
    std::fs::write(
        &mail,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}/args'\ncat > '{0}/body'\n",
            dir.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mail, std::fs::Permissions::from_mode(0o755)).unwrap();
    let own = Path::new(bin()).parent().unwrap();
    format!(
        "{}:{}:{}",
        stub.display(),
        own.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The README's cron line, run as cron runs it (`sh -c`), on a copy of the lab's rotated
/// set in place of /var/log, with `mail` stubbed.
#[test]
fn the_readme_cron_line_mails_yesterdays_digest() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("5 6 * * * root mailsleuth digest"))
        .expect("the cron line in the README");
    let command = line.strip_prefix("5 6 * * * root ").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("log");
    std::fs::create_dir(&logs).unwrap();
    for f in common::combined_set("mail.log") {
        std::fs::copy(&f, logs.join(f.file_name().unwrap())).unwrap();
    }
    let command = command.replace("/var/log/", &format!("{}/", logs.display()));
    let status = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .env("PATH", stub_mail(tmp.path()))
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{command}");
    let args = std::fs::read_to_string(tmp.path().join("args")).unwrap();
    assert_eq!(args.lines().next(), Some("-s"), "{args}");
    assert!(
        args.lines().last().unwrap().contains("postmaster"),
        "{args}"
    );
    let body = std::fs::read_to_string(tmp.path().join("body")).unwrap();
    let day = expected_yesterday("2026-11-30");
    assert!(
        body.starts_with(&format!("Mail digest for {day} (yesterday)")),
        "{body}"
    );
    assert!(body.contains("Grand Totals"));
}

fn logwatch_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/logwatch/scripts/services/mailsleuth")
}

/// Logwatch runs the service script with the day's lines on standard input and its detail
/// level in the environment.
#[test]
fn the_logwatch_script_summarises_the_lines_logwatch_gives_it() {
    let log = corpus("lab/throttle/mail.log");
    let mut child = Command::new("sh")
        .arg(logwatch_script())
        .env("LOGWATCH_DETAIL_LEVEL", "10")
        .env("mailsleuth_command", bin())
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(&log).unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&data).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v = json(&["digest", "--format", "json", "--tz", "UTC", s(&log)]);
    let received = v["digest"]["totals"]["received"].as_u64().unwrap();
    assert!(
        text.contains(&format!("{received:>7}  received")),
        "{received}:\n{text}"
    );
    assert!(text.contains("Mail digest for 2026-11-30"));
    assert!(text.lines().all(|l| l.chars().count() <= 78));
}

/// Logwatch itself, when installed, with the service from contrib/ (a copy of logwatch whose
/// configuration directory is a temporary one, so /etc is left alone).
#[test]
fn logwatch_runs_the_contrib_service() {
    let Ok(logwatch) = std::fs::read_to_string("/usr/sbin/logwatch") else {
        eprintln!("skipped: Logwatch is not installed");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("etc");
    let from = "my $ConfigDir = \"/etc/logwatch\";";
    if !logwatch.contains(from) {
        eprintln!("skipped: this Logwatch does not set its ConfigDir as expected");
        return;
    }
    let patched = logwatch.replace(from, &format!("my $ConfigDir = \"{}\";", etc.display()));
    std::fs::write(tmp.path().join("logwatch"), patched).unwrap();
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/logwatch");
    for sub in ["conf/services", "scripts/services"] {
        std::fs::create_dir_all(etc.join(sub)).unwrap();
        for e in std::fs::read_dir(contrib.join(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), etc.join(sub).join(e.file_name())).unwrap();
        }
    }
    // A multi-instance log: the service keeps postfix-<name>/… lines, which pflogsumm and
    // the stock postfix service drop.
    let logs = tmp.path().join("log");
    std::fs::create_dir(&logs).unwrap();
    let src = corpus("public/lightmeter-controlcenter/individual_files/14_reuse_of_queueid.log");
    std::fs::copy(&src, logs.join("mail.log")).unwrap();
    let bin_dir = Path::new(bin()).parent().unwrap();
    let out = Command::new("perl")
        .arg(tmp.path().join("logwatch"))
        .args([
            "--logdir",
            s(&logs),
            "--service",
            "mailsleuth",
            "--range",
            "All",
        ])
        .args(["--detail", "High", "--output", "stdout", "--format", "text"])
        .args(["--hostname", "oracle"])
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Postfix (mailsleuth digest) Begin"), "{text}");
    let v = json(&["digest", "--format", "json", "--tz", "UTC", s(&src)]);
    let received = v["digest"]["totals"]["received"].as_u64().unwrap();
    assert_eq!(received, 72);
    assert!(
        text.contains(&format!("{received:>7}  received")),
        "{received}:\n{text}"
    );
}
