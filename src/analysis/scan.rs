//! What the events tell on their own, without the timelines: events per host, the gaps in the
//! log, and the admin's actions and restarts. (The failure reasons are classified as the
//! attempts are read: [`AttemptReader`](super::incidents::AttemptReader).)
//!
//! One sequential pass over the events. `report` runs it block by block ([`Scanner`]) on the
//! other core, on the blocks the timeline builder reads ahead, with the actions already worked
//! out for them, so its cost mostly disappears from the run time.

use std::collections::BTreeMap;

use super::incidents::{Marker, MarkerKind};
use super::stats::{self, Gap};
use crate::parse::{Daemon, Event};
use crate::timeline::action::{self, Action};

/// What [`scan`] found.
pub struct EventScan<'a> {
    /// Events per host name.
    pub hosts: BTreeMap<&'a [u8], u64>,
    /// The ten longest periods without a line (see [`stats::gaps`]).
    pub gaps: Vec<Gap>,
    /// Reloads, restarts and `postsuper` summaries, in event order.
    pub admin: Vec<Marker>,
    /// The UTC offset of the first event's stamp (0 without events).
    pub first_offset: i32,
}

/// Scan the events once (see the module documentation).
pub fn scan<'a>(events: &[Event<'a>]) -> EventScan<'a> {
    let mut s = Scanner::default();
    s.block(events, None);
    s.finish(events)
}

/// [`scan`] block by block, in event order: `report` feeds it the blocks the timeline
/// builder reads ahead, with their actions, so it runs beside the builder on the other core.
#[derive(Default)]
pub struct Scanner<'a> {
    // Few hosts, long runs of one: count runs, then sum them by name.
    hosts: BTreeMap<&'a [u8], u64>,
    run: Option<(&'a [u8], u64)>,
    admin: Vec<Marker>,
    first_offset: Option<i32>,
}

impl<'a> Scanner<'a> {
    /// Scan the next `events`; `actions`, when given, are theirs ([`action::action`] of
    /// each), so they are not worked out again.
    pub fn block(&mut self, events: &[Event<'a>], actions: Option<&[Action<'a>]>) {
        debug_assert!(actions.is_none_or(|a| a.len() == events.len()));
        let action_of = |k: usize, e: &Event<'a>| match actions {
            Some(a) => a[k],
            None => action::action(e),
        };
        if self.first_offset.is_none() {
            self.first_offset = events.first().map(|e| e.time().offset_secs);
        }
        for (k, e) in events.iter().enumerate() {
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
                        at: e.time(),
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
                            at: e.time(),
                            kind,
                            detail: format!("{} {count} messages", String::from_utf8_lossy(verb)),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    /// What the scan found; `events` are all the events scanned, in order.
    pub fn finish(self, events: &[Event<'_>]) -> EventScan<'a> {
        self.finish_with(stats::gaps(events, 10))
    }

    /// What the scan found, with the `gaps` found in the events before
    /// ([`stats::gaps`]`(events, 10)`), when the events are no longer at hand.
    pub fn finish_with(mut self, gaps: Vec<Gap>) -> EventScan<'a> {
        if let Some((h, n)) = self.run.take() {
            *self.hosts.entry(h).or_insert(0) += n;
        }
        EventScan {
            hosts: self.hosts,
            gaps,
            admin: self.admin,
            first_offset: self.first_offset.unwrap_or(0),
        }
    }
}
