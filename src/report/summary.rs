//! The plain-language summary: three sentences and a status line, generated from the
//! analysis (when, what failed and why, for which domains, how much mail was hurt, whether
//! and when it recovered).

use serde::Serialize;

use crate::analysis::incidents::{Analysis, Resolution};
use crate::time::Stamp;
use crate::timeline::Totals;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No incident found.
    Healthy,
    /// Every incident recovered (or was closed by the admin).
    Recovered,
    /// At least one incident is still going at the end of the data.
    Ongoing,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub status: Status,
    /// One line: `ONGOING: connection-refused for down.test since …`.
    pub headline: String,
    pub sentences: Vec<String>,
}

/// `1h02m`, `3m20s`, `45s`.
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        _ => format!("{}d{:02}h", s / 86_400, s / 3600 % 24),
    }
}

/// `01:54:19–01:55:38` within one day (in the stamps' own offset), else
/// `2015-10-22 02:37–2015-10-23 23:38`.
fn window(a: Stamp, b: Stamp) -> String {
    let (x, y) = (a.to_string(), b.to_string());
    if x.get(..10) == y.get(..10) {
        format!(
            "{}–{}",
            x.get(11..19).unwrap_or(&x),
            y.get(11..19).unwrap_or(&y)
        )
    } else {
        let short = |t: &str| {
            format!(
                "{} {}",
                t.get(..10).unwrap_or(t),
                t.get(11..16).unwrap_or("")
            )
        };
        format!("{}–{}", short(&x), short(&y))
    }
}

fn list(items: &[String], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let mut s = match shown.len() {
        0 => String::new(),
        1 => shown[0].to_string(),
        n => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
    };
    if items.len() > max {
        s.push_str(&format!(" (and {} more)", items.len() - max));
    }
    s
}

pub fn summarise(
    a: &Analysis,
    totals: &Totals,
    start: Option<Stamp>,
    end: Option<Stamp>,
    queue: Option<&super::QueueReport>,
) -> Summary {
    let span = match (start, end) {
        (Some(s), Some(e)) => format!(
            "from {s} to {e} ({})",
            duration((e.micros - s.micros) as f64 / 1e6)
        ),
        _ => "in the data given".to_string(),
    };
    let mut sentences = Vec::new();
    if start.is_none() {
        // Queue dumps only.
        if let Some(q) = queue {
            let snap = q.snapshots.last();
            sentences.push(format!(
                "No log was given: this report rests on {} queue dump{} only.",
                q.snapshots.len(),
                if q.snapshots.len() == 1 { "" } else { "s" }
            ));
            if let Some(s) = snap {
                let top: Vec<String> = s
                    .domains
                    .iter()
                    .take(3)
                    .map(|d| format!("{} ({} recipients)", d.domain, d.recipients))
                    .collect();
                sentences.push(format!(
                    "The newest dump{} holds {} messages ({} deferred, {} on hold){}.",
                    s.taken_at
                        .map(|t| format!(", taken {t},"))
                        .unwrap_or_default(),
                    s.messages,
                    s.deferred,
                    s.hold,
                    if top.is_empty() {
                        String::new()
                    } else {
                        format!(", most for {}", list(&top, 3))
                    }
                ));
            }
            if q.snapshots.len() > 1 {
                sentences.push(format!(
                    "Across the dumps the queue peaked at {} messages{}; {} messages stayed queued in every dump.",
                    q.trend.peak_messages,
                    q.trend.peak_at.map(|t| format!(" at {t}")).unwrap_or_default(),
                    q.trend.stuck_in_all.len()
                ));
            }
            let n = snap.map_or(0, |s| s.messages);
            return Summary {
                status: if n == 0 {
                    Status::Healthy
                } else {
                    Status::Ongoing
                },
                headline: if n == 0 {
                    "OK: the newest queue dump is empty".into()
                } else {
                    format!("QUEUED: {n} messages in the newest queue dump")
                },
                sentences,
            };
        }
    }
    if a.incidents.is_empty() {
        sentences.push(format!(
            "The logs {span} show no incident: {} messages were received and {} recipients delivered, with {} deferrals.",
            totals.received, totals.delivered, totals.deferrals
        ));
        if !a.recipient_problems.is_empty() {
            let n: u64 = a.recipient_problems.iter().map(|p| p.count).sum();
            sentences.push(format!(
                "{n} recipients failed permanently on their own (unknown users, full mailboxes), which is not an outage."
            ));
        }
        if let Some(q) = queue.and_then(|q| q.snapshots.last()) {
            sentences.push(format!(
                "The newest queue dump holds {} messages.",
                q.messages
            ));
        }
        return Summary {
            status: Status::Healthy,
            headline: "OK: no incident found".into(),
            sentences,
        };
    }
    let kinds: Vec<String> = a
        .incidents
        .iter()
        .map(|i| {
            format!(
                "{} for {} ({}, {})",
                i.class.name(),
                list(&i.domains, 3),
                window(i.start, i.end.unwrap_or(i.last_failure_at)),
                match i.resolution {
                    Resolution::Recovered => "recovered",
                    Resolution::Ongoing => "ongoing",
                    Resolution::Closed => "not recovered, mail gone",
                }
            )
        })
        .collect();
    sentences.push(format!(
        "The logs {span} show {} incident{}: {}.",
        a.incidents.len(),
        if a.incidents.len() == 1 { "" } else { "s" },
        list(&kinds, 10)
    ));
    let delayed: u64 = a.incidents.iter().map(|i| i.messages_affected).sum();
    let bounced: u64 = a.incidents.iter().map(|i| i.bounced).sum();
    let expired: u64 = a.incidents.iter().map(|i| i.expired).sum();
    let deleted: u64 = a.incidents.iter().map(|i| i.deleted).sum();
    let delivered: u64 = a.incidents.iter().map(|i| i.delivered_after_retry).sum();
    let mut impact =
        format!("{delayed} messages were delayed; {delivered} recipients were delivered on retry");
    for (n, what) in [
        (bounced, "bounced"),
        (expired, "expired in the queue"),
        (deleted, "were deleted by the admin"),
    ] {
        if n > 0 {
            impact.push_str(&format!(", {n} {what}"));
        }
    }
    impact.push('.');
    sentences.push(impact);
    let ongoing: Vec<&crate::analysis::incidents::Incident> = a
        .incidents
        .iter()
        .filter(|i| i.resolution == Resolution::Ongoing)
        .collect();
    let recovered: Vec<&crate::analysis::incidents::Incident> =
        a.incidents.iter().filter(|i| i.recovered).collect();
    let status = if ongoing.is_empty() {
        Status::Recovered
    } else {
        Status::Ongoing
    };
    let mut rec = String::new();
    if !recovered.is_empty() {
        let last = recovered.iter().filter_map(|i| i.recovered_at).max();
        let ttr: Vec<f64> = recovered
            .iter()
            .filter_map(|i| i.time_to_recover_s)
            .collect();
        let worst = ttr.iter().cloned().fold(0.0, f64::max);
        rec.push_str(&format!(
            "{} of {} recovered (deliveries resumed{}; the longest took {})",
            recovered.len(),
            a.incidents.len(),
            last.map(|l| format!(", the last at {l}"))
                .unwrap_or_default(),
            duration(worst)
        ));
    }
    let closed: Vec<String> = a
        .incidents
        .iter()
        .filter(|i| i.resolution == Resolution::Closed)
        .map(|i| format!("{} ({})", list(&i.domains, 2), i.class.name()))
        .collect();
    if !closed.is_empty() {
        if !rec.is_empty() {
            rec.push_str("; ");
        }
        rec.push_str(&format!(
            "never recovered but no longer queued (expired, bounced or deleted): {}",
            list(&closed, 3)
        ));
    }
    if !ongoing.is_empty() {
        if !rec.is_empty() {
            rec.push_str("; ");
        }
        let names: Vec<String> = ongoing
            .iter()
            .map(|i| {
                format!(
                    "{} ({} since {})",
                    list(&i.domains, 2),
                    i.class.name(),
                    i.start
                )
            })
            .collect();
        rec.push_str(&format!(
            "STILL ONGOING at the end of the logs: {}",
            list(&names, 3)
        ));
    }
    rec.push('.');
    sentences.push(rec[..1].to_uppercase() + &rec[1..]);
    let headline = match status {
        Status::Ongoing => format!(
            "ONGOING: {}",
            ongoing
                .iter()
                .map(|i| format!("{} for {}", i.class.name(), list(&i.domains, 2)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        _ => {
            let closed = a.incidents.len() - recovered.len();
            let mut h = format!(
                "RECOVERED: {} incident{}, {} recovered",
                a.incidents.len(),
                if a.incidents.len() == 1 { "" } else { "s" },
                recovered.len()
            );
            if closed > 0 {
                h.push_str(&format!(
                    ", {closed} ended without recovery (the mail expired, bounced or was deleted)"
                ));
            }
            h
        }
    };
    Summary {
        status,
        headline,
        sentences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_lists() {
        assert_eq!(duration(45.2), "45s");
        assert_eq!(duration(200.0), "3m20s");
        assert_eq!(duration(3720.0), "1h02m");
        assert_eq!(
            list(&["a".into(), "b".into(), "c".into()], 2),
            "a and b (and 1 more)"
        );
        assert_eq!(list(&["a".into()], 2), "a");
    }
}
