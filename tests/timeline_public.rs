//! Timelines on others' real logs: every queue-ID line has one owner on every public file,
//! and the lightmeter samples of reuse, expiry, multiple recipients and content filters
//! trace as the lines say they should.

mod common;

use common::*;
use mailsleuth::ingest;
use mailsleuth::timeline::{self, End, LinkKind, Outcome, Timelines};

fn lightmeter(name: &str) -> std::path::PathBuf {
    corpus(&format!(
        "public/lightmeter-controlcenter/individual_files/{name}"
    ))
}

fn build(path: &std::path::Path) -> (Timelines<'static>, String) {
    let mut opts = utc_options();
    opts.year = Some(2020);
    // The timelines borrow their texts from the input: keep it for the whole test.
    let l = Box::leak(Box::new(load(&[path.to_path_buf()], &opts)));
    let p = Box::leak(Box::new(ingest::parse(l, &opts)));
    let t = timeline::build(&p.events, &p.dumps);
    for (ei, e) in p.events.iter().enumerate() {
        assert_eq!(
            e.queue().id().is_some(),
            t.owner[ei].is_some(),
            "{}",
            render(e)
        );
    }
    (
        t,
        String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned(),
    )
}

fn lives<'a>(t: &'a Timelines<'_>, qid: &str) -> Vec<&'a timeline::Message<'a>> {
    t.messages
        .iter()
        .filter(|m| m.queue_id.as_str() == qid)
        .collect()
}

#[test]
fn every_queue_id_line_has_one_owner_in_every_public_log() {
    let root = corpus("public");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut lines_with_ids = 0;
    for f in files {
        let opts = utc_options();
        let l = load(std::slice::from_ref(&f), &opts);
        if l.inputs[0].kind != mailsleuth::input::Kind::Maillog {
            continue;
        }
        let (t, _) = build(&f);
        lines_with_ids += t.owner.iter().filter(|o| o.is_some()).count();
        let listed: usize = t.messages.iter().map(|m| m.events.len()).sum();
        assert_eq!(listed, t.owner.iter().filter(|o| o.is_some()).count());
    }
    assert!(lines_with_ids > 10_000, "{lines_with_ids}");
}

#[test]
fn reused_queue_ids_get_one_life_per_arrival() {
    let (t, text) = build(&lightmeter("14_reuse_of_queueid.log"));
    for qid in ["BABABABABA"] {
        let arrivals = text
            .lines()
            .filter(|l| l.contains(&format!(" {qid}: client=")))
            .count();
        let ls = lives(&t, qid);
        assert!(arrivals >= 2, "{qid}: the sample reuses it");
        assert_eq!(ls.len(), arrivals, "{qid}");
        for (n, m) in ls.iter().enumerate() {
            assert_eq!(m.life as usize, n);
            assert!(m.client.is_some());
            assert!(
                m.recipients.iter().all(|r| r.outcome == Outcome::Delivered),
                "{qid} life {n}: {:?}",
                m.recipients
            );
        }
    }
    // Its last line is dated a day early (a clock step): it still closes the one life,
    // because a file keeps its own line order.
    let c = lives(&t, "CACACACACACA");
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].end, End::Removed);
    assert_eq!(c[0].recipients[0].outcome, Outcome::Delivered);
}

#[test]
fn an_expired_message_behind_a_hop_ends_expired_with_its_notification() {
    let (t, text) = build(&lightmeter("18_expired.log"));
    // 20B4E3D5BD hands the message over to 23EBE3D5C0 (`queued as 23EBE3D5C0`), which is
    // retried for days, expires and returns an NDR (A7E673C067) that is delivered locally.
    assert!(text.contains("queued as 23EBE3D5C0"));
    let parent = lives(&t, "20B4E3D5BD")[0];
    assert_eq!(parent.recipients.len(), 1);
    assert_eq!(
        parent.recipients[0].handed_to_queue_id.unwrap().as_str(),
        "23EBE3D5C0"
    );
    assert_eq!(parent.recipients[0].outcome, Outcome::Expired);
    let child = lives(&t, "23EBE3D5C0")[0];
    assert_eq!(child.parent.unwrap().kind, LinkKind::Hop);
    assert!(child.expired_at.is_some());
    assert_eq!(child.end, End::Removed);
    let deferrals = text
        .lines()
        .filter(|l| l.contains("23EBE3D5C0: to=") && l.contains("status=deferred"))
        .count() as u32;
    assert_eq!(child.recipients[0].deferrals, deferrals);
    assert_eq!(child.notifications.len(), 1);
    let ndr = lives(&t, "A7E673C067")[0];
    assert_eq!(ndr.parent.unwrap().kind, LinkKind::Notification);
    assert_eq!(ndr.recipients[0].outcome, Outcome::Delivered);
    // Counted once: the hop child is the same message.
    assert!(t.continues_parent(child));
}

#[test]
fn recipients_behind_a_content_filter_take_their_final_outcome() {
    let (t, text) = build(&lightmeter("2_multiple_recipients_some_bounces.log"));
    let parent = lives(&t, "BA8F630001DA")[0];
    let child = lives(&t, "1310930001DB")[0];
    assert_eq!(child.parent.unwrap().queue_id.as_str(), "BA8F630001DA");
    assert_eq!(parent.recipients.len(), 5);
    for r in &parent.recipients {
        // What the child's own line says for this recipient.
        let line = text
            .lines()
            .find(|l| l.contains(&format!("1310930001DB: to=<{}>", r.address)))
            .unwrap();
        let want = if line.contains("status=sent") {
            Outcome::Delivered
        } else {
            Outcome::Bounced
        };
        assert_eq!(r.outcome, want, "{}", r.address);
        assert_eq!(r.handed_to_queue_id.unwrap().as_str(), "1310930001DB");
    }
    // The NDR for the bounces is linked to the child.
    assert_eq!(child.notifications.len(), 1);

    let (t, _) = build(&lightmeter("6_deferred_message_retry.log"));
    let parent = lives(&t, "78E8330001C7")[0];
    let child = lives(&t, "A17F830001CA")[0];
    // The child's client= line comes before the parent's `queued as`.
    assert!(child.received_at.unwrap() <= parent.recipients[0].last_attempt_at.unwrap());
    assert_eq!(
        parent.recipients[0].handed_to_queue_id.unwrap().as_str(),
        "A17F830001CA"
    );
    assert_eq!(parent.recipients[0].outcome, child.recipients[0].outcome);
    assert!(child.recipients[0].deferrals >= 1);
}
