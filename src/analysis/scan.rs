//! What the events tell on their own, without the timelines: events per host, the gaps in the
//! log, the admin's actions and restarts, and the class of every failure reason.
//!
//! One sequential pass over the events. `report` runs it block by block ([`Scanner`]) on the
//! other core, on the blocks the timeline builder reads ahead, with the actions already worked
//! out for them, so its cost mostly disappears from the run time.

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
    let mut s = Scanner::default();
    s.block(events, None);
    s.finish(events)
}

/// [`scan`] block by block, in event order: `report` feeds it the blocks the timeline
/// builder reads ahead, with their actions, so it runs beside the builder on the other core
/// and no delivery line is read twice.
#[derive(Default)]
pub struct Scanner<'a> {
    // Few hosts, long runs of one: count runs, then sum them by name.
    hosts: BTreeMap<&'a [u8], u64>,
    run: Option<(&'a [u8], u64)>,
    admin: Vec<Marker>,
    reasons: Reasons<'a>,
    /// The interval before each event but the first, for [`stats::gaps`].
    intervals: Vec<i64>,
    last: Option<i64>,
    /// Leave the failure reasons to someone else ([`Scanner::without_reasons`]).
    no_reasons: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner that leaves [`EventScan::reasons`] empty, for when the reasons are
    /// classified as the attempts are read ([`AttemptReader`](super::incidents::AttemptReader)).
    pub fn without_reasons() -> Scanner<'a> {
        Scanner {
            no_reasons: true,
            ..Scanner::default()
        }
    }

    /// Scan the next `events`; `actions`, when given, are theirs ([`action::action`] of
    /// each), so they are not worked out again.
    pub fn block(&mut self, events: &[Event<'a>], actions: Option<&[Action<'a>]>) {
        debug_assert!(actions.is_none_or(|a| a.len() == events.len()));
        let action_of = |k: usize, e: &Event<'a>| match actions {
            Some(a) => a[k],
            None => action::action(e),
        };
        self.intervals.reserve(events.len());
        for (k, e) in events.iter().enumerate() {
            let t = e.time.micros;
            if let Some(last) = self.last {
                self.intervals.push(t - last);
            }
            self.last = Some(t);
            match &mut self.run {
                Some((h, n)) if *h == e.host() => *n += 1,
                _ => {
                    if let Some((h, n)) = self.run.take() {
                        *self.hosts.entry(h).or_insert(0) += n;
                    }
                    self.run = Some((e.host(), 1));
                }
            }
            let text = e.text();
            match e.daemon {
                Daemon::Master => {
                    let kind = if text.starts_with(b"reload") {
                        MarkerKind::Reload
                    } else if text.starts_with(b"daemon started")
                        || text.starts_with(b"terminating")
                    {
                        MarkerKind::Restart
                    } else {
                        continue;
                    };
                    self.admin.push(Marker {
                        at: e.time,
                        kind,
                        detail: String::from_utf8_lossy(text).into_owned(),
                    });
                }
                Daemon::Postsuper => {
                    if let Action::AdminSummary { verb, count } = action_of(k, e) {
                        let kind = match verb {
                            b"Requeued" => MarkerKind::Requeue,
                            b"Deleted" => MarkerKind::Delete,
                            b"Placed on hold" => MarkerKind::Hold,
                            _ => continue,
                        };
                        self.admin.push(Marker {
                            at: e.time,
                            kind,
                            detail: format!("{} {count} messages", String::from_utf8_lossy(verb)),
                        });
                    }
                }
                // A delivery action has a `status=` field: without the actions, look for
                // one before working the action out.
                d if !self.no_reasons
                    && (d == Daemon::Qmgr || d.is_delivery_agent())
                    && (actions.is_some() || find::STATUS.find(text).is_some()) =>
                {
                    if let Action::Delivery(d) = action_of(k, e) {
                        if failed(d.status) {
                            let key = (d.dsn.unwrap_or_default(), d.reason);
                            self.reasons
                                .entry(key)
                                .or_insert_with(|| classify_reason(key));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// What the scan found; `events` are all the events scanned, in order.
    pub fn finish(mut self, events: &[Event<'_>]) -> EventScan<'a> {
        debug_assert_eq!(self.intervals.len(), events.len().saturating_sub(1));
        if let Some((h, n)) = self.run.take() {
            *self.hosts.entry(h).or_insert(0) += n;
        }
        EventScan {
            hosts: self.hosts,
            gaps: stats::gaps(events, &self.intervals, 10),
            admin: self.admin,
            reasons: self.reasons,
        }
    }
}
