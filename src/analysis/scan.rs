//! What the events tell on their own, without the timelines: events per host, the gaps in the
//! log, the admin's actions and restarts, and the class of every failure reason.
//!
//! One sequential pass over the events. `report` runs it on the other core while the
//! timelines are built on one (building them is sequential), so its cost mostly disappears
//! from the run time.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use super::classify::{self, Class};
use super::incidents::{Marker, MarkerKind};
use super::stats::{self, Gap};
use crate::parse::{find, Daemon, Event};
use crate::timeline::action::{self, Action, Status};

/// A delivery's (dsn, reason): the key reasons are classified by.
pub type ReasonKey<'a> = (&'a [u8], &'a [u8]);

/// Each distinct failure reason's class and signature.
pub type Reasons<'a> = HashMap<ReasonKey<'a>, (Class, String)>;

/// What [`scan`] found.
pub struct EventScan<'a> {
    /// Events per host name.
    pub hosts: BTreeMap<&'a [u8], u64>,
    /// The ten longest periods without a line (see [`stats::gaps`]).
    pub gaps: Vec<Gap>,
    /// Reloads, restarts and `postsuper` summaries, in event order.
    pub admin: Vec<Marker>,
    /// Every (dsn, reason) of a deferred or bounced delivery line, classified once.
    pub reasons: Reasons<'a>,
}

/// Whether a delivery status is a failure whose reason is classified.
pub fn failed(s: Status) -> bool {
    matches!(s, Status::Deferred | Status::Bounced | Status::SoftBounce)
}

/// Classify a (dsn, reason): its class and its signature.
pub fn classify_reason((dsn, reason): ReasonKey<'_>) -> (Class, String) {
    let dsn = (!dsn.is_empty()).then_some(dsn);
    (classify::classify(dsn, reason), classify::signature(reason))
}

/// Scan the events once (see the module documentation).
pub fn scan<'a>(events: &[Event<'a>]) -> EventScan<'a> {
    // Few hosts, long runs of one: count runs, then sum them by name.
    let mut hosts: BTreeMap<&'a [u8], u64> = BTreeMap::new();
    let mut run: Option<(&'a [u8], u64)> = None;
    let mut admin = Vec::new();
    let mut reasons: Reasons<'a> = HashMap::default();
    for e in events {
        match &mut run {
            Some((h, n)) if *h == e.host() => *n += 1,
            _ => {
                if let Some((h, n)) = run.take() {
                    *hosts.entry(h).or_insert(0) += n;
                }
                run = Some((e.host(), 1));
            }
        }
        let text = e.text();
        match e.daemon {
            Daemon::Master => {
                let kind = if text.starts_with(b"reload") {
                    MarkerKind::Reload
                } else if text.starts_with(b"daemon started") || text.starts_with(b"terminating") {
                    MarkerKind::Restart
                } else {
                    continue;
                };
                admin.push(Marker {
                    at: e.time,
                    kind,
                    detail: String::from_utf8_lossy(text).into_owned(),
                });
            }
            Daemon::Postsuper => {
                if let Action::AdminSummary { verb, count } = action::action(e) {
                    let kind = match verb {
                        b"Requeued" => MarkerKind::Requeue,
                        b"Deleted" => MarkerKind::Delete,
                        b"Placed on hold" => MarkerKind::Hold,
                        _ => continue,
                    };
                    admin.push(Marker {
                        at: e.time,
                        kind,
                        detail: format!("{} {count} messages", String::from_utf8_lossy(verb)),
                    });
                }
            }
            d if (d == Daemon::Qmgr || d.is_delivery_agent())
                && find::STATUS.find(text).is_some() =>
            {
                if let Action::Delivery(d) = action::action(e) {
                    if failed(d.status) {
                        let key = (d.dsn.unwrap_or_default(), d.reason);
                        reasons.entry(key).or_insert_with(|| classify_reason(key));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((h, n)) = run {
        *hosts.entry(h).or_insert(0) += n;
    }
    EventScan {
        hosts,
        gaps: stats::gaps(events, 10),
        admin,
        reasons,
    }
}
