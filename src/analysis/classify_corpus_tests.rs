//! [`classify`] and [`signature`] over the shared corpus: every lab scenario's deferrals and
//! bounces for its affected domains, the lab and public rejects, and every failure text the
//! corpus holds (logs, grok-pattern test lines, queue dumps). The corpus lives at
//! `../shared/corpus` from the crate root; these tests fail, never skip, without it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::classify::{classify, signature, Class};
use crate::parse::{kv, parse_line, Line};

fn corpus(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        root.is_dir(),
        "the shared corpus is missing at {}: these tests need it",
        root.display()
    );
    root.join(rel)
}

/// A file's bytes, gunzipped when it starts with the gzip magic. A truncated gzip keeps
/// what decompressed before the break.
fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return raw;
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(&raw[..]);
    let mut buf = [0u8; 1 << 16];
    loop {
        match dec.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// One failure text: where it came from, its DSN if known, the reason, the recipient domain.
#[derive(Clone, Debug)]
struct Failure {
    origin: String,
    dsn: Option<String>,
    reason: Vec<u8>,
    domain: String,
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Deferred,
    Bounced,
    Reject,
    QueueDump,
}

impl Failure {
    fn class(&self) -> Class {
        classify(self.dsn.as_deref().map(str::as_bytes), &self.reason)
    }
    fn reason_str(&self) -> String {
        String::from_utf8_lossy(&self.reason).into_owned()
    }
}

/// The failure in one message text (after `prog[pid]: ` and the queue ID), if any:
/// `status=deferred|bounced (…)` delivery lines, and `reject:`/`milter-reject:` lines.
fn failure_in_text(text: &[u8], origin: &str) -> Option<Failure> {
    for prefix in [&b"reject: "[..], b"milter-reject: ", b"proxy-reject: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return Some(Failure {
                origin: origin.to_string(),
                dsn: None,
                reason: rest.to_vec(),
                domain: String::new(),
                kind: Kind::Reject,
            });
        }
    }
    let status = kv::get(text, b"status")?;
    let kind = match status {
        b"deferred" => Kind::Deferred,
        b"bounced" => Kind::Bounced,
        _ => return None,
    };
    let reason = kv::status_reason(text)?;
    let domain = kv::get(text, b"to")
        .map(kv::unbracket)
        .and_then(|to| to.rsplit(|&c| c == b'@').next())
        .map(|d| String::from_utf8_lossy(d).to_ascii_lowercase())
        .unwrap_or_default();
    Some(Failure {
        origin: origin.to_string(),
        dsn: kv::get(text, b"dsn").map(|d| String::from_utf8_lossy(d).into_owned()),
        reason: reason.to_vec(),
        domain,
        kind,
    })
}

/// Every failure in a log file.
fn log_failures(path: &Path) -> Vec<Failure> {
    let data = read(path);
    let origin = path.display().to_string();
    data.split(|&c| c == b'\n')
        .filter_map(|line| match parse_line(line) {
            Line::Postfix { event, .. } => failure_in_text(event.text(), &origin),
            _ => None,
        })
        .collect()
}

/// The reasons in a `postqueue -j` dump (or the rseichter sample): `delay_reason`,
/// `bounce_reason`, `other_reason`.
fn json_dump_failures(path: &Path) -> Vec<Failure> {
    let data = read(path);
    let origin = path.display().to_string();
    let mut out = Vec::new();
    for line in data.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        for r in v["recipients"].as_array().into_iter().flatten() {
            for key in ["delay_reason", "bounce_reason", "other_reason"] {
                if let Some(reason) = r[key].as_str() {
                    let address = r["address"].as_str().unwrap_or("");
                    out.push(Failure {
                        origin: origin.clone(),
                        dsn: None,
                        reason: reason.as_bytes().to_vec(),
                        domain: address.rsplit('@').next().unwrap_or("").to_lowercase(),
                        kind: Kind::QueueDump,
                    });
                }
            }
        }
    }
    out
}

/// The reasons in a `postqueue -p` dump: the `(reason)` lines.
fn text_dump_failures(path: &Path) -> Vec<Failure> {
    let data = read(path);
    let origin = path.display().to_string();
    String::from_utf8_lossy(&data)
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('(') && l.ends_with(')'))
        .map(|l| Failure {
            origin: origin.clone(),
            dsn: None,
            reason: l.as_bytes()[1..l.len() - 1].to_vec(),
            domain: String::new(),
            kind: Kind::QueueDump,
        })
        .collect()
}

/// The `data:` lines of the postfix-grok-patterns tests: message texts without a syslog
/// prefix, as YAML double-quoted strings.
fn grok_failures(dir: &Path) -> Vec<Failure> {
    let mut out = Vec::new();
    for path in files_under(dir) {
        let text = String::from_utf8(read(&path)).unwrap();
        for line in text.lines() {
            let Some(q) = line
                .strip_prefix("data: \"")
                .and_then(|l| l.strip_suffix('"'))
            else {
                continue;
            };
            let msg = q.replace("\\\"", "\"").replace("\\\\", "\\");
            // Drop a leading queue ID or NOQUEUE, as the parser would.
            let (_, rest) = crate::parse::strip_queue(msg.as_bytes());
            if let Some(f) = failure_in_text(rest, &path.display().to_string()) {
                out.push(f);
            }
        }
    }
    out
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The lab scenarios that inject one fault each.
const SCENARIOS: [&str; 10] = [
    "throttle",
    "refused",
    "timeout",
    "dns",
    "tls",
    "relayauth",
    "bounces",
    "cleanup",
    "expire",
    "filter",
];

/// The class a scenario's affected domain must get. `cleanup`'s partner.test answers `451
/// 4.3.0 <partner.test> temporary failure, try again later`: the remote's own trouble, which
/// none of the classes names (see the module docs of `classify`).
fn expected(scenario: &str, domain: &str, dsn: &str) -> Class {
    match (scenario, domain) {
        ("throttle", "throttle.test") => Class::Throttling,
        ("refused", "refused.test") => Class::ConnectionRefused,
        ("timeout", "slow.test") | ("filter", "slowpartner.test") => Class::ConnectionTimeout,
        ("dns", "partner.test") => Class::Dns,
        ("tls", "tls.test" | "tlsverify.test") => Class::Tls,
        ("relayauth", "customer-a.test" | "customer-b.test") => Class::RelayAuth,
        ("bounces", "users.test") => match dsn {
            "5.1.1" => Class::UnknownUser,
            "5.2.2" => Class::MailboxFull,
            other => panic!("bounces: unexpected dsn {other}"),
        },
        ("expire", "down.test") | ("cleanup", "gmial.test") => Class::ConnectionRefused,
        ("cleanup", "partner.test") => Class::Other,
        _ => panic!("no expectation for {scenario}/{domain}"),
    }
}

#[test]
fn lab_scenarios_classify_their_fault() {
    let mut wrong = Vec::new();
    for scenario in SCENARIOS {
        let truth: serde_json::Value =
            serde_json::from_slice(&read(&corpus(&format!("lab/{scenario}/truth.json")))).unwrap();
        let affected: Vec<String> = truth["affected_domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert!(!affected.is_empty(), "{scenario}");
        let failures = log_failures(&corpus(&format!("lab/{scenario}/mail.log")));
        for domain in &affected {
            let mine: Vec<&Failure> = failures
                .iter()
                .filter(|f| f.kind != Kind::Reject && &f.domain == domain)
                .collect();
            assert!(
                !mine.is_empty(),
                "{scenario}: no deferral or bounce for {domain}"
            );
            let mut by_class: BTreeMap<Class, usize> = BTreeMap::new();
            let mut sigs = BTreeSet::new();
            for f in &mine {
                let dsn = f.dsn.as_deref().unwrap();
                let got = f.class();
                *by_class.entry(got).or_default() += 1;
                sigs.insert(signature(&f.reason));
                let want = expected(scenario, domain, dsn);
                if got != want {
                    wrong.push(format!(
                        "{scenario}/{domain}: dsn={dsn} {:?}: got {got}, want {want}",
                        f.reason_str()
                    ));
                }
            }
            // Collapse: each affected domain's failures form at most 3 signatures.
            assert!(
                sigs.len() <= 3,
                "{scenario}/{domain}: {} signatures: {sigs:#?}",
                sigs.len()
            );
            println!(
                "{scenario:<10} {domain:<16} {:>5} failures, {} signature(s), {by_class:?}",
                mine.len(),
                sigs.len()
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn lab_bounces_rejects() {
    let rejects: Vec<Failure> = log_failures(&corpus("lab/bounces/mail.log"))
        .into_iter()
        .filter(|f| f.kind == Kind::Reject)
        .collect();
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    for f in &rejects {
        let want = if f.reason_str().contains("Relay access denied") {
            Class::RelayAuth
        } else {
            Class::UnknownUser
        };
        assert_eq!(f.class(), want, "{}", f.reason_str());
        *counts.entry(want).or_default() += 1;
    }
    // notes.md: 22 relay attempts from 127.0.0.2, 8 unknown local users.
    assert_eq!(counts.get(&Class::RelayAuth), Some(&22));
    assert_eq!(counts.get(&Class::UnknownUser), Some(&8));
}

/// Public rejects: every one must match one of these shapes (first match wins), so that a
/// new shape in the corpus forces a decision here.
#[test]
fn public_rejects() {
    let expect: &[(&str, Class)] = &[
        ("Relay access denied", Class::RelayAuth),
        ("Helo command rejected", Class::Policy),
        ("Client host rejected", Class::Policy),
        ("Sender address rejected", Class::Policy),
        ("blocked using", Class::Policy),
        ("Recipient address rejected: Access denied", Class::Policy),
        ("User unknown in", Class::UnknownUser),
        ("undeliverable address", Class::UnknownUser),
        ("Insufficient system storage", Class::Resource),
        ("Data command rejected", Class::Policy),
        ("Command rejected", Class::Policy),
        ("554 5.7.1 Service unavailable", Class::Policy),
    ];
    let mut files = vec![corpus("public/fail2ban/postfix")];
    for dir in ["public/crowdsec-hub", "public/kdent-postfix_log_analysis"] {
        files.extend(
            files_under(&corpus(dir))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "log")),
        );
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut total = 0;
    for path in &files {
        for f in log_failures(path)
            .into_iter()
            .filter(|f| f.kind == Kind::Reject)
        {
            total += 1;
            let text = f.reason_str();
            let Some((shape, want)) = expect.iter().find(|(s, _)| text.contains(s)) else {
                wrong.push(format!("no expected shape: {text}"));
                continue;
            };
            *seen.entry(shape).or_default() += 1;
            let got = f.class();
            if got != *want {
                wrong.push(format!("{}: got {got}, want {want}: {text}", f.origin));
            }
        }
    }
    println!("{total} public rejects: {seen:#?}");
    assert!(total > 1500, "only {total} rejects");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every failure text of the corpus: classify and sign each (never panicking), print the
/// signatures classified `other`, and check that signatures collapse the raw reasons.
#[test]
fn whole_corpus_collapses_and_lists_other() {
    let mut lab = Vec::new();
    for scenario in SCENARIOS {
        lab.extend(log_failures(&corpus(&format!("lab/{scenario}/mail.log"))));
        for p in files_under(&corpus(&format!("lab/{scenario}/queue"))) {
            if p.extension().is_some_and(|e| e == "jsonl") {
                lab.extend(json_dump_failures(&p));
            } else {
                lab.extend(text_dump_failures(&p));
            }
        }
    }
    for p in files_under(&corpus("lab/combined")) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("mail.log") {
            lab.extend(log_failures(&p));
        }
    }

    let mut public = Vec::new();
    for p in files_under(&corpus("public")) {
        let rel = p.strip_prefix(corpus("public")).unwrap().to_path_buf();
        let name = rel.to_string_lossy().into_owned();
        if name.starts_with("postfix-grok-patterns") || name.starts_with('.') {
            continue;
        }
        if name.ends_with("qdata.jsonl") {
            public.extend(json_dump_failures(&p));
        } else if name.ends_with("showq.txt") {
            public.extend(text_dump_failures(&p));
        } else if !(name.ends_with(".txt")
            || name.ends_with(".stderr")
            || name.ends_with("LICENSE")
            || name.ends_with("COPYING")
            || name.ends_with("dep5")
            || name.ends_with(".tar.gz"))
        {
            public.extend(log_failures(&p));
        }
    }
    public.extend(grok_failures(&corpus("public/postfix-grok-patterns")));

    let summarise = |name: &str, all: &[Failure]| -> (usize, usize) {
        let mut raw = BTreeSet::new();
        let mut sigs: BTreeMap<String, (Class, usize, String)> = BTreeMap::new();
        for f in all {
            raw.insert(f.reason.clone());
            let class = f.class();
            let sig = signature(&f.reason);
            // Classifying the signature gives the same class: callers may classify once per
            // signature.
            assert_eq!(
                classify(f.dsn.as_deref().map(str::as_bytes), sig.as_bytes()),
                class,
                "{sig}"
            );
            assert_eq!(signature(sig.as_bytes()), sig);
            let e = sigs
                .entry(sig)
                .or_insert_with(|| (class, 0, f.dsn.clone().unwrap_or_default()));
            e.1 += 1;
        }
        let mut per_class: BTreeMap<Class, usize> = BTreeMap::new();
        for (class, n, _) in sigs.values() {
            *per_class.entry(*class).or_default() += n;
        }
        println!(
            "{name}: {} failure texts, {} distinct reasons, {} signatures; texts per class {per_class:?}",
            all.len(),
            raw.len(),
            sigs.len()
        );
        println!("{name}: signatures classified `other`:");
        for (sig, (class, n, dsn)) in &sigs {
            if *class == Class::Other {
                println!("  {n:>5}  dsn={dsn:<6} {sig}");
            }
        }
        (raw.len(), sigs.len())
    };
    let (lab_raw, lab_sigs) = summarise("lab", &lab);
    let (pub_raw, pub_sigs) = summarise("public", &public);
    assert!(lab.len() > 10_000 && public.len() > 2_000);
    // Much fewer signatures than raw reasons. Every lab peer is 127.0.0.1, so there the
    // raw reasons differ only by addresses, domains and queue IDs (74 → 14 when written).
    assert!(
        lab_sigs * 4 <= lab_raw,
        "lab: {lab_sigs} signatures for {lab_raw} reasons"
    );
    assert!(
        pub_sigs * 10 <= pub_raw,
        "public: {pub_sigs} signatures for {pub_raw} reasons"
    );
}

/// Throughput over the lab's and kdent's failure texts (run with `cargo test --release --lib
/// -- --ignored classify_throughput --nocapture`; `ROUNDS=N` repeats N times, default 20).
/// Not a pass/fail test: it prints the time per text. Wall-clock time: run it on a quiet
/// machine.
#[test]
#[ignore]
fn classify_throughput() {
    let mut texts: Vec<Failure> = Vec::new();
    for scenario in SCENARIOS {
        texts.extend(log_failures(&corpus(&format!("lab/{scenario}/mail.log"))));
    }
    for p in files_under(&corpus("public/kdent-postfix_log_analysis")) {
        texts.extend(log_failures(&p));
    }
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let start = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..rounds {
        for f in &texts {
            n += f.class() as usize;
        }
    }
    let classify_s = start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for f in &texts {
            n += signature(&f.reason).len();
        }
    }
    let signature_s = start.elapsed().as_secs_f64();
    let total = (texts.len() * rounds) as f64;
    println!(
        "{} texts × {rounds}: classify {:.0} ns/text, signature {:.0} ns/text (checksum {n})",
        texts.len(),
        classify_s * 1e9 / total,
        signature_s * 1e9 / total
    );
}
