//! Property tests of the line parser (`mailsleuth::parse`) and the line splitter
//! (`mailsleuth::lines`).
//!
//! - `parse_line` never panics, on arbitrary bytes, on syslog-flavoured token soup, and on
//!   mutations of real lines from `../shared/corpus/lab/throttle/` (required: the test fails
//!   if the corpus is missing);
//! - round trip: a line assembled from known parts gives every part back;
//! - `QueueId::parse` accepts exactly the strings FORMATS.md §3 allows, and long IDs decode
//!   to the time they were built from;
//! - `split_tag` agrees with the tag rule of FORMATS.md §2;
//! - `lines::chunks` + `lines::lines` cover any input exactly.
//!
//! Case counts are kept modest so the file runs in a few seconds in debug mode.

use std::sync::LazyLock;

use mailsleuth::lines;
use mailsleuth::parse::{
    self, flags, kv, parse_line, qid, Daemon, Line, QueueId, QueueRef, RawTime, Severity,
    TimeFormat,
};
use mailsleuth::time::{Civil, MICROS};
use proptest::prelude::*;
use proptest::sample::{select, Index};

// ---------------------------------------------------------------------------------------
// Touching everything a consumer can read
// ---------------------------------------------------------------------------------------

/// Parse a line and read every part of the result, checking invariants that hold whatever
/// the input.
fn parse_and_touch(line: &[u8]) {
    let parsed = parse_line(line);
    let _ = format!("{parsed:?}");
    match parsed {
        Line::Postfix { event: e, repeat } => {
            let _ = repeat;
            assert!(!e.host().is_empty());
            assert!(!e.host().contains(&b' '));
            assert!(e.instance().starts_with(b"postfix"));
            assert!(!e.daemon_name().is_empty());
            assert_eq!(Daemon::from_name(e.daemon_name()), e.daemon);
            let _ = (e.raw_time(), e.time(), e.format.name(), e.format.has_year());
            if let RawTime::Civil(c) = e.raw_time() {
                let _ = (c.ordinal_secs(), c.local_micros(2026));
            }
            let _ = (
                e.pid(),
                e.severity,
                e.flags,
                e.loc,
                e.daemon.is_delivery_agent(),
            );
            let _ = e.tag();
            if let Some(q) = e.queue().id() {
                assert_eq!(QueueId::parse(q.as_bytes()), Some(q));
                let _ = (q.as_str(), q.is_long(), q.long_arrival(), q.to_string());
            }
            // The scanner terminates and yields well-formed keys.
            let mut n = 0;
            for (k, v) in e.fields() {
                n += 1;
                assert!(n <= e.text().len(), "fields() does not terminate");
                assert!(!k.is_empty() && k[0].is_ascii_lowercase());
                let _ = kv::unbracket(v);
                assert!(e.field(k).is_some());
            }
            let _ = e.field(b"status");
            let _ = kv::status_reason(e.text());
        }
        Line::Foreign { time, format, host } => {
            let _ = (time, format.name());
            assert!(!host.is_empty());
        }
        Line::LastRepeated {
            time,
            format,
            host,
            count,
        } => {
            let _ = (time, format, host, count);
        }
        Line::NotSyslog => {}
    }
}

/// Pieces of syslog and Postfix syntax, so that random input reaches the deep branches.
const TOKENS: &[&[u8]] = &[
    b"Nov 30 01:51:37 ",
    b"Nov  1 02:11:18 ",
    b"Jan 5 10:11:12 ",
    b"Sep 08 17:20:30.655028 ",
    b"2026-11-30T01:51:15.768284+00:00 ",
    b"2015-12-14T00:06:14+0000 ",
    b"2026-11-30T01:51:15Z ",
    b"2026-02-31T25:61:61.1234567891-2400 ",
    b"mx1 ",
    b"postfix",
    b"postfix-out",
    b"/smtpd",
    b"/smtp",
    b"/",
    b"[17120]",
    b"[",
    b"]",
    b"[]",
    b": ",
    b":",
    b" ",
    b"B6CC5B6472: ",
    b"4HnkK60lBRz6tl1: ",
    b"NOQUEUE: ",
    b"warning: ",
    b"fatal: ",
    b"message repeated 3 times: [ ",
    b"message repeated 4294967296 times: [ ",
    b"last message repeated 2 times",
    b"--- last message repeated 9 times ---",
    b"[ID 197553 mail.info] ",
    b"[ID ",
    b"docker[32360]: ",
    b"to=<a@b.test>, ",
    b"relay=127.0.0.1[127.0.0.1]:2526, ",
    b"status=deferred (host said: 451 (in reply to RCPT TO command))",
    b"status=",
    b"from=<",
    b">",
    b"<",
    b"=",
    b",",
    b"(",
    b")",
    b"z",
    b"\r",
    b"\xff",
    b"\0",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => select(TOKENS).prop_map(|t| t.to_vec()),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

// ---------------------------------------------------------------------------------------
// Real lines and their mutations
// ---------------------------------------------------------------------------------------

static LAB_LINES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for f in [
        "../shared/corpus/lab/throttle/mail.log",
        "../shared/corpus/lab/throttle/mail-rfc3339.log",
    ] {
        let data = std::fs::read(f)
            .unwrap_or_else(|e| panic!("{f}: {e} (this test needs ../shared beside the crate)"));
        out.extend(lines::lines(&data).map(<[u8]>::to_vec));
    }
    assert!(out.len() > 100, "the lab throttle logs look truncated");
    out
});

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Duplicate(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1usize..12).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<Index>(),
            prop_oneof![
                select(TOKENS).prop_map(|t| t.to_vec()),
                prop::collection::vec(any::<u8>(), 1..6),
            ]
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn apply(line: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match m {
        Mutation::FlipBit(i, b) if !line.is_empty() => {
            let p = at(i, line.len());
            line[p] ^= 1 << b;
        }
        Mutation::SetByte(i, v) if !line.is_empty() => {
            let p = at(i, line.len());
            line[p] = *v;
        }
        Mutation::Truncate(i) => line.truncate(at(i, line.len() + 1)),
        Mutation::Delete(i, n) if !line.is_empty() => {
            let p = at(i, line.len());
            let end = (p + n).min(line.len());
            line.drain(p..end);
        }
        Mutation::Insert(i, bytes) => {
            let p = at(i, line.len() + 1);
            line.splice(p..p, bytes.iter().copied());
        }
        Mutation::Duplicate(i, n) if !line.is_empty() => {
            let p = at(i, line.len());
            let end = (p + n).min(line.len());
            let copy = line[p..end].to_vec();
            line.splice(end..end, copy);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_bytes(line in prop::collection::vec(any::<u8>(), 0..300)) {
        parse_and_touch(&line);
    }

    #[test]
    fn never_panics_on_token_soup(line in token_soup()) {
        parse_and_touch(&line);
    }

    #[test]
    fn never_panics_on_mutated_lab_lines(
        pick in any::<Index>(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut line = LAB_LINES[pick.index(LAB_LINES.len())].clone();
        for m in &muts {
            apply(&mut line, m);
        }
        parse_and_touch(&line);
    }
}

/// The unmutated lab lines are all Postfix lines (so the mutations start from deep paths).
#[test]
fn lab_lines_parse_as_postfix() {
    for l in LAB_LINES.iter() {
        assert!(
            matches!(parse_line(l), Line::Postfix { .. }),
            "{}",
            String::from_utf8_lossy(l)
        );
        parse_and_touch(l);
    }
}

// ---------------------------------------------------------------------------------------
// Round trip: parts → line → parts
// ---------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A timestamp as written, with what it must parse to.
#[derive(Clone, Debug)]
struct Time {
    text: String,
    raw: RawTime,
    format: TimeFormat,
}

/// `.f` to `.fffffffff`, and the microseconds it stands for (digits past the sixth dropped).
fn fraction() -> impl Strategy<Value = Option<(String, i64)>> {
    prop::option::of("[0-9]{1,9}".prop_map(|d| {
        let padded = format!("{d:0<9}");
        let nanos: i64 = padded.parse().unwrap();
        (format!(".{d}"), nanos / 1000)
    }))
}

fn traditional_time() -> impl Strategy<Value = Time> {
    (
        1u8..=12,
        1u8..=31,
        0i64..24,
        0i64..60,
        0i64..60,
        fraction(),
        0u8..3,
    )
        .prop_map(|(month, day, h, m, s, frac, pad)| {
            let day_text = match (day < 10, pad) {
                (false, _) => format!("{day}"),
                (true, 0) => format!(" {day}"), // syslog: space-padded
                (true, 1) => format!("{day:02}"), // postlogd, journalctl: zero-padded
                (true, _) => format!("{day}"),  // bare
            };
            let (ftext, fmicros) = frac.clone().unwrap_or_default();
            Time {
                text: format!(
                    "{} {day_text} {h:02}:{m:02}:{s:02}{ftext}",
                    MONTHS[month as usize - 1]
                ),
                raw: RawTime::Civil(Civil {
                    month,
                    day,
                    micros_of_day: (h * 3600 + m * 60 + s) * MICROS + fmicros,
                }),
                format: if frac.is_some() {
                    TimeFormat::TraditionalPrecise
                } else {
                    TimeFormat::Traditional
                },
            }
        })
}

fn rfc3339_time() -> impl Strategy<Value = Time> {
    (
        (1970i16..2100, 1i8..=12, 1i8..=31),
        (0i8..24, 0i8..60, 0i8..60),
        fraction(),
        (0u8..3, any::<bool>(), 0i32..24, 0i32..60),
    )
        .prop_filter_map(
            "no such date",
            |((y, mo, d), (h, mi, s), frac, (form, neg, oh, om))| {
                let date = jiff::civil::Date::new(y, mo, d).ok()?;
                let (offset_text, offset_secs, format) = match form {
                    0 => ("Z".to_string(), 0, TimeFormat::Rfc3339),
                    1 => (
                        format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' }),
                        (oh * 3600 + om * 60) * if neg { -1 } else { 1 },
                        TimeFormat::Rfc3339,
                    ),
                    _ => (
                        format!("{}{oh:02}{om:02}", if neg { '-' } else { '+' }),
                        (oh * 3600 + om * 60) * if neg { -1 } else { 1 },
                        TimeFormat::Iso8601,
                    ),
                };
                // The instant, computed by jiff rather than by the crate's own arithmetic.
                let dt = date.at(h, mi, s, 0);
                let off = jiff::tz::Offset::from_seconds(offset_secs).ok()?;
                let secs = off.to_timestamp(dt).ok()?.as_second();
                let (ftext, fmicros) = frac.unwrap_or_default();
                Some(Time {
                    text: format!(
                        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{ftext}{offset_text}"
                    ),
                    raw: RawTime::Absolute(mailsleuth::time::Stamp {
                        micros: secs * MICROS + fmicros,
                        offset_secs,
                    }),
                    format,
                })
            },
        )
}

/// Postfix's long queue ID: seconds in base 52 (at least 6 digits), microseconds in base 52
/// (4 digits), `z`, inode in base 51 (FORMATS.md §3, Postfix `mail_queue.h`).
const B52: &[u8; 52] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

fn base(mut v: u64, radix: u64, min_width: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while v > 0 || out.len() < min_width {
        out.push(B52[(v % radix) as usize]);
        v /= radix;
    }
    out.reverse();
    out
}

fn long_id(secs: u64, usec: u64, inode: u64) -> String {
    let mut id = base(secs, 52, 6);
    id.extend(base(usec, 52, 4));
    id.push(b'z');
    id.extend(base(inode, 51, 1));
    String::from_utf8(id).unwrap()
}

fn long_id_parts() -> impl Strategy<Value = (u64, u64, u64)> {
    (
        prop_oneof![0u64..52u64.pow(6), 1_000_000_000u64..2_000_000_000],
        0u64..1_000_000,
        prop_oneof![0u64..100_000_000, any::<u64>()],
    )
}

#[derive(Clone, Debug)]
enum GenQueue {
    None,
    NoQueue,
    Id(String),
}

fn gen_queue() -> impl Strategy<Value = GenQueue> {
    prop_oneof![
        1 => Just(GenQueue::None),
        1 => Just(GenQueue::NoQueue),
        3 => "[0-9A-F]{6,21}".prop_map(GenQueue::Id),
        2 => long_id_parts().prop_map(|(s, u, i)| GenQueue::Id(long_id(s, u, i))),
    ]
}

/// One `key=value` field and the separator before the next.
#[derive(Clone, Debug)]
struct Field {
    key: String,
    value: String,
    sep: &'static str,
}

fn field() -> impl Strategy<Value = Field> {
    (
        "[a-z][a-z0-9_-]{0,9}",
        prop_oneof![
            // A plain value: no space, comma or angle bracket.
            4 => "[A-Za-z0-9.:/@+_\\[\\]-]{1,16}",
            // An address in angle brackets: anything but `>`, commas and spaces included.
            2 => "<[A-Za-z0-9 ,;=().:@\"+_-]{0,20}>",
            1 => Just(String::new()),
        ],
        select(&[", ", " "][..]),
    )
        .prop_map(|(key, value, sep)| Field { key, value, sep })
}

#[derive(Clone, Debug)]
struct Message {
    /// Free text before the fields, without colons or `=` (`reject: RCPT from …`-like),
    /// possibly with parenthesised asides (`(reason unavailable),`), which do not end the scan.
    lead: Vec<String>,
    fields: Vec<Field>,
    /// `status=S (reason)` at the end: the reason after a status is never scanned.
    status: Option<(String, String)>,
}

impl Message {
    fn text(&self) -> String {
        let mut s = self.lead.join(" ");
        for f in &self.fields {
            if !s.is_empty() && !s.ends_with(' ') {
                s.push(' ');
            }
            s.push_str(&f.key);
            s.push('=');
            s.push_str(&f.value);
            s.push_str(f.sep);
        }
        let mut s = s.trim_end_matches([',', ' ']).to_string();
        if let Some((status, reason)) = &self.status {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str("status=");
            s.push_str(status);
            s.push_str(" (");
            s.push_str(reason);
            s.push(')');
        }
        s
    }

    /// The fields a scanner must find, in order.
    fn all_fields(&self) -> Vec<(&[u8], &[u8])> {
        let mut v: Vec<(&[u8], &[u8])> = self
            .fields
            .iter()
            .map(|f| (f.key.as_bytes(), f.value.as_bytes()))
            .collect();
        if let Some((status, _)) = &self.status {
            v.push((b"status", status.as_bytes()));
        }
        v
    }
}

fn message() -> impl Strategy<Value = Message> {
    (
        prop::collection::vec(
            prop_oneof![
                3 => "[a-z0-9.\\[\\]]{1,10}",
                1 => "\\([a-z0-9 .:]{0,20}\\),?",
            ],
            0..4,
        ),
        prop::collection::vec(field(), 0..7),
        prop::option::of(("[a-z][a-z-]{0,11}", "[a-z0-9 ,;:=()<>.]{0,30}")),
    )
        .prop_map(|(lead, fields, status)| Message {
            lead,
            fields,
            status,
        })
}

const DAEMONS: &[&str] = &[
    "smtpd",
    "smtp",
    "qmgr",
    "cleanup",
    "pickup",
    "local",
    "bounce",
    "postscreen",
    "trivial-rewrite",
    "postfix-script",
    "error",
    "lmtp",
    "virtual",
    "pipe",
    "anvil",
];

#[derive(Clone, Debug)]
struct Tag {
    instance: String,
    service: Vec<String>,
    daemon: String,
    /// Bare `postfix` (the `postfix` command): no instance/daemon split.
    bare: bool,
}

impl Tag {
    fn text(&self) -> String {
        if self.bare {
            return "postfix".into();
        }
        let mut s = self.instance.clone();
        for p in &self.service {
            s.push('/');
            s.push_str(p);
        }
        s.push('/');
        s.push_str(&self.daemon);
        s
    }
}

fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        1 => Just(Tag {
            instance: "postfix".into(),
            service: vec![],
            daemon: "postfix".into(),
            bare: true,
        }),
        9 => (
            prop_oneof![
                3 => Just("postfix".to_string()),
                1 => "postfix-[a-z0-9.]{1,12}",
            ],
            prop::collection::vec("[a-z0-9][a-z0-9.-]{0,12}", 0..3),
            prop_oneof![
                2 => select(DAEMONS).prop_map(str::to_string),
                1 => "[a-z][a-z-]{0,12}",
            ],
        )
            .prop_map(|(instance, service, daemon)| Tag {
                instance,
                service,
                daemon,
                bare: false,
            }),
    ]
}

#[derive(Clone, Debug)]
struct Parts {
    time: Time,
    host: String,
    tag: Tag,
    pid: Option<u32>,
    /// Severity and whether it is written after the queue ID (`QID: warning: …`).
    severity: Option<(&'static str, Severity, bool)>,
    queue: GenQueue,
    message: Message,
    /// rsyslog's `message repeated N times: [ … ]`.
    repeated: Option<u32>,
    /// Solaris `[ID n facility.level] `.
    solaris: Option<u32>,
    /// A container's line inside the host's: (outer time, outer host, outer pid).
    wrapped: Option<(Time, String, u32)>,
}

fn host() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,20}"
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        (
            prop_oneof![traditional_time(), rfc3339_time()],
            host(),
            tag(),
            prop::option::of(1u32..=999_999_999),
        ),
        (
            prop::option::of((
                select(
                    &[
                        ("warning", Severity::Warning),
                        ("error", Severity::Error),
                        ("fatal", Severity::Fatal),
                        ("panic", Severity::Panic),
                    ][..],
                ),
                any::<bool>(),
            ))
            .prop_map(|o| o.map(|((w, s), after)| (w, s, after))),
            gen_queue(),
            message(),
        ),
        (
            prop::option::weighted(0.15, 1u32..1000),
            prop::option::weighted(0.1, 1u32..999_999),
            prop::option::weighted(
                0.1,
                (
                    prop_oneof![traditional_time(), rfc3339_time()],
                    host(),
                    1u32..100_000,
                ),
            ),
        ),
    )
        .prop_map(
            |((time, host, tag, pid), (severity, queue, message), (repeated, solaris, wrapped))| {
                Parts {
                    time,
                    host,
                    tag,
                    pid,
                    severity,
                    queue,
                    message,
                    repeated,
                    solaris,
                    wrapped,
                }
            },
        )
}

impl Parts {
    fn line(&self) -> String {
        let has_queue = !matches!(self.queue, GenQueue::None);
        // Without a queue ID there is only one place for the severity.
        let (before, after) = match self.severity {
            None => (None, None),
            Some((w, _, true)) if has_queue => (None, Some(w)),
            Some((w, _, _)) => (Some(w), None),
        };
        let mut msg = String::new();
        if let Some(w) = before {
            msg.push_str(w);
            msg.push_str(": ");
        }
        match &self.queue {
            GenQueue::None => {}
            GenQueue::NoQueue => msg.push_str("NOQUEUE: "),
            GenQueue::Id(q) => {
                msg.push_str(q);
                msg.push_str(": ");
            }
        }
        if let Some(w) = after {
            msg.push_str(w);
            msg.push_str(": ");
        }
        msg.push_str(&self.message.text());
        if let Some(n) = self.repeated {
            msg = format!("message repeated {n} times: [ {msg}]");
        }
        if let Some(id) = self.solaris {
            msg = format!("[ID {id} mail.info] {msg}");
        }
        let pid = self.pid.map(|p| format!("[{p}]")).unwrap_or_default();
        let inner = format!(
            "{} {} {}{pid}: {msg}",
            self.time.text,
            self.host,
            self.tag.text()
        );
        match &self.wrapped {
            None => inner,
            Some((t, h, p)) => format!("{} {h} docker[{p}]: {inner}", t.text),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip(p in parts()) {
        let line = p.line();
        let Line::Postfix { event: e, repeat } = parse_line(line.as_bytes()) else {
            panic!("not parsed as Postfix: {line}");
        };
        // Time: the outer one when a container's line is unwrapped.
        let time = p.wrapped.as_ref().map_or(&p.time, |w| &w.0);
        prop_assert_eq!(e.raw_time(), time.raw, "time of {}", line);
        prop_assert_eq!(e.format, time.format);
        if let RawTime::Absolute(s) = time.raw {
            prop_assert_eq!(e.time(), s);
        }
        prop_assert_eq!(e.flags & flags::UNWRAPPED != 0, p.wrapped.is_some());
        prop_assert_eq!(e.host(), p.host.as_bytes());
        prop_assert_eq!(e.pid(), p.pid);
        // Tag.
        prop_assert_eq!(e.instance(), p.tag.instance.as_bytes());
        let service = p.tag.service.join("/");
        prop_assert_eq!(e.service(), service.as_bytes());
        prop_assert_eq!(e.daemon_name(), p.tag.daemon.as_bytes());
        prop_assert_eq!(e.daemon, Daemon::from_name(p.tag.daemon.as_bytes()));
        if !(p.tag.daemon == "postfix" && p.tag.instance == "postfix" && p.tag.service.is_empty()) {
            // `postfix/postfix` and bare `postfix` are the same event; tag() shows `postfix`.
            prop_assert_eq!(e.tag(), p.tag.text());
        }
        // Repeats.
        prop_assert_eq!(repeat, p.repeated.unwrap_or(1));
        prop_assert_eq!(e.flags & flags::REPEATED != 0, p.repeated.is_some());
        // Severity and queue.
        prop_assert_eq!(e.severity, p.severity.map_or(Severity::Info, |s| s.1));
        match &p.queue {
            GenQueue::None => prop_assert_eq!(e.queue(), QueueRef::None),
            GenQueue::NoQueue => prop_assert_eq!(e.queue(), QueueRef::NoQueue),
            GenQueue::Id(q) => {
                prop_assert_eq!(e.queue().id().map(|q| q.to_string()), Some(q.clone()))
            }
        }
        // Text and fields.
        let text = p.message.text();
        prop_assert_eq!(e.text(), text.as_bytes());
        let want = p.message.all_fields();
        let got: Vec<(&[u8], &[u8])> = e.fields().collect();
        prop_assert_eq!(&got, &want, "fields of {}", text);
        for (k, _) in &want {
            let first = want.iter().find(|(g, _)| g == k).unwrap().1;
            prop_assert_eq!(kv::get(e.text(), k), Some(first));
            prop_assert_eq!(e.field(k), Some(first));
        }
        // `status_reason` looks for the first `status=`: check it where there is one only.
        if let (Some((_, reason)), 1) = (&p.message.status, text.matches("status=").count()) {
            prop_assert_eq!(kv::status_reason(e.text()), Some(reason.as_bytes()), "{}", text);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Queue IDs
// ---------------------------------------------------------------------------------------

/// FORMATS.md §3, written from the text: short `[0-9A-F]{6,}`; long: the 52-symbol
/// alphabet (digits and consonants), split at the last `z` into a time part of at least 10
/// symbols (≥ 6 of seconds, 4 of microseconds) and a non-empty inode part; both at most
/// `qid::MAX_LEN` long (the inline capacity; 21 is the longest short ID seen, 23 the longest
/// long ID a 64-bit inode gives).
fn queue_id_rule(s: &[u8]) -> bool {
    if s.len() > qid::MAX_LEN {
        return false;
    }
    let hex = |c: &u8| c.is_ascii_digit() || (b'A'..=b'F').contains(c);
    if s.len() >= 6 && s.iter().all(hex) {
        return true;
    }
    let long_char = |c: &u8| c.is_ascii_alphanumeric() && !b"AEIOUaeiou".contains(c);
    if !s.iter().all(long_char) {
        return false;
    }
    match s.iter().rposition(|&c| c == b'z') {
        Some(z) => z >= 10 && z + 1 < s.len(),
        None => false,
    }
}

const QID_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzzzz :-_.";

fn queue_id_candidate() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Anything from a mixed alphabet.
        2 => prop::collection::vec(select(QID_CHARS), 0..30),
        // Valid short IDs, and their neighbours in length.
        2 => "[0-9A-F]{4,26}".prop_map(String::into_bytes),
        // The long alphabet with a z somewhere.
        2 => "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{4,14}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{0,12}"
            .prop_map(String::into_bytes),
        // Real long IDs, then possibly damaged.
        3 => (long_id_parts(), prop::option::of((any::<Index>(), select(QID_CHARS))))
            .prop_map(|((s, u, i), damage)| {
                let mut id = long_id(s, u, i).into_bytes();
                if let Some((at, c)) = damage {
                    let p = at.index(id.len());
                    id[p] = c;
                }
                id
            }),
        1 => any::<Vec<u8>>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn queue_id_parse_accepts_exactly_the_rule(s in queue_id_candidate()) {
        let got = QueueId::parse(&s);
        prop_assert_eq!(got.is_some(), queue_id_rule(&s), "{:?}", String::from_utf8_lossy(&s));
        if let Some(q) = got {
            prop_assert_eq!(q.as_bytes(), &s[..]);
            let all_hex = s.iter().all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
            prop_assert_eq!(q.is_long(), !all_hex);
            if !q.is_long() {
                prop_assert_eq!(q.long_arrival(), None);
            }
            // As the queue reference of a message.
            let msg = [&s[..], b": removed"].concat();
            let (r, rest) = parse::strip_queue(&msg);
            prop_assert_eq!(r, QueueRef::Id(q));
            prop_assert_eq!(rest, b"removed");
        }
    }

    #[test]
    fn long_ids_decode_to_their_arrival((secs, usec, inode) in long_id_parts()) {
        let id = long_id(secs, usec, inode);
        let q = QueueId::parse(id.as_bytes());
        prop_assert!(q.is_some(), "{} rejected", id);
        let q = q.unwrap();
        prop_assert!(q.is_long());
        prop_assert_eq!(q.long_arrival(), Some((secs as i64, usec as u32)), "{}", id);
    }
}

// ---------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------

/// FORMATS.md §2: `^postfix(-[^/\s\[]+)?(/[^/\s\[]+)*/[a-z-]+$`, or bare `postfix`, except
/// that the parser also accepts digits in the daemon name (`[a-z0-9-]+`).
static TAG_RULE: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
    regex::bytes::Regex::new(r"(?-u)^(?:postfix(?:-[^/\s\[]+)?(?:/[^/\s\[]+)*/[a-z0-9-]+|postfix)$")
        .unwrap()
});

const TAG_PIECES: &[&str] = &[
    "postfix", "postfix-", "out", "/", "//", "smtp", "smtpd", "-", "x", "2", ".", "SMTP", "Q",
    "amavis", "[", "]", " ", "\t", "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn split_tag_follows_the_rule(parts in prop::collection::vec(select(TAG_PIECES), 0..7)) {
        let tag = parts.concat();
        let t = tag.as_bytes();
        let got = parse::split_tag(t);
        prop_assert_eq!(got.is_some(), TAG_RULE.is_match(t), "{:?}", tag);
        if let Some((instance, service, daemon)) = got {
            if t != b"postfix" {
                let rebuilt = if service.is_empty() {
                    [instance, b"/", daemon].concat()
                } else {
                    [instance, b"/", service, b"/", daemon].concat()
                };
                prop_assert_eq!(rebuilt, t.to_vec());
                prop_assert!(!instance.contains(&b'/') && !daemon.contains(&b'/'));
            }
        }
    }
}

#[test]
fn split_tag_rejects_empty_path_elements() {
    for t in [
        &b"postfix//smtp"[..],
        b"postfix-out//smtp",
        b"postfix/a//smtp",
        b"postfix/",
    ] {
        assert_eq!(
            parse::split_tag(t),
            None,
            "{:?}",
            String::from_utf8_lossy(t)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Chunks and lines
// ---------------------------------------------------------------------------------------

/// The line model: split at `\n`, no line after a final `\n`, one `\r` before it dropped.
fn model_lines(data: &[u8]) -> Vec<&[u8]> {
    if data.is_empty() {
        return Vec::new();
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect()
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(select(&b"ab\n\r\n"[..]), 0..200),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chunks_and_lines_cover_the_input(data in data(), target in 0usize..64) {
        let cs = lines::chunks(&data, target);
        let t = target.max(1);
        let mut at = 0;
        for (i, r) in cs.iter().enumerate() {
            prop_assert_eq!(r.start, at, "chunks are contiguous");
            prop_assert!(r.end > r.start, "no empty chunk");
            let last = i + 1 == cs.len();
            if !last {
                prop_assert_eq!(data[r.end - 1], b'\n', "a chunk ends after a newline");
                prop_assert!(r.end > r.start + t, "a chunk is longer than the target");
            }
            // It ends at the first newline at or after the target.
            let from = (r.start + t).min(r.end - 1);
            prop_assert!(!data[from..r.end - 1].contains(&b'\n'));
            at = r.end;
        }
        prop_assert_eq!(at, data.len(), "chunks reach the end");
        let whole: Vec<&[u8]> = lines::lines(&data).collect();
        prop_assert_eq!(&whole, &model_lines(&data));
        let joined: Vec<&[u8]> = cs.iter().flat_map(|r| lines::lines(&data[r.clone()])).collect();
        prop_assert_eq!(&joined, &whole);
    }
}

// ---------------------------------------------------------------------------------------
// Events parsed again from their origins
// ---------------------------------------------------------------------------------------

/// A line of a generated log: a lab line (perhaps mutated), a `last message repeated` line,
/// a blank line or one that is not syslog.
fn log_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => (any::<Index>(), prop::collection::vec(mutation(), 0..2)).prop_map(|(pick, muts)| {
            let mut line = LAB_LINES[pick.index(LAB_LINES.len())].clone();
            for m in &muts {
                apply(&mut line, m);
            }
            line
        }),
        2 => (any::<Index>(), 1u32..5).prop_map(|(pick, n)| {
            // The repeat names the host and stamp of a lab line, as syslog writes it.
            let l = &LAB_LINES[pick.index(LAB_LINES.len())];
            let head: Vec<&[u8]> = l.splitn(5, |&c| c == b' ').take(4).collect();
            let mut out = head.join(&b' ');
            out.extend_from_slice(format!(" last message repeated {n} times").as_bytes());
            out
        }),
        1 => Just(Vec::new()),
        1 => token_soup(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the lines, every event a log gives is found again, the same, by parsing the
    /// lines from the mark before it (`Origins::events`), as a report cites them.
    #[test]
    fn every_event_of_any_log_parses_again(lines in prop::collection::vec(log_line(), 1..400)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("mail.log");
        let mut data = lines.join(&b'\n');
        data.push(b'\n');
        std::fs::write(&f, &data).expect("write");
        let opts = mailsleuth::ingest::Options {
            zone: mailsleuth::time::Zone::utc(),
            year: Some(2026),
            ..Default::default()
        };
        let (paths, _) = mailsleuth::input::discover::discover(&[f]);
        let loaded = mailsleuth::ingest::load(&paths, &opts);
        let parsed = mailsleuth::ingest::parse(&loaded, &opts);
        let all: Vec<u32> = (0..parsed.events.len() as u32).collect();
        let again = parsed.origins.events(&all);
        prop_assert_eq!(again.len(), parsed.events.len());
        for (i, e) in parsed.events.iter().enumerate() {
            prop_assert_eq!(format!("{:?}", again[&(i as u32)]), format!("{e:?}"), "event {}", i);
        }
    }
}
