//! `mailsleuth report INPUT... [--format json] [-o FILE]`: the postmortem.
//!
//! Reads every input once (mapped or decoded in memory), parses in parallel, and renders the
//! report. Cost: one pass over the bytes; memory: the decoded gzip inputs plus the events.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};

use anyhow::{bail, Context};

use super::Outcome;
use crate::cli::{ReportArgs, ReportFormat};
use crate::ingest;
use crate::input::discover;
use crate::report;
use crate::timeline;

pub fn run(args: &ReportArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let opts = super::ingest_options(&args.input)?;
    // Open the output before the long work, so a bad path fails at once.
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let (paths, unreadable) = discover::discover(&args.input.inputs);
    let mut err = std::io::stderr().lock();
    for u in &unreadable {
        if !quiet {
            writeln!(err, "mailsleuth: warning: {}: {}", u.path, u.reason)?;
        }
    }
    if paths.is_empty() {
        bail!(
            "no input files found in {}",
            args.input
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    let progress = progress_bar(&paths);
    let loaded = ingest::load(&paths, &opts);
    if let Some(p) = &progress {
        p.set_message("parsing");
    }
    let parsed = ingest::parse(&loaded, &opts);
    if let Some(p) = progress {
        p.finish_and_clear();
    }

    let usable = parsed.events.len() + parsed.dumps.len();
    let outcome = super::summarise_warnings(&loaded, &parsed, quiet, &mut err);
    if usable == 0 {
        let looked: Vec<String> = loaded
            .inputs
            .iter()
            .map(|i| format!("{} ({})", i.path, i.kind.name()))
            .collect();
        bail!(
            "nothing usable: no Postfix log line and no queue dump in {} input(s): {}",
            looked.len(),
            looked.join(", ")
        );
    }

    let timelines = timeline::build(&parsed.events, &parsed.dumps);
    let dump_times: Vec<_> = parsed.dumps.iter().map(|d| d.taken_at).collect();
    let analysis = crate::analysis::incidents::analyse(
        &parsed.events,
        &timelines,
        &parsed.dumps,
        &dump_times,
        &parsed.postconf,
    );
    let queue = report::QueueReport::build(&parsed.dumps, &opts.zone);
    let report = report::build(
        &loaded,
        &parsed,
        &timelines,
        analysis,
        queue,
        report::Settings {
            timezone: opts.zone.name().to_string(),
            year: opts.year,
        },
        args.messages,
    );
    match args.format {
        ReportFormat::Json => report::json::write(&report, &mut out)?,
    }
    out.flush()?;
    Ok(if unreadable.is_empty() {
        outcome
    } else {
        Outcome::Warnings
    })
}

/// A spinner on stderr when it is a terminal and the input is large enough to take a moment.
fn progress_bar(paths: &[crate::input::InputPath]) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| match p {
            crate::input::InputPath::File(f) => std::fs::metadata(f).ok().map(|m| m.len()),
            crate::input::InputPath::Stdin => None,
        })
        .sum();
    if bytes < 64 * 1024 * 1024 {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(format!(
        "reading {} inputs ({} MiB)",
        paths.len(),
        bytes / (1024 * 1024)
    ));
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(pb)
}
