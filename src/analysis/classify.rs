//! Failure texts to causes: [`classify`] names the class of one Postfix failure, and
//! [`signature`] masks its variable parts so that repeats of the same error group together.
//!
//! Both take the *reason*: the text in parentheses after `status=deferred|bounced` (FORMATS.md
//! §4: from the first ` (` after `status=` to the last `)`), a queue dump's `delay_reason`
//! (§9), or the text of an smtpd/postscreen/cleanup reject after `reject: ` (§4), envelope
//! included. Both work on bytes, never panic, and run once per deferral of a large log, so
//! they scan by hand: no regex, and [`classify`] does not allocate at all (it renders into a
//! stack buffer and looks phrases up through a first-byte index built once).
//!
//! # How a text is read
//!
//! One tokenizer serves both functions. It recognises, left to right:
//! addresses (`<a@b>` and bare `a@b`), other `<…>` values (HELO names, `<DATA>`), URLs,
//! IPv4 and IPv6 addresses, `host[addr]` names, the `:port` after `]`, dotted host names,
//! timestamps (`HH:MM[:SS][.f]`, `YYYY-MM-DD[THH:MM…][zone]`), queue IDs (short hex with a
//! digit and a letter, 6+ characters; long IDs per FORMATS §3, checked with
//! [`QueueId::parse`]), other long mixed letter-and-digit tokens (trace IDs such as Gmail's
//! `q24si6538316pgt`), plain numbers, SMTP reply codes and enhanced status codes.
//! Every decision looks only at bytes that a second pass sees unchanged (a masked value
//! always becomes `<…>`), which is what makes [`signature`] idempotent: for example a
//! dotted run directly before `<` is never taken whole, since a first pass that split
//! `mx.example.comA873C8A02F` into words leaves `mx.example.<id>` for the second.
//!
//! # Signature decisions
//!
//! - Masks: `<addr>`, `<host>`, `<ip>`, `:<port>`, `<qid>`, `<id>`, `<n>`, `<time>`,
//!   `<url>`, `<name>` (a non-address `<…>` value); `<>` (the null sender) stays.
//! - **Host names are masked whole**, registrable part included: `host 127.0.0.1[127.0.0.1]`
//!   becomes `host <host>[<ip>]`, `name=partner.test` becomes `name=<host>`. The destination
//!   and relay are known from the delivery line's `to=`/`relay=` fields, so the signature
//!   need not repeat them, and one error then groups across a provider's MX hosts
//!   (`alt1.`/`alt2.aspmx.l.google.com`) and across destinations. Keeping a "registrable
//!   part" would need the public-suffix list and would split those groups. One exception:
//!   a host name right after the word `using` (`blocked using zen.spamhaus.org`) is a DNSBL
//!   zone, which *is* the cause, so it is kept.
//! - Kept: SMTP reply codes (a 3-digit `[2-5]xx` followed by `-` and a letter, digit or
//!   `<`, or by an enhanced status code, or that opens the text or follows a `:`), enhanced
//!   status codes (`[245].d{1,3}.d{1,3}`), words with a few digits (`IPv6`, `S3140`,
//!   `TSS04`; a mixed token is masked as `<id>` from 8 characters and 2 digits on), and the
//!   stage hint `(in reply to RCPT TO command)`.
//! - Stripped: any leading `delivery temporarily suspended: ` (Postfix repeats an earlier
//!   reason behind it, FORMATS §7), and a reject's envelope from `; from=<`, `; to=<` or
//!   `; proto=` on (it names sender, recipient and HELO, which never say *why*).
//! - Whitespace runs collapse to one space; the ends are trimmed. Invalid UTF-8 becomes
//!   U+FFFD. The result is deterministic and idempotent: `signature(signature(x)) ==
//!   signature(x)` (property-tested).
//!
//! # Classification decisions
//!
//! The decision table is `RULES` (read it: each row cites its source): ordered rules, first
//! match wins. A rule matches when one of its phrases occurs (lower-cased, at the start of a
//! word, in the first 1 KiB of the text with addresses, host names and URLs masked out, so
//! that `helo=<spam-bot.example>` never reads as "spam") and its gate admits the DSN. The DSN
//! is the one given, else the first enhanced status code in the text, else `X.0.0` from the
//! first reply code (what Postfix itself does, §7). Because both functions read the same
//! tokens, `classify(dsn, signature(x))` equals `classify(dsn, x)` (checked over the whole
//! corpus): a caller may classify once per distinct signature.
//!
//! In order: local resource trouble; TLS; SPF/DKIM/DMARC (policy); relaying and SMTP AUTH;
//! unambiguous throttling (greylisting, rate limits, "too many …"); smtpd restrictions on
//! client, HELO and sender (policy); DNS; timeouts; refusals; mailbox full; unknown user;
//! blocklists, spam and access maps (policy); "try again later" (throttling, 4.7.x or
//! code-less only); the DSN alone (RFC 3463 and successors); `refused to talk to me`
//! (connection-refused); else `other`.
//!
//! Decided with the lab corpus:
//! - `conversation with … timed out while receiving the initial server greeting` is
//!   connection-timeout (the lab `timeout` and `filter` scenarios: a server that accepts TCP
//!   and stays silent). `lost connection with … while receiving the initial server greeting`
//!   is **connection-refused**: Postfix logs it on EOF, not on a timeout (smtp_trouble.c
//!   `smtp_stream_except`: `SMTP_ERR_EOF` → "lost connection", `SMTP_ERR_TIME` → "timed
//!   out"), i.e. the server hung up before greeting, as one that refuses would. A lost
//!   connection later in the session stays `other`.
//! - A remote `451 4.3.0 … temporary failure, try again later` (lab `cleanup`, partner.test)
//!   is `other`: 4.3.x is the remote mail system's own trouble, not a rate limit, so "try
//!   again later" only means throttling with a 4.7.x or code-less (`X.0.0`) reply.
//! - `resource` is for *this* host only: its phrases count only when the text is not a
//!   remote reply (no `said:`, no `refused to talk to me`). A remote `452 4.3.1 Insufficient
//!   system storage` is the remote's disk, so `other`; our smtpd's is `resource`.
//! - Left `other` on purpose (the corpus test prints them): mail loops (`mail forwarding
//!   loop`, `loops back to myself`: configuration, but not a resource), protocol errors
//!   (`550 5.5.1 Protocol error`), a remote's `451 Temporary local problem` (Exim's generic
//!   local failure), lost connections after the greeting.
//! - `Domain … does not accept mail (nullMX)` is `dns`: the domain's DNS says it takes none.

use std::fmt;
use std::sync::OnceLock;

use crate::parse::find;
use crate::parse::qid::QueueId;

/// The cause of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The destination's DNS: MX/A lookups failing, no such domain, null MX.
    Dns,
    /// TCP connect or the SMTP conversation timed out.
    ConnectionTimeout,
    /// Connection refused, no route, unreachable, or the server hung up before greeting.
    ConnectionRefused,
    /// TLS required but missing, certificate not verified, handshake failures.
    Tls,
    /// Relaying denied, SMTP AUTH (SASL) failures, sender-login mismatches.
    RelayAuth,
    /// Rate limits, too many connections, greylisting.
    Throttling,
    /// The recipient's mailbox is over quota.
    MailboxFull,
    /// The recipient does not exist.
    UnknownUser,
    /// Spam, blocklists, reputation, SPF/DKIM/DMARC, smtpd restrictions.
    Policy,
    /// This host's own trouble: disk, files, memory, local services, configuration.
    Resource,
    /// None of the above.
    Other,
}

impl Class {
    /// Every class, in declaration order.
    pub const ALL: [Class; 11] = [
        Class::Dns,
        Class::ConnectionTimeout,
        Class::ConnectionRefused,
        Class::Tls,
        Class::RelayAuth,
        Class::Throttling,
        Class::MailboxFull,
        Class::UnknownUser,
        Class::Policy,
        Class::Resource,
        Class::Other,
    ];

    /// The kebab-case name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Class::Dns => "dns",
            Class::ConnectionTimeout => "connection-timeout",
            Class::ConnectionRefused => "connection-refused",
            Class::Tls => "tls",
            Class::RelayAuth => "relay-auth",
            Class::Throttling => "throttling",
            Class::MailboxFull => "mailbox-full",
            Class::UnknownUser => "unknown-user",
            Class::Policy => "policy",
            Class::Resource => "resource",
            Class::Other => "other",
        }
    }

    /// A problem with one recipient rather than with the route to it: retrying the
    /// destination will not help that recipient, and other recipients there are fine.
    pub fn is_permanent_recipient_problem(self) -> bool {
        matches!(self, Class::MailboxFull | Class::UnknownUser)
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

// ---------------------------------------------------------------------------------------
// The decision table
// ---------------------------------------------------------------------------------------

/// When a rule may fire, besides its phrases.
#[derive(Clone, Copy, Debug)]
enum Gate {
    Any,
    /// Only for this MTA's own text: not a remote reply (`… said: …`, `… refused to talk to
    /// me: …`).
    Local,
    /// Only when the DSN matches one of the patterns: `5.7.26`, `X.7.8` (`X` = any number),
    /// `4.7.*` (`*` = any detail).
    Dsn(&'static [&'static str]),
    /// As [`Gate::Dsn`], or when the text has no DSN and no reply code at all.
    DsnOrNone(&'static [&'static str]),
}

/// One row of the decision table. Empty `phrases` means "whenever the gate admits".
struct Rule {
    class: Class,
    gate: Gate,
    phrases: &'static [&'static str],
}

const fn rule(class: Class, gate: Gate, phrases: &'static [&'static str]) -> Rule {
    Rule {
        class,
        gate,
        phrases,
    }
}

use Class::*;

/// The decision table: first match wins. Phrases are lower case and match at the start of a
/// word of the masked, lower-cased text (see the module docs). "lab X" is
/// `corpus/lab/X/mail.log`; "public X" is `corpus/public/X`; `FORMATS` is FORMATS.md.
static RULES: &[Rule] = &[
    // ---- 1. resource: this host's own trouble (never a remote reply) ----------------------
    // A UNIX-socket service on this host: `relay=host[private/dovecot-lmtp]` (FORMATS §4,
    // public postfix-grok-patterns smtp_0017); the brief's `lost connection with …[private/…]`.
    // `[/path]` is an LMTP `unix:` socket.
    rule(Resource, Gate::Local, &["[private/", "[public/", "[/"]),
    // Local system and configuration failures. Postfix texts: `queue file write error`
    // (cleanup), `unknown mail transport error` (public kdent mail*.log, 4.3.0: a delivery
    // agent that died or a master.cf transport that is missing), `mail transport unavailable`
    // (qmgr), `Temporary lookup failure` and `Server configuration error` (smtpd, a map or
    // setting of ours), `Insufficient system storage` (smtpd 452 4.3.1, public kdent
    // mail.log), `all server ports busy` (postscreen, public postfix-grok-patterns
    // postscreen tests); errno texts; fatal/panic (FORMATS §4 severities).
    rule(
        Resource,
        Gate::Local,
        &[
            "queue file write error",
            "no space left",
            "disk full",
            "file system full",
            "insufficient system storage",
            "too many open files",
            "out of memory",
            "cannot allocate memory",
            "resource temporarily unavailable",
            "unknown mail transport error",
            "mail transport unavailable",
            "mail system configuration error",
            "server configuration error",
            "server configuration problem",
            "temporary lookup failure",
            "all server ports busy",
            "fatal",
            "panic",
        ],
    ),
    // ---- 2. tls ---------------------------------------------------------------------------
    // lab tls: `TLS is required, but was not offered by host …` (4.7.4), `Server certificate
    // not verified` (4.7.5) after `certificate verification failed for …`; Postfix
    // smtp_proto.c: `Cannot start TLS: handshake failure`, `TLS is required, but host %s
    // refused to start TLS`; remote `530 5.7.0 Must issue a STARTTLS command first` and the
    // stage hint `(in reply to STARTTLS command)` (FORMATS §7: the stage is a strong cue).
    rule(
        Tls,
        Gate::Any,
        &["tls", "starttls", "ssl", "certificate", "handshake"],
    ),
    // ---- 3. policy: sender authentication (before relay-auth: "DKIM authentication failed"
    // is about the message, not our login). FORMATS §7 5.7.26; RFC 7208/6376/7489 names.
    rule(Policy, Gate::Any, &["spf", "dkim", "dmarc"]),
    // ---- 4. relay-auth --------------------------------------------------------------------
    // lab bounces / public fail2ban, crowdsec-hub: `554 5.7.1 <…>: Relay access denied`,
    // `454 4.7.1 <…>: Relay access denied`; lab relayauth: `SASL authentication failed;
    // server … said: 535 5.7.8 Authentication credentials invalid`; public
    // postfix-grok-patterns smtpd: `553 5.7.1 <…>: Sender address rejected: not owned by
    // user …`; smtpd `Sender address rejected: not logged in` (brief); Exchange `530 5.7.1
    // Client was not authenticated`, `Client does not have permissions to send as this
    // sender`; other MTAs' relay refusals.
    rule(
        RelayAuth,
        Gate::Any,
        &[
            "relay access denied",
            "relaying denied",
            "relay denied",
            "relay not permitted",
            "relaying not permitted",
            "relay not allowed",
            "relaying not allowed",
            "unable to relay",
            "we do not relay",
            "not permitted to relay",
            "sasl",
            "authentication required",
            "authentication is required",
            "authentication failed",
            "authentication failure",
            "authentication credentials invalid",
            "invalid credentials",
            "must authenticate",
            "client was not authenticated",
            "not logged in",
            "not owned by user",
            "permissions to send as",
        ],
    ),
    // ---- 5. throttling, unambiguous phrases (before the smtpd-restriction policy rule:
    // `Recipient address rejected: Greylisted`, `Sender address rejected: You are sending too
    // many emails` are throttling). lab throttle: `421 4.7.0 … Error: too many connections
    // from … - rate limited, try again later`; FORMATS §7: greylisting `450 4.7.1 …
    // Greylisted for 5 minutes`, `451-You have been greylisted` (public lightmeter), Gmail
    // `421-4.7.0 … unusual rate of unsolicited mail`; public kdent: `452 Too many recipients
    // received from the sender`; public lightmeter 20_rejected: `450 4.7.1 <…>: Sender
    // address rejected: You are sending too many emails`; public postfix-grok-patterns:
    // `451 4.7.1 Greylisting in action`, postscreen `too many connections`; Gmail `Daily
    // user sending quota exceeded` / `sending limit exceeded` (5.4.5; before mailbox-full's
    // "quota"); Yahoo `[TSS04] … temporarily deferred due to unexpected volume`.
    rule(
        Throttling,
        Gate::Any,
        &[
            "greylist",
            "graylist",
            "grey-list",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "unusual rate",
            "too many connections",
            "too many concurrent",
            "connection limit",
            "too many messages",
            "too many recipients",
            "too many emails",
            "too many mails",
            "sending quota",
            "sending limit",
            "temporarily deferred",
            "deferred due to",
            "throttl",
            "slow down",
        ],
    ),
    // ---- 6. policy: smtpd restrictions on the client, HELO and sender (FORMATS §4 reject
    // shape; public kdent `450 4.7.1 <…>: Helo command rejected: Host not found`, `550 5.1.8
    // <…>: Sender address rejected: Domain not found`; public fail2ban `450 4.7.25 Client
    // host rejected: cannot find your hostname`; public rseichter-postqf `Unverified Client
    // host rejected: Please try again later`). Before dns/unknown-user: "Host not found",
    // "Domain not found" and a failed sender verification describe the *client*.
    rule(
        Policy,
        Gate::Any,
        &[
            "helo command rejected",
            "client host rejected",
            "sender address rejected",
            "sender domain",
        ],
    ),
    // ---- 7. dns ---------------------------------------------------------------------------
    // lab dns / FORMATS §7 4.4.3, 5.4.4: `Host or domain name not found. Name service error
    // for name=… type=MX: Host not found, try again`; public lightmeter 5.1.0 `Domain … does
    // not accept mail (nullMX)` (RFC 7505: the domain's DNS says it takes no mail).
    rule(
        Dns,
        Gate::Any,
        &[
            "host or domain name not found",
            "name service error",
            "nullmx",
            "mx lookup",
            "no mx record",
            "dns lookup failure",
        ],
    ),
    // ---- 8. connection-timeout -------------------------------------------------------------
    // lab timeout, filter: `conversation with … timed out while receiving the initial server
    // greeting` (4.4.2); public gomaillex/lightmeter: `connect to …:25: Connection timed out`
    // (4.4.1), `conversation with … timed out while sending message body`; old Postfix
    // `read timeout`.
    rule(ConnectionTimeout, Gate::Any, &["timed out", "timeout"]),
    // ---- 9. connection-refused --------------------------------------------------------------
    // lab refused, expire, cleanup (gmial.test): `connect to …:2526: Connection refused`;
    // public: `No route to host`, `Network is unreachable` (FORMATS §7 4.4.1); Postfix
    // smtp_connect.c `server dropped connection without sending the initial SMTP greeting`;
    // public gomaillex `lost connection with … while receiving the initial server greeting`
    // (EOF before the banner; see the module docs — the timeout form matched rule 8).
    rule(
        ConnectionRefused,
        Gate::Any,
        &[
            "connection refused",
            "no route to host",
            "network is unreachable",
            "host is unreachable",
            "host is down",
            "server dropped connection",
            "connection reset",
            "while receiving the initial server greeting",
        ],
    ),
    // ---- 10. mailbox-full ------------------------------------------------------------------
    // lab bounces: `552 5.2.2 <…>: Mailbox full, quota exceeded`; public kumina showq: `452
    // 4.2.2 Quota exceeded (…)`, Gmail `452-4.2.2 … is over quota`; public lightmeter `452
    // 4.1.1 <…> user is over quota` (the text beats the 4.1.1).
    rule(
        MailboxFull,
        Gate::Any,
        &[
            "mailbox full",
            "mailbox is full",
            "mailbox has exceeded",
            "mailbox size limit",
            "over quota",
            "quota",
            "exceeded storage allocation",
        ],
    ),
    // ---- 11. unknown-user ------------------------------------------------------------------
    // lab bounces: `550 5.1.1 <…>: Recipient address rejected: User unknown in virtual
    // mailbox table`, smtpd `… User unknown in local recipient table`; FORMATS §7 local
    // `unknown user: "…"`, Gmail `550-5.1.1 The email account that you tried to reach does
    // not exist`; public lightmeter `552 1 Requested mail action aborted, mailbox not found`,
    // Hotmail `550 Requested action not taken: mailbox unavailable`; public fail2ban
    // `Recipient address rejected: undeliverable address: verification failed`.
    rule(
        UnknownUser,
        Gate::Any,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "no such mailbox",
            "no such recipient",
            "mailbox not found",
            "mailbox unavailable",
            "does not exist",
            "recipient not found",
            "user not found",
            "invalid recipient",
            "unknown recipient",
            "recipient unknown",
            "undeliverable address",
            "unrouteable address",
            "no mailbox",
        ],
    ),
    // ---- 12. policy: content, blocklists, reputation, access maps --------------------------
    // public kdent/fail2ban: `554 5.7.1 Service unavailable; Client host [..] blocked using
    // zen.spamhaus.org`, `Recipient address rejected: Access denied`; Outlook `550 5.7.1
    // Unfortunately, messages from [..] weren't sent. … block list (S3140)`; Gmail `550-5.7.1
    // … likely unsolicited mail … has been blocked`; public lightmeter `550 Administrative
    // prohibition`, milter `5.7.1 Spam message rejected`; public fail2ban milter `550 5.7.1
    // Command rejected`, `550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce`;
    // public kdent `Client host rejected: Currently receiving backscatter`.
    rule(
        Policy,
        Gate::Any,
        &[
            "blocked",
            "block list",
            "blocklist",
            "blacklist",
            "black list",
            "denylist",
            "deny list",
            "listed in",
            "listed at",
            "listed on",
            "is listed",
            "dnsbl",
            "rbl",
            "spam",
            "unsolicited",
            "reputation",
            "policy",
            "prohibit",
            "access denied",
            "command rejected",
            "recipient address rejected",
            "message rejected",
            "content rejected",
            "virus",
            "malware",
            "infected",
            "banned",
            "backscatter",
            "phish",
            "abuse",
            "reverse dns",
            "ptr record",
        ],
    ),
    // ---- 13. throttling, the weak phrase: lab throttle `451 4.7.0 Try again later (in
    // reply to RCPT TO command)`; public lightmeter milter `4.7.1 Try again later`; public
    // kdent `452 <…> requested action aborted: try again later - GL/GL` (4.0.0). Only with a
    // 4.7.x or code-less reply: `451 4.3.0 … temporary failure, try again later` (lab
    // cleanup) is the remote's own trouble.
    rule(
        Throttling,
        Gate::DsnOrNone(&["4.7.*", "4.0.0"]),
        &["try again later"],
    ),
    // ---- 14. the DSN alone (RFC 3463 classes; RFC 4954, 5248, 7372, 7505 details) ---------
    // X.7.4 security features not supported / X.7.5 cryptographic failure (Postfix: TLS not
    // offered, certificate not verified; lab tls), X.7.10 encryption needed.
    rule(Tls, Gate::Dsn(&["X.7.4", "X.7.5", "X.7.10"]), &[]),
    // X.7.8 credentials invalid, X.7.9 mechanism too weak, X.7.12 password transition
    // (RFC 4954); lab relayauth 4.7.8.
    rule(RelayAuth, Gate::Dsn(&["X.7.8", "X.7.9", "X.7.12"]), &[]),
    // RFC 7372 (DKIM X.7.20-22, SPF X.7.23-24, reverse DNS X.7.25, several X.7.26), RFC 7505
    // sender null MX X.7.27. FORMATS §7 5.7.26.
    rule(
        Policy,
        Gate::Dsn(&[
            "X.7.20", "X.7.21", "X.7.22", "X.7.23", "X.7.24", "X.7.25", "X.7.26", "X.7.27",
        ]),
        &[],
    ),
    // X.1.10 recipient null MX (RFC 7505); X.4.3 directory (DNS) failure, X.4.4 unable to
    // route: Postfix's DNS codes (FORMATS §7).
    rule(Dns, Gate::Dsn(&["X.1.10", "X.4.3", "X.4.4"]), &[]),
    // X.1.1 bad destination mailbox, X.2.2 mailbox full (FORMATS §7).
    rule(UnknownUser, Gate::Dsn(&["X.1.1"]), &[]),
    rule(MailboxFull, Gate::Dsn(&["X.2.2"]), &[]),
    // 4.7.0 with no better cue: FORMATS §7 lists every 4.7.0 sample as throttling.
    rule(Throttling, Gate::Dsn(&["4.7.0"]), &[]),
    // The rest of X.7 is security or policy: X.7.1 "delivery not authorized, message
    // refused" (public: Facebook `421 4.7.1 RCP-T4 …`, `421 4.7.1 Intrusion prevention
    // active for [..]`; crowdsec-hub `554 5.7.1 Service unavailable`).
    rule(Policy, Gate::Dsn(&["X.7.*"]), &[]),
    // ---- 15. a greeting refusal with no other cue (Postfix smtp_proto.c: `host %s refused to
    // talk to me: %s` for a non-2xx greeting or a 421 to EHLO): the server is up but will not
    // take mail from us.
    rule(ConnectionRefused, Gate::Any, &["refused to talk to me"]),
];

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/// Longest prefix of the masked text that [`classify`] looks at. Postfix texts and the
/// informative start of remote replies fit easily; Gmail's multi-line replies are ~450 bytes.
const CLEAN_MAX: usize = 1024;

/// Classify a failure: the DSN (e.g. `4.7.0`, may be absent) and the reason text (the text
/// in parentheses after `status=…`, a queue-dump `delay_reason`, or the text of a reject
/// line after `reject: `).
pub fn classify(dsn: Option<&[u8]>, reason: &[u8]) -> Class {
    let text = cut_envelope(strip_suspended(reason));
    let mut buf = [0u8; CLEAN_MAX];
    let mut len = 0usize;
    let mut status: Option<Dsn> = None;
    let mut reply: Option<u16> = None;
    let mut pending_space = false;
    for tok in Scanner::new(text) {
        let bytes: &[u8] = match tok {
            Tok::Space => {
                pending_space = len > 0;
                continue;
            }
            Tok::Lit(b) => b,
            // Masked values carry no cue; a marker keeps word boundaries.
            Tok::Mask(_) | Tok::Placeholder(_) => b"*",
            Tok::Reply(b) => {
                if reply.is_none() {
                    reply = parse_num(b);
                }
                b
            }
            Tok::Status(b) => {
                if status.is_none() {
                    status = Dsn::parse(b);
                }
                b
            }
        };
        if pending_space && len < CLEAN_MAX {
            buf[len] = b' ';
            len += 1;
        }
        pending_space = false;
        let n = bytes.len().min(CLEAN_MAX - len);
        for (d, s) in buf[len..len + n].iter_mut().zip(bytes) {
            *d = s.to_ascii_lowercase();
        }
        len += n;
        if len == CLEAN_MAX {
            break;
        }
    }
    let clean = &buf[..len];
    let dsn = dsn
        .and_then(Dsn::parse)
        .or(status)
        .or_else(|| reply.map(|r| Dsn::new(r / 100, 0, 0)));
    let hits = phrase_hits(clean);
    for (k, r) in RULES.iter().enumerate() {
        let phrase_ok = r.phrases.is_empty() || hits & (1u128 << k) != 0;
        if phrase_ok && r.gate.admits(dsn, clean) {
            return r.class;
        }
    }
    Class::Other
}

impl Gate {
    fn admits(self, dsn: Option<Dsn>, clean: &[u8]) -> bool {
        match self {
            Gate::Any => true,
            Gate::Local => {
                find::SAID.find(clean).is_none() && find::REFUSED_TO_TALK.find(clean).is_none()
            }
            Gate::Dsn(pats) => dsn.is_some_and(|d| pats.iter().any(|p| d.matches(p))),
            Gate::DsnOrNone(pats) => dsn.is_none_or(|d| pats.iter().any(|p| d.matches(p))),
        }
    }
}

/// An enhanced status code, `class.subject.detail` (RFC 3463).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dsn {
    class: u16,
    subject: u16,
    detail: u16,
}

impl Dsn {
    fn new(class: u16, subject: u16, detail: u16) -> Dsn {
        Dsn {
            class,
            subject,
            detail,
        }
    }

    /// `[245].d{1,3}.d{1,3}`, nothing else.
    fn parse(b: &[u8]) -> Option<Dsn> {
        if b.len() < 5 || b.len() > 9 || b[1] != b'.' {
            return None;
        }
        let mut it = b.split(|&c| c == b'.');
        let class = parse_num(it.next()?)?;
        let subject = parse_num(it.next()?)?;
        let detail = parse_num(it.next()?)?;
        if it.next().is_some() || !matches!(class, 2 | 4 | 5) {
            return None;
        }
        Some(Dsn::new(class, subject, detail))
    }

    /// Match a pattern such as `5.7.26`, `X.7.8` or `4.7.*`.
    fn matches(self, pat: &str) -> bool {
        let mut parts = pat.split('.');
        let mut part = |v: u16| match parts.next() {
            Some("X") | Some("*") => true,
            Some(p) => p.parse::<u16>().is_ok_and(|n| n == v),
            None => false,
        };
        part(self.class) && part(self.subject) && part(self.detail)
    }
}

/// 1–3 ASCII digits as a number.
fn parse_num(b: &[u8]) -> Option<u16> {
    if b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0')))
}

/// Phrases grouped by their first byte, each with the index of its rule.
struct PhraseIndex {
    /// `entries[start[b]..start[b + 1]]` are the phrases starting with byte `b`.
    start: [u16; 257],
    entries: Vec<(&'static [u8], u8)>,
}

fn phrase_index() -> &'static PhraseIndex {
    static INDEX: OnceLock<PhraseIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut entries: Vec<(&'static [u8], u8)> = RULES
            .iter()
            .enumerate()
            .flat_map(|(k, r)| r.phrases.iter().map(move |p| (p.as_bytes(), k as u8)))
            .collect();
        entries.sort_by_key(|&(p, k)| (p[0], k));
        let mut start = [0u16; 257];
        for b in 0..256usize {
            start[b + 1] =
                start[b] + entries.iter().filter(|(p, _)| p[0] as usize == b).count() as u16;
        }
        PhraseIndex { start, entries }
    })
}

/// Which rules have a phrase in `t`, as a bit set over rule indexes. A phrase that begins
/// with a letter or digit must begin a word.
fn phrase_hits(t: &[u8]) -> u128 {
    let idx = phrase_index();
    let mut hits = 0u128;
    for (i, &b) in t.iter().enumerate() {
        let (lo, hi) = (
            idx.start[b as usize] as usize,
            idx.start[b as usize + 1] as usize,
        );
        if lo == hi || (b.is_ascii_alphanumeric() && i > 0 && t[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        for &(p, k) in &idx.entries[lo..hi] {
            if t[i..].starts_with(p) {
                hits |= 1u128 << k;
            }
        }
    }
    hits
}

// ---------------------------------------------------------------------------------------
// Signature
// ---------------------------------------------------------------------------------------

const SUSPENDED: &[u8] = b"delivery temporarily suspended: ";

/// The normalised signature of a reason: variable parts masked so that the same error
/// groups together (see the module docs for what is masked and what is kept).
/// Deterministic and idempotent.
pub fn signature(reason: &[u8]) -> String {
    let text = match std::str::from_utf8(reason) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(reason),
    };
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut pending_space = false;
    for tok in Scanner::new(text.as_bytes()) {
        let bytes: &[u8] = match tok {
            Tok::Space => {
                pending_space = !out.is_empty();
                continue;
            }
            Tok::Lit(b) | Tok::Placeholder(b) | Tok::Reply(b) | Tok::Status(b) => b,
            Tok::Mask(m) => m.placeholder().as_bytes(),
        };
        if pending_space {
            out.push(b' ');
            pending_space = false;
        }
        out.extend_from_slice(bytes);
    }
    // Strip after rendering, so that whitespace collapsed by the rendering cannot form a
    // prefix or an envelope that a second pass would strip.
    let kept = cut_envelope(strip_suspended(&out)).trim_ascii();
    let start = kept.as_ptr() as usize - out.as_ptr() as usize;
    let end = start + kept.len();
    out.truncate(end);
    out.drain(..start);
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Drop any leading `delivery temporarily suspended: ` (and the space around it).
fn strip_suspended(mut r: &[u8]) -> &[u8] {
    r = r.trim_ascii_start();
    while let Some(rest) = r.strip_prefix(SUSPENDED) {
        r = rest.trim_ascii_start();
    }
    r
}

/// Cut a reject line's envelope: everything from `; from=<`, `; to=<` or `; proto=` on.
fn cut_envelope(r: &[u8]) -> &[u8] {
    for p in memchr::memchr_iter(b';', r) {
        let rest = &r[p..];
        if rest.starts_with(b"; from=<")
            || rest.starts_with(b"; to=<")
            || rest.starts_with(b"; proto=")
        {
            return &r[..p];
        }
    }
    r
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

/// What a masked value was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mask {
    Addr,
    Host,
    Ip,
    /// `:25` after `host[addr]`: rendered with its colon.
    Port,
    Qid,
    Id,
    Num,
    Time,
    Url,
    Name,
}

impl Mask {
    fn placeholder(self) -> &'static str {
        match self {
            Mask::Addr => "<addr>",
            Mask::Host => "<host>",
            Mask::Ip => "<ip>",
            Mask::Port => ":<port>",
            Mask::Qid => "<qid>",
            Mask::Id => "<id>",
            Mask::Num => "<n>",
            Mask::Time => "<time>",
            Mask::Url => "<url>",
            Mask::Name => "<name>",
        }
    }
}

/// The words inside our placeholders: a `<…>` holding one of them is kept as it is.
const PLACEHOLDER_WORDS: [&[u8]; 10] = [
    b"addr", b"host", b"ip", b"port", b"qid", b"id", b"n", b"time", b"url", b"name",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    /// A run of whitespace or control bytes.
    Space,
    /// Bytes kept as they are.
    Lit(&'a [u8]),
    Mask(Mask),
    /// One of our own placeholders (`<host>`), met again: kept as it is.
    Placeholder(&'a [u8]),
    /// An SMTP reply code, kept.
    Reply(&'a [u8]),
    /// An enhanced status code, kept.
    Status(&'a [u8]),
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    /// The last token other than space was the word `using` (`blocked using ZONE`).
    after_using: bool,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a [u8]) -> Scanner<'a> {
        Scanner {
            s,
            i: 0,
            after_using: false,
        }
    }

    fn token(&mut self) -> Option<Tok<'a>> {
        let s = self.s;
        let i = self.i;
        let c = *s.get(i)?;
        if is_space(c) {
            let n = s[i..].iter().take_while(|&&c| is_space(c)).count();
            self.i = i + n;
            return Some(Tok::Space);
        }
        if c == b'<' {
            if let Some((tok, end)) = angle(s, i) {
                self.i = end;
                return Some(tok);
            }
        }
        if c == b':' && i > 0 && s[i - 1] == b']' {
            let end = digits_end(s, i + 1);
            if end > i + 1 && end - i <= 6 && !is_alnum_at(s, end) {
                self.i = end;
                return Some(Tok::Mask(Mask::Port));
            }
        }
        if c.is_ascii_alphanumeric() {
            let (tok, end) = word(s, i, self.after_using);
            self.i = end.max(i + 1);
            return Some(tok);
        }
        self.i = i + 1;
        Some(Tok::Lit(&s[i..i + 1]))
    }
}

fn is_space(c: u8) -> bool {
    c <= b' ' || c == 0x7f
}

/// Characters of an "atom": a host name, an address, a dotted number, a word.
fn is_atom(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'%' | b'+' | b'@')
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

fn is_digit_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

fn is_alnum_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_alphanumeric)
}

/// The end of the run of digits starting at `i`.
fn digits_end(s: &[u8], i: usize) -> usize {
    i + s
        .get(i..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        let tok = self.token()?;
        match tok {
            Tok::Space => {}
            Tok::Lit(w) => self.after_using = w.eq_ignore_ascii_case(b"using"),
            _ => self.after_using = false,
        }
        Some(tok)
    }
}

/// `<…>` at `i`: an address, a placeholder of ours, the null sender, or another value.
fn angle(s: &[u8], i: usize) -> Option<(Tok<'_>, usize)> {
    let rest = &s[i + 1..s.len().min(i + 1 + 256)];
    // No whitespace inside: collapsing it would let a second pass see a different value.
    let close = rest
        .iter()
        .position(|&c| c == b'>' || c == b'<' || is_space(c))?;
    if rest[close] != b'>' {
        return None;
    }
    let inner = &rest[..close];
    let end = i + close + 2;
    let tok = if inner.is_empty() {
        Tok::Lit(&s[i..end])
    } else if PLACEHOLDER_WORDS.contains(&inner) {
        Tok::Placeholder(&s[i..end])
    } else if inner.contains(&b'@') {
        Tok::Mask(Mask::Addr)
    } else {
        Tok::Mask(Mask::Name)
    };
    Some((tok, end))
}

/// A token starting with a letter or digit at `i`; returns it and where it ends.
fn word(s: &[u8], i: usize, after_using: bool) -> (Tok<'_>, usize) {
    if let Some(end) = url(s, i) {
        return (Tok::Mask(Mask::Url), end);
    }
    if let Some(end) = time_like(s, i) {
        return (Tok::Mask(Mask::Time), end);
    }
    if let Some(end) = ipv6(s, i) {
        return (Tok::Mask(Mask::Ip), end);
    }
    let (end, run_end) = atom_at(s, i);
    let atom = &s[i..end];
    // `name[addr]`, even when the name looks like a number (`218-161-….net[…]`).
    if s.get(end) == Some(&b'[') {
        return (Tok::Mask(Mask::Host), end);
    }
    // The common case, a plain word: nothing to mask.
    if atom.iter().all(u8::is_ascii_alphabetic) {
        return (Tok::Lit(atom), end);
    }
    if let Some(end) = reply_code(s, i) {
        return (Tok::Reply(&s[i..end]), end);
    }
    // An atom right before `<` is not taken whole: when a first pass splits
    // `mx.example.comA873C8A02F` into words and masks the last, the second pass sees
    // `mx.example.<id>`, and must not find a host name `mx.example` there.
    let whole = s.get(run_end) != Some(&b'<');
    if whole && is_address(atom) {
        return (Tok::Mask(Mask::Addr), end);
    }
    if whole && is_ipv4(atom) {
        return (Tok::Mask(Mask::Ip), end);
    }
    if whole && Dsn::parse(atom).is_some() {
        return (Tok::Status(atom), end);
    }
    if whole && is_hostname(atom) {
        if after_using {
            return (Tok::Lit(atom), end);
        }
        return (Tok::Mask(Mask::Host), end);
    }
    // A plain word: letters, digits, `-`, `_`.
    let mut wend = i + s[i..end].iter().take_while(|&&c| is_word(c)).count();
    while wend > i + 1 && s[wend - 1] == b'-' {
        wend -= 1;
    }
    let w = &s[i..wend];
    let digits = w.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = w.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let tok = if digits == 0 {
        Tok::Lit(w)
    } else if letters == 0 && digits == w.len() {
        Tok::Mask(Mask::Num)
    } else if is_queue_id(w) {
        Tok::Mask(Mask::Qid)
    } else if w.len() >= 8 && digits >= 2 {
        Tok::Mask(Mask::Id)
    } else {
        Tok::Lit(w)
    };
    (tok, wend)
}

/// `http://…` / `https://…` up to whitespace or `<>"`, without trailing punctuation.
fn url(s: &[u8], i: usize) -> Option<usize> {
    let r = &s[i..];
    if !matches!(r.first(), Some(b'h' | b'H')) {
        return None;
    }
    let scheme = if r.len() >= 7 && r[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else if r.len() >= 8 && r[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else {
        return None;
    };
    let mut end = i + r
        .iter()
        .take_while(|&&c| !is_space(c) && !matches!(c, b'<' | b'>' | b'"'))
        .count();
    while end > i + scheme {
        let last = s[end - 1];
        let trailing = matches!(last, b'.' | b',' | b';' | b':' | b'!' | b'?')
            || (last == b')' && !s[i..end].contains(&b'('));
        if !trailing {
            break;
        }
        end -= 1;
    }
    Some(end)
}

/// `HH:MM[:SS][.f]`, or `YYYY-MM-DD` optionally followed by `THH:MM[:SS][.f]` and a zone
/// (`Z`, `±HH:MM`, `±HHMM`); not followed by a letter, digit or `:`.
fn time_like(s: &[u8], i: usize) -> Option<usize> {
    if !is_digit_at(s, i) {
        return None;
    }
    let two = |j: usize| is_digit_at(s, j) && is_digit_at(s, j + 1);
    let clock = |j: usize| -> Option<usize> {
        // 1-2 digit hour.
        let h = digits_end(s, j);
        if h == j || h - j > 2 || s.get(h) != Some(&b':') || !two(h + 1) {
            return None;
        }
        let mut k = h + 3;
        if s.get(k) == Some(&b':') && two(k + 1) {
            k += 3;
        }
        if s.get(k) == Some(&b'.') && is_digit_at(s, k + 1) {
            k = digits_end(s, k + 1);
        }
        Some(k)
    };
    let mut end;
    if digits_end(s, i) == i + 4
        && s.get(i + 4) == Some(&b'-')
        && two(i + 5)
        && s.get(i + 7) == Some(&b'-')
        && two(i + 8)
    {
        end = i + 10;
        if s.get(end) == Some(&b'T') {
            if let Some(k) = clock(end + 1) {
                end = k;
                match s.get(end) {
                    Some(b'Z') => end += 1,
                    Some(b'+' | b'-') if two(end + 1) => {
                        let mut k = end + 3;
                        if s.get(k) == Some(&b':') && two(k + 1) {
                            k += 3;
                        } else if two(k) {
                            k += 2;
                        }
                        end = k;
                    }
                    _ => {}
                }
            }
        }
    } else {
        end = clock(i)?;
    }
    if is_alnum_at(s, end) || s.get(end) == Some(&b':') {
        return None;
    }
    Some(end)
}

/// An IPv6 address at `i`: hex groups of at most 4, `::` or 7 colons, an optional dotted
/// IPv4 tail; not followed by a letter or digit.
fn ipv6(s: &[u8], i: usize) -> Option<usize> {
    // Quick reject: the first group is 1-4 hex digits and a `:`.
    let h = s[i..]
        .iter()
        .take(5)
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    if h == 0 || h > 4 || s.get(i + h) != Some(&b':') {
        return None;
    }
    let run = s[i..]
        .iter()
        .take_while(|&&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        .count();
    // The run must end the token: in `::fe80::12526host` no prefix is an address (a second
    // pass, seeing `::fe80::<id>`, must not find one either).
    if is_alnum_at(s, i + run) || s.get(i + run) == Some(&b'<') {
        return None;
    }
    let mut a = &s[i..i + run];
    // A trailing `:` or `.` is punctuation (so `fe80::` is not taken: an address ending in
    // `:` would hide the `:` a reply code after it is judged by).
    while a.ends_with(b":") || a.ends_with(b".") {
        a = &a[..a.len() - 1];
    }
    let colons = a.iter().filter(|&&c| c == b':').count();
    let double = a.windows(2).filter(|w| w == b"::").count();
    if colons < 2 || double > 1 || (double == 0 && colons != 7) || a.windows(3).any(|w| w == b":::")
    {
        return None;
    }
    for (k, g) in a.split(|&c| c == b':').enumerate() {
        let ok = if k == colons && g.contains(&b'.') {
            is_ipv4(g)
        } else {
            g.len() <= 4 && !g.contains(&b'.')
        };
        if !ok {
            return None;
        }
    }
    let end = i + a.len();
    if is_alnum_at(s, end) {
        return None;
    }
    Some(end)
}

/// A 3-digit reply code at `i` that is kept: `[2-5]xx` followed by `-` and a letter, digit
/// or `<` (a multi-line reply: `550-5.1.1 …`, `451-You have been …`; `<` is what the next
/// word becomes once masked, so a second pass decides alike), or by a space and an enhanced
/// status code, or ending the text or followed by a space when it opens the text or follows
/// a `:`.
fn reply_code(s: &[u8], i: usize) -> Option<usize> {
    let end = digits_end(s, i);
    if end != i + 3 || !(b'2'..=b'5').contains(&s[i]) {
        return None;
    }
    match s.get(end) {
        Some(b'-') if is_alnum_at(s, end + 1) || s.get(end + 1) == Some(&b'<') => return Some(end),
        Some(b' ') if status_at(s, end + 1) => return Some(end),
        None | Some(b' ') => {}
        _ => return None,
    }
    let prev = s[..i].iter().rev().find(|&&c| !is_space(c));
    matches!(prev, None | Some(b':')).then_some(end)
}

/// The atom at `i`: the longest run of host/address/word characters (its end is the second
/// value), without a trailing `.`/`-` (the end of a sentence, a dash before text; the first
/// value).
fn atom_at(s: &[u8], i: usize) -> (usize, usize) {
    let run_end = i + s[i..].iter().take_while(|&&c| is_atom(c)).count();
    let mut end = run_end;
    while end > i + 1 && matches!(s[end - 1], b'.' | b'-') {
        end -= 1;
    }
    (end, run_end)
}

/// [`word`] at `j` will return an enhanced status code.
fn status_at(s: &[u8], j: usize) -> bool {
    if !is_digit_at(s, j) {
        return false;
    }
    let (end, run_end) = atom_at(s, j);
    s.get(end) != Some(&b'[') && s.get(run_end) != Some(&b'<') && Dsn::parse(&s[j..end]).is_some()
}

/// `a@b` with both sides non-empty and one `@`.
fn is_address(a: &[u8]) -> bool {
    match memchr::memchr(b'@', a) {
        Some(p) => p > 0 && p + 1 < a.len() && !a[p + 1..].contains(&b'@'),
        None => false,
    }
}

fn is_ipv4(a: &[u8]) -> bool {
    let mut n = 0;
    for part in a.split(|&c| c == b'.') {
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        n += 1;
    }
    n == 4
}

/// Two or more dot-separated labels of letters, digits, `-`, `_`, the last one alphabetic
/// (a TLD) and at least two letters long.
fn is_hostname(a: &[u8]) -> bool {
    if !a.last().is_some_and(u8::is_ascii_alphabetic) || memchr::memchr(b'.', a).is_none() {
        return false;
    }
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in a.split(|&c| c == b'.') {
        if label.is_empty() || !label.iter().all(|&c| is_word(c)) {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

/// A queue ID (FORMATS §3): short upper-case hex of 6+ with a digit and a letter, or a long
/// ID.
fn is_queue_id(w: &[u8]) -> bool {
    let short = w.len() >= 6
        && w.iter()
            .all(|&c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
        && w.iter().any(u8::is_ascii_digit)
        && w.iter().any(u8::is_ascii_alphabetic);
    short || (w.len() >= 12 && QueueId::parse(w).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(s: &str) -> String {
        signature(s.as_bytes())
    }

    fn class(dsn: &str, reason: &str) -> Class {
        let d = (!dsn.is_empty()).then_some(dsn.as_bytes());
        classify(d, reason.as_bytes())
    }

    #[test]
    fn names_match_serde_and_all_is_complete() {
        for c in Class::ALL {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.name())
            );
            assert_eq!(c.to_string(), c.name());
        }
        let mut names: Vec<&str> = Class::ALL.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 11);
        let perm: Vec<Class> = Class::ALL
            .into_iter()
            .filter(|c| c.is_permanent_recipient_problem())
            .collect();
        assert_eq!(perm, [Class::MailboxFull, Class::UnknownUser]);
    }

    #[test]
    fn the_table_fits_the_bit_set() {
        assert!(RULES.len() <= 128);
        for r in RULES {
            for p in r.phrases {
                assert!(!p.is_empty());
                assert_eq!(*p, p.to_ascii_lowercase(), "phrases are lower case");
            }
            if let Gate::Dsn(pats) | Gate::DsnOrNone(pats) = r.gate {
                for p in pats {
                    assert_eq!(p.split('.').count(), 3, "{p}");
                }
            }
        }
    }

    /// Real reply texts, each with the file it was copied from.
    #[test]
    fn real_texts() {
        let cases: &[(&str, &str, Class)] = &[
            // lab throttle
            ("4.7.0", "host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command)", Throttling),
            ("4.7.0", "host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0 mx.throttle.test Error: too many connections from 127.0.0.1 - rate limited, try again later", Throttling),
            ("4.7.0", "delivery temporarily suspended: host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0 mx.throttle.test Error: too many connections from 127.0.0.1 - rate limited, try again later", Throttling),
            // lab refused, expire, cleanup
            ("4.4.1", "connect to 127.0.0.1[127.0.0.1]:2526: Connection refused", ConnectionRefused),
            ("4.4.1", "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2530: Connection refused", ConnectionRefused),
            // lab timeout, filter
            ("4.4.2", "conversation with 127.0.0.1[127.0.0.1] timed out while receiving the initial server greeting", ConnectionTimeout),
            // lab dns
            ("4.4.3", "Host or domain name not found. Name service error for name=partner.test type=MX: Host not found, try again", Dns),
            // lab tls
            ("4.7.4", "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]", Tls),
            ("4.7.5", "delivery temporarily suspended: Server certificate not verified", Tls),
            // lab relayauth
            ("4.7.8", "SASL authentication failed; server 127.0.0.1[127.0.0.1] said: 535 5.7.8 Authentication credentials invalid", RelayAuth),
            // lab bounces
            ("5.1.1", "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <nouser19@users.test>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)", UnknownUser),
            ("5.2.2", "host 127.0.0.1[127.0.0.1] said: 552 5.2.2 <full4@users.test>: Mailbox full, quota exceeded (in reply to RCPT TO command)", MailboxFull),
            ("", "RCPT from unknown[127.0.0.2]: 554 5.7.1 <victim0@outside.test>: Relay access denied; from=<promo0@spam-source.test> to=<victim0@outside.test> proto=ESMTP helo=<spam-bot.outside.test>", RelayAuth),
            ("", "RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuchuser0@labhost.example>: Recipient address rejected: User unknown in local recipient table; from=<app@labhost.example> to=<nosuchuser0@labhost.example> proto=ESMTP helo=<app1.labhost.example>", UnknownUser),
            // lab cleanup, partner.test: the remote's own temporary failure (module docs)
            ("4.3.0", "host 127.0.0.1[127.0.0.1] said: 451 4.3.0 <partner.test> temporary failure, try again later (in reply to RCPT TO command)", Other),
            // public gomaillex / lightmeter
            ("4.4.1", "connect to tecadmin.net[172.67.134.5]:25: Connection timed out", ConnectionTimeout),
            ("4.4.1", "connect to com-oct1022.ga[198.52.150.41]:25: No route to host", ConnectionRefused),
            ("4.4.1", "delivery temporarily suspended: connect to inbound.smtp.vt.edu[2001:468:c80:2105:0:232:8670:19fe]:25: Network is unreachable", ConnectionRefused),
            ("4.4.2", "lost connection with lbzod.findivisitnighteen.download[128.177.48.75] while receiving the initial server greeting", ConnectionRefused),
            ("4.4.2", "conversation with lbzod.findivisitnighteen.download[128.177.48.75] timed out while sending message body", ConnectionTimeout),
            ("5.4.4", "Host or domain name not found. Name service error for name=drozta.us type=A: Host not found", Dns),
            ("5.1.0", "Domain example.com does not accept mail (nullMX)", Dns),
            ("4.3.0", "unknown mail transport error", Resource),
            ("4.1.1", "host ALT2.ASPMX.L.GOOGLE.com[3.155.237.60] said: 452 4.1.1 <h-664d01@h-695da2287.com> user is over quota, please try again later (in reply to RCPT TO command)", MailboxFull),
            ("5.0.0", "host mta7.am0.yahoodns.net[67.195.204.72] said: 552 1 Requested mail action aborted, mailbox not found (in reply to end of DATA command)", UnknownUser),
            ("5.0.0", "host mx1.hotmail.com[65.55.92.136] said: 550 Requested action not taken: mailbox unavailable (in reply to RCPT TO command)", UnknownUser),
            ("5.0.0", "host mail.seaglass.com[74.220.219.61] said: 550 Administrative prohibition (in reply to end of DATA command)", Policy),
            ("4.0.0", "host mx-c1.talktalk.net[62.24.202.3] said: 452 Too many recipients received from the sender (in reply to RCPT TO command)", Throttling),
            ("4.0.0", "host mx.ipsbocaraton.com[66.96.140.69] said: 452 <jdent@ipsbocaraton.com> requested action aborted: try again later - GL/GL (in reply to RCPT TO command)", Throttling),
            ("4.0.0", "host mailin6.zih.recipient.relay.example.com[141.30.67.69] said: 451-You have been greylisted. This is part of our standard anti-spam measures 451-and your mail system should automatically try again later. We will accept 451 this mail from you in 42 seconds (in reply to RCPT TO command)", Throttling),
            ("4.0.0", "host mail.seaglass.com[74.220.219.61] said: 451 Temporary local problem - please try later (in reply to RCPT TO command)", Other),
            ("4.7.1", "delivery temporarily suspended: host mail.kenotronix.com[66.254.58.79] refused to talk to me: 421 4.7.1 Intrusion prevention active for [8.19.240.91][P]", Policy),
            ("5.7.1", "host hotmail-com.olc.protection.outlook.com[104.47.10.33] said: 550 5.7.1 Unfortunately, messages from [142.93.169.220] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140). You can also refer your provider to http://mail.live.com/mail/", Policy),
            ("5.1.1", "host aspmx.l.google.com[74.125.143.26] said: 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser od20si", UnknownUser),
            ("4.2.2", "host alt1.gmail-smtp-in.l.google.com[74.125.137.27] said: 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2 http://support.google.com/mail/bin/answer.py?answer=6558 u29si10248504yhu.89 - gsmtp (in reply to RCPT TO command)", MailboxFull),
            // public postfix-grok-patterns
            ("5.1.1", "unknown user: \"ghdsgfhdslfh\"", UnknownUser),
            ("5.4.6", "mail forwarding loop for tom@example.com", Other),
            ("5.7.1", "host gmail-smtp-in.l.google.com[2607:f8b0:400e:c04::1b] said: 550-5.7.1 [2607:4100:3:25:100::2      12] Our system has detected that this 550-5.7.1 message is likely unsolicited mail. To reduce the amount of spam sent 550-5.7.1 to Gmail, this message has been blocked.", Policy),
            ("4.2.0", "host open.example.nl[10.49.140.10] said: 450 4.2.0 <whatever-user@lists.example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/lists.example.org.html (in reply to RCPT TO command)", Throttling),
            ("", "CONNECT from [1.2.3.4]:1337: too many connections", Throttling),
            ("", "CONNECT from [5.6.7.8]:1337: all server ports busy", Resource),
            ("", "END-OF-MESSAGE from 061238241086.static.ctinets.com[61.238.241.86]: 5.7.1 Blocked by SpamAssassin; from=<wumt5@cchfdc.com> to=<voorzitter@example.com> proto=ESMTP helo=<ecsolved.com>", Policy),
            ("", "RCPT from example.com[93.184.216.34]: 553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user ph123; from=<sender@example.com> to=<recipient@example.com> proto=ESMTP helo=<example.com>", RelayAuth),
            ("", "RCPT from mailrelay.example.com[8.8.8.8]: 451 4.7.1 Greylisting in action, please come back later; from=<support@example.com> to=<example@example.org> proto=ESMTP helo=<mailrelay.example.com>", Throttling),
            // public kdent / fail2ban / crowdsec-hub rejects
            ("", "RCPT from unknown[1.2.3.4]: 450 4.7.1 <mail.amandatrexler.com>: Helo command rejected: Host not found; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<mail.amandatrexler.com>", Policy),
            ("", "RCPT from badguy.example.com[93.184.216.34]: 454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com; http://www.example.com/query?ip=93.184.216.34; from=<spammer@example.com> to=<goodguy@example.com> proto=ESMTP helo=<badguy.example.com>", Policy),
            ("", "RCPT from 1-2-3-4.example.com[1.2.3.4]: 450 4.1.8 <some@nonexistant.tld>: Sender address rejected: Domain not found; from=<some@nonexistant.tld> to=<goodguy@example.com> proto=ESMTP helo=<1-2-3-4.example.com>", Policy),
            ("", "MAIL from unknown[1.2.3.4]: 452 4.3.1 Insufficient system storage; proto=ESMTP helo=<x.example>", Resource),
            ("", "RCPT from unknown[192.168.1.1]: 554 5.7.1 Service unavailable", Policy),
            ("", "DATA from 66-220-155-151.mail-mail.facebook.com[192.0.2.151]: 550 5.7.1 Command rejected; from=<security@mail.example.com> to=<hostmaster@example.com> proto=ESMTP helo=<192-0-2-151.mail-mail.example.com>", Policy),
            // public rseichter-postqf delay_reason
            ("", "host smtp2.example.com[91.1.2.333] said: 450-4.7.1 <host.example.net>: Unverified Client host rejected: Please try again later 450 4.7.1 For assistance, contact your administrator", Policy),
            // The DSN alone.
            ("5.7.26", "", Policy),
            ("5.1.1", "", UnknownUser),
            ("4.7.0", "", Throttling),
            ("2.0.0", "", Other),
            ("", "", Other),
        ];
        for (dsn, reason, want) in cases {
            assert_eq!(class(dsn, reason), *want, "dsn={dsn} reason={reason}");
        }
    }

    #[test]
    fn addresses_and_hosts_do_not_leak_cues() {
        // `spam` in an address, `tls` and `timeout` in host names: no cue.
        assert_eq!(
            class("5.0.0", "host tls.timeout.example[192.0.2.1] said: 550 <spam@tls.example> go away (in reply to RCPT TO command)"),
            Other
        );
        // A remote reply that mentions a disk is not our resource problem.
        assert_eq!(
            class("4.3.1", "host mx.example.com[192.0.2.1] said: 452 4.3.1 Insufficient system storage (in reply to MAIL FROM command)"),
            Other
        );
        // A local LMTP socket with a quota reply is the mailbox, not us.
        assert_eq!(
            class("5.2.2", "host mail.example.com[private/dovecot-lmtp] said: 552 5.2.2 <u@example.com> Quota exceeded (mailbox for user is full) (in reply to end of DATA command)"),
            MailboxFull
        );
        assert_eq!(
            class("4.4.2", "delivery temporarily suspended: lost connection with mail.example.com[private/dovecot-lmtp] while receiving the initial server greeting"),
            Resource
        );
    }

    #[test]
    fn signatures_of_lab_texts() {
        assert_eq!(
            sig("host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command)"),
            "host <host>[<ip>] said: 451 4.7.0 Try again later (in reply to RCPT TO command)"
        );
        let direct = sig("host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0 mx.throttle.test Error: too many connections from 127.0.0.1 - rate limited, try again later");
        assert_eq!(
            direct,
            "host <host>[<ip>] refused to talk to me: 421 4.7.0 <host> Error: too many connections from <ip> - rate limited, try again later"
        );
        assert_eq!(
            sig("delivery temporarily suspended: host 127.0.0.1[127.0.0.1] refused to talk to me: 421 4.7.0 mx.throttle.test Error: too many connections from 127.0.0.1 - rate limited, try again later"),
            direct
        );
        assert_eq!(
            sig("connect to 127.0.0.1[127.0.0.1]:2530: Connection refused"),
            "connect to <host>[<ip>]:<port>: Connection refused"
        );
        assert_eq!(
            sig("Host or domain name not found. Name service error for name=partner.test type=MX: Host not found, try again"),
            "Host or domain name not found. Name service error for name=<host> type=MX: Host not found, try again"
        );
        assert_eq!(
            sig("host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <nouser19@users.test>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"),
            "host <host>[<ip>] said: 550 5.1.1 <addr>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)"
        );
        assert_eq!(
            sig("RCPT from unknown[127.0.0.2]: 554 5.7.1 <victim0@outside.test>: Relay access denied; from=<promo0@spam-source.test> to=<victim0@outside.test> proto=ESMTP helo=<spam-bot.outside.test>"),
            "RCPT from <host>[<ip>]: 554 5.7.1 <addr>: Relay access denied"
        );
    }

    #[test]
    fn signatures_of_public_texts() {
        // IPv6 in brackets, a port, multi-line reply codes, a trace ID, a URL.
        assert_eq!(
            sig("host gmail-smtp-in.l.google.com[2607:f8b0:400e:c04::1b] said: 550-5.7.1 [2607:4100:3:25:100::2      12] Our system"),
            "host <host>[<ip>] said: 550-5.7.1 [<ip> <n>] Our system"
        );
        assert_eq!(
            sig("connect to alt2.aspmx.l.google.com[2607:f8b0:400d:c04::1b]:25: Network is unreachable"),
            "connect to <host>[<ip>]:<port>: Network is unreachable"
        );
        assert_eq!(
            sig("host alt1.gmail-smtp-in.l.google.com[108.177.97.26] said: 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp q24si6538316pgt.498 - gsmtp (in reply to RCPT TO command)"),
            "host <host>[<ip>] said: 452-4.2.2 The email account that you tried to reach is over quota. Please direct 452-4.2.2 the recipient to 452 4.2.2 <url> <id>.<n> - gsmtp (in reply to RCPT TO command)"
        );
        // Numbers that are not codes; a time; the DNSBL zone is kept.
        assert_eq!(
            sig("host mail2.example.com[1.74.253.23] said: 450 4.7.1 <user@example.com>: Recipient address rejected: Greylisted for 5 minutes (in reply to RCPT TO command)"),
            "host <host>[<ip>] said: 450 4.7.1 <addr>: Recipient address rejected: Greylisted for <n> minutes (in reply to RCPT TO command)"
        );
        assert_eq!(
            sig("contact your administrator. Time: (Jan 22 12:01:11), Client: (145.2.33.444)"),
            "contact your administrator. Time: (Jan <n> <time>), Client: (<ip>)"
        );
        assert_eq!(
            sig("RCPT from [27.157.200.233]:4984: 550 5.7.1 Service unavailable; client [27.157.200.233] blocked using zen.spamhaus.org; from=<hcdvbnm@qhhn.com>, to=<4ECEA00F.9040306@example.com>, proto=ESMTP, helo=<qhhn.com>"),
            "RCPT from [<ip>]:<port>: 550 5.7.1 Service unavailable; client [<ip>] blocked using zen.spamhaus.org"
        );
        // Queue IDs, short and long, and the `<>` sender.
        assert_eq!(
            sig("250 2.0.0 Ok: queued as A873C8A02F"),
            "250 2.0.0 Ok: queued as <qid>"
        );
        assert_eq!(
            sig("250 2.0.0 Ok: queued as 4jd6tz6wtjz5c6G; from=<>"),
            "250 2.0.0 Ok: queued as <qid>"
        );
        assert_eq!(sig("sender <> refused"), "sender <> refused");
        // Words with a digit or two are words.
        assert_eq!(
            sig("421 4.7.1 RCP-T4 IPv6 S3140"),
            "421 4.7.1 RCP-T4 IPv6 S3140"
        );
        assert_eq!(sig("2026-11-30T01:51:15.768284+00:00 x"), "<time> x");
        assert_eq!(sig("   "), "");
    }

    /// Real texts, and every counterexample the property tests below have found (shrunk),
    /// kept as fixed cases.
    #[test]
    fn signatures_are_idempotent_on_known_cases() {
        for s in [
            "host 127.0.0.1[127.0.0.1] said: 451 4.7.0 Try again later (in reply to RCPT TO command)",
            "delivery temporarily suspended:   delivery  temporarily suspended: x",
            "a  ; from=<b@c> ;  from=<d>",
            "x  ;  proto=SMTP",
            "RCPT from unknown[2001:980:cfb1:1:82f:f74e:a45c:3033]: 504 5.5.2 <aap@henk>: Sender address rejected: need fully-qualified address; from=<aap@henk> to=<user@example.com> proto=SMTP helo=<test>",
            // A host name that starts like a multi-line reply code (public kdent mail2.log).
            "RCPT from 218-161-12-34.dynamic.example.net[1.2.3.4]: 450 4.7.1 <x.example>: Helo command rejected: Host not found",
            // Found by proptest.
            "550-5.1.1host ",
            "mx.example.comA873C8A02F",
            "::fe80::12526host ",
            "2026-11-30T01:02:03Zusing mx.example.com]",
            "http://x.example/a(b)using mx.example.com ",
            "25-.fe80::1",
            "a@b.c4.7.0@",
            "4.7.0::451",
            "{451 4.7.0@",
            "<a\nb>",
        ] {
            let once = sig(s);
            assert_eq!(signature(once.as_bytes()), once, "{s:?}");
        }
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// Fragments that exercise every branch of the tokenizer when glued together.
        fn fragment() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                prop::sample::select(vec![
                    "host ",
                    "127.0.0.1",
                    "[",
                    "]",
                    "]:",
                    ":",
                    "25",
                    "2526",
                    "<",
                    ">",
                    "<>",
                    "a@b.c",
                    "@",
                    "said: ",
                    "451",
                    "4.7.0",
                    "550-5.1.1",
                    " ",
                    "  ",
                    "\t",
                    "::",
                    "fe80::1",
                    "2001:db8:0:0:0:0:0:1",
                    "12:01:11",
                    "2026-11-30T01:02:03Z",
                    "http://x.example/a(b)",
                    "https://y.test/.",
                    "mx.example.com",
                    "using ",
                    "A873C8A02F",
                    "4jd6tz6wtjz5c6G",
                    "u29si10248504yhu",
                    ".",
                    "-",
                    "delivery temporarily suspended: ",
                    "; from=<",
                    "; to=<",
                    "; proto=",
                    "<host>",
                    "<n>",
                    "<port>",
                    "x",
                    "Z",
                    "T",
                    "0",
                    "1",
                    "9",
                    "\u{e9}",
                    "\u{fffd}",
                    "using",
                    "blocked using ",
                    "%",
                    "+",
                    "=",
                    "(",
                    ")",
                    ";",
                    "\n",
                    "-5.1.1",
                    "550-",
                    "1.2.3",
                    "a.b",
                    "A1B2C3D4E5",
                    "+00:00",
                    "2.0.0",
                    "<a b>",
                    "\"",
                    "X",
                    "fe80::",
                    "421-4.7.0",
                ])
                .prop_map(|s| s.as_bytes().to_vec()),
                prop::collection::vec(any::<u8>(), 0..4),
            ]
        }

        /// Phrases of the decision table, in their case and others.
        fn cue() -> impl Strategy<Value = Vec<u8>> {
            let phrases: Vec<&'static str> = RULES
                .iter()
                .flat_map(|r| r.phrases.iter().copied())
                .collect();
            (prop::sample::select(phrases), any::<bool>()).prop_map(|(p, upper)| {
                if upper {
                    p.to_ascii_uppercase().into_bytes()
                } else {
                    p.as_bytes().to_vec()
                }
            })
        }

        proptest! {
            #[test]
            fn signature_is_idempotent_on_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..200)) {
                let once = signature(&b);
                prop_assert_eq!(signature(once.as_bytes()), once);
                let _ = classify(Some(&b), &b);
            }

            #[test]
            fn signature_is_idempotent_on_log_like_text(parts in prop::collection::vec(fragment(), 0..40)) {
                let b: Vec<u8> = parts.concat();
                let once = signature(&b);
                prop_assert_eq!(signature(once.as_bytes()), once.clone(), "input {:?}", String::from_utf8_lossy(&b));
                let _ = classify(None, &b);
                let _ = classify(Some(b"4.7.0"), &b);
            }

            /// What lets a caller classify once per signature: the signature keeps every cue.
            #[test]
            fn the_signature_classifies_as_the_text(
                parts in prop::collection::vec(prop_oneof![fragment(), cue()], 0..40),
                dsn in prop::sample::select(vec!["", "4.7.0", "5.1.1", "4.4.1", "5.7.1", "x"]),
            ) {
                let b: Vec<u8> = parts.concat();
                let dsn = (!dsn.is_empty()).then_some(dsn.as_bytes());
                let sig = signature(&b);
                prop_assert_eq!(
                    classify(dsn, sig.as_bytes()),
                    classify(dsn, &b),
                    "input {:?}, signature {:?}", String::from_utf8_lossy(&b), sig
                );
            }
        }
    }
}
