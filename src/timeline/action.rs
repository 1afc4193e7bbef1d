//! What a Postfix event means for a message's life: the message text of an [`Event`] read
//! into an [`Action`] (FORMATS.md §4). Borrowed, no allocation.

use crate::parse::find;
use crate::parse::kv::{self, unbracket};
use crate::parse::{Daemon, Event, QueueId, Severity};

/// The `status=` of a delivery attempt (FORMATS.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Sent,
    Deferred,
    Bounced,
    /// `SOFTBOUNCE` (soft_bounce = yes): kept in the queue like a deferral.
    SoftBounce,
    Deliverable,
    Undeliverable,
    Other,
}

impl Status {
    fn parse(b: &[u8]) -> Status {
        match b {
            b"sent" => Status::Sent,
            b"deferred" => Status::Deferred,
            b"bounced" => Status::Bounced,
            b"SOFTBOUNCE" => Status::SoftBounce,
            b"deliverable" => Status::Deliverable,
            b"undeliverable" | b"undeliverable-but-not-cached" => Status::Undeliverable,
            _ => Status::Other,
        }
    }

    /// Address-verification probes are not mail.
    pub fn is_probe(self) -> bool {
        matches!(self, Status::Deliverable | Status::Undeliverable)
    }
}

/// Which notification the bounce daemon created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notice {
    NonDelivery,
    Delay,
    DeliveryStatus,
}

/// One delivery attempt for one recipient.
#[derive(Clone, Copy, Debug)]
pub struct Delivery<'a> {
    pub to: &'a [u8],
    pub orig_to: Option<&'a [u8]>,
    pub relay: &'a [u8],
    pub delay: Option<f64>,
    /// `delays=a/b/c/d`: before qmgr, in qmgr, connection setup, transmission.
    pub delays: Option<[f64; 4]>,
    pub dsn: Option<&'a [u8]>,
    pub status: Status,
    /// The text in parentheses after the status.
    pub reason: &'a [u8],
}

impl<'a> Delivery<'a> {
    /// The queue ID of the next hop when the reply says `queued as NEWQID` (the last one).
    pub fn queued_as(&self) -> Option<QueueId> {
        let at = find::QUEUED_AS_REV.rfind(self.reason)?;
        let rest = &self.reason[at + 10..];
        let end = rest
            .iter()
            .position(|&c| c == b' ' || c == b')' || c == b',' || c == b';')
            .unwrap_or(rest.len());
        QueueId::parse(&rest[..end])
    }

    /// `status=sent (forwarded as NEWQID)` from local alias/.forward expansion.
    pub fn forwarded_as(&self) -> Option<QueueId> {
        let rest = self.reason.strip_prefix(b"forwarded as ")?;
        let end = rest
            .iter()
            .position(|&c| c == b' ' || c == b')')
            .unwrap_or(rest.len());
        QueueId::parse(&rest[..end])
    }
}

/// A reject (or hold, discard …) by smtpd, postscreen or cleanup.
#[derive(Clone, Copy, Debug)]
pub struct Reject<'a> {
    /// `reject`, `reject_warning`, `milter-reject`, `hold`, `discard`, `warning` (cleanup) …
    pub action: &'a [u8],
    /// `RCPT`, `DATA`, `CONNECT`, `header`, `body`, `END-OF-MESSAGE` …
    pub stage: &'a [u8],
    /// `host[addr]` (smtpd), `[addr]:port` (postscreen), or `local`.
    pub client: &'a [u8],
    /// From the reply code on: `554 5.7.1 <a@b>: Relay access denied`.
    pub text: &'a [u8],
    pub from: Option<&'a [u8]>,
    pub to: Option<&'a [u8]>,
}

/// What an event says.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// smtpd `QID: client=host[addr][, sasl_username=…][, orig_queue_id=…]`.
    Client {
        client: &'a [u8],
        sasl_username: Option<&'a [u8]>,
        orig_queue_id: Option<QueueId>,
    },
    /// pickup `QID: uid=N from=<s>[ orig_id=OLD]` (local submission, or a requeue).
    Pickup {
        uid: Option<&'a [u8]>,
        from: Option<&'a [u8]>,
        orig_id: Option<QueueId>,
    },
    /// cleanup `QID: message-id=<…>`.
    MessageId(&'a [u8]),
    /// qmgr `QID: from=<s>, size=N, nrcpt=N (queue active)`.
    Queued {
        from: &'a [u8],
        size: Option<u64>,
        nrcpt: Option<u32>,
    },
    /// qmgr `QID: removed` (delivery finished).
    Removed,
    /// qmgr `QID: from=<s>, status=expired|force-expired, returned to sender`.
    Expired {
        forced: bool,
    },
    Delivery(Delivery<'a>),
    /// bounce `QID: sender non-delivery notification: NEWQID`.
    Notification {
        kind: Notice,
        child: QueueId,
    },
    /// postsuper `QID: removed` (an operator deleted it).
    AdminRemoved,
    AdminHold,
    AdminRelease,
    AdminRequeue,
    /// postsuper summary `Deleted: N messages` (and its siblings).
    AdminSummary {
        verb: &'a [u8],
        count: u64,
    },
    Reject(Reject<'a>),
    /// smtpd `connect from host[addr]`, postscreen `CONNECT from [addr]:port`.
    Connect {
        client: &'a [u8],
    },
    Disconnect {
        client: &'a [u8],
    },
    /// `… TLS connection established from|to …: TLSv1.3 with cipher …`.
    Tls {
        peer: &'a [u8],
        detail: &'a [u8],
    },
    /// anything else (warnings, statistics, …).
    Other,
}

fn field<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    kv::get(text, key)
}

fn number<T: std::str::FromStr>(b: Option<&[u8]>) -> Option<T> {
    std::str::from_utf8(b?).ok()?.parse().ok()
}

/// A `delay=` figure such as `37`, `0.18` or `1.2e-05`.
///
/// Five of them are on every delivery line. Plain decimals of at most 15 digits (all that
/// Postfix writes) are read directly: the digits are an integer below 2^53 and the power of
/// ten is exact, so one correctly rounded division gives the same double as the standard
/// parser, which reads everything else (a unit test compares the two).
fn seconds(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let mut digits = 0usize;
    let mut mantissa = 0u64;
    let mut fraction = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' if digits < 15 => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
            }
            b'.' if fraction.is_none() => fraction = Some(i + 1),
            _ => return number(Some(b)),
        }
    }
    if digits == 0 {
        return number(Some(b));
    }
    let places = fraction.map_or(0, |f| b.len() - f);
    Some(mantissa as f64 / POW10[places])
}

fn delays(b: &[u8]) -> Option<[f64; 4]> {
    let mut out = [0f64; 4];
    let mut it = b.split(|&c| c == b'/');
    for slot in &mut out {
        *slot = seconds(it.next()?)?;
    }
    Some(out)
}

/// Split a reject line: `reject: RCPT from host[addr]: 554 5.7.1 text; from=<s> to=<r> …`.
fn reject(text: &[u8]) -> Option<Reject<'_>> {
    let colon = find::COLON_SPACE.find(text)?;
    let action = &text[..colon];
    if action.is_empty()
        || !action
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c == b'-' || c == b'_')
    {
        return None;
    }
    reject_after(action, &text[colon + 2..])
}

/// The part of a reject line after `action: `.
fn reject_after<'a>(action: &'a [u8], rest: &'a [u8]) -> Option<Reject<'a>> {
    let sp = memchr::memchr(b' ', rest)?;
    let stage = &rest[..sp];
    let after = &rest[sp + 1..];
    // `from host[addr]: text` (smtpd/postscreen) or `<text> from host[addr]; …` (cleanup
    // header/body checks) — take the client after ` from ` up to `: ` or `;`.
    let (client, body) = if let Some(r) = after.strip_prefix(b"from ") {
        let end = find::COLON_SPACE.find(r).unwrap_or(r.len());
        (&r[..end], r.get(end + 2..).unwrap_or(&[]))
    } else {
        // cleanup: `header Subject: … from client[addr]; from=<…> …`
        let semi = memchr::memrchr(b';', after).unwrap_or(after.len());
        let head = &after[..semi];
        match find::FROM_REV.rfind(head) {
            Some(f) => (&head[f + 6..], &head[..f]),
            None => (&b""[..], head),
        }
    };
    let env_start = find::SEMI_FROM_REV.rfind(body).map(|p| p + 2);
    let (text_part, envelope) = match env_start {
        Some(p) => (&body[..p - 2], &body[p..]),
        None => (body, &b""[..]),
    };
    Some(Reject {
        action,
        stage,
        client,
        text: text_part,
        from: field(envelope, b"from").map(unbracket),
        to: field(envelope, b"to").map(unbracket),
    })
}

const REJECT_ACTIONS: &[&[u8]] = &[
    b"reject",
    b"reject_warning",
    b"milter-reject",
    b"milter-discard",
    b"milter-hold",
    b"hold",
    b"discard",
    b"filter",
    b"redirect",
    b"proxy-reject",
];

/// Read an event's meaning.
pub fn action<'a>(e: &Event<'a>) -> Action<'a> {
    let t = e.text();
    match e.daemon {
        Daemon::Smtpd | Daemon::Postscreen => {
            if e.queue().id().is_some() {
                if let Some(rest) = t.strip_prefix(b"client=") {
                    let end = rest
                        .windows(2)
                        .position(|w| w == b", ")
                        .unwrap_or(rest.len());
                    return Action::Client {
                        client: &rest[..end],
                        sasl_username: field(t, b"sasl_username"),
                        orig_queue_id: field(t, b"orig_queue_id").and_then(QueueId::parse),
                    };
                }
            }
            if let Some(r) = t.strip_prefix(b"connect from ") {
                return Action::Connect { client: r };
            }
            if let Some(r) = t.strip_prefix(b"CONNECT from ") {
                let end = memchr::memchr(b' ', r).unwrap_or(r.len());
                return Action::Connect { client: &r[..end] };
            }
            if let Some(r) = t.strip_prefix(b"disconnect from ") {
                let end = memchr::memchr(b' ', r).unwrap_or(r.len());
                return Action::Disconnect { client: &r[..end] };
            }
            if let Some(a) = reject_action(t) {
                return a;
            }
            tls(t)
        }
        Daemon::Cleanup => {
            if let Some(id) = t.strip_prefix(b"message-id=") {
                return Action::MessageId(id);
            }
            if e.severity == Severity::Warning
                && (t.starts_with(b"header ") || t.starts_with(b"body "))
                && find::SEMI_FROM.find(t).is_some()
            {
                // `QID: warning: header …`: a header/body_checks WARN action.
                return reject_after(b"warning", t).map_or(Action::Other, Action::Reject);
            }
            reject_action(t).unwrap_or(Action::Other)
        }
        Daemon::Pickup => {
            if t.starts_with(b"uid=") || t.starts_with(b"sender=") {
                return Action::Pickup {
                    uid: field(t, b"uid"),
                    from: field(t, b"from")
                        .or_else(|| field(t, b"sender"))
                        .map(unbracket),
                    orig_id: field(t, b"orig_id").and_then(QueueId::parse),
                };
            }
            Action::Other
        }
        Daemon::Qmgr => {
            if t == b"removed" {
                return Action::Removed;
            }
            if t.starts_with(b"from=") {
                // One pass: the first of each field counts, as `kv::get` would read it.
                let (mut from, mut size, mut nrcpt, mut status) = (None, None, None, None);
                for (k, v) in kv::fields(t) {
                    match k {
                        b"from" if from.is_none() => from = Some(v),
                        b"size" if size.is_none() => size = Some(v),
                        b"nrcpt" if nrcpt.is_none() => nrcpt = Some(v),
                        b"status" if status.is_none() => status = Some(v),
                        _ => {}
                    }
                }
                if let Some(st) = status {
                    if st == b"expired" || st == b"force-expired" {
                        return Action::Expired {
                            forced: st == b"force-expired",
                        };
                    }
                }
                return Action::Queued {
                    from: from.map(unbracket).unwrap_or_default(),
                    size: number(size),
                    nrcpt: number(nrcpt),
                };
            }
            delivery(t).unwrap_or(Action::Other)
        }
        Daemon::Bounce => {
            for (needle, kind) in [
                (&find::NON_DELIVERY, Notice::NonDelivery),
                (&find::DELAY_NOTICE, Notice::Delay),
                (&find::DSN_NOTICE, Notice::DeliveryStatus),
            ] {
                if let Some(p) = needle.find(t) {
                    if let Some(child) = QueueId::parse(&t[p + needle.needle().len()..]) {
                        return Action::Notification { kind, child };
                    }
                }
            }
            Action::Other
        }
        Daemon::Postsuper => match t {
            b"removed" => Action::AdminRemoved,
            b"placed on hold" => Action::AdminHold,
            b"released from hold" => Action::AdminRelease,
            b"requeued" => Action::AdminRequeue,
            _ => {
                // `Deleted: 115 messages`, `Requeued: 1 message`, `Placed on hold: 67 messages`.
                if let Some(c) = find::COLON_SPACE.find(t) {
                    let verb = &t[..c];
                    let rest = &t[c + 2..];
                    let n_end = rest
                        .iter()
                        .position(|c| !c.is_ascii_digit())
                        .unwrap_or(rest.len());
                    if n_end > 0 && rest[n_end..].starts_with(b" message") {
                        if let Some(count) = number(Some(&rest[..n_end])) {
                            return Action::AdminSummary { verb, count };
                        }
                    }
                }
                Action::Other
            }
        },
        d if d.is_delivery_agent() => delivery(t).unwrap_or_else(|| tls(t)),
        _ => Action::Other,
    }
}

fn reject_action(t: &[u8]) -> Option<Action<'_>> {
    let colon = find::COLON_SPACE.find(t)?;
    if !REJECT_ACTIONS.contains(&&t[..colon]) {
        return None;
    }
    reject(t).map(Action::Reject)
}

fn tls(t: &[u8]) -> Action<'_> {
    if let Some(p) = find::TLS_ESTABLISHED.find(t) {
        let rest = &t[p + 27..];
        let rest = rest
            .strip_prefix(b"from ")
            .or_else(|| rest.strip_prefix(b"to "))
            .unwrap_or(rest);
        let end = find::COLON_SPACE.find(rest).unwrap_or(rest.len());
        return Action::Tls {
            peer: &rest[..end],
            detail: rest.get(end + 2..).unwrap_or(&[]),
        };
    }
    Action::Other
}

fn delivery(t: &[u8]) -> Option<Action<'_>> {
    if !t.starts_with(b"to=") {
        return None;
    }
    let mut to = None;
    let mut orig_to = None;
    let mut relay = None;
    let mut delay = None;
    let mut dl = None;
    let mut dsn = None;
    let mut status = None;
    for (k, v) in kv::fields(t) {
        match k {
            b"to" => to = Some(unbracket(v)),
            b"orig_to" => orig_to = Some(unbracket(v)),
            b"relay" => relay = Some(v),
            b"delay" => delay = seconds(v),
            b"delays" => dl = delays(v),
            b"dsn" => dsn = Some(v),
            b"status" => {
                status = Some(Status::parse(v));
                break;
            }
            _ => {}
        }
    }
    Some(Action::Delivery(Delivery {
        to: to?,
        orig_to,
        relay: relay.unwrap_or_default(),
        delay,
        delays: dl,
        dsn,
        status: status?,
        reason: kv::status_reason(t).unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_line, Line};

    fn act(line: &[u8]) -> Action<'_> {
        match parse_line(line) {
            Line::Postfix { event, .. } => action(&event),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn seconds_match_the_standard_parser() {
        for s in [
            "0",
            "37",
            "0.18",
            "0.04",
            "1.2",
            "123456.789",
            "0.1",
            "0.30000",
            "9.999999999",
            "1e-05",
            "1.2e3",
            "12.",
            ".5",
            "",
            "abc",
            "1.2.3",
            "99999999999999999999",
            "123456789012345.6",
            "123456789012345",
            "1234567890123456",
            "12345678.9012345",
            "0.000000000000001",
            "0.0000000000000001",
            "00012.5000",
            ".",
            "-1",
            "+1.5",
            "1..2",
            "inf",
            "0x10",
            "4.",
            "0",
            "0.0",
        ] {
            assert_eq!(
                seconds(s.as_bytes()).map(f64::to_bits),
                s.parse::<f64>().ok().map(f64::to_bits),
                "{s:?}"
            );
        }
        for n in 0..100_000u32 {
            let s = format!("{}.{:03}", n / 1000, n % 1000);
            assert_eq!(seconds(s.as_bytes()), s.parse().ok(), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn seconds_match_the_standard_parser_on_any_decimal(
            int in "[0-9]{0,17}",
            frac in proptest::option::of("[0-9]{0,17}"),
        ) {
            let s = match frac {
                Some(f) => format!("{int}.{f}"),
                None => int,
            };
            proptest::prop_assert_eq!(
                seconds(s.as_bytes()).map(f64::to_bits),
                s.parse::<f64>().ok().map(f64::to_bits),
                "{}",
                s
            );
        }
    }

    #[test]
    fn lab_lines() {
        let a = act(b"Nov 30 02:06:36 mx1 postfix/pickup[27222]: 0A65DB6531: uid=103 from=<app@labhost.example> orig_id=6202BB6499");
        match a {
            Action::Pickup { orig_id, from, .. } => {
                assert_eq!(orig_id.unwrap().as_str(), "6202BB6499");
                assert_eq!(from, Some(&b"app@labhost.example"[..]));
            }
            other => panic!("{other:?}"),
        }
        match act(b"Nov 30 03:04:52 mx1 postfix/amavis/smtp[19348]: 3AD24B6461: to=<bob13@slowpartner.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.13, delays=0.01/0.02/0.04/0.06, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 591EAB646F)") {
            Action::Delivery(d) => {
                assert_eq!(d.status, Status::Sent);
                assert_eq!(d.queued_as().unwrap().as_str(), "591EAB646F");
                assert_eq!(d.delays, Some([0.01, 0.02, 0.04, 0.06]));
                assert_eq!(d.to, b"bob13@slowpartner.test");
            }
            other => panic!("{other:?}"),
        }
        match act(b"Nov 30 02:24:56 mx1 postfix/bounce[3206]: 4jd78D6VpPz5c1y: sender non-delivery notification: 4jd7CD0Y1Fz5c1q") {
            Action::Notification { kind, child } => {
                assert_eq!(kind, Notice::NonDelivery);
                assert_eq!(child.as_str(), "4jd7CD0Y1Fz5c1q");
            }
            other => panic!("{other:?}"),
        }
        match act(b"Nov 30 02:26:18 mx1 postfix/smtpd[4008]: NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <victim0@outside.test>: Relay access denied; from=<promo0@spam-source.test> to=<victim0@outside.test> proto=ESMTP helo=<spam-bot.outside.test>") {
            Action::Reject(r) => {
                assert_eq!(r.action, b"reject");
                assert_eq!(r.stage, b"RCPT");
                assert_eq!(r.client, b"unknown[127.0.0.2]");
                assert_eq!(r.text, &b"554 5.7.1 <victim0@outside.test>: Relay access denied"[..]);
                assert_eq!(r.to, Some(&b"victim0@outside.test"[..]));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            act(b"Nov 30 02:10:11 mx1 postfix/postsuper[1]: Deleted: 301 messages"),
            Action::AdminSummary { count: 301, .. }
        ));
        assert!(matches!(
            act(b"Nov 30 02:10:11 mx1 postfix/postsuper[1]: 4jd6tb4f4vz5c33: removed"),
            Action::AdminRemoved
        ));
        assert!(matches!(
            act(b"Nov 30 02:10:11 mx1 postfix/qmgr[1]: 4jd6tb4f4vz5c33: removed"),
            Action::Removed
        ));
        assert!(matches!(
            act(b"Nov 30 02:25:06 mx1 postfix/qmgr[1]: 4jd78M6VlKz5c2D: from=<app@labhost.example>, status=expired, returned to sender"),
            Action::Expired { forced: false }
        ));
    }
}
