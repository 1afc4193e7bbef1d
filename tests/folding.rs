//! Folding finished lives into aggregates (issue 3's bounded memory) must not change what the
//! report says: the report built from folded timelines equals the one built from every
//! timeline (`--messages` keeps them all) once its `messages` list is set aside; and the lives
//! kept are exactly the unfolded ones.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use mailsleuth::ingest;
use mailsleuth::timeline::{self, End, Outcome};

fn report_json(input: &[PathBuf], messages: bool) -> serde_json::Value {
    report_capped(input, messages, None).0
}

/// The JSON report, and how many lives were kept in short (from the stage notes), with the
/// cap of whole finished lives set when given.
fn report_capped(
    input: &[PathBuf],
    messages: bool,
    cap: Option<usize>,
) -> (serde_json::Value, u64) {
    let (v, short, _) = report_kept(input, messages, cap);
    (v, short)
}

/// [`report_capped`], and how many lives were kept whole.
fn report_kept(
    input: &[PathBuf],
    messages: bool,
    cap: Option<usize>,
) -> (serde_json::Value, u64, u64) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mailsleuth"));
    cmd.env("MAILSLEUTH_TIMINGS", "1");
    if let Some(c) = cap {
        cmd.env("MAILSLEUTH_TIMELINE_CAP", c.to_string());
    }
    cmd.arg("report")
        .args(input)
        .args(["--tz", "UTC", "--format", "json"]);
    if messages {
        cmd.arg("--messages");
    }
    let out = cmd.output().expect("run mailsleuth");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "report {input:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let note = stderr
        .lines()
        .find_map(|l| l.split_once(" lives folded, ").map(|x| x.1))
        .unwrap_or("");
    let count = |end: &str| {
        note.split_once(end)
            .and_then(|(n, _)| n.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    (
        serde_json::from_slice(&out.stdout).expect("JSON report"),
        count(" kept in short"),
        count(" kept whole"),
    )
}

/// Past the cap, finished lives are kept in short: every count stays, only what is cited
/// (lives with lines to show) changes.
#[test]
fn lives_kept_in_short_past_the_cap_change_no_count() {
    let mut combined = combined_set("mail.log");
    combined.push(corpus("lab/combined/queue"));
    let runs = [
        combined,
        vec![
            corpus("lab/throttle/mail.log"),
            corpus("lab/throttle/queue"),
        ],
        // Every life here ends in short: the incidents' means must not depend on the order
        // the lives are numbered in.
        vec![corpus("lab/tls/mail-rfc3339.log")],
        // Lives linked by a content filter's hops, and bounces linked to their notices: kept
        // in short a group at a time, each recipient ending where its hand-offs led.
        vec![corpus("lab/filter/mail.log")],
        vec![corpus("lab/bounces/mail.log")],
        // Lives requeued by `postsuper -r`, kept in short with the lives continuing them.
        vec![corpus("lab/dns/mail.log")],
        vec![corpus("lab/cleanup/mail.log")],
        vec![corpus("public")],
    ];
    let strip = |mut v: serde_json::Value| {
        let o = v.as_object_mut().expect("object");
        o.remove("cited_messages");
        o.remove("messages");
        for i in o
            .get_mut("incidents")
            .and_then(|i| i.as_array_mut())
            .into_iter()
            .flatten()
        {
            i.as_object_mut()
                .expect("incident")
                .remove("sample_queue_ids");
        }
        v
    };
    let mut shortened = 0;
    for input in &runs {
        let (whole, none) = report_capped(input, true, None);
        assert_eq!(none, 0, "--messages keeps every life");
        let (capped, short) = report_capped(input, false, Some(0));
        shortened += short;
        assert!(
            strip(capped) == strip(whole),
            "{input:?}: a count changed when lives were kept in short"
        );
    }
    // The lab's troubled lives are mostly still queued, deleted while queued, or bounced
    // (linked to their notice); a few are neither.
    assert!(
        shortened > 0,
        "the cap was reached: {shortened} lives kept in short"
    );
}

/// Finished lives must not accumulate: past the cap, a life linked to others (a content
/// filter's hops, a bounce and its notice, a requeue) is kept in short with them once all
/// have ended, so with a cap of 0 only the lives that never ended stay whole.
#[test]
fn linked_lives_that_ended_do_not_stay_whole_past_the_cap() {
    for input in ["filter", "bounces", "dns", "cleanup"] {
        let input = corpus(&format!("lab/{input}/mail.log"));
        let input = vec![input];
        let (all, _) = report_capped(&input, true, None);
        let lives = all["messages"].as_array().expect("messages");
        let linked = lives.iter().filter(|m| !m["parent_link"].is_null()).count();
        assert!(linked > 0, "{input:?}: lives linked to others");
        let open = lives
            .iter()
            .filter(|m| {
                !matches!(
                    m["end"].as_str(),
                    Some("removed" | "deleted" | "rejected" | "requeued")
                )
            })
            .count() as u64;
        let (_, short, whole) = report_kept(&input, false, Some(0));
        assert!(short > 0, "{input:?}: lives kept in short");
        assert_eq!(whole, open, "{input:?}: lives kept whole at cap 0");
    }
}

#[test]
fn folding_changes_nothing_in_the_report() {
    let inputs: Vec<PathBuf> = vec![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        corpus("public"),
    ];
    let lab = corpus("lab");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&lab)
        .expect("lab corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "the lab's scenarios");
    let mut runs: Vec<Vec<PathBuf>> = inputs.into_iter().map(|i| vec![i]).collect();
    for dir in scenarios {
        // The directory (both timestamp formats), and its traditional log with the dumps.
        runs.push(vec![dir.clone()]);
        let log = dir.join("mail.log");
        if log.is_file() {
            runs.push(vec![log, dir.join("queue")]);
        }
    }
    for input in &runs {
        let folded = report_json(input, false);
        let mut whole = report_json(input, true);
        let listed = whole
            .as_object_mut()
            .and_then(|o| o.remove("messages"))
            .and_then(|m| m.as_array().map(Vec::len))
            .unwrap_or(0);
        assert!(listed > 0, "{input:?}: --messages lists the lives");
        assert!(
            folded == whole,
            "{input:?}: the report differs when finished lives are folded"
        );
    }
}

#[test]
fn kept_lives_are_the_unfolded_ones_and_folded_ones_are_clean() {
    let mut combined = combined_set("mail.log");
    combined.push(corpus("lab/combined/queue"));
    let (lives, _) = check_kept_lives(&combined);
    assert!(
        lives > 1000,
        "most of the lab's lives end delivered at once: {lives} folded"
    );
    let (lives, handoffs) =
        check_kept_lives(&[corpus("lab/filter/mail.log"), corpus("lab/filter/queue")]);
    assert!(lives > 100, "the filter lab folds: {lives} folded");
    assert!(
        handoffs > 100,
        "content-filter hops fold with the lives they link: {handoffs} hand-offs"
    );
}

/// Build the timelines of `inputs` whole and folded, check the folded ones against the
/// whole ones, and return the lives folded and the hand-off lines among them.
fn check_kept_lives(inputs: &[PathBuf]) -> (u64, usize) {
    let opts = utc_options();
    let loaded = load(inputs, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    let whole = timeline::build(&parsed.events, &parsed.dumps);
    let folded = timeline::build_folded(&parsed.events, &parsed.dumps, usize::MAX);

    let f = &folded.folded;
    assert!(
        folded.messages.len() as u64 + f.lives == whole.messages.len() as u64,
        "{} kept + {} folded != {} lives",
        folded.messages.len(),
        f.lives,
        whole.messages.len()
    );
    // A life is known by its first event.
    let kept: HashMap<u32, &timeline::Message> =
        folded.messages.iter().map(|m| (m.events[0], m)).collect();
    let mut order = Vec::new();
    for m in &whole.messages {
        match kept.get(&m.events[0]) {
            Some(k) => {
                order.push(m.events[0]);
                assert_eq!(
                    serde_json::to_value(m).expect("json"),
                    serde_json::to_value(k).expect("json"),
                    "a kept life differs from the unfolded one"
                );
                assert_eq!(m.events, k.events);
            }
            None => assert!(
                m.end == End::Removed
                    && m.parent.is_none_or(|l| l.kind.continues())
                    && !m.recipients.is_empty()
                    && m.recipients
                        .iter()
                        .all(|r| r.outcome == Outcome::Delivered && r.attempts == 1),
                "folded a life that was not delivered at once: {} {:?}",
                m.queue_id,
                m.end
            ),
        }
    }
    let kept_order: Vec<u32> = folded.messages.iter().map(|m| m.events[0]).collect();
    assert_eq!(order, kept_order, "kept lives keep the order they began in");
    assert_eq!(
        serde_json::to_value(whole.totals()).expect("json"),
        serde_json::to_value(folded.totals()).expect("json")
    );
    // The events and delivery lines of folded lives point nowhere; the rest to the same life.
    for (ei, (a, b)) in whole.owner.iter().zip(&folded.owner).enumerate() {
        match (a.get(), b.get()) {
            (Some(a), Some(b)) => assert_eq!(
                whole.messages[a as usize].events[0], folded.messages[b as usize].events[0],
                "event {ei}"
            ),
            (Some(a), None) => assert!(
                !kept.contains_key(&whole.messages[a as usize].events[0]),
                "event {ei} lost its life"
            ),
            (None, None) => {}
            (None, Some(_)) => panic!("event {ei} gained a life"),
        }
    }
    let handoffs = folded
        .deliveries
        .iter()
        .filter(|d| d.message == timeline::HANDOFF)
        .count();
    for (a, b) in whole.deliveries.iter().zip(&folded.deliveries) {
        assert_eq!(a.event, b.event);
        if b.message >= timeline::HANDOFF {
            assert!(!kept.contains_key(&whole.messages[a.message as usize].events[0]));
        } else {
            assert_eq!(
                whole.messages[a.message as usize].events[0],
                folded.messages[b.message as usize].events[0]
            );
        }
    }
    (f.lives, handoffs)
}

/// A life kept in short is cited by rebuilding it from its lines: the rebuilt life must be
/// the life kept whole (its lines, outcomes, links and end), but for the inbound session's
/// TLS, which comes from a line of the session, not of the life, and which no report cites.
#[test]
fn lives_kept_in_short_rebuild_as_they_were_kept_whole() {
    let mut combined = combined_set("mail.log");
    combined.push(corpus("lab/combined/queue"));
    let mut runs = vec![combined, vec![corpus("public")]];
    for lab in ["filter", "bounces", "dns", "cleanup", "expire", "tls"] {
        runs.push(vec![corpus(&format!("lab/{lab}/mail.log"))]);
    }
    let mut rebuilt = 0;
    let mut linked = 0;
    for input in &runs {
        let opts = utc_options();
        let loaded = load(input, &opts);
        let parsed = ingest::parse(&loaded, &opts);
        let whole = timeline::build(&parsed.events, &parsed.dumps);
        let short = timeline::build_folded(&parsed.events, &parsed.dumps, 0);
        let by_first: HashMap<u32, &timeline::Message> =
            whole.messages.iter().map(|m| (m.events[0], m)).collect();
        let kept = short.messages.len();
        // The lines as a report finds them: parsed again from where they came from.
        let all: Vec<u32> = (0..parsed.events.len() as u32).collect();
        let again = parsed.origins.events(&all);
        assert!(
            short.rebuilt(0, &again).is_none() || kept == 0,
            "a life kept whole is not rebuilt"
        );
        for i in kept..kept + short.compact.len() {
            let m = short
                .rebuilt(i, &again)
                .expect("a life kept in short is rebuilt");
            let w = by_first[&m.events[0]];
            assert_eq!(m.events, w.events, "{input:?}: the lines of {}", w.queue_id);
            let json = |m: &timeline::Message| {
                let mut v = serde_json::to_value(m).expect("json");
                v.as_object_mut().expect("object").remove("tls");
                v
            };
            assert_eq!(json(&m), json(w), "{input:?}: life {} rebuilt", w.queue_id);
            rebuilt += 1;
            linked += usize::from(m.parent.is_some() || !m.children.is_empty());
        }
    }
    assert!(rebuilt > 1000, "{rebuilt} lives rebuilt");
    assert!(linked > 100, "{linked} of them linked to other lives");
}

/// With every finished life kept in short (a cap of 0), each incident still cites every
/// sample it names, with its lines: the report rebuilds them.
#[test]
fn incidents_cite_their_samples_when_every_life_is_kept_in_short() {
    let mut cited_lives = 0;
    for input in [
        vec![corpus("lab/combined")],
        vec![corpus("lab/throttle/mail.log")],
        vec![corpus("lab/cleanup/mail.log")],
        vec![corpus("public")],
    ] {
        let (report, short) = report_capped(&input, false, Some(0));
        assert!(short > 0, "{input:?}: lives kept in short");
        let cited: HashMap<String, usize> = report["cited_messages"]
            .as_array()
            .expect("cited messages")
            .iter()
            .map(|c| {
                let id = c["message"]["queue_id"]
                    .as_str()
                    .expect("queue ID")
                    .to_string();
                (id, c["events"].as_array().map_or(0, Vec::len))
            })
            .collect();
        let incidents = report["incidents"].as_array().expect("incidents");
        assert!(!incidents.is_empty(), "{input:?}: incidents");
        for i in incidents {
            for q in i["sample_queue_ids"].as_array().expect("samples") {
                let q = q.as_str().expect("queue ID");
                let lines = cited.get(q).copied().unwrap_or(0);
                assert!(lines > 0, "{input:?}: sample {q} is cited with its lines");
            }
        }
        cited_lives += cited.len();
    }
    assert!(cited_lives >= 20, "{cited_lives} lives cited");
}
