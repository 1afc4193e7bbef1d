//! Queue dumps on the real corpus: every dump parses and matches its own trailer, `-p` and
//! `-j` taken together agree, the cleanup scenario's plan is exactly what the admin deleted,
//! and the monitoring check follows the plugin convention.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use assert_cmd::Command;
use common::*;
use mailsleuth::qdump::{self, Dump};

fn mailsleuth() -> Command {
    let mut c = Command::cargo_bin("mailsleuth").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn all_dumps() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(corpus("lab")).unwrap() {
        let q = e.unwrap().path().join("queue");
        if q.is_dir() {
            for f in std::fs::read_dir(q).unwrap() {
                out.push(f.unwrap().path());
            }
        }
    }
    for f in [
        "public/kumina-postfix_exporter/showq.txt",
        "public/digineo-postfix_exporter/showq.txt",
        "public/rseichter-postqf/qdata.jsonl",
    ] {
        out.push(corpus(f));
    }
    out.sort();
    out
}

fn read(path: &PathBuf) -> Dump {
    let data = std::fs::read(path).unwrap();
    let name = path.display().to_string();
    if name.ends_with(".jsonl") {
        qdump::parse_json(&data, &name)
    } else {
        qdump::parse_text(&data, &name)
    }
}

#[test]
fn every_dump_parses_and_matches_its_trailer() {
    let mut checked = 0;
    for p in all_dumps() {
        let d = read(&p);
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        if p.display().to_string().ends_with(".jsonl") {
            assert!(d.warnings.is_empty(), "{}: {:?}", p.display(), d.warnings);
            assert_eq!(
                d.messages.len(),
                text.lines().filter(|l| !l.trim().is_empty()).count()
            );
        } else if let Some(trailer) = text.lines().rev().find(|l| l.starts_with("-- ")) {
            // `-- 33 Kbytes in 46 Requests.`
            let words: Vec<&str> = trailer.split_whitespace().collect();
            let n: usize = words[4].parse().unwrap();
            let kb: u64 = words[1].parse().unwrap();
            assert_eq!(d.messages.len(), n, "{}", p.display());
            assert_eq!(d.messages.iter().map(|m| m.size).sum::<u64>() / 1024, kb);
            assert!(d.complete);
        } else if text.trim() == "Mail queue is empty" {
            assert!(d.messages.is_empty() && d.complete);
        } else {
            // Cut off (the public showq samples): the whole records are kept, and said.
            assert!(!d.complete, "{}", p.display());
            let heads = text
                .lines()
                .filter(|l| {
                    l.len() > 10
                        && !l.starts_with(' ')
                        && !l.starts_with('-')
                        && !l.starts_with('(')
                })
                .count();
            assert_eq!(d.messages.len(), heads, "{}", p.display());
        }
        checked += 1;
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn text_and_json_dumps_taken_together_agree() {
    let mut compared = 0;
    for p in all_dumps() {
        let name = p.display().to_string();
        if !name.contains("/lab/") || !name.ends_with(".txt") {
            continue;
        }
        let j = PathBuf::from(
            name.replace("postqueue-p-", "postqueue-j-")
                .replace(".txt", ".jsonl"),
        );
        if !j.exists() {
            continue;
        }
        let (pd, jd) = (read(&p), read(&j));
        let by_id: BTreeMap<&str, &qdump::QueuedMessage> = jd
            .messages
            .iter()
            .map(|m| (m.queue_id_text.as_str(), m))
            .collect();
        for m in &pd.messages {
            let Some(o) = by_id.get(m.queue_id_text.as_str()) else {
                continue;
            };
            compared += 1;
            assert_eq!(m.size, o.size, "{name} {}", m.queue_id_text);
            let sender = if o.sender.is_empty() {
                "MAILER-DAEMON"
            } else {
                &o.sender
            };
            assert_eq!(m.sender, sender);
            let queue = match o.queue_name.as_str() {
                "incoming" | "maildrop" => "deferred",
                q => q,
            };
            // Between the two snapshots a message may move between active and deferred.
            if m.queue_name == "hold" || queue == "hold" {
                assert_eq!(m.queue_name, queue, "{name} {}", m.queue_id_text);
            }
            let ra: BTreeSet<(&str, Option<&str>)> = m
                .recipients
                .iter()
                .map(|r| (r.address.as_str(), r.reason.as_deref()))
                .collect();
            let rb: BTreeSet<(&str, Option<&str>)> = o
                .recipients
                .iter()
                .map(|r| (r.address.as_str(), r.reason.as_deref()))
                .collect();
            let addrs = |s: &BTreeSet<(&str, Option<&str>)>| -> BTreeSet<String> {
                s.iter().map(|x| x.0.to_string()).collect()
            };
            assert_eq!(addrs(&ra), addrs(&rb), "{name} {}", m.queue_id_text);
            // A reason both state must be the same (one may have been taken before the
            // first attempt, without any).
            for r in &m.recipients {
                let other = o
                    .recipients
                    .iter()
                    .find(|x| x.address == r.address)
                    .unwrap();
                if let (Some(a), Some(b)) = (&r.reason, &other.reason) {
                    assert_eq!(a, b, "{name} {}", m.queue_id_text);
                }
            }
        }
    }
    assert!(compared > 1000, "{compared}");
}

#[test]
fn the_cleanup_plan_is_exactly_what_the_admin_deleted() {
    let dir = corpus("lab/cleanup");
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let deleted: BTreeSet<String> = truth["admin_deleted_queue_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(!deleted.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    for dump in [
        "queue/postqueue-j-20261130T021150Z.jsonl",
        "queue/postqueue-p-20261130T021150Z.txt",
    ] {
        let plan = tmp.path().join("plan.txt");
        mailsleuth()
            .args([
                "queue",
                dir.join(dump).to_str().unwrap(),
                "--select",
                "domain=gmial.test",
                "--plan",
                plan.to_str().unwrap(),
                "--tz",
                "UTC",
            ])
            .assert()
            .code(0);
        let text = std::fs::read_to_string(&plan).unwrap();
        let ids: BTreeSet<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect();
        assert_eq!(ids, deleted, "{dump}");
        assert!(text.contains("postsuper -d -"));
    }
}

#[test]
fn a_message_with_recipients_outside_the_selection_is_not_planned() {
    // A real record with one more, real, recipient of another domain added.
    let src = corpus("lab/cleanup/queue/postqueue-j-20261130T021150Z.jsonl");
    let text = std::fs::read_to_string(src).unwrap();
    let line = text.lines().find(|l| l.contains("@gmial.test")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    let qid = v["queue_id"].as_str().unwrap().to_string();
    v["recipients"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"address": "frank3@healthy.test"}));
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("postqueue-j-20261130T021150Z.jsonl");
    let mut body = String::new();
    for l in text.lines() {
        if l == line {
            body.push_str(&v.to_string());
        } else {
            body.push_str(l);
        }
        body.push('\n');
    }
    std::fs::write(&f, body).unwrap();
    let plan = tmp.path().join("plan.txt");
    let out = mailsleuth()
        .args([
            "queue",
            f.to_str().unwrap(),
            "--select",
            "domain=gmial.test",
            "--plan",
            plan.to_str().unwrap(),
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let planned = std::fs::read_to_string(&plan).unwrap();
    assert!(!planned.lines().any(|l| l == qid));
    let review = String::from_utf8(out).unwrap();
    assert!(
        review.contains(&qid) && review.contains("outside the selection"),
        "{review}"
    );
}

#[test]
fn monitoring_follows_the_plugin_convention() {
    let d = corpus("lab/cleanup/queue/postqueue-j-20261130T021150Z.jsonl");
    let n = std::fs::read_to_string(&d).unwrap().lines().count() as u64;
    let run = |warn: u64, crit: u64| {
        mailsleuth()
            .args([
                "queue",
                d.to_str().unwrap(),
                "--warn",
                &warn.to_string(),
                "--crit",
                &crit.to_string(),
            ])
            .output()
            .unwrap()
    };
    let ok = run(n + 1, n + 2);
    assert_eq!(ok.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&ok.stdout).starts_with(&format!("OK: Postfix queue {n} messages"))
    );
    assert_eq!(run(n, n + 1).status.code(), Some(1));
    assert_eq!(run(1, n).status.code(), Some(2));
    let unknown = mailsleuth()
        .args([
            "queue",
            "tests/fixtures/throttle/notes.md",
            "--warn",
            "1",
            "--crit",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown.stdout).starts_with("UNKNOWN:"));
}

#[test]
fn a_capture_time_from_the_command_line_dates_a_text_dump() {
    // The public showq sample has no year and no time in its name: `--taken-at` gives both.
    let d = corpus("public/kumina-postfix_exporter/showq.txt");
    let out = mailsleuth()
        .args([
            "queue",
            d.to_str().unwrap(),
            "--taken-at",
            "2020-02-24T14:00:00Z",
            "--tz",
            "UTC",
            "--format",
            "json",
            "-q",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snap = &v["snapshots"][0];
    assert_eq!(snap["taken_at_source"], "flag");
    // The oldest arrival printed in the dump, "Fri Feb 21 13:31:58" (2020 had Feb 21 on a
    // Friday), is 3 days 28m02s before.
    let text = std::fs::read_to_string(&d).unwrap();
    assert!(text.contains("Fri Feb 21 13:31:58"));
    assert_eq!(snap["oldest_age_s"], 3 * 86_400 + 28 * 60 + 2);
    // A capture time before the arrivals is warned about.
    let early = mailsleuth()
        .args([
            "queue",
            d.to_str().unwrap(),
            "--taken-at",
            "2020-02-24T13:00:00Z",
            "--tz",
            "UTC",
        ])
        .output()
        .unwrap();
    assert_eq!(
        early.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
}

#[test]
fn queued_messages_are_joined_with_their_timelines() {
    let dir = corpus("lab/expire");
    let dump = dir.join("queue/postqueue-j-20261130T022417Z.jsonl");
    let out = mailsleuth()
        .args([
            "queue",
            dir.join("mail-rfc3339.log").to_str().unwrap(),
            dump.to_str().unwrap(),
            "--format",
            "json",
            "-q",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let joined = v["joined"].as_array().unwrap();
    let ids: BTreeSet<String> = std::fs::read_to_string(&dump)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["queue_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!joined.is_empty());
    for j in joined {
        assert!(ids.contains(j["queue_id"].as_str().unwrap()));
        assert!(j["attempts"].as_u64().unwrap() >= 1);
        assert!(j["last_error"]
            .as_str()
            .unwrap()
            .contains("Connection refused"));
    }
}
