//! `mailsleuth report INPUT... [--format json] [-o FILE]`: the postmortem.
//!
//! Reads every input once (mapped or decoded in memory), parses in parallel, and renders the
//! report. Cost: one pass over the bytes (and the few cited lines parsed again); memory: the
//! decoded gzip inputs, the events until the lives are built, and the lives.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context};

use super::Outcome;
use crate::cli::{ReportArgs, ReportFormat};
use crate::ingest;
use crate::report;
use crate::timeline;

/// The format: `--format`, else the extension of `-o`, else Markdown.
pub fn format_of(args: &ReportArgs) -> anyhow::Result<ReportFormat> {
    if let Some(f) = args.format {
        return Ok(f);
    }
    let Some(out) = &args.output else {
        return Ok(ReportFormat::Md);
    };
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "html" | "htm" => ReportFormat::Html,
        "md" | "markdown" => ReportFormat::Md,
        "json" => ReportFormat::Json,
        _ => bail!(
            "cannot tell the format from {}: use .html, .md or .json, or --format",
            out.display()
        ),
    })
}

pub fn run(args: &ReportArgs, quiet: bool) -> anyhow::Result<Outcome> {
    crate::timing::init();
    let mut opts = super::ingest_options(&args.input)?;
    // The timelines let go of the events a block at a time; what the report cites of them
    // later is parsed again from where it came from.
    opts.event_blocks = true;
    let format = format_of(args)?;
    let mut out = super::open_output(args.output.as_deref())?;
    // Not locked for the whole run: the spinner's thread writes to stderr too.
    let mut err = std::io::stderr();
    let (paths, any_unreadable) = super::discover_inputs(&args.input, quiet, &mut err)?;

    let progress = progress_bar(&paths);
    let loaded = ingest::load(&paths, &opts);
    crate::timing::stage("load");
    if let Some(p) = &progress {
        p.set_message("parsing");
    }
    let mut parsed = ingest::parse(&loaded, &opts);
    crate::timing::stage("parse");
    let stage = |msg: &'static str| {
        if let Some(p) = &progress {
            p.set_message(msg);
        }
    };

    let usable = parsed.event_count + parsed.dumps.len();
    let outcome = match &progress {
        Some(p) => p.suspend(|| super::summarise_warnings(&loaded, &parsed, quiet, &mut err)),
        None => super::summarise_warnings(&loaded, &parsed, quiet, &mut err),
    };
    if usable == 0 {
        if let Some(p) = &progress {
            p.finish_and_clear();
        }
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

    stage("rebuilding message timelines");
    // Every life is kept for --messages; otherwise the finished, untroubled ones are folded.
    // Building the timelines is sequential: the other core reads the events ahead of it and
    // scans them on the way.
    let fold = (!args.messages).then(|| {
        std::env::var("MAILSLEUTH_TIMELINE_CAP")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(timeline::TIMELINE_CAP)
    });
    // The quiet periods are read from the events' stamps before the timelines are built;
    // after them, a report finds the few lines it cites again by their origins.
    let gaps = crate::analysis::stats::gaps_in_blocks(&parsed.blocks, 10);
    // The delivery lines are read into attempts there too (about a fifth of the lines), and
    // their failure reasons classified.
    let mut scanner = crate::analysis::scan::Scanner::default();
    let mut reader = crate::analysis::incidents::AttemptReader::new(parsed.event_count / 4);
    let mut timelines = timeline::build_blocks_beside(
        std::mem::take(&mut parsed.blocks),
        &parsed.dumps,
        timeline::READ_AHEAD,
        fold,
        &mut |events, actions| {
            scanner.block(events, Some(actions));
            reader.block(events, actions);
        },
    );
    let scan = scanner.finish_with(gaps);
    crate::timing::stage("timelines");
    let dump_times: Vec<_> = parsed.dumps.iter().map(|d| d.taken_at).collect();
    stage("classifying delivery attempts");
    let attempts = reader.finish(&parsed.origins, &timelines);
    timelines.release_bookings();
    crate::timing::stage("attempts");
    stage("finding incidents");
    let analysis = crate::analysis::incidents::analyse(
        &parsed.origins,
        &scan,
        &timelines,
        &attempts,
        &parsed.dumps,
        &dump_times,
        &parsed.postconf,
    );
    crate::timing::stage("incidents");
    let queue = report::QueueReport::build(&parsed.dumps, &opts.zone, Some(&timelines));
    let report = report::build(
        &loaded,
        &parsed,
        &scan,
        &timelines,
        &attempts,
        analysis,
        queue,
        report::Settings {
            timezone: opts.zone.name().to_string(),
            year: opts.year,
            redacted: args.redact.map(|r| r.name().to_string()),
        },
        args.messages,
    );
    crate::timing::stage("report model");
    stage("rendering");
    let mut value = serde_json::to_value(&report)?;
    if let Some(mode) = args.redact {
        let r = report::redact::Redactor::new(
            args.redact_key.clone(),
            mode == crate::cli::RedactMode::Ips,
        );
        r.value(&mut value);
    }
    if format != ReportFormat::Json {
        report::sanitize(&mut value);
    }
    match format {
        ReportFormat::Json => report::json::write(&value, &mut out)?,
        ReportFormat::Html => report::html::write(&report, &value, &mut out)?,
        ReportFormat::Md => {
            let base = args.output.as_ref().map(|p| {
                p.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "report".into())
            });
            let sidecars = report::markdown::write(&report, &value, &mut out, base.as_deref())?;
            let dir = args
                .output
                .as_ref()
                .and_then(|p| p.parent())
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            for s in sidecars {
                // Names come from our own stem and chart keys, never from log content.
                let path = dir.join(&s.name);
                std::fs::write(&path, s.svg)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    out.flush()?;
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    crate::timing::stage("rendered");
    // Freeing millions of small allocations one by one takes longer than the exit that
    // frees them at once.
    std::mem::forget((value, report, attempts, timelines, parsed));
    Ok(if any_unreadable {
        Outcome::Warnings
    } else {
        outcome
    })
}

/// A spinner on stderr when it is a terminal and the input is large enough to take a moment
/// (any size with `MAILSLEUTH_PROGRESS=1`). It ticks on its own thread and names the stage;
/// nothing is done per line for it.
fn progress_bar(paths: &[crate::input::InputPath]) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let forced = std::env::var_os("MAILSLEUTH_PROGRESS").is_some_and(|v| v == "1");
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| match p {
            crate::input::InputPath::File(f) => std::fs::metadata(f).ok().map(|m| m.len()),
            crate::input::InputPath::Stdin => None,
        })
        .sum();
    if bytes < 64 * 1024 * 1024 && !forced {
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
