//! The daily digest (issue 7): what pflogsumm and Logwatch's postfix service report each
//! morning, with pflogsumm's own definitions, plus what they cannot say.
//!
//! - [`select`] picks one day by the log's own dates (`--day`).
//! - The Grand Totals are counted line by line with pflogsumm's definitions
//!   ([`pflogsumm`]), over every Postfix syslog name; when pflogsumm would read the same lines
//!   differently (a `postfix-out/…` instance, a service-labelled daemon, a timestamp it cannot
//!   parse, several hosts), its own numbers are counted too and the differences are listed.
//! - The unique-message totals come from the timelines (hops and requeues de-duplicated):
//!   where a content filter makes pflogsumm count a message twice, both are shown.
//! - Reasons are grouped by class and signature ([`classify`]); the day's incidents and their
//!   recovery come from [`incidents`], run over all the input so that a fault spanning
//!   midnight keeps its start and its recovery; the queue trend from the dumps of the day.
//!
//! Pure functions: events and dumps in, a serde model out. Rendering is `report::digest`.

pub mod pflogsumm;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use super::classify::{self, Class};
use super::incidents::{self, Resolution};
use crate::parse::{flags, Daemon, Event, Severity, TimeFormat};
use crate::qdump::Dump;
use crate::time::{civil_from_days, days_from_civil, Stamp, MICROS};
use crate::timeline::action::{self, Action, Status};
use crate::timeline::{self, Timelines};
use pflogsumm::{Counter, PfLine};

/// Which day `--day` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaySpec {
    All,
    Today,
    Yesterday,
    /// A local day, as days since 1970-01-01.
    Date(i64),
}

impl DaySpec {
    /// `all`, `today`, `yesterday` or `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<DaySpec, String> {
        match s.to_ascii_lowercase().as_str() {
            "all" => return Ok(DaySpec::All),
            "today" => return Ok(DaySpec::Today),
            "yesterday" => return Ok(DaySpec::Yesterday),
            _ => {}
        }
        let bad = || format!("--day {s:?}: use yesterday, today, all or YYYY-MM-DD");
        let parts: Vec<&str> = s.split('-').collect();
        if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
            return Err(bad());
        }
        let y: i32 = parts[0].parse().map_err(|_| bad())?;
        let m: u32 = parts[1].parse().map_err(|_| bad())?;
        let d: u32 = parts[2].parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) || d == 0 || d > 31 {
            return Err(bad());
        }
        let days = days_from_civil(y, m, d);
        // Reject 2026-02-30 and the like: the date must come back unchanged.
        if civil_from_days(days) != (y, m, d) {
            return Err(bad());
        }
        Ok(DaySpec::Date(days))
    }
}

/// `YYYY-MM-DD` of a day number.
pub fn date_string(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Wall-clock seconds of an instant in its own offset (the time as the log wrote it).
pub fn local_secs(t: Stamp) -> i64 {
    t.micros.div_euclid(MICROS) + t.offset_secs as i64
}

/// The local day of an event, as written in the log.
pub fn local_day(t: Stamp) -> i64 {
    local_secs(t).div_euclid(86_400)
}

/// The period a digest covers.
#[derive(Clone, Debug, Serialize)]
pub struct Period {
    /// `all`, `today`, `yesterday` or the date asked for.
    pub selection: String,
    /// The day chosen (`None` for `all`).
    pub day: Option<String>,
    /// How `today`/`yesterday` were resolved when the data is older than the clock.
    pub note: Option<String>,
    /// First and last line of the period.
    pub first: Option<Stamp>,
    pub last: Option<Stamp>,
    /// Days with lines in the period.
    pub days: Vec<String>,
    /// Events in the period, and in all the input.
    pub events: u64,
    pub events_in_input: u64,
}

/// Pick the events of the day asked for. `today` is the clock's local day. When the newest
/// line is older than the clock's yesterday, `today` and `yesterday` are taken relative to
/// the newest line's day, and the period's note says so.
pub fn select<'a>(events: &[Event<'a>], spec: DaySpec, today: i64) -> (Vec<Event<'a>>, Period) {
    let newest = events.iter().map(|e| local_day(e.time())).max();
    let mut note = None;
    let (selection, day) = match spec {
        DaySpec::All => ("all".to_string(), None),
        DaySpec::Date(d) => (date_string(d), Some(d)),
        DaySpec::Today | DaySpec::Yesterday => {
            let name = if spec == DaySpec::Today {
                "today"
            } else {
                "yesterday"
            };
            let back = if spec == DaySpec::Today { 0 } else { 1 };
            let anchor = match newest {
                Some(n) if n < today - 1 => {
                    let d = n - back;
                    note = Some(format!(
                        "the newest line is from {}, before yesterday by the clock ({}): \
                         \"{name}\" is taken relative to it, as {}",
                        date_string(n),
                        date_string(today - 1),
                        date_string(d)
                    ));
                    n
                }
                _ => today,
            };
            (name.to_string(), Some(anchor - back))
        }
    };
    let selected: Vec<Event<'a>> = match day {
        None => events.to_vec(),
        Some(d) => events
            .iter()
            .filter(|e| local_day(e.time()) == d)
            .copied()
            .collect(),
    };
    let mut days: Vec<i64> = selected.iter().map(|e| local_day(e.time())).collect();
    days.sort_unstable();
    days.dedup();
    let period = Period {
        selection,
        day: day.map(date_string),
        note,
        first: selected.iter().map(|e| e.time()).min_by_key(|t| t.micros),
        last: selected.iter().map(|e| e.time()).max_by_key(|t| t.micros),
        days: days.into_iter().map(date_string).collect(),
        events: selected.len() as u64,
        events_in_input: events.len() as u64,
    };
    (selected, period)
}

/// The Grand Totals: pflogsumm's definitions over every Postfix instance, and what
/// pflogsumm ignores.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    #[serde(flatten)]
    pub grand: pflogsumm::Totals,
    /// Messages returned to the sender by qmgr after the queue lifetime (`status=expired`,
    /// `force-expired`): pflogsumm counts them nowhere.
    pub expired: u64,
    /// Messages deleted by the admin (`postsuper -d`: per-ID lines, or its summaries when they
    /// name more).
    pub deleted: u64,
    /// Messages put on hold / released / requeued by the admin (postsuper).
    pub admin_held: u64,
    pub admin_released: u64,
    pub admin_requeued: u64,
}

/// One way pflogsumm reads the input differently.
#[derive(Clone, Debug, Serialize)]
pub struct Difference {
    pub what: String,
    pub lines: u64,
}

/// pflogsumm's own numbers on the same lines.
#[derive(Clone, Debug, Serialize)]
pub struct Compat {
    /// pflogsumm's Grand Totals equal [`Digest::totals`].
    pub same: bool,
    pub totals: pflogsumm::Totals,
    /// Why they differ (empty when pflogsumm reads every line as the digest does).
    pub differences: Vec<Difference>,
}

/// Unique messages, from the timelines: a message counts once across content-filter hops,
/// instance hops and requeues (pflogsumm counts each hop as a message received and each hand-off
/// as a delivery).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Unique {
    pub messages: u64,
    /// Queue files in all (what pflogsumm calls messages: hops and requeues included).
    pub transactions: u64,
    pub received: u64,
    pub recipients: u64,
    pub delivered: u64,
    pub bounced: u64,
    pub expired: u64,
    pub deleted: u64,
    pub deferred: u64,
    pub pending: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct InstanceRow {
    pub host: String,
    pub instance: String,
    pub lines: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrafficRow {
    /// `YYYY-MM-DD` (per day) or `HH:00` (per hour).
    pub at: String,
    #[serde(flatten)]
    pub traffic: pflogsumm::Traffic,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainRow {
    pub domain: String,
    pub sent: u64,
    pub bytes: u64,
    pub defers: u64,
    pub avg_delay_s: f64,
    pub max_delay_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VolumeRow {
    pub name: String,
    pub messages: u64,
    pub bytes: u64,
}

/// Deferrals, bounces or rejects with one cause.
#[derive(Clone, Debug, Serialize)]
pub struct ReasonRow {
    pub class: Class,
    pub signature: String,
    pub count: u64,
    /// Recipient domains (deferrals, bounces) or clients (rejects), most frequent first.
    pub top: Vec<String>,
    pub sample_line: String,
}

/// Counts per class, for the reasons' summary line.
#[derive(Clone, Debug, Serialize)]
pub struct ClassCount {
    pub class: Class,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Reasons {
    pub total: u64,
    pub by_class: Vec<ClassCount>,
    pub by_signature: Vec<ReasonRow>,
}

/// smtpd connections, as pflogsumm's `--smtpd-stats` counts them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Smtpd {
    pub connections: u64,
    pub hosts: u64,
    pub avg_seconds: f64,
    pub total_seconds: i64,
    pub max_seconds: i64,
    pub top_hosts: Vec<ConnRow>,
    /// `lost connection after …` / `timeout after …` by stage.
    pub lost: Vec<(String, u64)>,
    pub timeouts: Vec<(String, u64)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnRow {
    pub host: String,
    pub connections: u64,
    pub total_seconds: i64,
    pub max_seconds: i64,
}

/// TLS sessions established.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tls {
    /// By smtpd and tlsproxy (`… TLS connection established from …`).
    pub inbound: u64,
    /// By smtp and lmtp (`… TLS connection established to …`).
    pub outbound: u64,
    /// smtpd connections (for the share of inbound sessions with TLS).
    pub smtpd_connections: u64,
    /// `(direction, trust, protocol)` → sessions: `outbound Verified TLSv1.3`.
    pub by_kind: Vec<(String, u64)>,
}

/// A warning, fatal error, panic or master message, by daemon and normalised text.
#[derive(Clone, Debug, Serialize)]
pub struct MessageRow {
    pub daemon: String,
    pub text: String,
    pub count: u64,
}

/// One incident of the period, with its recovery.
#[derive(Clone, Debug, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub class: Class,
    pub domains: Vec<String>,
    pub start: Stamp,
    pub end: Option<Stamp>,
    pub resolution: Resolution,
    pub recovered_at: Option<Stamp>,
    pub time_to_recover_s: Option<f64>,
    pub failed_attempts: u64,
    pub messages_affected: u64,
    pub delivered_after_retry: u64,
    pub bounced: u64,
    pub expired: u64,
    pub deleted: u64,
    pub still_pending: u64,
    pub signature: String,
}

/// The queue dumps of the period.
#[derive(Clone, Debug, Serialize)]
pub struct QueueTrend {
    pub snapshots: u64,
    pub first_at: Option<Stamp>,
    pub first_messages: u64,
    pub last_at: Option<Stamp>,
    pub last_messages: u64,
    pub peak_messages: u64,
    pub peak_at: Option<Stamp>,
    /// Messages present in every snapshot.
    pub stuck: u64,
    /// Domains with the most recipients in the newest snapshot.
    pub top_domains: Vec<(String, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Warning,
    Critical,
}

#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub status: HealthStatus,
    /// One line: `WARNING: 2 incidents, both recovered; 30 bounced (1.2%)`.
    pub line: String,
}

/// Everything the digest shows.
#[derive(Clone, Debug, Serialize)]
pub struct Digest {
    pub period: Period,
    pub health: Health,
    pub totals: Totals,
    pub pflogsumm: Compat,
    pub unique: Unique,
    /// Lines per host and syslog instance.
    pub instances: Vec<InstanceRow>,
    /// Per day, when the period has more than one.
    pub per_day: Vec<TrafficRow>,
    pub per_hour: Vec<TrafficRow>,
    pub delivery_domains: Vec<DomainRow>,
    pub received_domains: Vec<VolumeRow>,
    pub senders_by_count: Vec<VolumeRow>,
    pub recipients_by_count: Vec<VolumeRow>,
    pub senders_by_size: Vec<VolumeRow>,
    pub recipients_by_size: Vec<VolumeRow>,
    pub deferrals: Reasons,
    pub bounces: Reasons,
    pub rejects: Reasons,
    pub smtpd: Smtpd,
    pub tls: Tls,
    pub warnings: Vec<MessageRow>,
    pub fatals: Vec<MessageRow>,
    pub panics: Vec<MessageRow>,
    pub master: Vec<MessageRow>,
    pub incidents: Vec<IncidentRow>,
    pub queue: Option<QueueTrend>,
}

/// How to build a digest.
#[derive(Clone, Debug)]
pub struct Options {
    pub day: DaySpec,
    /// The clock's local day (days since 1970), for `today` and `yesterday`.
    pub today: i64,
    /// Rows per table.
    pub top: usize,
}

/// Build the digest of `all` (every event of the input, time-ordered) for the day asked.
pub fn build(
    all: &[Event<'_>],
    dumps: &[Dump],
    postconf: &BTreeMap<String, String>,
    opts: &Options,
) -> Digest {
    let (events, period) = select(all, opts.day, opts.today);
    let day_range = opts_day_range(&period);

    // pflogsumm's definitions, over every Postfix instance.
    let mut ns_names: Vec<(&[u8], &[u8])> = Vec::new();
    let mut ns_lines: Vec<u64> = Vec::new();
    let mut ours = Counter::new(true);
    for e in &events {
        let id = (e.host(), e.instance());
        let ns = match ns_names.iter().position(|n| *n == id) {
            Some(p) => p,
            None => {
                ns_names.push(id);
                ns_lines.push(0);
                ns_names.len() - 1
            }
        };
        ns_lines[ns] += 1;
        let Some(msg) = crate::parse::message(e.line()) else {
            continue;
        };
        ours.feed(&PfLine {
            ns: ns as u32,
            cmd: e.daemon_name(),
            pid: e.pid(),
            msg,
            local_secs: local_secs(e.time()),
        });
    }
    let grand = ours.totals();
    let compat = compat(&events, &grand, ns_names.iter().map(|n| n.0));

    // Finished lives delivered at once fold as they end: the digest needs their counts.
    let timelines = timeline::build_folded(&events, dumps, timeline::TIMELINE_CAP);
    let mut totals = Totals {
        grand,
        ..Default::default()
    };
    admin_counts(&events, &timelines, &mut totals);
    let tt = timelines.totals();
    let unique = Unique {
        messages: tt.messages,
        transactions: tt.transactions,
        received: tt.received,
        recipients: tt.recipients,
        delivered: tt.delivered,
        bounced: tt.bounced,
        expired: tt.expired,
        deleted: tt.deleted,
        deferred: tt.deferred,
        pending: tt.pending,
    };

    let instances = ns_names
        .iter()
        .zip(&ns_lines)
        .map(|((h, i), n)| InstanceRow {
            host: String::from_utf8_lossy(h).into_owned(),
            instance: String::from_utf8_lossy(i).into_owned(),
            lines: *n,
        })
        .collect();

    let per_day = if ours.per_day.len() > 1 {
        ours.per_day
            .iter()
            .map(|(d, t)| TrafficRow {
                at: date_string(*d),
                traffic: *t,
            })
            .collect()
    } else {
        Vec::new()
    };
    let per_hour = ours
        .per_hour
        .iter()
        .enumerate()
        .map(|(h, t)| TrafficRow {
            at: format!("{h:02}:00"),
            traffic: *t,
        })
        .collect();

    let top = opts.top;
    let mut delivery_domains: Vec<DomainRow> = ours
        .recipient_domains
        .iter()
        .map(|(d, r)| DomainRow {
            domain: d.clone(),
            sent: r.sent,
            bytes: r.bytes,
            defers: r.defers,
            avg_delay_s: if r.sent > 0 {
                r.delay_sum / r.sent as f64
            } else {
                0.0
            },
            max_delay_s: r.delay_max,
        })
        .collect();
    delivery_domains.sort_by(|a, b| {
        (b.sent, b.bytes, b.defers)
            .cmp(&(a.sent, a.bytes, a.defers))
            .then_with(|| a.domain.cmp(&b.domain))
    });
    delivery_domains.truncate(top);
    let volume = |m: &HashMap<String, pflogsumm::Volume>, by_size: bool| {
        let mut v: Vec<VolumeRow> = m
            .iter()
            .filter(|(_, v)| v.messages > 0)
            .map(|(k, v)| VolumeRow {
                name: k.clone(),
                messages: v.messages,
                bytes: v.bytes,
            })
            .collect();
        v.sort_by(|a, b| {
            let (ka, kb) = if by_size {
                ((a.bytes, a.messages), (b.bytes, b.messages))
            } else {
                ((a.messages, a.bytes), (b.messages, b.bytes))
            };
            kb.cmp(&ka).then_with(|| a.name.cmp(&b.name))
        });
        v.truncate(top);
        v
    };

    let smtpd = smtpd_stats(&ours, &events, top);
    let tls = tls_stats(&events, smtpd.connections);
    let (deferrals, bounces, rejects) = reasons(&events, top);
    let (warnings, fatals, panics, master) = messages(&events, top);

    // Incidents over all the input, kept when they touch the period.
    let incidents = match day_range {
        None => day_incidents(&events, &timelines, dumps, postconf, None),
        Some(_) => {
            let t = timeline::build_folded(all, dumps, timeline::TIMELINE_CAP);
            day_incidents(all, &t, dumps, postconf, day_range)
        }
    };
    let queue = queue_trend(dumps, day_range, top);

    let mut d = Digest {
        period,
        health: Health {
            status: HealthStatus::Ok,
            line: String::new(),
        },
        totals,
        pflogsumm: compat,
        unique,
        instances,
        per_day,
        per_hour,
        delivery_domains,
        received_domains: volume(&ours.sending_domains, false),
        senders_by_count: volume(&ours.senders, false),
        recipients_by_count: volume(&ours.recipients, false),
        senders_by_size: volume(&ours.senders, true),
        recipients_by_size: volume(&ours.recipients, true),
        deferrals,
        bounces,
        rejects,
        smtpd,
        tls,
        warnings,
        fatals,
        panics,
        master,
        incidents,
        queue,
    };
    d.health = health(&d);
    d
}

/// The period's bounds in UTC microseconds (`None` for all).
fn opts_day_range(p: &Period) -> Option<(i64, i64)> {
    let day = p.day.as_deref()?;
    let d = match DaySpec::parse(day).ok()? {
        DaySpec::Date(d) => d,
        _ => return None,
    };
    // Local days; the offset of the period's lines (or UTC) turns them into instants.
    let off = p.first.map_or(0, |f| f.offset_secs as i64);
    let start = (d * 86_400 - off) * MICROS;
    Some((start, start + 86_400 * MICROS))
}

/// Count as pflogsumm does, and say where it reads the lines differently from the digest.
fn compat<'h>(
    events: &[Event<'_>],
    ours: &pflogsumm::Totals,
    hosts: impl Iterator<Item = &'h [u8]>,
) -> Compat {
    let mut diff: BTreeMap<String, u64> = BTreeMap::new();
    let mut hosts: Vec<&[u8]> = hosts.collect();
    hosts.sort_unstable();
    hosts.dedup();
    for e in events {
        let mut why = None;
        if e.instance() != b"postfix" {
            why = Some(format!(
                "lines of the syslog name {} (pflogsumm reads only postfix/…)",
                String::from_utf8_lossy(e.instance())
            ));
        } else if e.flags & flags::UNWRAPPED != 0 {
            why =
                Some("container lines inside another syslog prefix (pflogsumm drops them)".into());
        } else if e.flags & flags::REPEATED != 0 {
            why = Some(
                "repeated-message lines (pflogsumm reads `message repeated N times` once, \
                 under the queue ID `message`)"
                    .into(),
            );
        } else if matches!(
            e.format,
            TimeFormat::TraditionalPrecise | TimeFormat::Iso8601
        ) {
            why = Some(format!(
                "lines with {} timestamps (pflogsumm cannot read them)",
                e.format.name()
            ));
        } else if !e.service().is_empty() {
            let path = [e.service(), e.daemon_name()].join(&b'/');
            let pf_cmd = path
                .strip_prefix(b"smtps/")
                .or_else(|| path.strip_prefix(b"submission/"))
                .unwrap_or(&path);
            if pf_cmd != e.daemon_name()
                && matches!(
                    e.daemon,
                    Daemon::Smtpd
                        | Daemon::Cleanup
                        | Daemon::Postscreen
                        | Daemon::Pickup
                        | Daemon::Master
                )
            {
                why = Some(format!(
                    "lines of {} (pflogsumm does not read them as {})",
                    e.tag(),
                    String::from_utf8_lossy(e.daemon_name())
                ));
            }
        }
        if let Some(w) = why {
            *diff.entry(w).or_insert(0) += 1;
        }
    }
    if hosts.len() > 1 {
        diff.insert(
            format!(
                "lines of {} hosts (pflogsumm mixes their queue IDs)",
                hosts.len()
            ),
            events.len() as u64,
        );
    }
    if diff.is_empty() {
        return Compat {
            same: true,
            totals: ours.clone(),
            differences: Vec::new(),
        };
    }
    // pflogsumm's reading of the raw lines.
    let mut c = Counter::new(false);
    let mut last_repeat = None;
    for e in events {
        if e.flags & flags::REPEATED != 0 {
            // rsyslog's `message repeated` line is one raw line; sysklogd's `last message
            // repeated` copies are not Postfix lines to pflogsumm at all.
            if last_repeat == Some(e.loc)
                || memchr::memmem::find(e.line(), b"message repeated ").is_none()
            {
                continue;
            }
            last_repeat = Some(e.loc);
        }
        let secs = local_secs(e.time());
        pflogsumm::raw_line(e.line(), |cmd, pid, msg| {
            c.feed(&PfLine {
                ns: 0,
                cmd,
                pid,
                msg,
                local_secs: secs,
            })
        });
    }
    let totals = c.totals();
    Compat {
        same: &totals == ours,
        totals,
        differences: diff
            .into_iter()
            .map(|(what, lines)| Difference { what, lines })
            .collect(),
    }
}

/// Expiries and admin actions of the period.
fn admin_counts(events: &[Event<'_>], t: &Timelines, out: &mut Totals) {
    for e in events {
        if let Action::Expired { .. } = action::action(e) {
            out.expired += 1;
        }
    }
    let a = &t.admin;
    let summed = |verb: &str| -> u64 {
        a.summaries
            .iter()
            .filter(|s| s.verb.eq_ignore_ascii_case(verb))
            .map(|s| s.count)
            .sum()
    };
    out.deleted = a.deleted.max(summed("Deleted"));
    out.admin_held = a.held.max(summed("Placed on hold"));
    out.admin_released = a.released.max(summed("Released from hold"));
    out.admin_requeued = a.requeued.max(summed("Requeued"));
}

fn smtpd_stats(c: &Counter, events: &[Event<'_>], top: usize) -> Smtpd {
    let mut hosts: Vec<ConnRow> = c
        .smtpd_per_host
        .iter()
        .map(|(h, r)| ConnRow {
            host: h.clone(),
            connections: r.count,
            total_seconds: r.seconds,
            max_seconds: r.max_seconds,
        })
        .collect();
    hosts.sort_by(|a, b| {
        b.connections
            .cmp(&a.connections)
            .then_with(|| a.host.cmp(&b.host))
    });
    let n_hosts = hosts.len() as u64;
    hosts.truncate(top);
    let mut lost: BTreeMap<String, u64> = BTreeMap::new();
    let mut timeouts: BTreeMap<String, u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.daemon == Daemon::Smtpd) {
        for (pre, map) in [
            (&b"lost connection after "[..], &mut lost),
            (b"timeout after ", &mut timeouts),
        ] {
            if let Some(r) = e.text().strip_prefix(pre) {
                let end = memchr::memmem::find(r, b" from ").unwrap_or(r.len());
                *map.entry(String::from_utf8_lossy(&r[..end]).into_owned())
                    .or_insert(0) += 1;
            }
        }
    }
    let sorted = |m: BTreeMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(top);
        v
    };
    Smtpd {
        connections: c.smtpd.count,
        hosts: n_hosts,
        avg_seconds: if c.smtpd.count > 0 {
            c.smtpd.seconds as f64 / c.smtpd.count as f64
        } else {
            0.0
        },
        total_seconds: c.smtpd.seconds,
        max_seconds: c.smtpd.max_seconds,
        top_hosts: hosts,
        lost: sorted(lost),
        timeouts: sorted(timeouts),
    }
}

fn tls_stats(events: &[Event<'_>], smtpd_connections: u64) -> Tls {
    let mut t = Tls {
        smtpd_connections,
        ..Default::default()
    };
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        let Action::Tls { detail, .. } = action::action(e) else {
            continue;
        };
        let at = crate::parse::find::TLS_ESTABLISHED
            .find(e.text())
            .unwrap_or(0);
        let trust = e.text()[..at].trim_ascii();
        let inbound = e.text()[at..].starts_with(b"TLS connection established from");
        if inbound {
            t.inbound += 1;
        } else {
            t.outbound += 1;
        }
        let proto = detail.split(|&c| c == b' ').next().unwrap_or_default();
        let key = format!(
            "{} {} {}",
            if inbound { "inbound" } else { "outbound" },
            if trust.is_empty() {
                "?".into()
            } else {
                String::from_utf8_lossy(trust)
            },
            String::from_utf8_lossy(proto)
        );
        *kinds.entry(key).or_insert(0) += 1;
    }
    let mut v: Vec<(String, u64)> = kinds.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    t.by_kind = v;
    t
}

#[derive(Default)]
struct ReasonAcc {
    count: u64,
    top: HashMap<String, u64>,
    sample: String,
}

fn finish_reasons(m: HashMap<(Class, String), ReasonAcc>, top: usize) -> Reasons {
    let mut by_class: BTreeMap<Class, u64> = BTreeMap::new();
    let mut total = 0;
    let mut rows: Vec<ReasonRow> = m
        .into_iter()
        .map(|((class, signature), a)| {
            *by_class.entry(class).or_insert(0) += a.count;
            total += a.count;
            let mut tops: Vec<(String, u64)> = a.top.into_iter().collect();
            tops.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
            ReasonRow {
                class,
                signature,
                count: a.count,
                top: tops.into_iter().take(3).map(|(k, _)| k).collect(),
                sample_line: a.sample,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.class.cmp(&b.class))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    rows.truncate(top);
    let mut by_class: Vec<ClassCount> = by_class
        .into_iter()
        .map(|(class, count)| ClassCount { class, count })
        .collect();
    by_class.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.class.cmp(&b.class)));
    Reasons {
        total,
        by_class,
        by_signature: rows,
    }
}

/// Deferrals, bounces and rejects by class and signature.
fn reasons(events: &[Event<'_>], top: usize) -> (Reasons, Reasons, Reasons) {
    let mut d: HashMap<(Class, String), ReasonAcc> = HashMap::default();
    let mut b: HashMap<(Class, String), ReasonAcc> = HashMap::default();
    let mut r: HashMap<(Class, String), ReasonAcc> = HashMap::default();
    let add = |m: &mut HashMap<(Class, String), ReasonAcc>,
               class: Class,
               sig: String,
               who: String,
               e: &Event<'_>| {
        let a = m.entry((class, sig)).or_default();
        if a.count == 0 {
            a.sample = String::from_utf8_lossy(e.line()).into_owned();
        }
        a.count += 1;
        *a.top.entry(who).or_insert(0) += 1;
    };
    for e in events {
        match action::action(e) {
            Action::Delivery(x) => {
                let map = match x.status {
                    Status::Deferred | Status::SoftBounce => &mut d,
                    Status::Bounced => &mut b,
                    _ => continue,
                };
                let dom = match memchr::memrchr(b'@', x.to) {
                    Some(p) => &x.to[p + 1..],
                    None => x.to,
                };
                add(
                    map,
                    classify::classify(x.dsn, x.reason),
                    classify::signature(x.reason),
                    String::from_utf8_lossy(dom).to_ascii_lowercase(),
                    e,
                );
            }
            Action::Reject(x) => {
                if !x.action.ends_with(b"reject") {
                    continue;
                }
                let text: Vec<u8> = if x.stage.is_empty() {
                    x.text.to_vec()
                } else {
                    [x.stage, b": ", x.text].concat()
                };
                add(
                    &mut r,
                    classify::classify(None, x.text),
                    classify::signature(&text),
                    String::from_utf8_lossy(x.client).into_owned(),
                    e,
                );
            }
            _ => {}
        }
    }
    (
        finish_reasons(d, top),
        finish_reasons(b, top),
        finish_reasons(r, top),
    )
}

type Rows = Vec<MessageRow>;

/// Warnings, fatal errors, panics and master daemon messages, by daemon and signature.
fn messages(events: &[Event<'_>], top: usize) -> (Rows, Rows, Rows, Rows) {
    let mut maps: [BTreeMap<(String, String), u64>; 4] = Default::default();
    for e in events {
        let slot = match e.severity {
            Severity::Warning | Severity::Error => 0,
            Severity::Fatal => 1,
            Severity::Panic => 2,
            Severity::Info if e.daemon == Daemon::Master => 3,
            Severity::Info => continue,
        };
        let text = if slot == 3 {
            String::from_utf8_lossy(e.text()).into_owned()
        } else {
            classify::signature(e.text())
        };
        *maps[slot].entry((e.tag(), text)).or_insert(0) += 1;
    }
    let rows = |m: &BTreeMap<(String, String), u64>| {
        let mut v: Vec<MessageRow> = m
            .iter()
            .map(|((d, t), n)| MessageRow {
                daemon: d.clone(),
                text: t.clone(),
                count: *n,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.daemon.cmp(&b.daemon)));
        v.truncate(top);
        v
    };
    (
        rows(&maps[0]),
        rows(&maps[1]),
        rows(&maps[2]),
        rows(&maps[3]),
    )
}

fn day_incidents(
    all: &[Event<'_>],
    t: &Timelines,
    dumps: &[Dump],
    postconf: &BTreeMap<String, String>,
    range: Option<(i64, i64)>,
) -> Vec<IncidentRow> {
    let scan = super::scan::scan(all);
    let att = incidents::attempts(all, t);
    let times: Vec<Option<Stamp>> = dumps.iter().map(|d| d.taken_at).collect();
    let a = incidents::analyse(all, &scan, t, &att, dumps, &times, postconf);
    a.incidents
        .into_iter()
        .filter(|i| match range {
            None => true,
            Some((lo, hi)) => {
                let end = i.end.unwrap_or(i.last_failure_at).micros;
                let end = if i.resolution == Resolution::Ongoing {
                    i64::MAX
                } else {
                    end
                };
                i.start.micros < hi && end >= lo
            }
        })
        .map(|i| IncidentRow {
            id: i.id,
            class: i.class,
            domains: i.domains,
            start: i.start,
            end: i.end,
            resolution: i.resolution,
            recovered_at: i.recovered_at,
            time_to_recover_s: i.time_to_recover_s,
            failed_attempts: i.failed_attempts,
            messages_affected: i.messages_affected,
            delivered_after_retry: i.delivered_after_retry,
            bounced: i.bounced,
            expired: i.expired,
            deleted: i.deleted,
            still_pending: i.still_pending,
            signature: i.signature,
        })
        .collect()
}

fn queue_trend(dumps: &[Dump], range: Option<(i64, i64)>, top: usize) -> Option<QueueTrend> {
    use super::queue;
    let chosen: Vec<Dump> = dumps
        .iter()
        .filter(|d| match (range, d.taken_at) {
            (None, _) => true,
            (Some((lo, hi)), Some(t)) => t.micros >= lo && t.micros < hi,
            (Some(_), None) => false,
        })
        .cloned()
        .collect();
    if chosen.is_empty() {
        return None;
    }
    let ordered = queue::ordered(&chosen);
    let trend = queue::trend(&ordered);
    let count = |d: &Dump| d.messages.len() as u64;
    let first = ordered.first()?;
    let last = ordered.last()?;
    let mut doms: BTreeMap<String, u64> = BTreeMap::new();
    for m in &last.messages {
        for r in &m.recipients {
            *doms.entry(queue::domain_of(&r.address)).or_insert(0) += 1;
        }
    }
    let mut top_domains: Vec<(String, u64)> = doms.into_iter().collect();
    top_domains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top_domains.truncate(top.min(5));
    Some(QueueTrend {
        snapshots: ordered.len() as u64,
        first_at: first.taken_at,
        first_messages: count(first),
        last_at: last.taken_at,
        last_messages: count(last),
        peak_messages: trend.peak_messages,
        peak_at: trend.peak_at,
        stuck: if ordered.len() > 1 {
            trend.stuck_in_all.len() as u64
        } else {
            0
        },
        top_domains,
    })
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

/// The one-line verdict. CRITICAL: an incident still going at the end of the period, a
/// panic, or mail going nowhere (deferrals and no delivery). WARNING: incidents (recovered or
/// closed), fatal errors, more than 5 % of recipients bounced, messages expired, no log line
/// at all for the day (logging broken, or the wrong files), or a queue that ends at more than
/// twice its start (and 100 messages). OK otherwise.
pub fn health(d: &Digest) -> Health {
    let g = &d.totals.grand;
    let mut status = HealthStatus::Ok;
    let mut parts: Vec<String> = Vec::new();
    let raise = |s: HealthStatus, status: &mut HealthStatus| {
        if s > *status {
            *status = s;
        }
    };
    let ongoing: Vec<&IncidentRow> = d
        .incidents
        .iter()
        .filter(|i| i.resolution == Resolution::Ongoing)
        .collect();
    if !d.incidents.is_empty() {
        let recovered = d
            .incidents
            .iter()
            .filter(|i| i.resolution == Resolution::Recovered)
            .count();
        let mut s = format!(
            "{} incident{}",
            d.incidents.len(),
            if d.incidents.len() == 1 { "" } else { "s" }
        );
        if ongoing.is_empty() {
            raise(HealthStatus::Warning, &mut status);
            s.push_str(&format!(", {recovered} recovered"));
            let worst = d
                .incidents
                .iter()
                .filter_map(|i| i.time_to_recover_s)
                .fold(0.0, f64::max);
            if recovered > 0 {
                s.push_str(&format!(
                    " (the longest in {})",
                    crate::report::summary::duration(worst)
                ));
            }
        } else {
            raise(HealthStatus::Critical, &mut status);
            let names: Vec<String> = ongoing
                .iter()
                .map(|i| format!("{} for {}", i.class.name(), i.domains.join(", ")))
                .collect();
            s.push_str(&format!(", ONGOING: {}", names.join("; ")));
        }
        parts.push(s);
    }
    if !d.panics.is_empty() {
        raise(HealthStatus::Critical, &mut status);
        parts.push(format!(
            "{} panic{}",
            d.panics.iter().map(|p| p.count).sum::<u64>(),
            if d.panics.len() == 1 { "" } else { "s" }
        ));
    }
    if g.delivered == 0 && g.deferrals > 0 {
        raise(HealthStatus::Critical, &mut status);
        parts.push(format!("nothing delivered, {} deferrals", g.deferrals));
    }
    let fatals: u64 = d.fatals.iter().map(|f| f.count).sum();
    if fatals > 0 {
        raise(HealthStatus::Warning, &mut status);
        parts.push(format!(
            "{fatals} fatal error{}",
            if fatals == 1 { "" } else { "s" }
        ));
    }
    let bounce_pct = pct(g.bounced, g.delivered + g.bounced);
    if g.bounced > 0 {
        if bounce_pct > 5.0 {
            raise(HealthStatus::Warning, &mut status);
        }
        parts.push(format!("{} bounced ({bounce_pct:.1}%)", g.bounced));
    }
    if d.totals.expired > 0 {
        raise(HealthStatus::Warning, &mut status);
        parts.push(format!("{} expired", d.totals.expired));
    }
    if d.period.events == 0 {
        raise(HealthStatus::Warning, &mut status);
        parts.push(match &d.period.day {
            Some(day) => format!("no Postfix log line for {day}"),
            None => "no Postfix log line".to_string(),
        });
    }
    if let Some(q) = &d.queue {
        if q.last_messages > 100 && q.last_messages > 2 * q.first_messages {
            raise(HealthStatus::Warning, &mut status);
            parts.push(format!(
                "queue grew from {} to {} messages",
                q.first_messages, q.last_messages
            ));
        }
    }
    if parts.is_empty() || status == HealthStatus::Ok {
        parts.insert(
            0,
            format!(
                "{} received, {} delivered, {} deferred",
                g.received, g.delivered, g.deferred
            ),
        );
        if d.incidents.is_empty() {
            parts.push("no incident".into());
        }
    }
    let word = match status {
        HealthStatus::Ok => "OK",
        HealthStatus::Warning => "WARNING",
        HealthStatus::Critical => "CRITICAL",
    };
    Health {
        status,
        line: format!("{word}: {}", parts.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_specs() {
        assert_eq!(DaySpec::parse("all"), Ok(DaySpec::All));
        assert_eq!(DaySpec::parse("Yesterday"), Ok(DaySpec::Yesterday));
        assert_eq!(
            DaySpec::parse("2026-11-30").map(|d| match d {
                DaySpec::Date(n) => date_string(n),
                _ => String::new(),
            }),
            Ok("2026-11-30".to_string())
        );
        assert!(DaySpec::parse("2026-02-30").is_err());
        assert!(DaySpec::parse("30.11.2026").is_err());
        assert!(DaySpec::parse("2026-11-3").is_err());
    }
}
