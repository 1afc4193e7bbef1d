//! Rendering the digest: one document model ([`Doc`]: headings, paragraphs, counts, tables)
//! built from [`Digest`], and three renderers: plain text that fits an email and an
//! 80-column terminal, Markdown, and a self-contained HTML page. JSON is the serde model
//! itself under `digest` ([`DigestReport`], schema `mailsleuth/digest/1`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::digest::{Digest, Reasons};
use crate::analysis::incidents::Resolution;

pub const SCHEMA: &str = "mailsleuth/digest/1";

/// Text lines are at most this long: 78 fits a mail body (RFC 5322's advice) and an
/// 80-column terminal, also inside Logwatch's one-space indent.
pub const TEXT_WIDTH: usize = 78;

/// The JSON document.
#[derive(Debug, Serialize)]
pub struct DigestReport<'a> {
    pub schema: &'static str,
    pub generator: super::Generator,
    pub settings: Settings,
    pub inputs: Vec<InputLine>,
    pub digest: &'a Digest,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub timezone: String,
    pub year: Option<i32>,
    pub day: String,
    pub top: usize,
}

#[derive(Debug, Serialize)]
pub struct InputLine {
    pub path: String,
    pub kind: &'static str,
    pub lines: u64,
    pub postfix_lines: u64,
}

/// A block of the document.
#[derive(Clone, Debug)]
pub enum Block {
    Heading(String),
    /// A paragraph (wrapped in text output).
    Text(String),
    /// Right-aligned numbers with labels, pflogsumm's Grand Totals style; an empty pair is a
    /// blank line.
    Counts(Vec<(String, String)>),
    Table(Table),
}

#[derive(Clone, Debug)]
pub struct Table {
    pub head: Vec<&'static str>,
    /// Right-align this column (numbers).
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// The column that gives way when the table is too wide for the text width.
    pub flex: usize,
}

#[derive(Clone, Debug)]
pub struct Doc {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// pflogsumm's `adj_int_units`: `NNNk` above 512 k, `NNNm` above 512 m (1024-based).
pub fn units(v: u64) -> String {
    if v > 536_870_912 {
        format!("{}m", v / 1_048_576)
    } else if v > 524_288 {
        format!("{}k", v / 1024)
    } else {
        v.to_string()
    }
}

/// pflogsumm's `adj_time_units`: `0.4 s`, `2.0 m`, `49.6 h`.
pub fn delay(s: f64) -> String {
    if s > 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s > 60.0 {
        format!("{:.1} m", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

fn hms(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn count_rows(pairs: &[(&str, u64)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(l, n)| (units(*n), l.to_string()))
        .collect()
}

fn reasons_blocks(title: &str, r: &Reasons, who: &'static str, out: &mut Vec<Block>) {
    out.push(Block::Heading(format!("{title}: {}", r.total)));
    if r.total == 0 {
        out.push(Block::Text("none".into()));
        return;
    }
    let classes: Vec<String> = r
        .by_class
        .iter()
        .map(|c| format!("{} {}", c.class.name(), c.count))
        .collect();
    out.push(Block::Text(format!("By class: {}.", classes.join(", "))));
    out.push(Block::Table(Table {
        head: vec!["count", "class", who, "reason"],
        right: vec![true, false, false, false],
        rows: r
            .by_signature
            .iter()
            .map(|s| {
                vec![
                    s.count.to_string(),
                    s.class.name().to_string(),
                    s.top.join(" "),
                    s.signature.clone(),
                ]
            })
            .collect(),
        flex: 3,
    }));
}

/// The document for a digest.
pub fn document(d: &Digest) -> Doc {
    let p = &d.period;
    let title = match (&p.day, p.selection.as_str()) {
        (Some(day), "yesterday" | "today") => {
            format!("Mail digest for {day} ({})", p.selection)
        }
        (Some(day), _) => format!("Mail digest for {day}"),
        (None, _) => match (p.days.first(), p.days.last()) {
            (Some(a), Some(b)) if a != b => format!("Mail digest for {a} to {b}"),
            (Some(a), _) => format!("Mail digest for {a}"),
            _ => "Mail digest".to_string(),
        },
    };
    let mut b = Vec::new();
    b.push(Block::Text(d.health.line.clone()));
    let span = match (p.first, p.last) {
        (Some(f), Some(l)) => format!("Lines from {f} to {l}"),
        _ => "No log lines in this period".to_string(),
    };
    b.push(Block::Text(format!(
        "{span} ({} of the input's {} Postfix lines).",
        p.events, p.events_in_input
    )));
    if let Some(n) = &p.note {
        b.push(Block::Text(format!("Note: {n}.")));
    }

    let g = &d.totals.grand;
    b.push(Block::Heading(
        "Grand Totals (pflogsumm's definitions)".into(),
    ));
    let mut c = count_rows(&[
        ("received", g.received),
        ("delivered", g.delivered),
        ("forwarded", g.forwarded),
    ]);
    c.push((
        units(g.deferred),
        format!("deferred  ({} deferrals)", units(g.deferrals)),
    ));
    c.push((units(g.bounced), "bounced".into()));
    c.push((units(g.rejected), format!("rejected ({}%)", g.rejected_pct)));
    c.extend(count_rows(&[
        ("reject warnings", g.reject_warnings),
        ("held", g.held),
    ]));
    c.push((
        units(g.discarded),
        format!("discarded ({}%)", g.discarded_pct),
    ));
    c.push((String::new(), String::new()));
    c.extend(count_rows(&[
        ("bytes received", g.bytes_received),
        ("bytes delivered", g.bytes_delivered),
        ("senders", g.senders),
        ("sending hosts/domains", g.sending_domains),
        ("recipients", g.recipients),
        ("recipient hosts/domains", g.recipient_domains),
    ]));
    b.push(Block::Counts(c));

    let t = &d.totals;
    b.push(Block::Heading("What pflogsumm does not count".into()));
    let u = &d.unique;
    b.push(Block::Counts(vec![
        (
            units(t.expired),
            "expired (returned after the queue lifetime)".into(),
        ),
        (
            units(t.deleted),
            "deleted by the admin (postsuper -d)".into(),
        ),
        (
            units(t.admin_held),
            "put on hold by the admin (postsuper -h)".into(),
        ),
        (
            units(t.admin_requeued),
            "requeued by the admin (postsuper -r)".into(),
        ),
        (String::new(), String::new()),
        (
            units(u.messages),
            format!(
                "unique messages ({} queue files: hops and requeues count once)",
                u.transactions
            ),
        ),
        (units(u.received), "unique messages received".into()),
        (
            units(u.delivered),
            "recipients delivered (final hop only)".into(),
        ),
        (
            units(u.pending),
            "recipients still queued at the end".into(),
        ),
    ]));
    if u.received != g.received || u.delivered != g.delivered {
        b.push(Block::Text(format!(
            "pflogsumm's received ({}) and delivered ({}) count every queue file and every \
             hand-off: a content filter's re-injection or a requeue counts again. The unique \
             counts above follow each message across its hops.",
            g.received, g.delivered
        )));
    }
    if !d.pflogsumm.same {
        let pf = &d.pflogsumm.totals;
        let pairs = [
            ("received", g.received, pf.received),
            ("delivered", g.delivered, pf.delivered),
            ("forwarded", g.forwarded, pf.forwarded),
            ("deferred", g.deferred, pf.deferred),
            ("deferrals", g.deferrals, pf.deferrals),
            ("bounced", g.bounced, pf.bounced),
            ("rejected", g.rejected, pf.rejected),
            ("reject warnings", g.reject_warnings, pf.reject_warnings),
            ("held", g.held, pf.held),
            ("discarded", g.discarded, pf.discarded),
            ("bytes received", g.bytes_received, pf.bytes_received),
            ("bytes delivered", g.bytes_delivered, pf.bytes_delivered),
            ("senders", g.senders, pf.senders),
            (
                "sending hosts/domains",
                g.sending_domains,
                pf.sending_domains,
            ),
            ("recipients", g.recipients, pf.recipients),
            (
                "recipient hosts/domains",
                g.recipient_domains,
                pf.recipient_domains,
            ),
        ];
        let diffs: Vec<String> = pairs
            .iter()
            .filter(|(_, a, b)| a != b)
            .map(|(n, a, b)| format!("{n} {b} (here {a})"))
            .collect();
        b.push(Block::Heading("Where pflogsumm would differ".into()));
        b.push(Block::Text(format!(
            "pflogsumm would report {}.",
            diffs.join(", ")
        )));
        b.push(Block::Table(Table {
            head: vec!["lines", "why"],
            right: vec![true, false],
            rows: d
                .pflogsumm
                .differences
                .iter()
                .map(|x| vec![x.lines.to_string(), x.what.clone()])
                .collect(),
            flex: 1,
        }));
    }
    if d.instances.len() > 1 {
        b.push(Block::Heading("Hosts and syslog names".into()));
        b.push(Block::Table(Table {
            head: vec!["lines", "host", "syslog name"],
            right: vec![true, false, false],
            rows: d
                .instances
                .iter()
                .map(|i| vec![i.lines.to_string(), i.host.clone(), i.instance.clone()])
                .collect(),
            flex: 1,
        }));
    }

    b.push(Block::Heading(format!("Incidents: {}", d.incidents.len())));
    if d.incidents.is_empty() {
        b.push(Block::Text(
            "No destination failed repeatedly in this period.".into(),
        ));
    }
    for i in &d.incidents {
        let how = match i.resolution {
            Resolution::Recovered => format!(
                "recovered{}{}",
                i.recovered_at
                    .map(|r| format!(" at {r}"))
                    .unwrap_or_default(),
                i.time_to_recover_s
                    .map(|s| format!(" after {}", super::summary::duration(s)))
                    .unwrap_or_default()
            ),
            Resolution::Ongoing => "STILL ONGOING at the end of the logs".into(),
            Resolution::Closed => {
                "never recovered; the mail expired, bounced or was deleted".into()
            }
        };
        let mut fate = vec![format!(
            "{} messages affected, {} failed attempts, {} delivered on retry",
            i.messages_affected, i.failed_attempts, i.delivered_after_retry
        )];
        for (n, w) in [
            (i.bounced, "bounced"),
            (i.expired, "expired"),
            (i.deleted, "deleted"),
            (i.still_pending, "still queued"),
        ] {
            if n > 0 {
                fate.push(format!("{n} {w}"));
            }
        }
        b.push(Block::Text(format!(
            "{} {} for {} from {}: {}. {}. Cause: {}",
            i.id,
            i.class.name(),
            i.domains.join(", "),
            i.start,
            how,
            fate.join(", "),
            i.signature
        )));
    }

    if let Some(q) = &d.queue {
        b.push(Block::Heading("Queue trend (from the dumps)".into()));
        let at = |t: Option<crate::time::Stamp>| t.map(|t| t.to_string()).unwrap_or("?".into());
        let mut s = format!(
            "{} snapshot{}: {} messages at {}, {} at {}; peak {} at {}",
            q.snapshots,
            if q.snapshots == 1 { "" } else { "s" },
            q.first_messages,
            at(q.first_at),
            q.last_messages,
            at(q.last_at),
            q.peak_messages,
            at(q.peak_at)
        );
        if q.stuck > 0 {
            s.push_str(&format!("; {} stayed in every snapshot", q.stuck));
        }
        if !q.top_domains.is_empty() {
            let doms: Vec<String> = q
                .top_domains
                .iter()
                .map(|(d, n)| format!("{d} {n}"))
                .collect();
            s.push_str(&format!(
                ". Newest snapshot, recipients by domain: {}",
                doms.join(", ")
            ));
        }
        s.push('.');
        b.push(Block::Text(s));
    }

    if !d.per_day.is_empty() {
        b.push(Block::Heading("Per-Day Traffic Summary".into()));
        b.push(traffic_table("date", &d.per_day));
    }
    b.push(Block::Heading("Per-Hour Traffic Summary".into()));
    let hours: Vec<_> = d
        .per_hour
        .iter()
        .filter(|h| {
            let t = &h.traffic;
            t.received + t.delivered + t.deferred + t.bounced + t.rejected > 0
        })
        .cloned()
        .collect();
    if hours.is_empty() {
        b.push(Block::Text("no traffic".into()));
    } else {
        if d.per_day.len() > 1 {
            b.push(Block::Text(format!(
                "Summed over {} days; hours without traffic are left out.",
                d.per_day.len()
            )));
        }
        b.push(traffic_table("hour", &hours));
    }

    b.push(Block::Heading(
        "Message Delivery by destination domain".into(),
    ));
    b.push(Block::Table(Table {
        head: vec!["sent", "bytes", "defers", "avg dly", "max dly", "domain"],
        right: vec![true, true, true, true, true, false],
        rows: d
            .delivery_domains
            .iter()
            .map(|r| {
                vec![
                    r.sent.to_string(),
                    units(r.bytes),
                    r.defers.to_string(),
                    delay(r.avg_delay_s),
                    delay(r.max_delay_s),
                    r.domain.clone(),
                ]
            })
            .collect(),
        flex: 5,
    }));
    for (title, rows) in [
        ("Messages Received by sending domain", &d.received_domains),
        ("Senders by message count", &d.senders_by_count),
        ("Recipients by message count", &d.recipients_by_count),
        ("Senders by message size", &d.senders_by_size),
        ("Recipients by message size", &d.recipients_by_size),
    ] {
        b.push(Block::Heading(title.into()));
        b.push(Block::Table(Table {
            head: vec!["msgs", "bytes", "address or domain"],
            right: vec![true, true, false],
            rows: rows
                .iter()
                .map(|r| vec![r.messages.to_string(), units(r.bytes), r.name.clone()])
                .collect(),
            flex: 2,
        }));
    }

    reasons_blocks("Deferrals", &d.deferrals, "domains", &mut b);
    reasons_blocks("Bounces", &d.bounces, "domains", &mut b);
    reasons_blocks("Rejects", &d.rejects, "clients", &mut b);

    let s = &d.smtpd;
    b.push(Block::Heading("SMTP connections (smtpd)".into()));
    b.push(Block::Counts(vec![
        (units(s.connections), "connections".into()),
        (units(s.hosts), "hosts/domains".into()),
        (
            format!("{:.0}", s.avg_seconds),
            "avg. connect time (seconds)".into(),
        ),
        (hms(s.total_seconds), "total connect time".into()),
        (
            s.max_seconds.to_string(),
            "longest connection (seconds)".into(),
        ),
    ]));
    if !s.top_hosts.is_empty() {
        b.push(Block::Table(Table {
            head: vec!["conns", "time", "max s", "host/domain"],
            right: vec![true, true, true, false],
            rows: s
                .top_hosts
                .iter()
                .map(|h| {
                    vec![
                        h.connections.to_string(),
                        hms(h.total_seconds),
                        h.max_seconds.to_string(),
                        h.host.clone(),
                    ]
                })
                .collect(),
            flex: 3,
        }));
    }
    for (what, v) in [("Lost connections", &s.lost), ("Timeouts", &s.timeouts)] {
        if !v.is_empty() {
            let items: Vec<String> = v.iter().map(|(k, n)| format!("after {k} {n}")).collect();
            b.push(Block::Text(format!("{what}: {}.", items.join(", "))));
        }
    }

    let tls = &d.tls;
    b.push(Block::Heading("TLS".into()));
    b.push(Block::Text(format!(
        "{} inbound TLS sessions ({} smtpd connections), {} outbound.",
        tls.inbound, tls.smtpd_connections, tls.outbound
    )));
    if !tls.by_kind.is_empty() {
        b.push(Block::Table(Table {
            head: vec!["sessions", "direction, trust, protocol"],
            right: vec![true, false],
            rows: tls
                .by_kind
                .iter()
                .map(|(k, n)| vec![n.to_string(), k.clone()])
                .collect(),
            flex: 1,
        }));
    }

    for (title, rows) in [
        ("Warnings", &d.warnings),
        ("Fatal Errors", &d.fatals),
        ("Panics", &d.panics),
        ("Master daemon messages", &d.master),
    ] {
        b.push(Block::Heading(title.into()));
        if rows.is_empty() {
            b.push(Block::Text("none".into()));
            continue;
        }
        b.push(Block::Table(Table {
            head: vec!["count", "daemon", "message"],
            right: vec![true, false, false],
            rows: rows
                .iter()
                .map(|r| vec![r.count.to_string(), r.daemon.clone(), r.text.clone()])
                .collect(),
            flex: 2,
        }));
    }
    Doc { title, blocks: b }
}

fn traffic_table(first: &'static str, rows: &[crate::analysis::digest::TrafficRow]) -> Block {
    Block::Table(Table {
        head: vec![
            first,
            "received",
            "delivered",
            "deferred",
            "bounced",
            "rejected",
        ],
        right: vec![false, true, true, true, true, true],
        rows: rows
            .iter()
            .map(|r| {
                let t = &r.traffic;
                vec![
                    r.at.clone(),
                    t.received.to_string(),
                    t.delivered.to_string(),
                    t.deferred.to_string(),
                    t.bounced.to_string(),
                    t.rejected.to_string(),
                ]
            })
            .collect(),
        flex: 0,
    })
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Cut to `w` characters, marking the cut with `…`.
fn cut(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(w - 1).collect();
    out.push('…');
    out
}

/// Wrap words to lines of at most `w` characters (a longer word is cut).
fn wrap(s: &str, w: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let word = cut(word, w - width(indent));
        if !cur.is_empty() && width(&cur) + 1 + width(&word) > w {
            lines.push(std::mem::take(&mut cur));
        }
        if cur.is_empty() {
            if !lines.is_empty() {
                cur.push_str(indent);
            }
        } else {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Plain text, every line at most `cols` characters.
pub fn text(doc: &Doc, cols: usize) -> String {
    let mut o = String::new();
    let title = cut(&doc.title, cols);
    let _ = writeln!(o, "{title}\n{}", "=".repeat(width(&title)));
    let mut after_list = false;
    for block in &doc.blocks {
        // A paragraph or a list right after a list or a table is set off by a blank line.
        if after_list && !matches!(block, Block::Heading(_)) {
            o.push('\n');
        }
        after_list = matches!(block, Block::Counts(_) | Block::Table(_));
        match block {
            Block::Heading(h) => {
                let h = cut(h, cols);
                let _ = writeln!(o, "\n{h}\n{}", "-".repeat(width(&h)));
            }
            Block::Text(t) => {
                for l in wrap(t, cols, "  ") {
                    let _ = writeln!(o, "{l}");
                }
            }
            Block::Counts(c) => {
                let w = c.iter().map(|(n, _)| width(n)).max().unwrap_or(0).max(7);
                for (n, label) in c {
                    if n.is_empty() && label.is_empty() {
                        o.push('\n');
                        continue;
                    }
                    let line = format!("{n:>w$}  {label}");
                    let _ = writeln!(o, "{}", cut(&line, cols));
                }
            }
            Block::Table(t) => text_table(&mut o, t, cols),
        }
    }
    o
}

fn text_table(o: &mut String, t: &Table, cols: usize) {
    if t.rows.is_empty() {
        o.push_str("none\n");
        return;
    }
    let n = t.head.len();
    let natural: Vec<usize> = (0..n)
        .map(|i| {
            t.rows
                .iter()
                .map(|r| width(&r[i]))
                .chain(std::iter::once(width(t.head[i])))
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Columns are separated by two spaces, after a one-space margin.
    let total = |w: &[usize]| 1 + w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    // A last flexible column that does not fit goes on lines of its own under each row.
    let below = t.flex + 1 == n && n > 1 && total(&natural) > cols;
    let shown = if below { n - 1 } else { n };
    let mut w = natural[..shown].to_vec();
    if !below && total(&w) > cols {
        let others = total(&w) - w[t.flex];
        w[t.flex] = cols.saturating_sub(others).max(8);
    }
    // Still too wide: shrink the widest columns.
    while total(&w) > cols {
        let Some((i, _)) = w
            .iter()
            .enumerate()
            .filter(|(_, x)| **x > 6)
            .max_by_key(|(_, x)| **x)
        else {
            break;
        };
        w[i] -= 1;
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate().take(shown) {
            let c = cut(c, w[i]);
            if t.right[i] {
                let _ = write!(s, "{c:>width$}", width = w[i]);
            } else {
                let _ = write!(s, "{c:<width$}", width = w[i]);
            }
            s.push_str("  ");
        }
        s.trim_end().to_string()
    };
    // The indent of a column shown below: under the first text column.
    let indent = 1 + if t.right[0] { w[0] + 2 } else { 0 };
    let pad = " ".repeat(indent);
    let head: Vec<String> = t.head.iter().map(|h| h.to_string()).collect();
    let _ = writeln!(o, "{}", line(&head));
    if below {
        let _ = writeln!(o, "{pad}{}", t.head[n - 1]);
    }
    let _ = writeln!(
        o,
        "{}",
        line(&w.iter().map(|x| "-".repeat(*x)).collect::<Vec<_>>())
    );
    for r in &t.rows {
        let _ = writeln!(o, "{}", line(r));
        if below {
            for l in wrap(&r[n - 1], cols - indent, "  ") {
                let _ = writeln!(o, "{pad}{l}");
            }
        }
    }
}

fn md_cell(s: &str) -> String {
    super::markdown::md_escape(s).replace('|', "\\|")
}

/// GitHub-flavoured Markdown.
pub fn markdown(doc: &Doc) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}", md_cell(&doc.title));
    for block in &doc.blocks {
        match block {
            Block::Heading(h) => {
                let _ = writeln!(o, "\n## {}\n", md_cell(h));
            }
            Block::Text(t) => {
                let _ = writeln!(o, "{}\n", super::markdown::md_escape(t));
            }
            Block::Counts(c) => {
                let _ = writeln!(o, "| | |\n|---:|---|");
                for (n, label) in c.iter().filter(|(n, l)| !(n.is_empty() && l.is_empty())) {
                    let _ = writeln!(o, "| {} | {} |", md_cell(n), md_cell(label));
                }
                o.push('\n');
            }
            Block::Table(t) => {
                if t.rows.is_empty() {
                    o.push_str("none\n\n");
                    continue;
                }
                let _ = writeln!(o, "| {} |", t.head.join(" | "));
                let seps: Vec<&str> = t
                    .right
                    .iter()
                    .map(|r| if *r { "---:" } else { "---" })
                    .collect();
                let _ = writeln!(o, "|{}|", seps.join("|"));
                for r in &t.rows {
                    let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
                    let _ = writeln!(o, "| {} |", cells.join(" | "));
                }
                o.push('\n');
            }
        }
    }
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One self-contained HTML page.
pub fn html(doc: &Doc) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;margin:.5rem 0}}td,th{{border:1px solid #ccc;padding:.15rem .5rem;vertical-align:top}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}h2{{margin-top:1.5rem}}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&doc.title),
        esc(&doc.title)
    );
    for block in &doc.blocks {
        match block {
            Block::Heading(h) => {
                let _ = writeln!(o, "<h2>{}</h2>", esc(h));
            }
            Block::Text(t) => {
                let _ = writeln!(o, "<p>{}</p>", esc(t));
            }
            Block::Counts(c) => {
                o.push_str("<table>\n");
                for (n, label) in c.iter().filter(|(n, l)| !(n.is_empty() && l.is_empty())) {
                    let _ = writeln!(
                        o,
                        "<tr><td class=\"n\">{}</td><td>{}</td></tr>",
                        esc(n),
                        esc(label)
                    );
                }
                o.push_str("</table>\n");
            }
            Block::Table(t) => {
                if t.rows.is_empty() {
                    o.push_str("<p>none</p>\n");
                    continue;
                }
                o.push_str("<table>\n<tr>");
                for h in &t.head {
                    let _ = write!(o, "<th>{}</th>", esc(h));
                }
                o.push_str("</tr>\n");
                for r in &t.rows {
                    o.push_str("<tr>");
                    for (i, c) in r.iter().enumerate() {
                        let class = if t.right[i] { " class=\"n\"" } else { "" };
                        let _ = write!(o, "<td{class}>{}</td>", esc(c));
                    }
                    o.push_str("</tr>\n");
                }
                o.push_str("</table>\n");
            }
        }
    }
    o.push_str("</body>\n</html>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_like_pflogsumm() {
        assert_eq!(units(524_288), "524288");
        assert_eq!(units(524_289), "512k");
        assert_eq!(units(1_962_123), "1916k");
        assert_eq!(units(600_000_000), "572m");
        assert_eq!(delay(0.11), "0.1 s");
        assert_eq!(delay(84.0), "1.4 m");
        assert_eq!(delay(178_560.0), "49.6 h");
    }

    #[test]
    fn text_fits_the_width() {
        let doc = Doc {
            title: "t".into(),
            blocks: vec![
                Block::Text("word ".repeat(40)),
                Block::Table(Table {
                    head: vec!["n", "what"],
                    right: vec![true, false],
                    rows: vec![vec!["12".into(), "x".repeat(200)]],
                    flex: 1,
                }),
            ],
        };
        let t = text(&doc, 80);
        assert!(t.lines().all(|l| l.chars().count() <= 80), "{t}");
        assert!(t.contains('…'));
    }
}
