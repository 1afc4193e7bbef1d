//! Timelines against the lab's ground truth: every (Message-ID, recipient) of every scenario
//! gets the outcome `truth.json` records as observed, and every line naming a queue ID
//! belongs to exactly one life.

mod common;

use std::collections::HashMap;

use common::*;
use mailsleuth::ingest;
use mailsleuth::timeline::{self, Outcome};

const SCENARIOS: &[&str] = &LAB_SCENARIOS;
fn expected(observed: &str, log_final: Option<&str>) -> Option<Outcome> {
    Some(match (observed, log_final) {
        ("delivered", _) => Outcome::Delivered,
        ("still-queued-at-end", _) => Outcome::Deferred,
        ("deleted-by-admin", _) => Outcome::Deleted,
        ("bounced", Some("expired")) => Outcome::Expired,
        ("bounced", _) => Outcome::Bounced,
        _ => return None,
    })
}

/// Run one scenario; returns (checked, mismatches).
fn check(scenario: &str) -> (usize, Vec<String>) {
    let opts = utc_options();
    let dir = corpus(&format!("lab/{scenario}"));
    let l = load(&[dir.join("mail-rfc3339.log")], &opts);
    let p = ingest::parse(&l, &opts);
    let t = timeline::build(&p.events, &p.dumps);

    // Every event naming a queue ID has exactly one owner, and owners list their events.
    for (ei, e) in p.events.iter().enumerate() {
        assert_eq!(
            e.queue().id().is_some(),
            t.owner[ei].is_some(),
            "{scenario}: event {ei} ({})",
            render(e)
        );
    }
    let listed: usize = t.messages.iter().map(|m| m.events.len()).sum();
    assert_eq!(listed, t.owner.iter().filter(|o| o.is_some()).count());

    let mut by_mid: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, m) in t.messages.iter().enumerate() {
        if let Some(mid) = &m.message_id {
            if !t.continues_parent(m) {
                by_mid.entry(&**mid).or_default().push(i);
            }
        }
    }
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let mut checked = 0;
    let mut bad = Vec::new();
    for msg in truth["messages"].as_array().unwrap() {
        let mid = msg["message_id"].as_str().unwrap();
        let in_log = msg["queue_ids_in_log"].as_array().unwrap();
        for ro in msg["recipient_outcomes"].as_array().unwrap() {
            let rcpt = ro["recipient"].as_str().unwrap();
            let Some(want) = expected(
                ro["observed"].as_str().unwrap(),
                ro["log_final_status"].as_str(),
            ) else {
                bad.push(format!("{scenario}: unknown truth {ro}"));
                continue;
            };
            let lives = by_mid.get(mid).cloned().unwrap_or_default();
            if lives.is_empty() && in_log.is_empty() {
                // Rejected before a queue file existed: the truth can only come from
                // NOQUEUE rejects, which belong to sessions, not timelines.
                let rejected = t
                    .rejects
                    .iter()
                    .any(|r| r.to.as_deref() == Some(rcpt) && r.queue_id.is_none());
                assert!(
                    rejected,
                    "{scenario}: {mid} {rcpt} has no queue ID and no reject"
                );
                continue;
            }
            checked += 1;
            let got: Vec<Outcome> = lives
                .iter()
                .flat_map(|&i| t.messages[i].recipients.iter())
                .filter(|r| r.address == rcpt)
                .map(|r| r.outcome)
                .collect();
            if got != [want] {
                bad.push(format!(
                    "{scenario}: {mid} {rcpt}: want {want:?}, got {got:?} (lives {:?})",
                    lives
                        .iter()
                        .map(|&i| t.messages[i].queue_id.to_string())
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    (checked, bad)
}

#[test]
fn every_lab_recipient_gets_its_observed_outcome() {
    let mut all_bad = Vec::new();
    let mut total = 0;
    for s in SCENARIOS {
        let (n, bad) = check(s);
        eprintln!("{s}: {n} recipients checked, {} wrong", bad.len());
        total += n;
        all_bad.extend(bad);
    }
    for b in all_bad.iter().take(40) {
        eprintln!("{b}");
    }
    assert!(total > 2500, "only {total} checked");
    assert!(all_bad.is_empty(), "{} of {total} wrong", all_bad.len());
}
