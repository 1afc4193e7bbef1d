//! Queue dumps analysed: the shape of each snapshot (queues, bytes, oldest message,
//! qshape-style domains by age, top domains, senders and reasons), growth across snapshots,
//! what stayed stuck, and the selection behind a surgical cleanup plan.
//!
//! Reads only [`crate::qdump::Dump`]s (and the timelines, when logs were given too); never
//! touches a live queue.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use super::classify::{self, Class};
use crate::qdump::{Dump, QueuedMessage};
use crate::time::{Stamp, Zone, MICROS};

/// qshape's age buckets, in minutes: a message falls in the first bucket whose bound its age
/// does not exceed; the last bucket is everything older than 1280 minutes.
pub const AGE_BUCKETS_MIN: [i64; 10] = [0, 5, 10, 20, 40, 80, 160, 320, 640, 1280];

/// Bucket labels, as qshape prints them.
pub fn bucket_labels() -> Vec<String> {
    let mut v: Vec<String> = AGE_BUCKETS_MIN.iter().map(|m| m.to_string()).collect();
    v.push("1280+".into());
    v
}

fn bucket(age_s: i64) -> usize {
    let min = age_s.max(0) / 60;
    AGE_BUCKETS_MIN
        .iter()
        .position(|&b| min <= b)
        .unwrap_or(AGE_BUCKETS_MIN.len())
}

pub fn domain_of(addr: &str) -> String {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or(addr)
        .to_ascii_lowercase()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A text dump's `Www Mmm dd HH:MM:SS` (local time, no year) resolved against the capture
/// time: the latest such time not after the capture (plus a minute of clock slack), checked
/// against the weekday.
pub fn resolve_text_arrival(text: &str, taken_at: Stamp, zone: &Zone) -> Option<i64> {
    let mut it = text.split_ascii_whitespace();
    let wd = it.next()?;
    let mon_name = it.next()?;
    let mon = MONTHS.iter().position(|m| *m == mon_name)? as u32 + 1;
    let day: u32 = it.next()?.parse().ok()?;
    let hms: Vec<i64> = it
        .next()?
        .split(':')
        .filter_map(|x| x.parse().ok())
        .collect();
    if hms.len() != 3 {
        return None;
    }
    let taken_year = taken_at.year();
    let mut best: Option<i64> = None;
    for y in [taken_year, taken_year - 1, taken_year + 1] {
        let days = crate::time::days_from_civil(y, mon, day);
        let local = (days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]) * MICROS;
        let off = zone.offset_at_local(local) as i64;
        let unix = local / MICROS - off;
        if unix > taken_at.unix_secs() + 60 {
            continue;
        }
        // Weekday of the date (1970-01-01 was a Thursday).
        let wday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
        let weekday_ok = wday == wd;
        if best.is_none_or(|b| unix > b) && weekday_ok {
            best = Some(unix);
        }
    }
    best
}

/// Per-domain row of a snapshot.
#[derive(Clone, Debug, Serialize)]
pub struct DomainRow {
    pub domain: String,
    pub messages: u64,
    pub recipients: u64,
    /// Recipients per age bucket (see [`AGE_BUCKETS_MIN`]).
    pub age_buckets: Vec<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SenderRow {
    pub sender: String,
    pub messages: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReasonRow {
    pub class: Class,
    pub signature: String,
    pub recipients: u64,
    pub domains: Vec<String>,
}

/// One dump, summarised.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub path: String,
    pub taken_at: Option<Stamp>,
    pub taken_at_source: Option<&'static str>,
    pub complete: bool,
    pub messages: u64,
    pub recipients: u64,
    pub bytes: u64,
    pub active: u64,
    pub deferred: u64,
    pub hold: u64,
    pub incoming: u64,
    pub oldest_age_s: Option<i64>,
    pub domains: Vec<DomainRow>,
    pub senders: Vec<SenderRow>,
    pub reasons: Vec<ReasonRow>,
    /// The oldest messages: what is stuck, and why.
    pub oldest: Vec<StuckRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StuckRow {
    pub queue_id: String,
    pub queue_name: String,
    pub age_s: Option<i64>,
    pub sender: String,
    pub recipients: Vec<String>,
    pub reason: Option<String>,
}

/// A queued message with its resolved arrival.
pub struct Resolved<'d> {
    pub message: &'d QueuedMessage,
    pub arrival: Option<i64>,
}

pub fn resolve_all<'d>(d: &'d Dump, zone: &Zone) -> Vec<Resolved<'d>> {
    d.messages
        .iter()
        .map(|m| Resolved {
            message: m,
            arrival: m.arrival_unix.or_else(|| {
                let t = m.arrival_text.as_deref()?;
                resolve_text_arrival(t, d.taken_at?, zone)
            }),
        })
        .collect()
}

pub fn snapshot(d: &Dump, zone: &Zone, top: usize) -> Snapshot {
    let rs = resolve_all(d, zone);
    let now = d.taken_at.map(|t| t.unix_secs());
    let mut s = Snapshot {
        path: d.path.clone(),
        taken_at: d.taken_at,
        taken_at_source: d.taken_at_source,
        complete: d.complete,
        messages: d.messages.len() as u64,
        recipients: 0,
        bytes: 0,
        active: 0,
        deferred: 0,
        hold: 0,
        incoming: 0,
        oldest_age_s: None,
        domains: Vec::new(),
        senders: Vec::new(),
        reasons: Vec::new(),
        oldest: Vec::new(),
    };
    let mut by_age: Vec<(i64, &QueuedMessage)> = rs
        .iter()
        .filter_map(|r| Some((now? - r.arrival?, r.message)))
        .collect();
    by_age.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.queue_id_text.cmp(&b.1.queue_id_text))
    });
    s.oldest = by_age
        .into_iter()
        .take(top)
        .map(|(age, m)| StuckRow {
            queue_id: m.queue_id_text.clone(),
            queue_name: m.queue_name.clone(),
            age_s: Some(age),
            sender: m.sender.clone(),
            recipients: m.recipients.iter().map(|r| r.address.clone()).collect(),
            reason: m.recipients.iter().find_map(|r| r.reason.clone()),
        })
        .collect();
    let mut domains: BTreeMap<String, (BTreeSet<usize>, u64, Vec<u64>)> = BTreeMap::new();
    let mut senders: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut reasons: BTreeMap<(Class, String), (u64, BTreeSet<String>)> = BTreeMap::new();
    for (i, r) in rs.iter().enumerate() {
        let m = r.message;
        s.bytes += m.size;
        s.recipients += m.recipients.len() as u64;
        match m.queue_name.as_str() {
            "active" => s.active += 1,
            "hold" => s.hold += 1,
            "incoming" | "maildrop" => s.incoming += 1,
            _ => s.deferred += 1,
        }
        let age = match (now, r.arrival) {
            (Some(n), Some(a)) => Some(n - a),
            _ => None,
        };
        if let Some(a) = age {
            s.oldest_age_s = Some(s.oldest_age_s.map_or(a, |o: i64| o.max(a)));
        }
        let sender = if m.sender.is_empty() {
            "MAILER-DAEMON".to_string()
        } else {
            m.sender.clone()
        };
        let e = senders.entry(sender).or_insert((0, 0));
        e.0 += 1;
        e.1 += m.size;
        for rc in &m.recipients {
            let dom = domain_of(&rc.address);
            let e = domains
                .entry(dom.clone())
                .or_insert_with(|| (BTreeSet::new(), 0, vec![0; AGE_BUCKETS_MIN.len() + 1]));
            e.0.insert(i);
            e.1 += 1;
            if let Some(a) = age {
                e.2[bucket(a)] += 1;
            }
            if let Some(reason) = &rc.reason {
                let class = classify::classify(None, reason.as_bytes());
                let sig = classify::signature(reason.as_bytes());
                let e = reasons.entry((class, sig)).or_insert((0, BTreeSet::new()));
                e.0 += 1;
                e.1.insert(dom);
            }
        }
    }
    let mut drows: Vec<DomainRow> = domains
        .into_iter()
        .map(|(domain, (msgs, rc, ages))| DomainRow {
            domain,
            messages: msgs.len() as u64,
            recipients: rc,
            age_buckets: ages,
        })
        .collect();
    drows.sort_by(|a, b| {
        b.recipients
            .cmp(&a.recipients)
            .then(a.domain.cmp(&b.domain))
    });
    s.domains = drows;
    let mut srows: Vec<SenderRow> = senders
        .into_iter()
        .map(|(sender, (messages, bytes))| SenderRow {
            sender,
            messages,
            bytes,
        })
        .collect();
    srows.sort_by(|a, b| b.messages.cmp(&a.messages).then(a.sender.cmp(&b.sender)));
    srows.truncate(top);
    s.senders = srows;
    let mut rrows: Vec<ReasonRow> = reasons
        .into_iter()
        .map(|((class, signature), (recipients, doms))| ReasonRow {
            class,
            signature,
            recipients,
            domains: doms.into_iter().collect(),
        })
        .collect();
    rrows.sort_by(|a, b| {
        b.recipients
            .cmp(&a.recipients)
            .then(a.signature.cmp(&b.signature))
    });
    rrows.truncate(top);
    s.reasons = rrows;
    s
}

/// Change between consecutive snapshots.
#[derive(Clone, Debug, Serialize)]
pub struct Growth {
    pub from: Option<Stamp>,
    pub to: Option<Stamp>,
    pub messages_before: u64,
    pub messages_after: u64,
    /// Queue IDs that appeared / left between the two.
    pub arrived: u64,
    pub left: u64,
    pub net_per_minute: Option<f64>,
    /// Domains whose recipients grew the most.
    pub top_growing_domains: Vec<(String, i64)>,
}

/// Across snapshots: growth and what stayed stuck.
#[derive(Clone, Debug, Serialize)]
pub struct Trend {
    pub growth: Vec<Growth>,
    /// Queue IDs present in every snapshot (with at least two snapshots).
    pub stuck_in_all: Vec<String>,
    pub peak_messages: u64,
    pub peak_at: Option<Stamp>,
}

/// Snapshots in capture order (dumps without a time keep their input order at the end).
pub fn ordered(dumps: &[Dump]) -> Vec<&Dump> {
    let mut v: Vec<&Dump> = dumps.iter().collect();
    v.sort_by_key(|d| (d.taken_at.map_or(i64::MAX, |t| t.micros), d.path.clone()));
    v
}

pub fn trend(dumps: &[&Dump]) -> Trend {
    let mut growth = Vec::new();
    for w in dumps.windows(2) {
        let (a, b) = (w[0], w[1]);
        let ids = |d: &Dump| -> BTreeSet<String> {
            d.messages.iter().map(|m| m.queue_id_text.clone()).collect()
        };
        let (ia, ib) = (ids(a), ids(b));
        let minutes = match (a.taken_at, b.taken_at) {
            (Some(x), Some(y)) if y.micros > x.micros => Some((y.micros - x.micros) as f64 / 60e6),
            _ => None,
        };
        let per_domain = |d: &Dump| -> HashMap<String, i64> {
            let mut h = HashMap::default();
            for m in &d.messages {
                for r in &m.recipients {
                    *h.entry(domain_of(&r.address)).or_insert(0) += 1;
                }
            }
            h
        };
        let (da, db) = (per_domain(a), per_domain(b));
        let mut deltas: Vec<(String, i64)> = db
            .iter()
            .map(|(k, v)| (k.clone(), v - da.get(k).copied().unwrap_or(0)))
            .filter(|(_, d)| *d > 0)
            .collect();
        deltas.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        deltas.truncate(5);
        growth.push(Growth {
            from: a.taken_at,
            to: b.taken_at,
            messages_before: a.messages.len() as u64,
            messages_after: b.messages.len() as u64,
            arrived: ib.difference(&ia).count() as u64,
            left: ia.difference(&ib).count() as u64,
            net_per_minute: minutes
                .map(|m| (b.messages.len() as f64 - a.messages.len() as f64) / m),
            top_growing_domains: deltas,
        });
    }
    let stuck_in_all = if dumps.len() >= 2 {
        let mut it = dumps.iter().map(|d| {
            d.messages
                .iter()
                .map(|m| m.queue_id_text.clone())
                .collect::<BTreeSet<String>>()
        });
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let peak = dumps.iter().max_by_key(|d| d.messages.len());
    Trend {
        growth,
        stuck_in_all,
        peak_messages: peak.map_or(0, |d| d.messages.len() as u64),
        peak_at: peak.and_then(|d| d.taken_at),
    }
}

/// One `--select` criterion.
#[derive(Clone, Debug, PartialEq)]
pub enum Criterion {
    Domain(String),
    Sender(String),
    Class(Class),
    OlderThan(i64),
    Queue(String),
}

impl Criterion {
    /// `domain=gmial.test`, `sender=a@b`, `class=connection-refused`, `older-than=2h`,
    /// `queue=deferred`.
    pub fn parse(s: &str) -> Result<Criterion, String> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--select {s:?}: expected KEY=VALUE"))?;
        Ok(match k {
            "domain" => Criterion::Domain(v.to_ascii_lowercase()),
            "sender" => Criterion::Sender(v.to_ascii_lowercase()),
            "class" => Criterion::Class(
                Class::ALL
                    .into_iter()
                    .find(|c| c.name() == v)
                    .ok_or_else(|| format!("--select class={v}: unknown class"))?,
            ),
            "older-than" => Criterion::OlderThan(parse_duration(v)?),
            "queue" => Criterion::Queue(v.to_string()),
            _ => {
                return Err(format!(
                    "--select {k}=…: one of domain, sender, class, older-than, queue"
                ))
            }
        })
    }
}

/// `90s`, `15m`, `2h`, `3d` → seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    Ok(n * match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("bad duration unit in {s:?} (s, m, h, d, w)")),
    })
}

/// The selection for a cleanup plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub dump: String,
    pub taken_at: Option<Stamp>,
    pub criteria: Vec<String>,
    /// Every recipient matches: safe to delete (or requeue) whole.
    pub selected: Vec<PlanRow>,
    /// Some recipients match and some do not: never deleted, listed for review.
    pub mixed: Vec<PlanRow>,
    pub total_messages: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanRow {
    pub queue_id: String,
    pub queue_name: String,
    pub sender: String,
    pub size: u64,
    pub age_s: Option<i64>,
    pub recipients: Vec<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
}

fn recipient_matches(c: &Criterion, addr: &str, reason: Option<&str>) -> Option<bool> {
    match c {
        Criterion::Domain(d) => Some(domain_of(addr) == *d),
        Criterion::Class(cl) => {
            Some(reason.is_some_and(|r| classify::classify(None, r.as_bytes()) == *cl))
        }
        _ => None,
    }
}

/// Select messages from the newest snapshot. Message-level criteria (sender, age, queue)
/// must all hold; recipient-level ones (domain, class) must hold for every recipient, or the
/// message is "mixed" and kept out of the plan.
pub fn plan(d: &Dump, criteria: &[Criterion], zone: &Zone) -> Plan {
    let now = d.taken_at.map(|t| t.unix_secs());
    let mut selected = Vec::new();
    let mut mixed = Vec::new();
    for r in resolve_all(d, zone) {
        let m = r.message;
        let age = match (now, r.arrival) {
            (Some(n), Some(a)) => Some(n - a),
            _ => None,
        };
        let msg_ok = criteria.iter().all(|c| match c {
            Criterion::Sender(s) => m.sender.eq_ignore_ascii_case(s),
            Criterion::OlderThan(secs) => age.is_some_and(|a| a > *secs),
            Criterion::Queue(q) => m.queue_name == *q,
            _ => true,
        });
        if !msg_ok {
            continue;
        }
        let rc_criteria: Vec<&Criterion> = criteria
            .iter()
            .filter(|c| matches!(c, Criterion::Domain(_) | Criterion::Class(_)))
            .collect();
        let per_rcpt: Vec<bool> = m
            .recipients
            .iter()
            .map(|rc| {
                rc_criteria.iter().all(|c| {
                    recipient_matches(c, &rc.address, rc.reason.as_deref()).unwrap_or(true)
                })
            })
            .collect();
        let all = per_rcpt.iter().all(|&x| x);
        let any = per_rcpt.iter().any(|&x| x);
        let row = PlanRow {
            queue_id: m.queue_id_text.clone(),
            queue_name: m.queue_name.clone(),
            sender: m.sender.clone(),
            size: m.size,
            age_s: age,
            recipients: m.recipients.iter().map(|r| r.address.clone()).collect(),
            reason: m.recipients.iter().find_map(|r| r.reason.clone()),
            note: None,
        };
        if all && !m.recipients.is_empty() {
            selected.push(row);
        } else if any {
            let n_out = per_rcpt.iter().filter(|x| !**x).count();
            mixed.push(PlanRow {
                note: Some(format!(
                    "{n_out} of {} recipients are outside the selection: not deleted",
                    per_rcpt.len()
                )),
                ..row
            });
        }
    }
    Plan {
        dump: d.path.clone(),
        taken_at: d.taken_at,
        criteria: Vec::new(),
        selected,
        mixed,
        total_messages: d.messages.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_qshape() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(4 * 60), 1);
        assert_eq!(bucket(5 * 60), 1);
        assert_eq!(bucket(6 * 60), 2);
        assert_eq!(bucket(1280 * 60), 9);
        assert_eq!(bucket(1281 * 60), 10);
    }

    #[test]
    fn text_arrival_takes_the_capture_year() {
        let taken = Stamp::from_unix(1_796_003_545, 0); // 2026-11-30T01:52:25Z
        let utc = Zone::utc();
        let a = resolve_text_arrival("Mon Nov 30 01:52:25", taken, &utc).unwrap();
        assert_eq!(a, 1_796_003_545);
        // Dec 31 seen from a January capture is last year's.
        let jan = Stamp::from_unix(1_798_848_000, 0); // 2027-01-02
        let a = resolve_text_arrival("Thu Dec 31 23:00:00", jan, &utc).unwrap();
        assert_eq!(Stamp::from_unix(a, 0).year(), 2026);
    }

    #[test]
    fn durations_and_criteria() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert!(parse_duration("2y").is_err());
        assert_eq!(
            Criterion::parse("domain=GMIAL.test"),
            Ok(Criterion::Domain("gmial.test".into()))
        );
        assert!(Criterion::parse("color=red").is_err());
    }
}
