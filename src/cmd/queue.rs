//! `mailsleuth queue DUMP... [--select K=V]... [--plan FILE] [--warn N --crit M]`:
//! the queue's shape from saved `postqueue -p` / `-j` dumps, its trend across snapshots, a
//! reviewed surgical-cleanup plan (queue IDs for `postsuper -d -` or `-r -`), and a
//! monitoring-plugin check. Never runs postsuper, never touches a live queue.
//!
//! Cost: dumps are small; everything is in memory.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{bail, Context};

use super::Outcome;
use crate::analysis::queue::{self, Criterion, Plan, Snapshot};
use crate::cli::{QueueArgs, QueueFormat};
use crate::ingest;
use crate::input::discover;
use crate::report::QueueReport;

fn human_age(s: i64) -> String {
    crate::report::summary::duration(s as f64)
}

pub fn run(args: &QueueArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let opts = super::ingest_options(&args.input)?;
    let criteria: Vec<Criterion> = args
        .select
        .iter()
        .map(|s| Criterion::parse(s).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    if args.plan.is_some() && criteria.is_empty() {
        bail!("--plan needs at least one --select (for example --select domain=example.com)");
    }
    let monitoring = args.warn.is_some() || args.crit.is_some();
    let (paths, unreadable) = discover::discover(&args.input.inputs);
    let loaded = ingest::load(&paths, &opts);
    let parsed = ingest::parse(&loaded, &opts);
    let mut err = std::io::stderr().lock();
    for u in &unreadable {
        if !quiet && !monitoring {
            writeln!(err, "mailsleuth: warning: {}: {}", u.path, u.reason)?;
        }
    }
    let outcome = if monitoring {
        Outcome::Clean
    } else {
        super::summarise_warnings(&loaded, &parsed, quiet, &mut err)
    };
    let ordered = queue::ordered(&parsed.dumps);
    let newest = ordered.last().copied();

    if monitoring {
        return monitor(args, newest.map(|d| queue::snapshot(d, &opts.zone, 3)));
    }
    let Some(newest) = newest else {
        bail!("no queue dump (postqueue -p or postqueue -j output) among the inputs");
    };
    let mut out = super::open_output(args.output.as_deref())?;
    if !criteria.is_empty() {
        let mut plan = queue::plan(newest, &criteria, &opts.zone);
        plan.criteria = args.select.clone();
        if let Some(path) = &args.plan {
            write_plan_file(path, &plan, args.requeue)?;
        }
        match args.format {
            QueueFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &plan)?;
                writeln!(out)?;
            }
            QueueFormat::Text => write_plan_review(&mut out, &plan, args)?,
        }
        out.flush()?;
        return Ok(outcome);
    }
    let timelines =
        (!parsed.events.is_empty()).then(|| crate::timeline::build(&parsed.events, &parsed.dumps));
    let report =
        QueueReport::build(&parsed.dumps, &opts.zone, timelines.as_ref()).expect("dumps exist");
    match args.format {
        QueueFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        QueueFormat::Text => {
            let snap = report.snapshots.last().expect("one snapshot at least");
            write_snapshot(&mut out, snap, &report.age_buckets_min)?;
            if !report.joined.is_empty() {
                writeln!(out, "\nIn the logs (longest stuck first):")?;
                for j in report.joined.iter().take(20) {
                    writeln!(
                        out,
                        "  {:<18} since {}{}  {} attempts  {}",
                        j.queue_id,
                        j.stuck_since,
                        if j.partial { " (or earlier)" } else { "" },
                        j.attempts,
                        j.last_error.as_deref().unwrap_or("")
                    )?;
                }
            }
            if report.snapshots.len() > 1 {
                let t = &report.trend;
                writeln!(out)?;
                writeln!(
                    out,
                    "Across {} snapshots: peak {} messages{}; {} stayed queued in every snapshot.",
                    report.snapshots.len(),
                    t.peak_messages,
                    t.peak_at.map(|p| format!(" at {p}")).unwrap_or_default(),
                    t.stuck_in_all.len()
                )?;
            }
        }
    }
    out.flush()?;
    Ok(outcome)
}

fn monitor(args: &QueueArgs, snap: Option<Snapshot>) -> anyhow::Result<Outcome> {
    let Some(s) = snap else {
        println!("UNKNOWN: no readable postqueue dump among the inputs");
        return Ok(Outcome::Exit(3));
    };
    let n = s.messages;
    let (state, code) = if args.crit.is_some_and(|c| n >= c) {
        ("CRITICAL", 2)
    } else if args.warn.is_some_and(|w| n >= w) {
        ("WARNING", 1)
    } else {
        ("OK", 0)
    };
    let mut detail = format!(
        "active {}, deferred {}, hold {}",
        s.active, s.deferred, s.hold
    );
    if let Some(o) = s.oldest_age_s {
        detail.push_str(&format!(", oldest {}", human_age(o)));
    }
    if let Some(d) = s.domains.first() {
        detail.push_str(&format!(
            ", top domain {} ({} recipients)",
            d.domain, d.recipients
        ));
    }
    println!(
        "{state}: Postfix queue {n} messages ({detail}) | messages={n};{};{} active={} deferred={} hold={}",
        args.warn.map(|w| w.to_string()).unwrap_or_default(),
        args.crit.map(|c| c.to_string()).unwrap_or_default(),
        s.active,
        s.deferred,
        s.hold
    );
    Ok(Outcome::Exit(code))
}

fn write_snapshot(out: &mut dyn Write, s: &Snapshot, labels: &[String]) -> std::io::Result<()> {
    writeln!(
        out,
        "Queue {}{}: {} messages, {} recipients, {} KiB (active {}, deferred {}, hold {}, incoming {}){}",
        s.path,
        s.taken_at.map(|t| format!(" at {t}")).unwrap_or_default(),
        s.messages,
        s.recipients,
        s.bytes / 1024,
        s.active,
        s.deferred,
        s.hold,
        s.incoming,
        s.oldest_age_s
            .map(|o| format!("; oldest {}", human_age(o)))
            .unwrap_or_default()
    )?;
    if !s.complete {
        writeln!(
            out,
            "(the dump was cut off: only whole records are counted)"
        )?;
    }
    writeln!(out)?;
    let width = s
        .domains
        .iter()
        .map(|d| d.domain.len())
        .max()
        .unwrap_or(5)
        .clamp(5, 40);
    write!(out, "{:>width$} {:>6}", "", "T")?;
    for l in labels {
        write!(out, " {:>5}", l)?;
    }
    writeln!(out)?;
    let total: Vec<u64> = (0..labels.len())
        .map(|i| s.domains.iter().map(|d| d.age_buckets[i]).sum())
        .collect();
    write!(out, "{:>width$} {:>6}", "TOTAL", s.recipients)?;
    for v in &total {
        write!(out, " {v:>5}")?;
    }
    writeln!(out)?;
    for d in s.domains.iter().take(20) {
        let name: String = d.domain.chars().take(width).collect();
        write!(out, "{name:>width$} {:>6}", d.recipients)?;
        for v in &d.age_buckets {
            write!(out, " {v:>5}")?;
        }
        writeln!(out)?;
    }
    if !s.senders.is_empty() {
        writeln!(out, "\nTop senders:")?;
        for r in &s.senders {
            writeln!(
                out,
                "  {:>6} msgs  {:>8} KiB  {}",
                r.messages,
                r.bytes / 1024,
                r.sender
            )?;
        }
    }
    if !s.reasons.is_empty() {
        writeln!(out, "\nWhy mail is waiting:")?;
        for r in &s.reasons {
            writeln!(
                out,
                "  {:>6} rcpts  {:<20} {}  [{}]",
                r.recipients,
                r.class.name(),
                r.signature,
                r.domains.join(", ")
            )?;
        }
    }
    Ok(())
}

fn write_plan_file(path: &std::path::Path, plan: &Plan, requeue: bool) -> anyhow::Result<()> {
    let mut f = BufWriter::new(
        File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    let (verb, cmd) = if requeue {
        ("requeue", "postsuper -r -")
    } else {
        ("delete", "postsuper -d -")
    };
    writeln!(
        f,
        "# mailsleuth cleanup plan: {} messages to {verb}",
        plan.selected.len()
    )?;
    writeln!(f, "# selection: {}", plan.criteria.join(" AND "))?;
    writeln!(
        f,
        "# from: {}{} ({} messages in that snapshot)",
        plan.dump,
        plan.taken_at
            .map(|t| format!(" taken {t}"))
            .unwrap_or_default(),
        plan.total_messages
    )?;
    if !plan.mixed.is_empty() {
        writeln!(
            f,
            "# kept out: {} messages with recipients outside the selection (see the review table)",
            plan.mixed.len()
        )?;
    }
    writeln!(
        f,
        "# review, then run on the mail server:  grep -v '^#' {} | {cmd}",
        path.display()
    )?;
    for r in &plan.selected {
        writeln!(f, "{}", r.queue_id)?;
    }
    f.flush()?;
    Ok(())
}

fn write_plan_review(out: &mut dyn Write, plan: &Plan, args: &QueueArgs) -> std::io::Result<()> {
    writeln!(
        out,
        "Selected {} of {} messages in {} ({}):",
        plan.selected.len(),
        plan.total_messages,
        plan.dump,
        plan.criteria.join(" AND ")
    )?;
    for r in plan.selected.iter().take(50) {
        writeln!(
            out,
            "  {:<18} {:<9} {:>8} {:>8}  {} -> {}",
            r.queue_id,
            r.queue_name,
            r.size,
            r.age_s.map(human_age).unwrap_or_else(|| "?".into()),
            r.sender,
            r.recipients.join(", ")
        )?;
    }
    if plan.selected.len() > 50 {
        writeln!(out, "  … and {} more", plan.selected.len() - 50)?;
    }
    if !plan.mixed.is_empty() {
        writeln!(out, "\nNot selected (recipients outside the selection):")?;
        for r in &plan.mixed {
            writeln!(
                out,
                "  {:<18} {}: {}",
                r.queue_id,
                r.note.as_deref().unwrap_or(""),
                r.recipients.join(", ")
            )?;
        }
    }
    match &args.plan {
        Some(p) => writeln!(
            out,
            "\nPlan written to {}. Review it, then on the server: grep -v '^#' {} | postsuper {} -",
            p.display(),
            p.display(),
            if args.requeue { "-r" } else { "-d" }
        ),
        None => writeln!(out, "\n(no --plan FILE given: nothing written)"),
    }
}
