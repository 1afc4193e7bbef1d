//! The report model: one serde structure that every renderer formats. Analysis fills it; the
//! renderers (JSON now; Markdown and HTML later) never parse anything.
//!
//! The JSON contract is `mailsleuth/report/1`: later versions add fields, never rename them.

pub mod charts;
pub mod digest;
pub mod html;
pub mod json;
pub mod markdown;
pub mod redact;
pub mod summary;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::{WarnKind, Warning};
use crate::ingest::{year::YearEvidence, Loaded, Parsed};
use crate::parse::QueueId;
use crate::time::Stamp;
use crate::timeline::{Arrival, End, LinkKind, Message, Outcome, Timelines};

pub const SCHEMA: &str = "mailsleuth/report/1";

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub generator: Generator,
    pub settings: Settings,
    pub inputs: Vec<InputReport>,
    pub span: Span,
    pub totals: Totals,
    /// Hosts with Postfix lines, and how many events each.
    pub hosts: Vec<HostCount>,
    /// Incident windows, recipient problems, signatures, admin actions (issue: incidents).
    #[serde(flatten)]
    pub analysis: crate::analysis::incidents::Analysis,
    /// Queue dumps: snapshots, trend (when dumps were given).
    pub queue: Option<QueueReport>,
    /// Plain-language summary and status line.
    pub summary: summary::Summary,
    /// Deliveries, deferrals, bounces and rejects over time.
    pub traffic: crate::analysis::stats::Traffic,
    /// Queue size over time derived from the log: (time, messages), thinned for charts.
    pub queue_from_log: Vec<(Stamp, i64)>,
    pub delays: crate::analysis::stats::Delays,
    pub destinations: crate::analysis::stats::Destinations,
    pub rejects: crate::analysis::stats::Rejects,
    /// Periods with no log line (data quality).
    pub gaps: Vec<crate::analysis::stats::Gap>,
    /// The timelines of the messages the report cites (incident samples), event by event.
    pub cited_messages: Vec<CitedMessage>,
    /// Every message's life, with `--messages`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageReport>>,
}

/// A message the report cites, with its events, for the timeline appendix.
#[derive(Debug, Serialize)]
pub struct CitedMessage {
    /// HTML anchor: `msg-QUEUEID`.
    pub anchor: String,
    pub message: MessageReport,
    pub events: Vec<CitedEvent>,
}

#[derive(Debug, Serialize)]
pub struct CitedEvent {
    pub at: Stamp,
    pub since: String,
    pub tag: String,
    pub text: String,
    pub source: String,
}

/// The anchor of a cited message: its queue ID (the first life the report cites).
pub fn anchor_for(m: &Message) -> String {
    format!("msg-{}", m.queue_id)
}

fn cite(
    loaded: &Loaded,
    parsed: &Parsed<'_>,
    timelines: &Timelines,
    analysis: &crate::analysis::incidents::Analysis,
) -> Vec<CitedMessage> {
    let mut wanted: Vec<usize> = Vec::new();
    for i in &analysis.incidents {
        for &idx in &i.sample_messages {
            if !wanted.contains(&idx) {
                wanted.push(idx);
            }
        }
    }
    // The lines of the lives cited, found at once: those a life kept whole shows, and those
    // of the group of a life kept in short, which is rebuilt from them.
    let lines: Vec<u32> = wanted
        .iter()
        .flat_map(|&i| match timelines.messages.get(i) {
            Some(m) => m.events.iter().take(200).copied().collect(),
            None => timelines.group_lines(i).unwrap_or_default(),
        })
        .collect();
    // Parsed again from where they came from: the report lets go of the events early.
    let events = parsed.origins.events(&lines);
    wanted
        .into_iter()
        .filter_map(|i| {
            // A life kept in short (past the cap) is rebuilt from its lines.
            let m: std::borrow::Cow<'_, Message> = match timelines.messages.get(i) {
                Some(m) => std::borrow::Cow::Borrowed(m),
                None => std::borrow::Cow::Owned(timelines.rebuilt(i, &events)?),
            };
            let arrived = m.received_at.or(Some(m.first_at));
            Some(CitedMessage {
                anchor: anchor_for(&m),
                message: MessageReport::new(&m),
                events: m
                    .events
                    .iter()
                    .take(200)
                    .filter_map(|ei| events.get(ei))
                    .map(|e| CitedEvent {
                        at: e.time(),
                        since: crate::time::since(arrived, e.time()),
                        tag: e.tag(),
                        text: String::from_utf8_lossy(e.text()).into_owned(),
                        source: format!(
                            "{}:{}",
                            loaded.inputs[e.loc.input as usize].path, e.loc.line
                        ),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The queue part of the report.
#[derive(Debug, Serialize)]
pub struct QueueReport {
    pub age_buckets_min: Vec<String>,
    pub snapshots: Vec<crate::analysis::queue::Snapshot>,
    pub trend: crate::analysis::queue::Trend,
    /// The newest dump's messages joined with their timelines, when logs were given too.
    pub joined: Vec<JoinedRow>,
}

/// A queued message and what the logs say of it.
#[derive(Debug, Serialize)]
pub struct JoinedRow {
    pub queue_id: String,
    /// When its life began in the logs (arrival, or the first line seen).
    pub stuck_since: Stamp,
    pub partial: bool,
    pub attempts: u32,
    pub last_attempt_at: Option<Stamp>,
    pub last_error: Option<String>,
}

impl QueueReport {
    pub fn build(
        dumps: &[crate::qdump::Dump],
        zone: &crate::time::Zone,
        timelines: Option<&Timelines>,
    ) -> Option<QueueReport> {
        use crate::analysis::queue;
        if dumps.is_empty() {
            return None;
        }
        let ordered = queue::ordered(dumps);
        let mut joined = Vec::new();
        if let (Some(t), Some(newest)) = (timelines, ordered.last()) {
            let mut latest: std::collections::HashMap<QueueId, &Message> = Default::default();
            for m in &t.messages {
                latest.insert(m.queue_id, m);
            }
            for q in &newest.messages {
                let Some(m) = q.queue_id.and_then(|id| latest.get(&id)) else {
                    continue;
                };
                let last = m
                    .recipients
                    .iter()
                    .filter(|r| r.last_attempt_at.is_some())
                    .max_by_key(|r| r.last_attempt_at.map(|s| s.micros));
                joined.push(JoinedRow {
                    queue_id: q.queue_id_text.clone(),
                    stuck_since: m.received_at.unwrap_or(m.first_at),
                    partial: m.arrival == Arrival::Unknown,
                    attempts: m.recipients.iter().map(|r| r.attempts).max().unwrap_or(0),
                    last_attempt_at: last.and_then(|r| r.last_attempt_at),
                    last_error: last.and_then(|r| r.reason.as_deref().map(str::to_owned)),
                });
            }
            joined.sort_by_key(|j| (j.stuck_since.micros, j.queue_id.clone()));
            joined.truncate(50);
        }
        Some(QueueReport {
            age_buckets_min: queue::bucket_labels(),
            snapshots: ordered
                .iter()
                .map(|d| queue::snapshot(d, zone, 10))
                .collect(),
            trend: queue::trend(&ordered),
            joined,
        })
    }
}

/// One life of one queue file, as the JSON contract shows it.
#[derive(Debug, Serialize)]
pub struct MessageReport {
    pub host: String,
    pub instance: String,
    pub queue_id: QueueId,
    pub life: u32,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub size: Option<u64>,
    pub client: Option<String>,
    pub arrival: Arrival,
    pub received_at: Option<Stamp>,
    pub removed_at: Option<Stamp>,
    pub end: End,
    pub partial: bool,
    pub parent_queue_id: Option<QueueId>,
    pub parent_link: Option<LinkKind>,
    pub children: Vec<QueueId>,
    pub notifications: Vec<QueueId>,
    pub in_queue_dump: Option<crate::timeline::DumpEntry>,
    pub recipients: Vec<RecipientReport>,
}

#[derive(Debug, Serialize)]
pub struct RecipientReport {
    pub address: String,
    pub orig_to: Option<String>,
    pub outcome: Outcome,
    pub attempts: u32,
    pub first_attempt_at: Option<Stamp>,
    pub last_attempt_at: Option<Stamp>,
    pub relay: Option<String>,
    pub dsn: Option<String>,
    pub reason: Option<String>,
    pub handed_to: Option<QueueId>,
}

impl MessageReport {
    pub fn new(m: &Message) -> MessageReport {
        MessageReport {
            host: m.host.to_string(),
            instance: m.instance.to_string(),
            queue_id: m.queue_id,
            life: m.life,
            message_id: m.message_id.as_deref().map(str::to_owned),
            from: m.from.as_deref().map(str::to_owned),
            size: m.size,
            client: m.client.as_deref().map(str::to_owned),
            arrival: m.arrival,
            received_at: m.received_at,
            removed_at: m.removed_at,
            end: m.end,
            partial: m.partial(),
            parent_queue_id: m.parent.map(|l| l.queue_id),
            parent_link: m.parent.map(|l| l.kind),
            children: m.children.iter().map(|l| l.queue_id).collect(),
            notifications: m.notifications.iter().map(|n| n.1).collect(),
            in_queue_dump: m.in_dump.as_deref().cloned(),
            recipients: m
                .recipients
                .iter()
                .map(|r| RecipientReport {
                    address: r.address.to_string(),
                    orig_to: r.orig_to.as_deref().map(str::to_owned),
                    outcome: r.outcome,
                    attempts: r.attempts,
                    first_attempt_at: r.first_attempt_at,
                    last_attempt_at: r.last_attempt_at,
                    relay: r.relay.as_deref().map(str::to_string),
                    dsn: r.dsn.as_deref().map(str::to_string),
                    reason: r.reason.as_deref().map(str::to_owned),
                    handed_to: r.handed_to_queue_id,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Generator {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    /// The zone given to zone-less stamps.
    pub timezone: String,
    /// `--year`, if given.
    pub year: Option<i32>,
    /// What was redacted: `addresses`, `addresses+ips`, or null.
    pub redacted: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InputReport {
    pub path: String,
    pub kind: &'static str,
    pub compression: &'static str,
    /// `traditional`, `traditional-precise`, `rfc3339`, `iso8601`, `mixed`; null for dumps.
    pub timestamp_format: Option<&'static str>,
    /// Bytes as stored (compressed size for gzip).
    pub bytes: u64,
    pub lines: u64,
    pub postfix_lines: u64,
    /// `lines - postfix_lines`: other programs, non-syslog lines, blank, overlong, duplicate.
    pub skipped_lines: u64,
    pub skipped: SkippedLines,
    /// Events produced: repeats expanded, duplicates removed.
    pub events: u64,
    pub repeated_events: u64,
    /// Queue dump records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    pub first_at: Option<Stamp>,
    pub last_at: Option<Stamp>,
    /// What fixed the year of year-less stamps.
    pub year_evidence: Option<YearEvidence>,
    pub hosts: Vec<String>,
    /// The content repeats this input byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// Warning counts by kind.
    pub warning_counts: BTreeMap<WarnKind, u64>,
    /// The first warnings of each kind, with file position.
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Default, Serialize)]
pub struct SkippedLines {
    pub other_programs: u64,
    pub not_syslog: u64,
    pub blank: u64,
    pub overlong: u64,
    pub duplicate: u64,
}

#[derive(Debug, Serialize)]
pub struct Span {
    pub start: Option<Stamp>,
    pub end: Option<Stamp>,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    /// Mail totals from the timelines (a message counted once across its hops).
    #[serde(flatten)]
    pub mail: crate::timeline::Totals,
    pub inputs: usize,
    pub inputs_skipped: usize,
    pub log_lines: u64,
    pub postfix_lines: u64,
    pub events: u64,
    pub hosts: usize,
    pub queue_dumps: usize,
    pub queue_records: u64,
    pub warnings: u64,
}

#[derive(Debug, Serialize)]
pub struct HostCount {
    pub host: String,
    pub events: u64,
}

/// Build the report from what ingest produced.
#[allow(clippy::too_many_arguments)]
pub fn build(
    loaded: &Loaded,
    parsed: &Parsed<'_>,
    scan: &crate::analysis::scan::EventScan<'_>,
    timelines: &Timelines,
    attempts: &crate::analysis::incidents::Attempts,
    analysis: crate::analysis::incidents::Analysis,
    queue: Option<QueueReport>,
    settings: Settings,
    with_messages: bool,
) -> Report {
    let mut inputs = Vec::with_capacity(loaded.inputs.len());
    for (i, li) in loaded.inputs.iter().enumerate() {
        let s = &parsed.stats[i];
        let d = &parsed.diags[i];
        let is_dump = matches!(
            li.kind,
            crate::input::Kind::PostqueueP
                | crate::input::Kind::PostqueueJ
                | crate::input::Kind::Postconf
        );
        let is_log = li.kind == crate::input::Kind::Maillog;
        inputs.push(InputReport {
            path: li.path.clone(),
            kind: if parsed.duplicate_of[i].is_some() && !is_log {
                "skipped"
            } else {
                li.kind.name()
            },
            compression: li.compression.name(),
            timestamp_format: if is_log { s.format_name() } else { None },
            bytes: li.stored_bytes,
            lines: s.lines,
            postfix_lines: s.postfix_lines,
            skipped_lines: if is_log { s.skipped_lines() } else { 0 },
            skipped: SkippedLines {
                other_programs: s.foreign_lines,
                not_syslog: s.not_syslog_lines,
                blank: s.blank_lines,
                overlong: s.overlong_lines,
                duplicate: s.duplicate_lines,
            },
            events: s.events,
            repeated_events: s.repeated_events,
            records: is_dump.then_some(s.records),
            first_at: s.first_at,
            last_at: s.last_at,
            year_evidence: s.year.clone(),
            hosts: s.hosts.clone(),
            duplicate_of: parsed.duplicate_of[i].map(|j| loaded.inputs[j].path.clone()),
            warning_counts: d.counts().clone(),
            warnings: d.samples().to_vec(),
        });
    }
    let logs = || inputs.iter().filter(|i| i.kind == "maillog");
    let start = logs().filter_map(|i| i.first_at).min_by_key(|t| t.micros);
    let end = logs().filter_map(|i| i.last_at).max_by_key(|t| t.micros);
    let host_counts = &scan.hosts;
    crate::timing::stage("report: inputs, hosts");
    let totals = Totals {
        mail: timelines.totals(),
        inputs: inputs.len(),
        inputs_skipped: inputs.iter().filter(|i| i.kind == "skipped").count(),
        log_lines: logs().map(|i| i.lines).sum(),
        postfix_lines: logs().map(|i| i.postfix_lines).sum(),
        events: parsed.event_count as u64,
        hosts: host_counts.len(),
        queue_dumps: parsed.dumps.len(),
        queue_records: parsed.dumps.iter().map(|d| d.messages.len() as u64).sum(),
        warnings: parsed.diags.iter().map(|d| d.total()).sum(),
    };
    use crate::analysis::stats;
    let span_pair = match (start, end) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    crate::timing::stage("report: totals");
    // Four independent tables, on both cores.
    let a = &attempts.attempts;
    let ((traffic, delays), (destinations, rejects)) = rayon::join(
        || {
            rayon::join(
                || stats::traffic(a, timelines, span_pair),
                || stats::delays(attempts, 10),
            )
        },
        || {
            rayon::join(
                || stats::destinations(attempts, 25),
                || stats::rejects(timelines, 15),
            )
        },
    );
    crate::timing::stage("report: traffic, delays, destinations, rejects");
    let offset = start.map_or(0, |s| s.offset_secs);
    let queue_from_log = thin(&analysis.queue_series, 600)
        .into_iter()
        .map(|(t, v)| {
            (
                Stamp {
                    micros: t,
                    offset_secs: offset,
                },
                v,
            )
        })
        .collect();
    let summary = summary::summarise(&analysis, &totals.mail, start, end, queue.as_ref());
    let cited_messages = cite(loaded, parsed, timelines, &analysis);
    crate::timing::stage("report: cited");
    let gaps = scan.gaps.clone();
    Report {
        cited_messages,
        summary,
        traffic,
        queue_from_log,
        delays,
        destinations,
        rejects,
        gaps,
        schema: SCHEMA,
        generator: Generator {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        settings,
        inputs,
        span: Span { start, end },
        totals,
        hosts: host_counts
            .iter()
            .map(|(h, &n)| HostCount {
                host: String::from_utf8_lossy(h).into_owned(),
                events: n,
            })
            .collect(),
        analysis,
        queue,
        messages: with_messages
            .then(|| timelines.messages.iter().map(MessageReport::new).collect()),
    }
}

/// Keep at most about `max` points of a step series, keeping each bucket's peak.
fn thin(series: &[(i64, i64)], max: usize) -> Vec<(i64, i64)> {
    if series.len() <= max {
        return series.to_vec();
    }
    let per = series.len().div_ceil(max);
    series
        .chunks(per)
        .filter_map(|c| c.iter().max_by_key(|(_, v)| *v).copied())
        .collect()
}

/// Make every string safe to print: control characters (escape sequences, NUL …) from the
/// logs become visible `\xNN` text. The renderers escape for their markup on top of this.
pub fn sanitize(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.chars().any(|c| c.is_control() && c != '\n') => {
            *s = s
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\n' {
                        format!("\\x{:02x}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect();
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(sanitize),
        serde_json::Value::Object(o) => o.values_mut().for_each(sanitize),
        _ => {}
    }
}
