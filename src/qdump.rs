//! Queue dumps: `postqueue -p` / `mailq` text and `postqueue -j` JSON lines, read into
//! owned records (dumps are small). Formats: FORMATS.md §9. A cut-off dump keeps its whole
//! records and says so. Analysis of the records (shape, growth, cleanup) lives elsewhere.

use crate::diag::{WarnKind, Warning};
use crate::parse::QueueId;

/// One recipient of a queued message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QueuedRecipient {
    pub address: String,
    /// Why it is still queued (`delay_reason`, or the text dump's parenthesised reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One message of a dump.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct QueuedMessage {
    pub queue_id: Option<QueueId>,
    /// The ID as written, even when it is not a valid queue ID.
    pub queue_id_text: String,
    /// `active`, `deferred`, `hold`, `incoming`, `maildrop`; for text dumps `active` (`*`),
    /// `hold` (`!`) or `deferred` (no mark: deferred, incoming or maildrop).
    pub queue_name: String,
    pub forced_expire: bool,
    pub size: u64,
    /// Arrival as Unix seconds (JSON dumps; text dumps have no year, resolved later).
    pub arrival_unix: Option<i64>,
    /// Arrival as printed in a text dump: `Mon Nov 30 01:52:25`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_text: Option<String>,
    pub sender: String,
    pub recipients: Vec<QueuedRecipient>,
    /// 1-based line of the record in its file.
    pub line: u64,
}

/// A parsed dump.
#[derive(Clone, Debug, Default)]
pub struct Dump {
    pub path: String,
    /// When the dump was taken: `--taken-at`, a time in the file name, or the file's mtime.
    pub taken_at: Option<crate::time::Stamp>,
    /// Where `taken_at` came from: `file-name`, `mtime`, `flag`.
    pub taken_at_source: Option<&'static str>,
    pub messages: Vec<QueuedMessage>,
    /// Text dumps: the `-- N Kbytes in M Requests.` trailer, or `Mail queue is empty`, was seen.
    pub complete: bool,
    pub warnings: Vec<Warning>,
}

/// A capture time in a file name: `…20261130T015125Z…` (UTC, basic ISO 8601), or
/// `…2026-11-30T01:51:25Z…` / `…2026-11-30_01-51-25…` (taken as UTC).
pub fn time_in_name(name: &str) -> Option<crate::time::Stamp> {
    let digits: Vec<(usize, u8)> = name
        .bytes()
        .enumerate()
        .filter(|(_, c)| c.is_ascii_digit())
        .collect();
    // Find 14 digits (YYYYMMDDHHMMSS) that are close together in the name.
    for w in digits.windows(14) {
        if w[13].0 - w[0].0 > 19 {
            continue;
        }
        let d: Vec<i64> = w.iter().map(|(_, c)| (c - b'0') as i64).collect();
        let num = |a: usize, n: usize| d[a..a + n].iter().fold(0, |acc, x| acc * 10 + x);
        let (y, mo, da, h, mi, se) = (
            num(0, 4),
            num(4, 2),
            num(6, 2),
            num(8, 2),
            num(10, 2),
            num(12, 2),
        );
        if !(1990..=2200).contains(&y)
            || !(1..=12).contains(&mo)
            || !(1..=31).contains(&da)
            || h > 23
            || mi > 59
            || se > 60
        {
            continue;
        }
        let days = crate::time::days_from_civil(y as i32, mo as u32, da as u32);
        return Some(crate::time::Stamp::from_unix(
            days * 86_400 + h * 3600 + mi * 60 + se,
            0,
        ));
    }
    None
}

#[derive(serde::Deserialize)]
struct JsonRecipient {
    address: String,
    delay_reason: Option<String>,
    bounce_reason: Option<String>,
    other_reason: Option<String>,
}

#[derive(serde::Deserialize)]
struct JsonMessage {
    queue_name: String,
    queue_id: String,
    arrival_time: Option<i64>,
    message_size: Option<u64>,
    #[serde(default)]
    forced_expire: bool,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    recipients: Vec<JsonRecipient>,
}

/// Read `postqueue -j` output: one JSON object per line; bad lines are warned and skipped.
pub fn parse_json(data: &[u8], path: &str) -> Dump {
    let mut dump = Dump {
        path: path.to_string(),
        complete: true,
        ..Default::default()
    };
    for (i, line) in crate::lines::lines(data).enumerate() {
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        match serde_json::from_slice::<JsonMessage>(line) {
            Ok(m) => dump.messages.push(QueuedMessage {
                queue_id: QueueId::parse(m.queue_id.as_bytes()),
                queue_id_text: m.queue_id,
                queue_name: m.queue_name,
                forced_expire: m.forced_expire,
                size: m.message_size.unwrap_or(0),
                arrival_unix: m.arrival_time,
                arrival_text: None,
                sender: m.sender,
                recipients: m
                    .recipients
                    .into_iter()
                    .map(|r| QueuedRecipient {
                        address: r.address,
                        reason: r.delay_reason.or(r.bounce_reason).or(r.other_reason),
                    })
                    .collect(),
                line: i as u64 + 1,
            }),
            Err(e) => dump.warnings.push(Warning {
                kind: WarnKind::BadRecord,
                line: Some(i as u64 + 1),
                offset: None,
                message: format!("{path}:{}: not a postqueue -j record: {e}", i + 1),
            }),
        }
    }
    dump
}

/// `QID[*!#]  SIZE Www Mmm dd HH:MM:SS  SENDER` → the message head.
fn message_head(line: &str, lineno: u64) -> Option<QueuedMessage> {
    let mut it = line.split_ascii_whitespace();
    let id = it.next()?;
    let size: u64 = it.next()?.parse().ok()?;
    let (wd, mon, day, hms) = (it.next()?, it.next()?, it.next()?, it.next()?);
    if wd.len() != 3 || mon.len() != 3 || hms.len() != 8 || day.parse::<u8>().is_err() {
        return None;
    }
    let sender = it.next().unwrap_or("").to_string();
    let bare = id.trim_end_matches(['*', '!', '#']);
    let marks = &id[bare.len()..];
    let queue_name = if marks.contains('*') {
        "active"
    } else if marks.contains('!') {
        "hold"
    } else {
        "deferred"
    };
    Some(QueuedMessage {
        queue_id: QueueId::parse(bare.as_bytes()),
        queue_id_text: bare.to_string(),
        queue_name: queue_name.to_string(),
        forced_expire: marks.contains('#'),
        size,
        arrival_unix: None,
        arrival_text: Some(format!("{wd} {mon} {day:>2} {hms}")),
        sender,
        recipients: Vec::new(),
        line: lineno,
    })
}

/// Read `postqueue -p` / `mailq` text.
pub fn parse_text(data: &[u8], path: &str) -> Dump {
    let text = String::from_utf8_lossy(data);
    let mut dump = Dump {
        path: path.to_string(),
        ..Default::default()
    };
    let mut cur: Option<QueuedMessage> = None;
    let mut reason: Option<String> = None;
    let mut open_reason: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = i as u64 + 1;
        let trimmed = line.trim();
        if let Some(r) = open_reason.as_mut() {
            r.push(' ');
            r.push_str(trimmed);
            if trimmed.ends_with(')') {
                let r = open_reason.take().unwrap_or_default();
                reason = Some(r[1..r.len() - 1].to_string());
            }
            continue;
        }
        if trimmed.is_empty() {
            if let Some(m) = cur.take() {
                dump.messages.push(m);
            }
            reason = None;
            continue;
        }
        if trimmed.starts_with("-Queue ID-") || trimmed.starts_with("----Queue ID") {
            continue;
        }
        if trimmed == "Mail queue is empty"
            || (trimmed.starts_with("-- ") && trimmed.contains(" in "))
        {
            dump.complete = true;
            continue;
        }
        if trimmed.starts_with('(') && cur.is_some() {
            if trimmed.ends_with(')') {
                let r = &trimmed[1..trimmed.len() - 1];
                // showq prints `(reason unavailable)` when the recipient has none.
                reason = (r != "reason unavailable").then(|| r.to_string());
            } else {
                open_reason = Some(trimmed.to_string());
            }
            continue;
        }
        if line.starts_with(' ') {
            if let Some(m) = cur.as_mut() {
                m.recipients.push(QueuedRecipient {
                    address: trimmed.to_string(),
                    reason: reason.clone(),
                });
                continue;
            }
        }
        match message_head(line, lineno) {
            Some(m) => {
                if let Some(prev) = cur.replace(m) {
                    dump.messages.push(prev);
                }
                reason = None;
            }
            None => dump.warnings.push(Warning {
                kind: WarnKind::BadRecord,
                line: Some(lineno),
                offset: None,
                message: format!("{path}:{lineno}: not a postqueue -p line: {trimmed:?}"),
            }),
        }
    }
    if let Some(m) = cur.take() {
        // A record at the very end without its blank line: keep it if it has recipients.
        if !m.recipients.is_empty() {
            dump.messages.push(m);
        }
    }
    if !dump.complete {
        dump.warnings.push(Warning {
            kind: WarnKind::BadRecord,
            line: None,
            offset: None,
            message: format!(
                "{path}: no `-- N Kbytes in M Requests.` trailer: the dump was cut off; kept {} whole records",
                dump.messages.len()
            ),
        });
    }
    dump
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_dump_from_the_lab() {
        let data =
            std::fs::read("../shared/corpus/lab/throttle/queue/postqueue-p-20261130T021827Z.txt")
                .unwrap();
        let d = parse_text(&data, "p");
        assert!(d.complete, "{:?}", d.warnings);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        let text = String::from_utf8_lossy(&data);
        let trailer = text.lines().last().unwrap();
        // `-- 33 Kbytes in 46 Requests.`
        let n: usize = trailer.split_whitespace().nth(4).unwrap().parse().unwrap();
        assert_eq!(d.messages.len(), n);
        let kb: u64 = trailer.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(d.messages.iter().map(|m| m.size).sum::<u64>() / 1024, kb);
        let m = d
            .messages
            .iter()
            .find(|m| m.queue_id_text == "C5202B6541")
            .unwrap();
        assert_eq!(m.queue_name, "deferred");
        assert_eq!(m.recipients.len(), 1);
        assert_eq!(m.recipients[0].address, "heidi20@throttle.test");
        assert!(m.recipients[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("451 4.7.0 Try again later"));
    }

    #[test]
    fn cut_off_text_dump_is_flagged() {
        let data =
            std::fs::read("../shared/corpus/public/kumina-postfix_exporter/showq.txt").unwrap();
        let d = parse_text(&data, "showq.txt");
        assert!(!d.complete);
        assert!(d.messages.len() >= 20);
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn capture_time_from_the_file_name() {
        let t = time_in_name("queue/postqueue-p-20261130T015125Z.txt").unwrap();
        assert_eq!(t.to_string(), "2026-11-30T01:51:25+00:00");
        let t = time_in_name("mailq-2026-11-30_01-51-25.txt").unwrap();
        assert_eq!(t.to_string(), "2026-11-30T01:51:25+00:00");
        assert!(time_in_name("showq.txt").is_none());
    }

    #[test]
    fn json_dump_with_long_ids() {
        let data = std::fs::read("../shared/corpus/public/rseichter-postqf/qdata.jsonl").unwrap();
        let d = parse_json(&data, "qdata.jsonl");
        assert!(d.warnings.is_empty());
        assert_eq!(d.messages.len(), 5);
        let m = &d.messages[0];
        assert_eq!(m.queue_id.unwrap().as_str(), "4Jgt2V6BKNz1xy5");
        assert_eq!(m.arrival_unix, Some(1_642_847_778));
        assert_eq!(
            m.queue_id.unwrap().long_arrival().unwrap().0,
            m.arrival_unix.unwrap()
        );
        let bad = parse_json(b"{\"queue_name\": 1}\n", "x");
        assert_eq!(bad.warnings.len(), 1);
    }
}
