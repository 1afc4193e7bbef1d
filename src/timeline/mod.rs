//! Timelines: every message's life, rebuilt by queue ID from the time-ordered events.
//!
//! A life is keyed by (host, syslog instance, queue ID, lifecycle): short IDs are reused, so
//! a new life begins after `removed` (qmgr or postsuper), after a requeue, after a reject in
//! cleanup, or at a second arrival (`client=`/`uid=`) under the same ID. Lives are linked:
//! content-filter and instance hops (`queued as NEWQID` naming a local queue file that
//! arrived within seconds, confirmed by Message-ID; or XFORWARD `orig_queue_id`), requeues
//! (`pickup … orig_id=OLD`), notifications (`sender non-delivery notification: NEWQID`) and
//! local forwards (`forwarded as NEWQID`). A recipient handed to a hop takes the outcome it
//! finally had there, so totals count a message once across its hops.
//!
//! What a line means is read by [`action`]; this module only keeps the books.

pub mod action;

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::parse::{Event, QueueId, QueueRef};
use crate::qdump::Dump;
use crate::time::Stamp;
use action::{Action, Notice, Status};

/// How a recipient ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Delivered,
    Bounced,
    Expired,
    /// Still pending at the end of the data.
    Deferred,
    /// Removed by the admin (`postsuper -d`).
    Deleted,
    Rejected,
    /// Not enough seen to say.
    Unknown,
}

/// How a message came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrival {
    /// smtpd `client=`.
    Smtp,
    /// pickup `uid=` (local submission).
    Pickup,
    /// Created by cleanup with no smtpd/pickup line: a notification, or the start of a
    /// message whose arrival line we do not have.
    Cleanup,
    /// The arrival is not in the logs (the message began before the first line).
    Unknown,
}

/// How a life ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    /// qmgr `removed`: every recipient done.
    Removed,
    /// postsuper `removed`: deleted by the admin.
    Deleted,
    /// Requeued (`postsuper -r`): continues as a new queue file.
    Requeued,
    /// Rejected or discarded in cleanup: the queue file was never committed.
    Rejected,
    /// Still open at the end of the data.
    Open,
}

/// Why two lives are linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// `queued as NEWQID` into a local queue (content filter, second instance).
    Hop,
    /// `client=…, orig_queue_id=PARENT` (XFORWARD).
    Xforward,
    /// `pickup: NEW: … orig_id=OLD` after `postsuper -r`.
    Requeue,
    /// `sender non-delivery|delay|delivery status notification: NEW`.
    Notification,
    /// local `forwarded as NEW`.
    Forward,
}

impl LinkKind {
    /// The child is the same message travelling on (not a new message such as an NDR).
    pub fn continues(self) -> bool {
        matches!(
            self,
            LinkKind::Hop | LinkKind::Xforward | LinkKind::Requeue | LinkKind::Forward
        )
    }
}

/// One recipient of one life.
#[derive(Clone, Debug, Serialize)]
pub struct Recipient<'a> {
    pub address: Cow<'a, str>,
    pub orig_to: Option<Cow<'a, str>>,
    pub outcome: Outcome,
    /// Delivery attempts logged for it in this life.
    pub attempts: u32,
    pub deferrals: u32,
    pub first_attempt_at: Option<Stamp>,
    pub last_attempt_at: Option<Stamp>,
    pub relay: Option<Cow<'a, str>>,
    pub dsn: Option<Cow<'a, str>>,
    pub status: Option<Status>,
    pub reason: Option<Cow<'a, str>>,
    /// Delay of the last attempt, and its `delays=a/b/c/d`.
    pub delay: Option<f64>,
    pub delays: Option<[f64; 4]>,
    /// The life this recipient was handed to (filter hop, requeue, forward), by index.
    #[serde(skip)]
    pub handed_to: Option<usize>,
    /// The queue ID it was handed to.
    pub handed_to_queue_id: Option<QueueId>,
    /// Where its last delivery line is in [`Timelines::deliveries`].
    #[serde(skip)]
    pub delivery: u32,
}

impl<'a> Recipient<'a> {
    /// A recipient named by `e`'s line.
    fn new(e: &Event<'a>, address: &'a [u8], orig_to: Option<&'a [u8]>) -> Recipient<'a> {
        Recipient {
            address: text_in(e, address),
            orig_to: orig_to.map(|b| text_in(e, b)),
            outcome: Outcome::Unknown,
            attempts: 0,
            deferrals: 0,
            first_attempt_at: None,
            last_attempt_at: None,
            relay: None,
            dsn: None,
            status: None,
            reason: None,
            delay: None,
            delays: None,
            handed_to: None,
            handed_to_queue_id: None,
            delivery: 0,
        }
    }

    fn pending(&self) -> bool {
        matches!(self.outcome, Outcome::Unknown | Outcome::Deferred)
    }
}

/// A link to another life.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Link {
    pub kind: LinkKind,
    #[serde(skip)]
    pub index: usize,
    pub queue_id: QueueId,
}

/// One life of one queue file.
#[derive(Clone, Debug, Serialize)]
pub struct Message<'a> {
    /// Shared by every life of the host (one allocation per name, not per message).
    pub host: Arc<str>,
    pub instance: Arc<str>,
    pub queue_id: QueueId,
    /// 0 for the first life of this ID on this host/instance, 1 for the next …
    pub life: u32,
    pub arrival: Arrival,
    pub received_at: Option<Stamp>,
    pub client: Option<Cow<'a, str>>,
    pub sasl_username: Option<Cow<'a, str>>,
    /// TLS of the inbound session (`… TLS connection established from …: TLSv1.3 with cipher …`).
    pub tls: Option<Cow<'a, str>>,
    pub uid: Option<Cow<'a, str>>,
    pub message_id: Option<Cow<'a, str>>,
    pub from: Option<Cow<'a, str>>,
    pub size: Option<u64>,
    pub nrcpt: Option<u32>,
    /// Entries into the active queue (`queue active` lines): 1 + retries.
    pub active_entries: u32,
    /// Its qmgr lines that end `(queue active)`: the first entry, then the retries.
    #[serde(skip)]
    queue_active_lines: u32,
    pub first_at: Stamp,
    pub last_at: Stamp,
    pub end: End,
    pub removed_at: Option<Stamp>,
    pub expired_at: Option<Stamp>,
    pub held: bool,
    /// Address-verification probe traffic, not mail.
    pub probe: bool,
    pub recipients: Vec<Recipient<'a>>,
    pub parent: Option<Link>,
    pub children: Vec<Link>,
    /// Notifications (NDR, delay, DSN) created about this message.
    pub notifications: Vec<(Notice, QueueId)>,
    /// Rejects logged with this queue ID (mid-session RCPT rejects, cleanup checks).
    pub rejects: u32,
    /// When still queued at the end: the newest dump that lists it, and what it says.
    pub in_dump: Option<Box<DumpEntry>>,
    /// The indices of its events in the ingest's event list.
    #[serde(skip)]
    pub events: Vec<u32>,
    /// Its `queued as` / `forwarded as` / requeue hand-overs, linked once every life is known.
    #[serde(skip)]
    hops: Vec<PendingHop>,
    /// (host, instance, queue ID) as the builder numbers them.
    #[serde(skip)]
    key: Key,
}

/// A queued message as the newest dump listing it shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DumpEntry {
    pub dump: String,
    pub queue_name: String,
    pub reason: Option<String>,
}

impl<'a> Message<'a> {
    /// A new life of `key` first seen at `at`, with nothing known of it yet.
    fn blank(host: Arc<str>, instance: Arc<str>, key: Key, life: u32, at: Stamp) -> Message<'a> {
        Message {
            host,
            instance,
            queue_id: key.2,
            life,
            arrival: Arrival::Unknown,
            received_at: None,
            client: None,
            sasl_username: None,
            tls: None,
            uid: None,
            message_id: None,
            from: None,
            size: None,
            nrcpt: None,
            active_entries: 0,
            queue_active_lines: 0,
            first_at: at,
            last_at: at,
            end: End::Open,
            removed_at: None,
            expired_at: None,
            held: false,
            probe: false,
            recipients: Vec::new(),
            parent: None,
            children: Vec::new(),
            notifications: Vec::new(),
            rejects: 0,
            in_dump: None,
            events: Vec::new(),
            hops: Vec::new(),
            key,
        }
    }

    /// The message began before the first line we have, or is still open after the last.
    pub fn partial(&self) -> bool {
        self.arrival == Arrival::Unknown || self.end == End::Open
    }

    pub fn recipient_mut(
        &mut self,
        e: &Event<'a>,
        address: &'a [u8],
        orig_to: Option<&'a [u8]>,
    ) -> &mut Recipient<'a> {
        let i = self.recipient_index(e, address, orig_to);
        &mut self.recipients[i]
    }

    /// The index of a recipient named by `e`'s line, added when new.
    pub fn recipient_index(
        &mut self,
        e: &Event<'a>,
        address: &'a [u8],
        orig_to: Option<&'a [u8]>,
    ) -> usize {
        let pos = self.recipients.iter().position(|r| {
            r.address.as_bytes() == address && r.orig_to.as_deref().map(str::as_bytes) == orig_to
        });
        match pos {
            Some(p) => p,
            None => {
                // Most messages have one recipient: grow one at a time up to four, not to
                // the four a first push reserves (a quarter of the timelines' memory).
                let n = self.recipients.len();
                if n == self.recipients.capacity() {
                    self.recipients.reserve_exact(if n < 4 { 1 } else { n });
                }
                self.recipients.push(Recipient::new(e, address, orig_to));
                n
            }
        }
    }
}

/// A reject by smtpd, postscreen or cleanup (NOQUEUE or with a queue ID). Its texts are
/// borrowed from the line (copied only when they are not UTF-8).
#[derive(Clone, Debug, Serialize)]
pub struct RejectRecord<'a> {
    pub at: Stamp,
    pub host: Cow<'a, str>,
    pub daemon: Cow<'a, str>,
    pub action: Cow<'a, str>,
    pub stage: Cow<'a, str>,
    pub client: Cow<'a, str>,
    pub text: Cow<'a, str>,
    pub from: Option<Cow<'a, str>>,
    pub to: Option<Cow<'a, str>>,
    pub queue_id: Option<QueueId>,
    #[serde(skip)]
    pub event: u32,
}

/// Admin actions seen (postsuper), with or without IDs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AdminActions {
    /// Per-ID lines.
    pub deleted: u64,
    pub held: u64,
    pub released: u64,
    pub requeued: u64,
    /// `Deleted: N messages` … summaries, even when they name no IDs.
    pub summaries: Vec<AdminSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AdminSummary {
    pub at: Stamp,
    pub verb: String,
    pub count: u64,
}

/// Everything the timelines hold.
#[derive(Debug, Default)]
pub struct Timelines<'a> {
    /// The lives kept whole: all of them, or when built with [`build_folded`], those not
    /// folded into [`Timelines::folded`].
    pub messages: Vec<Message<'a>>,
    /// What the folded lives add to the totals, the traffic and the queue series.
    pub folded: Folded,
    /// Finished lives kept in short beyond the cap of whole ones (see [`TIMELINE_CAP`]):
    /// life `messages.len() + k` is `compact[k]`.
    pub compact: Vec<CompactLife>,
    pub rejects: Vec<RejectRecord<'a>>,
    pub admin: AdminActions,
    /// For each event (by index), the life it belongs to, if it names a queue ID.
    pub owner: Vec<Owner>,
    /// Every delivery line, in time order: (event, life, recipient index in that life).
    /// The life is [`FOLDED`] for the lines of a folded life.
    pub deliveries: Vec<DeliveryRef>,
    /// When a life re-entered the active queue (a `queue active` line for a life that had
    /// one before), µs, in event order: the retries of the incidents' flush markers.
    pub retries: Vec<i64>,
}

/// The life an event belongs to, if any: an `Option<u32>` in 4 bytes (one per event).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Owner(Option<std::num::NonZeroU32>);

impl Owner {
    /// No life: the line names no queue ID, or its life was folded.
    pub const NONE: Owner = Owner(None);

    /// Life `i` (below `u32::MAX`).
    pub fn of(i: u32) -> Owner {
        Owner(std::num::NonZeroU32::new(i.wrapping_add(1)))
    }

    pub fn get(self) -> Option<u32> {
        self.0.map(|n| n.get() - 1)
    }

    pub fn is_some(self) -> bool {
        self.0.is_some()
    }
}

/// The life index of a delivery line whose life was folded.
pub const FOLDED: u32 = u32::MAX;

/// The life index of a folded life's delivery line that handed the message to another life
/// (a content filter, a second instance): not a delivery to the destination.
pub const HANDOFF: u32 = u32::MAX - 1;

/// While building, life `COMPACT + k` is `Timelines::compact[k]`.
const COMPACT: u32 = 1 << 31;

/// How many finished lives that did not fold (a failure touched them) are kept whole; past
/// it the oldest are kept in short ([`CompactLife`]): what the incidents count of them, and
/// the indices of their lines, from which a cited one is rebuilt ([`Timelines::rebuilt`]).
/// The cap bounds memory only: a life kept whole takes about 1.3 KiB, one kept in short
/// about 200 bytes (its line indices and its recipients' ends). The report reads another
/// number from `MAILSLEUTH_TIMELINE_CAP`.
pub const TIMELINE_CAP: usize = 10_000;

/// How a recipient ended, when it was first attempted, and when it was last attempted (for a
/// recipient handed to another life, there).
pub type RecipientEnd = (Outcome, Option<Stamp>, Option<Stamp>);

/// A [`RecipientEnd`] in 32 bytes instead of 56 (a `Stamp` pads to 16 bytes, an optional
/// one to 24): the times' parts apart, [`ShortEnd::NONE`] for no time.
#[derive(Clone, Copy, Debug)]
struct ShortEnd {
    first: i64,
    last: i64,
    first_offset: i32,
    last_offset: i32,
    outcome: Outcome,
}

impl ShortEnd {
    /// No time: µs no stamp has.
    const NONE: i64 = i64::MIN;

    fn new((outcome, first, last): RecipientEnd) -> ShortEnd {
        ShortEnd {
            first: first.map_or(ShortEnd::NONE, |t| t.micros),
            last: last.map_or(ShortEnd::NONE, |t| t.micros),
            first_offset: first.map_or(0, |t| t.offset_secs),
            last_offset: last.map_or(0, |t| t.offset_secs),
            outcome,
        }
    }

    fn get(&self) -> RecipientEnd {
        let stamp = |micros: i64, offset_secs: i32| {
            (micros != ShortEnd::NONE).then_some(Stamp {
                micros,
                offset_secs,
            })
        };
        (
            self.outcome,
            stamp(self.first, self.first_offset),
            stamp(self.last, self.last_offset),
        )
    }
}

/// A finished life kept in short: its queue ID and how each recipient ended, and what it
/// takes to rebuild it whole for citing ([`Timelines::rebuilt`]): its lines, its number, and
/// the lives it was linked to (kept in short with it, next to it).
#[derive(Clone, Debug)]
pub struct CompactLife {
    pub queue_id: QueueId,
    /// How each recipient ended (see [`Timelines::recipient_end`]).
    recipients: Vec<ShortEnd>,
    events: Box<[u32]>,
    life: u32,
    /// Its group: `compact[group.0 ..][.. group.1]`, itself among them.
    group: (u32, u8),
}

/// The finished lives folded into aggregates: delivered at the first attempt, linked to no
/// other life, and cited by nothing, their whole timeline is not kept. What the report
/// needs of them is summed here as they finish.
#[derive(Debug, Default)]
pub struct Folded {
    /// Lives folded.
    pub lives: u64,
    /// Lives kept in short past the cap ([`Timelines::compact`]).
    pub shortened: u64,
    /// Their share of [`Timelines::totals`].
    pub totals: Totals,
    /// Arrival times (µs) of those that arrived by smtpd or pickup, for the traffic chart.
    pub received: Vec<i64>,
    /// Queue changes (µs, +1 at arrival, −1 at removal) for the queue series.
    pub queue_deltas: Vec<(i64, i64)>,
    /// Those whose arrival is not in the logs (in the queue from the start).
    pub queue_initial: i64,
}

/// Where a delivery line (`to=… status=…`) was booked.
#[derive(Clone, Copy, Debug)]
pub struct DeliveryRef {
    pub event: u32,
    pub message: u32,
    pub recipient: u32,
}

type Key = (u16, u16, QueueId);

struct Interner<'a> {
    names: Vec<&'a [u8]>,
    shared: Vec<Arc<str>>,
    /// The last name looked up: lines come in long runs of one host.
    last: usize,
}

impl<'a> Interner<'a> {
    fn new() -> Interner<'a> {
        Interner {
            names: Vec::new(),
            shared: Vec::new(),
            last: 0,
        }
    }

    fn id(&mut self, n: &'a [u8]) -> u16 {
        if self.names.get(self.last) == Some(&n) {
            return self.last as u16;
        }
        let p = match self.names.iter().position(|x| *x == n) {
            Some(p) => p,
            None => {
                self.names.push(n);
                self.shared.push(Arc::from(lossy(n)));
                self.names.len() - 1
            }
        };
        self.last = p;
        p as u16
    }

    fn name(&self, id: u16) -> Arc<str> {
        self.shared[id as usize].clone()
    }
}

/// `b` as owned text, invalid UTF-8 replaced.
fn lossy(b: &[u8]) -> String {
    text(b).into_owned()
}

/// `b` as text, borrowed from the line when it is valid UTF-8 (nearly always), else a copy
/// with the invalid bytes replaced: a life's texts cost no allocation until they are read,
/// and two lives in three are folded without being read. (`from_utf8` checks a valid text a
/// word at a time, where `from_utf8_lossy` walks it chunk by chunk.)
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(String::from_utf8_lossy(b).into_owned()),
    }
}

/// [`text`] of `b`, a part of `e`'s line: not checked again when ingest found the line valid
/// UTF-8 ([`Event::str_of`]). The builder runs on one thread, so what it need not do counts.
fn text_in<'a>(e: &Event<'a>, b: &'a [u8]) -> Cow<'a, str> {
    match e.str_of(b) {
        Some(s) => Cow::Borrowed(s),
        None => text(b),
    }
}

fn set_text<'a>(e: &Event<'a>, slot: &mut Option<Cow<'a, str>>, b: Option<&'a [u8]>) {
    if slot.as_deref().map(str::as_bytes) != b {
        *slot = b.map(|b| text_in(e, b));
    }
}

/// A candidate hop, resolved once every life is known.
#[derive(Clone, Debug)]
struct PendingHop {
    /// The event that named it, and the recipient: the order hops are linked in.
    event: u32,
    /// Its delivery line's place in [`Timelines::deliveries`] (`queued as`, `forwarded as`);
    /// `u32::MAX` for a requeue, named by a pickup line.
    delivery: u32,
    parent: usize,
    recipient: usize,
    child_id: QueueId,
    host: u16,
    at: i64,
    kind: LinkKind,
}

/// How far apart (µs) a hop's `queued as` line and the child's arrival may be.
const HOP_WINDOW: i64 = 30 * 1_000_000;

/// How long (µs of log time) after its `removed` a life is looked at for folding. Every hop
/// that could name it, or that it could name, is logged within [`HOP_WINDOW`] of its
/// arrival or hand-off, which are before its removal; lines after `removed` join it within
/// one second.
const FOLD_DELAY: i64 = 2 * HOP_WINDOW;

/// Events read ahead of the builder at a time: blocks are worked on another thread while the
/// builder books the ones before (see [`build_beside`]).
pub const READ_AHEAD: usize = 1 << 14;

/// Build every timeline from time-ordered events.
///
/// What each line means ([`action::action`]) is read on another thread, blocks ahead of the
/// books being kept, so both cores work; the result does not depend on the thread count.
pub fn build<'a>(events: &[Event<'a>], dumps: &[Dump]) -> Timelines<'a> {
    build_in_blocks(events, dumps, READ_AHEAD, None)
}

/// [`build`], folding the finished lives nobody will look at into [`Timelines::folded`] as
/// they finish, so memory holds only the lives still open, troubled, linked or queued; past
/// `cap` finished troubled lives, the oldest are kept in short ([`Timelines::compact`]).
pub fn build_folded<'a>(events: &[Event<'a>], dumps: &[Dump], cap: usize) -> Timelines<'a> {
    build_in_blocks(events, dumps, READ_AHEAD, Some(cap))
}

/// [`build`] or [`build_folded`] with the read-ahead block size given (public so tests can
/// show that the block size and the thread count do not change the result).
pub fn build_in_blocks<'a>(
    events: &[Event<'a>],
    dumps: &[Dump],
    block: usize,
    fold: Option<usize>,
) -> Timelines<'a> {
    build_beside(events, dumps, block, fold, &mut |_, _| {})
}

/// [`build_in_blocks`], handing each block of events and their actions to `beside` as it is
/// read ahead, in order, so work that needs every event once can run there instead of in a
/// pass of its own.
///
/// With two threads or more, a thread of its own works out the actions and runs `beside`
/// up to [`QUEUED_BLOCKS`] blocks ahead of the builder, so neither side waits for the other
/// at every block: the builder and the reading each take about half of the work, and which
/// one is ahead changes from block to block. On one thread, each block is read, then booked.
pub fn build_beside<'a>(
    events: &[Event<'a>],
    dumps: &[Dump],
    block: usize,
    fold: Option<usize>,
    beside: &mut (dyn FnMut(&[Event<'a>], &[Action<'a>]) + Send),
) -> Timelines<'a> {
    let block = block.max(1);
    let parts = (0..events.len())
        .step_by(block)
        .map(|lo| (lo, &events[lo..(lo + block).min(events.len())]));
    build_parts(events.len(), parts, dumps, fold, beside)
}

/// [`build_beside`] of events held in blocks, one after the other ([`crate::ingest::blocks`]):
/// each block is let go of once its events are booked and `beside` has seen them, so the
/// events are not all held while the lives grow.
pub fn build_blocks_beside<'a>(
    blocks: Vec<Vec<Event<'a>>>,
    dumps: &[Dump],
    block: usize,
    fold: Option<usize>,
    beside: &mut (dyn FnMut(&[Event<'a>], &[Action<'a>]) + Send),
) -> Timelines<'a> {
    let block = block.max(1);
    let n = blocks.iter().map(Vec::len).sum();
    let mut lo = 0;
    let parts = blocks.into_iter().flat_map(move |b| {
        let (first, len) = (lo, b.len());
        lo += len;
        let b = std::sync::Arc::new(b);
        (0..len).step_by(block).map(move |at| {
            let part = Part {
                block: b.clone(),
                range: at..(at + block).min(len),
            };
            (first + at, part)
        })
    });
    build_parts(n, parts, dumps, fold, beside)
}

/// Some events of a block shared by the reading and the builder; the block is let go of with
/// its last part.
struct Part<'a> {
    block: std::sync::Arc<Vec<Event<'a>>>,
    range: std::ops::Range<usize>,
}

impl<'a> std::ops::Deref for Part<'a> {
    type Target = [Event<'a>];
    fn deref(&self) -> &[Event<'a>] {
        &self.block[self.range.clone()]
    }
}

/// The builder's loop: `parts` are the `n` events in order, each part with the number of its
/// first event. With two threads or more, the reading runs ahead on a thread of its own (see
/// [`build_beside`]); each part is dropped once booked.
fn build_parts<'a, P>(
    n: usize,
    parts: impl Iterator<Item = (usize, P)> + Send,
    dumps: &[Dump],
    fold: Option<usize>,
    beside: &mut (dyn FnMut(&[Event<'a>], &[Action<'a>]) + Send),
) -> Timelines<'a>
where
    P: std::ops::Deref<Target = [Event<'a>]> + Send,
{
    let mut read = |part: &[Event<'a>]| -> Vec<Action<'a>> {
        let acts: Vec<Action<'a>> = part.iter().map(action::action).collect();
        beside(part, &acts);
        acts
    };
    let mut b = Builder::new(n);
    if let Some(cap) = fold {
        b.fold(dumps, cap);
    }
    let mut feed = |lo: usize, part: P, acts: Vec<Action<'a>>| {
        for (j, (e, act)) in part.iter().zip(acts).enumerate() {
            b.feed(lo + j, e, act);
        }
    };
    if rayon::current_num_threads() < 2 {
        for (lo, part) in parts {
            let acts = read(&part);
            feed(lo, part, acts);
        }
    } else {
        // Time each side spends waiting for the other (printed with the stage timings).
        let timed = crate::timing::enabled();
        let waited =
            |since: Option<std::time::Instant>| since.map_or(0.0, |t| t.elapsed().as_secs_f64());
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel(QUEUED_BLOCKS);
            let reader = s.spawn(move || {
                let mut blocked = 0.0;
                for (lo, part) in parts {
                    let acts = read(&part);
                    let t = timed.then(std::time::Instant::now);
                    // The builder stopped (it panicked): stop reading.
                    if tx.send((lo, part, acts)).is_err() {
                        break;
                    }
                    blocked += waited(t);
                }
                blocked
            });
            let mut starved = 0.0;
            loop {
                let t = timed.then(std::time::Instant::now);
                let Ok((lo, part, acts)) = rx.recv() else {
                    break;
                };
                starved += waited(t);
                feed(lo, part, acts);
            }
            // A panic of the reading goes on as the builder's.
            let blocked = reader
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            crate::timing::note(format_args!(
                "lives: the builder waited {starved:.2} s for the reading, the reading {blocked:.2} s for the builder"
            ));
        });
    }
    b.finish(dumps)
}

/// How many blocks read ahead may wait for the builder.
pub const QUEUED_BLOCKS: usize = 4;

/// The books kept while the events go by: the lives open and closed per key, and what links
/// them.
pub struct Builder<'a> {
    t: Timelines<'a>,
    hosts: Interner<'a>,
    insts: Interner<'a>,
    open: HashMap<Key, usize>,
    // The last closed life per key, with its close time, to catch lines logged just after
    // `removed` within the same second.
    closed: HashMap<Key, (usize, i64)>,
    lives: HashMap<Key, u32>,
    // Inbound TLS per smtpd process, for the next `client=` of that process.
    smtpd_tls: HashMap<(u16, u32), &'a [u8]>,
    fold: Option<Fold>,
}

/// The pending hops naming one (host, queue ID): one per hop line, no allocation.
#[derive(Clone, Copy)]
struct HopParents {
    /// The life all of them come from, if one life does (`None` once that is not known).
    sole: Option<usize>,
    count: u32,
}

/// The books of folding, when it is on.
struct Fold {
    /// Queue IDs listed in a queue dump: their lives are kept for the join.
    keep_ids: rustc_hash::FxHashSet<QueueId>,
    /// Lives ended (removed, deleted, rejected), in that order: (end time, life, its first
    /// event). A life closed
    /// twice (a repeated `removed`) is listed twice; the first event tells whether the slot
    /// still holds that life.
    due: std::collections::VecDeque<(i64, usize, u32)>,
    /// Slots of folded lives, for new lives to take.
    free: Vec<usize>,
    /// Lives not folded, by (host, queue ID): the candidates a hop may name.
    by_qid: HashMap<(u16, QueueId), Vec<usize>>,
    /// Pending hops by the (host, queue ID) they name: the life they come from when it is
    /// the only one, and how many there are. Most name a remote server's queue file, once.
    hop_parents: HashMap<(u16, QueueId), HopParents>,
    /// Finished lives kept whole that may be kept in short, oldest first, a group at a
    /// time: (the last of its lives to end, its first event, how many lives the group has).
    finished: std::collections::VecDeque<(usize, u32, usize)>,
    /// The lives those groups hold, and how many may stay whole.
    finished_lives: usize,
    cap: usize,
}

impl Fold {
    /// The lives not folded that `hop` could link to (see [`hop_fits`]).
    fn children_of<'m>(
        &'m self,
        messages: &'m [Message],
        hop: &'m PendingHop,
    ) -> impl Iterator<Item = usize> + 'm {
        self.by_qid
            .get(&(hop.host, hop.child_id))
            .into_iter()
            .flatten()
            .copied()
            .filter(move |&c| hop_fits(messages, hop, c))
    }

    /// Note a pending hop from life `parent` naming `named`.
    fn note_hop(&mut self, named: (u16, QueueId), parent: usize) {
        let h = self.hop_parents.entry(named).or_insert(HopParents {
            sole: Some(parent),
            count: 0,
        });
        h.sole = h.sole.filter(|&p| p == parent);
        h.count += 1;
    }
}

impl<'a> Builder<'a> {
    /// A builder for `events` events (their owners are recorded by index).
    pub fn new(events: usize) -> Builder<'a> {
        // Reserve by the event count (a life takes ten-odd lines; a fifth are deliveries) so
        // the big vectors are not copied as they grow; pages never touched cost nothing (so
        // the owner list grows as the events come, not filled in advance).
        Builder {
            t: Timelines {
                owner: Vec::with_capacity(events),
                messages: Vec::with_capacity(events / 8),
                deliveries: Vec::with_capacity(events / 4),
                ..Default::default()
            },
            hosts: Interner::new(),
            insts: Interner::new(),
            open: HashMap::default(),
            closed: HashMap::default(),
            lives: HashMap::default(),
            smtpd_tls: HashMap::default(),
            fold: None,
        }
    }

    /// Fold finished lives as the events go by (see [`build_folded`]); lives whose queue ID
    /// a dump lists are kept whole.
    pub fn fold(&mut self, dumps: &[Dump], cap: usize) {
        self.fold = Some(Fold {
            keep_ids: dumps
                .iter()
                .flat_map(|d| d.messages.iter().filter_map(|m| m.queue_id))
                .collect(),
            due: Default::default(),
            free: Vec::new(),
            by_qid: HashMap::default(),
            hop_parents: HashMap::default(),
            finished: Default::default(),
            finished_lives: 0,
            cap,
        });
    }

    /// Book event number `ei`, whose meaning is `act`. Events come in time order; the owner
    /// list grows as needed when more events come than [`Builder::new`] was told.
    pub fn feed(&mut self, ei: usize, e: &Event<'a>, act: Action<'a>) {
        if ei >= self.t.owner.len() {
            self.t.owner.resize(ei + 1, Owner::NONE);
        }
        if self.fold.is_some() {
            self.settle(e.time().micros);
        }
        let Builder {
            t,
            hosts,
            insts,
            open,
            closed,
            lives,
            smtpd_tls,
            fold,
        } = self;
        let h = hosts.id(e.host());
        let Some(qid) = e.queue().id() else {
            match act {
                Action::Reject(r) => t.rejects.push(reject_record(e, &r, ei)),
                Action::AdminSummary { verb, count } => t.admin.summaries.push(AdminSummary {
                    at: e.time(),
                    verb: lossy(verb),
                    count,
                }),
                Action::Tls { detail, .. } if e.daemon == crate::parse::Daemon::Smtpd => {
                    if let Some(pid) = e.pid() {
                        smtpd_tls.insert((h, pid), detail);
                    }
                }
                Action::Disconnect { .. } => {
                    if let Some(pid) = e.pid() {
                        smtpd_tls.remove(&(h, pid));
                    }
                }
                _ => {}
            }
            if e.queue() == QueueRef::NoQueue {
                // NOQUEUE events belong to their client session, not to a message.
            }
            return;
        };
        let key: Key = (h, insts.id(e.instance()), qid);
        let starts_life = matches!(act, Action::Client { .. } | Action::Pickup { .. });

        // Find or open the life this event belongs to.
        let mut idx = match open.get(&key) {
            Some(&i) => {
                let m = &t.messages[i];
                if starts_life && m.arrival != Arrival::Unknown && m.arrival != Arrival::Cleanup {
                    // A second arrival under one ID: the earlier life ended unseen.
                    open.remove(&key);
                    None
                } else {
                    Some(i)
                }
            }
            None => None,
        };
        if idx.is_none() && !starts_life {
            if let Some(&(ci, at)) = closed.get(&key) {
                if e.time().micros - at < 1_000_000 && !matches!(act, Action::MessageId(_)) {
                    idx = Some(ci);
                }
            }
        }
        let i = match idx {
            Some(i) => i,
            None => {
                let life = lives.entry(key).or_insert(0);
                let m = Message::blank(hosts.name(h), insts.name(key.1), key, *life, e.time());
                *life += 1;
                let i = match fold.as_mut() {
                    Some(f) => {
                        let i = match f.free.pop() {
                            Some(i) => {
                                t.messages[i] = m;
                                i
                            }
                            None => {
                                t.messages.push(m);
                                t.messages.len() - 1
                            }
                        };
                        f.by_qid.entry((h, qid)).or_default().push(i);
                        i
                    }
                    None => {
                        t.messages.push(m);
                        t.messages.len() - 1
                    }
                };
                open.insert(key, i);
                i
            }
        };
        t.owner[ei] = Owner::of(i as u32);
        let first_event = t.messages[i].events.is_empty();
        {
            let m = &mut t.messages[i];
            m.events.push(ei as u32);
            m.last_at = e.time();
        }
        let mut close: Option<End> = None;
        match act {
            Action::Client {
                client,
                sasl_username,
                orig_queue_id,
            } => {
                let tls = e.pid().and_then(|pid| smtpd_tls.get(&(h, pid)).copied());
                let m = &mut t.messages[i];
                m.arrival = Arrival::Smtp;
                m.received_at = Some(e.time());
                m.client = Some(text_in(e, client));
                m.sasl_username = sasl_username.map(|b| text_in(e, b));
                m.tls = tls.map(text);
                if let Some(parent) = orig_queue_id {
                    link_parent(
                        &mut t.messages,
                        open,
                        closed,
                        (h, key.1, parent),
                        i,
                        LinkKind::Xforward,
                    );
                }
            }
            Action::Pickup { uid, from, orig_id } => {
                let m = &mut t.messages[i];
                m.arrival = Arrival::Pickup;
                m.received_at = Some(e.time());
                m.uid = uid.map(|b| text_in(e, b));
                if m.from.is_none() {
                    m.from = from.map(|b| text_in(e, b));
                }
                if let Some(old) = orig_id {
                    // `postsuper -r`: the old file continues as this one.
                    let okey = (h, key.1, old);
                    if let Some(&p) = open.get(&okey) {
                        open.remove(&okey);
                        closed.insert(okey, (p, e.time().micros));
                        let pm = &mut t.messages[p];
                        pm.end = End::Requeued;
                        pm.removed_at = Some(e.time());
                        for ri in 0..pm.recipients.len() {
                            if pm.recipients[ri].pending() {
                                if let Some(f) = fold.as_mut() {
                                    f.note_hop((h, qid), p);
                                }
                                pm.hops.push(PendingHop {
                                    event: ei as u32,
                                    delivery: u32::MAX,
                                    parent: p,
                                    recipient: ri,
                                    child_id: qid,
                                    host: h,
                                    at: e.time().micros,
                                    kind: LinkKind::Requeue,
                                });
                            }
                        }
                        link_parent(&mut t.messages, open, closed, okey, i, LinkKind::Requeue);
                    }
                }
            }
            Action::MessageId(id) => {
                let m = &mut t.messages[i];
                m.message_id = Some(text_in(e, id));
                if first_event && m.arrival == Arrival::Unknown {
                    // cleanup created the file: the start of this life is in the logs.
                    m.arrival = Arrival::Cleanup;
                    m.received_at = Some(e.time());
                }
            }
            Action::Queued { from, size, nrcpt } => {
                let m = &mut t.messages[i];
                m.active_entries += 1;
                if e.text().ends_with(b"(queue active)") {
                    m.queue_active_lines += 1;
                    if m.queue_active_lines > 1 {
                        t.retries.push(e.time().micros);
                    }
                }
                m.from = Some(text_in(e, from));
                if m.size.is_none() {
                    m.size = size;
                }
                if m.nrcpt.is_none() {
                    m.nrcpt = nrcpt;
                }
            }
            Action::Removed => close = Some(End::Removed),
            Action::Expired { .. } => {
                let m = &mut t.messages[i];
                m.expired_at = Some(e.time());
                for r in &mut m.recipients {
                    if r.pending() {
                        r.outcome = Outcome::Expired;
                    }
                }
            }
            Action::Delivery(d) => {
                let m = &mut t.messages[i];
                if d.status.is_probe() {
                    m.probe = true;
                }
                let ri = m.recipient_index(e, d.to, d.orig_to);
                let r = &mut m.recipients[ri];
                r.delivery = t.deliveries.len() as u32;
                t.deliveries.push(DeliveryRef {
                    event: ei as u32,
                    message: i as u32,
                    recipient: ri as u32,
                });
                r.attempts += 1;
                if r.first_attempt_at.is_none() {
                    r.first_attempt_at = Some(e.time());
                }
                r.last_attempt_at = Some(e.time());
                // Retries repeat the same texts: keep them unless they change.
                set_text(e, &mut r.relay, Some(d.relay));
                set_text(e, &mut r.dsn, d.dsn);
                r.status = Some(d.status);
                set_text(e, &mut r.reason, Some(d.reason));
                r.delay = d.delay;
                r.delays = d.delays;
                r.outcome = match d.status {
                    Status::Sent | Status::Deliverable => Outcome::Delivered,
                    Status::Bounced | Status::Undeliverable => Outcome::Bounced,
                    Status::Deferred | Status::SoftBounce => {
                        r.deferrals += 1;
                        Outcome::Deferred
                    }
                    Status::Other => r.outcome,
                };
                if d.status == Status::Sent {
                    let child = d
                        .queued_as()
                        .map(|c| (c, LinkKind::Hop))
                        .or_else(|| d.forwarded_as().map(|c| (c, LinkKind::Forward)));
                    if let Some((child_id, kind)) = child {
                        let ri = m
                            .recipients
                            .iter()
                            .rposition(|r| r.address.as_bytes() == d.to)
                            .unwrap_or(0);
                        if let Some(f) = fold.as_mut() {
                            f.note_hop((h, child_id), i);
                        }
                        m.hops.push(PendingHop {
                            event: ei as u32,
                            delivery: t.deliveries.len() as u32 - 1,
                            parent: i,
                            recipient: ri,
                            child_id,
                            host: h,
                            at: e.time().micros,
                            kind,
                        });
                    }
                }
            }
            Action::Notification { kind, child } => {
                t.messages[i].notifications.push((kind, child));
                let ckey = (h, key.1, child);
                if let Some(&c) = open.get(&ckey) {
                    if t.messages[c].parent.is_none() {
                        t.messages[c].parent = Some(Link {
                            kind: LinkKind::Notification,
                            index: i,
                            queue_id: qid,
                        });
                        t.messages[i].children.push(Link {
                            kind: LinkKind::Notification,
                            index: c,
                            queue_id: child,
                        });
                    }
                }
            }
            Action::AdminRemoved => {
                t.admin.deleted += 1;
                close = Some(End::Deleted);
            }
            Action::AdminHold => {
                t.admin.held += 1;
                t.messages[i].held = true;
            }
            Action::AdminRelease => {
                t.admin.released += 1;
                t.messages[i].held = false;
            }
            Action::AdminRequeue => t.admin.requeued += 1,
            Action::AdminSummary { verb, count } => t.admin.summaries.push(AdminSummary {
                at: e.time(),
                verb: lossy(verb),
                count,
            }),
            Action::Reject(r) => {
                t.rejects.push(reject_record(e, &r, ei));
                let m = &mut t.messages[i];
                m.rejects += 1;
                match r.action {
                    b"reject" | b"milter-reject" | b"proxy-reject" => {
                        if let Some(to) = r.to {
                            if r.stage == b"RCPT" && e.daemon == crate::parse::Daemon::Smtpd {
                                let rc = m.recipient_mut(e, to, None);
                                rc.outcome = Outcome::Rejected;
                                rc.reason = Some(text_in(e, r.text));
                            }
                        }
                        if e.daemon == crate::parse::Daemon::Cleanup || r.stage != b"RCPT" {
                            close = Some(End::Rejected);
                        }
                    }
                    b"discard" | b"milter-discard" if e.daemon == crate::parse::Daemon::Cleanup => {
                        close = Some(End::Rejected)
                    }
                    b"hold" | b"milter-hold" => m.held = true,
                    _ => {}
                }
            }
            Action::Connect { .. }
            | Action::Disconnect { .. }
            | Action::Tls { .. }
            | Action::Other => {}
        }
        if let Some(end) = close {
            let m = &mut t.messages[i];
            m.end = end;
            m.removed_at = Some(e.time());
            let final_outcome = match end {
                End::Deleted => Some(Outcome::Deleted),
                End::Rejected => Some(Outcome::Rejected),
                _ => None,
            };
            if let Some(o) = final_outcome {
                for r in &mut m.recipients {
                    if r.pending() {
                        r.outcome = o;
                    }
                }
            }
            open.remove(&key);
            closed.insert(key, (i, e.time().micros));
            if let (End::Removed | End::Deleted | End::Rejected, Some(f)) = (end, fold.as_mut()) {
                f.due
                    .push_back((e.time().micros, i, t.messages[i].events[0]));
            }
        }
    }

    /// Fold the lives removed more than [`FOLD_DELAY`] before `now` that nothing will
    /// look at again, each with the lives it is linked to.
    fn settle(&mut self, now: i64) {
        let Builder {
            t, closed, fold, ..
        } = self;
        let Some(f) = fold.as_mut() else { return };
        while let Some(&(at, i, first)) = f.due.front() {
            if now.saturating_sub(at) <= FOLD_DELAY {
                break;
            }
            f.due.pop_front();
            if t.messages[i].events.first() != Some(&first) {
                continue;
            }
            let group = linked_group(&t.messages, i, f, now);
            if let Some(group) = group.as_ref().filter(|g| g.foldable) {
                for g in &group.lives {
                    fold_life(t, closed, f, g);
                }
                continue;
            }
            if let Some(n) = group.and_then(|g| shortable(&t.messages, i, &g)) {
                f.finished.push_back((i, first, n));
                f.finished_lives += n;
            }
            while f.finished_lives > f.cap {
                let Some((j, first, n)) = f.finished.pop_front() else {
                    break;
                };
                f.finished_lives -= n;
                if t.messages[j].events.first() != Some(&first) {
                    continue;
                }
                if let Some(group) = linked_group(&t.messages, j, f, now) {
                    keep_group_in_short(t, closed, f, group.lives);
                }
            }
        }
    }

    /// Link the hops, settle the outcomes and join the queue dumps.
    pub fn finish(self, dumps: &[Dump]) -> Timelines<'a> {
        self.finish_with(dumps, true)
    }

    /// [`Builder::finish`], printing the stage timings when `stages` (not for a life
    /// rebuilt for the report).
    fn finish_with(mut self, dumps: &[Dump], stages: bool) -> Timelines<'a> {
        // No line comes after the last: the lives ended in its last minute settle too.
        self.settle(i64::MAX);
        let Builder { mut t, fold, .. } = self;
        let stage = |name: &str| {
            if stages {
                crate::timing::stage(name);
            }
        };
        stage("timelines: lives");
        if let Some(f) = fold {
            renumber(&mut t, f.free);
            stage("timelines: renumbered");
            crate::timing::note(format_args!(
                "{} lives folded, {} kept in short, {} kept whole",
                t.folded.lives,
                t.compact.len(),
                t.messages.len()
            ));
        }
        let mut hops: Vec<PendingHop> = t
            .messages
            .iter_mut()
            .flat_map(|m| std::mem::take(&mut m.hops))
            .collect();
        hops.sort_by_key(|h| (h.event, h.recipient));
        resolve_hops(&mut t.messages, hops);
        stage("timelines: hops");
        propagate_outcomes(&mut t.messages);
        join_dumps(&mut t.messages, dumps);
        t
    }
}

/// One life of a linked group, and what folding it or keeping it in short needs of it.
struct Fold1 {
    life: usize,
    /// No life continues into it: it counts as a message of its own.
    root: bool,
    /// Its delivery lines (places in [`Timelines::deliveries`]) that handed the message to a
    /// child (`queued as` a child's queue ID): no attempts, as
    /// [`booked_attempt`](crate::analysis::incidents) tells them.
    handoffs: Vec<u32>,
    /// (recipient, child) for each of its hops that links two lives of the group, in the
    /// order [`resolve_hops`] would link them (a later link of one recipient wins).
    links: Vec<(usize, usize)>,
}

/// A group of linked lives (see [`linked_group`]).
struct Group {
    lives: Vec<Fold1>,
    /// Every life of it was delivered at the first attempt, and they are linked by hops
    /// only: the group folds into the aggregates. Otherwise it may be kept in short.
    foldable: bool,
}

/// Life `i` and every life linked to it (by a parent, a child, or a hop either way), when
/// all of them ended (removed, deleted, rejected, requeued) more than [`FOLD_DELAY`] before
/// `now`, are no probes, are listed in no queue dump, are linked only within the group (each
/// hop to exactly one life, as [`resolve_hops`] would link it, and each life to one parent at
/// most), and every recipient handed over is found in its child.
fn linked_group(messages: &[Message], i: usize, f: &Fold, now: i64) -> Option<Group> {
    const MAX: usize = 8;
    let ended = |m: &Message| {
        // A requeued life ended too: its child continues it (and is the last to end).
        matches!(
            m.end,
            End::Removed | End::Deleted | End::Rejected | End::Requeued
        ) && m
            .removed_at
            .is_some_and(|r| now.saturating_sub(r.micros) > FOLD_DELAY)
            && !m.probe
            && m.in_dump.is_none()
            && !f.keep_ids.contains(&m.queue_id)
    };
    let clean = |m: &Message| {
        m.end == End::Removed
            && !m.held
            && m.notifications.is_empty()
            && m.rejects == 0
            && m.expired_at.is_none()
            && m.active_entries <= 1
            && m.recipients
                .iter()
                .all(|r| r.outcome == Outcome::Delivered && r.attempts == 1 && r.deferrals == 0)
    };
    let by_hop = |k: LinkKind| matches!(k, LinkKind::Hop | LinkKind::Xforward);
    let mut foldable = true;
    let mut group = vec![i];
    // The hops that link two lives of the group: (parent, recipient, child).
    let mut hops: Vec<(usize, usize, usize)> = Vec::new();
    let mut k = 0;
    while k < group.len() {
        let x = group[k];
        k += 1;
        let m = &messages[x];
        if !ended(m) {
            return None;
        }
        foldable = foldable && clean(m);
        let mut near: Vec<usize> = Vec::new();
        if let Some(l) = m.parent {
            foldable = foldable && by_hop(l.kind);
            near.push(l.index);
        }
        for c in &m.children {
            foldable = foldable && by_hop(c.kind);
            near.push(c.index);
        }
        for hop in &m.hops {
            let mut fits = f.children_of(messages, hop);
            match (fits.next(), fits.next()) {
                (None, _) => {}
                (Some(c), None) => {
                    foldable = foldable && hop.kind == LinkKind::Hop;
                    hops.push((x, hop.recipient, c));
                    near.push(c);
                }
                _ => return None,
            }
        }
        if let Some(ps) = f.hop_parents.get(&(m.key.0, m.queue_id)) {
            // Hops from more than one life, or from a life no longer known: keep it whole.
            near.push(ps.sole?);
        }
        for n in near {
            if !group.contains(&n) {
                group.push(n);
            }
        }
        if group.len() > MAX {
            return None;
        }
    }
    // What linking those hops would make of the group: one parent per life at most, and
    // every handed recipient found in its child.
    let mut out: Vec<Fold1> = Vec::with_capacity(group.len());
    for &x in &group {
        let m = &messages[x];
        let mut hop_parent = false;
        let mut parents: Vec<usize> = m.parent.map(|l| l.index).into_iter().collect();
        for &(p, _, c) in &hops {
            if c == x {
                hop_parent = true;
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
        }
        if parents.len() > 1 {
            return None;
        }
        for &(_, r, c) in hops.iter().filter(|h| h.0 == x) {
            let address = &m.recipients[r].address;
            let found = messages[c]
                .recipients
                .iter()
                .any(|cr| &cr.address == address || cr.orig_to.as_ref() == Some(address));
            if !found {
                return None;
            }
        }
        // The queue IDs of its children once the hops are linked.
        let child_ids: Vec<QueueId> = m
            .children
            .iter()
            .map(|c| c.queue_id)
            .chain(
                hops.iter()
                    .filter(|h| h.0 == x)
                    .map(|h| messages[h.2].queue_id),
            )
            .collect();
        let handoffs: Vec<u32> = m
            .hops
            .iter()
            .filter(|hop| hop.kind == LinkKind::Hop && child_ids.contains(&hop.child_id))
            .map(|hop| hop.delivery)
            .collect();
        let links: Vec<(usize, usize)> = hops
            .iter()
            .filter(|h| h.0 == x)
            .map(|h| (h.1, h.2))
            .collect();
        // A hop names its recipient by address: two recipients of one address are ambiguous.
        if !handoffs.is_empty() || !links.is_empty() {
            let mut seen: Vec<&str> = m.recipients.iter().map(|r| &*r.address).collect();
            seen.sort_unstable();
            if seen.windows(2).any(|w| w[0] == w[1]) {
                return None;
            }
        }
        out.push(Fold1 {
            life: x,
            root: !hop_parent && m.parent.is_none_or(|l| !l.kind.continues()),
            handoffs,
            links,
        });
    }
    Some(Group {
        lives: out,
        foldable,
    })
}

/// How many lives are kept in short with life `i` once past the cap: the lives of its
/// linked `group`, counted when `i` is the last of them to end, so that each group is
/// counted once. A requeued life is never the last: it is not looked at when it ends (its
/// child is).
fn shortable(messages: &[Message], i: usize, group: &Group) -> Option<usize> {
    let last = |x: usize| (messages[x].removed_at.map(|r| r.micros), x);
    let latest = group
        .lives
        .iter()
        .filter(|g| messages[g.life].end != End::Requeued)
        .map(|g| last(g.life))
        .max()?;
    (latest == last(i)).then_some(group.lives.len())
}

/// How each recipient of each life of a group ends, when it was first attempted, and when
/// it was last attempted, following its hand-offs within the group as
/// [`propagate_outcomes`] and [`Timelines::recipient_end`] follow them among lives kept
/// whole.
fn group_ends(messages: &[Message], group: &[Fold1]) -> Vec<Vec<RecipientEnd>> {
    let handed = |x: usize, r: usize| -> Option<usize> {
        let g = group.iter().find(|g| g.life == x)?;
        g.links.iter().rev().find(|l| l.0 == r).map(|l| l.1)
    };
    group
        .iter()
        .map(|g| {
            let m = &messages[g.life];
            (0..m.recipients.len())
                .map(|r| {
                    (
                        final_outcome(messages, g.life, r, &handed),
                        m.recipients[r].first_attempt_at,
                        final_attempt(messages, g.life, r, &handed),
                    )
                })
                .collect()
        })
        .collect()
}

/// Take life `i` out of the books and free its slot for a new life.
fn free_life<'a>(
    t: &mut Timelines<'a>,
    closed: &mut HashMap<Key, (usize, i64)>,
    f: &mut Fold,
    i: usize,
) -> Message<'a> {
    let tomb = tombstone(&t.messages[i]);
    let m = std::mem::replace(&mut t.messages[i], tomb);
    let key = m.key;
    for hop in &m.hops {
        let k = (hop.host, hop.child_id);
        if let Some(v) = f.hop_parents.get_mut(&k) {
            v.count -= 1;
            if v.count == 0 {
                f.hop_parents.remove(&k);
            }
        }
    }
    if let Some(v) = f.by_qid.get_mut(&(key.0, key.2)) {
        v.retain(|&x| x != i);
        if v.is_empty() {
            f.by_qid.remove(&(key.0, key.2));
        }
    }
    if closed.get(&key).is_some_and(|c| c.0 == i) {
        closed.remove(&key);
    }
    f.free.push(i);
    m
}

/// Add a folded or shortened life's arrival and removal to the traffic and queue series.
fn add_to_series(fo: &mut Folded, m: &Message, root: bool) {
    if root && matches!(m.arrival, Arrival::Smtp | Arrival::Pickup) {
        if let Some(r) = m.received_at {
            fo.received.push(r.micros);
        }
    }
    match m.received_at {
        Some(r) => fo.queue_deltas.push((r.micros, 1)),
        None => fo.queue_initial += 1,
    }
    if let Some(r) = m.removed_at {
        fo.queue_deltas.push((r.micros, -1));
    }
}

/// Fold one life of a group: add it to the aggregates and free its slot.
fn fold_life(t: &mut Timelines, closed: &mut HashMap<Key, (usize, i64)>, f: &mut Fold, g: &Fold1) {
    let m = free_life(t, closed, f, g.life);
    for &ei in &m.events {
        t.owner[ei as usize] = Owner::NONE;
    }
    for r in &m.recipients {
        t.deliveries[r.delivery as usize].message = FOLDED;
    }
    for &d in &g.handoffs {
        t.deliveries[d as usize].message = HANDOFF;
    }
    let fo = &mut t.folded;
    fo.lives += 1;
    fo.totals.transactions += 1;
    // Every recipient was delivered at once: no deferral, no other outcome.
    fo.totals.count(&m, g.root);
    add_to_series(fo, &m, g.root);
}

/// Keep the lives of a linked group in short, each as a [`CompactLife`] of its own, with
/// each recipient's end followed through the group's hand-offs.
fn keep_group_in_short(
    t: &mut Timelines,
    closed: &mut HashMap<Key, (usize, i64)>,
    f: &mut Fold,
    group: Vec<Fold1>,
) {
    let ends = group_ends(&t.messages, &group);
    // A group has at most `linked_group`'s 8 lives.
    let first = (t.compact.len() as u32, group.len() as u8);
    for (g, ends) in group.into_iter().zip(ends) {
        let k = t.compact.len() as u32;
        let mut m = free_life(t, closed, f, g.life);
        for (r, e) in m.recipients.iter_mut().zip(&ends) {
            r.outcome = e.0;
        }
        keep_in_short(t, m, k, g.root, ends, first);
        for d in g.handoffs {
            t.deliveries[d as usize].message = HANDOFF;
        }
    }
}

/// Keep a freed life `m` in short as `compact[k]`, each recipient with how it `ends`: its
/// lines and deliveries now name it `COMPACT + k`; its share of the totals and series is
/// added as [`Timelines::totals`] would count it (it is no probe; `root` when it continues
/// no other life).
fn keep_in_short(
    t: &mut Timelines,
    m: Message,
    k: u32,
    root: bool,
    ends: Vec<RecipientEnd>,
    group: (u32, u8),
) {
    // Its delivery lines are booked to it through their owner by [`renumber`].
    for &ei in &m.events {
        t.owner[ei as usize] = Owner::of(COMPACT + k);
    }
    let fo = &mut t.folded;
    fo.shortened += 1;
    fo.totals.transactions += 1;
    fo.totals.count(&m, root);
    add_to_series(fo, &m, root);
    t.compact.push(CompactLife {
        queue_id: m.queue_id,
        recipients: ends.into_iter().map(ShortEnd::new).collect(),
        events: m.events.into_boxed_slice(),
        life: m.life,
        group,
    });
}

/// Could life `c` be the child a hop names (the test [`resolve_hops`] applies)?
fn hop_fits(messages: &[Message], h: &PendingHop, c: usize) -> bool {
    if c == h.parent {
        return false;
    }
    let m = &messages[c];
    let start = m.received_at.unwrap_or(m.first_at).micros;
    (start - h.at).abs() <= HOP_WINDOW
        && match (&messages[h.parent].message_id, &m.message_id) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// What stays in the slot of a folded life until a new life takes it.
fn tombstone<'a>(m: &Message<'a>) -> Message<'a> {
    Message::blank(
        m.host.clone(),
        m.instance.clone(),
        m.key,
        m.life,
        m.first_at,
    )
}

/// Drop the slots of folded lives and renumber the rest in the order they began, as
/// without folding (nothing links to a folded life).
fn renumber(t: &mut Timelines, free: Vec<usize>) {
    let n = t.messages.len();
    let mut folded = vec![false; n];
    for &f in &free {
        folded[f] = true;
    }
    // A life begins at its first event; slots were reused, so sort by it.
    let mut order: Vec<usize> = (0..n).filter(|&i| !folded[i]).collect();
    order.sort_unstable_by_key(|&i| t.messages[i].events[0]);
    let mut new_index = vec![FOLDED; n];
    for (k, &i) in order.iter().enumerate() {
        new_index[i] = k as u32;
    }
    let at = |i: usize| new_index[i] as usize;
    for &i in &order {
        let m = &mut t.messages[i];
        if let Some(p) = &mut m.parent {
            p.index = at(p.index);
        }
        for c in &mut m.children {
            c.index = at(c.index);
        }
        for h in &mut m.hops {
            h.parent = at(h.parent);
        }
    }
    // Move the kept lives to the front in place, swapping (a new list would take as many
    // fresh pages again): `slot_of` says where each life now is, `life_in` which life a
    // slot holds.
    let mut slot_of: Vec<u32> = (0..n as u32).collect();
    let mut life_in: Vec<u32> = slot_of.clone();
    for (k, &i) in order.iter().enumerate() {
        let from = slot_of[i] as usize;
        if from != k {
            t.messages.swap(k, from);
            let displaced = life_in[k];
            life_in[from] = displaced;
            slot_of[displaced as usize] = from as u32;
            life_in[k] = i as u32;
            slot_of[i] = k as u32;
        }
    }
    t.messages.truncate(order.len());
    // Lives kept in short follow the whole ones.
    let kept = order.len() as u32;
    let remap = |x: u32| -> u32 {
        if x >= HANDOFF {
            x
        } else if x >= COMPACT {
            kept + (x - COMPACT)
        } else {
            new_index[x as usize]
        }
    };
    for o in t.owner.iter_mut() {
        if let Some(x) = o.get() {
            let y = remap(x);
            *o = if y != FOLDED {
                Owner::of(y)
            } else {
                Owner::NONE
            };
        }
    }
    // A delivery line belongs to the life that owns it (its slot may since have been given
    // to another life, when the life was kept in short); folded lives' lines and hand-offs
    // were marked as such.
    for d in t.deliveries.iter_mut() {
        if d.message < HANDOFF {
            d.message = t.owner[d.event as usize].get().unwrap_or(FOLDED);
        }
    }
}

fn reject_record<'a>(e: &Event<'a>, r: &action::Reject<'a>, ei: usize) -> RejectRecord<'a> {
    RejectRecord {
        at: e.time(),
        host: text_in(e, e.host()),
        daemon: text_in(e, e.daemon_name()),
        action: text_in(e, r.action),
        stage: text_in(e, r.stage),
        client: text_in(e, r.client),
        text: text_in(e, r.text),
        from: r.from.map(|b| text_in(e, b)),
        to: r.to.map(|b| text_in(e, b)),
        queue_id: e.queue().id(),
        event: ei as u32,
    }
}

fn link_parent(
    messages: &mut [Message],
    open: &HashMap<Key, usize>,
    closed: &HashMap<Key, (usize, i64)>,
    parent_key: Key,
    child: usize,
    kind: LinkKind,
) {
    let p = open
        .get(&parent_key)
        .copied()
        .or_else(|| closed.get(&parent_key).map(|c| c.0));
    if let Some(p) = p {
        if p != child && messages[child].parent.is_none() {
            messages[child].parent = Some(Link {
                kind,
                index: p,
                queue_id: parent_key.2,
            });
            let cq = messages[child].queue_id;
            messages[p].children.push(Link {
                kind,
                index: child,
                queue_id: cq,
            });
        }
    }
}

/// Link `queued as` / `forwarded as` / requeue hand-overs to the local lives they name.
fn resolve_hops(messages: &mut [Message], hops: Vec<PendingHop>) {
    if hops.is_empty() {
        return;
    }
    // Only the lives a hop names can be its child: index those, not every life.
    let mut by_id: HashMap<(u16, QueueId), Vec<usize>> = hops
        .iter()
        .map(|h| ((h.host, h.child_id), Vec::new()))
        .collect();
    for (i, m) in messages.iter().enumerate() {
        if let Some(v) = by_id.get_mut(&(m.key.0, m.queue_id)) {
            v.push(i);
        }
    }
    let mut links: Vec<(usize, usize, usize, LinkKind)> = Vec::new();
    for h in &hops {
        let Some(cands) = by_id.get(&(h.host, h.child_id)) else {
            continue;
        };
        let best = cands
            .iter()
            .copied()
            .filter(|&c| hop_fits(messages, h, c))
            .min_by_key(|&c| {
                let m = &messages[c];
                (m.received_at.unwrap_or(m.first_at).micros - h.at).abs()
            });
        if let Some(c) = best {
            links.push((h.parent, h.recipient, c, h.kind));
        }
    }
    for (p, r, c, kind) in links {
        if let Some(rc) = messages[p].recipients.get_mut(r) {
            rc.handed_to = Some(c);
            rc.handed_to_queue_id = Some(messages[c].queue_id);
        }
        if messages[c].parent.is_none() || messages[c].parent.is_some_and(|l| l.index == p) {
            let pq = messages[p].queue_id;
            if messages[c].parent.is_none() {
                messages[c].parent = Some(Link {
                    kind,
                    index: p,
                    queue_id: pq,
                });
            }
            let cq = messages[c].queue_id;
            if !messages[p].children.iter().any(|l| l.index == c) {
                messages[p].children.push(Link {
                    kind,
                    index: c,
                    queue_id: cq,
                });
            }
        }
    }
}

/// How recipient `r` of life `m` finally ended, following its hand-offs (`handed` tells the
/// life a recipient was handed to) at most 16 deep: its outcome in the last life that has it,
/// or, handed to a life that never attempted it, what that life's end makes of it.
fn final_outcome(
    messages: &[Message],
    m: usize,
    r: usize,
    handed: &impl Fn(usize, usize) -> Option<usize>,
) -> Outcome {
    let (mut m, mut r) = (m, r);
    for _ in 0..=16 {
        let rc = &messages[m].recipients[r];
        let Some(c) = handed(m, r) else {
            return rc.outcome;
        };
        let child = &messages[c];
        let found = child
            .recipients
            .iter()
            .position(|x| x.address == rc.address)
            .or_else(|| {
                child
                    .recipients
                    .iter()
                    .position(|x| x.orig_to.as_deref() == Some(&*rc.address))
            });
        match found {
            Some(cr) => (m, r) = (c, cr),
            // Handed over but never attempted there.
            None => {
                return match child.end {
                    End::Deleted => Outcome::Deleted,
                    End::Rejected => Outcome::Rejected,
                    _ if child.expired_at.is_some() => Outcome::Expired,
                    _ => Outcome::Deferred,
                }
            }
        }
    }
    messages[m].recipients[r].outcome
}

/// When recipient `r` of life `m` was last attempted, following its hand-offs (found by
/// address) at most 16 deep.
fn final_attempt(
    messages: &[Message],
    m: usize,
    r: usize,
    handed: &impl Fn(usize, usize) -> Option<usize>,
) -> Option<Stamp> {
    let (mut m, mut r) = (m, r);
    for _ in 0..16 {
        let rc = &messages[m].recipients[r];
        let Some(c) = handed(m, r) else {
            return rc.last_attempt_at;
        };
        match messages[c]
            .recipients
            .iter()
            .position(|x| x.address == rc.address)
        {
            Some(cr) => (m, r) = (c, cr),
            None => return rc.last_attempt_at,
        }
    }
    messages[m].recipients[r].last_attempt_at
}

/// A recipient handed to another life takes the outcome it finally had there.
fn propagate_outcomes(messages: &mut [Message]) {
    let handed = |m: usize, r: usize| messages[m].recipients[r].handed_to;
    let mut updates = Vec::new();
    for (mi, m) in messages.iter().enumerate() {
        for (ri, r) in m.recipients.iter().enumerate() {
            if r.handed_to.is_some() {
                updates.push((mi, ri, final_outcome(messages, mi, ri, &handed)));
            }
        }
    }
    for (mi, ri, o) in updates {
        messages[mi].recipients[ri].outcome = o;
    }
}

/// Messages still open at the end: the newest dump listing their queue ID.
fn join_dumps(messages: &mut [Message], dumps: &[Dump]) {
    if dumps.is_empty() {
        return;
    }
    let mut newest: HashMap<QueueId, (usize, usize)> = HashMap::default();
    for (di, d) in dumps.iter().enumerate() {
        for (mi, m) in d.messages.iter().enumerate() {
            if let Some(q) = m.queue_id {
                newest.insert(q, (di, mi));
            }
        }
    }
    for m in messages.iter_mut().filter(|m| m.end == End::Open) {
        if let Some(&(di, mi)) = newest.get(&m.queue_id) {
            let q = &dumps[di].messages[mi];
            m.in_dump = Some(Box::new(DumpEntry {
                dump: dumps[di].path.clone(),
                queue_name: q.queue_name.clone(),
                reason: q.recipients.iter().find_map(|r| r.reason.clone()),
            }));
        }
    }
}

/// Totals over the timelines, counting a message once across its hops.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Unique messages: lives that do not continue another (hops and requeues excluded).
    pub messages: u64,
    /// Every life: what pflogsumm calls a message (SMTP transactions, requeues, hops).
    pub transactions: u64,
    /// Lives that arrived by smtpd or pickup, hop children excluded.
    pub received: u64,
    pub recipients: u64,
    pub delivered: u64,
    /// Deferral lines.
    pub deferrals: u64,
    /// Messages with at least one deferral.
    pub deferred: u64,
    pub bounced: u64,
    pub expired: u64,
    pub deleted: u64,
    /// Rejects by smtpd, postscreen and cleanup (per recipient where stated).
    pub rejected: u64,
    /// Recipients still pending at the end of the data.
    pub pending: u64,
    pub partial_messages: u64,
}

impl Totals {
    /// Count one life (not its transaction): `root` when it continues no other life.
    fn count(&mut self, m: &Message, root: bool) {
        let deferrals: u64 = m.recipients.iter().map(|r| r.deferrals as u64).sum();
        self.deferrals += deferrals;
        if m.probe {
            return;
        }
        if deferrals > 0 {
            self.deferred += 1;
        }
        if m.partial() {
            self.partial_messages += 1;
        }
        if !root {
            return;
        }
        self.messages += 1;
        if matches!(m.arrival, Arrival::Smtp | Arrival::Pickup) {
            self.received += 1;
        }
        for r in &m.recipients {
            self.recipients += 1;
            match r.outcome {
                Outcome::Delivered => self.delivered += 1,
                Outcome::Bounced => self.bounced += 1,
                Outcome::Expired => self.expired += 1,
                Outcome::Deleted => self.deleted += 1,
                Outcome::Deferred | Outcome::Unknown => self.pending += 1,
                Outcome::Rejected => {}
            }
        }
    }
}

impl Timelines<'_> {
    /// The queue ID of life `i`, kept whole or in short.
    pub fn queue_id_of(&self, i: usize) -> QueueId {
        match self.messages.get(i) {
            Some(m) => m.queue_id,
            None => self.compact[i - self.messages.len()].queue_id,
        }
    }

    /// How recipient `r` of life `i` ended, when it was first attempted, and when it was
    /// last attempted (for a recipient handed to another life, there).
    pub fn recipient_end(&self, i: usize, r: usize) -> Option<RecipientEnd> {
        match self.messages.get(i) {
            Some(m) => {
                let rc = m.recipients.get(r)?;
                let handed = |m: usize, r: usize| self.messages[m].recipients[r].handed_to;
                let last = final_attempt(&self.messages, i, r, &handed);
                Some((rc.outcome, rc.first_attempt_at, last))
            }
            None => self
                .compact
                .get(i - self.messages.len())?
                .recipients
                .get(r)
                .map(ShortEnd::get),
        }
    }

    /// Life `i`, kept in short, rebuilt whole from its lines (`events`, the ingest's list)
    /// as it was before it was kept in short: the lines of its group, the lives it was linked
    /// to, go to a builder of their own, which links them again as the lives kept whole are
    /// linked; its number and its recipients' ends are put back. What the report cites of
    /// it. `None` for a life kept whole.
    pub fn rebuilt<'e>(
        &self,
        i: usize,
        events: &rustc_hash::FxHashMap<u32, Event<'e>>,
    ) -> Option<Message<'e>> {
        let c = self.compact.get(i.checked_sub(self.messages.len())?)?;
        let lines = self.group_lines(i)?;
        let mut b = Builder::new(lines.len());
        for (k, ei) in lines.iter().enumerate() {
            let e = events.get(ei)?;
            b.feed(k, e, action::action(e));
        }
        let first = *c.events.first()?;
        let mut m = b
            .finish_with(&[], false)
            .messages
            .into_iter()
            .find(|m| m.events.first().map(|&k| lines[k as usize]) == Some(first))?;
        for ei in &mut m.events {
            *ei = lines[*ei as usize];
        }
        m.life = c.life;
        for (r, end) in m.recipients.iter_mut().zip(&c.recipients) {
            r.outcome = end.outcome;
        }
        Some(m)
    }

    /// The lines of the group of life `i`, kept in short, in order: what [`Timelines::rebuilt`]
    /// needs of the events. `None` for a life kept whole.
    pub fn group_lines(&self, i: usize) -> Option<Vec<u32>> {
        let c = self.compact.get(i.checked_sub(self.messages.len())?)?;
        let (start, n) = (c.group.0 as usize, c.group.1 as usize);
        let group = self.compact.get(start..start + n)?;
        let mut lines: Vec<u32> = group
            .iter()
            .flat_map(|g| g.events.iter().copied())
            .collect();
        lines.sort_unstable();
        Some(lines)
    }

    /// Let go of the owner of every event and the delivery bookings, once the attempts are
    /// read: nothing after needs them, and they take 4 and 12 bytes a line.
    pub fn release_bookings(&mut self) {
        self.owner = Vec::new();
        self.deliveries = Vec::new();
    }

    /// Is this life the same message as its parent, travelling on?
    pub fn continues_parent(&self, m: &Message) -> bool {
        m.parent.is_some_and(|l| l.kind.continues())
    }

    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            rejected: self
                .rejects
                .iter()
                .filter(|r| r.action != "reject_warning" && r.action != "warning")
                .count() as u64,
            ..self.folded.totals.clone()
        };
        t.transactions += self.messages.len() as u64;
        for m in &self.messages {
            t.count(m, !self.continues_parent(m));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipient_end_kept_in_short_takes_32_bytes_and_reads_back() {
        // One per recipient of every life kept in short: hundreds of thousands on a big log.
        assert_eq!(std::mem::size_of::<ShortEnd>(), 32);
        let at = |micros, offset_secs| Stamp {
            micros,
            offset_secs,
        };
        for end in [
            (Outcome::Deferred, None, None),
            (Outcome::Delivered, Some(at(0, 0)), Some(at(1, 3600))),
            (Outcome::Bounced, Some(at(-1, -34_200)), None),
            (Outcome::Expired, None, Some(at(i64::MAX, 50_400))),
            (Outcome::Unknown, Some(at(i64::MIN + 1, 0)), Some(at(7, -1))),
        ] {
            assert_eq!(ShortEnd::new(end).get(), end);
        }
    }
}
