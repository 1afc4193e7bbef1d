//! Lines to events: one Postfix log line becomes one borrowed [`Event`], without allocation.
//!
//! The parse is layered: [`header`] reads the syslog prefix (time, host, tag, pid), this
//! module splits the tag into instance/service/daemon (FORMATS.md §2), unwraps what wraps a
//! message (a container's doubled prefix, Solaris `[ID …]` tokens, rsyslog's
//! `message repeated N times: [ … ]`), reads the severity and the queue ID, and leaves the
//! rest as text; [`kv`] reads `key=value` fields from that text on demand. What a message
//! *means* (delivery, arrival, removal …) is decided by the timeline layer, not here.

pub mod find;
pub mod header;
pub mod kv;
pub mod qid;

pub use header::{RawTime, TimeFormat};
pub use qid::{QueueId, QueueRef};

use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

use crate::time::{Civil, Stamp};

/// Where an event came from: the index of its input and its 1-based line number there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    pub input: u32,
    pub line: u32,
}

/// The severity a daemon logged the message with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Fatal,
    Panic,
}

/// The Postfix program that logged a line: the last element of the syslog tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Daemon {
    Anvil,
    Bounce,
    Cleanup,
    Discard,
    Dnsblog,
    Error,
    Flush,
    Lmtp,
    Local,
    Master,
    Pickup,
    Pipe,
    Postdrop,
    /// The `postfix` command itself (tag without a slash).
    Postfix,
    PostfixScript,
    Postlogd,
    Postmap,
    Postqueue,
    Postscreen,
    Postsuper,
    Proxymap,
    Qmgr,
    Retry,
    Scache,
    Sendmail,
    Showq,
    Smtp,
    Smtpd,
    Tlsmgr,
    Tlsproxy,
    TrivialRewrite,
    Verify,
    Virtual,
    /// A daemon name we do not know (custom `master.cf` commands).
    Other,
}

impl Daemon {
    pub fn from_name(name: &[u8]) -> Daemon {
        match name {
            b"anvil" => Daemon::Anvil,
            b"bounce" | b"defer" | b"trace" => Daemon::Bounce,
            b"cleanup" => Daemon::Cleanup,
            b"discard" => Daemon::Discard,
            b"dnsblog" => Daemon::Dnsblog,
            b"error" => Daemon::Error,
            b"flush" => Daemon::Flush,
            b"lmtp" => Daemon::Lmtp,
            b"local" => Daemon::Local,
            b"master" => Daemon::Master,
            b"pickup" => Daemon::Pickup,
            b"pipe" => Daemon::Pipe,
            b"postdrop" => Daemon::Postdrop,
            b"postfix" => Daemon::Postfix,
            b"postfix-script" => Daemon::PostfixScript,
            b"postlogd" => Daemon::Postlogd,
            b"postmap" => Daemon::Postmap,
            b"postqueue" => Daemon::Postqueue,
            b"postscreen" => Daemon::Postscreen,
            b"postsuper" => Daemon::Postsuper,
            b"proxymap" => Daemon::Proxymap,
            b"qmgr" | b"nqmgr" => Daemon::Qmgr,
            b"retry" => Daemon::Retry,
            b"scache" => Daemon::Scache,
            b"sendmail" => Daemon::Sendmail,
            b"showq" => Daemon::Showq,
            b"smtp" => Daemon::Smtp,
            b"smtpd" => Daemon::Smtpd,
            b"tlsmgr" => Daemon::Tlsmgr,
            b"tlsproxy" => Daemon::Tlsproxy,
            b"trivial-rewrite" => Daemon::TrivialRewrite,
            b"verify" => Daemon::Verify,
            b"virtual" => Daemon::Virtual,
            _ => Daemon::Other,
        }
    }

    /// Delivery agents log one `to=` line per recipient and attempt.
    pub fn is_delivery_agent(self) -> bool {
        matches!(
            self,
            Daemon::Smtp
                | Daemon::Lmtp
                | Daemon::Local
                | Daemon::Virtual
                | Daemon::Pipe
                | Daemon::Error
                | Daemon::Retry
                | Daemon::Discard
        )
    }
}

/// Flags on an event.
pub mod flags {
    /// One of the N copies of an rsyslog `message repeated N times` line.
    pub const REPEATED: u8 = 1;
    /// Taken from inside an outer syslog prefix (container logs forwarded by the host).
    pub const UNWRAPPED: u8 = 2;
}

/// The offset of an [`Event`]'s `time` while it holds a year-less stamp not yet resolved
/// (no zone is that far from UTC).
pub const UNRESOLVED: i32 = i32::MIN;

/// Set in the kind byte of [`Event::queue`]'s slot when the line names its process ID.
const HAS_PID: u8 = 0x80;
/// Set in an event's queue kind when its line is known to be valid UTF-8 (see
/// [`Event::note_utf8`]).
const UTF8: u8 = 0x40;

/// One Postfix log line, borrowed from the input.
///
/// Millions of these are held at once, so the parts of the line (host, syslog name, text …)
/// are kept as (offset, length) in the line and read through methods, and the line itself is
/// kept as its start and its length (see [`Event::line`]): 56 bytes an event.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    /// The instant ([`Event::time`]): as written, or for a year-less stamp filled in once
    /// ingest has resolved the input's year and zone. Until then a year-less stamp is held here
    /// packed, with [`UNRESOLVED`] as its offset (see [`Event::raw_time`]). Kept as two
    /// fields, not a [`Stamp`], whose padding would take 4 bytes of every event.
    micros: i64,
    /// Where the whole line as read (the inner line for an unwrapped container line) starts;
    /// `line_len` is its length. A `&'a [u8]` is this pointer and a length of 8 bytes, and a
    /// line is at most [`crate::lines::MAX_LINE`] bytes, so 2 bytes hold the length.
    line_start: NonNull<u8>,
    offset_secs: i32,
    /// The process ID, when [`HAS_PID`] is set (see [`Event::pid`]); kept apart from an
    /// `Option`, whose tag would take 4 more bytes.
    pid: u32,
    pub loc: Loc,
    /// What stands where a queue ID may (see [`Event::queue`]): offset and length in the line,
    /// and its kind (none, `NOQUEUE`, an ID) with [`HAS_PID`] set when `pid` is one.
    queue: (u16, u8, u8),
    pub format: TimeFormat,
    pub daemon: Daemon,
    pub severity: Severity,
    pub flags: u8,
    /// Host, syslog tag and text: (offset, length) in the line.
    host: (u16, u16),
    tag: (u16, u16),
    text: (u16, u16),
    /// The lengths of the tag's first element (the instance) and of its last (the daemon
    /// name); the service is what lies between them (see [`split_tag`]).
    names: (u8, u8),
    line_len: u16,
    _line: PhantomData<&'a [u8]>,
}

// SAFETY: an event holds its line as a `&'a [u8]` taken apart (`line_start`, `line_len`), and
// only ever gives it back as that shared slice (`Event::line`); `&[u8]` is `Send` and `Sync`.
unsafe impl Send for Event<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Event<'_> {}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("time", &self.time())
            .field("format", &self.format)
            .field("daemon", &self.daemon)
            .field("severity", &self.severity)
            .field("flags", &self.flags)
            .field("queue", &self.queue())
            .field("pid", &self.pid())
            .field("utf8", &(self.queue.2 & UTF8 != 0))
            .field("loc", &self.loc)
            .field("line", &String::from_utf8_lossy(self.line()))
            .field("host", &self.host)
            .field("tag", &self.tag)
            .field("names", &self.names)
            .field("text", &self.text)
            .finish()
    }
}

/// Where `part` lies in `whole`, as (start, end) offsets, if it lies within it.
fn within(whole: &[u8], part: &[u8]) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= whole.len()).then_some((start, end))
}

/// The parts of a line an [`Event`] is made of, as slices of the line.
#[derive(Clone, Copy, Debug)]
pub struct Parts<'a> {
    pub host: &'a [u8],
    /// The syslog name's first element: `postfix`, `postfix-out`, `postfix-239.58.50.50`.
    pub instance: &'a [u8],
    /// Service label between instance and daemon (`submission`, `content-filter`), or empty.
    pub service: &'a [u8],
    pub daemon_name: &'a [u8],
    /// The message after the queue ID and severity, e.g. `to=<a@b>, relay=…`.
    pub text: &'a [u8],
    /// The queue ID as written (empty when there is none).
    pub queue_id: &'a [u8],
}

impl<'a> Event<'a> {
    /// An event of `line` whose parts are slices of `line` (empty parts may be anywhere).
    /// Lines are at most [`crate::lines::MAX_LINE`] bytes, so offsets fit in 16 bits.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        line: &'a [u8],
        parts: Parts<'a>,
        raw_time: RawTime,
        format: TimeFormat,
        daemon: Daemon,
        severity: Severity,
        flags: u8,
        pid: Option<u32>,
        queue: QueueRef,
        loc: Loc,
    ) -> Event<'a> {
        let span = |part: &[u8]| -> (u16, u16) {
            if part.is_empty() {
                return (0, 0);
            }
            let off = (part.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
            debug_assert!(off + part.len() <= line.len(), "a part outside its line");
            (off as u16, part.len() as u16)
        };
        let (off, len, kind) = match queue {
            QueueRef::None => (0, 0, 0),
            QueueRef::NoQueue => (0, 0, 1),
            QueueRef::Id(q) => {
                let (off, _) = span(parts.queue_id);
                debug_assert_eq!(parts.queue_id, q.as_bytes());
                (off, q.as_bytes().len() as u8, 2)
            }
        };
        let queue = (off, len, kind | if pid.is_some() { HAS_PID } else { 0 });
        debug_assert!(
            line.len() <= crate::lines::MAX_LINE && crate::lines::MAX_LINE <= u16::MAX as usize
        );
        debug_assert_eq!(matches!(raw_time, RawTime::Absolute(_)), format.has_year());
        let time = match raw_time {
            RawTime::Absolute(s) => s,
            // Month (4 bits), day (5 bits), µs of the day (< 2^37), until ingest resolves it.
            RawTime::Civil(c) => {
                debug_assert!((0..1 << 40).contains(&c.micros_of_day));
                Stamp {
                    micros: ((c.month as u64 & 0xf) << 45
                        | (c.day as u64 & 0x1f) << 40
                        | (c.micros_of_day as u64 & ((1 << 40) - 1)))
                        as i64,
                    offset_secs: UNRESOLVED,
                }
            }
        };
        // The tag runs from the instance's first byte to the daemon name's last (they are
        // one and the same for a bare `postfix`); each is at most 255 bytes (`split_tag`).
        let (inst, name) = (span(parts.instance), span(parts.daemon_name));
        debug_assert!(inst.1 <= u8::MAX as u16 && name.1 <= u8::MAX as u16);
        let tag = (inst.0, (name.0 + name.1).saturating_sub(inst.0));
        let e = Event {
            micros: time.micros,
            offset_secs: time.offset_secs,
            format,
            daemon,
            severity,
            flags,
            queue,
            pid: pid.unwrap_or(0),
            loc,
            line_start: NonNull::from(line).cast(),
            line_len: line.len() as u16,
            _line: PhantomData,
            host: span(parts.host),
            tag,
            text: span(parts.text),
            names: (inst.1 as u8, name.1 as u8),
        };
        debug_assert_eq!(e.instance(), parts.instance);
        debug_assert_eq!(e.service(), parts.service);
        debug_assert_eq!(e.daemon_name(), parts.daemon_name);
        e
    }

    /// The instant: as written, or as ingest resolved a year-less stamp.
    pub fn time(&self) -> Stamp {
        Stamp {
            micros: self.micros,
            offset_secs: self.offset_secs,
        }
    }

    /// Set the instant (ingest, once it has resolved the year of a year-less stamp).
    pub fn set_time(&mut self, t: Stamp) {
        self.micros = t.micros;
        self.offset_secs = t.offset_secs;
    }

    /// The whole line as read (the inner line for an unwrapped container line), for citing
    /// evidence.
    #[inline]
    pub fn line(&self) -> &'a [u8] {
        // SAFETY: `line_start` and `line_len` are those of the `&'a [u8]` the event was made
        // of (`Event::new`), and nothing changes them: this is that slice again.
        unsafe { std::slice::from_raw_parts(self.line_start.as_ptr(), self.line_len as usize) }
    }

    fn part(&self, (off, len): (u16, u16)) -> &'a [u8] {
        &self.line()[off as usize..off as usize + len as usize]
    }

    pub fn host(&self) -> &'a [u8] {
        self.part(self.host)
    }

    /// The time as written: with a year (then it is `time`), or without. Once ingest has
    /// resolved a year-less stamp, it is read back from the local time it was resolved from
    /// (a day past the month's end, as in `Feb 30`, reads as the day it fell on).
    pub fn raw_time(&self) -> RawTime {
        if self.format.has_year() {
            return RawTime::Absolute(self.time());
        }
        if self.offset_secs == UNRESOLVED {
            let c = self.micros as u64;
            return RawTime::Civil(Civil {
                month: (c >> 45 & 0xf) as u8,
                day: (c >> 40 & 0x1f) as u8,
                micros_of_day: (c & ((1 << 40) - 1)) as i64,
            });
        }
        const DAY: i64 = 86_400 * crate::time::MICROS;
        let local = self.micros + self.offset_secs as i64 * crate::time::MICROS;
        let (_, month, day) = crate::time::civil_from_days(local.div_euclid(DAY));
        RawTime::Civil(Civil {
            month: month as u8,
            day: day as u8,
            micros_of_day: local.rem_euclid(DAY),
        })
    }

    /// The queue ID, `NOQUEUE`, or neither.
    pub fn queue(&self) -> QueueRef {
        let (off, len, kind) = self.queue;
        match kind & !(HAS_PID | UTF8) {
            0 => QueueRef::None,
            1 => QueueRef::NoQueue,
            _ => QueueRef::Id(QueueId::from_parsed(
                &self.line()[off as usize..off as usize + len as usize],
            )),
        }
    }

    /// The process ID in the syslog tag (`postfix/smtpd[1234]`), if the line has one.
    pub fn pid(&self) -> Option<u32> {
        (self.queue.2 & HAS_PID != 0).then_some(self.pid)
    }

    /// Note that the line is valid UTF-8, given the text it was cut from (`line` is that
    /// text checked, as ingest checks every line): nothing is noted unless the event's line
    /// lies within it at character boundaries. Then [`Event::str_of`] needs no check.
    pub fn note_utf8(&mut self, line: &str) {
        if let Some((start, end)) = within(line.as_bytes(), self.line()) {
            if line.is_char_boundary(start) && line.is_char_boundary(end) {
                self.queue.2 |= UTF8;
            }
        }
    }

    /// `b`, a part of this event's line, as text without checking it again: `None` unless
    /// the line was noted valid UTF-8 ([`Event::note_utf8`]) and `b` lies within it at
    /// character boundaries.
    #[inline]
    pub fn str_of(&self, b: &'a [u8]) -> Option<&'a str> {
        if self.queue.2 & UTF8 == 0 {
            return None;
        }
        let line = self.line();
        let (start, end) = within(line, b)?;
        // A byte that does not continue a character (0x80..=0xBF) starts one, or is the end.
        let starts = |i: usize| line.get(i).is_none_or(|&c| (c as i8) >= -0x40);
        if !starts(start) || !starts(end) {
            return None;
        }
        // SAFETY: `line` is valid UTF-8 (`UTF8` is set only by `note_utf8`, from a `&str`
        // holding the line at character boundaries), and `b` is the part of it between two
        // character boundaries, so it is valid UTF-8 as well.
        Some(unsafe { std::str::from_utf8_unchecked(b) })
    }

    /// The syslog name's first element: `postfix`, `postfix-out`, `postfix-239.58.50.50`.
    pub fn instance(&self) -> &'a [u8] {
        self.part((self.tag.0, self.names.0 as u16))
    }

    /// Service label between instance and daemon (`submission`, `content-filter`), or empty.
    pub fn service(&self) -> &'a [u8] {
        let ((off, len), (i, d)) = (self.tag, self.names);
        let (i, d) = (i as u16, d as u16);
        if len > i + d + 1 {
            self.part((off + i + 1, len - i - d - 2))
        } else {
            &[]
        }
    }

    pub fn daemon_name(&self) -> &'a [u8] {
        let ((off, len), d) = (self.tag, self.names.1 as u16);
        self.part((off + len - d, d))
    }

    /// The message after the queue ID and severity, e.g. `to=<a@b>, relay=…`.
    pub fn text(&self) -> &'a [u8] {
        self.part(self.text)
    }

    /// The `key=value` fields of the text, in order.
    pub fn fields(&self) -> kv::Fields<'a> {
        kv::fields(self.text())
    }

    /// One field's value, as written (angle brackets kept).
    pub fn field(&self, key: &[u8]) -> Option<&'a [u8]> {
        kv::get(self.text(), key)
    }

    /// The syslog tag re-assembled for display, e.g. `postfix-out/submission/smtpd`.
    pub fn tag(&self) -> String {
        let mut s = String::from_utf8_lossy(self.instance()).into_owned();
        if !self.service().is_empty() {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(self.service()));
        }
        if self.daemon != Daemon::Postfix || self.instance() != b"postfix" {
            s.push('/');
            s.push_str(&String::from_utf8_lossy(self.daemon_name()));
        }
        s
    }
}

/// What one line turned out to be.
#[derive(Clone, Copy, Debug)]
pub enum Line<'a> {
    /// A Postfix line; `repeat` is how many events it stands for (1, or N for rsyslog's
    /// `message repeated N times`).
    Postfix { event: Event<'a>, repeat: u32 },
    /// A syslog line from another program (amavis, dovecot, opendkim …): counted, skipped.
    Foreign {
        time: RawTime,
        format: TimeFormat,
        host: &'a [u8],
    },
    /// sysklogd's `last message repeated N times`: repeats the previous line of the host.
    LastRepeated {
        time: RawTime,
        format: TimeFormat,
        host: &'a [u8],
        count: u32,
    },
    /// Not a syslog line at all (a pasted command, a fragment).
    NotSyslog,
}

/// Split a Postfix syslog tag into (instance, service, daemon), or `None` if the tag is
/// not Postfix's: `^postfix(-[^/\s\[]+)?(/[^/\s\[]+)*/[a-z-]+$`, or bare `postfix`.
pub fn split_tag(tag: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    if tag == b"postfix" {
        return Some((tag, b"", tag));
    }
    // No path element holds white space or `[` (a tab can reach here from `header::tag`).
    if tag
        .iter()
        .any(|&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b'['))
    {
        return None;
    }
    let first = memchr::memchr(b'/', tag)?;
    let instance = &tag[..first];
    if !(instance == b"postfix" || (instance.len() > 8 && instance.starts_with(b"postfix-"))) {
        return None;
    }
    let last = memchr::memrchr(b'/', tag)?;
    let daemon = &tag[last + 1..];
    if daemon.is_empty()
        || !daemon
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c == b'-' || c.is_ascii_digit())
    {
        return None;
    }
    // An event keeps the instance's and the daemon name's lengths in a byte each.
    if instance.len() > u8::MAX as usize || daemon.len() > u8::MAX as usize {
        return None;
    }
    let service = if last > first {
        &tag[first + 1..last]
    } else {
        &b""[..]
    };
    // No empty path element: `postfix//smtp` is not a Postfix tag.
    if last > first && service.split(|&c| c == b'/').any(|s| s.is_empty()) {
        return None;
    }
    Some((instance, service, daemon))
}

fn strip_severity(m: &[u8]) -> (Severity, &[u8]) {
    // Most messages carry no severity: one byte tells, before four prefix comparisons.
    if !matches!(m.first(), Some(b'w' | b'e' | b'f' | b'p')) {
        return (Severity::Info, m);
    }
    for (p, s) in [
        (&b"warning: "[..], Severity::Warning),
        (b"error: ", Severity::Error),
        (b"fatal: ", Severity::Fatal),
        (b"panic: ", Severity::Panic),
    ] {
        if let Some(rest) = m.strip_prefix(p) {
            return (s, rest);
        }
    }
    (Severity::Info, m)
}

/// `QID: ` or `NOQUEUE: ` at the start of a message.
pub fn strip_queue(m: &[u8]) -> (QueueRef, &[u8]) {
    // Queue IDs are at most 23 characters; look for ": " within that.
    let window = &m[..m.len().min(qid::MAX_LEN + 2)];
    if let Some(colon) = memchr::memchr(b':', window) {
        if m.get(colon + 1) == Some(&b' ') || colon + 1 == m.len() {
            let word = &m[..colon];
            let rest = m.get(colon + 2..).unwrap_or(&[]);
            if word == b"NOQUEUE" {
                return (QueueRef::NoQueue, rest);
            }
            if let Some(q) = QueueId::parse(word) {
                return (QueueRef::Id(q), rest);
            }
        }
    }
    (QueueRef::None, m)
}

/// `message repeated N times: [ ORIGINAL]` → (N, ORIGINAL).
fn repeated(m: &[u8]) -> Option<(u32, &[u8])> {
    let rest = m.strip_prefix(b"message repeated ")?;
    let n_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if n_len == 0 || n_len > 9 {
        return None;
    }
    let n: u32 = std::str::from_utf8(&rest[..n_len]).ok()?.parse().ok()?;
    let inner = rest[n_len..].strip_prefix(b" times: [")?;
    let inner = inner.strip_suffix(b"]")?;
    Some((n, inner.strip_prefix(b" ").unwrap_or(inner)))
}

/// `last message repeated N times` (sysklogd, busybox), optionally wrapped in `--- … ---`.
fn last_repeated(m: &[u8]) -> Option<u32> {
    let m = m.strip_prefix(b"--- ").unwrap_or(m);
    let rest = m.strip_prefix(b"last message repeated ")?;
    let n_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if n_len == 0 || n_len > 9 || !rest[n_len..].starts_with(b" time") {
        return None;
    }
    std::str::from_utf8(&rest[..n_len]).ok()?.parse().ok()
}

/// Solaris syslog's `[ID 197553 mail.info] ` after `prog[pid]: `.
fn strip_solaris_id(m: &[u8]) -> &[u8] {
    if let Some(rest) = m.strip_prefix(b"[ID ") {
        if let Some(close) = memchr::memchr(b']', rest) {
            let inner = &rest[..close];
            if inner.contains(&b' ') && inner.iter().take_while(|c| c.is_ascii_digit()).count() > 0
            {
                return rest[close + 1..]
                    .strip_prefix(b" ")
                    .unwrap_or(&rest[close + 1..]);
            }
        }
    }
    m
}

/// The message of a syslog line as it follows `tag[pid]: `, unwrapped the way [`parse_line`]
/// unwraps it: a container's inner line, a Solaris `[ID …]` token stripped, and the original
/// of rsyslog's `message repeated N times: [ … ]`. For readers that need the message before
/// its queue ID and severity were split off (the digest's pflogsumm-style counts).
pub fn message(line: &[u8]) -> Option<&[u8]> {
    let mut p = header::prefix(line)?;
    if let Some(inner) = header::prefix(p.message) {
        p = inner;
    }
    let m = strip_solaris_id(p.message);
    Some(repeated(m).map_or(m, |(_, inner)| inner))
}

/// Parse one line (without its newline). Never panics, whatever the bytes.
pub fn parse_line(line: &[u8]) -> Line<'_> {
    // An event keeps 16-bit offsets into its line; ingest skips longer lines before this.
    if line.len() > crate::lines::MAX_LINE {
        return Line::NotSyslog;
    }
    let Some(mut p) = header::prefix(line) else {
        // `host last message repeated N times` has no tag.
        if let Some((time, format, n)) = header::timestamp(line) {
            if let Some(rest) = line.get(n + 1..) {
                if let Some(sp) = memchr::memchr(b' ', rest) {
                    if let Some(count) = last_repeated(&rest[sp + 1..]) {
                        return Line::LastRepeated {
                            time,
                            format,
                            host: &rest[..sp],
                            count,
                        };
                    }
                }
            }
        }
        return Line::NotSyslog;
    };
    let mut flags = 0u8;
    // A container's syslog line wrapped in the host's: take the inner host, tag and pid,
    // keep the outer (host) time, which shares the zone of the host's other lines. Almost no
    // message starts like a stamp, so a two-byte test rules most out before the full parse.
    if header::may_start_with_stamp(p.message) {
        if let Some(inner) = header::prefix(p.message) {
            p.host = inner.host;
            p.tag = inner.tag;
            p.pid = inner.pid;
            p.message = inner.message;
            flags |= flags::UNWRAPPED;
        }
    }
    let Some((instance, service, daemon_name)) = split_tag(p.tag) else {
        if let Some(count) = last_repeated(p.message) {
            return Line::LastRepeated {
                time: p.time,
                format: p.format,
                host: p.host,
                count,
            };
        }
        return Line::Foreign {
            time: p.time,
            format: p.format,
            host: p.host,
        };
    };
    let mut message = strip_solaris_id(p.message);
    let mut repeat = 1;
    if let Some((n, inner)) = repeated(message) {
        repeat = n;
        message = inner;
        flags |= flags::REPEATED;
    }
    let (mut severity, rest) = strip_severity(message);
    let (queue, mut text) = strip_queue(rest);
    let queue_id = match queue {
        QueueRef::Id(q) => &rest[..q.as_bytes().len()],
        _ => &[],
    };
    if severity == Severity::Info && queue != QueueRef::None {
        (severity, text) = strip_severity(text);
    }
    let parts = Parts {
        host: p.host,
        instance,
        service,
        daemon_name,
        text,
        queue_id,
    };
    Line::Postfix {
        event: Event::new(
            line,
            parts,
            p.time,
            p.format,
            Daemon::from_name(daemon_name),
            severity,
            flags,
            p.pid,
            queue,
            Loc::default(),
        ),
        repeat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small() {
        // Ingest holds every event of the input at once: 6 million on a gigabyte of log.
        assert_eq!(std::mem::size_of::<Event<'_>>(), 56);
    }

    #[test]
    fn a_yearless_stamp_reads_the_same_before_and_after_its_year_is_resolved() {
        // Europe/Berlin: 02:30 on 30 March 2025 does not exist, 02:30 on 26 October twice.
        let zone = crate::time::Zone::parse("Europe/Berlin").unwrap();
        for stamp in [
            "Nov 30 02:05:17",
            "Feb 29 23:59:59",
            "Mar 30 02:30:00",
            "Oct 26 02:30:00",
            "Jan  1 00:00:00",
            "Dec 31 23:59:59",
        ] {
            for year in [2024, 2025] {
                let l = format!("{stamp} mx1 postfix/smtp[1]: 4jd6tb11x2z5c2G: to=<a@b>");
                let (mut e, _) = event(l.as_bytes());
                let RawTime::Civil(c) = e.raw_time() else {
                    panic!("{l}: no year-less stamp");
                };
                e.set_time(zone.converter().stamp(c.local_micros(year)));
                assert_ne!(e.time().offset_secs, UNRESOLVED);
                let back = match e.raw_time() {
                    RawTime::Civil(b) => b,
                    other => panic!("{other:?}"),
                };
                if (c.month, c.day, year) == (2, 29, 2025) {
                    // Not a day of 2025: it resolves to 1 March.
                    assert_eq!((back.month, back.day), (3, 1));
                } else {
                    assert_eq!(back, c, "{stamp} in {year}");
                }
            }
        }
    }

    #[test]
    fn a_line_too_long_for_offsets_is_not_read() {
        let mut l = b"Nov 30 02:05:17 mx1 postfix/smtp[1]: 4jd6tb11x2z5c2G: to=<a@b>, ".to_vec();
        l.resize(crate::lines::MAX_LINE + 1, b'x');
        assert!(matches!(parse_line(&l), Line::NotSyslog));
        l.truncate(crate::lines::MAX_LINE);
        let (e, _) = event(&l);
        assert_eq!(e.host(), b"mx1");
        assert_eq!(e.text().len(), crate::lines::MAX_LINE - 54);
    }

    #[test]
    fn an_event_gives_back_its_parts() {
        let l = b"Nov 30 02:05:17 mx1 postfix-out/submission/smtpd[21008]: 4jd6tb11x2z5c2G: client=localhost[127.0.0.1]";
        let (e, _) = event(l);
        assert_eq!(e.host(), b"mx1");
        assert_eq!(e.instance(), b"postfix-out");
        assert_eq!(e.service(), b"submission");
        assert_eq!(e.daemon_name(), b"smtpd");
        assert_eq!(e.text(), b"client=localhost[127.0.0.1]");
        assert_eq!(e.queue().id().unwrap().as_str(), "4jd6tb11x2z5c2G");
        assert!(matches!(
            e.raw_time(),
            RawTime::Civil(c) if c.month == 11 && c.day == 30 && c.micros_of_day == (2 * 3600 + 5 * 60 + 17) * 1_000_000
        ));
        let (e, _) = event(b"2026-11-30T02:05:17.123456+01:00 mx1 postfix/qmgr[1]: NOQUEUE: x");
        assert_eq!(e.queue(), QueueRef::NoQueue);
        assert!(matches!(e.raw_time(), RawTime::Absolute(s) if s == e.time()));
    }

    fn event(line: &[u8]) -> (Event<'_>, u32) {
        match parse_line(line) {
            Line::Postfix { event, repeat } => (event, repeat),
            other => panic!("not postfix: {other:?}"),
        }
    }

    #[test]
    fn a_line_noted_valid_utf8_gives_its_parts_as_text_only_at_character_boundaries() {
        // The lab's cleanup line, with a recipient name in UTF-8 (SMTPUTF8).
        let text = "Nov 30 01:51:37 mx1 postfix/qmgr[17120]: B6CC5B6472: from=<jörg@throttle.test>, size=412, nrcpt=1 (queue active)";
        let (mut e, _) = event(text.as_bytes());
        let part = e.text();
        let o = text.find('ö').unwrap() - (part.as_ptr() as usize - text.as_ptr() as usize);
        // Not noted: nothing is taken unchecked.
        assert_eq!(e.str_of(part), None);
        // Noted from a text that does not hold the line: still not noted.
        e.note_utf8("Nov 30 01:51:37 mx1 postfix/qmgr[17120]: elsewhere");
        assert_eq!(e.str_of(part), None);
        e.note_utf8(text);
        assert!(format!("{e:?}").contains("utf8: true"));
        assert_eq!(e.str_of(part), std::str::from_utf8(part).ok());
        assert_eq!(
            e.str_of(&part[..o]),
            Some(&text[text.len() - part.len()..][..o])
        );
        assert_eq!(
            e.str_of(&part[o + 2..]),
            std::str::from_utf8(&part[o + 2..]).ok()
        );
        // Cut inside the `ö` (two bytes), at either end: checked, not taken.
        assert_eq!(e.str_of(&part[..o + 1]), None);
        assert_eq!(e.str_of(&part[o + 1..]), None);
        // Not a part of this line.
        assert_eq!(e.str_of(b"from=<"), None);
    }

    #[test]
    fn delivery_line_from_the_lab() {
        let (e, n) = event(b"Nov 30 01:51:37 mx1 postfix/smtp[17120]: B6CC5B6472: to=<judy7@throttle.test>, relay=127.0.0.1[127.0.0.1]:2526, conn_use=2, delay=37, delays=37/0.18/0/0.04, dsn=4.7.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command))");
        assert_eq!(n, 1);
        assert_eq!(e.daemon, Daemon::Smtp);
        assert_eq!(e.instance(), b"postfix");
        assert_eq!(e.service(), b"");
        assert_eq!(e.queue().id().unwrap().as_str(), "B6CC5B6472");
        assert_eq!(e.field(b"status"), Some(&b"deferred"[..]));
        assert_eq!(e.field(b"to"), Some(&b"<judy7@throttle.test>"[..]));
        assert_eq!(e.tag(), "postfix/smtp");
    }

    #[test]
    fn tags_split_into_instance_service_daemon() {
        // An event keeps the instance's and the daemon name's lengths in a byte each: longer
        // ones are not Postfix's (the line is counted as another program's).
        let long = format!("postfix-{}/smtpd", "x".repeat(247));
        assert!(split_tag(long.as_bytes()).is_some());
        let longer = format!("postfix-{}/smtpd", "x".repeat(248));
        assert_eq!(split_tag(longer.as_bytes()), None);
        let line = format!("Nov 30 02:05:17 mx1 {longer}[1]: connect from x");
        assert!(matches!(parse_line(line.as_bytes()), Line::Foreign { .. }));
        let daemon = format!("postfix/a/{}", "d".repeat(256));
        assert_eq!(split_tag(daemon.as_bytes()), None);
        // Each part comes back from the event as the tag split it.
        for tag in [
            "postfix",
            "postfix/smtpd",
            "postfix/submission/smtpd",
            "postfix-out/a/b/smtp",
            long.as_str(),
        ] {
            let l = format!("Nov 30 02:05:17 mx1 {tag}[7]: 4jd6tb11x2z5c2G: to=<a@b>");
            let (e, _) = event(l.as_bytes());
            let (i, s, d) = split_tag(tag.as_bytes()).unwrap();
            assert_eq!(
                (e.instance(), e.service(), e.daemon_name()),
                (i, s, d),
                "{tag}"
            );
            assert_eq!(e.tag(), tag);
        }
        assert_eq!(
            split_tag(b"postfix-mx/content-filter/smtp"),
            Some((&b"postfix-mx"[..], &b"content-filter"[..], &b"smtp"[..]))
        );
        assert_eq!(
            split_tag(b"postfix-239.58.50.50/qmgr"),
            Some((&b"postfix-239.58.50.50"[..], &b""[..], &b"qmgr"[..]))
        );
        assert_eq!(
            split_tag(b"postfix/smtp-25/smtpd"),
            Some((&b"postfix"[..], &b"smtp-25"[..], &b"smtpd"[..]))
        );
        assert_eq!(
            split_tag(b"postfix/postfix-script").unwrap().2,
            b"postfix-script"
        );
        for foreign in [
            &b"amavis"[..],
            b"dovecot",
            b"lightmeter/headers",
            b"postfixadmin/x",
            b"postfix-/smtp",
            b"postfix/SMTP",
            b"postfix//smtp",
            b"postfix-out//qmgr",
            b"postfix-a\tb/smtp",
            b"postfix/sub\tmission/smtpd",
        ] {
            assert_eq!(split_tag(foreign), None, "{:?}", foreign);
        }
    }

    #[test]
    fn noqueue_and_severity_around_the_queue_id() {
        let (e, _) = event(b"Nov  1 02:11:18 conch postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[0.0.0.0]: 450 4.7.25 Client host rejected");
        assert_eq!(e.queue(), QueueRef::NoQueue);
        assert!(e.text().starts_with(b"reject: RCPT"));
        let (e, _) = event(b"Nov  1 02:11:18 h postfix/cleanup[1]: warning: 9BECF3F19D: sender_canonical_maps map lookup problem");
        assert_eq!(e.severity, Severity::Warning);
        assert_eq!(e.queue().id().unwrap().as_str(), "9BECF3F19D");
        let (e, _) = event(b"Nov  1 02:11:18 h postfix/cleanup[1]: D8B07E3DB6: warning: header Subject: x from y[1.2.3.4]; from=<a@b> to=<c@d> proto=ESMTP helo=<e>");
        assert_eq!(e.severity, Severity::Warning);
        assert_eq!(e.queue().id().unwrap().as_str(), "D8B07E3DB6");
        assert!(e.text().starts_with(b"header Subject"));
        let (e, _) = event(b"Mar 15 06:25:12 mframe1 postfix/postfix-script[23423]: fatal: the Postfix mail system is already running");
        assert_eq!(e.severity, Severity::Fatal);
        assert_eq!(e.queue(), QueueRef::None);
        let (e, _) = event(b"Jan 14 16:30:24 mframe1 postfix[662]: fatal: usage: postfix [-c config_dir] [-Dv] command");
        assert_eq!(e.daemon, Daemon::Postfix);
        assert_eq!(e.tag(), "postfix");
    }

    #[test]
    fn rsyslog_repeats_expand() {
        let (e, n) = event(b"Nov 30 02:00:00 mx postfix/smtp[26192]: message repeated 2 times: [ C71221E1E6C: to=<admin@x.test>, relay=none, delay=0, delays=0/0/0/0, dsn=5.4.6, status=bounced (mail for x.test loops back to myself)]");
        assert_eq!(n, 2);
        assert_eq!(e.flags & flags::REPEATED, flags::REPEATED);
        assert_eq!(e.queue().id().unwrap().as_str(), "C71221E1E6C");
        assert_eq!(e.field(b"status"), Some(&b"bounced"[..]));
        match parse_line(b"Nov 30 02:00:00 mx last message repeated 3 times") {
            Line::LastRepeated { count, host, .. } => {
                assert_eq!((count, host), (3, &b"mx"[..]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn doubled_prefix_is_unwrapped() {
        let (e, _) = event(b"May 02 22:56:18 XXX docker[32360]: May  2 20:56:17 YYY postfix/smtp[17742]: 0123456789: to=<a@b.test>, status=sent (ok)");
        assert_eq!(e.flags & flags::UNWRAPPED, flags::UNWRAPPED);
        assert_eq!(e.pid(), Some(17742));
        assert_eq!(e.host(), b"YYY");
        assert_eq!(e.daemon, Daemon::Smtp);
        // The outer (host) time is kept.
        assert!(
            matches!(e.raw_time(), RawTime::Civil(c) if c.micros_of_day / 1_000_000 == 22 * 3600 + 56 * 60 + 18)
        );
    }

    #[test]
    fn solaris_id_token_is_stripped() {
        let (e, _) = event(
            b"Jan  5 10:11:12 mx postfix/smtpd[1234]: [ID 197553 mail.info] connect from a[1.2.3.4]",
        );
        assert_eq!(e.text(), b"connect from a[1.2.3.4]");
    }

    #[test]
    fn foreign_and_junk() {
        assert!(matches!(
            parse_line(b"Jun 29 03:10:03 RHL058 sendmail[3569]: s5T68YTv003569: from=<x>"),
            Line::Foreign { .. }
        ));
        assert!(matches!(parse_line(b"America/Boise]"), Line::NotSyslog));
    }
}
