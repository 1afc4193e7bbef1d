//! Accuracy of `parse_line` on the public corpus, against an independent reference.
//!
//! Every log file under `../shared/corpus/public/` is read line by line. A small reference
//! written here with regular expressions (FORMATS.md §1–§3, not the parser's code) decides
//! which lines carry a Postfix syslog tag and what their host, pid, instance, service,
//! daemon, severity and queue reference are. At least 99.9% of those lines must come out of
//! `parse_line` as `Line::Postfix` with the same parts, per file and overall. Mismatches are
//! printed as `file:line`, so a failure says where to look.
//!
//! The corpus is required: if `../shared` is missing, this test fails.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use mailsleuth::input::discover::{discover, InputPath};
use mailsleuth::parse::{parse_line, Line, QueueRef, Severity};
use regex::bytes::Regex;

const PUBLIC: &str = "../shared/corpus/public";

/// The share of reference lines that must parse identically, per file and overall.
const MIN_ACCURACY: f64 = 0.999;

// ---------------------------------------------------------------------------------------
// The reference
// ---------------------------------------------------------------------------------------

/// `PREFIX host tag[pid]: message`. The prefix is traditional syslog (`Mmm dd HH:MM:SS`, day
/// space- or zero-padded or bare, optional fraction) or RFC 3339 / ISO 8601 with an offset
/// `Z`, `±HH:MM` or `±HHMM` (FORMATS.md §1). `(?-u)`: bytes, not UTF-8.
static SYSLOG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)^(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: [1-9]|[0-3][0-9]|[1-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?|[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2}|[+-][0-9]{4})) (?P<host>[^ ]+) (?P<tag>[^ \[:]+)(?:\[(?P<pid>[0-9]+)\])?: (?P<msg>.*)$",
    )
    .unwrap()
});

/// A Postfix tag (FORMATS.md §2): `postfix[-instance][/service…]/daemon`, or bare `postfix`.
static POSTFIX_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)^(?:postfix(?:-[^/\s\[]+)?(?:/[^/\s\[]+)*/[a-z-]+|postfix)$").unwrap()
});

/// A queue ID (FORMATS.md §3): short upper-case hex, the long-ID alphabet (no vowels), or
/// `NOQUEUE`.
static QUEUE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)^(?:[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{12,}|NOQUEUE)$").unwrap()
});

static SEVERITY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)^(warning|error|fatal|panic): ").unwrap());

/// What the reference expects of a Postfix line.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    host: Vec<u8>,
    pid: Option<u64>,
    instance: Vec<u8>,
    service: Vec<u8>,
    daemon: Vec<u8>,
    severity: &'static str,
    /// `None`, `NOQUEUE` or the ID itself.
    queue: Option<Vec<u8>>,
}

fn severity_word(b: &[u8]) -> &'static str {
    match b {
        b"warning" => "warning",
        b"error" => "error",
        b"fatal" => "fatal",
        b"panic" => "panic",
        _ => unreachable!(),
    }
}

/// The reference: `None` if the line is not a Postfix syslog line.
fn reference(line: &[u8]) -> Option<Expected> {
    let c = SYSLOG.captures(line)?;
    let tag = c.name("tag")?.as_bytes();
    if !POSTFIX_TAG.is_match(tag) {
        return None;
    }
    let parts: Vec<&[u8]> = tag.split(|&b| b == b'/').collect();
    let (instance, daemon) = (parts[0], parts[parts.len() - 1]);
    let service = if parts.len() > 2 {
        parts[1..parts.len() - 1].join(&b'/')
    } else {
        Vec::new()
    };
    let pid = c.name("pid").map(|p| {
        std::str::from_utf8(p.as_bytes())
            .unwrap()
            .parse::<u64>()
            .unwrap()
    });

    let mut msg = c.name("msg")?.as_bytes();
    let mut severity = "info";
    if let Some(s) = SEVERITY.captures(msg) {
        severity = severity_word(&s[1]);
        msg = &msg[s[0].len()..];
    }
    let mut queue = None;
    if let Some(at) = msg.windows(2).position(|w| w == b": ") {
        let token = &msg[..at];
        if QUEUE_ID.is_match(token) {
            queue = Some(token.to_vec());
            if severity == "info" {
                if let Some(s) = SEVERITY.captures(&msg[at + 2..]) {
                    severity = severity_word(&s[1]);
                }
            }
        }
    }
    Some(Expected {
        host: c["host"].to_vec(),
        pid,
        instance: instance.to_vec(),
        service,
        daemon: daemon.to_vec(),
        severity,
        queue,
    })
}

// ---------------------------------------------------------------------------------------
// The parser's view, in the reference's terms
// ---------------------------------------------------------------------------------------

fn parsed(line: &[u8]) -> Option<Expected> {
    let Line::Postfix { event: e, .. } = parse_line(line) else {
        return None;
    };
    Some(Expected {
        host: e.host().to_vec(),
        pid: e.pid().map(u64::from),
        instance: e.instance().to_vec(),
        service: e.service().to_vec(),
        daemon: e.daemon_name().to_vec(),
        severity: match e.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
            Severity::Panic => "panic",
        },
        queue: match e.queue() {
            QueueRef::None => None,
            QueueRef::NoQueue => Some(b"NOQUEUE".to_vec()),
            QueueRef::Id(q) => Some(q.as_bytes().to_vec()),
        },
    })
}

// ---------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------

/// Files that are not logs: oracle outputs, licences, manifests, queue dumps, the grok
/// pattern tests (their `data:` lines are message bodies, not whole lines) and the tarball
/// whose content is unpacked beside it.
fn is_log(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    const SKIP_SUFFIX: [&str; 13] = [
        ".pflogsumm.txt",
        ".logwatch.txt",
        ".stderr",
        ".yaml",
        ".yml",
        ".jsonl",
        ".tsv",
        ".md",
        ".tar.gz",
        ".mailqfmt.txt",
        ".postqueue-p.txt",
        "showq.txt",
        "LICENSE",
    ];
    const SKIP_NAME: [&str; 2] = ["COPYING", "dep5"];
    !(SKIP_SUFFIX.iter().any(|s| name.ends_with(s)) || SKIP_NAME.contains(&name.as_ref()))
}

fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        raw
    }
}

fn log_files() -> Vec<PathBuf> {
    assert!(
        Path::new(PUBLIC).is_dir(),
        "{PUBLIC} is missing: this test needs the shared corpus beside the crate"
    );
    let (inputs, bad) = discover(&[PathBuf::from(PUBLIC)]);
    assert!(bad.is_empty(), "unreadable corpus paths: {bad:?}");
    let files: Vec<PathBuf> = inputs
        .into_iter()
        .filter_map(|i| match i {
            InputPath::File(p) => Some(p),
            InputPath::Stdin => None,
        })
        .filter(|p| is_log(p))
        .collect();
    assert!(!files.is_empty(), "no log files under {PUBLIC}");
    files
}

#[derive(Default)]
struct FileResult {
    lines: usize,
    reference: usize,
    matched: usize,
    /// Lines the parser calls Postfix that the reference does not.
    parser_only: usize,
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 220 {
        format!("{}…", s.chars().take(220).collect::<String>())
    } else {
        s.into_owned()
    }
}

fn diff(r: &Expected, p: &Expected) -> String {
    let mut d = Vec::new();
    let b = |v: &[u8]| show(v);
    let q = |v: &Option<Vec<u8>>| v.as_deref().map_or("-".to_string(), show);
    if r.host != p.host {
        d.push(format!("host {} ≠ {}", b(&r.host), b(&p.host)));
    }
    if r.pid != p.pid {
        d.push(format!("pid {:?} ≠ {:?}", r.pid, p.pid));
    }
    if r.instance != p.instance {
        d.push(format!("instance {} ≠ {}", b(&r.instance), b(&p.instance)));
    }
    if r.service != p.service {
        d.push(format!("service {} ≠ {}", b(&r.service), b(&p.service)));
    }
    if r.daemon != p.daemon {
        d.push(format!("daemon {} ≠ {}", b(&r.daemon), b(&p.daemon)));
    }
    if r.severity != p.severity {
        d.push(format!("severity {} ≠ {}", r.severity, p.severity));
    }
    if r.queue != p.queue {
        d.push(format!("queue {} ≠ {}", q(&r.queue), q(&p.queue)));
    }
    d.join(", ")
}

#[test]
fn parse_line_agrees_with_the_reference_on_the_public_corpus() {
    let files = log_files();
    let mut results: BTreeMap<String, FileResult> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut parser_only = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(PUBLIC)
            .unwrap_or(path)
            .display()
            .to_string();
        let data = read(path);
        let mut r = FileResult::default();
        let mut body = &data[..];
        // The reference's own line split: `\n`, with a `\r` before it removed.
        while !body.is_empty() {
            let (line, rest) = match body.iter().position(|&b| b == b'\n') {
                Some(p) => (&body[..p], &body[p + 1..]),
                None => (body, &b""[..]),
            };
            body = rest;
            r.lines += 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let want = reference(line);
            let got = parsed(line);
            match (&want, &got) {
                (Some(w), Some(g)) if w == g => {
                    r.reference += 1;
                    r.matched += 1;
                }
                (Some(w), Some(g)) => {
                    r.reference += 1;
                    mismatches.push(format!(
                        "{name}:{}: {}\n    {}",
                        r.lines,
                        diff(w, g),
                        show(line)
                    ));
                }
                (Some(_), None) => {
                    r.reference += 1;
                    mismatches.push(format!(
                        "{name}:{}: not parsed as Postfix ({:?})\n    {}",
                        r.lines,
                        parse_line(line),
                        show(line)
                    ));
                }
                (None, Some(_)) => {
                    r.parser_only += 1;
                    parser_only.push(format!("{name}:{}: {}", r.lines, show(line)));
                }
                (None, None) => {}
            }
        }
        results.insert(name, r);
    }

    println!(
        "{:<100} {:>7} {:>7} {:>7} {:>8} {:>7}",
        "file", "lines", "postfix", "match", "accuracy", "p-only"
    );
    let (mut total_ref, mut total_match) = (0usize, 0usize);
    let mut failing = Vec::new();
    for (name, r) in &results {
        total_ref += r.reference;
        total_match += r.matched;
        let acc = if r.reference == 0 {
            1.0
        } else {
            r.matched as f64 / r.reference as f64
        };
        println!(
            "{name:<100} {:>7} {:>7} {:>7} {:>7.3}% {:>7}",
            r.lines,
            r.reference,
            r.matched,
            acc * 100.0,
            r.parser_only
        );
        if acc < MIN_ACCURACY {
            failing.push(format!("{name}: {:.3}%", acc * 100.0));
        }
    }
    let overall = total_match as f64 / total_ref.max(1) as f64;
    println!(
        "overall: {total_match}/{total_ref} = {:.4}% over {} files",
        overall * 100.0,
        results.len()
    );
    for m in &mismatches {
        println!("MISMATCH {m}");
    }
    for p in &parser_only {
        println!("PARSER-ONLY {p}");
    }

    assert!(total_ref > 0, "the reference found no Postfix line at all");
    assert!(
        overall >= MIN_ACCURACY,
        "overall accuracy {:.4}% < {:.1}% ({} mismatches, listed above)",
        overall * 100.0,
        MIN_ACCURACY * 100.0,
        mismatches.len()
    );
    assert!(
        failing.is_empty(),
        "files below {:.1}%: {failing:?} (mismatches listed above)",
        MIN_ACCURACY * 100.0
    );
}

/// The reference itself, on lines whose answer is known from FORMATS.md.
#[test]
fn the_reference_reads_known_lines() {
    let e = reference(b"Nov 30 01:51:37 mx1 postfix/smtp[17120]: B6CC5B6472: to=<judy7@throttle.test>, status=sent (ok)").unwrap();
    assert_eq!(e.daemon, b"smtp");
    assert_eq!(e.queue.as_deref(), Some(&b"B6CC5B6472"[..]));
    let e = reference(b"2015-12-14T00:06:14+0000 011.lax.mailroute.net postfix-inbound/smtpd[11280]: 3pJjgB6dpKz1JBPW: client=x[127.0.0.1]").unwrap();
    assert_eq!(
        (e.instance.as_slice(), e.daemon.as_slice()),
        (&b"postfix-inbound"[..], &b"smtpd"[..])
    );
    assert_eq!(e.queue.as_deref(), Some(&b"3pJjgB6dpKz1JBPW"[..]));
    let e = reference(b"Nov  1 02:11:18 h postfix/cleanup[1]: warning: 9BECF3F19D: sender_canonical_maps map lookup problem").unwrap();
    assert_eq!(e.severity, "warning");
    assert_eq!(e.queue.as_deref(), Some(&b"9BECF3F19D"[..]));
    let e = reference(b"Nov  1 02:11:18 h postfix-mx/content-filter/smtp[2]: D8B07E3DB6: warning: header Subject: x").unwrap();
    assert_eq!(e.service, b"content-filter");
    assert_eq!(e.severity, "warning");
    let e =
        reference(b"Jan 14 16:30:24 mframe1 postfix[662]: fatal: usage: postfix [-c config_dir]")
            .unwrap();
    assert_eq!((e.daemon.as_slice(), e.queue), (&b"postfix"[..], None));
    let e =
        reference(b"Nov 30 02:00:00 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from x").unwrap();
    assert_eq!(e.queue.as_deref(), Some(&b"NOQUEUE"[..]));
    for foreign in [
        &b"Nov 30 02:00:00 mx amavis[9]: (09-01) Passed CLEAN, queued_as: 4B5"[..],
        b"Nov 30 02:00:00 mx lightmeter/headers: x",
        b"Nov 30 02:00:00 mx postfix/SMTP[1]: x",
        b"Dec 18 16:15:27 [postfix/smtpd] connect from [connection-point]",
        b"# failJSON: { \"match\": true }",
    ] {
        assert!(reference(foreign).is_none(), "{}", show(foreign));
    }
    let e = reference(b"Nov 30 02:00:00 mx postfix/qmgr[9]: statistics: x").unwrap();
    assert_eq!(e.queue, None);
}
