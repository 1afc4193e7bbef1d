//! pflogsumm's counting, line by line, as Debian's pflogsumm 1.1.5 does it (FORMATS.md §10
//! and the script's main loop): the Grand Totals and the tables built beside them (per
//! hour, per day, per domain, per address, smtpd connection times).
//!
//! pflogsumm matches regular expressions against each raw line; this module reproduces what
//! those expressions accept, byte for byte, on the part of the line after `tag[pid]: `. Two
//! feeds use it:
//! - the digest's own view ([`Counter::feed`] with lines made from parsed events): every
//!   Postfix syslog name (`postfix-out/smtp` too), the daemon as the command (so
//!   `postfix/sender-cleanup/cleanup` is cleanup), queue IDs kept apart per host and instance,
//!   repeated lines expanded;
//! - pflogsumm's own view ([`raw_line`]): only the tags pflogsumm reads, its command names, its
//!   queue-ID keys (the bare ID), one count per raw line. On the same lines this gives
//!   pflogsumm's numbers exactly; the digest shows them when the two views differ.
//!
//! Quirks kept on purpose because they are pflogsumm's definitions: a queue ID's first qmgr
//! `size=` wins (reused IDs keep it), a delivery counts the size of its queue ID's message
//! (0 when the qmgr line was not seen), content-filter hops count as received and delivered,
//! `status=expired` counts nowhere, and milter rejects count only when cleanup logs them.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

/// One log line as pflogsumm's main loop sees it.
#[derive(Clone, Copy, Debug)]
pub struct PfLine<'a> {
    /// Queue-ID namespace: pflogsumm keys by the bare ID (always 0); the digest keys by host
    /// and syslog instance.
    pub ns: u32,
    /// The command: `smtpd`, `cleanup`, `qmgr` … (pflogsumm: the tag after `postfix/`, or
    /// after `postfix/smtps/` and `postfix/submission/`).
    pub cmd: &'a [u8],
    pub pid: Option<u32>,
    /// The message after `tag[pid]: `.
    pub msg: &'a [u8],
    /// Wall-clock seconds since 1970 as written in the line (for the hour, the day and
    /// connection times).
    pub local_secs: i64,
}

/// pflogsumm's Grand Totals, under the names of the digest's JSON contract.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub received: u64,
    pub delivered: u64,
    pub forwarded: u64,
    /// Messages (queue IDs) with at least one deferral.
    pub deferred: u64,
    /// Deferral lines.
    pub deferrals: u64,
    pub bounced: u64,
    pub rejected: u64,
    /// int(100 × rejected / (delivered + rejected + discarded)).
    pub rejected_pct: u64,
    pub reject_warnings: u64,
    pub held: u64,
    pub discarded: u64,
    pub discarded_pct: u64,
    pub bytes_received: u64,
    pub bytes_delivered: u64,
    pub senders: u64,
    pub sending_domains: u64,
    pub recipients: u64,
    pub recipient_domains: u64,
}

/// Messages and bytes of one address or domain.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Volume {
    pub messages: u64,
    pub bytes: u64,
}

/// Delivery to one recipient domain (pflogsumm's "Host/Domain Summary: Message Delivery").
#[derive(Clone, Debug, Default, Serialize)]
pub struct DomainDelivery {
    pub sent: u64,
    pub bytes: u64,
    pub defers: u64,
    /// Sum of the `delay=` of sent recipients (for the average).
    pub delay_sum: f64,
    /// Largest `delay=` of a sent or deferred recipient.
    pub delay_max: f64,
}

/// Received, delivered, deferred, bounced, rejected in one hour or day.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Traffic {
    pub received: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
}

/// smtpd connections (connect … disconnect of one smtpd pid; postscreen excluded).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Connections {
    pub count: u64,
    pub seconds: i64,
    pub max_seconds: i64,
}

impl Connections {
    fn add(&mut self, secs: i64) {
        if self.count == 0 || secs > self.max_seconds {
            self.max_seconds = secs;
        }
        self.count += 1;
        self.seconds += secs;
    }
}

type Key = (u32, Box<[u8]>);

/// The running counts.
#[derive(Debug, Default)]
pub struct Counter {
    /// Keep the tables (the digest's view); pflogsumm's view only needs the totals.
    pub tables: bool,
    t: Totals,
    sizes: HashMap<Key, u64>,
    /// Queue IDs counted as received and not yet sized by qmgr: where they came from.
    received_from: HashMap<Key, Option<String>>,
    deferred_ids: HashSet<Key>,
    pub senders: HashMap<String, Volume>,
    pub sending_domains: HashMap<String, Volume>,
    pub recipients: HashMap<String, Volume>,
    pub recipient_domains: HashMap<String, DomainDelivery>,
    pub per_hour: [Traffic; 24],
    /// Per local day (days since 1970).
    pub per_day: BTreeMap<i64, Traffic>,
    pub smtpd: Connections,
    pub smtpd_per_hour: [Connections; 24],
    pub smtpd_per_day: BTreeMap<i64, Connections>,
    pub smtpd_per_host: HashMap<String, Connections>,
    open_connections: HashMap<u32, i64>,
}

/// Perl's `\s`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Perl's `\w` (C locale).
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `[^:\s]+` at the start of `s`.
fn token(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|&c| c == b':' || is_space(c))
        .unwrap_or(s.len());
    &s[..n]
}

/// What pflogsumm calls the queue ID: the first `[^:\s]+` after `: ` — the first word of
/// the message (`ABC123`, `NOQUEUE`, `warning`, `connect` …), else the first word after a
/// later `: `. `None` when there is none (pflogsumm skips such a line).
pub fn first_word(msg: &[u8]) -> Option<&[u8]> {
    let t = token(msg);
    if !t.is_empty() {
        return Some(t);
    }
    word_after_colon(msg)
}

/// `.*?: ([^:\s]+)`: the first word that follows a `: `.
fn word_after_colon(s: &[u8]) -> Option<&[u8]> {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&s[from..], b": ") {
        let at = from + p + 2;
        let t = token(&s[at..]);
        if !t.is_empty() {
            return Some(t);
        }
        from = from + p + 1;
    }
    None
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    memchr::memmem::find(h, n).is_some()
}

/// `s =~ /: NEEDLE/` where `s` is `tag[pid]: msg`: the message starts with NEEDLE, or holds
/// `: NEEDLE`.
fn after_colon(msg: &[u8], needle: &[u8]) -> bool {
    msg.starts_with(needle) || {
        let mut n = Vec::with_capacity(needle.len() + 2);
        n.extend_from_slice(b": ");
        n.extend_from_slice(needle);
        contains(msg, &n)
    }
}

/// `^\w+: ` at the start of the message: the rest after it.
fn after_word_colon(msg: &[u8]) -> Option<&[u8]> {
    let n = msg.iter().take_while(|&&c| is_word(c)).count();
    if n == 0 {
        return None;
    }
    msg[n..].strip_prefix(b": ")
}

/// Which cleanup check fired: `.*?\b((?:milter-)?reject|warning|hold|discard): (header|body|END-OF-MESSAGE) `.
fn cleanup_action(msg: &[u8]) -> Option<Kind> {
    for p in 0..msg.len() {
        if p > 0 && is_word(msg[p - 1]) {
            continue;
        }
        let s = &msg[p..];
        let (kind, rest) = if let Some(r) = s.strip_prefix(b"milter-reject: ") {
            (Kind::Reject, r)
        } else if let Some(r) = s.strip_prefix(b"reject: ") {
            (Kind::Reject, r)
        } else if let Some(r) = s.strip_prefix(b"warning: ") {
            (Kind::Warning, r)
        } else if let Some(r) = s.strip_prefix(b"hold: ") {
            (Kind::Hold, r)
        } else if let Some(r) = s.strip_prefix(b"discard: ") {
            (Kind::Discard, r)
        } else {
            continue;
        };
        if rest.starts_with(b"header ")
            || rest.starts_with(b"body ")
            || rest.starts_with(b"END-OF-MESSAGE ")
        {
            return Some(kind);
        }
    }
    None
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Reject,
    Warning,
    Hold,
    Discard,
}

/// `\w+: (reject(?:_warning)?|hold|discard): ` at the start of an smtpd message.
fn smtpd_action(msg: &[u8]) -> Option<Kind> {
    let rest = after_word_colon(msg)?;
    if rest.starts_with(b"reject_warning: ") {
        Some(Kind::Warning)
    } else if rest.starts_with(b"reject: ") {
        Some(Kind::Reject)
    } else if rest.starts_with(b"hold: ") {
        Some(Kind::Hold)
    } else if rest.starts_with(b"discard: ") {
        Some(Kind::Discard)
    } else {
        None
    }
}

/// `\w+: client=(.+?)(,|$)` at the start of an smtpd message.
fn smtpd_client(msg: &[u8]) -> Option<&[u8]> {
    let v = after_word_colon(msg)?.strip_prefix(b"client=")?;
    if v.is_empty() {
        return None;
    }
    let end = v[1..]
        .iter()
        .position(|&c| c == b',')
        .map_or(v.len(), |p| p + 1);
    Some(&v[..end])
}

/// `from=<([^>]*)>, size=(\d+)`, leftmost.
fn from_size(msg: &[u8]) -> Option<(&[u8], u64)> {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&msg[from..], b"from=<") {
        let start = from + p + 6;
        if let Some(close) = memchr::memchr(b'>', &msg[start..]) {
            let addr = &msg[start..start + close];
            if let Some(r) = msg[start + close + 1..].strip_prefix(b", size=") {
                let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
                if n > 0 {
                    let size = std::str::from_utf8(&r[..n])
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .unwrap_or(0.0) as u64;
                    return Some((addr, size));
                }
            }
        }
        from = from + p + 1;
    }
    None
}

/// A delivery line as pflogsumm's expression reads it.
struct Delivery<'a> {
    to: &'a [u8],
    delay: f64,
    status: &'a [u8],
    rest: &'a [u8],
}

/// `[^,]+` then `, `: the value and the rest.
fn until_comma(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = memchr::memchr(b',', s).unwrap_or(s.len());
    if n == 0 {
        return None;
    }
    Some((&s[..n], s[n..].strip_prefix(b", ")?))
}

/// `to=<([^>]*)>, (?:orig_to=<[^>]*>, )?relay=([^,]+), (?:conn_use=[^,]+, )?delay=([^,]+),
/// (?:delays=[^,]+, )?(?:dsn=[^,]+, )?status=(\S+)(.*)$`, leftmost.
fn delivery(msg: &[u8]) -> Option<Delivery<'_>> {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&msg[from..], b"to=<") {
        let at = from + p;
        from = at + 1;
        let s = &msg[at + 4..];
        let Some(close) = memchr::memchr(b'>', s) else {
            continue;
        };
        let to = &s[..close];
        let Some(mut r) = s[close + 1..].strip_prefix(b", ") else {
            continue;
        };
        if let Some(o) = r.strip_prefix(b"orig_to=<") {
            if let Some(c) = memchr::memchr(b'>', o) {
                if let Some(rr) = o[c + 1..].strip_prefix(b", ") {
                    r = rr;
                }
            }
        }
        let Some(rr) = r.strip_prefix(b"relay=") else {
            continue;
        };
        let Some((_, mut r)) = until_comma(rr) else {
            continue;
        };
        if let Some(o) = r.strip_prefix(b"conn_use=") {
            if let Some((_, rr)) = until_comma(o) {
                r = rr;
            }
        }
        let Some(rr) = r.strip_prefix(b"delay=") else {
            continue;
        };
        let Some((delay, mut r)) = until_comma(rr) else {
            continue;
        };
        for opt in [&b"delays="[..], b"dsn="] {
            if let Some(o) = r.strip_prefix(opt) {
                if let Some((_, rr)) = until_comma(o) {
                    r = rr;
                }
            }
        }
        let Some(st) = r.strip_prefix(b"status=") else {
            continue;
        };
        let n = st.iter().position(|&c| is_space(c)).unwrap_or(st.len());
        if n == 0 {
            continue;
        }
        return Some(Delivery {
            to,
            delay: perl_number(delay),
            status: &st[..n],
            rest: &st[n..],
        });
    }
    None
}

/// Perl's numeric value of a string: its leading decimal number, else 0.
fn perl_number(s: &[u8]) -> f64 {
    let s = std::str::from_utf8(s).unwrap_or("").trim_start();
    let mut end = 0;
    let b = s.as_bytes();
    if end < b.len() && (b[end] == b'+' || b[end] == b'-') {
        end += 1;
    }
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    s[..end].parse().unwrap_or(0.0)
}

/// `s/(@.+)/\L$1/`: the address with everything from its first `@` lower-cased.
fn lower_domain(addr: &[u8]) -> String {
    let mut v = addr.to_vec();
    if let Some(at) = memchr::memchr(b'@', &v) {
        if at + 1 < v.len() {
            v[at..].make_ascii_lowercase();
        }
    }
    String::from_utf8_lossy(&v).into_owned()
}

/// `s/^[^@]+\@(.+)$/$1/`: the domain of `user@domain`, if it has both parts.
fn domain_part(addr: &str) -> Option<&str> {
    let at = addr.find('@')?;
    (at > 0 && at + 1 < addr.len()).then(|| &addr[at + 1..])
}

/// `mach.host.dom` → `host.dom`, `mach.host.co.uk` → `host.co.uk` (lower-cased), other
/// names as they are: pflogsumm's
/// `s/^(.*)\.([^\.]+)\.([^\.]{3}|[^\.]{2,3}\.[^\.]{2})$/\L$2.$3/`.
fn trim_host(d: &str) -> String {
    let dots: Vec<usize> = d.match_indices('.').map(|(i, _)| i).collect();
    // The dot after `(.*)`, rightmost first (greedy).
    for (k, &first) in dots.iter().enumerate().rev() {
        let Some(&second) = dots.get(k + 1) else {
            continue;
        };
        if second == first + 1 {
            continue;
        }
        let tail = &d[second + 1..];
        let ok = if !tail.contains('.') {
            tail.chars().count() == 3
        } else {
            match tail.split_once('.') {
                Some((a, b)) => {
                    (2..=3).contains(&a.chars().count())
                        && b.chars().count() == 2
                        && !b.contains('.')
                }
                None => false,
            }
        };
        if ok {
            return d[first + 1..].to_ascii_lowercase();
        }
    }
    d.to_string()
}

/// pflogsumm's `gimme_domain`: a client's domain (its host name trimmed to the registered
/// domain), or its address when the name is `unknown`. `None` where pflogsumm gets undef.
pub fn gimme_domain(s: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(s);
    let s = s.as_ref();
    let ipv4_bracket = |s: &str| -> Option<(String, String)> {
        let open = s.find('[')?;
        let rest = &s[open + 1..];
        let close = rest.find(']')?;
        let ip = &rest[..close];
        let parts: Vec<&str> = ip.split('.').collect();
        let ok = parts.len() == 4
            && parts
                .iter()
                .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()));
        ok.then(|| (s[..open].to_string(), ip.to_string()))
    };
    let slash_hex = |s: &str| -> Option<(String, String)> {
        let slash = s.find('/')?;
        let rest = &s[slash + 1..];
        let n = rest
            .bytes()
            .take_while(|c| c.is_ascii_hexdigit() || *c == b'.' || *c == b':')
            .count();
        (n > 0).then(|| (s[..slash].to_string(), rest[..n].to_string()))
    };
    let exhaustive = |s: &str| -> Option<(String, String)> {
        let open = s.find(['[', '(', '/'])?;
        let rest = &s[open + 1..];
        let close = rest.find([']', ')'])?;
        if close == 0 {
            return None;
        }
        let tail = &rest[close + 1..];
        let tail = tail.strip_prefix(':').unwrap_or(tail);
        if !tail.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((s[..open].to_string(), rest[..close].to_string()))
    };
    let (domain, ip) = match ipv4_bracket(s)
        .or_else(|| slash_hex(s))
        .or_else(|| exhaustive(s))
    {
        Some((d, i)) => (Some(d), Some(i)),
        None => (None, None),
    };
    match domain.as_deref() {
        None | Some("") | Some("unknown") => ip,
        Some(d) => Some(trim_host(d)),
    }
}

/// Perl truth of a string.
fn truthy(s: &Option<String>) -> bool {
    matches!(s.as_deref(), Some(v) if !v.is_empty() && v != "0")
}

impl Counter {
    pub fn new(tables: bool) -> Counter {
        Counter {
            tables,
            ..Default::default()
        }
    }

    fn key(ns: u32, word: &[u8]) -> Key {
        (ns, word.into())
    }

    fn bump_reject(&mut self, kind: Kind, hour: usize, day: i64) {
        match kind {
            Kind::Reject => self.t.rejected += 1,
            Kind::Warning => self.t.reject_warnings += 1,
            Kind::Hold => self.t.held += 1,
            Kind::Discard => self.t.discarded += 1,
        }
        if self.tables {
            self.per_hour[hour].rejected += 1;
            self.per_day.entry(day).or_default().rejected += 1;
        }
    }

    /// Count one line, in log order.
    pub fn feed(&mut self, l: &PfLine<'_>) {
        let Some(word) = first_word(l.msg) else {
            return;
        };
        let hour = l.local_secs.rem_euclid(86_400) as usize / 3600;
        let day = l.local_secs.div_euclid(86_400);
        if self.tables {
            self.per_day.entry(day).or_default();
        }
        let msg = l.msg;
        if l.cmd == b"cleanup" && l.pid.is_some() {
            if let Some(kind) = cleanup_action(msg) {
                self.bump_reject(kind, hour, day);
                return;
            }
        }
        match word {
            b"warning" | b"fatal" | b"panic" => return,
            b"reject" => return self.bump_reject(Kind::Reject, hour, day),
            b"reject_warning" => return self.bump_reject(Kind::Warning, hour, day),
            b"hold" => return self.bump_reject(Kind::Hold, hour, day),
            b"discard" => return self.bump_reject(Kind::Discard, hour, day),
            _ => {}
        }
        if l.cmd == b"master" {
            return;
        }
        if l.cmd == b"smtpd" || l.cmd == b"postscreen" {
            if l.pid.is_none() {
                return;
            }
            if let Some(client) = smtpd_client(msg) {
                self.t.received += 1;
                if self.tables {
                    self.per_hour[hour].received += 1;
                    self.per_day.entry(day).or_default().received += 1;
                }
                self.received_from
                    .insert(Self::key(l.ns, word), gimme_domain(client));
            } else if let Some(kind) = smtpd_action(msg) {
                self.bump_reject(kind, hour, day);
            } else if l.cmd == b"smtpd" && self.tables {
                self.connection(l, msg, hour, day);
            }
            return;
        }
        if let Some((addr, size)) = from_size(msg) {
            let k = Self::key(l.ns, word);
            if self.sizes.get(&k).is_some_and(|s| *s != 0) {
                return;
            }
            let addr = if addr.is_empty() || addr == b"0" {
                "from=<>".to_string()
            } else {
                lower_domain(addr)
            };
            self.sizes.insert(k.clone(), size);
            if let Some(whence) = self.received_from.get(&k) {
                if truthy(whence) {
                    let whence = whence.clone().unwrap_or_default();
                    let dom = match domain_part(&addr) {
                        Some(d) => d.to_string(),
                        None if whence == "pickup" => addr.clone(),
                        None => whence,
                    };
                    if self
                        .sending_domains
                        .get(&dom)
                        .is_none_or(|v| v.messages == 0)
                    {
                        self.t.sending_domains += 1;
                    }
                    let v = self.sending_domains.entry(dom).or_default();
                    v.messages += 1;
                    v.bytes += size;
                    if self.senders.get(&addr).is_none_or(|v| v.messages == 0) {
                        self.t.senders += 1;
                    }
                    let v = self.senders.entry(addr).or_default();
                    v.messages += 1;
                    v.bytes += size;
                    self.t.bytes_received += size;
                    self.received_from.remove(&k);
                }
            }
            return;
        }
        if let Some(d) = delivery(msg) {
            let addr = lower_domain(d.to);
            let dom = domain_part(&addr).unwrap_or(&addr).to_string();
            match d.status {
                b"sent" => {
                    if contains(d.rest, b"forwarded as ") {
                        self.t.forwarded += 1;
                        return;
                    }
                    let size = self.sizes.get(&Self::key(l.ns, word)).copied().unwrap_or(0);
                    let r = self.recipient_domains.entry(dom).or_default();
                    if r.sent == 0 {
                        self.t.recipient_domains += 1;
                    }
                    r.sent += 1;
                    r.bytes += size;
                    r.delay_sum += d.delay;
                    if r.delay_max == 0.0 || d.delay > r.delay_max {
                        r.delay_max = d.delay;
                    }
                    let u = self.recipients.entry(addr).or_default();
                    if u.messages == 0 {
                        self.t.recipients += 1;
                    }
                    u.messages += 1;
                    u.bytes += size;
                    self.t.delivered += 1;
                    self.t.bytes_delivered += size;
                    if self.tables {
                        self.per_hour[hour].delivered += 1;
                        self.per_day.entry(day).or_default().delivered += 1;
                    }
                }
                b"deferred" => {
                    self.t.deferrals += 1;
                    if self.deferred_ids.insert(Self::key(l.ns, word)) {
                        self.t.deferred += 1;
                    }
                    let r = self.recipient_domains.entry(dom).or_default();
                    r.defers += 1;
                    if r.delay_max == 0.0 || d.delay > r.delay_max {
                        r.delay_max = d.delay;
                    }
                    if self.tables {
                        self.per_hour[hour].deferred += 1;
                        self.per_day.entry(day).or_default().deferred += 1;
                    }
                }
                b"bounced" => {
                    self.t.bounced += 1;
                    if self.tables {
                        self.per_hour[hour].bounced += 1;
                        self.per_day.entry(day).or_default().bounced += 1;
                    }
                }
                _ => {}
            }
            return;
        }
        if l.cmd == b"pickup" && (after_colon(msg, b"sender=") || after_colon(msg, b"uid=")) {
            self.t.received += 1;
            if self.tables {
                self.per_hour[hour].received += 1;
                self.per_day.entry(day).or_default().received += 1;
            }
            self.received_from
                .insert(Self::key(l.ns, word), Some("pickup".into()));
        }
    }

    /// `connect from` / `disconnect from` of one smtpd process: the connection's duration.
    fn connection(&mut self, l: &PfLine<'_>, msg: &[u8], hour: usize, day: i64) {
        let Some(pid) = l.pid else { return };
        if after_colon(msg, b"connect from ") {
            self.open_connections.insert(pid, l.local_secs);
        } else if let Some(host) = msg.strip_prefix(b"disconnect from ") {
            if host.is_empty() {
                return;
            }
            let Some(start) = self.open_connections.remove(&pid) else {
                return;
            };
            let secs = l.local_secs - start;
            let host = gimme_domain(host).unwrap_or_default();
            self.smtpd.add(secs);
            self.smtpd_per_hour[hour].add(secs);
            self.smtpd_per_day.entry(day).or_default().add(secs);
            self.smtpd_per_host.entry(host).or_default().add(secs);
        }
    }

    /// The Grand Totals so far.
    pub fn totals(&self) -> Totals {
        let mut t = self.t.clone();
        let all = t.delivered + t.rejected + t.discarded;
        if all > 0 {
            // As pflogsumm computes it, in doubles: int(($r / $total) * 100).
            t.rejected_pct = ((t.rejected as f64 / all as f64) * 100.0) as u64;
            t.discarded_pct = ((t.discarded as f64 / all as f64) * 100.0) as u64;
        }
        t
    }
}

/// The part of a raw line pflogsumm reads, if it reads it: its command, pid and message.
/// pflogsumm strips a Solaris `[ID …]` token, takes traditional (`Mmm d HH:MM:SS`, any
/// three characters for the month) or RFC 3339 (`±HH:MM` or `Z`) stamps, and only the tags
/// `postfix/…` (with `smtps/` or `submission/` dropped), `postfix[pid]` and
/// `postfix-script[pid]`.
/// `f` is called with them (the line may be a local copy without its `[ID …]` token).
pub fn raw_line<R>(line: &[u8], f: impl FnOnce(&[u8], Option<u32>, &[u8]) -> R) -> Option<R> {
    let line = strip_solaris(line);
    let rest = after_header(&line)?;
    let (cmd, pid, msg) = tag_of(rest)?;
    Some(f(cmd, pid, msg))
}

/// `s/: \[ID \d+ [^\]]+\] /: /` (first occurrence).
fn strip_solaris(line: &[u8]) -> Cow<'_, [u8]> {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&line[from..], b": [ID ") {
        let at = from + p;
        let s = &line[at + 6..];
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 && s.get(n) == Some(&b' ') {
            let r = &s[n + 1..];
            if let Some(close) = memchr::memchr(b']', r) {
                if close > 0 && r.get(close + 1) == Some(&b' ') {
                    let mut v = line[..at].to_vec();
                    v.extend_from_slice(b": ");
                    v.extend_from_slice(&r[close + 2..]);
                    return Cow::Owned(v);
                }
            }
        }
        from = at + 1;
    }
    Cow::Borrowed(line)
}

/// The text after pflogsumm's timestamp and host.
fn after_header(l: &[u8]) -> Option<&[u8]> {
    let digits = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
    let rest = if l.first().is_some_and(|c| c.is_ascii_digit()) && l.len() > 19 {
        // ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[\+\-]\d{2}:\d{2}|Z)
        let shape = b"dddd-dd-ddTdd:dd:dd";
        for (i, &c) in shape.iter().enumerate() {
            let ok = if c == b'd' {
                l[i].is_ascii_digit()
            } else {
                l[i] == c
            };
            if !ok {
                return None;
            }
        }
        let mut r = &l[19..];
        if let Some(f) = r.strip_prefix(b".") {
            let n = digits(f);
            if n == 0 {
                return None;
            }
            r = &f[n..];
        }
        if let Some(z) = r.strip_prefix(b"Z") {
            z
        } else {
            let (&sign, o) = r.split_first()?;
            if !(sign == b'+' || sign == b'-')
                || o.len() < 5
                || digits(&o[..2]) != 2
                || o[2] != b':'
                || digits(&o[3..5]) != 2
            {
                return None;
            }
            &o[5..]
        }
    } else {
        // ^(...) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})
        let mut i = 0;
        for _ in 0..3 {
            // `.`: any character but a newline (one UTF-8 character).
            let c = *l.get(i)?;
            if c == b'\n' {
                return None;
            }
            i += match c {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => 1,
            };
        }
        let r = l.get(i..)?;
        let sp = r.iter().take_while(|&&c| c == b' ').count();
        if sp == 0 || sp > 2 {
            return None;
        }
        let r = &r[sp..];
        let d = digits(r);
        if d == 0 || d > 2 {
            return None;
        }
        let r = r[d..].strip_prefix(b" ")?;
        let shape = b"dd:dd:dd";
        if r.len() < 8 {
            return None;
        }
        for (i, &c) in shape.iter().enumerate() {
            let ok = if c == b'd' {
                r[i].is_ascii_digit()
            } else {
                r[i] == c
            };
            if !ok {
                return None;
            }
        }
        &r[8..]
    };
    // ` \S+ (.+)$`
    let r = rest.strip_prefix(b" ")?;
    let host = r.iter().take_while(|&&c| !is_space(c)).count();
    if host == 0 {
        return None;
    }
    let r = r[host..].strip_prefix(b" ")?;
    let r = r.split(|&c| c == b'\n').next().unwrap_or(r);
    (!r.is_empty()).then_some(r)
}

/// pflogsumm's tag expressions on the text after the host:
/// `^(?:postfix)(?:/(?:smtps|submission))?/([^\[:]*).*?: ([^:\s]+)` or
/// `^((?:postfix)(?:-script)?)(?:\[\d+\])?: ([^:\s]+)`.
fn tag_of(r: &[u8]) -> Option<(&[u8], Option<u32>, &[u8])> {
    let pid_then = |s: &[u8]| -> Option<(u32, usize)> {
        let inner = s.strip_prefix(b"[")?;
        let n = inner.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || inner.get(n) != Some(&b']') {
            return None;
        }
        let pid = std::str::from_utf8(&inner[..n]).ok()?.parse().ok()?;
        Some((pid, n + 2))
    };
    if let Some(after) = r.strip_prefix(b"postfix/") {
        let after = after
            .strip_prefix(b"smtps/")
            .or_else(|| after.strip_prefix(b"submission/"))
            .unwrap_or(after);
        let n = after
            .iter()
            .position(|&c| c == b'[' || c == b':')
            .unwrap_or(after.len());
        let cmd = &after[..n];
        let rest = &after[n..];
        // The message: after `[pid]: `, else after the first `: ` that leads to a word.
        let (pid, msg) = match pid_then(rest) {
            Some((pid, used)) if rest[used..].starts_with(b": ") => (Some(pid), &rest[used + 2..]),
            _ => {
                let p = memchr::memmem::find(rest, b": ")?;
                (None, &rest[p + 2..])
            }
        };
        // `.*?: ([^:\s]+)` must find a word somewhere after the command.
        word_after_colon(rest)?;
        return Some((cmd, pid, msg));
    }
    let (cmd, after) = if let Some(a) = r.strip_prefix(b"postfix-script") {
        (&r[..14], a)
    } else if let Some(a) = r.strip_prefix(b"postfix") {
        (&r[..7], a)
    } else {
        return None;
    };
    let (pid, after) = match pid_then(after) {
        Some((pid, used)) => (Some(pid), &after[used..]),
        None => (None, after),
    };
    let msg = after.strip_prefix(b": ")?;
    if token(msg).is_empty() {
        return None;
    }
    Some((cmd, pid, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_raw(c: &mut Counter, line: &[u8]) {
        raw_line(line, |cmd, pid, msg| {
            c.feed(&PfLine {
                ns: 0,
                cmd,
                pid,
                msg,
                local_secs: 0,
            })
        });
    }

    fn parts(line: &[u8]) -> Option<(Vec<u8>, Option<u32>, Vec<u8>)> {
        raw_line(line, |c, p, m| (c.to_vec(), p, m.to_vec()))
    }

    #[test]
    fn first_words() {
        assert_eq!(
            first_word(b"B6CC5B6472: to=<a@b>"),
            Some(&b"B6CC5B6472"[..])
        );
        assert_eq!(first_word(b"warning: x"), Some(&b"warning"[..]));
        assert_eq!(first_word(b": later: word"), Some(&b"later"[..]));
        assert_eq!(first_word(b" "), None);
    }

    #[test]
    fn domains_as_pflogsumm_trims_them() {
        assert_eq!(
            gimme_domain(b"mail.Example.com[1.2.3.4]").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            gimme_domain(b"a.b.co.uk[1.2.3.4]").as_deref(),
            Some("b.co.uk")
        );
        assert_eq!(
            gimme_domain(b"unknown[0.0.0.0]").as_deref(),
            Some("0.0.0.0")
        );
        assert_eq!(
            gimme_domain(b"localhost[127.0.0.1]").as_deref(),
            Some("localhost")
        );
        assert_eq!(
            gimme_domain(b"unknown[2001:db8::1]").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(gimme_domain(b"nothing"), None);
    }

    #[test]
    fn lab_lines_count_like_pflogsumm() {
        // Real lines from corpus/lab/filter and corpus/lab/bounces.
        let mut c = Counter::new(true);
        for l in [
            &b"Nov 30 03:04:52 mx1 postfix/smtpd[19345]: 3AD24B6461: client=localhost[127.0.0.1]"[..],
            b"Nov 30 03:04:52 mx1 postfix/qmgr[19290]: 3AD24B6461: from=<app@labhost.example>, size=712, nrcpt=1 (queue active)",
            b"Nov 30 03:04:52 mx1 postfix/amavis/smtp[19348]: 3AD24B6461: to=<bob13@slowpartner.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.13, delays=0.01/0.02/0.04/0.06, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 591EAB646F)",
            b"Nov 30 02:26:18 mx1 postfix/smtpd[4008]: NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <victim0@outside.test>: Relay access denied; from=<promo0@spam-source.test> to=<victim0@outside.test> proto=ESMTP helo=<spam-bot.outside.test>",
            b"Nov 30 02:25:06 mx1 postfix/qmgr[1]: 4jd78M6VlKz5c2D: from=<app@labhost.example>, status=expired, returned to sender",
            b"Nov 30 02:10:11 mx1 postfix-out/smtp[1]: 4jd6tb4f4vz5c33: to=<a@b.test>, relay=x[1.2.3.4]:25, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (ok)",
        ] {
            feed_raw(&mut c, l);
        }
        let t = c.totals();
        assert_eq!(
            (
                t.received,
                t.delivered,
                t.rejected,
                t.bytes_received,
                t.bytes_delivered
            ),
            (1, 1, 1, 712, 712)
        );
        assert_eq!((t.senders, t.sending_domains), (1, 1));
        assert_eq!(t.rejected_pct, 50);
        assert_eq!(c.recipient_domains["slowpartner.test"].delay_max, 0.13);
    }

    #[test]
    fn headers_pflogsumm_reads() {
        assert!(parts(b"2026-11-30T01:51:15.768284+00:00 mx1 postfix/smtpd[17063]: BB8D1B6451: client=localhost[127.0.0.1]").is_some());
        assert!(parts(b"2015-12-14T00:06:14+0000 h postfix/smtpd[1]: x: y").is_none());
        assert!(parts(b"Sep 08 17:20:30.655028 mx1 postfix/qmgr[812]: x: y").is_none());
        let (cmd, pid, msg) =
            parts(b"Nov  1 02:11:18 conch postfix/submission/smtpd[9]: connect from a[1.2.3.4]")
                .unwrap();
        assert_eq!(
            (&cmd[..], pid, &msg[..]),
            (&b"smtpd"[..], Some(9), &b"connect from a[1.2.3.4]"[..])
        );
        let (cmd, _, _) =
            parts(b"Nov  1 02:11:18 h postfix/sender-cleanup/cleanup[9]: A: message-id=<x>")
                .unwrap();
        assert_eq!(&cmd[..], b"sender-cleanup/cleanup");
        let (cmd, pid, msg) =
            parts(b"Jan 14 16:30:24 mframe1 postfix[662]: fatal: usage: postfix").unwrap();
        assert_eq!(
            (&cmd[..], pid, &msg[..]),
            (&b"postfix"[..], Some(662), &b"fatal: usage: postfix"[..])
        );
        assert!(parts(b"Nov 30 02:10:11 mx1 postfix-out/smtp[1]: A: to=<a@b>").is_none());
        let (_, _, msg) = parts(b"Jan  5 10:11:12 mx postfix/smtpd[1234]: [ID 197553 mail.info] connect from a[1.2.3.4]").unwrap();
        assert_eq!(&msg[..], b"connect from a[1.2.3.4]");
    }
}
