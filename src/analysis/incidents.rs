//! Incidents: the windows in which mail to a destination broke, why, and whether and when it
//! recovered — with the evidence (counts, queue IDs, a real log line) and what to check next.
//!
//! The method, from the data only (no Postfix timer defaults are assumed):
//! 1. Every delivery attempt becomes an [`Attempt`] with its recipient domain, relay (from
//!    `relay=` or, for `relay=none`, from the reply text), status, class and signature.
//!    Hand-offs to a local content filter are not deliveries and are left out.
//! 2. The *quiet gap* Q is derived from the observed retry interval (3 × the median time
//!    between two attempts of one recipient, at least 30 s).
//! 3. Per (domain, class), failures closer than Q to each other form a run; a run with at
//!    least 3 failed attempts for at least 2 messages is an incident. Its end is the last
//!    failure; it recovered if mail to that domain was delivered afterwards, and it is
//!    ongoing if affected recipients are still pending at the end of the data.
//! 4. Runs of one class that overlap in time and share a relay or a signature are one
//!    incident (one resolver outage hitting 40 domains is one incident).
//! 5. Permanent per-recipient failures (unknown user, mailbox full) are recipient problems,
//!    unless they are massive for one domain.

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use super::classify::Class;
use super::scan::EventScan;
use crate::ingest::origins::EventSource;
use crate::names::NameIds;
use crate::parse::{Event, QueueId};
use crate::time::Stamp;
use crate::timeline::action::{self, Action, Status};
use crate::timeline::{DeliveryRef, Outcome, Timelines, FOLDED, HANDOFF};

/// A delivery's (dsn, reason): the key reasons are classified by.
pub type ReasonKey<'a> = (&'a [u8], &'a [u8]);

/// Whether a delivery status is a failure whose reason is classified.
pub fn failed(s: Status) -> bool {
    matches!(s, Status::Deferred | Status::Bounced | Status::SoftBounce)
}

/// One delivery attempt of one recipient.
///
/// A million and more are held at once, so the optional parts are kept without an `Option`
/// of their own (a number no table reaches, a NaN) and read through methods: 40 bytes.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// [`Attempt::at`], apart: a `Stamp` is padded to 16 bytes.
    micros: i64,
    offset_secs: i32,
    /// Recipient domain, lower case: its number in [`Attempts::domains`].
    pub domain: u32,
    /// The relay: its number in [`Attempts::relays`], or [`NONE`] (see [`Attempt::relay`]).
    relay: u32,
    /// The recipient's index in its message.
    pub rcpt: u32,
    pub status: Status,
    pub class: Option<Class>,
    /// A failure that only echoes an earlier one (`delivery temporarily suspended: …`).
    pub suspended: bool,
    /// A failure's signature: its index into the signature table (see
    /// [`Attempt::signature`]). A delivery's timings: its index into [`Attempts::timings`]
    /// (see [`Attempts::delay`]). [`NONE`] when it has neither.
    detail: u32,
    /// The life (index into the timelines' lives, or [`FOLDED`] / [`HANDOFF`]) and the
    /// event; 32 bits each, as the timelines number them.
    pub message: u32,
    pub event: u32,
}

/// No relay, no signature: a number no table reaches.
const NONE: u32 = u32::MAX;

impl Attempt {
    /// When it was logged.
    pub fn at(&self) -> Stamp {
        Stamp {
            micros: self.micros,
            offset_secs: self.offset_secs,
        }
    }

    /// The relay's number in [`Attempts::relays`], if it names one.
    pub fn relay(&self) -> Option<u32> {
        (self.relay != NONE).then_some(self.relay)
    }

    /// Its failure's number: in the reasons while reading, then in the signature table.
    pub fn signature(&self) -> Option<u32> {
        (failed(self.status) && self.detail != NONE).then_some(self.detail)
    }

    /// A delivery's (`status=sent`) number in [`Attempts::timings`].
    fn timings(&self) -> Option<usize> {
        (self.status == Status::Sent && self.detail != NONE).then_some(self.detail as usize)
    }
}

/// `delay=` and `delays=a/b/c/d` of a delivery; NaN for what was not logged (a parsed figure
/// never is NaN).
pub type Timings = (f64, [f64; 4]);

/// A destination's relay: `host[ip]:port` from `relay=`, or from the reply text when the
/// attempt made no connection of its own (`relay=none … connect to host[ip]:port: …`).
fn relay_of<'a>(relay: &'a [u8], reason: &'a [u8]) -> Option<&'a [u8]> {
    if !relay.is_empty() && relay != b"none" {
        return Some(relay);
    }
    use crate::parse::find;
    for pre in [
        &find::CONNECT_TO,
        &find::HOST,
        &find::CONVERSATION_WITH,
        &find::SERVER,
        &find::REFUSED_TO_TALK,
    ] {
        if let Some(p) = pre.find(reason) {
            let rest = &reason[p + pre.needle().len()..];
            let end = rest
                .iter()
                .position(|&c| c == b' ' || c == b',' || c == b';')
                .unwrap_or(rest.len());
            let mut r = &rest[..end];
            r = r.strip_suffix(b":").unwrap_or(r);
            if memchr::memchr(b'[', r).is_some() {
                return Some(r);
            }
        }
    }
    None
}

fn domain_bytes(addr: &[u8]) -> &[u8] {
    match memchr::memrchr(b'@', addr) {
        Some(p) => &addr[p + 1..],
        None => addr,
    }
}

/// The signature table: (class, signature) → counts and first/last time, with one real line.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureCount {
    pub class: Class,
    pub signature: String,
    pub count: u64,
    pub first_at: Stamp,
    pub last_at: Stamp,
    pub sample_line: String,
}

/// Every attempt, the signature table, and the local hand-offs left out.
pub struct Attempts {
    pub attempts: Vec<Attempt>,
    /// The timings of the deliveries (`status=sent`) among them, apart: the other attempts'
    /// are not used, and a million attempts would carry 40 bytes each for them.
    pub timings: Vec<Timings>,
    pub signatures: Vec<SignatureCount>,
    /// The recipient domains and relays the attempts name, by number.
    pub domains: Vec<String>,
    pub relays: Vec<String>,
}

impl Attempts {
    /// `delay=` of a delivery (`status=sent`), if logged.
    pub fn delay(&self, a: &Attempt) -> Option<f64> {
        let d = self.timings.get(a.timings()?)?.0;
        (!d.is_nan()).then_some(d)
    }

    /// `delays=a/b/c/d` of a delivery (`status=sent`), if logged.
    pub fn delays(&self, a: &Attempt) -> Option<[f64; 4]> {
        let d = self.timings.get(a.timings()?)?.1;
        (!d[0].is_nan()).then_some(d)
    }

    /// The recipient domain of `a`, lower case.
    pub fn domain(&self, a: &Attempt) -> &str {
        &self.domains[a.domain as usize]
    }

    /// The relay of `a`, if it has one.
    pub fn relay(&self, a: &Attempt) -> Option<&str> {
        a.relay().map(|r| self.relays[r as usize].as_str())
    }
}

/// Collect the delivery attempts (and expiries) from the events, in time order.
///
/// The delivery lines' actions are worked out on every core, a block at a time, and read in
/// order by an [`AttemptReader`].
pub fn attempts(events: &[Event<'_>], t: &Timelines) -> Attempts {
    attempts_in_blocks(events, t, 1 << 16)
}

/// [`attempts`] with the block size given (public so tests can show that the block size
/// and the thread count do not change the result).
pub fn attempts_in_blocks<'a>(events: &[Event<'a>], t: &Timelines, block: usize) -> Attempts {
    let mut reader = AttemptReader::new(t.deliveries.len());
    for refs in t.deliveries.chunks(block.max(1)) {
        let actions: Vec<Action<'a>> = refs
            .par_iter()
            .map(|d| action::action(&events[d.event as usize]))
            .collect();
        for (d, a) in refs.iter().zip(&actions) {
            reader.read(d.event, &events[d.event as usize], a);
        }
    }
    reader.finish(events, t)
}

/// Whether a delivery line booked at `dr` is an attempt: not a hand-off of a folded life,
/// not a probe, and not a hand-off to a local filter or instance (a delivery line whose
/// `queued as` names a child of its life).
fn booked_attempt(a: &Attempt, dr: &DeliveryRef, queued: &[(u32, QueueId)], t: &Timelines) -> bool {
    if dr.message == HANDOFF {
        return false;
    }
    let m = t.messages.get(dr.message as usize);
    if m.is_some_and(|m| m.probe) {
        return false;
    }
    if a.status == Status::Sent {
        if let Some(m) = m.filter(|m| !m.children.is_empty()) {
            let at = queued.partition_point(|(e, _)| *e < a.event);
            if let Some((_, q)) = queued.get(at).filter(|(e, _)| *e == a.event) {
                return !m.children.iter().any(|c| c.queue_id == *q);
            }
        }
    }
    true
}

/// The delivery lines read as the events go by: `report` hands it the blocks the timeline
/// builder reads ahead, with their actions ([`AttemptReader::block`]), so no delivery line
/// is read twice and the reading runs on the other core while the books are kept. What only
/// the finished timelines tell (the life and recipient of each line, which lines were
/// hand-offs or probes) and the signature table are filled in by [`AttemptReader::finish`].
pub struct AttemptReader<'a> {
    /// The index of the next event [`AttemptReader::block`] is handed.
    next: u32,
    /// The attempts read, in event order; until `finish`, `message` and `rcpt` are unset and
    /// a failure's signature is the number of its (dsn, reason) in `reasons`.
    read: Vec<Attempt>,
    /// The deliveries' timings, in the order read.
    timings: Vec<Timings>,
    /// The `queued as` of the deliveries that name one, by event: whether it names a child
    /// of its life is known once the timelines are.
    queued: Vec<(u32, QueueId)>,
    reason_ids: HashMap<ReasonKey<'a>, u32>,
    /// Each distinct (dsn, reason) of a failure, classified as it is first read: its class
    /// and its signature's number in `signatures` (most reasons differ only in an address or
    /// a number, and share a signature with many others).
    reasons: Vec<(Class, u32)>,
    /// The class of each (dsn, signature) met.
    classes: HashMap<(&'a [u8], u32), Class>,
    signatures: NameIds,
    domains: NameIds,
    relays: NameIds,
}

impl<'a> AttemptReader<'a> {
    /// A reader for about `lines` delivery lines (room is reserved, not touched).
    pub fn new(lines: usize) -> AttemptReader<'a> {
        AttemptReader {
            next: 0,
            read: Vec::with_capacity(lines),
            timings: Vec::new(),
            queued: Vec::new(),
            reason_ids: HashMap::default(),
            reasons: Vec::new(),
            classes: HashMap::default(),
            signatures: NameIds::default(),
            domains: NameIds::default(),
            relays: NameIds::default(),
        }
    }

    /// Read the next `events` (in order, from the first event on) and their actions.
    pub fn block(&mut self, events: &[Event<'a>], actions: &[Action<'a>]) {
        debug_assert_eq!(events.len(), actions.len());
        for (k, (e, a)) in events.iter().zip(actions).enumerate() {
            self.read(self.next + k as u32, e, a);
        }
        self.next += events.len() as u32;
    }

    /// Read event number `ei`, whose action is `act`: an attempt if it is a delivery line.
    fn read(&mut self, ei: u32, e: &Event<'a>, act: &Action<'a>) {
        let Action::Delivery(d) = act else {
            return;
        };
        if d.status.is_probe() || d.status == Status::Other {
            return;
        }
        let signature = failed(d.status).then(|| {
            let key = (d.dsn.unwrap_or_default(), d.reason);
            let n = self.reasons.len() as u32;
            *self.reason_ids.entry(key).or_insert_with(|| {
                // Reasons that differ only in what the signature masks (an address, a host)
                // share their class: the signature keeps every cue (a property test checks
                // it), so it is classified once.
                let (dsn, reason) = key;
                let signature = super::classify::signature(reason);
                let id = self.signatures.id(signature.as_bytes(), false);
                let class = *self.classes.entry((dsn, id)).or_insert_with(|| {
                    super::classify::classify(
                        (!dsn.is_empty()).then_some(dsn),
                        signature.as_bytes(),
                    )
                });
                self.reasons.push((class, id));
                n
            })
        });
        // Parsed figures are never NaN: NaN can stand for "not logged".
        let detail = match signature {
            Some(s) => s,
            None if d.status == Status::Sent && (d.delay.is_some() || d.delays.is_some()) => {
                self.timings.push((
                    d.delay.filter(|x| !x.is_nan()).unwrap_or(f64::NAN),
                    d.delays.filter(|x| !x[0].is_nan()).unwrap_or([f64::NAN; 4]),
                ));
                self.timings.len() as u32 - 1
            }
            None => NONE,
        };
        if d.status == Status::Sent {
            if let Some(q) = d.queued_as() {
                self.queued.push((ei, q));
            }
        }
        let suspended =
            signature.is_some() && crate::parse::find::SUSPENDED.find(e.text()).is_some();
        self.read.push(Attempt {
            micros: e.time().micros,
            offset_secs: e.time().offset_secs,
            domain: self.domains.id(domain_bytes(d.to), true),
            relay: relay_of(d.relay, d.reason).map_or(NONE, |x| self.relays.id(x, false)),
            rcpt: 0,
            status: d.status,
            class: None,
            suspended,
            detail,
            message: FOLDED,
            event: ei,
        });
    }

    /// The attempts of the lines the timelines booked, with their lives and recipients, and
    /// the signature table, filled in time order. `events` are those read (the signatures'
    /// sample lines are taken from them).
    pub fn finish<'s>(self, events: impl Into<EventSource<'s, 'a>>, t: &Timelines) -> Attempts
    where
        'a: 's,
    {
        let AttemptReader {
            mut read,
            timings,
            queued,
            reasons,
            signatures,
            domains,
            relays,
            ..
        } = self;
        let signatures = signatures.into_names();
        // Join each line with where the builder booked it; both are in event order, so each
        // run of lines finds its first booking and walks on, a run per core at a time. A
        // line that is no attempt is marked as a hand-off and dropped below. A folded life
        // is no probe; its hand-offs to another life are marked.
        read.par_chunks_mut(1 << 14).for_each(|run| {
            let first = run.first().map_or(0, |a| a.event);
            let mut refs = t.deliveries[t.deliveries.partition_point(|d| d.event < first)..]
                .iter()
                .peekable();
            for a in run {
                while refs.next_if(|d| d.event < a.event).is_some() {}
                let (message, rcpt) = match refs.next_if(|d| d.event == a.event) {
                    Some(dr) if booked_attempt(a, dr, &queued, t) => (dr.message, dr.recipient),
                    _ => (HANDOFF, 0),
                };
                a.message = message;
                a.rcpt = rcpt;
            }
        });
        read.retain(|a| a.message != HANDOFF);
        // Signatures are numbered in time order, from the attempts kept.
        let mut seen: Vec<Option<(Class, u32)>> = vec![None; reasons.len()];
        let mut sig_index: HashMap<(Class, &str), u32> = HashMap::default();
        let mut sigs: Vec<SignatureCount> = Vec::new();
        // The event of each signature's first attempt, for its sample line.
        let mut samples: Vec<u32> = Vec::new();
        for a in &mut read {
            let Some(id) = a.signature() else {
                continue;
            };
            let (class, idx) = match seen[id as usize] {
                Some(v) => v,
                None => {
                    let (class, sig) = &reasons[id as usize];
                    let sig = &signatures[*sig as usize];
                    let n = sigs.len() as u32;
                    let idx = *sig_index.entry((*class, sig.as_str())).or_insert(n);
                    if idx == n {
                        sigs.push(SignatureCount {
                            class: *class,
                            signature: sig.clone(),
                            count: 0,
                            first_at: a.at(),
                            last_at: a.at(),
                            sample_line: String::new(),
                        });
                        samples.push(a.event);
                    }
                    seen[id as usize] = Some((*class, idx));
                    (*class, idx)
                }
            };
            let s = &mut sigs[idx as usize];
            s.count += 1;
            s.last_at = a.at();
            a.class = Some(class);
            a.detail = idx;
        }
        for (s, line) in sigs.iter_mut().zip(events.into().lines(&samples)) {
            s.sample_line = line;
        }
        Attempts {
            attempts: read,
            timings,
            signatures: sigs,
            domains: domains.into_names(),
            relays: relays.into_names(),
        }
    }
}

/// The quiet gap: 3 × the median interval between two attempts of one recipient, at least
/// 30 s; 10 minutes when no recipient was retried.
pub fn quiet_gap_micros(a: &[Attempt]) -> i64 {
    let mut last: HashMap<(usize, u32), i64> = HashMap::default();
    let mut gaps = Vec::new();
    // A folded life's recipients were attempted once each.
    for at in a.iter().filter(|at| at.message != FOLDED) {
        if let Some(prev) = last.insert((at.message as usize, at.rcpt), at.at().micros) {
            gaps.push(at.at().micros - prev);
        }
    }
    if gaps.is_empty() {
        return 600 * 1_000_000;
    }
    gaps.sort_unstable();
    (gaps[gaps.len() / 2] * 3).max(30 * 1_000_000)
}

/// How an incident ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Deliveries to the destination succeeded again.
    Recovered,
    /// No delivery since, and affected recipients are still pending.
    Ongoing,
    /// No delivery since; the affected mail expired, bounced or was deleted.
    Closed,
}

#[derive(Clone, Debug, Serialize)]
pub struct Incident {
    pub id: String,
    pub class: Class,
    pub start: Stamp,
    /// The last failure; null while ongoing.
    pub end: Option<Stamp>,
    pub last_failure_at: Stamp,
    pub resolution: Resolution,
    pub domains: Vec<String>,
    pub relays: Vec<String>,
    pub failed_attempts: u64,
    pub messages_affected: u64,
    pub recipients_affected: u64,
    /// Most messages in the queue during the window (log: arrived minus removed).
    pub peak_queue: u64,
    /// Most messages in a queue dump taken during the window, when dumps were given.
    pub peak_queue_dump: Option<u64>,
    pub recovered: bool,
    pub recovered_at: Option<Stamp>,
    /// Seconds from the first failure to the first delivery after the last failure.
    pub time_to_recover_s: Option<f64>,
    pub delivered_after_retry: u64,
    /// Mean extra delay of those, in seconds (from their first failure to their delivery).
    pub mean_retry_delay_s: Option<f64>,
    pub bounced: u64,
    pub expired: u64,
    pub deleted: u64,
    pub still_pending: u64,
    pub sample_queue_ids: Vec<QueueId>,
    /// The lives (indices into the timelines) the sample queue IDs were taken from.
    #[serde(skip)]
    pub sample_messages: Vec<usize>,
    pub signature: String,
    pub signatures: Vec<String>,
    pub sample_line: String,
    /// Admin actions and retry bursts in or right after the window.
    pub fixes: Vec<Marker>,
    pub next_checks: Vec<Check>,
}

/// A command to run next, with why.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub why: String,
    pub command: String,
}

/// Something the admin did, or a burst of retries, seen in the logs.
#[derive(Clone, Debug, Serialize)]
pub struct Marker {
    pub at: Stamp,
    pub kind: MarkerKind,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkerKind {
    /// `postfix reload` (master `reload -- version …`).
    Reload,
    /// `postsuper -r` (requeue).
    Requeue,
    /// `postsuper -d` (delete).
    Delete,
    /// `postsuper -h` (hold).
    Hold,
    /// Many deferred messages re-entering the active queue at once (`postqueue -f`).
    Flush,
    /// Postfix started or stopped.
    Restart,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecipientProblem {
    pub class: Class,
    pub domain: String,
    pub signature: String,
    pub count: u64,
    pub sample_line: String,
}

/// Flagged when arrivals outpace removals.
#[derive(Clone, Debug, Serialize)]
pub struct QueueGrowth {
    pub start: Stamp,
    pub end: Stamp,
    pub arrived: u64,
    pub removed: u64,
    pub peak: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub quiet_gap_s: f64,
    pub incidents: Vec<Incident>,
    pub recipient_problems: Vec<RecipientProblem>,
    pub signatures: Vec<SignatureCount>,
    pub markers: Vec<Marker>,
    pub queue_growth: Vec<QueueGrowth>,
    /// Queue size over time from the log: (time, messages in queue) at each change.
    #[serde(skip)]
    pub queue_series: Vec<(i64, i64)>,
}

/// Admin actions and restarts (found by [`scan`](super::scan::scan)); retry bursts from the
/// timelines.
pub fn markers(first_offset: i32, t: &Timelines, quiet_gap: i64, admin: &[Marker]) -> Vec<Marker> {
    let mut out = admin.to_vec();
    // Retry bursts: re-entries into the active queue (a `queue active` line for a message
    // that had one before, noted by the timelines as they were built), bucketed by a quarter
    // of the quiet gap.
    let bucket = (quiet_gap / 4).max(1_000_000);
    let mut retries: BTreeMap<i64, u64> = BTreeMap::new();
    for &at in &t.retries {
        *retries.entry(at.div_euclid(bucket)).or_insert(0) += 1;
    }
    if !retries.is_empty() {
        let mut counts: Vec<u64> = retries.values().copied().collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2].max(1);
        for (b, n) in &retries {
            if *n >= 10 && *n >= median * 5 {
                out.push(Marker {
                    at: Stamp {
                        micros: (b * bucket).div_euclid(1_000_000) * 1_000_000,
                        offset_secs: first_offset,
                    },
                    kind: MarkerKind::Flush,
                    detail: format!(
                        "{n} deferred messages retried at once (postqueue -f or a requeue)"
                    ),
                });
            }
        }
    }
    out.sort_by_key(|m| m.at.micros);
    out
}

/// Messages in the queue over time, from the log: +1 at arrival, −1 at removal; messages
/// whose arrival is not in the log count from the start.
pub fn queue_series(t: &Timelines) -> Vec<(i64, i64)> {
    let mut deltas: Vec<(i64, i64)> = t.folded.queue_deltas.clone();
    deltas.reserve(t.messages.len() * 2);
    let mut initial = t.folded.queue_initial;
    for m in &t.messages {
        if m.probe {
            continue;
        }
        match m.received_at {
            Some(r) => deltas.push((r.micros, 1)),
            None => initial += 1,
        }
        if let Some(r) = m.removed_at {
            deltas.push((r.micros, -1));
        }
    }
    deltas.sort_unstable();
    let mut out = Vec::with_capacity(deltas.len());
    let mut cur = initial;
    for (at, d) in deltas {
        cur += d;
        match out.last_mut() {
            Some((t, v)) if *t == at => *v = cur,
            _ => out.push((at, cur)),
        }
    }
    out
}

fn peak_between(series: &[(i64, i64)], from: i64, to: i64) -> u64 {
    let start = series.partition_point(|(t, _)| *t < from);
    let before = if start > 0 { series[start - 1].1 } else { 0 };
    series[start..]
        .iter()
        .take_while(|(t, _)| *t <= to)
        .map(|(_, v)| *v)
        .chain(std::iter::once(before))
        .max()
        .unwrap_or(0)
        .max(0) as u64
}

/// A run of failures for one (domain, class).
struct Run {
    class: Class,
    /// Its number in [`Attempts::domains`].
    domain: u32,
    attempts: Vec<usize>,
}

/// Find the incidents. `events` give the incidents' and the recipient problems' sample
/// lines.
pub fn analyse<'s, 'e: 's>(
    events: impl Into<EventSource<'s, 'e>>,
    scan: &EventScan<'_>,
    t: &Timelines,
    att: &Attempts,
    dumps: &[crate::qdump::Dump],
    dump_times: &[Option<Stamp>],
    postconf: &BTreeMap<String, String>,
) -> Analysis {
    let a = &att.attempts;
    let signatures = &att.signatures;
    // The markers, the queue series and the successes are independent: all on both cores.
    let ((q, markers), (series, successes)) = rayon::join(
        || {
            let q = quiet_gap_micros(a);
            (q, markers(scan.first_offset, t, q, &scan.admin))
        },
        || {
            rayon::join(
                || queue_series(t),
                || {
                    // Successes per domain, in time order, for recovery.
                    let mut successes: HashMap<u32, Vec<i64>> = HashMap::default();
                    for at in a {
                        if at.status == Status::Sent {
                            successes.entry(at.domain).or_default().push(at.at().micros);
                        }
                    }
                    successes
                },
            )
        },
    );
    crate::timing::stage("incidents: successes");
    // 3. Runs per (domain, class).
    let mut open_runs: HashMap<(u32, Class), Run> = HashMap::default();
    let mut runs: Vec<Run> = Vec::new();
    for (i, at) in a.iter().enumerate() {
        let Some(class) = at.class else { continue };
        if class.is_permanent_recipient_problem() && at.status == Status::Bounced {
            continue;
        }
        let key = (at.domain, class);
        let close = match open_runs.get(&key) {
            Some(r) => at.at().micros - a[*r.attempts.last().unwrap_or(&i)].at().micros > q,
            None => false,
        };
        if close {
            if let Some(r) = open_runs.remove(&key) {
                runs.push(r);
            }
        }
        open_runs
            .entry(key)
            .or_insert_with(|| Run {
                class,
                domain: at.domain,
                attempts: Vec::new(),
            })
            .attempts
            .push(i);
    }
    runs.extend(open_runs.into_values());
    // At least 3 attempts, of at least 2 messages (one that differs from the first).
    runs.retain(|r| {
        let first = r.attempts.first().map(|&i| a[i].message);
        r.attempts.len() >= 3 && r.attempts.iter().any(|&i| Some(a[i].message) != first)
    });
    runs.sort_by_key(|r| {
        (
            a[r.attempts[0]].at().micros,
            att.domains[r.domain as usize].as_str(),
        )
    });

    crate::timing::stage("incidents: runs");
    // 4. Merge runs of one class that overlap and share a relay or a signature.
    let mut groups: Vec<Vec<Run>> = Vec::new();
    for r in runs {
        let (rs, re) = (
            a[r.attempts[0]].at().micros,
            a[*r.attempts.last().unwrap_or(&0)].at().micros,
        );
        let relays: BTreeSet<u32> = r.attempts.iter().filter_map(|&i| a[i].relay()).collect();
        let sigs: BTreeSet<u32> = r
            .attempts
            .iter()
            .filter_map(|&i| a[i].signature())
            .collect();
        let target = groups.iter().position(|g| {
            g[0].class == r.class
                && g.iter().any(|o| {
                    let (os, oe) = (
                        a[o.attempts[0]].at().micros,
                        a[*o.attempts.last().unwrap_or(&0)].at().micros,
                    );
                    let overlap = rs <= oe + q && os <= re + q;
                    overlap
                        && o.attempts.iter().any(|&i| {
                            a[i].relay().is_some_and(|x| relays.contains(&x))
                                || a[i].signature().is_some_and(|s| sigs.contains(&s))
                        })
                })
        });
        match target {
            Some(g) => groups[g].push(r),
            None => groups.push(vec![r]),
        }
    }

    crate::timing::stage("incidents: grouped");
    // Each group's incident is read on its own; in parallel, kept in order.
    let mut incidents: Vec<(Incident, Option<u32>)> = groups
        .into_par_iter()
        .enumerate()
        .map(|(n, g)| {
            let idx: Vec<usize> = {
                let mut v: Vec<usize> = g.iter().flat_map(|r| r.attempts.iter().copied()).collect();
                v.sort_unstable();
                v
            };
            let class = g[0].class;
            let domain_ids: BTreeSet<u32> = g.iter().map(|r| r.domain).collect();
            let domains: Vec<String> = domain_ids
                .iter()
                .map(|&d| att.domains[d as usize].clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let relays: BTreeSet<&str> = idx.iter().filter_map(|&i| att.relay(&a[i])).collect();
            // `host[ip]` read from a reply text names the same relay as `host[ip]:port`.
            let relays: Vec<String> = relays
                .iter()
                .filter(|r| {
                    r.contains("]:") || !relays.iter().any(|o| o.starts_with(&format!("{r}:")))
                })
                .map(|r| r.to_string())
                .collect();
            let start = a[idx[0]].at();
            let last = a[*idx.last().unwrap_or(&0)].at();
            // The lives and the recipients (life, recipient) affected, each once, in order
            // (sorted lists: the largest incidents have a hundred thousand attempts).
            let mut messages: Vec<usize> = idx.iter().map(|&i| a[i].message as usize).collect();
            messages.sort_unstable();
            messages.dedup();
            let mut rcpts: Vec<(usize, u32)> = idx
                .iter()
                .map(|&i| (a[i].message as usize, a[i].rcpt))
                .collect();
            rcpts.sort_unstable();
            rcpts.dedup();
            // Recovery: the first delivery to one of the domains after the last failure.
            let recovered_at = domain_ids
                .iter()
                .filter_map(|d| {
                    let s = successes.get(d)?;
                    let p = s.partition_point(|&x| x <= last.micros);
                    s.get(p).copied()
                })
                .min();
            // What became of the affected recipients.
            let (mut delivered, mut bounced, mut expired, mut deleted, mut pending) =
                (0, 0, 0, 0, 0);
            // Summed in whole microseconds, so the mean does not depend on the order the
            // recipients are visited in.
            let mut retry_delay: i64 = 0;
            for (mi, ri) in &rcpts {
                let Some((outcome, first, last)) = t.recipient_end(*mi, *ri as usize) else {
                    continue;
                };
                match outcome {
                    Outcome::Delivered => {
                        delivered += 1;
                        if let (Some(f), Some(l)) = (first, last) {
                            retry_delay += l.micros - f.micros;
                        }
                    }
                    Outcome::Bounced => bounced += 1,
                    Outcome::Expired => expired += 1,
                    Outcome::Deleted => deleted += 1,
                    _ => pending += 1,
                }
            }
            let resolution = if recovered_at.is_some() {
                Resolution::Recovered
            } else if pending > 0 {
                Resolution::Ongoing
            } else {
                Resolution::Closed
            };
            // The most common signature, with one real line.
            let mut sig_counts: BTreeMap<u32, u64> = BTreeMap::new();
            for &i in &idx {
                if let Some(s) = a[i].signature() {
                    *sig_counts.entry(s).or_insert(0) += 1;
                }
            }
            let mut by_count: Vec<(u32, u64)> = sig_counts.into_iter().collect();
            by_count.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
            let top = by_count.first().map(|x| x.0);
            // Prefer a sample line that is the failure itself, not a "suspended" echo.
            let sample_event = idx
                .iter()
                .find(|&&i| a[i].signature() == top && !a[i].suspended)
                .or_else(|| idx.iter().find(|&&i| a[i].signature() == top))
                .map(|&i| a[i].event);
            let window_end = recovered_at.unwrap_or(last.micros);
            let fixes: Vec<Marker> = markers
                .iter()
                .filter(|m| m.at.micros >= start.micros && m.at.micros <= window_end + q)
                .cloned()
                .collect();
            let peak_queue_dump = dumps
                .iter()
                .zip(dump_times)
                .filter(|(_, t)| {
                    t.is_some_and(|t| t.micros >= start.micros && t.micros <= window_end)
                })
                .map(|(d, _)| d.messages.len() as u64)
                .max();
            let mut sample_queue_ids: Vec<QueueId> = Vec::new();
            let mut sample_messages = Vec::new();
            for &mi in &messages {
                let q = t.queue_id_of(mi);
                if !sample_queue_ids.contains(&q) {
                    sample_queue_ids.push(q);
                    sample_messages.push(mi);
                }
                if sample_queue_ids.len() == 5 {
                    break;
                }
            }
            let incident = Incident {
                id: format!("incident-{}", n + 1),
                class,
                start,
                end: (resolution != Resolution::Ongoing).then_some(last),
                last_failure_at: last,
                resolution,
                next_checks: next_checks(class, &domains, &relays, resolution, postconf),
                domains,
                relays,
                failed_attempts: idx.len() as u64,
                messages_affected: messages.len() as u64,
                recipients_affected: rcpts.len() as u64,
                peak_queue: peak_between(&series, start.micros, window_end),
                peak_queue_dump,
                recovered: recovered_at.is_some(),
                recovered_at: recovered_at.map(|m| Stamp {
                    micros: m,
                    offset_secs: start.offset_secs,
                }),
                time_to_recover_s: recovered_at.map(|r| (r - start.micros) as f64 / 1e6),
                delivered_after_retry: delivered,
                mean_retry_delay_s: (delivered > 0)
                    .then(|| retry_delay as f64 / 1e6 / delivered as f64),
                bounced,
                expired,
                deleted,
                still_pending: pending,
                sample_queue_ids,
                sample_messages,
                signature: top
                    .map(|s| signatures[s as usize].signature.clone())
                    .unwrap_or_default(),
                signatures: by_count
                    .iter()
                    .map(|(s, _)| signatures[*s as usize].signature.clone())
                    .collect(),
                sample_line: String::new(),
                fixes,
            };
            (incident, sample_event)
        })
        .collect();

    crate::timing::stage("incidents: merged");
    // 5. Recipient problems: permanent per-recipient failures.
    let mut problems: BTreeMap<(Class, &str, usize), (u64, u32)> = BTreeMap::new();
    for at in a {
        if let (Some(class), Some(sig)) = (at.class, at.signature()) {
            if class.is_permanent_recipient_problem() && at.status == Status::Bounced {
                let e = problems
                    .entry((class, att.domain(at), sig as usize))
                    .or_insert((0, at.event));
                e.0 += 1;
            }
        }
    }
    // The sample lines, found at once.
    let wanted: Vec<u32> = incidents
        .iter()
        .filter_map(|(_, e)| *e)
        .chain(problems.values().map(|(_, e)| *e))
        .collect();
    let found = events.into().events(&wanted);
    let line = |e: u32| {
        found
            .get(&e)
            .map(|e| String::from_utf8_lossy(e.line()).into_owned())
            .unwrap_or_default()
    };
    for (i, e) in &mut incidents {
        if let Some(e) = *e {
            i.sample_line = line(e);
        }
    }
    let incidents: Vec<Incident> = incidents.into_iter().map(|(i, _)| i).collect();
    let recipient_problems = problems
        .into_iter()
        .map(|((class, domain, sig), (count, ev))| RecipientProblem {
            class,
            domain: domain.to_string(),
            signature: signatures[sig].signature.clone(),
            count,
            sample_line: line(ev),
        })
        .collect();

    let queue_growth = growth(&series, (q / 3).max(1_000_000));
    let mut signatures = signatures.clone();
    signatures.sort_by(|x, y| {
        y.count
            .cmp(&x.count)
            .then_with(|| x.signature.cmp(&y.signature))
    });
    Analysis {
        quiet_gap_s: q as f64 / 1e6,
        incidents,
        recipient_problems,
        signatures,
        markers,
        queue_growth,
        queue_series: series,
    }
}

/// Windows in which the queue kept growing: over spans of Q, arrivals above removals for at
/// least three spans in a row, with the queue at least doubling.
fn growth(series: &[(i64, i64)], q: i64) -> Vec<QueueGrowth> {
    let Some(&(t0, _)) = series.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut spans: Vec<(i64, u64, u64, i64)> = Vec::new(); // (start, in, out, level at end)
    let mut prev = 0i64;
    let mut cur_start = t0;
    let (mut arrived, mut removed) = (0u64, 0u64);
    for &(t, v) in series {
        while t >= cur_start + q {
            spans.push((cur_start, arrived, removed, prev));
            cur_start += q;
            arrived = 0;
            removed = 0;
        }
        if v > prev {
            arrived += (v - prev) as u64;
        } else {
            removed += (prev - v) as u64;
        }
        prev = v;
    }
    spans.push((cur_start, arrived, removed, prev));
    let mut i = 0;
    while i < spans.len() {
        if spans[i].1 > spans[i].2 {
            let mut j = i;
            while j + 1 < spans.len() && spans[j + 1].1 > spans[j + 1].2 {
                j += 1;
            }
            let level_before = if i > 0 { spans[i - 1].3 } else { 0 };
            let peak = spans[i..=j].iter().map(|s| s.3).max().unwrap_or(0);
            if j - i >= 2 && peak >= (2 * level_before).max(10) {
                out.push(QueueGrowth {
                    start: Stamp {
                        micros: spans[i].0,
                        offset_secs: 0,
                    },
                    end: Stamp {
                        micros: spans[j].0 + q,
                        offset_secs: 0,
                    },
                    arrived: spans[i..=j].iter().map(|s| s.1).sum(),
                    removed: spans[i..=j].iter().map(|s| s.2).sum(),
                    peak: peak.max(0) as u64,
                });
            }
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn relay_host(relay: &str) -> (String, String) {
    // `mx.example.com[1.2.3.4]:25` → ("mx.example.com", "25")
    let host = relay.split('[').next().unwrap_or(relay).to_string();
    let port = relay
        .rsplit_once("]:")
        .map(|(_, p)| p.to_string())
        .unwrap_or_else(|| "25".into());
    (host, port)
}

fn setting(postconf: &BTreeMap<String, String>, key: &str) -> Option<String> {
    postconf.get(key).map(|v| format!("{key} = {v}"))
}

/// What to check next, as commands with the domain, MX or relay filled in.
pub fn next_checks(
    class: Class,
    domains: &[String],
    relays: &[String],
    resolution: Resolution,
    postconf: &BTreeMap<String, String>,
) -> Vec<Check> {
    let d = domains.first().map(String::as_str).unwrap_or("DOMAIN");
    let (host, port) = relays.first().map(|r| relay_host(r)).unwrap_or_else(|| {
        (
            format!("$(dig +short mx {d} | sort -n | head -1 | cut -d' ' -f2)"),
            "25".into(),
        )
    });
    let mut v = Vec::new();
    let mut c = |why: &str, cmd: String| {
        v.push(Check {
            why: why.into(),
            command: cmd,
        })
    };
    match class {
        Class::Dns => {
            c(
                "Does the domain resolve from this host?",
                format!("dig +short mx {d}; dig +short a {d}"),
            );
            c(
                "Which resolver does Postfix use (chroot copies resolv.conf)?",
                "cat /etc/resolv.conf /var/spool/postfix/etc/resolv.conf".into(),
            );
            c("Is a transport or relayhost overriding DNS?", "postconf -n | egrep '^(relayhost|transport_maps|smtp_host_lookup|disable_dns_lookups)'; postmap -q ".to_string() + d + " $(postconf -h transport_maps)");
        }
        Class::ConnectionRefused | Class::ConnectionTimeout => {
            c(
                "Can this host reach the destination's SMTP port?",
                format!("nc -vz -w 10 {host} {port}"),
            );
            c("Does the server greet (a timeout here is a greeting timeout)?", format!("timeout 30 openssl s_client -starttls smtp -crlf -connect {host}:{port} </dev/null | head -5"));
            c(
                "Which MX hosts should be used?",
                format!("dig +short mx {d}"),
            );
            if class == Class::ConnectionTimeout {
                c(
                    "Timeouts configured",
                    "postconf smtp_connect_timeout smtp_helo_timeout".into(),
                );
            }
        }
        Class::Tls => {
            c("Does the server offer STARTTLS, and is its certificate trusted?", format!("openssl s_client -starttls smtp -crlf -connect {host}:{port} -servername {d} </dev/null 2>&1 | egrep 'Verify return|subject=|issuer='"));
            c("Which TLS policy applies to the destination?", format!("postconf -n | egrep '^smtp_tls'; postmap -q {d} $(postconf -h smtp_tls_policy_maps)"));
        }
        Class::RelayAuth => {
            c(
                "Relay and SASL settings",
                "postconf | egrep '^(smtp_tls|smtp_sasl|relayhost)'".into(),
            );
            c("Is the password map readable and rebuilt after the change?", "stat -c '%a %U:%G %n' /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db; postmap /etc/postfix/sasl_passwd && postfix reload".into());
            c("Do the credentials work against the relay?", format!("openssl s_client -starttls smtp -crlf -connect {host}:{port} (then EHLO and AUTH PLAIN)"));
        }
        Class::Throttling => {
            c("Concurrency and rate towards the destination", format!("postconf smtp_destination_concurrency_limit smtp_destination_rate_delay default_destination_concurrency_limit; postqueue -j | grep -c '{d}'"));
            c("Slow down only this destination (transport with its own limits)", format!("echo '{d} slow:' >> /etc/postfix/transport; postconf -e 'slow_destination_concurrency_limit = 2' 'slow_destination_rate_delay = 1s'"));
        }
        Class::MailboxFull | Class::UnknownUser => {
            c(
                "Which recipients keep failing?",
                format!("mailsleuth trace LOGS --to USER@{d}"),
            );
        }
        Class::Policy => {
            c("Is this server's IP listed?", "for z in zen.spamhaus.org b.barracudacentral.org; do dig +short $(hostname -I | awk '{print $1}' | awk -F. '{print $4\".\"$3\".\"$2\".\"$1}').$z; done".into());
            c(
                "SPF/DKIM/DMARC of the sending domain",
                "dig +short txt SENDER_DOMAIN; dig +short txt _dmarc.SENDER_DOMAIN".into(),
            );
        }
        Class::Resource => {
            c(
                "Disk and queue space",
                "df -h /var/spool/postfix; postqueue -p | tail -1".into(),
            );
            c(
                "Fatal and panic lines around the window",
                "grep -E 'fatal|panic|warning: process' /var/log/mail.log".into(),
            );
        }
        Class::Other => {
            c(
                "Read the real error for one queue ID",
                "mailsleuth trace LOGS QUEUE_ID".into(),
            );
        }
    }
    for key in match class {
        Class::RelayAuth => &[
            "relayhost",
            "smtp_sasl_auth_enable",
            "smtp_sasl_password_maps",
            "smtp_tls_security_level",
        ][..],
        Class::Tls => &[
            "smtp_tls_security_level",
            "smtp_tls_policy_maps",
            "smtp_tls_CAfile",
        ][..],
        Class::Throttling => &[
            "smtp_destination_concurrency_limit",
            "smtp_destination_rate_delay",
            "default_destination_concurrency_limit",
        ][..],
        Class::Dns => &["relayhost", "transport_maps", "smtp_host_lookup"][..],
        Class::ConnectionRefused | Class::ConnectionTimeout => {
            &["relayhost", "transport_maps", "smtp_connect_timeout"][..]
        }
        _ => &[][..],
    } {
        if let Some(s) = setting(postconf, key) {
            v.push(Check {
                why: "The saved configuration says (possibly implicated)".into(),
                command: s,
            });
        }
    }
    match resolution {
        Resolution::Ongoing => v.push(Check {
            why: "After fixing the cause, retry the deferred mail (never delete the queue for a recoverable cause)".into(),
            command: "postsuper -r ALL; postqueue -f".into(),
        }),
        _ if matches!(class, Class::UnknownUser | Class::MailboxFull) => {}
        _ => v.push(Check {
            why: "If mail is still queued for it, clean up only that destination after review".into(),
            command: format!("mailsleuth queue DUMP --select domain={d} --plan cleanup.txt"),
        }),
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_attempt_takes_40_bytes() {
        // A million and more are held at once on a busy day's log.
        assert_eq!(std::mem::size_of::<super::Attempt>(), 40);
    }
}
