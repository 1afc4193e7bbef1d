//! `mailsleuth trace INPUT... (QUEUE_ID | --message-id ID | --from ADDR | --to ADDR)`:
//! every life of the matching messages, event by event, with the time since arrival,
//! grouped by recipient; hops, requeues and notifications follow their parent.
//!
//! Cost: the whole ingest and timeline build, then a filter; output is small.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};

use anyhow::bail;
use serde::Serialize;

use super::Outcome as CmdOutcome;
use crate::cli::{ColorChoice, TraceArgs, TraceFormat};
use crate::ingest::{self, Loaded, Parsed};
use crate::parse::Event;
use crate::report::MessageReport;
use crate::time::Stamp;
use crate::timeline::{self, action, Message, Outcome, Timelines};

pub fn run(args: &TraceArgs, quiet: bool, color: ColorChoice) -> anyhow::Result<CmdOutcome> {
    // `trace LOGS... QUEUE_ID`: a last argument that is no file but a queue ID names the
    // message.
    let mut args_owned;
    let mut args = args;
    if args.queue_id.is_none() {
        if let Some(pos) = args.input.inputs.iter().position(|p| {
            !p.exists()
                && p.to_str()
                    .is_some_and(|s| crate::parse::QueueId::parse(s.as_bytes()).is_some())
        }) {
            args_owned = args.clone();
            let q = args_owned.input.inputs.remove(pos);
            args_owned.queue_id = q.to_str().map(str::to_string);
            args = &args_owned;
        }
    }
    if args.queue_id.is_none()
        && args.message_id.is_none()
        && args.from.is_none()
        && args.to.is_none()
    {
        bail!(
            "say which message to trace: a queue ID after the inputs \
             (mailsleuth trace /var/log/mail.log 6202BB6499), or --message-id, --from or --to"
        );
    }
    let opts = super::ingest_options(&args.input)?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let mut out = super::open_output(args.output.as_deref())?;
    let mut err = std::io::stderr().lock();
    let (paths, _) = super::discover_inputs(&args.input, quiet, &mut err)?;
    let loaded = ingest::load(&paths, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    let mut outcome = super::summarise_warnings(&loaded, &parsed, quiet, &mut err);
    if parsed.events.is_empty() {
        bail!("nothing usable: no Postfix log line in the inputs");
    }
    let t = timeline::build(&parsed.events, &parsed.dumps);
    let selected = select(&t, args);
    if selected.is_empty() {
        writeln!(err, "mailsleuth: no message matches")?;
        outcome = CmdOutcome::Warnings;
    }
    let paint = super::use_color(color, to_terminal);
    match args.format {
        TraceFormat::Text => write_text(&mut out, &t, &parsed, &loaded, &selected, paint)?,
        TraceFormat::Json => write_json(&mut out, &t, &parsed, &loaded, &selected)?,
    }
    out.flush()?;
    Ok(outcome)
}

fn matches_addr(a: &str, want: &str) -> bool {
    a.eq_ignore_ascii_case(want.trim_start_matches('<').trim_end_matches('>'))
}

/// The matching lives, with their ancestors and descendants, in time order.
pub fn select(t: &Timelines, args: &TraceArgs) -> Vec<usize> {
    let mid = args
        .message_id
        .as_deref()
        .map(|m| m.trim_start_matches('<').trim_end_matches('>'));
    let hits = t.messages.iter().enumerate().filter(|(_, m)| {
        args.queue_id
            .as_deref()
            .is_none_or(|q| m.queue_id.as_str() == q)
            && mid.is_none_or(|w| {
                m.message_id
                    .as_deref()
                    .is_some_and(|x| x.trim_start_matches('<').trim_end_matches('>') == w)
            })
            && args
                .from
                .as_deref()
                .is_none_or(|f| m.from.as_deref().is_some_and(|x| matches_addr(x, f)))
            && args.to.as_deref().is_none_or(|w| {
                m.recipients.iter().any(|r| {
                    matches_addr(&r.address, w)
                        || r.orig_to.as_deref().is_some_and(|o| matches_addr(o, w))
                })
            })
    });
    let hits: Vec<usize> = hits.map(|(i, _)| i).collect();
    let mut set = BTreeSet::new();
    // The hits and everything that descends from them (hops, requeues, notifications).
    let mut stack = hits.clone();
    while let Some(i) = stack.pop() {
        if set.insert(i) {
            stack.extend(t.messages[i].children.iter().map(|c| c.index));
        }
    }
    // Their ancestors: the same message earlier on its way.
    for &i in &hits {
        let mut cur = i;
        while let Some(p) = t.messages[cur].parent {
            if !p.kind.continues() || !set.insert(p.index) {
                break;
            }
            cur = p.index;
        }
    }
    let mut v: Vec<usize> = set.into_iter().collect();
    v.sort_by_key(|&i| (t.messages[i].first_at.micros, i));
    v
}

pub use crate::time::since;

/// Log text made safe for a terminal: control characters escaped, invalid UTF-8 replaced.
pub fn escape(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn outcome(&self, o: Outcome) -> String {
        let name = serde_json::to_string(&o).unwrap_or_default();
        let name = name.trim_matches('"');
        let code = match o {
            Outcome::Delivered => "32",
            Outcome::Deferred | Outcome::Unknown => "33",
            _ => "31",
        };
        self.wrap(code, name)
    }
}

fn event_line(e: &Event<'_>, arrived: Option<Stamp>, loaded: &Loaded) -> String {
    format!(
        "{}  {:>8}  {:<16} {}   [{}:{}]",
        e.time(),
        since(arrived, e.time()),
        e.tag(),
        escape(e.text()),
        loaded.inputs[e.loc.input as usize].path,
        e.loc.line
    )
}

fn write_text(
    out: &mut dyn Write,
    t: &Timelines,
    parsed: &Parsed<'_>,
    loaded: &Loaded,
    selected: &[usize],
    paint: bool,
) -> std::io::Result<()> {
    let p = Paint(paint);
    for (n, &i) in selected.iter().enumerate() {
        let m = &t.messages[i];
        if n > 0 {
            writeln!(out)?;
        }
        header(out, m, t, &p)?;
        let arrived = m.received_at.or(Some(m.first_at));
        let events: Vec<&Event<'_>> = m
            .events
            .iter()
            .map(|&e| &parsed.events[e as usize])
            .collect();
        for e in events
            .iter()
            .filter(|e| !matches!(action::action(e), action::Action::Delivery(_)))
        {
            writeln!(out, "  {}", event_line(e, arrived, loaded))?;
        }
        for r in &m.recipients {
            let via = r
                .handed_to_queue_id
                .map(|q| format!(" via {q}"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} {}{} ({} attempt{})",
                p.wrap("1", &escape(r.address.as_bytes())),
                p.outcome(r.outcome),
                via,
                r.attempts,
                if r.attempts == 1 { "" } else { "s" }
            )?;
            for e in &events {
                if let action::Action::Delivery(d) = action::action(e) {
                    if d.to == r.address.as_bytes()
                        && d.orig_to.map(|o| o.to_vec())
                            == r.orig_to.as_ref().map(|o| o.as_bytes().to_vec())
                    {
                        writeln!(out, "    {}", event_line(e, arrived, loaded))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn header(out: &mut dyn Write, m: &Message, t: &Timelines, p: &Paint) -> std::io::Result<()> {
    let mut line = format!(
        "{} {} {}",
        p.wrap("1", m.queue_id.as_str()),
        escape(m.host.as_bytes()),
        escape(m.instance.as_bytes())
    );
    if m.life > 0 {
        line.push_str(&format!(" (life {})", m.life + 1));
    }
    if let Some(mid) = &m.message_id {
        line.push_str(&format!("  message-id {}", escape(mid.as_bytes())));
    }
    writeln!(out, "{line}")?;
    let mut info = Vec::new();
    if let Some(f) = &m.from {
        info.push(format!("from <{}>", escape(f.as_bytes())));
    }
    if let Some(s) = m.size {
        info.push(format!("{s} bytes"));
    }
    match (&m.client, m.received_at) {
        (Some(c), Some(at)) => info.push(format!("received {at} from {}", escape(c.as_bytes()))),
        (None, Some(at)) => info.push(format!("created {at}")),
        _ => info.push("arrival not in the logs".into()),
    }
    if let Some(tls) = &m.tls {
        info.push(format!("TLS {}", escape(tls.as_bytes())));
    }
    if let Some(parent) = m.parent {
        info.push(format!(
            "{} of {}",
            serde_json::to_string(&parent.kind)
                .unwrap_or_default()
                .trim_matches('"'),
            parent.queue_id
        ));
    }
    let end = match m.end {
        timeline::End::Open => match &m.in_dump {
            Some(d) => format!("still queued ({} in {})", d.queue_name, d.dump),
            None => "still queued at the end of the logs".into(),
        },
        e => format!(
            "ended {} at {}",
            serde_json::to_string(&e)
                .unwrap_or_default()
                .trim_matches('"'),
            m.removed_at.map(|s| s.to_string()).unwrap_or_default()
        ),
    };
    info.push(end);
    for c in &m.children {
        let kind = serde_json::to_string(&c.kind).unwrap_or_default();
        info.push(format!("{} → {}", kind.trim_matches('"'), c.queue_id));
    }
    let _ = t;
    writeln!(out, "  {}", info.join("; "))
}

#[derive(Serialize)]
struct TracedEvent {
    at: Stamp,
    since_arrival_secs: Option<f64>,
    tag: String,
    pid: Option<u32>,
    text: String,
    file: String,
    line: u32,
}

#[derive(Serialize)]
struct Traced {
    message: MessageReport,
    events: Vec<TracedEvent>,
}

fn write_json(
    out: &mut dyn Write,
    t: &Timelines,
    parsed: &Parsed<'_>,
    loaded: &Loaded,
    selected: &[usize],
) -> std::io::Result<()> {
    let items: Vec<Traced> = selected
        .iter()
        .map(|&i| {
            let m = &t.messages[i];
            let arrived = m.received_at.unwrap_or(m.first_at);
            Traced {
                message: MessageReport::new(m),
                events: m
                    .events
                    .iter()
                    .map(|&ei| {
                        let e = &parsed.events[ei as usize];
                        TracedEvent {
                            at: e.time(),
                            since_arrival_secs: Some(
                                (e.time().micros - arrived.micros) as f64 / 1e6,
                            ),
                            tag: e.tag(),
                            pid: e.pid(),
                            text: String::from_utf8_lossy(e.text()).into_owned(),
                            file: loaded.inputs[e.loc.input as usize].path.clone(),
                            line: e.loc.line,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    out.write_all(b"\n")
}
