//! The rendered postmortem: Markdown snapshot, HTML structure, hostile logs, redaction, every
//! lab scenario and the largest public log, and the page drawn by a real headless Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Proc;

use assert_cmd::Command;
use common::*;

fn mailsleuth() -> Command {
    let mut c = Command::cargo_bin("mailsleuth").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn render(inputs: &[&Path], format: &str, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec!["report".into(), "-q".into(), "--tz".into(), "UTC".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--format".into(), format.into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = mailsleuth().args(&args).output().unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn markdown_snapshot_of_the_throttle_fixture() {
    let md = render(
        &[
            Path::new("tests/fixtures/throttle/mail.log"),
            Path::new("tests/fixtures/throttle/queue"),
        ],
        "md",
        &[],
    );
    insta::assert_snapshot!("report_throttle_md", md);
}

const SECTIONS: [&str; 10] = [
    "summary",
    "timeline",
    "incidents",
    "queue",
    "delays",
    "destinations",
    "errors",
    "cleanup",
    "messages",
    "data-quality",
];

#[test]
fn the_sample_page_is_self_contained_and_complete() {
    let html = render(&[Path::new("samples")], "html", &[]);
    // Sections in the order the postmortem is read.
    let mut last = 0;
    for s in SECTIONS {
        let at = html
            .find(&format!("<section id=\"{s}\""))
            .unwrap_or_else(|| panic!("no section {s}"));
        assert!(at > last, "section {s} out of order");
        last = at;
    }
    // Offline: no script, nothing fetched.
    assert!(!html.contains("<script"));
    for attr in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(attr), "{attr}");
    }
    // Every incident has an anchor, and every cited message link resolves.
    let json: serde_json::Value =
        serde_json::from_str(&render(&[Path::new("samples")], "json", &[])).unwrap();
    for i in json["incidents"].as_array().unwrap() {
        let id = i["id"].as_str().unwrap();
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let links: Vec<&str> = html
        .match_indices("href=\"#msg-")
        .map(|(at, _)| {
            let rest = &html[at + 7..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert!(!links.is_empty());
    for l in links {
        assert!(html.contains(&format!("id=\"{l}\"")), "dangling link #{l}");
    }
    // The summary states class, domain, window and recovery.
    let summary = &html[html.find("<section id=\"summary\"").unwrap()
        ..html.find("<section id=\"timeline\"").unwrap()];
    for want in [
        "throttling for throttle.test",
        "02:17:07",
        "recovered",
        "dns for partner.test",
    ] {
        assert!(summary.contains(want), "summary lacks {want:?}: {summary}");
    }
    // Charts: inline SVG with drawn elements.
    let svgs = html.matches("<svg").count();
    assert!(svgs >= 3, "{svgs} charts");
    assert!(html.matches("<polygon").count() + html.matches("<rect").count() > 20);
}

/// Real lab lines with hostile content in the fields an attacker controls.
fn hostile_log(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture("throttle/mail.log")).unwrap();
    let evil_from = "<script>alert(1)</script>\"'`|**x**[a](http://e)@evil.test";
    let evil_reply = "<img src=x onerror=alert(2)> `code` | pipe # \u{1b}[31m <!-- -->";
    let mut out = String::new();
    for line in text.lines() {
        let l = line
            .replace("from=<app@labhost.example>", &format!("from=<{evil_from}>"))
            .replace("Try again later", evil_reply)
            .replace("@throttle.test>", "@th*rot*_|&amp;tle.test>");
        out.push_str(&l);
        out.push('\n');
    }
    let f = dir.join("hostile.log");
    std::fs::write(&f, out).unwrap();
    f
}

#[test]
fn a_hostile_log_cannot_inject_html_or_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let f = hostile_log(dir.path());
    let html = render(&[&f], "html", &[]);
    assert!(!html.contains("<script>alert"), "raw script in HTML");
    assert!(!html.contains("<img src=x"), "raw img in HTML");
    assert!(!html.contains('\u{1b}'));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("th*rot*_|&amp;amp;tle.test"));
    let md = render(&[&f], "md", &[]);
    // In Markdown, log text may stand verbatim only inside code spans and fenced blocks,
    // where it is inert; everywhere else it must be escaped.
    let prose = outside_code(&md);
    assert!(
        !prose.contains("<script>alert"),
        "raw script in Markdown prose"
    );
    assert!(!prose.contains("<img src=x"), "raw img in Markdown prose");
    assert!(
        !prose.contains("*rot*"),
        "emphasis from a domain in Markdown prose"
    );
    assert!(
        md.contains("th\\*rot\\*\\_\\|\\&amp;tle.test"),
        "the hostile domain is shown, escaped"
    );
    assert!(!md.contains('\u{1b}'));
    // Table rows keep their column count: no unescaped pipe from the log splits a cell.
    for row in md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("onerror"))
    {
        let unescaped = row
            .char_indices()
            .filter(|(i, c)| *c == '|' && (*i == 0 || &row[i - 1..*i] != "\\"))
            .count();
        assert!(unescaped <= 6, "{row}");
    }
}

/// The Markdown with fenced blocks and inline code spans removed.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let ticks: String = line.chars().take_while(|c| *c == '`').collect();
        if let Some(f) = &fence {
            if ticks.len() >= f.len() && line.trim() == ticks {
                fence = None;
            }
            continue;
        }
        if ticks.len() >= 3 {
            fence = Some(ticks);
            continue;
        }
        // Inline spans: a run of N backticks up to the next run of exactly N.
        let b: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < b.len() {
            if b[i] == '`' && (i == 0 || b[i - 1] != '\\') {
                let n = b[i..].iter().take_while(|c| **c == '`').count();
                let mut j = i + n;
                let mut closed = None;
                while j < b.len() {
                    if b[j] == '`' {
                        let m = b[j..].iter().take_while(|c| **c == '`').count();
                        if m == n {
                            closed = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                if let Some(end) = closed {
                    i = end;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        out.push('\n');
    }
    out
}

#[test]
fn redaction_leaves_no_local_part() {
    let log = fixture("throttle/mail.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let re = regex::Regex::new(r"([A-Za-z0-9._%+-]+)@[A-Za-z0-9.-]+").unwrap();
    let mut locals: Vec<String> = re
        .captures_iter(&text)
        .map(|c| c[1].to_string())
        .filter(|l| l.len() >= 4)
        .collect();
    locals.sort();
    locals.dedup();
    assert!(locals.len() > 20);
    for format in ["json", "md", "html"] {
        let out = render(&[&log], format, &["--redact", "--messages"]);
        for l in &locals {
            assert!(
                !out.contains(&format!("{l}@")),
                "{format}: {l}@ survived redaction"
            );
        }
        assert!(out.contains("@throttle.test"), "{format}: domains are kept");
    }
    let with_ips = render(&[&log], "json", &["--redact", "ips"]);
    assert!(!with_ips.contains("127.0.0.1"));
}

#[test]
fn every_lab_scenario_and_the_largest_public_log_render() {
    for s in LAB_SCENARIOS {
        let dir = corpus(&format!("lab/{s}"));
        let inputs = [dir.join("mail.log"), dir.join("queue")];
        let refs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
        for f in ["md", "html"] {
            let out = render(&refs, f, &[]);
            assert!(out.len() > 2000, "{s} {f}");
        }
    }
    let big = corpus("public/infohtreasure-Postfix-Maillog-Dump/maillog");
    let html = render(&[&big], "html", &["--year", "2014"]);
    assert!(html.contains("<section id=\"data-quality\""));
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn chromium_draws_the_page_and_its_charts() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing under CI: .ci/run must install it"
        );
        eprintln!("chromium not installed: skipped outside CI (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("postmortem.html");
    let out = mailsleuth()
        .args([
            "report",
            "samples",
            "-q",
            "--tz",
            "UTC",
            "-o",
            page.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let png = dir.path().join("shot.png");
    let status = Proc::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", dir.path().join("profile").display()),
            "--window-size=1200,1600",
            &format!("--screenshot={}", png.display()),
            &format!("file://{}", page.display()),
        ])
        .output()
        .unwrap();
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    let mut non_white = 0usize;
    for p in px.chunks(step) {
        colours.insert(p[..3].to_vec());
        if p[..3].iter().any(|&c| c < 200) {
            non_white += 1;
        }
    }
    assert!(
        colours.len() > 50,
        "a blank page: {} colours",
        colours.len()
    );
    assert!(non_white > px.len() / step / 100, "almost nothing drawn");
    // The chart colours (delivered green, deferred amber) are on screen.
    let has = |r: u8, g: u8, b: u8| {
        px.chunks(step).any(|p| {
            (p[0] as i32 - r as i32).abs() < 40
                && (p[1] as i32 - g as i32).abs() < 40
                && (p[2] as i32 - b as i32).abs() < 40
        })
    };
    assert!(
        has(46, 160, 67) || has(150, 205, 160),
        "no delivered area drawn"
    );
}
